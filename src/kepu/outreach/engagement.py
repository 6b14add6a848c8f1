"""Engagement events and reach.

Who an event is stored under (PIPL: analytics never join to a phone number or user name):

* A logged-in citizen who granted consent "analytics": their pseudonym (a keyed hash of the user id)
  and a copy of their profile's district, town, key groups and age band *at event time*. These rows
  are the only ones counted as citizens reached and, with anonymous visitors, as demand.
* A logged-in citizen without that consent: the row keeps the link to the citizen (it is their own
  reading history, which serves them — feed, "already read", their data export — and goes with their
  account), but no pseudonym and no profile fields, so no aggregate counts it.
* An anonymous visitor (no account): only their searches are kept (the search page records them;
  the events API answers 401 without a login), and no cookie is set for it. The row carries `anon:`
  plus a keyed hash of the day's opaque client key (kepu.core.ratelimit.client_key), which changes
  every day and cannot be linked back to an address; it lets demand count one visitor's repeated
  search once a day, and nothing else. Anonymous rows are never counted as citizens reached.

When a citizen deletes their account (kepu.citizens.deletion), their counted rows lose the citizen
link and get a random pseudonym in place of theirs, so they remain only as anonymous counts; the rows
kept solely to serve them (no analytics consent) are deleted.

A repeated identical event within DEDUP_SECONDS (a double tap, a reloaded page) is the same event."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kepu.citizens.models import Citizen, Purpose
from kepu.citizens.selectors import has_consent
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import Scope
from kepu.literacy.online import pseudonym as keyed_hash
from kepu.outreach.engagement_models import Interaction
from kepu.outreach.models import Resource

DEDUP_SECONDS = 30
ANON_PREFIX = "anon:"
REACH_KINDS = (Interaction.Kind.VIEW, Interaction.Kind.OPEN)
REACH_BY = ("district", "key_group", "topic", "month")
# Who reads reach and demand: the office, content editors and campaign operators, each in their org unit.
STAFF_ROLES = (Role.OFFICE_ADMIN, Role.EDITOR, Role.CAMPAIGNER)


def events_per_minute() -> int:
    return int(getattr(settings, "KEPU_OUTREACH_EVENTS_PER_MINUTE", 60))


def visitor_pseudonym(client_key: str) -> str:
    """An anonymous visitor's name for the day (see the module docstring)."""
    return ANON_PREFIX + keyed_hash("visitor:" + client_key)[: 64 - len(ANON_PREFIX)]


def record(
    citizen: Citizen | None,
    kind: str,
    resource: Resource | None = None,
    query: str = "",
    campaign_id: int | None = None,
    at: dt.datetime | None = None,
    *,
    visitor: str = "",
) -> Interaction | None:
    """Store one event and return it (or the identical event recorded less than DEDUP_SECONDS
    before). Without a citizen, `visitor` is the caller's `visitor_pseudonym`; with neither, nothing
    is stored and None is returned."""
    if kind not in Interaction.Kind.values:
        raise ValueError(f"unknown event kind {kind!r}")
    at = at or timezone.now()
    query = " ".join(query.split())[:200]
    fields: dict[str, Any] = {"citizen": citizen, "pseudonym": visitor}
    with transaction.atomic():
        if citizen is not None:
            # One citizen's events one at a time, so two taps arriving together are still one event.
            Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
            fields["pseudonym"] = ""
            if has_consent(citizen, Purpose.ANALYTICS):
                fields.update(
                    pseudonym=citizen.pseudonym, district_id=citizen.district_id, town_id=citizen.town_id,
                    key_groups=list(citizen.key_groups or []), age_band=citizen.age_band,
                )
        elif not visitor:
            return None
        same = Interaction.objects.filter(
            kind=kind, resource=resource, query=query, campaign_id=campaign_id,
            at__gt=at - dt.timedelta(seconds=DEDUP_SECONDS), at__lte=at,
        )
        same = same.filter(citizen=citizen) if citizen is not None else same.filter(pseudonym=visitor)
        earlier = same.order_by("-at").first()
        if earlier is not None:
            return earlier
        return Interaction.objects.create(
            kind=kind, resource=resource, query=query, campaign_id=campaign_id, at=at, **fields
        )


def forget_citizen(citizen: Citizen) -> None:
    """Account deletion: the rows stay as anonymous counts. They lose the link to the person, and
    their pseudonym is replaced by a random one (the same for all of that person's rows, so people
    are still counted once), so nothing else keyed by the old pseudonym can be joined to them."""
    Interaction.objects.filter(citizen=citizen).exclude(pseudonym="").update(
        citizen=None, pseudonym=secrets.token_hex(32)
    )
    Interaction.objects.filter(citizen=citizen).delete()  # kept only to serve the citizen themselves


