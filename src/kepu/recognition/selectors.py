"""Reads of honours, nominations and awards. Nominations are seen within the user's scope (a district
officer sees their district's); awards that were not revoked are public. `awards_for` is the public
face other apps call to show a person's or unit's honours."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from kepu.core.models import OrgUnit, Role
from kepu.core.scope import READ_ROLES, REVIEW_ROLES, Scope, scope_for
from kepu.recognition.models import Honour, HonourAward, Nomination, NominationReview

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)


def can_nominate(scope: Scope, unit: OrgUnit) -> bool:
    return scope.covers(unit, MANAGE_ROLES)


def can_review(scope: Scope, unit: OrgUnit) -> bool:
    return scope.covers(unit, REVIEW_ROLES)


def honours_active() -> QuerySet[Honour]:
    return Honour.objects.filter(active=True).select_related("org_unit")


def nominations_visible(user: User | AnonymousUser, *, year: int | None = None) -> QuerySet[Nomination]:
    scope = scope_for(user)
    qs = (Nomination.objects.select_related("honour", "org_unit", "nominated_by", "award")
          .filter(scope.unit_filter("org_unit__", READ_ROLES)))
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "honour__code", "id")


def nomination_for(user: User | AnonymousUser, nomination_id: int) -> Nomination | None:
    return nominations_visible(user).filter(pk=nomination_id).first()


def reviews_of(nomination: Nomination) -> QuerySet[NominationReview]:
    return NominationReview.objects.filter(nomination=nomination).select_related("reviewer")


def awards_public(*, year: int | None = None) -> QuerySet[HonourAward]:
    qs = HonourAward.objects.filter(revoked=False).select_related("nomination__honour", "nomination__org_unit")
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "nomination__honour__level", "nomination__honour__code", "id")


def award_row(a: HonourAward) -> dict[str, Any]:
    n = a.nomination
    return {
        "id": a.pk, "year": a.year, "honour": n.honour.name_zh, "honour_code": n.honour.code,
        "level": n.honour.level, "kind": n.kind, "nominee": n.nominee,
        "organisation": n.organisation if n.kind == Nomination.Kind.INDIVIDUAL else n.collective_name,
        "org_unit_code": n.org_unit.code, "org_unit": n.org_unit.name_zh, "certificate_no": a.certificate_no,
    }


def awards_for(
    *, user_id: int | None = None, org_unit_code: str | None = None, organisation: str | None = None
) -> list[dict[str, Any]]:
    """Honours (not revoked) of a person by user account, of a unit (awards to nominees in the unit
    or below), or of an organisation (individuals working there and the collective itself), newest
    first. With no argument, nothing."""
    if user_id is None and not org_unit_code and not organisation:
        return []
    q = Q()
    if user_id is not None:
        q &= Q(nomination__nominee_user_id=user_id)
    if org_unit_code:
        unit = OrgUnit.objects.filter(code=org_unit_code).first()
        if unit is None:
            return []
        q &= Q(nomination__org_unit__path__startswith=unit.path)
    if organisation:
        name = organisation.strip()
        q &= Q(nomination__organisation=name) | Q(nomination__collective_name=name)
    return [award_row(a) for a in awards_public().filter(q)]
