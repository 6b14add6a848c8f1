"""Reads for the facilities pages, API and exports, with the user's scope applied here only:
office and district officers see the records of their subtree; a talent-pool expert sees only the
applications assigned to them; the public sees venues marked open to the public."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from kepu.core.models import OrgUnit, Role
from kepu.core.scope import READ_ROLES, scope_for
from kepu.facilities.models import Application, Base, Booking, ReviewAssignment, RubricCriterion, Venue, VisitSlot

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)
PASS_SHARE = 0.6  # the pass mark: 60% of the rubric's total points (mean over the experts)

AnyUser = User | AnonymousUser


def rubric() -> list[RubricCriterion]:
    return list(RubricCriterion.objects.filter(active=True))


def rubric_max_total() -> int:
    return sum(c.max_points for c in rubric()) or 100


def application_mean_score(app: Application) -> float | None:
    totals = [r.total for r in app.reviews.all() if r.submitted_at is not None and r.total is not None]
    return sum(totals) / len(totals) if totals else None


def can_manage_any(user: AnyUser) -> bool:
    s = scope_for(user)
    return s.superuser or any(s.paths.get(r) for r in MANAGE_ROLES)


def is_office(user: AnyUser) -> bool:
    s = scope_for(user)
    return s.superuser or bool(s.paths.get(Role.OFFICE_ADMIN))


def bases_visible(user: AnyUser) -> QuerySet[Base]:
    """Bases in the user's read scope (office: the city; a district officer or viewer: their district)."""
    s = scope_for(user)
    return Base.objects.filter(s.unit_filter("org_unit__", READ_ROLES)).select_related("org_unit", "district")


def base_manageable(user: AnyUser, base: Base) -> bool:
    return scope_for(user).covers(base.org_unit, (Role.OFFICE_ADMIN,))


def applications_visible(user: AnyUser) -> QuerySet[Application]:
    """Managers see their subtree's applications; an expert only those assigned to them."""
    if not user.is_authenticated:
        return Application.objects.none()
    s = scope_for(user)
    q = s.unit_filter("org_unit__", MANAGE_ROLES) | Q(reviews__reviewer=user)
    return (Application.objects.filter(q).distinct()
            .select_related("org_unit", "district", "submitted_by", "base")
            .prefetch_related("reviews__reviewer"))


def assignment_for(user: AnyUser, app: Application) -> ReviewAssignment | None:
    if not user.is_authenticated:
        return None
    return app.reviews.filter(reviewer=user).first()


def venues_manageable(user: AnyUser) -> QuerySet[Venue]:
    s = scope_for(user)
    return Venue.objects.filter(s.unit_filter("org_unit__", MANAGE_ROLES)).select_related("org_unit", "district")


def venues_public() -> QuerySet[Venue]:
    return Venue.objects.filter(public=True).select_related("org_unit", "district")


def open_slots(venue: Venue) -> list[dict[str, Any]]:
    """Future slots with the places left (pending and confirmed bookings hold places)."""
    out = []
    for slot in venue.slots.filter(starts_at__gt=timezone.now()).prefetch_related("bookings")[:50]:
        booked = sum(b.class_size for b in slot.bookings.all()
                     if b.status in (Booking.Status.PENDING, Booking.Status.CONFIRMED))
        out.append({"slot": slot, "left": max(slot.capacity - booked, 0)})
    return out


def bookings_for(user: AnyUser, venue: Venue) -> QuerySet[Booking]:
    return (Booking.objects.filter(slot__venue=venue, slot__venue__in=venues_manageable(user))
            .select_related("slot"))


def slot_public(slot_id: int) -> VisitSlot | None:
    return VisitSlot.objects.filter(pk=slot_id, venue__public=True).select_related("venue").first()


# -- map: coverage per town against the four-level infrastructure --------------------------------


@dataclass
class TownCoverage:
    unit: OrgUnit
    bases: int = 0
    venues: int = 0


@dataclass
class DistrictCoverage:
    unit: OrgUnit
    towns: list[TownCoverage] = field(default_factory=list)
    district_level_bases: int = 0  # bases registered at the district itself, not a town
    district_level_venues: int = 0
    elderly_university: bool = False

    @property
    def towns_covered(self) -> int:
        return sum(1 for t in self.towns if t.bases or t.venues)


def coverage(city: OrgUnit, day: dt.date | None = None) -> list[DistrictCoverage]:
    """Per district, each town/street with the bases in force and public venues registered in it
    (a base at a village counts for its town). No geography: the map is a schematic of the tree."""
    day = day or timezone.localdate()
    districts = OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT).order_by("sort", "code")
    towns = (OrgUnit.objects.filter(parent__in=districts, level=OrgUnit.Level.TOWN)
             .select_related("parent").order_by("sort", "code"))
    by_code = {d.code: DistrictCoverage(unit=d) for d in districts}
    town_rows: dict[str, TownCoverage] = {}
    for t in towns:
        if t.valid_to is not None and t.valid_to < day:
            continue
        row = TownCoverage(unit=t)
        town_rows[t.path] = row
        if t.parent is not None and t.parent.code in by_code:
            by_code[t.parent.code].towns.append(row)

    def town_of(unit: OrgUnit) -> TownCoverage | None:
        for path, row in town_rows.items():
            if unit.path.startswith(path):
                return row
        return None

    for b in Base.objects.filter(district__parent=city).select_related("org_unit", "district"):
        if not b.in_force_on(day):
            continue
        d = by_code.get(b.district.code)
        if d is None:
            continue
        if b.kind == "elderly":
            d.elderly_university = True
        tb = town_of(b.org_unit)
        if tb is not None:
            tb.bases += 1
        else:
            d.district_level_bases += 1
    for v in Venue.objects.filter(district__parent=city, public=True).select_related("org_unit", "district"):
        d = by_code.get(v.district.code)
        if d is None:
            continue
        tv = town_of(v.org_unit)
        if tv is not None:
            tv.venues += 1
        else:
            d.district_level_venues += 1
    return list(by_code.values())
