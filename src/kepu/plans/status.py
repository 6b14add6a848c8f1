"""Target status and forecasts for every target and org unit, stored as TargetStatus rows.

The maths (trend fits, predictive bands, probabilities) lives in kepu.stats.forecast; this module
chooses the series each target is judged on and keeps the stored judgements fresh."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.models import OrgUnit
from kepu.plans.models import Plan, Target, TargetAllocation, TargetKind, TargetStatus
from kepu.plans.selectors import format_value
from kepu.plans.series import Series, annual_series, rolled_up_series
from kepu.stats.forecast import Assessment, assess, survey_ci


def evaluation_year(target: Target, today_year: int) -> int:
    """Levels and stocks are judged at their deadline; flows (N per year) in the current year of
    their period (or its last year once the period is over)."""
    if target.kind == TargetKind.FLOW:
        return max(target.period_start, min(today_year, target.period_end))
    return target.deadline_year or target.period_end


def rule_text(target: Target, today_year: int) -> str:
    """The one rule that decides this kind of target's status, as the target page states it.
    kepu.stats.forecast implements it; keep the two in step."""
    thresholds = _(
        "据此计算达到目标的概率 p：p ≥ 0.6 为“进展顺利”，0.2 ≤ p < 0.6 为“存在风险”，p < 0.2 为“严重滞后”。"
        "区间为 80% 预测区间；只有一年数据时无法判断趋势，不作预测。"
    )
    if target.kind == TargetKind.FLOW:
        head = _(
            "年度目标：每年单独判断，现在判断的是 %(year)s 年。该年已报数值(包括已报季度之和、已报各区之和)"
            "达到目标即为“已达成”；该年全年数据报齐后仍低于目标为“严重滞后”。该年尚未报齐时，按历年数值预测"
            "该年数值(三年及以上用线性趋势，两年用平均值)。"
        ) % {"year": evaluation_year(target, today_year)}
    elif target.kind == TargetKind.STOCK:
        head = _(
            "累计目标：自 %(start)s 年起各年新增数之和。累计数已达到目标即为“已达成”；数据已到期限年 "
            "%(deadline)s 仍未达到为“严重滞后”。尚未到期时，按历年平均新增速度外推到期限年。"
        ) % {"start": target.period_start, "deadline": target.deadline_year or target.period_end}
    else:
        head = _(
            "水平目标(比率、覆盖率)：最新数值或期限年 %(deadline)s 的数值达到目标即为“已达成”；数据已到期限年"
            "仍未达到为“严重滞后”。尚未到期时，对历年数值(含基线；有抽样误差时按误差加权)做线性趋势拟合，外推到期限年。"
        ) % {"deadline": target.deadline_year or target.period_end}
    survey = _(
        "调查估计值(带抽样误差的数值，如公民具备科学素质比例)：期限已过时，点估计值达到目标为“已达成”；"
        "低于目标、但其 95% 置信区间包含目标值时为“与目标无显著差异”，即差距在抽样误差之内，不能认定未达成；"
        "置信区间整体低于目标时才为“严重滞后”。期限之前的达成概率已计入抽样误差，并与预测区间一起列出。"
    )
    if target.direction == "down":
        head = _(
            "本目标越低越好(如差距、名次)：下文的“达到目标”指不高于目标值，“低于目标”指高于目标值，"
            "概率为不高于目标值的概率。"
        ) + head
    if target.significant:
        head += _(
            "本目标要求差异显著：估计值达到目标且其 95% 置信区间整体在目标值的一侧才算“已达成”，"
            "区间包含目标值时为“与目标无显著差异”。"
        )
    if target.kind == TargetKind.STOCK:
        return f"{head}{thresholds}"
    return f"{head}{thresholds}{survey}"


def rule_label(kind: str, rule: str) -> str:
    """The stored rule id (kepu.stats.forecast.RULES) as a short phrase for the pages."""
    if rule == "deadline_passed":
        return _("该年数据已报齐，低于目标") if kind == TargetKind.FLOW else _("期限已到，未达到目标")
    labels = {
        "met_already": _("已达到目标"),
        "ci_contains_target": _("期限已到，估计值低于目标，但 95% 置信区间包含目标值"),
        "not_significant": _("估计值已达到目标，但 95% 置信区间包含目标值，差异不显著"),
        "prob_ge_on": _("达成概率 ≥ 0.6"),
        "prob_between": _("达成概率在 0.2 与 0.6 之间"),
        "prob_lt_risk": _("达成概率 < 0.2"),
        "insufficient_data": _("只有一年数据，无法判断趋势"),
        "no_data": _("暂无数据"),
    }
    return labels.get(rule, _("其他"))


def interval_note(status: TargetStatus) -> str:
    """Why a status has no forecast interval (empty when it has one)."""
    if status.low is not None and status.high is not None:
        return ""
    if status.status == TargetStatus.Status.MET:
        return _("已达成，无需预测")
    if status.rule in ("deadline_passed", "ci_contains_target", "not_significant"):
        return _("已有实际值，无需预测")
    if status.rule == "insufficient_data":
        return _("只有一年数据，无法给出区间")
    return _("暂无数据，无法预测")


def uncertainty(t: Target, status: TargetStatus) -> str:
    """The uncertainty behind a status, in words: before the deadline the probability of reaching the
    target with the forecast's interval for the deadline-year value; past it, a survey estimate's 95 %
    confidence interval. Empty when there is neither."""
    integer = t.indicator.integer
    if status.ci_low is not None and status.ci_high is not None:
        return _("%(year)s年估计值 %(value)s，95%%置信区间 %(low)s–%(high)s") % {
            "year": status.evaluation_year, "value": format_value(status.projected, integer),
            "low": format_value(status.ci_low, integer), "high": format_value(status.ci_high, integer)}
    if status.status == TargetStatus.Status.MET or None in (status.probability, status.low, status.high):
        return ""
    return _("达成概率 %(p).2f；%(year)s年预测区间(80%%) %(low)s–%(high)s") % {
        "p": status.probability, "year": status.evaluation_year,
        "low": format_value(status.low, integer), "high": format_value(status.high, integer)}


def _baseline(target: Target, unit: OrgUnit, region: OrgUnit) -> tuple[int, float] | None:
    if unit.pk == region.pk and target.baseline_year is not None and target.baseline_value is not None:
        return (target.baseline_year, target.baseline_value)
    return None


def assess_target(
    target: Target, unit: OrgUnit, value: float, series: Series, today_year: int, baseline: tuple[int, float] | None
) -> Assessment:
    """A partial sum (some quarters or districts reported) is a lower bound of the year's total: it
    can show a target already reached, so it counts when it does; otherwise the year is treated as
    not yet reported and forecast, never judged as missed on half the data."""
    complete = {y: p for y, p in series.items() if not p.partial}
    if len(complete) < len(series):
        with_partial = _assess(target, value, series, today_year, baseline)
        if with_partial.status == "met":
            return with_partial
    return _assess(target, value, complete, today_year, baseline)


def _assess(
    target: Target, value: float, series: Series, today_year: int, baseline: tuple[int, float] | None
) -> Assessment:
    years = sorted(
        y for y in series if y >= target.period_start or target.kind in (TargetKind.RATE, TargetKind.COVERAGE)
    )
    if target.kind == TargetKind.STOCK:
        years = [y for y in years if target.period_start <= y <= (target.deadline_year or target.period_end)]
    else:
        years = [y for y in years if y <= evaluation_year(target, today_year) or target.kind != TargetKind.FLOW]
    values = [series[y].value for y in years]
    ses = [series[y].se for y in years]
    cis = [(series[y].ci_low, series[y].ci_high) for y in years]
    down = target.direction == "down"
    if down:
        # Lower is better: judge the mirrored series (−value against −target), then mirror back.
        values = [-v for v in values]
        cis = [(None if hi is None else -hi, None if lo is None else -lo) for lo, hi in cis]
        baseline = None if baseline is None else (baseline[0], -baseline[1])
    a = assess(
        target.kind,  # type: ignore[arg-type]
        target=-value if down else value,
        deadline_year=target.deadline_year,
        evaluation_year=evaluation_year(target, today_year),
        years=years,
        values=values,
        ses=ses if any(s is not None for s in ses) else None,
        cis=cis if any(lo is not None and hi is not None for lo, hi in cis) else None,
        baseline=baseline,
        period_start=target.period_start,
    )
    return _significant(target, _mirrored(a) if down else a, series)


def _significant(target: Target, a: Assessment, series: Series) -> Assessment:
    """A `significant` target ("显著缩小") is reached only when the survey value's 95 % CI lies wholly
    on the target's side: a point estimate there whose interval still holds the target value is
    "not distinguishable from the target", not met."""
    point = series.get(a.current_year) if target.significant and a.status == "met" and a.current_year else None
    ci = None if point is None else survey_ci(point.value, point.se, point.ci_low, point.ci_high)
    if ci is None or (ci[1] < target.value if target.direction == "down" else ci[0] > target.value):
        return a
    return replace(a, status="not_distinguishable", rule="not_significant", probability=None)


def _neg(x: float | None) -> float | None:
    return None if x is None else 0.0 - x  # never -0.0 on a page


def _mirrored(a: Assessment) -> Assessment:
    """An assessment of a mirrored (negated) series in the target's own terms: values, paces and
    intervals negated back (bounds swapped); the probability is then P(value ≤ target);
    achieved_pct is target / current × 100 (100 or more when at or below the ceiling)."""
    current, target = _neg(a.current), -a.target
    achieved = None if current is None or current <= 0 or target <= 0 else target / current * 100
    return replace(
        a, target=target, current=current, achieved_pct=achieved, required_pace=_neg(a.required_pace),
        actual_pace=_neg(a.actual_pace), projected=_neg(a.projected), low=_neg(a.high), high=_neg(a.low),
        ci_low=_neg(a.ci_high), ci_high=_neg(a.ci_low),
    )


def compute_statuses(plan: Plan, today_year: int | None = None) -> list[TargetStatus]:
    today_year = today_year or timezone.localdate().year
    region = plan.region
    targets = list(plan.targets.filter(active=True).select_related("indicator"))
    allocations: dict[int, list[TargetAllocation]] = defaultdict(list)
    for a in TargetAllocation.objects.filter(target__in=targets).select_related("org_unit"):
        allocations[a.target_id].append(a)
    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT))
    series = annual_series(plan, unit_ids=[region.pk, *(d.pk for d in districts)])
    rows: list[TargetStatus] = []
    for target in targets:
        units: list[tuple[OrgUnit, float, Series, bool]] = []
        own = series.get((target.indicator_id, region.pk), {})
        rolled = False
        if not own:
            expected = {a.org_unit_id for a in allocations[target.pk]}
            own = rolled_up_series(target.indicator, districts, series, expected, partial=True)
            rolled = bool(own)
        units.append((region, target.value, own, rolled))
        for a in allocations[target.pk]:
            units.append((a.org_unit, a.value, series.get((target.indicator_id, a.org_unit_id), {}), False))
        for unit, value, s, rolled_flag in units:
            r = assess_target(target, unit, value, s, today_year, _baseline(target, unit, region))
            rows.append(
                TargetStatus(
                    target=target,
                    org_unit=unit,
                    target_value=value,
                    evaluation_year=evaluation_year(target, today_year),
                    current=r.current,
                    current_year=r.current_year,
                    achieved_pct=r.achieved_pct,
                    required_pace=r.required_pace,
                    actual_pace=r.actual_pace,
                    projected=r.projected,
                    low=r.low,
                    high=r.high,
                    probability=r.probability,
                    ci_low=r.ci_low,
                    ci_high=r.ci_high,
                    survey=any(p.se is not None or p.ci_low is not None for p in s.values()),
                    status=r.status,
                    rule=r.rule,
                    n_points=r.n_points,
                    rolled_up=rolled_flag,
                )
            )
    return rows


@transaction.atomic
def status_refresh(plan: Plan, today_year: int | None = None) -> int:
    """Recompute and store every target's status for the plan (idempotent)."""
    rows = compute_statuses(plan, today_year)
    TargetStatus.objects.filter(target__plan=plan).delete()
    TargetStatus.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
