"""Small item sets for tests (the starter bank is content; tests build what they assert on)."""

from __future__ import annotations

from typing import Any

from kepu.literacy.items import items_import


def item_rows(n_per_dim: dict[str, int] | None = None, status: str = "live") -> list[dict[str, Any]]:
    n_per_dim = n_per_dim or {"knowledge": 12, "method": 6, "spirit": 6, "application": 6}
    rows = []
    for dim, n in n_per_dim.items():
        for i in range(n):
            code = f"{dim[0].upper()}{i + 1:03d}"
            if i % 2 == 0:
                rows.append(
                    {
                        "code": code,
                        "dimension": dim,
                        "type": "true_false",
                        "stem_zh": f"判断题 {code}",
                        "stem_en": f"True or false {code}",
                        "key": i % 4 == 0,
                        "points": 1,
                        "difficulty": 0.6,
                        "anchor": i == 0,
                        "status": status,
                        "explanation_zh": f"解析 {code}",
                        "explanation_en": f"Why {code}",
                    }
                )
            else:
                rows.append(
                    {
                        "code": code,
                        "dimension": dim,
                        "type": "single",
                        "stem_zh": f"单选题 {code}",
                        "stem_en": f"Single choice {code}",
                        "key": "B",
                        "points": 1,
                        "difficulty": 0.5,
                        "options": [{"key": k, "zh": f"选项{k}", "en": f"Option {k}"} for k in "ABCD"],
                        "status": status,
                        "explanation_zh": f"解析 {code}",
                        "explanation_en": f"Why {code}",
                    }
                )
    return rows


def load_items(**kw: Any) -> None:
    items_import(rows=item_rows(**kw), source="test")
