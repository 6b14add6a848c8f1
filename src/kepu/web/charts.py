"""ECharts option builders for the pages (presentation only; numbers come from selectors)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kepu.core.models import OrgUnit
from kepu.plans.models import Target, TargetStatus
from kepu.plans.series import Point

STATUS_COLOURS = {"met": "#1a7f37", "on_track": "#2f81f7", "at_risk": "#d29922", "off_track": "#cf222e",
                  "no_data": "#8c959f"}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def trend(target: Target, series: dict[OrgUnit, dict[int, Point]], region: OrgUnit, lang: str) -> dict[str, Any]:
    """The headline indicator's city trend with CI bars and the target line."""
    city = series.get(region, {})
    history = [(h["year"], h["value"]) for h in target.baseline_history]
    if target.baseline_year is not None and target.baseline_value is not None:
        history.append((target.baseline_year, target.baseline_value))
    points = {y: Point(v) for y, v in history}
    points.update(city)
    years = sorted(points)
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 40, "right": 16, "top": 24, "bottom": 56},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": {"type": "value", "name": target.unit, "scale": True},
        "series": [
            {"name": target.name(lang), "type": "line", "data": [_r(points[y].value) for y in years],
             "label": {"show": True}},
            {"name": _("95% CI"), "type": "custom", "kepu": "errorbars",
             "data": [[i, _r(points[y].ci_low), _r(points[y].ci_high)] for i, y in enumerate(years)
                      if points[y].ci_low is not None]},
            {"name": _("Target"), "type": "line", "data": [],
             "markLine": {"symbol": "none", "lineStyle": {"type": "dashed", "color": "#cf222e"},
                          "data": [{"yAxis": target.value, "name": f"{target.value}{target.unit}"}],
                          "label": {"formatter": f"{_('Target')} {target.value}{target.unit}"}}},
        ],
    }


def district_compare(target: Target, statuses: list[TargetStatus | None], units: list[OrgUnit], lang: str
                     ) -> dict[str, Any]:
    names = [u.name(lang) for u in units]
    data = []
    for s in statuses:
        value = s.current if s is not None else None
        colour = STATUS_COLOURS[s.status] if s is not None else STATUS_COLOURS["no_data"]
        data.append({"value": _r(value), "itemStyle": {"color": colour}})
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 72, "right": 24, "top": 16, "bottom": 24},
        "xAxis": {"type": "value", "name": target.unit, "scale": True},
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [{"type": "bar", "data": data, "label": {"show": True, "position": "right"},
                    "markLine": {"symbol": "none", "data": [{"xAxis": target.value}],
                                 "lineStyle": {"type": "dashed", "color": "#cf222e"}}}],
    }


def target_chart(target: Target, series: dict[OrgUnit, dict[int, Point]], status: TargetStatus | None,
                 region: OrgUnit, lang: str) -> dict[str, Any]:
    """Every visible unit's series, the target line, and the city's forecast band to the deadline."""
    years: set[int] = set()
    for s in series.values():
        years.update(s)
    if status is not None and status.projected is not None:
        years.add(status.evaluation_year)
    if target.baseline_year:
        years.add(target.baseline_year)
    ys = sorted(years)
    cumulative = target.kind == "stock"
    lines = []
    for unit, s in series.items():
        running = 0.0
        data = []
        for y in ys:
            if cumulative:
                running += s[y].value if y in s and y >= target.period_start else 0.0
                data.append(_r(running) if y >= target.period_start and y <= max(s, default=0) else None)
            else:
                data.append(_r(s[y].value) if y in s else None)
        lines.append({"name": unit.name(lang), "type": "line", "data": data, "connectNulls": True,
                      "lineStyle": {"width": 3 if unit.pk == region.pk else 1.5}})
    if status is not None and status.projected is not None and status.current_year is not None:
        band: list[float | None] = [None] * len(ys)
        low: list[float | None] = [None] * len(ys)
        proj: list[float | None] = [None] * len(ys)
        i0, i1 = ys.index(status.current_year), ys.index(status.evaluation_year)
        low[i0], band[i0], proj[i0] = _r(status.current), 0, _r(status.current)
        low[i1], proj[i1] = _r(status.low), _r(status.projected)
        band[i1] = _r((status.high or 0) - (status.low or 0))
        lines += [
            {"name": _("Forecast band"), "type": "line", "stack": "band", "data": low, "connectNulls": True,
             "lineStyle": {"opacity": 0}, "symbol": "none"},
            {"name": _("Forecast band"), "type": "line", "stack": "band", "data": band, "connectNulls": True,
             "lineStyle": {"opacity": 0}, "symbol": "none", "areaStyle": {"color": "#2f81f7", "opacity": 0.15}},
            {"name": _("Forecast"), "type": "line", "data": proj, "connectNulls": True,
             "lineStyle": {"type": "dotted", "color": "#2f81f7"}},
        ]
    lines.append({"name": _("Target"), "type": "line", "data": [],
                  "markLine": {"symbol": "none", "lineStyle": {"type": "dashed", "color": "#cf222e"},
                               "data": [{"yAxis": status.target_value if status else target.value}]}})
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 56},
        "xAxis": {"type": "category", "data": [str(y) for y in ys]},
        "yAxis": {"type": "value", "name": target.unit, "scale": True},
        "series": lines,
    }
