"""The facilities API (/api/facilities/…), with the pages' rules: office and district officers see
their subtree, experts only the applications assigned to them; writes go through the same services
(scope, conflicts of interest, pass mark, expiry, capacity)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field, StrictBool

from kepu.core.errors import InputError
from kepu.core.scope import actor
from kepu.facilities import selectors as sel
from kepu.facilities import services as svc
from kepu.facilities.models import Application, Base, Venue

router = Router(tags=["facilities"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class FacilitiesPage(Schema):
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class BaseOut(Schema):
    id: int
    name: str
    kind: Literal["general", "stem", "school", "elderly"]
    level: Literal["municipal", "provincial", "national"]
    organisation: str
    org_unit: str = Field(description="org-unit code (district or town)")
    district: str
    first_certified_on: dt.date
    valid_from: dt.date
    valid_until: dt.date
    revoked_on: dt.date | None
    state: Literal["active", "expired", "revoked"]


class BasePage(Schema):
    count: int
    items: list[BaseOut]


class BaseReviewOut(Schema):
    reviewer: str
    total: float | None
    submitted: bool


class BaseApplicationOut(Schema):
    id: int
    name: str
    kind: str
    level: str
    organisation: str
    org_unit: str
    district: str
    status: Literal["submitted", "reviewing", "certified", "rejected"]
    mean_score: float | None
    reviews: list[BaseReviewOut]
    base_id: int | None


class ApplicationPage(Schema):
    count: int
    items: list[BaseApplicationOut]


class BaseApplicationIn(Schema):
    name: str = Field(max_length=200)
    kind: Literal["general", "stem", "school", "elderly"]
    level: Literal["municipal", "provincial", "national"] = "municipal"
    organisation: str = Field(max_length=200)
    org_unit: str = Field(max_length=32, description="org-unit code of the district or town")
    description: str = Field(max_length=5000)
    evidence: str = Field("", max_length=5000)
    base_id: int | None = Field(None, ge=1, le=2**63 - 1, description="an expired or revoked base applied for again")


class BaseAssignIn(Schema):
    reviewer: str = Field(max_length=150, description="the expert's username")


class BaseScoreIn(Schema):
    scores: dict[str, float]
    comment: str = Field("", max_length=2000)


class BaseCertifyIn(Schema):
    level: Literal["municipal", "provincial", "national"] | None = None
    valid_until: dt.date | None = None


class RejectIn(Schema):
    note: str = Field(max_length=2000)


class AnnualReviewIn(Schema):
    year: Annotated[int, Field(ge=2000, le=2100)]
    result: Literal["pass", "improve", "fail"]
    comment: str = Field("", max_length=2000)


class RenewIn(Schema):
    valid_until: dt.date


class RevokeIn(Schema):
    reason: str = Field(max_length=2000)


class VenueOut(Schema):
    id: int
    name: str
    kind: str
    organisation: str
    org_unit: str
    district: str
    opening_hours: str
    open_days: list[int]
    public: bool
    visitors_by_month: dict[str, int]


class VenuePage(Schema):
    count: int
    items: list[VenueOut]


class VisitsIn(Schema):
    year: Annotated[int, Field(ge=2000, le=2100)]
    month: Annotated[int, Field(ge=1, le=12)]
    visitors: Annotated[int, Field(ge=0, le=10_000_000)]


class BookingOut(Schema):
    id: int
    venue_id: int
    starts_at: dt.datetime
    school: str
    class_size: int
    contact_name: str
    phone: str = Field(description="masked")
    status: Literal["pending", "confirmed", "declined"]


class DecideIn(Schema):
    confirm: StrictBool


def _base_out(b: Base) -> dict[str, Any]:
    return {
        "id": b.pk, "name": b.name, "kind": b.kind, "level": b.level, "organisation": b.organisation,
        "org_unit": b.org_unit.code, "district": b.district.code, "first_certified_on": b.first_certified_on,
        "valid_from": b.valid_from, "valid_until": b.valid_until, "revoked_on": b.revoked_on,
        "state": b.state_on(timezone.localdate()),
    }


def _app_out(a: Application, user: Any) -> dict[str, Any]:
    reviews = list(a.reviews.all())
    if not sel.scope_for(user).covers(a.org_unit, sel.MANAGE_ROLES):
        reviews = [r for r in reviews if r.reviewer_id == user.pk]
    return {
        "id": a.pk, "name": a.name, "kind": a.kind, "level": a.level, "organisation": a.organisation,
        "org_unit": a.org_unit.code, "district": a.district.code, "status": a.status,
        "mean_score": sel.application_mean_score(a), "base_id": a.base_id,
        "reviews": [{"reviewer": r.reviewer.username, "total": r.total, "submitted": r.submitted_at is not None}
                    for r in reviews],
    }


def _venue_out(v: Venue) -> dict[str, Any]:
    return {
        "id": v.pk, "name": v.name, "kind": v.kind, "organisation": v.organisation, "org_unit": v.org_unit.code,
        "district": v.district.code, "opening_hours": v.opening_hours, "open_days": list(v.open_days or []),
        "public": v.public,
        "visitors_by_month": {f"{c.year}-{c.month:02d}": c.visitors for c in v.visit_counts.all()},
    }


def _base(user: Any, pk: int) -> Base:
    b = sel.bases_visible(user).filter(pk=pk).first()
    if b is None:
        raise Http404("No such base, or it is outside your scope.")
    return b


def _app(user: Any, pk: int) -> Application:
    a = sel.applications_visible(user).filter(pk=pk).first()
    if a is None:
        raise Http404("No such application, or it is not yours to see.")
    return a


def _venue(user: Any, pk: int) -> Venue:
    v = sel.venues_manageable(user).filter(pk=pk).first()
    if v is None:
        raise Http404("No such venue, or it is outside your scope.")
    return v


@router.get("/facilities/bases", response=BasePage, summary="Certified bases in your scope")
def bases(request: HttpRequest, page: Query[FacilitiesPage],
          state: Literal["active", "expired", "revoked"] | None = None, kind: str | None = None) -> dict[str, Any]:
    user = actor(request)
    qs = sel.bases_visible(user)
    if kind:
        qs = qs.filter(kind=kind)
    rows = [_base_out(b) for b in qs]
    if state:
        rows = [r for r in rows if r["state"] == state]
    return {"count": len(rows), "items": rows[page.offset:page.offset + page.limit]}


@router.get("/facilities/bases/{base_id}", response=BaseOut)
def base_get(request: HttpRequest, base_id: Id) -> dict[str, Any]:
    return _base_out(_base(actor(request), base_id))


@router.post("/facilities/bases/{base_id}/annual-review", response=BaseOut)
def base_annual_review(request: HttpRequest, base_id: Id, body: AnnualReviewIn) -> dict[str, Any]:
    user = actor(request)
    base = _base(user, base_id)
    svc.base_annual_review(actor=user, base=base, year=body.year, result=body.result, comment=body.comment)
    return _base_out(Base.objects.get(pk=base.pk))


@router.post("/facilities/bases/{base_id}/renew", response=BaseOut)
def base_renew(request: HttpRequest, base_id: Id, body: RenewIn) -> dict[str, Any]:
    user = actor(request)
    return _base_out(svc.base_renew(actor=user, base=_base(user, base_id), valid_until=body.valid_until))


@router.post("/facilities/bases/{base_id}/revoke", response=BaseOut)
def base_revoke(request: HttpRequest, base_id: Id, body: RevokeIn) -> dict[str, Any]:
    user = actor(request)
    return _base_out(svc.base_revoke(actor=user, base=_base(user, base_id), reason=body.reason))


@router.get("/facilities/applications", response=ApplicationPage,
            summary="Applications you manage, or (experts) those assigned to you")
def applications(request: HttpRequest, page: Query[FacilitiesPage]) -> dict[str, Any]:
    user = actor(request)
    qs = sel.applications_visible(user)
    items = [_app_out(a, user) for a in qs[page.offset:page.offset + page.limit]]
    return {"count": qs.count(), "items": items}


@router.post("/facilities/applications", response={201: BaseApplicationOut})
def application_create(request: HttpRequest, body: BaseApplicationIn) -> tuple[int, dict[str, Any]]:
    from kepu.core.models import OrgUnit

    user = actor(request)
    unit = OrgUnit.objects.filter(code=body.org_unit).first()
    if unit is None:
        raise InputError(f"org_unit: no org unit with code {body.org_unit!r}.")
    again = None
    if body.base_id is not None:
        again = _base(user, body.base_id)
    app = svc.application_submit(actor=user, name=body.name, kind=body.kind, level=body.level,
                                 organisation=body.organisation, org_unit=unit, description=body.description,
                                 evidence=body.evidence, base=again)
    return 201, _app_out(app, user)


@router.get("/facilities/applications/{app_id}", response=BaseApplicationOut)
def application_get(request: HttpRequest, app_id: Id) -> dict[str, Any]:
    user = actor(request)
    return _app_out(_app(user, app_id), user)


@router.post("/facilities/applications/{app_id}/reviewers", response=BaseApplicationOut)
def application_assign(request: HttpRequest, app_id: Id, body: BaseAssignIn) -> dict[str, Any]:
    user = actor(request)
    app = _app(user, app_id)
    reviewer = User.objects.filter(username=body.reviewer, is_active=True).first()
    if reviewer is None:
        raise InputError(f"reviewer: no active user {body.reviewer!r}.")
    svc.review_assign(actor=user, application=app, reviewer=reviewer)
    return _app_out(Application.objects.get(pk=app.pk), user)


@router.post("/facilities/applications/{app_id}/score", response=BaseApplicationOut)
def application_score(request: HttpRequest, app_id: Id, body: BaseScoreIn) -> dict[str, Any]:
    user = actor(request)
    app = _app(user, app_id)
    mine = sel.assignment_for(user, app)
    if mine is None:
        raise svc.PermissionDenied("Only an expert assigned to this application may score it.")
    svc.review_submit(actor=user, assignment=mine, scores=body.scores, comment=body.comment)
    return _app_out(Application.objects.get(pk=app.pk), user)


@router.post("/facilities/applications/{app_id}/certify", response=BaseOut)
def application_certify(request: HttpRequest, app_id: Id, body: BaseCertifyIn) -> dict[str, Any]:
    user = actor(request)
    base = svc.application_certify(actor=user, application=_app(user, app_id), level=body.level,
                                   valid_until=body.valid_until)
    return _base_out(base)


@router.post("/facilities/applications/{app_id}/reject", response=BaseApplicationOut)
def application_reject(request: HttpRequest, app_id: Id, body: RejectIn) -> dict[str, Any]:
    user = actor(request)
    return _app_out(svc.application_reject(actor=user, application=_app(user, app_id), note=body.note), user)


@router.get("/facilities/venues", response=VenuePage, summary="Venues you manage")
def venues(request: HttpRequest, page: Query[FacilitiesPage]) -> dict[str, Any]:
    user = actor(request)
    qs = sel.venues_manageable(user).prefetch_related("visit_counts")
    return {"count": qs.count(), "items": [_venue_out(v) for v in qs[page.offset:page.offset + page.limit]]}


@router.post("/facilities/venues/{venue_id}/visits", response=VenueOut)
def venue_visits(request: HttpRequest, venue_id: Id, body: VisitsIn) -> dict[str, Any]:
    user = actor(request)
    venue = _venue(user, venue_id)
    svc.visits_record(actor=user, venue=venue, year=body.year, month=body.month, visitors=body.visitors)
    return _venue_out(venue)


@router.get("/facilities/venues/{venue_id}/bookings", response=list[BookingOut])
def venue_bookings(request: HttpRequest, venue_id: Id) -> list[dict[str, Any]]:
    user = actor(request)
    venue = _venue(user, venue_id)
    return [{"id": b.pk, "venue_id": venue.pk, "starts_at": b.slot.starts_at, "school": b.school,
             "class_size": b.class_size, "contact_name": b.contact_name, "phone": b.phone_masked,
             "status": b.status} for b in sel.bookings_for(user, venue)]


@router.post("/facilities/bookings/{booking_id}/decide", response=BookingOut)
def booking_decide(request: HttpRequest, booking_id: Id, body: DecideIn) -> dict[str, Any]:
    from kepu.facilities.models import Booking

    user = actor(request)
    booking = Booking.objects.filter(pk=booking_id, slot__venue__in=sel.venues_manageable(user)).first()
    if booking is None:
        raise Http404("No such booking, or it is outside your scope.")
    b = svc.booking_decide(actor=user, booking=booking, confirm=body.confirm)
    return {"id": b.pk, "venue_id": b.slot.venue_id, "starts_at": b.slot.starts_at, "school": b.school,
            "class_size": b.class_size, "contact_name": b.contact_name, "phone": b.phone_masked, "status": b.status}
