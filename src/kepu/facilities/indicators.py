"""What the facilities app contributes to plan indicators, derived from its own records and
published through `kepu.plans.derived.publish_by_district` inside the service transaction that
changed them (certify, renew, revoke, annual review, expiry, imports, visitor counts).

How each is counted, following the plan's targets (data/plans/changzhou-2021-2035.yaml):

* Stock targets (T02–T05, T18, T19) are judged on the sum of annual increments since 2021
  (kepu.plans.status), so each year's value is the number of bases of that kind and level whose
  designation was *first* made that year and has not been revoked since. A revocation removes the
  base from the year it was designated in; an expiry does not (the base was still newly designated
  that year — "新评定只计新认定的基地"); a renewal is not a new designation.
* SCI_BASES_ACTIVE (all bases with a certification in force) and T17 ELDERLY_TECH_UNIV_COVERAGE
  are levels: they count what is in force at the end of the year (today for the current year), so
  expired and revoked certifications stop counting.
* SCI_VENUE_VISITS is the sum of the monthly visitor counts of the year.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Sum
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.facilities.models import Base, BaseKind, BaseLevel, Venue, VisitCount
from kepu.plans.derived import ancestor_at, city_districts, publish_by_district

FIRST_YEAR = 2021
SOURCE = "facilities"
HIGHER = (BaseLevel.PROVINCIAL, BaseLevel.NATIONAL)

# indicator code -> (kinds, levels) counted as newly designated in a year (stock targets)
NEW_DESIGNATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "SCI_BASES_CITY_NEW": ((BaseKind.GENERAL,), (BaseLevel.MUNICIPAL,)),
    "SCI_BASES_PROV": ((BaseKind.GENERAL,), HIGHER),
    "SCHOOLS_SCI_PROV": ((BaseKind.SCHOOL,), HIGHER),
    "SCHOOLS_SCI_CITY": ((BaseKind.SCHOOL,), (BaseLevel.MUNICIPAL,)),
    "STEM_BASES_PROV": ((BaseKind.STEM,), HIGHER),
    "STEM_BASES_CITY": ((BaseKind.STEM,), (BaseLevel.MUNICIPAL,)),
}
NOTES = {
    "SCI_BASES_CITY_NEW": "科普教育基地认定记录：当年新认定的市级科普教育基地(未被撤销)",
    "SCI_BASES_PROV": "科普教育基地认定记录：当年新获评的省级及以上科普教育基地(未被撤销)",
    "SCHOOLS_SCI_PROV": "认定记录：当年新获评的省级及以上科学教育综合示范学校(未被撤销)",
    "SCHOOLS_SCI_CITY": "认定记录：当年新认定的市级科学教育综合示范学校(未被撤销)",
    "STEM_BASES_PROV": "认定记录：当年新获评的省级及以上 STEM 创新实践基地(未被撤销)",
    "STEM_BASES_CITY": "认定记录：当年新认定的市级 STEM 创新实践基地(未被撤销)",
    "SCI_BASES_ACTIVE": "认定记录：年末(当年为今天)认定有效期内、未被撤销的各级各类基地",
    "ELDERLY_TECH_UNIV_COVERAGE": (
        "认定记录：年末(当年为今天)有有效认定的老年科技大学的辖市(区)为 100，否则为 0；全市为覆盖比例"),
    "SCI_VENUE_VISITS": "开放场馆登记的逐月接待人次之和",
}


def reference_day(year: int) -> dt.date:
    """The day a level is read on: the year's last day, or today for the current year."""
    today = timezone.localdate()
    return min(dt.date(year, 12, 31), today)


def _count_new(bases: Iterable[Base], year: int, kinds: tuple[str, ...], levels: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for b in bases:
        if b.first_certified_on.year == year and b.revoked_on is None and b.kind in kinds and b.level in levels:
            out[b.district.code] += 1
    return out


def base_values(year: int, city: OrgUnit) -> dict[str, tuple[dict[str, float], float | None]]:
    """Every base indicator for `year`: code -> ({district code: value}, city value or None for the sum).
    Districts with any base designated by the end of the year are named (0 when nothing counts), so an
    undo publishes 0 rather than leaving the old count."""
    bases = list(Base.objects.filter(district__parent=city).select_related("district"))
    end = dt.date(year, 12, 31)
    named = {b.district.code for b in bases if b.first_certified_on <= end}
    out: dict[str, tuple[dict[str, float], float | None]] = {}
    for code, (kinds, levels) in NEW_DESIGNATIONS.items():
        found = _count_new(bases, year, kinds, levels)
        out[code] = ({d: float(found.get(d, 0)) for d in named}, None)
    day = reference_day(year)
    active: dict[str, int] = defaultdict(int)
    elderly: set[str] = set()
    for b in bases:
        if b.in_force_on(day):
            active[b.district.code] += 1
            if b.kind == BaseKind.ELDERLY:
                elderly.add(b.district.code)
    out["SCI_BASES_ACTIVE"] = ({d: float(active.get(d, 0)) for d in named}, None)
    districts = city_districts(city, year)
    if any(b.kind == BaseKind.ELDERLY and b.first_certified_on <= end for b in bases) and districts:
        coverage = {d.code: 100.0 if d.code in elderly else 0.0 for d in districts}
        share = 100.0 * sum(1 for v in coverage.values() if v) / len(districts)
        out["ELDERLY_TECH_UNIV_COVERAGE"] = (coverage, round(share, 1))
    return out


def venue_visits(year: int, city: OrgUnit) -> dict[str, float]:
    rows = (VisitCount.objects.filter(venue__district__parent=city, year=year)
            .values("venue__district__code").annotate(total=Sum("visitors")))
    return {r["venue__district__code"]: float(r["total"] or 0) for r in rows}


def _years(start: int) -> range:
    return range(max(FIRST_YEAR, start), timezone.localdate().year + 1)


def bases_publish(*, city: OrgUnit, since_year: int = FIRST_YEAR) -> int:
    """Publish every base indicator for each year from `since_year` (not before 2021) to this year.
    Returns the number of observations written."""
    n = 0
    for year in _years(since_year):
        for code, (by_district, city_value) in base_values(year, city).items():
            if not by_district:
                continue
            n += len(publish_by_district(
                code=code, year=year, city=city, by_district=by_district, city_value=city_value,
                source=SOURCE, note=NOTES[code],
            ))
    return n


def visits_publish(*, city: OrgUnit, year: int) -> int:
    by_district = venue_visits(year, city)
    # A district whose venues all had their counts corrected to nothing still gets its 0.
    for code in Venue.objects.filter(district__parent=city, visit_counts__year=year).values_list(
            "district__code", flat=True).distinct():
        by_district.setdefault(code, 0.0)
    if not by_district:
        return 0
    return len(publish_by_district(
        code="SCI_VENUE_VISITS", year=year, city=city, by_district=by_district, source=SOURCE,
        note=NOTES["SCI_VENUE_VISITS"],
    ))


def city_of(unit: OrgUnit) -> OrgUnit:
    city = ancestor_at(unit, OrgUnit.Level.CITY)
    if city is None:
        raise ValueError(f"{unit.code} is not inside a city")
    return city
