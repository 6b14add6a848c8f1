"""What the community app contributes to plan indicators, counted from its registries (no one types
these numbers in):
- SCI_VOLUNTEERS: active volunteers registered by the end of the year, per district of their unit;
- SCI_INFO_OFFICERS: the same, for volunteers who are 科普信息员;
- VOLUNTEER_HOURS: approved service hours that started in the year, per district of the record's
  (organiser's) unit.
The services call these inside their transactions, so an approval, rejection, revocation or
registration moves the plan's targets in the same commit. Every district with records of the year
(rejected and revoked ones too) is named, so undoing the last approval publishes 0."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from kepu.community.volunteer_models import ServiceRecord, Volunteer
from kepu.core.models import OrgUnit
from kepu.plans.derived import ancestor_at, city_districts, publish_by_district, publishable_year
from kepu.plans.models import Observation

SOURCE = "community"


def _city(unit: OrgUnit) -> OrgUnit | None:
    return ancestor_at(unit, OrgUnit.Level.CITY)


def _district_code(unit: OrgUnit, districts: dict[str, OrgUnit]) -> str | None:
    for code, d in districts.items():
        if unit.path.startswith(d.path):
            return code
    return None


def volunteer_counts(city: OrgUnit, year: int) -> tuple[dict[str, int], dict[str, int]]:
    """(volunteers, info officers) per district code of the city, for every district with a volunteer."""
    districts = {d.code: d for d in city_districts(city, year)}
    vols: dict[str, int] = defaultdict(int)
    info: dict[str, int] = defaultdict(int)
    rows = Volunteer.objects.filter(org_unit__path__startswith=city.path).select_related("org_unit")
    for v in rows:
        code = _district_code(v.org_unit, districts)
        if code is None:
            continue
        vols.setdefault(code, 0)
        info.setdefault(code, 0)
        if v.active and v.registered_on <= dt.date(year, 12, 31):
            vols[code] += 1
            info[code] += int(v.is_info_officer)
    return dict(vols), dict(info)


def approved_hours(city: OrgUnit, year: int) -> dict[str, float]:
    """Approved hours per district code for every district with a record (any status) in the year."""
    districts = {d.code: d for d in city_districts(city, year)}
    out: dict[str, Decimal] = {}
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    rows = ServiceRecord.objects.filter(org_unit__path__startswith=city.path, start__gte=start,
                                        start__lt=end).select_related("org_unit")
    for r in rows:
        code = _district_code(r.org_unit, districts)
        if code is None:
            continue
        out.setdefault(code, Decimal(0))
        if r.status == ServiceRecord.Status.APPROVED:
            out[code] += r.hours
    return {k: float(v) for k, v in out.items()}


def volunteers_publish(*, unit: OrgUnit, year: int) -> list[Observation]:
    city = _city(unit)
    if city is None or not publishable_year(year):
        return []
    vols, info = volunteer_counts(city, year)
    out = publish_by_district(code="SCI_VOLUNTEERS", year=year, city=city, by_district=vols, source=SOURCE,
                              note=f"科普人才与志愿服务登记：{year} 年底在册的科技志愿者")
    out += publish_by_district(code="SCI_INFO_OFFICERS", year=year, city=city, by_district=info, source=SOURCE,
                               note=f"科普人才与志愿服务登记：{year} 年底在册的科普信息员")
    return out


def hours_publish(*, unit: OrgUnit, year: int) -> list[Observation]:
    city = _city(unit)
    if city is None or not publishable_year(year):
        return []
    return publish_by_district(code="VOLUNTEER_HOURS", year=year, city=city, by_district=approved_hours(city, year),
                               source=SOURCE, note=f"志愿服务记录：{year} 年经认定的服务时长")


def publish_all(*, city: OrgUnit, years: range | list[int]) -> int:
    n = 0
    for year in years:
        n += len(volunteers_publish(unit=city, year=year)) + len(hours_publish(unit=city, year=year))
    return n
