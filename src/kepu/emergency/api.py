"""Emergency API (/api/emergency/...): the published knowledge base and what is pinned for a place
(public), guidance authoring and review, emergency events (declare, end, approve and send the
campaign) and 五进 coverage. The same services as the pages, so the same rules: experts review and
never their own text, published guidance is edited only with a reason, district officers act in
their own district only. Bodies over the server's bound answer 413; text fields are bounded here
and cleaned again in the services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor
from kepu.emergency import coverage as cov
from kepu.emergency import selectors, services
from kepu.emergency.models import BODY_MAX, TITLE_MAX, EmergencyEvent, Guidance
from kepu.plans.schemas import UnitCode

router = Router(tags=["emergency"])

Phase = Literal["prepare", "during", "recover"]
# Codes are looked up in the database: a pattern, not a bare string (PostgreSQL refuses text with NUL).
HazardCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", examples=["flood"])]
Group = Literal["all", "youth", "farmers", "workers", "elderly", "officials"]


class GuidanceOut(Schema):
    id: int
    hazard: str
    key: str
    phase: str
    group: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    status: str
    reviewed_by: str | None


class HazardOut(Schema):
    code: str
    name_zh: str
    name_en: str
    category: str
    keywords: list[str]
    resources: list[str] = Field(description="Codes of linked catalogue content (published).")


class HazardDetail(HazardOut):
    guidance: list[GuidanceOut]


class HazardList(Schema):
    count: int
    items: list[HazardOut]


class GuidanceIn(Schema):
    phase: Phase
    group: Group = "all"
    title_zh: str = Field(max_length=TITLE_MAX * 4)
    body_zh: str = Field(max_length=BODY_MAX * 4)
    title_en: str = Field("", max_length=TITLE_MAX * 4)
    body_en: str = Field("", max_length=BODY_MAX * 12)
    reason: str = Field("", max_length=300, description="Required when editing published guidance.")


class GuidanceReviewIn(Schema):
    comment: str = Field("", max_length=300)


class EmergencyIn(Schema):
    hazard: HazardCode
    affected: list[UnitCode] = Field(min_length=1, max_length=100, description="Org-unit codes (districts or towns).")
    starts_at: dt.datetime | None = None
    planned_end: dt.datetime
    note: str = Field("", max_length=services.NOTE_MAX * 4)


class EndIn(Schema):
    note: str = Field("", max_length=services.NOTE_MAX * 4)


class EmergencyOut(Schema):
    id: int
    hazard: str
    org_unit: str
    affected: list[str]
    starts_at: dt.datetime
    planned_end: dt.datetime
    note: str
    active: bool
    declared_by: str | None
    ended_at: dt.datetime | None
    ended_by: str | None
    campaign_id: int | None
    campaign_note: str


class EmergencyList(Schema):
    count: int
    items: list[EmergencyOut]


class PinnedOut(Schema):
    event: int
    hazard: str
    hazard_name: str
    note: str
    guidance: list[GuidanceOut]


class CoverageRow(Schema):
    district: str
    name: str
    events: dict[str, int]
    campaigns: dict[str, int]
    covered: int


def _guidance_out(g: Guidance) -> GuidanceOut:
    return GuidanceOut(id=g.pk, hazard=g.hazard.code, key=g.key, phase=g.phase, group=g.group, title_zh=g.title_zh,
                       body_zh=g.body_zh, title_en=g.title_en, body_en=g.body_en, status=g.status,
                       reviewed_by=g.reviewed_by.get_username() if g.reviewed_by else None)


def _hazard_out(h: object, cls: type[HazardOut] = HazardOut, **extra: object) -> HazardOut:
    from kepu.emergency.models import Hazard

    assert isinstance(h, Hazard)
    return cls(code=h.code, name_zh=h.name_zh, name_en=h.name_en, category=h.category, keywords=list(h.keywords),
               resources=[r.code for r in selectors.hazard_resources(h)], **extra)


def _event_out(e: EmergencyEvent) -> EmergencyOut:
    return EmergencyOut(
        id=e.pk, hazard=e.hazard.code, org_unit=e.org_unit.code, affected=sorted(u.code for u in e.affected.all()),
        starts_at=e.starts_at, planned_end=e.planned_end, note=e.note, active=e.active,
        declared_by=e.declared_by.get_username() if e.declared_by else None, ended_at=e.ended_at,
        ended_by=e.ended_by.get_username() if e.ended_by else None, campaign_id=e.campaign_id,
        campaign_note=e.campaign_note)


def _input(body: GuidanceIn) -> services.GuidanceInput:
    return services.GuidanceInput(phase=body.phase, group=body.group, title_zh=body.title_zh, body_zh=body.body_zh,
                                  title_en=body.title_en, body_en=body.body_en)


# --- public knowledge ------------------------------------------------------------------------------


@router.get("/emergency/hazards", response=HazardList, auth=None)
def hazard_list(request: HttpRequest) -> HazardList:
    """Hazards with published guidance (public)."""
    items = [_hazard_out(h) for h in selectors.hazards_published()]
    return HazardList(count=len(items), items=items)


@router.get("/emergency/hazards/{code}", response=HazardDetail, auth=None)
def hazard_detail(request: HttpRequest, code: HazardCode) -> HazardOut:
    """A hazard and its published guidance (public)."""
    h = selectors.hazard_get(code)
    return _hazard_out(h, HazardDetail, guidance=[_guidance_out(g) for g in selectors.guidance_for(h)])


@router.get("/emergency/pinned", response=list[PinnedOut], auth=None)
def pinned(request: HttpRequest, unit: UnitCode) -> list[PinnedOut]:
    """What is pinned for citizens and screens in an org unit during active emergencies (public)."""
    place = OrgUnit.objects.filter(code=unit).first()
    if place is None:
        raise Http404(f"No org unit {unit}.")
    return [PinnedOut(event=p.event.pk, hazard=p.hazard.code, hazard_name=p.hazard.name_zh, note=p.event.note,
                      guidance=[_guidance_out(g) for g in p.guidance]) for p in selectors.pinned_for_unit(place)]


# --- authoring and review --------------------------------------------------------------------------


@router.get("/emergency/guidance", response=list[GuidanceOut])
def guidance_queue(request: HttpRequest) -> list[GuidanceOut]:
    """Drafts and reviewed guidance waiting (never the caller's own drafts); staff only."""
    user = actor(request)
    if not (services.can_author(user) or services.can_review(user)):
        raise PermissionDenied("Only editors, office admins, reviewers and experts see unpublished guidance.")
    return [_guidance_out(g) for g in selectors.review_queue(user)[:500]]


@router.post("/emergency/hazards/{code}/guidance", response={201: GuidanceOut})
def guidance_create(request: HttpRequest, code: HazardCode, body: GuidanceIn) -> Status:
    g = services.guidance_create(actor=actor(request), hazard=selectors.hazard_get(code), data=_input(body))
    return Status(201, _guidance_out(g))


@router.put("/emergency/guidance/{guidance_id}", response=GuidanceOut)
def guidance_update(request: HttpRequest, guidance_id: int, body: GuidanceIn) -> GuidanceOut:
    g = services.guidance_update(actor=actor(request), guidance=selectors.guidance_get(guidance_id),
                                 data=_input(body), reason=body.reason)
    return _guidance_out(g)


@router.post("/emergency/guidance/{guidance_id}/review", response=GuidanceOut)
def guidance_review(request: HttpRequest, guidance_id: int, body: GuidanceReviewIn) -> GuidanceOut:
    g = services.guidance_review(actor=actor(request), guidance=selectors.guidance_get(guidance_id),
                                 comment=body.comment)
    return _guidance_out(g)


@router.post("/emergency/guidance/{guidance_id}/publish", response=GuidanceOut)
def guidance_publish(request: HttpRequest, guidance_id: int) -> GuidanceOut:
    return _guidance_out(services.guidance_publish(actor=actor(request),
                                                   guidance=selectors.guidance_get(guidance_id)))


# --- emergency events ------------------------------------------------------------------------------


@router.get("/emergency/events", response=EmergencyList)
def event_list(request: HttpRequest, active: bool | None = None) -> EmergencyList:
    """Emergency events the caller's scope covers (owning or affected unit), newest first."""
    qs = selectors.events_visible(actor(request))
    if active is not None:
        qs = qs.filter(ended_at__isnull=active)
    items = [_event_out(e) for e in qs[:500]]
    return EmergencyList(count=len(items), items=items)


@router.get("/emergency/events/{event_id}", response=EmergencyOut)
def event_detail(request: HttpRequest, event_id: int) -> EmergencyOut:
    return _event_out(selectors.event_get(actor(request), event_id))


@router.post("/emergency/events", response={201: EmergencyOut})
def event_declare(request: HttpRequest, body: EmergencyIn) -> Status:
    """Declare emergency mode for districts or towns (office admin: the city; district officer: own district)."""
    hazard = selectors.hazards().filter(code=body.hazard).first()
    units = list(OrgUnit.objects.filter(code__in=body.affected))
    missing = sorted(set(body.affected) - {u.code for u in units})
    if missing:
        raise InputError(f"affected: unknown org-unit codes {', '.join(missing)}")
    event = services.event_declare(actor=actor(request), hazard=hazard, affected=units,
                                   starts_at=body.starts_at or timezone.now(), planned_end=body.planned_end,
                                   note=body.note)
    return Status(201, _event_out(event))


@router.post("/emergency/events/{event_id}/end", response=EmergencyOut)
def event_end(request: HttpRequest, event_id: int, body: EndIn) -> EmergencyOut:
    user = actor(request)
    return _event_out(services.event_end(actor=user, event=selectors.event_get(user, event_id), note=body.note))


@router.post("/emergency/events/{event_id}/campaign/prepare", response=EmergencyOut)
def campaign_prepare(request: HttpRequest, event_id: int) -> EmergencyOut:
    user = actor(request)
    return _event_out(services.event_campaign_prepare(actor=user, event=selectors.event_get(user, event_id)))


@router.post("/emergency/events/{event_id}/campaign/send", response=EmergencyOut)
def campaign_send(request: HttpRequest, event_id: int) -> EmergencyOut:
    """Approve (not the campaign's author) and start the event's push campaign."""
    user = actor(request)
    event = selectors.event_get(user, event_id)
    services.event_campaign_send(actor=user, event=event)
    return _event_out(event)


@router.get("/emergency/coverage", response=list[CoverageRow])
def coverage(request: HttpRequest, year: int = Query(..., ge=2021, le=2100)) -> list[CoverageRow]:
    """五进: events and campaigns per setting, per district the caller may see."""
    rows = cov.coverage(actor(request), year=year)
    return [CoverageRow(district=r.district.code, name=r.district.name_zh, events=r.events, campaigns=r.campaigns,
                        covered=r.covered) for r in rows]
