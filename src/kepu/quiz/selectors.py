"""Reads for the quiz pages, the API and other apps: weak-spot order, contests a citizen may enter,
leaderboards, abuse signals, item statistics and `accuracy` (for campaign effect measurement)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.citizens.models import AGE_BANDS, KEY_GROUPS
from kepu.core.models import OrgUnit, Role
from kepu.literacy.models import DIMENSIONS, Dimension, Item
from kepu.literacy.people import OCCUPATIONS
from kepu.quiz.config import limits
from kepu.quiz.models import Attempt, Contest, PointEntry, QuizAnswer

KEY_GROUP_CHOICES = KEY_GROUPS
MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.EDITOR)
# Staff roles that get answer keys in the daily-question feed (docs/quiz.md): the office, content
# editors, and read-only viewer accounts (how a partner platform is given access).
FEED_KEY_ROLES = (Role.OFFICE_ADMIN, Role.EDITOR, Role.VIEWER)


# --- who may do what ---------------------------------------------------------------------------


def can_manage(scope: Any, unit: OrgUnit) -> bool:
    return bool(scope.covers(unit, MANAGE_ROLES))


def can_manage_any(scope: Any) -> bool:
    return bool(scope.superuser or any(scope.paths.get(r) for r in MANAGE_ROLES))


def contests_managed(scope: Any) -> QuerySet[Contest]:
    """Contests of the org units (and their subtrees) where the user is an editor or the office."""
    return Contest.objects.select_related("org_unit").filter(scope.unit_filter("org_unit__", MANAGE_ROLES))


def manageable_units(scope: Any) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope.unit_filter("", MANAGE_ROLES), level__in=["city", "district"],
                                  valid_to__isnull=True)


def may_enter(contest: Contest, citizen: Any) -> bool:
    """The contest is for the citizen's area (their district or town under the contest's unit, or the
    contest is for the whole city) and, when it names key groups, for one of theirs."""
    unit = contest.org_unit
    home = citizen.town or citizen.district
    if unit.level not in ("city", "province") and (home is None or not home.path.startswith(unit.path)):
        return False
    return not contest.key_groups or bool(set(contest.key_groups) & set(citizen.key_groups or []))


def contests_open(citizen: Any, now: dt.datetime | None = None) -> list[Contest]:
    now = now or timezone.now()
    running = Contest.objects.select_related("org_unit").filter(starts_at__lte=now, ends_at__gt=now)
    return [c for c in running if may_enter(c, citizen)]


def attempts_today(contest: Contest, citizen: Any) -> list[Attempt]:
    return list(Attempt.objects.filter(contest=contest, citizen=citizen, day=timezone.localdate()).order_by("number"))


def best_attempt(contest: Contest, citizen: Any) -> Attempt | None:
    return (Attempt.objects.filter(contest=contest, citizen=citizen, finished_at__isnull=False)
            .order_by("-score", "seconds", "id").first())


# --- weak spots and accuracy --------------------------------------------------------------------


def accuracy(citizen_ids: Iterable[int], dimension: str | None = None,
             since: dt.datetime | None = None) -> tuple[int, int]:
    """(right answers, answers) of these citizens in the quiz (daily and contest questions), in one
    literacy dimension (None: all), answered at or after `since`."""
    rows = QuizAnswer.objects.filter(citizen_id__in=list(citizen_ids))
    if dimension:
        rows = rows.filter(dimension=dimension)
    if since is not None:
        rows = rows.filter(at__gte=since)
    got = rows.aggregate(answered=Count("id"), correct=Count("id", filter=Q(correct=True)))
    return int(got["correct"]), int(got["answered"])


def own_accuracy(citizen: Any) -> dict[str, float]:
    """The citizen's quiz accuracy per dimension, smoothed (one right and one wrong answer added) so
    a dimension never answered sits at one half."""
    counts = {d: [0, 0] for d in DIMENSIONS}
    for dim, correct, n in (QuizAnswer.objects.filter(citizen=citizen).values_list("dimension", "correct")
                            .annotate(n=Count("id"))):
        if dim in counts:
            counts[dim][0 if correct else 1] += n
    return {d: (right + 1) / (right + wrong + 2) for d, (right, wrong) in counts.items()}


def weak_order(citizen: Any) -> list[str]:
    """All four dimensions, weakest first: the measured weak spots (kepu.outreach.weakness: the
    citizen's own consented self-test, else their group's in the latest wave), then the rest by the
    citizen's own quiz accuracy."""
    from kepu.outreach.weakness import weak_dimensions

    own = own_accuracy(citizen)
    measured = [d for d in weak_dimensions(citizen) if d in DIMENSIONS]
    if not measured:
        measured = sorted(DIMENSIONS, key=lambda d: (own[d], DIMENSIONS.index(d)))
    rest = sorted((d for d in DIMENSIONS if d not in measured), key=lambda d: (own[d], DIMENSIONS.index(d)))
    return measured + rest


def points_total(citizen: Any) -> int:
    return sum(PointEntry.objects.filter(citizen=citizen).values_list("points", flat=True))


