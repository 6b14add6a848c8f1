"""Target status and forecasts for every target and org unit, stored as TargetStatus rows.

The maths (trend fits, predictive bands, probabilities) lives in kepu.stats.forecast; this module
chooses the series each target is judged on and keeps the stored judgements fresh."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.plans.models import Plan, Target, TargetAllocation, TargetKind, TargetStatus
from kepu.plans.series import Series, annual_series, rolled_up_series
from kepu.stats.forecast import Assessment, assess


def evaluation_year(target: Target, today_year: int) -> int:
    """Levels and stocks are judged at their deadline; flows (N per year) in the current year of
    their period (or its last year once the period is over)."""
    if target.kind == TargetKind.FLOW:
        return max(target.period_start, min(today_year, target.period_end))
    return target.deadline_year or target.period_end


def _baseline(target: Target, unit: OrgUnit, region: OrgUnit) -> tuple[int, float] | None:
    if unit.pk == region.pk and target.baseline_year is not None and target.baseline_value is not None:
        return (target.baseline_year, target.baseline_value)
    return None


def assess_target(
    target: Target, unit: OrgUnit, value: float, series: Series, today_year: int, baseline: tuple[int, float] | None
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
    return assess(
        target.kind,  # type: ignore[arg-type]
        target=value,
        deadline_year=target.deadline_year,
        evaluation_year=evaluation_year(target, today_year),
        years=years,
        values=values,
        ses=ses if any(s is not None for s in ses) else None,
        baseline=baseline,
        period_start=target.period_start,
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
            own = rolled_up_series(target.indicator, districts, series, expected)
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
