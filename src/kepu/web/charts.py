"""ECharts option builders for the pages (presentation only; numbers come from selectors).

Rules every chart here keeps: unit names in full (the axis makes room for them), confidence-interval
bars and forecast bands inside the plotted range, bar axes from 0, one legend entry per thing drawn
(coloured as drawn), and values rounded to the indicator's precision (counts whole, the rest one
decimal)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from kepu.core.models import OrgUnit
from kepu.plans.models import Target, TargetKind, TargetStatus
from kepu.plans.series import Point

STATUS_COLOURS = {"met": "#1a7f37", "not_distinguishable": "#8250df", "on_track": "#2f81f7", "at_risk": "#d29922",
                  "off_track": "#cf222e", "no_data": "#8c959f"}
HOME_COLOUR = "#0b5cad"
TARGET_COLOUR = "#cf222e"
BAND_COLOUR = "rgba(47,129,247,0.25)"
# Muted, distinguishable colours for the other units' lines, so the highlighted one stands out.
OTHER_COLOURS = ["#8c6bb1", "#41ab5d", "#fd8d3c", "#6baed6", "#e377c2", "#969696", "#bcbd22", "#17becf"]
CI_ICON = "path://M0,0h7v1.4h-2.8v7.2h2.8v1.4h-7v-1.4h2.8v-7.2h-2.8z"  # an I-beam, as the CI bars are drawn
# Show the other units' lines only on demand (legend click) when more than this many would be drawn.
MAX_LINES_SHOWN = 3


def digits(target: Target) -> int:
    return 0 if target.indicator.integer else 1


def _r(x: float | None, d: int) -> float | None:
    if x is None:
        return None
    return float(round(x)) if d == 0 else round(x, d)


def value_range(values: Iterable[float | None], *, from_zero: bool = False) -> dict[str, float]:
    """Axis bounds that contain every value given (CI ends, forecast band, target line included),
    with a little room around them and rounded outward."""
    xs = [v for v in values if v is not None and math.isfinite(v)]
    if not xs:
        return {"min": 0.0} if from_zero else {}
    lo, hi = min(xs), max(xs)
    if from_zero:
        lo = min(lo, 0.0)
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
    step = 10 ** math.floor(math.log10(max(hi - lo + 2 * pad, 1e-9)))
    low = 0.0 if from_zero and lo >= 0 else math.floor((lo - pad) / step) * step
    high = math.ceil((hi + pad) / step) * step
    return {"min": round(low, 6), "max": round(high, 6)}


def _ticks(d: int) -> dict[str, Any]:
    """Counts get whole-number axis ticks (no "0.5 次")."""
    return {"minInterval": 1} if d == 0 else {}


def _target_series(value: float, unit: str, d: int) -> dict[str, Any]:
    """The target as a dashed horizontal line, with a legend entry drawn the same way."""
    shown = _r(value, d)
    return {"name": _("目标"), "type": "line", "data": [], "itemStyle": {"color": TARGET_COLOUR},
            "lineStyle": {"type": "dashed", "color": TARGET_COLOUR}, "symbol": "none",
            "markLine": {"symbol": "none", "silent": True, "lineStyle": {"type": "dashed", "color": TARGET_COLOUR},
                         "data": [{"yAxis": shown}],
                         "label": {"formatter": f"{_('目标')} {_num(value, d)}{unit}", "position": "insideStartTop"}}}


def _num(value: float, d: int) -> str:
    return f"{value:,.{d}f}"


def _errorbars(name: str, rows: list[list[float | None]]) -> dict[str, Any]:
    return {"name": name, "type": "custom", "kepu": "errorbars", "data": rows, "itemStyle": {"color": HOME_COLOUR},
            "z": 5, "dimensions": ["x", _("下限"), _("上限")], "encode": {"x": 0, "y": [1, 2], "tooltip": [1, 2]}}


def _history(target: Target) -> dict[int, Point]:
    """The plan's own baseline figures (city level) as points."""
    points = {h["year"]: Point(h["value"]) for h in target.baseline_history}
    if target.baseline_year is not None and target.baseline_value is not None:
        points[target.baseline_year] = Point(target.baseline_value)
    return points


