"""Events API (/api/events/...): list events, register (a citizen themself, or a walk-in by the
organiser), check in (idempotent by the client's id: a replay answers 200 with the existing
check-in), certify training attendees, and a citizen's own registrations. Same rules as the pages:
the services enforce scope."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from kepu.core.errors import InputError
from kepu.core.scope import actor
from kepu.events import selectors, services
from kepu.events.models import Event, Registration

router = Router(tags=["events"])

# The 五进 settings (Event.Setting); "" on output when the organiser recorded none.
Setting = Literal["enterprise", "village", "community", "school", "family"]


class ScienceEventOut(Schema):
    id: int
    title: str
    kind: str
    training_kind: str
    series: str | None
    organiser: str
    org_unit: str
    district: str
    venue: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    key_groups: list[str]
    setting: Setting | Literal[""] = Field(
        description="The 五进 setting (enterprise, village, community, school, family); empty when not recorded."
    )
    task: str | None = Field(description="The linked plan task's code.")
    status: str
    registered: int
    checked_in: int


class ScienceEventList(Schema):
    count: int
    items: list[ScienceEventOut]


class EventFilter(Schema):
    year: int | None = Field(None, ge=2000, le=2100)
    district: str | None = Field(None, max_length=32)
    setting: Setting | None = Field(None, description="Only events recorded with this 五进 setting.")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


def _event_out(e: Event) -> ScienceEventOut:
    return ScienceEventOut(
        id=e.pk,
        title=e.title,
        kind=e.kind,
        training_kind=e.training_kind,
        series=e.series.code if e.series else None,
        organiser=e.organiser,
        org_unit=e.org_unit.code,
        district=e.district.code,
        venue=e.venue,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        capacity=e.capacity,
        key_groups=list(e.key_groups),
        setting=e.setting,  # type: ignore[arg-type]  # one of Event.Setting or ""
        task=e.task.code if e.task else None,
        status=e.status,
        registered=getattr(e, "n_registered", 0),
        checked_in=getattr(e, "n_checked", 0),
    )


@router.get("/events/events", response=ScienceEventList)
def event_list(request: HttpRequest, filters: Query[EventFilter]) -> ScienceEventList:
    """Events the caller's scope covers (staff), newest first."""
    qs = selectors.events_for(request.user, year=filters.year, district=filters.district)
    if filters.setting is not None:
        qs = qs.filter(setting=filters.setting)
    return ScienceEventList(
        count=qs.count(), items=[_event_out(e) for e in qs[filters.offset : filters.offset + filters.limit]]
    )


class RegistrationIn(Schema):
    name: str = Field("", max_length=60, description="Walk-ins: the person's name (organiser only).")
    phone: str = Field("", max_length=30, description="Walk-ins: the phone number (organiser only).")
    key_group: str = Field("", max_length=10)


class RegistrationOut(Schema):
    id: int
    event: int
    code: str
    name: str
    phone: str = Field(description="Masked.")
    key_group: str
    walk_in: bool
    checked_in_at: dt.datetime | None
    certified: bool


def _reg_out(r: Registration) -> RegistrationOut:
    checkin = getattr(r, "checkin", None) if hasattr(r, "checkin") else None
    return RegistrationOut(
        id=r.pk,
        event=r.event_id,
        code=r.code,
        name=r.name,
        phone=r.phone_masked,
        key_group=r.key_group,
        walk_in=r.walk_in,
        checked_in_at=checkin.at if checkin else None,
        certified=r.certified_at is not None,
    )


@router.post("/events/events/{event_id}/registrations", response={201: RegistrationOut})
def register(request: HttpRequest, event_id: int, payload: RegistrationIn) -> Status:
    """A citizen account registers itself (no name/phone needed); an organiser registers a walk-in
    with name and phone (the same phone twice in an event is refused)."""
    user = actor(request)
    event = Event.objects.select_related("org_unit").filter(pk=event_id).first()
    if event is None:
        raise InputError(f"No event {event_id}.")
    if payload.phone or payload.name:
        reg = services.registration_walk_in(
            actor=user, event=event, name=payload.name, phone=payload.phone, key_group=payload.key_group
        )
    else:
        reg = services.registration_self(user=user, event=event, key_group=payload.key_group)
    return Status(201, _reg_out(reg))


@router.get("/events/events/{event_id}/registrations", response=list[RegistrationOut])
def registrations(request: HttpRequest, event_id: int) -> list[RegistrationOut]:
    """The attendee list (organisers of the event's unit; phones masked)."""
    event = selectors.event_get(request.user, event_id, manage=True)
    return [_reg_out(r) for r in selectors.registrations_of(event)]


class CheckInIn(Schema):
    code: str = Field(min_length=1, max_length=16)
    client_id: str = Field(
        min_length=8,
        max_length=64,
        description="Generated by the client per scan; a replay with the same id returns the stored check-in.",
    )
    at: dt.datetime | None = Field(
        None, description="When it was scanned (default: now). Must be in the event's window, within 30 minutes."
    )
    event: int | None = Field(None, description="If given, the code must belong to this event.")


class CheckInOut(Schema):
    id: int
    registration: int
    code: str
    name: str
    at: dt.datetime
    created: bool
    checked_in: int


@router.post("/events/checkins", response={201: CheckInOut, 200: CheckInOut})
def checkin(request: HttpRequest, payload: CheckInIn) -> Status:
    user = actor(request)
    event = None
    if payload.event is not None:
        event = selectors.event_get(user, payload.event, manage=True)
    at = payload.at
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)
    c, created = services.checkin_record(actor=user, code=payload.code, client_id=payload.client_id, at=at, event=event)
    reg = c.registration
    n = reg.event.registrations.filter(checkin__isnull=False).count()
    return Status(
        201 if created else 200,
        CheckInOut(id=c.pk, registration=reg.pk, code=reg.code, name=reg.name, at=c.at, created=created, checked_in=n),
    )


class TrainingCertifyIn(Schema):
    registrations: list[int] = Field(min_length=1, max_length=2000)
    certified: StrictBool = True


class CertifyOut(Schema):
    changed: int
    certified: int


@router.post("/events/events/{event_id}/certify", response=CertifyOut)
def certify(request: HttpRequest, event_id: int, payload: TrainingCertifyIn) -> CertifyOut:
    """Certify (or with certified=false, decertify) checked-in attendees of a training."""
    user = actor(request)
    event = selectors.event_get(user, event_id, manage=True)
    n = services.registrations_certify(
        actor=user,
        event=event,
        registrations=event.registrations.filter(pk__in=payload.registrations),
        certified=payload.certified,
    )
    return CertifyOut(changed=n, certified=event.registrations.filter(certified_at__isnull=False).count())


@router.get("/events/my/registrations", response=list[RegistrationOut])
def my_registrations(request: HttpRequest) -> list[RegistrationOut]:
    """The caller's own registrations (citizen accounts)."""
    return [_reg_out(r) for r in selectors.my_registrations(request.user)]
