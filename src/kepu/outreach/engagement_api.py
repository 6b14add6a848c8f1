"""Engagement API: citizens' pages post their events here (static JS, kepu/outreach/static/outreach/
engagement.js), and staff read reach by district, key group, topic and month, scoped like the
reach page. Who an event is stored under, and why, is in kepu.outreach.engagement."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth

from kepu.citizens.selectors import citizen_of
from kepu.core import ratelimit
from kepu.core.api_types import IsoDay
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.scope import scope_for
from kepu.outreach import engagement
from kepu.outreach.models import Resource

router = Router(tags=["outreach"])

MAX_EVENT_BODY = 1024  # bytes; an event is a few short fields
PROBLEM_REF = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
TOO_MANY = {"429": {"description": "Too many events from this client; try again in a minute.", "content": PROBLEM_REF}}


class EventAuth(SessionAuth):
    """A logged-in session, with its CSRF token as any session write. Refuses an oversized body
    before ninja reads it. Visitors without an account post nothing here (401, as every endpoint
    answers without credentials): their searches are recorded by the search page itself, under the
    day's pseudonym, and their reading is not recorded at all."""

    def __call__(self, request: HttpRequest) -> Any:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_EVENT_BODY:
            raise RequestDataTooBig("event body too large")
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


class EventIn(Schema):
    kind: Literal["view", "complete", "like", "share", "search"]
    resource: str | None = Field(None, min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$",
                                 description="The resource's code (for every kind but search).")
    query: str = Field("", max_length=200, description="The search terms (kind search).")


class EventOut(Schema):
    recorded: bool
    duplicate: bool = False


@router.post("/outreach/events", response={201: EventOut, 200: EventOut}, auth=EventAuth(),
             openapi_extra={"responses": TOO_MANY})
def event_post(request: HttpRequest, payload: EventIn) -> Status:
    """Record one engagement event of the logged-in citizen. A repeat of the same event within 30
    seconds is the same event (200, duplicate). Staff accounts record nothing."""
    client = ratelimit.client_key(request)
    if not ratelimit.hit("outreach-events", client, limit=engagement.events_per_minute(), window=60):
        raise HttpError(429, "Too many events from this client; try again in a minute.")
    resource = None
    if payload.kind == "search":
        if not payload.query.strip():
            raise InputError("query: a search event needs the search terms.")
    else:
        if not payload.resource:
            raise InputError("resource: this event needs the resource code.")
        resource = Resource.objects.filter(code=payload.resource, status=Resource.Status.PUBLISHED).first()
        if resource is None:
            raise Http404(f"No published resource {payload.resource!r}.")
    citizen = citizen_of(request.user)
    if citizen is None:
        return Status(200, {"recorded": False})
    before = timezone.now()
    row = engagement.record(citizen, payload.kind, resource=resource, query=payload.query)
    if row is None:
        return Status(200, {"recorded": False})
    duplicate = row.at < before
    return Status(200 if duplicate else 201, {"recorded": True, "duplicate": duplicate})


class ReachRow(Schema):
    key: str
    label: str
    citizens: int


class ReachOut(Schema):
    by: str
    start: dt.date
    end: dt.date
    count: int
    items: list[ReachRow]


class ReachQuery(Schema):
    by: Literal["district", "key_group", "topic", "month"] = "district"
    start: IsoDay | None = Field(None, description="First day, YYYY-MM-DD (default: a year before `end`).")
    end: IsoDay | None = Field(None, description="Last day, YYYY-MM-DD (default: today).")


@router.get("/outreach/reach", response=ReachOut)
def reach_get(request: HttpRequest, filters: Query[ReachQuery]) -> dict[str, Any]:
    """Distinct citizens reached (viewed content or opened a push), for the districts in the user's
    scope: the office and city-level editors and campaign operators see the city, a district's only
    their district."""
    scope = scope_for(request.user)
    if not engagement.can_read(scope):
        raise PermissionDenied("Only the office, content editors and campaign operators see reach.")
    end = filters.end or timezone.localdate()
    start = filters.start or (end - dt.timedelta(days=365))
    if start > end:
        raise InputError("start: the first day must not be after the last.")
    items = engagement.reach(scope=scope, by=filters.by, start=start, end=end)
    return {"by": filters.by, "start": start, "end": end, "count": len(items), "items": items}
