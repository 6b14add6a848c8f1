"""Reads of the talent pool. `expert_profile` and `expert_conflict` are the public face other apps
use (they keep review and assignment rows keyed by the expert's user account)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from kepu.community.models import Expert, ExpertAssignment


@dataclass(frozen=True)
class ExpertProfile:
    id: int
    user_id: int | None
    name: str
    organisation: str
    title: str
    fields: tuple[str, ...]
    roles: frozenset[str]
    org_unit_code: str


def _profile(e: Expert) -> ExpertProfile:
    return ExpertProfile(
        id=e.pk, user_id=e.user_id, name=e.name, organisation=e.organisation, title=e.title,
        fields=tuple(e.fields or ()), roles=frozenset(e.roles or ()), org_unit_code=e.org_unit.code,
    )


def expert_profile(user: User | AnonymousUser | None) -> ExpertProfile | None:
    """The active expert record behind a user account, or None when the user is not an expert."""
    if user is None or not user.is_authenticated:
        return None
    e = Expert.objects.select_related("org_unit").filter(user_id=user.pk, active=True).first()
    return _profile(e) if e is not None else None


def expert_profiles(*, role: str = "", field: str = "", with_account: bool = True) -> list[ExpertProfile]:
    """Active experts (for other apps' pickers, e.g. reviewers for a base or a fund call): filtered by
    role and field; by default only those with a user account (assignments go to accounts)."""
    qs = Expert.objects.select_related("org_unit").filter(active=True)
    if with_account:
        qs = qs.filter(user__isnull=False)
    return [_profile(e) for e in qs
            if (not role or role in (e.roles or [])) and (not field or field in (e.fields or []))]


def organisation_key(name: str) -> str:
    """Organisation names compared for conflicts: width-folded, spaces and brackets dropped, so
    "常州市第一人民医院" and "常州市第一人民医院 " and "常州市第一人民医院（总院）" … see `expert_conflict`."""
    text = unicodedata.normalize("NFKC", name or "").strip().lower()
    return re.sub(r"[\s()（）·,，.。-]", "", text)


def expert_conflict(user: User, organisation: str) -> bool:
    """True when the expert behind `user` works for `organisation` (conflict of interest: they may
    not score it). A name containing the other (a department of the same hospital) counts too."""
    profile = expert_profile(user)
    if profile is None:
        return False
    mine, theirs = organisation_key(profile.organisation), organisation_key(organisation)
    return bool(mine and theirs and (mine == theirs or mine in theirs or theirs in mine))


def experts_visible(user: User | AnonymousUser) -> QuerySet[Expert]:
    """The experts whose records the user manages (office admins: the city; district officers: their
    district). Experts themselves see only their assignments (`my_assignments`)."""
    from kepu.core.models import Role
    from kepu.core.scope import scope_for

    q = scope_for(user).unit_filter("org_unit__", roles=(Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER))
    return Expert.objects.filter(q).select_related("org_unit", "user")


def expert_search(qs: QuerySet[Expert], *, text: str = "", role: str = "", field: str = "",
                  active: bool | None = True, limit: int = 2000) -> list[Expert]:
    """Search in Chinese: `text` is matched (case-insensitively, width-folded) in the name,
    organisation, title, fields and specialities; `role` and `field` filter exactly."""
    if active is not None:
        qs = qs.filter(active=active)
    needle = unicodedata.normalize("NFKC", text).strip().lower()
    out = []
    for e in qs[:limit]:
        if role and role not in (e.roles or []):
            continue
        if field and field not in (e.fields or []):
            continue
        if needle:
            hay = " ".join([e.name, e.organisation, e.title, e.specialities, *(e.fields or [])])
            if needle not in unicodedata.normalize("NFKC", hay).lower():
                continue
        out.append(e)
    return out


def expert_fields(qs: QuerySet[Expert]) -> list[str]:
    return sorted({f for fs in qs.values_list("fields", flat=True) for f in (fs or [])})


def my_assignments(user: User | AnonymousUser) -> QuerySet[ExpertAssignment]:
    """Only the user's own assignments (an expert sees what they are assigned, nothing else)."""
    if not user.is_authenticated:
        return ExpertAssignment.objects.none()
    return ExpertAssignment.objects.filter(expert__user_id=user.pk).select_related("expert", "assigned_by")
