"""A province plan rolls up its cities' indicators: each city's value for the year (reported for the
city, or rolled up from all its districts) combined as the province indicator's aggregation says
(population-weighted by the cities' resident population for rates, summed for counts, …).

The cities are the plans whose region the province file placed under the province's region; a
city indicator counts for the province indicator with the same code."""

from __future__ import annotations

from dataclasses import dataclass, field

from kepu.core.models import OrgUnit
from kepu.plans.models import Indicator, Plan
from kepu.plans.selectors import districts_of
from kepu.plans.series import Point, annual_series, rolled_up_series, rollup_value


@dataclass(frozen=True)
class CityValue:
    plan: Plan
    unit: OrgUnit
    value: float | None


@dataclass(frozen=True)
class RollupRow:
    indicator: Indicator
    year: int
    value: float | None  # None until every city with the indicator has a value for the year
    cities: list[CityValue] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return sum(c.value is not None for c in self.cities)


def is_province_plan(plan: Plan) -> bool:
    return plan.region.level == OrgUnit.Level.PROVINCE


def city_plans(province_plan: Plan) -> list[Plan]:
    """The city plans under the province (district implementation plans excluded)."""
    return list(
        Plan.objects.filter(region__parent=province_plan.region, parent__isnull=True)
        .select_related("region")
        .order_by("region__sort", "region__code")
    )


def _city_series(city_plan: Plan, indicator: Indicator) -> dict[int, Point]:
    series = annual_series(city_plan, indicator_ids=[indicator.pk])
    own = dict(series.get((indicator.pk, city_plan.region_id), {}))
    districts = districts_of(city_plan)
    rolled = rolled_up_series(indicator, districts, series, {d.pk for d in districts}) if districts else {}
    return {**rolled, **own}  # a value reported for the city itself wins over its districts' roll-up


def province_rollup(province_plan: Plan, year: int | None = None) -> list[RollupRow]:
    """One row per province indicator for `year` (default: the latest year all cities have values)."""
    cities = city_plans(province_plan)
    per_indicator: list[tuple[Indicator, list[tuple[Plan, dict[int, Point]]]]] = []
    years: set[int] = set()
    for ind in province_plan.indicators.filter(active=True).order_by("id"):
        found = []
        for cp in cities:
            ci = cp.indicators.filter(code=ind.code, active=True).first()
            if ci is not None:
                s = _city_series(cp, ci)
                years.update(s)
                found.append((cp, s))
        per_indicator.append((ind, found))
    if year is None:
        # The latest year every city has a value for some indicator, else the latest with any value.
        complete = [y for y in years if any(found and all(y in s for _cp, s in found) for _i, found in per_indicator)]
        year = max(complete or years) if years else province_plan.start_year
    rows = []
    for ind, found in per_indicator:
        values = [CityValue(cp, cp.region, s[year].value if year in s else None) for cp, s in found]
        known = {c.unit: c.value for c in values if c.value is not None}
        all_known = bool(values) and len(known) == len(values)
        rows.append(RollupRow(ind, year, rollup_value(ind, known) if all_known else None, values))
    return rows
