"""What funding contributes to plan indicators: budgeted science funding per resident
(SCI_FUNDING_PER_CAPITA, 元/人) and its growth over the year before (SCI_FUNDING_GROWTH, %), for each
county-level unit and the city, from approved budgets. Nobody types these figures in.

A district's figure counts every approved budget inside it (the district's own, its towns', and
department lines) over its resident population (OrgUnit.population); the city's counts the city's own
budgets and all its districts' over the city's population. Called from the budget approve/change
services inside their transaction."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from kepu.core.models import OrgUnit
from kepu.funding.models import Budget
from kepu.plans.derived import city_districts, publish_by_district, publishable_year

PER_CAPITA = "SCI_FUNDING_PER_CAPITA"
GROWTH = "SCI_FUNDING_GROWTH"


def _approved_fen(unit: OrgUnit, year: int) -> int | None:
    """The sum of approved budgets in the unit's subtree, None when none is approved yet."""
    found = Budget.objects.filter(
        org_unit__path__startswith=unit.path, year=year, status=Budget.Status.APPROVED
    ).aggregate(s=Sum("amount_fen"), n=Count("id"))
    return int(found["s"] or 0) if found["n"] else None


def per_capita(unit: OrgUnit, year: int) -> float | None:
    """Approved science budget per resident in 元; None without a population or an approved budget
    (a budget awaiting review is not yet a figure, so it neither shows as 0 nor as a −100 % fall)."""
    fen = _approved_fen(unit, year)
    if not unit.population or fen is None:
        return None
    return float(Decimal(fen) / 100 / unit.population)


def growth(unit: OrgUnit, year: int) -> float | None:
    """Per-capita growth over the year before, in % (None when the year before has no approved budget)."""
    now, before = per_capita(unit, year), per_capita(unit, year - 1)
    if now is None or not before:
        return None
    return round((now / before - 1) * 100, 2)


def _districts_with_records(city: OrgUnit, year: int) -> list[OrgUnit]:
    paths = set(Budget.objects.filter(org_unit__path__startswith=city.path, year=year)
                .values_list("org_unit__path", flat=True))
    return [d for d in city_districts(city, year) if any(p.startswith(d.path) for p in paths)]


def _estimate_note(units: list[OrgUnit]) -> str:
    est = [u.name_zh for u in units if u.population_is_estimate]
    return f"；常住人口为估算：{'、'.join(est)}" if est else ""


def funding_publish(*, city: OrgUnit, year: int) -> None:
    """Publish per-capita funding for `year` and growth for `year` and the year after (whose base moved)."""
    if not publishable_year(year):
        return
    districts = _districts_with_records(city, year)
    by_district: dict[str, float] = {}
    for d in districts:
        value = per_capita(d, year)
        if value is not None:
            by_district[d.code] = round(value, 4)
    city_pc = per_capita(city, year)
    publish_by_district(
        code=PER_CAPITA, year=year, city=city, by_district=by_district,
        city_value=round(city_pc, 4) if city_pc is not None else None, source="funding",
        note=f"{year} 年已批准科普经费预算 ÷ 常住人口（含辖区内各级预算）{_estimate_note([city, *districts])}",
    )
    for y in (year, year + 1):
        if not publishable_year(y):
            continue
        growth_by = {d.code: g for d in _districts_with_records(city, y) if (g := growth(d, y)) is not None}
        city_growth = growth(city, y)
        if not growth_by and city_growth is None:
            continue
        publish_by_district(
            code=GROWTH, year=y, city=city, by_district=growth_by, city_value=city_growth,
            source="funding", note=f"{y} 年人均科普经费较 {y - 1} 年增长率（已批准预算）",
        )
