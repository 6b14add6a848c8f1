"""Automated WCAG 2.1 A/AA check with axe-core (vendored in tests/browser/vendor/, MPL-2.0).

The site's Content-Security-Policy allows scripts from 'self' only, so a <script> tag carrying axe's
text would be refused. Playwright's page.evaluate runs through the DevTools protocol, which the page's
CSP does not govern, so axe is defined that way and the page under test keeps its real policy.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = {"serious", "critical"}


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe on the page as it stands and return its violations (all impacts)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source() + "\n;void 0")
    context: dict[str, Any] = {"include": [["html"]]}
    if exclude:
        context["exclude"] = [[sel] for sel in exclude]
    result = page.evaluate(
        "([ctx, tags]) => axe.run(ctx, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        [context, TAGS])
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)}: {node.get('failureSummary', '')}")
    return "\n".join(lines)


def assert_accessible(page: Any, *, exclude: tuple[str, ...] = ()) -> None:
    """Fail when axe finds a serious or critical WCAG 2.1 A/AA violation on the page; print them all.

    `exclude` takes CSS selectors of regions not to check (e.g. a third-party widget)."""
    bad = [v for v in axe_violations(page, exclude=exclude) if v.get("impact") in FAILING]
    assert not bad, f"axe found {len(bad)} serious/critical violation(s) on {page.url}:\n{describe(bad)}"
