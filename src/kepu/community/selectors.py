"""Reads of the talent pool. `expert_profile` and `expert_conflict` are the public face other apps
use (they keep review and assignment rows keyed by the expert's user account)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from kepu.community.models import Expert


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
