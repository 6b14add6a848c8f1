"""Annual series of approved values per indicator and org unit, and their roll-up to the city."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kepu.core.models import OrgUnit
from kepu.plans.models import Aggregation, Indicator, Observation, Plan
from kepu.stats.forecast import population_weighted_mean


@dataclass(frozen=True)
class Point:
    value: float
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    # A sum over part of the year (some quarters) or part of the districts: a lower bound of the
    # year's total, so it can show a yearly target already reached but never one missed.
    partial: bool = False


Series = dict[int, Point]


def annual_series(
    plan: Plan, *, statuses: Iterable[str] = (Observation.Status.APPROVED,), indicator_ids: Iterable[int] | None = None,
    unit_ids: Iterable[int] | None = None,
) -> dict[tuple[int, int], Series]:
    """(indicator id, org unit id) → {year: Point}, one query. A year reported by quarters becomes
    the sum of its quarters (sums; partial until all four are in) or its latest quarter (levels)."""
    qs = Observation.objects.filter(indicator__plan=plan, status__in=list(statuses))
    if indicator_ids is not None:
        qs = qs.filter(indicator_id__in=list(indicator_ids))
    if unit_ids is not None:
        qs = qs.filter(org_unit_id__in=list(unit_ids))
    rows = qs.values_list("indicator_id", "org_unit_id", "year", "quarter", "value", "se", "ci_low", "ci_high",
                          "indicator__aggregation")
    out: dict[tuple[int, int], Series] = defaultdict(dict)
    quarters: dict[tuple[int, int, int], list[tuple[int, float]]] = defaultdict(list)
    aggregation: dict[int, str] = {}
    for ind, unit, year, quarter, value, se, lo, hi, agg in rows:
        if quarter == 0:
            out[(ind, unit)][year] = Point(value, se, lo, hi)
        else:
            quarters[(ind, unit, year)].append((quarter, value))
            aggregation[ind] = agg
    for (ind, unit, year), qv in quarters.items():
        if year in out[(ind, unit)]:
            continue
        qv.sort()
        if aggregation[ind] == Aggregation.SUM:
            out[(ind, unit)][year] = Point(sum(v for _, v in qv), partial=len(qv) < 4)
        else:
            out[(ind, unit)][year] = Point(qv[-1][1])
    return dict(out)


def rollup_value(indicator: Indicator, values: dict[OrgUnit, float]) -> float | None:
    """Combine district values into the city value as the indicator's aggregation requires."""
    if not values:
        return None
    if indicator.aggregation == Aggregation.SUM:
        return float(sum(values.values()))
    if indicator.aggregation == Aggregation.UNIT_MIN:
        return float(min(values.values()))
    if indicator.aggregation == Aggregation.POPULATION_WEIGHTED_MEAN:
        units = list(values)
        if any(not u.population for u in units):
            return None
        return population_weighted_mean([values[u] for u in units], [float(u.population or 0) for u in units])
    return float(sum(values.values()) / len(values))


def rolled_up_series(
    indicator: Indicator, districts: list[OrgUnit], series: dict[tuple[int, int], Series], expected: set[int],
    *, partial: bool = False,
) -> Series:
    """City series from its districts, for years where every expected district has a value. With
    `partial`, a sum indicator also gets the years some districts have reported, as partial points."""
    years: set[int] = set()
    for d in districts:
        years.update(series.get((indicator.pk, d.pk), {}))
    out: Series = {}
    for year in sorted(years):
        vals = {d: series[(indicator.pk, d.pk)][year].value for d in districts
                if year in series.get((indicator.pk, d.pk), {})}
        incomplete = bool(expected) and not expected <= {d.pk for d in vals}
        if incomplete and not (partial and indicator.aggregation == Aggregation.SUM):
            continue
        value = rollup_value(indicator, vals)
        if value is not None:
            some_partial = any(series[(indicator.pk, d.pk)][year].partial for d in vals)
            out[year] = Point(value, partial=incomplete or some_partial)
    return out
