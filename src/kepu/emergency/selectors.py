"""Reads of the emergency app, scope applied here once. Hazards and published guidance are public
knowledge; drafts are for authors and reviewers; emergency events are seen by staff whose scope
covers the owning unit or an affected unit. `pinned_for_unit` is the public face the citizen portal
and the big screens use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.emergency.models import EmergencyEvent, Guidance, Hazard

G = Guidance.Status


def hazards() -> QuerySet[Hazard]:
    return Hazard.objects.all().order_by("category", "code")


def hazard_get(code: str) -> Hazard:
    hazard = Hazard.objects.filter(code=code).first()
    if hazard is None:
        raise Http404
    return hazard


def hazards_published() -> QuerySet[Hazard]:
    """Hazards with at least one published guidance piece (what citizens see)."""
    return hazards().filter(guidance__status=G.PUBLISHED).distinct()


@dataclass(frozen=True)
class HazardRow:
    hazard: Hazard
    draft: int
    reviewed: int
    published: int


def hazard_rows() -> list[HazardRow]:
    rows = []
    for h in hazards().annotate(
            n_draft=Count("guidance", filter=Q(guidance__status=G.DRAFT)),
            n_reviewed=Count("guidance", filter=Q(guidance__status=G.REVIEWED)),
            n_published=Count("guidance", filter=Q(guidance__status=G.PUBLISHED))):
        rows.append(HazardRow(h, h.n_draft, h.n_reviewed, h.n_published))
    return rows


def guidance_for(hazard: Hazard, *, phase: str = "", published: bool = True) -> QuerySet[Guidance]:
    qs = hazard.guidance.select_related("author", "reviewed_by")
    if published:
        qs = qs.filter(status=G.PUBLISHED)
    if phase:
        qs = qs.filter(phase=phase)
    return qs.order_by("phase", "group", "key")


def guidance_get(pk: int) -> Guidance:
    g = Guidance.objects.select_related("hazard", "author", "reviewed_by").filter(pk=pk).first()
    if g is None:
        raise Http404
    return g


def review_queue(user: User | AnonymousUser) -> QuerySet[Guidance]:
    """Drafts waiting for a review (never the reviewer's own) and reviewed pieces waiting to be published."""
    qs = Guidance.objects.select_related("hazard", "author", "reviewed_by").filter(status__in=[G.DRAFT, G.REVIEWED])
    if isinstance(user, User):
        qs = qs.exclude(status=G.DRAFT, author=user)
    return qs.order_by("status", "hazard__code", "phase", "key")


def unknown_resource_codes(codes: Iterable[str]) -> list[str]:
    """Linked codes that are not published catalogue content."""
    from kepu.outreach.selectors import published_resources

    wanted = list(codes)
    if not wanted:
        return []
    known = set(published_resources().filter(code__in=wanted).values_list("code", flat=True))
    return [c for c in wanted if c not in known]


def hazard_resources(hazard: Hazard) -> list[Any]:
    """The hazard's linked catalogue content that is published, in the order linked."""
    from kepu.outreach.selectors import published_resources

    found = {r.code: r for r in published_resources().filter(code__in=hazard.resource_codes)}
    return [found[c] for c in hazard.resource_codes if c in found]


# --- emergency events ------------------------------------------------------------------------------


DECLARE_ROLES = ("office_admin", "district_reporter")


def units_declarable(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    """Districts and towns the user may declare emergency mode for."""
    return (OrgUnit.objects.filter(scope_for(user).unit_filter("", DECLARE_ROLES), valid_to__isnull=True,
                                   level__in=[OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN]).order_by("path"))


def _active_q(now: Any = None) -> Q:
    return Q(ended_at__isnull=True, starts_at__lte=now or timezone.now())


def events_visible(user: User | AnonymousUser) -> QuerySet[EmergencyEvent]:
    """Events whose owning unit or one of whose affected units lies in the user's scope."""
    scope = scope_for(user)
    if scope.superuser:
        qs = EmergencyEvent.objects.all()
    else:
        owned = EmergencyEvent.objects.filter(scope.unit_filter("org_unit__")).values("pk")
        touching = EmergencyEvent.objects.filter(scope.unit_filter("affected__")).values("pk")
        qs = EmergencyEvent.objects.filter(Q(pk__in=owned) | Q(pk__in=touching))
    return qs.select_related("hazard", "org_unit", "declared_by", "ended_by").prefetch_related("affected")


def event_get(user: User | AnonymousUser, pk: int) -> EmergencyEvent:
    event = events_visible(user).filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


def event_campaign(user: User | AnonymousUser, event: EmergencyEvent) -> Any:
    """The event's push campaign when the user may see it (campaigners and office admins), else None."""
    if event.campaign_id is None or not isinstance(user, User):
        return None
    from kepu.outreach.campaigns import campaigns_visible

    return campaigns_visible(user).filter(pk=event.campaign_id).first()


def _ancestor_paths(unit: OrgUnit) -> list[str]:
    parts = [p for p in unit.path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def active_events_for_unit(unit: OrgUnit | None, *, now: Any = None) -> QuerySet[EmergencyEvent]:
    """Active events affecting the unit or a unit above it (a town under an affected district)."""
    if unit is None:
        return EmergencyEvent.objects.none()
    return (EmergencyEvent.objects.filter(_active_q(now), affected__path__in=_ancestor_paths(unit))
            .select_related("hazard").distinct().order_by("-starts_at", "-pk"))


@dataclass(frozen=True)
class Pinned:
    event: EmergencyEvent
    hazard: Hazard
    guidance: list[Guidance]


def pinned_for_unit(unit: OrgUnit | None, *, key_groups: Iterable[str] = (), now: Any = None) -> list[Pinned]:
    """What the portal and the big screens pin for a place: for each active emergency affecting it,
    the hazard's published "during" guidance for everyone and for the given key groups (a kiosk
    passes none and gets the guidance for everyone), then the "prepare" guidance when no "during"
    piece is published."""
    groups = ["all", *key_groups]
    out = []
    for event in active_events_for_unit(unit, now=now):
        published = event.hazard.guidance.filter(status=G.PUBLISHED, group__in=groups)
        items = list(published.filter(phase=Guidance.Phase.DURING).order_by("group", "key"))
        if not items:
            items = list(published.filter(phase=Guidance.Phase.PREPARE).order_by("group", "key"))
        items.sort(key=lambda g: (g.group != "all", g.key))
        out.append(Pinned(event=event, hazard=event.hazard, guidance=items[:6]))
    return out
