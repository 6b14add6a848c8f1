"""Writes to the talent pool: one function per use case, transactional and audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from kepu.community.models import Expert, ExpertRole
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
