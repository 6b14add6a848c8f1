"""The talent pool and volunteer service in the API (/api/community/...), with the pages' rules:
office admins and district officers within their units; a volunteer sees their own records; nobody
approves their own submission. Phone and ID numbers are always masked here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kepu.community import selectors
from kepu.community import volunteers as vsvc
from kepu.community.models import Expert, ServiceRecord, Volunteer
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor

router = Router(tags=["community"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


# Search text goes into SQL; PostgreSQL refuses text with NUL bytes (a 500 otherwise).
NO_NUL = r"^[^\x00]*$"


class CommunityPage(Schema):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0
    q: Annotated[str, Field(max_length=100, pattern=NO_NUL)] = ""


class ExpertQuery(CommunityPage):
    role: Annotated[str, Field(max_length=20, pattern=NO_NUL)] = ""
    field: Annotated[str, Field(max_length=50, pattern=NO_NUL)] = ""


class ExpertOut(Schema):
    id: int
    name: str
    organisation: str
    title: str
    fields: list[str]
    specialities: str
    languages: list[str]
    availability: str
    roles: list[str]
    org_unit: str
    phone_masked: str
    active: bool


class VolunteerOut(Schema):
    id: int
    name: str
    org_unit: str
    team: str | None
    is_info_officer: bool
    phone_masked: str
    id_masked: str
    registered_on: dt.date
    active: bool


class RecordOut(Schema):
    id: int
    volunteer_id: int
    volunteer: str
    org_unit: str
    organiser: str
    content: str
    place: str
    start: dt.datetime
    end: dt.datetime
    hours: float
    training: str
    awards: str
    evaluation: str
    status: Literal["pending", "approved", "rejected", "revoked"]
    reason: str
    submitted_by: str | None
    decided_by: str | None


class RecordIn(Schema):
    volunteer_id: Id
    org_unit: Annotated[str, Field(max_length=32, examples=["320412"])]
    organiser: Annotated[str, Field(max_length=200)]
    content: Annotated[str, Field(max_length=300)]
    place: Annotated[str, Field(max_length=200)]
    start: dt.datetime
    end: dt.datetime
    hours: Annotated[float | None, Field(gt=0, le=24)] = None
    training: Annotated[str, Field(max_length=300)] = ""
    awards: Annotated[str, Field(max_length=300)] = ""
    evaluation: Literal["", "excellent", "good", "fair", "poor"] = ""


class HoursDecisionIn(Schema):
    ids: Annotated[list[Id], Field(min_length=1, max_length=500)]
    reason: Annotated[str, Field(max_length=300)] = ""


class Count(Schema):
    count: int


def _expert(e: Expert) -> dict[str, Any]:
    return {"id": e.pk, "name": e.name, "organisation": e.organisation, "title": e.title, "fields": e.fields,
            "specialities": e.specialities, "languages": e.languages, "availability": e.availability,
            "roles": e.roles, "org_unit": e.org_unit.code, "phone_masked": e.phone_masked, "active": e.active}


def _volunteer(v: Volunteer) -> dict[str, Any]:
    return {"id": v.pk, "name": v.name, "org_unit": v.org_unit.code, "team": v.team.name if v.team else None,
            "is_info_officer": v.is_info_officer, "phone_masked": v.phone_masked, "id_masked": v.id_masked,
            "registered_on": v.registered_on, "active": v.active}


def _record(r: ServiceRecord) -> dict[str, Any]:
    return {"id": r.pk, "volunteer_id": r.volunteer_id, "volunteer": r.volunteer.name, "org_unit": r.org_unit.code,
            "organiser": r.organiser, "content": r.content, "place": r.place, "start": r.start, "end": r.end,
            "hours": float(r.hours), "training": r.training, "awards": r.awards, "evaluation": r.evaluation,
            "status": r.status, "reason": r.reason,
            "submitted_by": r.submitted_by.username if r.submitted_by else None,
            "decided_by": r.decided_by.username if r.decided_by else None}


def _manager(request: HttpRequest) -> Any:
    user = actor(request)
    if not vsvc.manages_any(user):
        raise PermissionDenied("Only office admins and district officers manage the talent pool and volunteers.")
    return user


@router.get("/community/experts", response=list[ExpertOut], summary="Search the talent pool in your scope")
def expert_list(request: HttpRequest, query: Query[ExpertQuery]) -> list[dict[str, Any]]:
    """`q` matches name, organisation, title, fields and specialities (Chinese); `role`, `field` filter."""
    found = selectors.expert_search(selectors.experts_visible(_manager(request)), text=query.q, role=query.role,
                                    field=query.field)
    return [_expert(e) for e in found[query.offset:query.offset + query.limit]]


@router.get("/community/volunteers", response=list[VolunteerOut], summary="Volunteers in your scope (or yourself)")
def volunteer_list(request: HttpRequest, query: Query[CommunityPage]) -> list[dict[str, Any]]:
    qs = vsvc.volunteer_search(vsvc.volunteers_visible(actor(request)), query.q)
    return [_volunteer(v) for v in qs[query.offset:query.offset + query.limit]]


@router.get("/community/records", response=list[RecordOut], summary="Service records in your scope (or your own)")
def record_list(request: HttpRequest, query: Query[CommunityPage],
                status: Literal["", "pending", "approved", "rejected", "revoked"] = "") -> list[dict[str, Any]]:
    qs = vsvc.records_visible(actor(request))
    if status:
        qs = qs.filter(status=status)
    return [_record(r) for r in qs[query.offset:query.offset + query.limit]]


@router.post("/community/records", response={201: RecordOut}, summary="Record a service (pending)")
def record_create(request: HttpRequest, body: RecordIn) -> Status:
    user = actor(request)
    volunteer = vsvc.volunteers_visible(user).filter(pk=body.volunteer_id).first()
    if volunteer is None:
        raise Http404(f"No volunteer {body.volunteer_id} in your scope.")
    unit = OrgUnit.objects.filter(code=body.org_unit).first()
    if unit is None:
        raise InputError(f"org_unit: no unit {body.org_unit!r}")
    r = vsvc.record_create(actor=user, volunteer=volunteer, org_unit=unit, organiser=body.organiser,
                           content=body.content, place=body.place, start=body.start, end=body.end,
                           hours=body.hours, training=body.training, awards=body.awards, evaluation=body.evaluation)
    return Status(201, _record(r))


def _records(user: Any, ids: list[int]) -> list[ServiceRecord]:
    found = list(vsvc.records_visible(user).filter(vsvc.Q_managed(user), pk__in=ids))
    if len(found) != len(set(ids)):
        missing = sorted(set(ids) - {r.pk for r in found})
        raise Http404(f"No service records {missing} in your scope.")
    return found


@router.post("/community/records/approve", response=Count, summary="Approve pending records (all or nothing)")
def records_approve(request: HttpRequest, body: HoursDecisionIn) -> dict[str, int]:
    user = _manager(request)
    return {"count": vsvc.records_approve(actor=user, records=_records(user, body.ids), comment=body.reason)}


@router.post("/community/records/reject", response=Count, summary="Reject pending records with a reason")
def records_reject(request: HttpRequest, body: HoursDecisionIn) -> dict[str, int]:
    user = _manager(request)
    return {"count": vsvc.records_reject(actor=user, records=_records(user, body.ids), reason=body.reason)}


@router.post("/community/records/revoke", response=Count, summary="Revoke approved records with a reason")
def records_revoke(request: HttpRequest, body: HoursDecisionIn) -> dict[str, int]:
    user = _manager(request)
    return {"count": vsvc.records_revoke(actor=user, records=_records(user, body.ids), reason=body.reason)}
