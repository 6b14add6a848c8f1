"""District implementation plans (辖市(区)实施方案).

A district's plan is an ordinary Plan whose `parent` is the city plan it implements and whose
region is the district. It is loaded from a plan file like any other (`plan.parent: <city code>`)
and keeps its own indicators and targets: nothing in it can touch the city plan's rows, which are
all keyed by their own plan. The checks here keep a district file from taking the city plan's
code, another district's plan, or a region outside the city."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kepu.core import uploads
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.plans.models import Plan, Target, TargetAllocation, TargetStatus
from kepu.plans.selectors import home_units

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


def district_get(city_plan: Plan, code: str) -> OrgUnit | None:
    """A current district of the city plan's region."""
    return OrgUnit.objects.filter(
        code=code, parent=city_plan.region, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True
    ).first()


def district_plan_attach(
    *, city_plan: Plan, district: OrgUnit, name: str, content: bytes, actor: User
) -> tuple[Plan, dict[str, Any]]:
    """Load a district's implementation plan file uploaded on the district's page. The file must
    say it is this district's plan of this city plan; then it is imported like any plan file
    (validated, all-or-nothing, audited, a new version kept)."""
    from kepu.plans.plan_import import plan_import  # plan_import uses this module's checks

    if not can_manage(actor, district):
        raise PermissionDenied(_("只有本辖市(区)的填报员和领导小组办公室可以上传实施方案。"))
    try:
        doc = uploads.yaml_load(content.decode("utf-8-sig"), name=name, kind="plan")
    except UnicodeDecodeError as exc:
        raise InputError(_("文件 %(name)s 不是 UTF-8 编码的文本。") % {"name": name}) from exc
    meta = doc.get("plan") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or meta.get("parent") != city_plan.code or str(meta.get("region")) != district.code:
        raise InputError(
            _("文件 %(name)s 不是%(district)s的实施方案：plan.parent 应为 %(parent)s，plan.region 应为 %(region)s。")
            % {"name": name, "district": district.name_zh, "parent": city_plan.code, "region": district.code}
        )
    with tempfile.TemporaryDirectory(prefix="kepu-plan-") as tmp:
        path = Path(tmp) / (Path(name).name or "plan.yaml")
        path.write_bytes(content)
        return plan_import(path=path, actor=actor)


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


def dashboard_extra(city_plan: Plan, user: User | AnonymousUser) -> dict[str, Any]:
    """For a district's dashboard: the district's own extra targets, shown beside the city's
    cascade for it (the status grid). Empty for city-wide users and those of several districts."""
    home = home_units(city_plan, user)
    if city_plan.parent_id or len(home) != 1 or home[0].pk == city_plan.region_id:
        return {}
    return {"district_extra": extra_targets(city_plan, home[0]), "district_unit": home[0]}
