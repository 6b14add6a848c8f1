"""Regions: the top org unit a plan runs in (a city, or the province above several cities).

Responsible units (departments) are scoped to a region, so each city has its own 市教育局. Names and
codes given in a plan file, on the command line or in the API are resolved within the plan's region
with these helpers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kepu.core.errors import InputError
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


def region_file_clashes(doc: dict[str, Any], by_code: dict[str, OrgUnit], fname: str) -> None:
    """A region file may only add or update units of its own region: a code another region already
    has (a second city whose codes clash with the first) is an error naming the code; nothing is
    written. A city that a province file has placed under it stays in its own region."""
    region_code = str((doc.get("region") or {}).get("code") or "")
    if not region_code:
        return
    for i, row in enumerate(doc.get("units") or []):
        if not isinstance(row, dict) or not row.get("code"):
            continue
        code = str(row["code"])
        existing = by_code.get(code)
        if existing is not None and f"/{region_code}/" not in existing.path:
            owner = _top_region(existing, by_code)
            raise InputError(
                f"{fname}: units[{i}].code: {code!r} is already {existing.name_zh} of region "
                f"{owner.code} {owner.name_zh}; a region's codes must not clash with another's (nothing was loaded)"
            )


def _top_region(unit: OrgUnit, by_code: dict[str, OrgUnit]) -> OrgUnit:
    """The city (or other top unit) whose region file loaded this unit."""
    for code in unit.path.strip("/").split("/"):
        top = by_code.get(code)
        if top is not None and top.level != OrgUnit.Level.PROVINCE:
            return top
    return unit


def kept_parent(row: dict[str, Any], doc: dict[str, Any], by_code: dict[str, OrgUnit]) -> OrgUnit | None:
    """The parent of the region's top unit when re-imported: a province may have placed it."""
    region_code = str((doc.get("region") or {}).get("code") or "")
    existing = by_code.get(str(row.get("code")))
    if row.get("parent") is None and existing is not None and existing.code == region_code:
        return existing.parent
    return None


def attach_members(doc: dict[str, Any], by_code: dict[str, OrgUnit], fname: str, actor: Any = None) -> int:
    """A province file's `members`: cities already loaded from their own region files, placed under
    the province (their subtrees' paths move with them), so a province user's scope covers them."""
    from kepu.core.services import audit_record

    members = doc.get("members") or []
    if not members:
        return 0
    region_code = str((doc.get("region") or {}).get("code") or "")
    province = by_code.get(region_code)
    if province is None:
        raise InputError(f"{fname}: members: the region {region_code!r} is not among the file's units")
    moved = 0
    for i, code in enumerate(members):
        unit = by_code.get(str(code))
        if unit is None:
            raise InputError(
                f"{fname}: members[{i}]: unknown unit {code!r}; load the city's region file first"
            )
        if unit.parent_id == province.pk:
            continue
        if unit.parent_id is not None:
            raise InputError(f"{fname}: members[{i}]: {code!r} ({unit.name_zh}) already belongs to {unit.parent}")
        old, new = unit.path, f"{province.path}{unit.code}/"
        subtree = list(OrgUnit.objects.filter(path__startswith=old))
        for u in subtree:
            u.path = new + u.path[len(old):]
            if u.pk == unit.pk:
                u.parent = province
        OrgUnit.objects.bulk_update(subtree, ["path", "parent"])
        audit_record(actor=actor, action="orgunit.update", obj=unit, changes={"parent": (None, province.code)},
                     org_unit=unit)
        moved += 1
    return moved
