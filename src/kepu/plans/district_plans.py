"""District implementation plans (辖市(区)实施方案).

A district's plan is an ordinary Plan whose `parent` is the city plan it implements and whose
region is the district. It is loaded from a plan file like any other (`plan.parent: <city code>`)
and keeps its own indicators and targets: nothing in it can touch the city plan's rows, which are
all keyed by their own plan. The checks here keep a district file from taking the city plan's
code, another district's plan, or a region outside the city."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.plans.models import Plan, Target, TargetAllocation, TargetStatus

# Who may attach or replace a district's plan: the district's own reporters and the office.
MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)


def district_plan_errors(meta: dict[str, Any], region: OrgUnit, existing: Plan | None) -> tuple[Plan | None, list[str]]:
    """The parent plan named by `plan.parent`, and every reason the file may not be loaded as it
    says (an empty list when it may). A file without `parent` is a city plan: it may not take the
    code of an existing district plan."""
    parent_code = meta.get("parent")
    if not parent_code:
        if existing is not None and existing.parent_id is not None:
            return None, [f"plan.code: {existing.code!r} is a district implementation plan; name its plan.parent"]
        return None, []
    parent = Plan.objects.select_related("region").filter(code=parent_code).first()
    if parent is None:
        return None, [f"plan.parent: unknown plan {parent_code!r}; import the city plan first"]
    errors = []
    if parent.parent_id is not None:
        errors.append(f"plan.parent: {parent_code!r} is itself a district plan; name the city plan")
    if parent_code == meta["code"]:
        errors.append("plan.code: a district plan needs its own code, not its city plan's")
    if not (region.path.startswith(parent.region.path) and region.pk != parent.region_id):
        errors.append(
            f"plan.region: {region.code!r} ({region.name_zh}) is not a district of {parent.region.name_zh}, "
            f"the region of plan {parent_code!r}"
        )
    if existing is not None and (existing.parent_id != parent.pk or existing.region_id != region.pk):
        owner = existing.region.name_zh if existing.parent_id else _city_word(existing)
        errors.append(f"plan.code: {meta['code']!r} is already the plan of {owner}; use another code")
    return parent, errors


def _city_word(plan: Plan) -> str:
    return f"{plan.region.name_zh} (city plan)"


def can_manage(user: User | AnonymousUser, district: OrgUnit) -> bool:
    return scope_for(user).covers(district, MANAGE_ROLES)


def can_view(user: User | AnonymousUser, district: OrgUnit) -> bool:
    return scope_for(user).can_view(district)


def district_plans_for(city_plan: Plan, district: OrgUnit) -> QuerySet[Plan]:
    return Plan.objects.filter(parent=city_plan, region=district).select_related("region", "parent").order_by("id")


def districts_with_plans(city_plan: Plan, user: User | AnonymousUser) -> list[tuple[OrgUnit, list[Plan]]]:
    """The city's districts the user may see, each with its implementation plans."""
    scope = scope_for(user)
    districts = OrgUnit.objects.filter(
        parent=city_plan.region, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True
    ).order_by("code")
    plans: dict[int, list[Plan]] = {}
    for p in Plan.objects.filter(parent=city_plan).order_by("id"):
        plans.setdefault(p.region_id, []).append(p)
    return [(d, plans.get(d.pk, [])) for d in districts if scope.can_view(d)]


@dataclass(frozen=True)
class ExtraTarget:
    plan: Plan
    target: Target
    status: TargetStatus | None


@dataclass(frozen=True)
class CityShare:
    target: Target
    allocation: TargetAllocation
    status: TargetStatus | None


def extra_targets(city_plan: Plan, district: OrgUnit) -> list[ExtraTarget]:
    """The district's own targets (from its implementation plans), with their status there."""
    rows = []
    for p in district_plans_for(city_plan, district):
        targets = list(p.targets.filter(active=True).select_related("indicator").order_by("order"))
        statuses = {
            s.target_id: s
            for s in TargetStatus.objects.filter(target__in=targets, org_unit=district)
        }
        rows += [ExtraTarget(p, t, statuses.get(t.pk)) for t in targets]
    return rows


def city_cascade(city_plan: Plan, district: OrgUnit) -> list[CityShare]:
    """What the city plan asks of the district: its allocated share of each city target."""
    allocations = list(
        TargetAllocation.objects.filter(target__plan=city_plan, target__active=True, org_unit=district)
        .select_related("target__indicator")
        .order_by("target__order")
    )
    statuses = {
        s.target_id: s
        for s in TargetStatus.objects.filter(target__plan=city_plan, org_unit=district)
    }
    return [CityShare(a.target, a, statuses.get(a.target_id)) for a in allocations]