def trend(target: Target, unit: OrgUnit, points: dict[int, Point], lang: str, *, with_baseline: bool
          ) -> dict[str, Any]:
    """One unit's series of the headline indicator with its 95% CI bars and the target line."""
    d = digits(target)
    merged = {**(_history(target) if with_baseline else {}), **points}
    years = sorted(merged)
    ci = [[i, _r(merged[y].ci_low, d), _r(merged[y].ci_high, d)] for i, y in enumerate(years)
          if merged[y].ci_low is not None and merged[y].ci_high is not None]
    series: list[dict[str, Any]] = [
        {"name": unit.name(lang), "type": "line", "itemStyle": {"color": HOME_COLOUR},
         "data": [_r(merged[y].value, d) for y in years], "label": {"show": True, "position": "right", "distance": 8},
         "lineStyle": {"width": 3}},
    ]
    legend: list[Any] = [unit.name(lang)]
    if ci:
        series.append(_errorbars(_("95% 置信区间"), ci))
        legend.append({"name": _("95% 置信区间"), "icon": CI_ICON})
    series.append(_target_series(target.value, target.unit, d))
    legend.append(_("目标"))
    bounds = [merged[y].value for y in years] + [r[1] for r in ci] + [r[2] for r in ci] + [target.value]
    return {
        "kepuDigits": d,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": legend},
        "grid": {"left": 8, "right": 24, "top": 28, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": {"type": "value", "name": target.unit, **_ticks(d), **value_range(bounds)},
        "series": series,
    }


def district_compare(target: Target, statuses: list[TargetStatus | None], units: list[OrgUnit], lang: str
                     ) -> dict[str, Any]:
    """Each unit's current value as a bar from 0, coloured by its status (one legend entry per
    status shown), with the target line."""
    d = digits(target)
    labels = dict(TargetStatus.Status.choices)
    present = [k for k in STATUS_COLOURS if any(s is not None and s.status == k for s in statuses)]
    series: list[dict[str, Any]] = []
    for key in present:
        data = [_r(s.current, d) if s is not None and s.status == key else None for s in statuses]
        series.append({"name": str(labels[key]), "type": "bar", "stack": "status",
                       "itemStyle": {"color": STATUS_COLOURS[key]}, "data": data,
                       "label": {"show": True, "position": "right"}, "barMaxWidth": 22})
    target_line = _target_series(target.value, target.unit, d)
    target_line["markLine"]["data"] = [{"xAxis": _r(target.value, d)}]
    target_line["markLine"]["label"]["position"] = "start"  # the top: the category axis runs downwards
    series.append(target_line)
    values = [s.current for s in statuses if s is not None] + [target.value]
    return {
        "kepuDigits": d,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0, "data": [str(labels[k]) for k in present] + [_("目标")]},
        "grid": {"left": 8, "right": 48, "top": 24, "bottom": 36, "containLabel": True},
        "xAxis": {"type": "value", "name": target.unit, **_ticks(d), **value_range(values, from_zero=True)},
        "yAxis": {"type": "category", "data": [u.name(lang) for u in units], "inverse": True,
                  "axisLabel": {"interval": 0}},
        "series": series,
    }