def points_today(citizen: Any) -> int:
    return sum(PointEntry.objects.filter(citizen=citizen, day=timezone.localdate()).values_list("points", flat=True))


# --- display names -----------------------------------------------------------------------------


def display_name(citizen: Any, language: str = "zh-hans") -> str:
    """A pseudonymous name for leaderboards, e.g. 武进区·农民·50-59·#3fa2: district, group, age band
    and four characters of the pseudonym; never the user name or phone number."""
    groups = dict(KEY_GROUPS)
    occupations = dict(OCCUPATIONS)
    parts = []
    if citizen.district is not None:
        parts.append(citizen.district.name(language))
    kg = next((g for g in citizen.key_groups or [] if g in groups), None)
    if kg:
        parts.append(str(groups[kg]))
    elif citizen.occupation in occupations:
        parts.append(str(occupations[citizen.occupation]))
    if citizen.age_band in dict(AGE_BANDS):
        parts.append(citizen.age_band)
    parts.append(f"#{citizen.pseudonym[:4]}")
    return "·".join(parts)


# --- leaderboards and signals ------------------------------------------------------------------


@dataclass
class PersonRow:
    rank: int
    citizen_id: int
    name: str
    score: int
    seconds: float
    district: str
    town: str
    flags: list[str] = field(default_factory=list)
    prize: bool = False


@dataclass
class UnitRow:
    rank: int
    name: str
    participants: int
    mean_score: float
    mean_seconds: float


@dataclass
class Signals:
    """Abuse signals of a contest, shown to staff. `flags` maps a citizen id to its reasons."""

    flags: dict[int, list[str]]
    shared_clients: list[tuple[dt.date, int]]  # (day, accounts) per client key above the threshold
    same_patterns: list[int]  # sizes of groups of accounts with identical answers and timing
    refusals: dict[str, int]  # refused answers by reason


def _best_attempts(contest: Contest) -> list[Attempt]:
    """Each citizen's best finished attempt, best first (score, then less time, then who was first)."""
    seen: set[int] = set()
    best = []
    for attempt in (Attempt.objects.filter(contest=contest, finished_at__isnull=False)
                    .select_related("citizen__district", "citizen__town").order_by("-score", "seconds", "id")):
        if attempt.citizen_id not in seen:
            seen.add(attempt.citizen_id)
            best.append(attempt)
    return best


def signals(contest: Contest, *, threshold: int | None = None) -> Signals:
    """Duplicate-account signals: several accounts playing from one client (network address) on one
    day, and accounts whose answers and per-question times are identical; plus the refused answers."""
    threshold = threshold or limits()["shared_client_accounts"]
    flags: dict[int, list[str]] = defaultdict(list)
    by_client: dict[tuple[dt.date, str], set[int]] = defaultdict(set)
    refusals: dict[str, int] = defaultdict(int)
    attempts = list(Attempt.objects.filter(contest=contest).only("id", "citizen_id", "day", "client", "refusals",
                                                                   "finished_at"))
    for a in attempts:
        if a.client:
            by_client[(a.day, a.client)].add(a.citizen_id)
        for reason, n in (a.refusals or {}).items():
            refusals[reason] += n
    shared = []
    for (day, _client), citizens in sorted(by_client.items(), key=lambda kv: kv[0][0]):
        if len(citizens) >= threshold:
            shared.append((day, len(citizens)))
            for cid in citizens:
                flags[cid].append("shared_client")
    patterns: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    answers: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    position: int | None
    finished = {a.id: a.citizen_id for a in attempts if a.finished_at is not None}
    for attempt_id, position, response, seconds in (QuizAnswer.objects.filter(attempt_id__in=list(finished))
                                                    .values_list("attempt_id", "position", "response", "seconds")):
        answers[attempt_id].append((position or 0, repr(response), round(seconds)))
    for attempt_id, rows in answers.items():
        if len(rows) >= 3:
            patterns[tuple(sorted(rows))].add(finished[attempt_id])
    same = []
    for citizens in patterns.values():
        if len(citizens) >= 2:
            same.append(len(citizens))
            for cid in citizens:
                if "same_pattern" not in flags[cid]:
                    flags[cid].append("same_pattern")
    return Signals(flags=dict(flags), shared_clients=shared, same_patterns=same, refusals=dict(refusals))


def flag_label(reason: str) -> str:
    return {
        "shared_client": _("同一网络当天多个账号参赛"),
        "same_pattern": _("答案与答题用时与其他账号完全相同"),
    }.get(reason, reason)


def refusal_label(reason: str) -> str:
    return {
        "late": _("超时提交"),
        "replay": _("重复提交"),
        "forged": _("非当前题目(伪造或过期页面)"),
    }.get(reason, reason)