def export_citizen(citizen: Citizen) -> dict[str, Any]:
    """The citizen's own events for their data download (PIPL right of access)."""
    rows = Interaction.objects.filter(citizen=citizen).select_related("resource").order_by("at", "pk")
    return {
        "engagement_events": [
            {
                "at": r.at.isoformat(),
                "kind": r.kind,
                "resource": r.resource.code if r.resource else None,
                "resource_title": r.resource.title_zh if r.resource else None,
                "query": r.query,
                "campaign_id": r.campaign_id,
                "district": r.district.code if r.district else None,
                "town": r.town.code if r.town else None,
                "key_groups": list(r.key_groups or []),
                "age_band": r.age_band,
            }
            for r in rows.select_related("district", "town")
        ]
    }


# -- reach ---------------------------------------------------------------------------------------


def counted(scope: Scope) -> QuerySet[Interaction]:
    """Events that count in aggregates (citizens with analytics consent, incl. deleted accounts'
    rows), limited to the districts the user's scope covers. A user covering a whole city also sees
    the events of citizens who gave no district."""
    rows = Interaction.objects.exclude(pseudonym="").exclude(pseudonym__startswith=ANON_PREFIX)
    return rows.filter(district_filter(scope))


def can_read(scope: Scope) -> bool:
    return scope.superuser or any(scope.paths.get(r) for r in STAFF_ROLES)


def covers_city(scope: Scope) -> bool:
    return any(scope.covers(u, STAFF_ROLES) for u in OrgUnit.objects.filter(level=OrgUnit.Level.CITY))


def district_filter(scope: Scope) -> Q:
    """Events in the districts the user's outreach roles cover (none for other users)."""
    if scope.superuser:
        return Q()
    units = OrgUnit.objects.filter(scope.unit_filter(roles=STAFF_ROLES), level=OrgUnit.Level.DISTRICT)
    q = Q(district__in=units)
    if covers_city(scope):
        q |= Q(district__isnull=True)
    return q


def reach(*, scope: Scope, by: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Distinct citizens reached (a view or an opened push) in [start, end], by district, key group,
    topic or month: [{"key", "label", "citizens"}], largest first (months in order). A citizen in
    two groups or reading two topics counts once in each."""
    if by not in REACH_BY:
        raise ValueError(f"reach by {by!r}")
    rows = counted(scope).filter(kind__in=REACH_KINDS, at__date__gte=start, at__date__lte=end)
    if by == "month":
        return _by_month(rows)
    if by == "district":
        out = _by_named(rows.exclude(district=None), "district__code", "district__name_zh", "district__name_en")
    elif by == "topic":
        out = _by_named(rows.exclude(resource__topics=None), "resource__topics__code", "resource__topics__name_zh",
                        "resource__topics__name_en")
    else:
        out = [{"key": g, "label": _group_label(g), "citizens": n} for g, n in key_group_reach(rows).items()]
    return sorted(out, key=lambda r: (-r["citizens"], r["key"]))


def _by_named(rows: QuerySet[Interaction], code: str, zh: str, en: str) -> list[dict[str, Any]]:
    data = rows.values(code, zh, en).annotate(n=Count("pseudonym", distinct=True))
    return [{"key": r[code], "label": _label(r[zh], r[en]), "citizens": r["n"]} for r in data]


def _by_month(rows: QuerySet[Interaction]) -> list[dict[str, Any]]:
    data = rows.annotate(month=TruncMonth("at")).values("month").annotate(n=Count("pseudonym", distinct=True))
    return [{"key": r["month"].strftime("%Y-%m"), "label": r["month"].strftime("%Y-%m"), "citizens": r["n"]}
            for r in data.order_by("month")]


def key_group_reach(rows: QuerySet[Interaction]) -> dict[str, int]:
    """Distinct pseudonyms per key group. Key groups are a JSON list copied onto each row, which
    SQLite and PostgreSQL query differently; reading the pairs is portable and stays small (one
    pair per person and group, not per event)."""
    seen: dict[str, set[str]] = {}
    for pseudonym, groups in rows.values_list("pseudonym", "key_groups").distinct().iterator():
        for g in groups or []:
            seen.setdefault(str(g), set()).add(pseudonym)
    return {g: len(p) for g, p in seen.items()}


def _label(zh: str | None, en: str | None) -> str:
    from django.utils.translation import get_language

    return (en or zh or "") if (get_language() or "").startswith("en") else (zh or "")


def _group_label(code: str) -> str:
    from kepu.citizens.models import KEY_GROUPS

    return str(dict(KEY_GROUPS).get(code, code))
