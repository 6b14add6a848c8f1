"""Reads of the rumours app, with scope applied: staff see the claims and debunks of their units (a
district officer only their district's), an expert the debunks assigned to them; published debunks
are public."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.core.scope import READ_ROLES, scope_for
from kepu.rumours import monitoring
from kepu.rumours.models import TOPIC_LABELS, Claim, ClaimReport, Debunk
from kepu.rumours.services import MANAGE_ROLES, REVIEW_ROLES

Viewer = User | AnonymousUser
PUBLIC = (Debunk.Status.PUBLISHED, Debunk.Status.CORRECTED)


def is_staff_reader(user: Viewer) -> bool:
    s = scope_for(user)
    return s.superuser or any(s.paths.get(r) for r in READ_ROLES)


def manages_any(user: Viewer) -> bool:
    s = scope_for(user)
    return s.superuser or any(s.paths.get(r) for r in MANAGE_ROLES)


def managed_units(user: Viewer) -> QuerySet[OrgUnit]:
    return (OrgUnit.objects.filter(scope_for(user).unit_filter(roles=MANAGE_ROLES),
                                   level__in=[OrgUnit.Level.CITY, OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN])
            .order_by("path"))


def claims_visible(user: Viewer) -> QuerySet[Claim]:
    return (Claim.objects.filter(scope_for(user).unit_filter("district__"))
            .select_related("district", "org_unit", "debunk", "partner"))


def claim_queue(user: Viewer) -> QuerySet[Claim]:
    """Open claims for triage, the most reported first."""
    return claims_visible(user).filter(status=Claim.Status.NEW).order_by("-dup_count", "-last_seen_at")


def debunks_visible(user: Viewer) -> QuerySet[Debunk]:
    if not user.is_authenticated:
        return Debunk.objects.none()
    q = (scope_for(user).unit_filter("org_unit__") | Q(expert_id=user.pk) | Q(author_id=user.pk)
         | Q(reviewer_id=user.pk))
    qs = Debunk.objects.filter(q)
    if _reviews_as_expert(user):
        qs = Debunk.objects.filter(q | Q(status=Debunk.Status.IN_REVIEW))
    return qs.select_related("org_unit", "expert", "author", "reviewer").distinct()


def _reviews_as_expert(user: Viewer) -> bool:
    from kepu.community.selectors import expert_profile

    return expert_profile(user) is not None


def may_review(user: Viewer, debunk: Debunk) -> bool:
    return bool(scope_for(user).covers(debunk.org_unit, REVIEW_ROLES) or _reviews_as_expert(user))


def published_debunks() -> QuerySet[Debunk]:
    return Debunk.objects.filter(status__in=PUBLIC).select_related("org_unit").order_by("-published_at", "-pk")


def expert_choices() -> list[Any]:
    from kepu.community.selectors import expert_profiles

    return sorted(expert_profiles(), key=lambda p: ("emergency" not in p.roles, p.name))


# -- monthly list ------------------------------------------------------------------------------

def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime(year, month, 1))
    end = timezone.make_aware(dt.datetime(year + (month == 12), month % 12 + 1, 1))
    return start, end


@dataclass(frozen=True)
class MonthlyRow:
    text: str
    count: int
    topic: str
    debunk: Debunk | None


def monthly_top(claims: QuerySet[Claim], *, year: int, month: int, limit: int = 10) -> list[MonthlyRow]:
    """The month's most reported rumours: reports that arrived in the month, summed per cluster (the
    most reported wording shown), with the answer when there is a published one."""
    start, end = month_bounds(year, month)
    rows = (ClaimReport.objects.filter(claim__in=claims, received_at__gte=start, received_at__lt=end)
            .exclude(claim__status=Claim.Status.DISMISSED)
            .values("claim__cluster_key", "claim_id").annotate(n=Count("pk")))
    per_cluster: dict[str, int] = defaultdict(int)
    best: dict[str, tuple[int, int]] = {}
    for r in rows:
        key, n = r["claim__cluster_key"], int(r["n"])
        per_cluster[key] += n
        if key not in best or n > best[key][1]:
            best[key] = (r["claim_id"], n)
    top = sorted(per_cluster.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    claims_by_pk = Claim.objects.select_related("debunk").in_bulk([best[k][0] for k, _ in top])
    answers: dict[str, Debunk] = {}
    for c in Claim.objects.filter(cluster_key__in=[k for k, _ in top], debunk__status__in=PUBLIC).select_related(
            "debunk"):
        if c.debunk is not None:
            answers.setdefault(c.cluster_key, c.debunk)
    out = []
    for key, n in top:
        c = claims_by_pk[best[key][0]]
        out.append(MonthlyRow(text=c.text, count=n, topic=str(TOPIC_LABELS.get(c.topic, "")),
                              debunk=answers.get(key)))
    return out


# -- monitoring --------------------------------------------------------------------------------

def volume(claims: QuerySet[Claim], *, end: dt.date, days: int, by: str) -> dict[str, list[int]]:
    """Daily report counts for the `days` days ending `end`, per topic label or district name."""
    start = timezone.make_aware(dt.datetime.combine(end - dt.timedelta(days=days - 1), dt.time()))
    field = "claim__topic" if by == "topic" else "claim__district__name_zh"
    series: dict[str, list[dt.date]] = defaultdict(list)
    for key, when in (ClaimReport.objects.filter(claim__in=claims, received_at__gte=start)
                      .values_list(field, "received_at")):
        label = str(TOPIC_LABELS.get(key, TOPIC_LABELS["other"])) if by == "topic" else str(key)
        series[label].append(timezone.localtime(when).date())
    return {k: monitoring.daily_counts(v, end=end, length=days).tolist() for k, v in sorted(series.items())}


@dataclass(frozen=True)
class RisingCluster:
    cluster_key: str
    text: str
    today: int
    baseline: float
    p_value: float
    rising: bool
    districts: list[str]


def cluster_rises(claims: QuerySet[Claim], *, today: dt.date) -> list[RisingCluster]:
    """Every cluster with a report today, tested against its baseline (monitoring.rise_test), rising first."""
    days = monitoring.BASELINE_DAYS + 1
    start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time()))
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))
    per: dict[str, list[dt.date]] = defaultdict(list)
    names: dict[str, set[str]] = defaultdict(set)
    text: dict[str, tuple[int, str]] = {}
    for key, when, district, claim_text, dup in (
            ClaimReport.objects.filter(claim__in=claims, received_at__gte=start, received_at__lt=end)
            .values_list("claim__cluster_key", "received_at", "claim__district__name_zh", "claim__text",
                         "claim__dup_count")):
        per[key].append(timezone.localtime(when).date())
        names[key].add(district)
        if key not in text or dup > text[key][0]:
            text[key] = (dup, claim_text)
    out = []
    for key, dates in per.items():
        counts = monitoring.daily_counts(dates, end=today, length=days)
        if counts[-1] == 0:
            continue
        t = monitoring.rise_test(counts[:-1].tolist(), int(counts[-1]))
        out.append(RisingCluster(cluster_key=key, text=text[key][1], today=t.observed, baseline=t.baseline,
                                 p_value=t.p_value, rising=t.rising, districts=sorted(names[key])))
    return sorted(out, key=lambda r: (not r.rising, r.p_value, -r.today))


@dataclass(frozen=True)
class ResponseRow:
    month: str
    district: str
    n: int
    median: float | None
    p90: float | None


def response_table(claims: QuerySet[Claim], *, since: dt.date) -> list[ResponseRow]:
    """Hours from intake to published answer per month (of intake) and district, plus each month's total."""
    start = timezone.make_aware(dt.datetime.combine(since, dt.time()))
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for district, received, answered in (claims.filter(received_at__gte=start, answered_at__isnull=False)
                                         .values_list("district__name_zh", "received_at", "answered_at")):
        if answered is None:
            continue
        month = timezone.localtime(received).strftime("%Y-%m")
        hours = max((answered - received).total_seconds() / 3600, 0.0)
        groups[(month, district)].append(hours)
        groups[(month, "")].append(hours)
    rows = []
    for (month, district), values in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != "", kv[0][1]),
                                           reverse=False):
        s = monitoring.response_stats(values)
        rows.append(ResponseRow(month=month, district=district, n=s.n, median=s.median, p90=s.p90))
    return rows
