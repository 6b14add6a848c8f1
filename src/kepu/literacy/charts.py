"""ECharts options for literacy results (the page's charts.js draws `kepu: errorbars` series)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from kepu.literacy.models import WaveEstimate
from kepu.literacy.selectors import Breakdown


def _axis_top(rows: list[WaveEstimate]) -> int:
    highest = max((100 * max(r.estimate, r.ci_published_high) for r in rows), default=10.0)
    step = 10 if highest > 20 else 5  # a round top that matches the axis' own tick steps
    return step * math.ceil(highest / step + 1e-9)


def breakdown_chart(b: Breakdown, labels: dict[str, dict[str, str]], lang: str) -> dict[str, Any]:
    """Presentable estimates only (NCHS standard); a flagged one's name carries the table's mark ("*", …)."""
    rows = [r for r in b.rows if not r.suppressed]
    names = [labels.get(b.variable, {}).get(r.level, r.level) + r.marks for r in rows]
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 40},
        "xAxis": {
            "type": "category",
            "data": names,
            "axisLabel": {"interval": 0, "rotate": 30 if len(names) > 5 else 0},
        },
        # The axis reaches past the highest CI whisker, so no whisker is cut off at the top.
        "yAxis": {"type": "value", "name": "%", "min": 0, "max": _axis_top(rows)},
        "series": [
            {
                "name": _("具备科学素质比例"),
                "type": "bar",
                "data": [round(100 * r.estimate, 1) for r in rows],
                "itemStyle": {"color": "#2f81f7"},
                "label": {"show": True, "position": "insideBottom", "color": "#fff"},
            },
            {
                "name": _("95% CI"),
                "type": "custom",
                "kepu": "errorbars",
                "data": [
                    [i, round(100 * r.ci_published_low, 2), round(100 * r.ci_published_high, 2)]
                    for i, r in enumerate(rows)
                ],
            },
        ],
    }


def tier_chart(tiers: list[tuple[str, float, int]]) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}: {d}%"},
        "series": [
            {
                "type": "pie",
                "radius": ["40%", "70%"],
                "data": [{"name": t, "value": round(100 * share, 1)} for t, share, _n in tiers],
            }
        ],
    }
