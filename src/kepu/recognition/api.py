"""Recognition in the API: the public honours roll (no login), and nominations → review → award →
revoke with the pages' rules: a district officer nominates and sees only their district's
nominations; reviews and awards are not one's own; awards and revocations are the office's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool

from kepu.core.models import OrgUnit
from kepu.core.scope import actor
from kepu.recognition import selectors, services
from kepu.recognition.models import Honour, HonourAward, Nomination

router = Router(tags=["recognition"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Year = Annotated[int, Field(ge=2000, le=2100)]


class HonourOut(Schema):
    code: str
    name_zh: str
    name_en: str
    level: str
    awarded_to: str


class AwardOut(Schema):
    id: int
    year: int
    honour: str
    honour_code: str
    level: str
    kind: Literal["individual", "collective"]
    nominee: str
    organisation: str
    org_unit_code: str
    org_unit: str
    certificate_no: str


class AwardQuery(Schema):
    year: Year | None = None
    user_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    org_unit: Annotated[str, Field(max_length=32)] | None = None
    organisation: Annotated[str, Field(max_length=200)] | None = None


class NominationOut(Schema):
    id: int
    honour: str
    year: int
    kind: Literal["individual", "collective"]
    nominee: str
    organisation: str
    org_unit: str
    reason: str
    status: Literal["submitted", "awarded", "declined", "revoked"]
    nominated_by: str | None
    award_id: int | None


class NominationIn(Schema):
    honour: Annotated[str, Field(max_length=40)]
    year: Year
    kind: Literal["individual", "collective"]
    org_unit: Annotated[str, Field(max_length=32)]
    reason: Annotated[str, Field(min_length=1, max_length=5000)]
    person_name: Annotated[str, Field(max_length=100)] = ""
    organisation: Annotated[str, Field(max_length=200)] = ""
    collective_name: Annotated[str, Field(max_length=200)] = ""
    evidence: Annotated[str, Field(max_length=5000)] = ""


class NominationReviewIn(Schema):
    recommend: StrictBool
    score: Annotated[int, Field(ge=0, le=100)] | None = None
    comment: Annotated[str, Field(max_length=5000)] = ""


class ReasonIn(Schema):
    reason: Annotated[str, Field(min_length=1, max_length=300)]


def _nom_out(n: Nomination) -> dict[str, Any]:
    award = HonourAward.objects.filter(nomination=n).first()
    return {"id": n.pk, "honour": n.honour.code, "year": n.year, "kind": n.kind, "nominee": n.nominee,
            "organisation": n.organisation, "org_unit": n.org_unit.code, "reason": n.reason, "status": n.status,
            "nominated_by": n.nominated_by.get_username() if n.nominated_by else None,
            "award_id": award.pk if award else None}


def _nomination(user: User, nomination_id: int) -> Nomination:
    n = selectors.nomination_for(user, nomination_id)
    if n is None:
        raise Http404(f"No nomination {nomination_id} in your scope.")
    return n


@router.get("/recognition/honours", response=list[HonourOut], auth=None, summary="Honours (public)")
def honour_list(request: HttpRequest) -> list[Honour]:
    return list(selectors.honours_active())


class HonourIn(Schema):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    name_zh: Annotated[str, Field(min_length=1, max_length=100)]
    name_en: Annotated[str, Field(max_length=200)] = ""
    level: Literal["national", "province", "city", "district"]
    awarded_to: Literal["individual", "collective", "both"]
    description: Annotated[str, Field(max_length=5000)] = ""
    active: StrictBool = True


@router.post("/recognition/honours", response={201: HonourOut}, summary="Create or update an honour (office)")
def honour_save(request: HttpRequest, body: HonourIn) -> Status:
    user = actor(request)
    city = OrgUnit.objects.filter(level="city").order_by("code").first()
    if city is None:
        raise Http404("No city loaded.")
    h = services.honour_save(actor=user, code=body.code, name_zh=body.name_zh, name_en=body.name_en, level=body.level,
                             awarded_to=body.awarded_to, org_unit=city, description=body.description,
                             active=body.active)
    return Status(201, h)


@router.get("/recognition/awards", response=list[AwardOut], auth=None, summary="Honours roll (public)")
def award_list(request: HttpRequest, q: Query[AwardQuery]) -> list[dict[str, Any]]:
    """Awards in force (revoked ones are left out), optionally of one year, unit or organisation."""
    if q.org_unit or q.organisation or q.user_id:
        rows = selectors.awards_for(user_id=q.user_id, org_unit_code=q.org_unit, organisation=q.organisation)
        return [r for r in rows if q.year is None or r["year"] == q.year]
    return [selectors.award_row(a) for a in selectors.awards_public(year=q.year)[:2000]]


@router.get("/recognition/nominations", response=list[NominationOut], summary="Nominations in your scope")
def nomination_list(request: HttpRequest, year: Year | None = None) -> list[dict[str, Any]]:
    return [_nom_out(n) for n in selectors.nominations_visible(actor(request), year=year)[:2000]]


@router.post("/recognition/nominations", response={201: NominationOut}, summary="Nominate")
def nomination_create(request: HttpRequest, body: NominationIn) -> Status:
    user = actor(request)
    honour = Honour.objects.filter(code=body.honour).first()
    unit = OrgUnit.objects.filter(code=body.org_unit).first()
    if honour is None or unit is None:
        raise Http404("No such honour or org unit.")
    n = services.nomination_create(
        actor=user, honour=honour, year=body.year, kind=body.kind, org_unit=unit, reason=body.reason,
        person_name=body.person_name, organisation=body.organisation, collective_name=body.collective_name,
        evidence=body.evidence)
    return Status(201, _nom_out(n))


@router.post("/recognition/nominations/{nomination_id}/review", response=NominationOut, summary="Review")
def nomination_review(request: HttpRequest, nomination_id: Id, body: NominationReviewIn) -> dict[str, Any]:
    user = actor(request)
    n = _nomination(user, nomination_id)
    services.nomination_review(actor=user, nomination=n, recommend=body.recommend, score=body.score,
                               comment=body.comment)
    return _nom_out(n)


@router.post("/recognition/nominations/{nomination_id}/{step}", response=NominationOut,
             summary="Award or decline (office)")
def nomination_decide(request: HttpRequest, nomination_id: Id, step: Literal["award", "decline"]) -> dict[str, Any]:
    user = actor(request)
    n = _nomination(user, nomination_id)
    if step == "award":
        services.award_decide(actor=user, nomination=n)
    else:
        services.nomination_decline(actor=user, nomination=n)
    n.refresh_from_db()
    return _nom_out(n)


@router.post("/recognition/awards/{award_id}/revoke", response=NominationOut, summary="Revoke an award (office)")
def award_revoke(request: HttpRequest, award_id: Id, body: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    award = HonourAward.objects.filter(pk=award_id).select_related("nomination").first()
    if award is None or selectors.nomination_for(user, award.nomination_id) is None:
        raise Http404(f"No award {award_id} in your scope.")
    services.award_revoke(actor=user, award=award, reason=body.reason)
    award.nomination.refresh_from_db()
    return _nom_out(award.nomination)
