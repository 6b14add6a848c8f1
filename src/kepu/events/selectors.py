"""Reads of the events app, scope applied here once: staff see the events of the units their roles
cover (viewers read, office admins and district officers manage); citizens see open events and only
their own registrations."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.citizens.models import KEY_GROUPS
from kepu.core.errors import PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.events.models import Assignment, CampaignDay, Event, Registration, Series, Visit

MANAGE_ROLES = ("office_admin", "district_reporter")


def events_for(
    user: User | AnonymousUser, *, year: int | None = None, district: str | None = None, manage: bool = False
) -> QuerySet[Event]:
    scope = scope_for(user)
    qs = Event.objects.filter(
        scope.unit_filter("org_unit__", MANAGE_ROLES) if manage else scope.unit_filter("org_unit__")
    )
    if year:
        tz = timezone.get_current_timezone()
        qs = qs.filter(
            starts_at__gte=dt.datetime(year, 1, 1, tzinfo=tz), starts_at__lt=dt.datetime(year + 1, 1, 1, tzinfo=tz)
        )
    if district:
        qs = qs.filter(district__code=district)
    return qs.select_related("series", "org_unit", "district", "task").annotate(
        n_registered=Count("registrations", distinct=True),
        n_checked=Count("registrations__checkin", distinct=True),
    )


def event_get(user: User | AnonymousUser, pk: int, *, manage: bool = False) -> Event:
    """The event if the user's scope covers it (manage: office admin or district officer), else
    PermissionDenied; Http404 when it does not exist."""
    event = Event.objects.select_related("series", "org_unit", "district", "task").filter(pk=pk).first()
    if event is None:
        raise Http404
    roles = MANAGE_ROLES if manage else None
    scope = scope_for(user)
    if not (scope.covers(event.org_unit, roles) if roles else scope.covers(event.org_unit)):
        raise PermissionDenied("not in your scope")
    return event


def can_manage(user: User | AnonymousUser, event: Event) -> bool:
    return scope_for(user).covers(event.org_unit, MANAGE_ROLES)


def registrations_of(event: Event) -> QuerySet[Registration]:
    return event.registrations.select_related("checkin", "citizen_user", "certified_by", "feedback").order_by(
        "created_at", "id"
    )


def attendance_by_group(event: Event) -> list[tuple[str, str, int, int]]:
    """(code, label, registered, checked in) per key group, then the unknown group."""
    regs = Counter(event.registrations.values_list("key_group", flat=True))
    checked = Counter(event.registrations.filter(checkin__isnull=False).values_list("key_group", flat=True))
    rows = [(c, str(label), regs.get(c, 0), checked.get(c, 0)) for c, label in KEY_GROUPS]
    rows.append(("", _("未填写"), regs.get("", 0), checked.get("", 0)))
    return rows


def feedback_summary(event: Event) -> dict[str, Any]:
    agg = event.registrations.filter(feedback__isnull=False).aggregate(n=Count("feedback"), avg=Avg("feedback__rating"))
    comments = list(
        event.registrations.filter(feedback__isnull=False)
        .exclude(feedback__comment="")
        .values_list("feedback__rating", "feedback__comment")[:50]
    )
    return {"n": agg["n"] or 0, "avg": agg["avg"], "comments": comments}


def open_events(*, now: dt.datetime | None = None) -> QuerySet[Event]:
    """Events a citizen can register for: not cancelled and not over."""
    now = now or timezone.now()
    return (
        Event.objects.filter(status=Event.Status.PLANNED, ends_at__gte=now)
        .select_related("org_unit", "district", "series")
        .order_by("starts_at")
        .annotate(n_registered=Count("registrations"))
    )


def my_registrations(user: User | AnonymousUser) -> QuerySet[Registration]:
    if not user.is_authenticated:
        return Registration.objects.none()
    return (
        Registration.objects.filter(citizen_user=user)
        .select_related("event__org_unit", "checkin", "feedback")
        .order_by("-event__starts_at")
    )


def my_registration(user: User | AnonymousUser, code: str) -> Registration:
    reg = my_registrations(user).filter(code=code).first()
    if reg is None:
        raise Http404
    return reg


def series_all() -> QuerySet[Series]:
    return Series.objects.filter(active=True).order_by("code")


def districts(city_code: str = "320400") -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(parent__code=city_code, level=OrgUnit.Level.DISTRICT).order_by("sort", "code")


def units_managed(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    """Units the user may create events in (city, district or town level)."""
    return (
        OrgUnit.objects.filter(scope_for(user).unit_filter("", MANAGE_ROLES))
        .filter(level__in=[OrgUnit.Level.CITY, OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN])
        .order_by("path")
    )


@dataclass
class CampaignRow:
    day: CampaignDay
    events: list[Event] = field(default_factory=list)


@dataclass
class Calendar:
    year: int
    campaigns: list[CampaignRow]
    months: list[tuple[int, list[Event]]]
    outside: int


def calendar(user: User | AnonymousUser, *, year: int, district: str | None = None) -> Calendar:
    """The year's campaign days with the district's (or the user's visible) events that fall in each,
    and every event by month."""
    events = list(
        events_for(user, year=year, district=district).exclude(status=Event.Status.CANCELLED).order_by("starts_at")
    )
    rows = [CampaignRow(day=d) for d in CampaignDay.objects.filter(year=year).order_by("start")]
    outside = 0
    for e in events:
        d = timezone.localtime(e.starts_at).date()
        hit = False
        for r in rows:
            if r.day.start <= d <= r.day.end:
                r.events.append(e)
                hit = True
        outside += not hit
    months = [(m, [e for e in events if timezone.localtime(e.starts_at).month == m]) for m in range(1, 13)]
    return Calendar(year=year, campaigns=rows, months=months, outside=outside)


def assignments_for(user: User | AnonymousUser) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(scope_for(user).unit_filter("org_unit__"))
        .select_related("org_unit", "district", "expert_user")
        .annotate(n_visits=Count("visits"))
        .order_by("district__code", "-start")
    )


def assignment_get(user: User | AnonymousUser, pk: int, *, manage: bool = False) -> Assignment:
    a = Assignment.objects.select_related("org_unit", "district", "expert_user").filter(pk=pk).first()
    if a is None:
        raise Http404
    scope = scope_for(user)
    if not (scope.covers(a.org_unit, MANAGE_ROLES) if manage else scope.covers(a.org_unit)):
        raise PermissionDenied("not in your scope")
    return a


def visits_of(assignment: Assignment) -> QuerySet[Visit]:
    return assignment.visits.select_related("village").order_by("-date", "-id")


def technician_name(a: Assignment) -> str:
    if a.expert_user_id:
        from kepu.community.selectors import expert_profile

        p = expert_profile(a.expert_user)
        return p.name if p is not None else a.expert_user.get_username()  # type: ignore[union-attr]
    return a.technician_name


def year_summary(user: User | AnonymousUser, *, year: int) -> dict[str, int]:
    qs = events_for(user, year=year)
    return {
        "events": qs.count(),
        "trainings": qs.filter(kind=Event.Kind.TRAINING).count(),
        "checkins": Registration.objects.filter(event__in=qs.values("pk"), checkin__isnull=False).count(),
        "certified": Registration.objects.filter(event__in=qs.values("pk"), certified_at__isnull=False).count(),
    }


def q_search(qs: QuerySet[Event], text: str) -> QuerySet[Event]:
    text = (text or "").strip()
    if not text:
        return qs
    return qs.filter(Q(title__icontains=text) | Q(organiser__icontains=text) | Q(venue__icontains=text))


def plan_tasks(city_code: str = "320400") -> QuerySet[Any]:
    """The active tasks of the city's plans an event can be linked to."""
    from kepu.plans.models import Task

    return (
        Task.objects.filter(active=True, section__programme__plan__region__code=city_code)
        .select_related("section__programme")
        .order_by("section__programme__order", "section__order", "order", "id")
    )
