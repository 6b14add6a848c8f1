"""Regions: the top org unit a plan runs in (a city, or the province above several cities).

Responsible units (departments) are scoped to a region, so each city has its own 市教育局. Names and
codes given in a plan file, on the command line or in the API are resolved within the plan's region
with these helpers."""

from __future__ import annotations

from django.db.models import QuerySet

from kepu.core.models import Department, OrgUnit


def departments_in(region: OrgUnit) -> QuerySet[Department]:
    return Department.objects.filter(region=region)


def department_by_name(region: OrgUnit, name_zh: str) -> Department | None:
    """The region's responsible unit with this Chinese name (None when the region has none)."""
    return departments_in(region).filter(name_zh=name_zh).first()


def department_by_code(region: OrgUnit, code: str) -> Department | None:
    return departments_in(region).filter(code=code).first()


def region_units(unit: OrgUnit) -> list[OrgUnit]:
    """The unit and its ancestors, nearest first (the unit's path lists them from the top)."""
    codes = [c for c in unit.path.strip("/").split("/") if c]
    by_code = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
    return [by_code[c] for c in reversed(codes) if c in by_code]


def department_for_unit(unit: OrgUnit | None, code: str) -> Department:
    """The department with this code in the nearest region at or above `unit` (a role's scope).

    Without a unit the code must be unambiguous across regions. Raises Department.DoesNotExist."""
    candidates = list(Department.objects.filter(code=code).select_related("region"))
    if unit is not None:
        for region in region_units(unit):
            for dept in candidates:
                if dept.region_id == region.pk:
                    return dept
        raise Department.DoesNotExist(f"no department {code!r} in the region of {unit.code}")
    if len(candidates) != 1:
        raise Department.DoesNotExist(f"department {code!r}: {len(candidates)} found; name the org unit")
    return candidates[0]