def leaderboard(contest: Contest, *, language: str = "zh-hans", limit: int | None = None,
                signals_: Signals | None = None) -> list[PersonRow]:
    """Persons by their best attempt. Flagged accounts stay on the board, marked, and win no prize:
    the prizes go to the first `contest.prizes` unflagged places."""
    flags = (signals_ or signals(contest)).flags
    rows = []
    prizes_left = contest.prizes
    for rank, a in enumerate(_best_attempts(contest), start=1):
        c = a.citizen
        row = PersonRow(rank=rank, citizen_id=c.pk, name=display_name(c, language), score=a.score,
                        seconds=round(a.seconds, 1), district=c.district.name(language) if c.district else "",
                        town=c.town.name(language) if c.town else "", flags=flags.get(c.pk, []))
        if not row.flags and prizes_left > 0:
            row.prize, prizes_left = True, prizes_left - 1
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return rows


def unit_leaderboard(contest: Contest, level: str, *, language: str = "zh-hans") -> list[UnitRow]:
    """Towns or districts by their participants' mean best score, then mean time."""
    groups: dict[str, list[Attempt]] = defaultdict(list)
    for a in _best_attempts(contest):
        unit = a.citizen.town if level == "town" else a.citizen.district
        if unit is not None:
            groups[unit.name(language)].append(a)
    stats = [(name, len(rows), sum(r.score for r in rows) / len(rows), sum(r.seconds for r in rows) / len(rows))
             for name, rows in groups.items()]
    stats.sort(key=lambda s: (-s[2], s[3], s[0]))
    return [UnitRow(rank=i, name=name, participants=n, mean_score=round(score, 2), mean_seconds=round(secs, 1))
            for i, (name, n, score, secs) in enumerate(stats, start=1)]


# --- item statistics and the feed ----------------------------------------------------------------


@dataclass
class ItemStat:
    code: str
    dimension: str
    stem: str
    answered: int
    correct: int
    label: str = ""

    @property
    def share(self) -> float | None:
        return self.correct / self.answered if self.answered else None


def item_stats(*, language: str = "zh-hans", since: dt.datetime | None = None) -> list[ItemStat]:
    """Quiz answers per item (daily and contest together), most answered first."""
    rows = QuizAnswer.objects.all()
    if since is not None:
        rows = rows.filter(at__gte=since)
    counts = rows.values("item_id").annotate(n=Count("id"), right=Count("id", filter=Q(correct=True)))
    by_item = {r["item_id"]: (r["n"], r["right"]) for r in counts}
    items = Item.objects.filter(pk__in=list(by_item)).only("code", "dimension", "stem_zh", "stem_en")
    out = [ItemStat(code=i.code, dimension=i.dimension, stem=i.stem(language), answered=by_item[i.pk][0],
                    correct=by_item[i.pk][1], label=str(Dimension(i.dimension).label)) for i in items]
    out.sort(key=lambda s: (-s.answered, s.code))
    return out


def dimension_stats(*, since: dt.datetime | None = None) -> list[tuple[str, str, int, int]]:
    """(code, label, answers, right answers) per literacy dimension."""
    rows = QuizAnswer.objects.all()
    if since is not None:
        rows = rows.filter(at__gte=since)
    got = {r["dimension"]: (r["n"], r["right"]) for r in
           rows.values("dimension").annotate(n=Count("id"), right=Count("id", filter=Q(correct=True)))}
    return [(d.value, str(d.label), *got.get(d.value, (0, 0))) for d in Dimension]


def item_stat(item: Item) -> tuple[int, int]:
    """(answers, right answers) to one item in the quiz."""
    got = QuizAnswer.objects.filter(item=item).aggregate(n=Count("id"), right=Count("id", filter=Q(correct=True)))
    return int(got["n"]), int(got["right"])


def daily_feed(day: dt.date) -> list[Item]:
    """The day's published questions for other platforms: one live item per dimension. Each
    dimension's items are shuffled once a year by a fixed seed and taken in turn, so an item comes
    back only after all the others of its dimension."""
    live = list(Item.objects.filter(status=Item.Status.LIVE).order_by("code"))
    out = []
    for dim in DIMENSIONS:
        pool = [i for i in live if i.dimension == dim]
        if pool:
            random.Random(f"kepu-quiz-feed:{day.year}:{dim}").shuffle(pool)
            out.append(pool[(day.timetuple().tm_yday - 1) % len(pool)])
    return out


def feed_rows(items: list[Item], *, with_keys: bool) -> list[dict[str, Any]]:
    rows = []
    for i in items:
        row: dict[str, Any] = {
            "code": i.code, "dimension": i.dimension, "type": i.type, "stem_zh": i.stem_zh, "stem_en": i.stem_en,
            "options": [{"key": o["key"], "zh": o.get("zh", ""), "en": o.get("en", "")} for o in i.options],
        }
        if with_keys:
            row.update(key=i.key, explanation_zh=i.explanation_zh, explanation_en=i.explanation_en)
        rows.append(row)
    return rows


def feed_with_keys(scope: Any) -> bool:
    return bool(scope.superuser or any(scope.paths.get(r) for r in FEED_KEY_ROLES))


def is_staff(scope: Any) -> bool:
    return bool(scope.superuser or any(scope.paths.values()))