def target_chart(target: Target, series: dict[OrgUnit, dict[int, Point]], status: TargetStatus | None,
                 home: OrgUnit, region: OrgUnit, lang: str) -> dict[str, Any]:
    """Every visible unit's series, the home unit (the city, or the user's district) highlighted with
    its CI bars and forecast band to the evaluation year; other units' lines shown on demand."""
    d = digits(target)
    cumulative = target.kind == TargetKind.STOCK
    data_by_unit = {u: ({**_history(target), **s} if u.pk == region.pk and not cumulative else s)
                    for u, s in series.items()}
    years: set[int] = set()
    for s in data_by_unit.values():
        years.update(s)
    # A forecast is drawn only while there is one: not once the value of the year judged is known.
    forecast = (status is not None and status.projected is not None and status.current_year is not None
                and status.current_year < status.evaluation_year)
    if forecast and status is not None:
        years.update({status.evaluation_year, status.current_year or status.evaluation_year})
    ys = sorted(years)
    lines: list[dict[str, Any]] = []
    legend: list[Any] = []
    selected: dict[str, bool] = {}
    bounds: list[float | None] = [status.target_value if status else target.value]
    others = [u for u in data_by_unit if u.pk != home.pk]
    hide_others = len(others) + 1 > MAX_LINES_SHOWN
    ordered = sorted(data_by_unit, key=lambda u: (u.pk != home.pk, u.path))
    for n, unit in enumerate(ordered):
        s = data_by_unit[unit]
        values = _cumulate(s, ys, target.period_start) if cumulative else [s[y].value if y in s else None for y in ys]
        is_home = unit.pk == home.pk
        name = unit.name(lang)
        colour = HOME_COLOUR if is_home else OTHER_COLOURS[(n - 1) % len(OTHER_COLOURS)]
        lines.append({"name": name, "type": "line", "data": [_r(v, d) for v in values], "connectNulls": True,
                      "itemStyle": {"color": colour}, "z": 4 if is_home else 2, "symbolSize": 7 if is_home else 4,
                      "lineStyle": {"width": 3 if is_home else 1.5}})
        legend.append(name)
        if not is_home and hide_others:
            selected[name] = False
        else:
            bounds += values
        if is_home and not cumulative:
            ci = [[i, _r(s[y].ci_low, d), _r(s[y].ci_high, d)] for i, y in enumerate(ys)
                  if y in s and s[y].ci_low is not None and s[y].ci_high is not None]
            if ci:
                lines.append(_errorbars(_("95% 置信区间"), ci))
                legend.append({"name": _("95% 置信区间"), "icon": CI_ICON})
                bounds += [r[1] for r in ci] + [r[2] for r in ci]
    if forecast and status is not None:
        lines += _forecast(status, ys, d)
        legend.append(_("预测值"))
        if status.low is not None and status.high is not None:
            legend.append({"name": _("预测区间(80%)"), "icon": "rect", "itemStyle": {"color": BAND_COLOUR}})
            bounds += [status.low, status.high]
        bounds.append(status.projected)
    lines.append(_target_series(status.target_value if status else target.value, target.unit, d))
    legend.append(_("目标"))
    return {
        "kepuDigits": d,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll", "data": legend, "selected": selected},
        "grid": {"left": 8, "right": 24, "top": 28, "bottom": 44, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(y) for y in ys]},
        "yAxis": {"type": "value", "name": target.unit, **_ticks(d), **value_range(bounds, from_zero=cumulative)},
        "series": lines,
    }


def _cumulate(s: dict[int, Point], ys: list[int], start: int) -> list[float | None]:
    """Running totals from the period start, drawn up to the unit's last reported year."""
    last = max(s, default=0)
    running, out = 0.0, []
    for y in ys:
        if y in s and y >= start:
            running += s[y].value
        out.append(running if start <= y <= last else None)
    return out


def _forecast(status: TargetStatus, ys: list[int], d: int) -> list[dict[str, Any]]:
    i0, i1 = ys.index(status.current_year or status.evaluation_year), ys.index(status.evaluation_year)
    proj: list[float | None] = [None] * len(ys)
    proj[i0], proj[i1] = _r(status.current, d), _r(status.projected, d)
    out: list[dict[str, Any]] = [
        {"name": _("预测值"), "type": "line", "data": proj, "connectNulls": True, "itemStyle": {"color": "#2f81f7"},
         "lineStyle": {"type": "dotted", "color": "#2f81f7"}},
    ]
    if status.low is not None and status.high is not None:
        low: list[float | None] = [None] * len(ys)
        band: list[float | None] = [None] * len(ys)
        low[i0], band[i0] = _r(status.current, d), 0.0
        low[i1], band[i1] = _r(status.low, d), _r(status.high - status.low, d)
        common = {"name": _("预测区间(80%)"), "type": "line", "stack": "band", "connectNulls": True,
                  "itemStyle": {"color": BAND_COLOUR}, "lineStyle": {"opacity": 0}, "symbol": "none",
                  "tooltip": {"show": False}}
        out += [{**common, "data": low}, {**common, "data": band, "areaStyle": {"color": BAND_COLOUR}}]
    return out
