"""Writes to the talent pool: one function per use case, transactional and audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from kepu.community.models import AssignmentKind, Expert, ExpertAssignment, ExpertRole
from kepu.core import pii
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)


@transaction.atomic
def expert_create(
    *,
    actor: User,
    name: str,
    organisation: str,
    org_unit: OrgUnit,
    fields: Iterable[str] = (),
    roles: Iterable[str] = (),
    title: str = "",
    specialities: str = "",
    languages: Iterable[str] = (),
    availability: str = "",
    phone: str = "",
    user: User | None = None,
) -> Expert:
    """Add an expert to the pool. The actor must manage `org_unit`; a phone number already in the
    pool (after normalising) is refused as a duplicate person."""
    if not scope_for(actor).covers(org_unit, MANAGE_ROLES):
        raise PermissionDenied(_("您无权管理该单位的专家。"))
    errors = []
    if not name.strip():
        errors.append(_("姓名：必填。"))
    if not organisation.strip():
        errors.append(_("工作单位：必填。"))
    bad_roles = sorted(set(roles) - set(ExpertRole.values))
    if bad_roles:
        errors.append(_("角色：无法识别 %(roles)s。") % {"roles": "、".join(bad_roles)})
    phone_norm = ""
    if phone.strip():
        try:
            phone_norm = pii.normalise_phone(phone)
        except InputError as exc:
            errors.append(str(exc))
    key = pii.match_key("phone", phone_norm) if phone_norm else ""
    if key and Expert.objects.filter(phone_key=key).exists():
        errors.append(_("手机号 %(phone)s 已在人才库中：同一人不能重复登记。") % {"phone": pii.mask_phone(phone_norm)})
    if errors:
        raise InputError(errors[0], errors=errors)
    expert = Expert.objects.create(
        name=name.strip(), organisation=organisation.strip(), org_unit=org_unit, fields=list(fields),
        roles=list(roles), title=title, specialities=specialities, languages=list(languages),
        availability=availability, phone_enc=pii.encrypt(phone_norm), phone_key=key,
        phone_masked=pii.mask_phone(phone_norm) if phone_norm else "", user=user,
    )
    audit_record(actor=actor, action="expert.create", obj=expert, org_unit=org_unit,
                 changes={"name": (None, expert.name), "organisation": (None, expert.organisation)})
    return expert


EXPERT_FIELDS = ("name", "organisation", "title", "fields", "specialities", "languages", "availability", "roles",
                 "org_unit")


def _can_manage_expert(actor: User, expert: Expert) -> None:
    if not scope_for(actor).covers(expert.org_unit, MANAGE_ROLES):
        raise PermissionDenied(_("您无权管理该单位的专家。"))


@transaction.atomic
def expert_update(*, actor: User, expert: Expert, data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Change an expert's record (the fields in EXPERT_FIELDS, and `phone`), audited old → new. Moving
    the record to another unit needs the right to manage both."""
    _can_manage_expert(actor, expert)
    errors = []
    new_unit = data.get("org_unit", expert.org_unit)
    if new_unit != expert.org_unit and not scope_for(actor).covers(new_unit, MANAGE_ROLES):
        errors.append(_("所属单位：您无权把专家转到该单位。"))
    if "name" in data and not str(data["name"]).strip():
        errors.append(_("姓名：必填。"))
    if "organisation" in data and not str(data["organisation"]).strip():
        errors.append(_("工作单位：必填。"))
    bad_roles = sorted(set(data.get("roles", ())) - set(ExpertRole.values))
    if bad_roles:
        errors.append(_("角色：无法识别 %(roles)s。") % {"roles": "、".join(bad_roles)})
    changes: dict[str, tuple[Any, Any]] = {}
    phone = data.get("phone")
    if phone is not None and phone.strip():
        try:
            norm = pii.normalise_phone(phone)
        except InputError:
            errors.append(_("手机号：请填写 11 位手机号或带区号的固定电话。"))
        else:
            key = pii.match_key("phone", norm)
            if key != expert.phone_key:
                if Expert.objects.filter(phone_key=key).exclude(pk=expert.pk).exists():
                    errors.append(_("手机号 %(phone)s 已在人才库中：同一人不能重复登记。") % {
                        "phone": pii.mask_phone(norm)})
                else:
                    changes["phone"] = (expert.phone_masked, pii.mask_phone(norm))
                    expert.phone_enc, expert.phone_key, expert.phone_masked = (
                        pii.encrypt(norm), key, pii.mask_phone(norm))
    if errors:
        raise InputError(errors[0], errors=errors)
    for name in EXPERT_FIELDS:
        if name not in data:
            continue
        new = data[name]
        if isinstance(new, str):
            new = new.strip()
        if name in ("fields", "languages", "roles"):
            new = [str(x).strip() for x in new if str(x).strip()]
        old = getattr(expert, name)
        if old != new:
            changes[name] = (str(old) if name == "org_unit" else old, str(new) if name == "org_unit" else new)
            setattr(expert, name, new)
    if changes:
        expert.save()
        audit_record(actor=actor, action="expert.update", obj=expert, org_unit=expert.org_unit, changes=changes)
    return changes


@transaction.atomic
def expert_deactivate(*, actor: User, expert: Expert, reason: str = "") -> None:
    _can_manage_expert(actor, expert)
    if not expert.active:
        return
    expert.active = False
    expert.save(update_fields=["active"])
    audit_record(actor=actor, action="expert.deactivate", obj=expert, org_unit=expert.org_unit,
                 changes={"active": (True, False)}, comment=reason)


@transaction.atomic
def expert_assign(
    *, actor: User | None, expert: Expert | User, kind: str, title: str, ref: str = ""
) -> ExpertAssignment:
    """Give an expert a piece of work (a review, an event, a debunk …). Other apps call this when they
    assign an expert, passing the Expert or the expert's user account (they keep experts by account);
    the expert sees it under 我的任务. Only an active expert can be assigned."""
    if isinstance(expert, User):
        found = Expert.objects.filter(user=expert).first()
        if found is None:
            raise InputError(_("该账号没有关联科普专家库中的专家。"))
        expert = found
    errors = []
    if kind not in AssignmentKind.values:
        errors.append(_("任务类型：应为 评审、活动、辟谣 或 其他。"))
    if not title.strip():
        errors.append(_("任务名称：必填。"))
    if not expert.active:
        errors.append(_("该专家已停用，不能分派任务。"))
    if errors:
        raise InputError(errors[0], errors=errors)
    by = actor if actor is not None and actor.is_authenticated else None
    a = ExpertAssignment.objects.create(expert=expert, kind=kind, title=title.strip()[:200], ref=ref[:300],
                                        assigned_by=by)
    audit_record(actor=actor, action="expert.assign", obj=expert, org_unit=expert.org_unit,
                 changes={"assignment": (None, f"{kind}: {a.title}")})
    return a
