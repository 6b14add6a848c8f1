"""The registration interface domain apps publish through: a value per district (and one for the
city) of an indicator, derived from the app's own records, goes to every plan that measures it.

Domain apps (community, events, facilities, funding, recognition) call `publish_by_district` from
their `indicators.py` inside the transaction that changed their records, so certifying a base or
approving hours moves the target in the same commit, and undoing it moves it back. A plan that does
not have the indicator is skipped: another city's plan may measure less."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.plans.models import Observation, Plan
from kepu.plans.selectors import indicator_get
from kepu.plans.services import observation_publish


def ancestor_at(unit: OrgUnit | None, level: str) -> OrgUnit | None:
    """The unit itself or its ancestor at `level` (e.g. the district of a town), None above it."""
    while unit is not None and unit.level != level:
        unit = unit.parent
    return unit


def city_districts(city: OrgUnit, year: int) -> list[OrgUnit]:
    units = OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT).order_by("sort", "code")
    return [d for d in units if d.active_in_year(year)]


def publishable_year(year: int) -> bool:
    """Derived values are published for past and current years only (plans refuse the future)."""
    return year <= timezone.localdate().year


@transaction.atomic
def publish_by_district(
    *,
    code: str,
    year: int,
    city: OrgUnit,
    by_district: Mapping[str, float],
    city_value: float | None = None,
    source: str,
    note: str,
) -> list[Observation]:
    """Publish `code` for `year`: each district of `city` named in `by_district` gets its value; the
    city gets `city_value`, by default the sum over its districts (for a district not named, the value
    it already has, e.g. reported by hand before it kept records on Kepu). An app names every district
    that has records of the year, revoked or rejected ones included, so undoing the last one publishes
    0 rather than leaving the old count. Goes to every plan of the city that has the indicator and
    covers the year, and to each district's own implementation plan that has it. Idempotent: a
    re-publication replaces the year's values (audited when changed)."""
    if not publishable_year(year):
        return []
    districts = city_districts(city, year)
    values = {d.code: float(v) for d in districts if (v := by_district.get(d.code)) is not None}
    out: list[Observation] = []
    plans = Plan.objects.filter(region=city, start_year__lte=year, end_year__gte=year)
    for plan in plans:
        indicator = indicator_get(plan, code)
        if indicator is None:
            continue
        for d in districts:
            if d.code in values:
                out.append(observation_publish(
                    indicator=indicator, org_unit=d, year=year, value=values[d.code], source=source, note=note
                ))
        if city_value is None:
            existing = Observation.objects.filter(
                indicator=indicator, year=year, quarter=0, org_unit__in=districts,
                status=Observation.Status.APPROVED,
            ).values_list("value", flat=True)
            total = float(sum(v for v in existing if v is not None))
        else:
            total = float(city_value)
        out.append(observation_publish(
            indicator=indicator, org_unit=city, year=year, value=total, source=source, note=note
        ))
    for plan in Plan.objects.filter(
        region__in=districts, parent__region=city, start_year__lte=year, end_year__gte=year
    ).select_related("region"):
        indicator = indicator_get(plan, code)
        if indicator is not None and plan.region.code in values:
            out.append(observation_publish(
                indicator=indicator, org_unit=plan.region, year=year, value=values[plan.region.code],
                source=source, note=note,
            ))
    return out


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)
