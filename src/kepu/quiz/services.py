"""Everything the quiz writes: the daily question, contests and their attempts, answers, points.

The server keeps the clock and the keys. A contest question is timed from when the server first
showed it; an answer is accepted only for the attempt's current question, only once, and only within
the question's time limit (plus a small grace for the network). Keys and explanations go to the
browser only in the reply to an accepted answer."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core import plainsql, ratelimit
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.services import audit_record
from kepu.literacy.items import item_points, normalise_response
from kepu.literacy.models import Item
from kepu.quiz import selectors
from kepu.quiz.config import limits
from kepu.quiz.models import Attempt, Contest, DailyQuestion, PointEntry, QuizAnswer


class RateLimited(InputError):
    """Too many requests from one client: pages and the API answer 429."""


class AnswerRefused(InputError):
    """An answer the server does not take: `reason` is late, replay, forged or finished (409)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _normalise(item: Item, raw: Any) -> Any:
    if raw in ("", [], None):
        raise InputError(_("请先选择答案。"))
    try:
        return normalise_response(item, raw)
    except ValueError as exc:
        raise InputError(_("请先选择答案。")) from exc


def _award(*, citizen_id: int, day: dt.date, points: int, reason: str, answer: QuizAnswer) -> int:
    """Write a point entry, cut to what is left of the day's cap. The caller holds the citizen's lock."""
    earned = PointEntry.objects.filter(citizen_id=citizen_id, day=day).aggregate(s=Sum("points"))["s"] or 0
    granted = max(0, min(points, limits()["points_cap"] - earned))
    if granted:
        PointEntry.objects.create(citizen_id=citizen_id, day=day, points=granted, reason=reason, answer=answer)
    return granted


def _lock_citizen(citizen_id: int) -> None:
    # Serialises one citizen's writes (daily answer, contest answers) so the points cap holds.
    from kepu.citizens.models import Citizen

    Citizen.objects.select_for_update().filter(pk=citizen_id).values_list("pk", flat=True).first()


# --- daily question ---------------------------------------------------------------------------


def _seed(citizen: Any, day: dt.date) -> int:
    digest = hmac.new(settings.KEPU_PSEUDONYM_KEY.encode(), f"quiz-daily:{citizen.pseudonym}:{day}".encode(),
                      hashlib.sha256).hexdigest()
    return int(digest[:16], 16)


def daily_pick(citizen: Any, day: dt.date) -> Item:
    """The citizen's question for the day: a live item of their weakest dimension that they have not
    had within `repeat_days` (the next-weakest dimension when that one is used up; the longest-unseen
    item when everything is), chosen by a seed of the citizen and the day."""
    live = list(Item.objects.filter(status=Item.Status.LIVE).order_by("code"))
    if not live:
        raise InputError(_("题库中还没有已上线的题目。"))
    since = day - dt.timedelta(days=limits()["repeat_days"])
    recent = dict(DailyQuestion.objects.filter(citizen=citizen, day__gte=since, day__lt=day)
                  .values_list("item_id", "day"))
    rng = random.Random(_seed(citizen, day))
    for dimension in selectors.weak_order(citizen):
        pool = [i for i in live if i.dimension == dimension and i.pk not in recent]
        if pool:
            return rng.choice(pool)
    return min(live, key=lambda i: (recent.get(i.pk, since), i.code))


def daily_question(*, citizen: Any, day: dt.date | None = None) -> DailyQuestion:
    """The citizen's question of the day, drawn on first call and the same all day."""
    day = day or timezone.localdate()
    found = DailyQuestion.objects.select_related("item", "answer").filter(citizen=citizen, day=day).first()
    if found is not None:
        return found
    item = daily_pick(citizen, day)
    try:
        with transaction.atomic():
            return DailyQuestion.objects.create(citizen=citizen, day=day, item=item)
    except IntegrityError:  # a second tab drew it at the same moment
        return DailyQuestion.objects.select_related("item", "answer").get(citizen=citizen, day=day)


@transaction.atomic
def daily_answer(*, citizen: Any, raw: Any, client: str = "", day: dt.date | None = None) -> DailyQuestion:
    """Answer today's question, once. Returns the question with its answer (the page then shows
    right or wrong, the key and the explanation)."""
    if not ratelimit.hit("quiz-answer", client or f"c{citizen.pk}", limit=limits()["answers_per_minute"], window=60):
        raise RateLimited(_("提交太频繁了，请稍后再试。"))
    day = day or timezone.localdate()
    _lock_citizen(citizen.pk)
    question = DailyQuestion.objects.select_for_update().filter(citizen=citizen, day=day).first()
    if question is None:
        raise AnswerRefused(_("今天的题目还没有打开，请先打开题目。"), reason="forged")
    if question.answer_id is not None:
        raise AnswerRefused(_("今天的题目已经答过了，明天再来吧。"), reason="replay")
    item = question.item
    response = _normalise(item, raw)
    correct = item_points(item, response)[1]
    now = timezone.now()
    answer = QuizAnswer.objects.create(
        kind=QuizAnswer.Kind.DAILY, citizen=citizen, item=item, dimension=item.dimension, response=response,
        correct=correct, seconds=round((now - question.shown_at).total_seconds(), 3), at=now,
    )
    question.answer = answer
    question.save(update_fields=["answer"])
    if correct:
        _award(citizen_id=citizen.pk, day=day, points=limits()["daily_points"], reason="daily", answer=answer)
    return question


# --- contests ---------------------------------------------------------------------------------


def _contest_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Check the contest form; every problem is listed at once."""
    errors: list[str] = []
    title = str(data.get("title_zh", "")).strip()
    if not title:
        errors.append(_("请填写竞赛名称。"))
    out: dict[str, Any] = {"title_zh": title[:200], "title_en": str(data.get("title_en", "")).strip()[:200]}
    for field, low, high, label in (
        ("question_count", 1, 50, _("题目数量")),
        ("seconds_per_question", 5, 600, _("每题限时(秒)")),
        ("attempts_per_day", 1, 10, _("每天可答次数")),
        ("prizes", 0, 1000, _("获奖名额")),
    ):
        try:
            value = int(str(data.get(field, "")).strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            errors.append(_("%(label)s应为 %(low)s 到 %(high)s 之间的整数。")
                          % {"label": label, "low": low, "high": high})
        out[field] = value
    for field, label in (("starts_at", _("开始时间")), ("ends_at", _("结束时间"))):
        raw = data.get(field)
        when = raw if isinstance(raw, dt.datetime) else None
        if when is None and raw:
            try:
                when = dt.datetime.fromisoformat(str(raw))
            except ValueError:
                when = None
        if when is None:
            errors.append(_("%(label)s格式应为 2026-05-01T09:00。") % {"label": label})
        elif timezone.is_naive(when):
            when = timezone.make_aware(when)
        out[field] = when
    if out.get("starts_at") and out.get("ends_at") and out["ends_at"] <= out["starts_at"]:
        errors.append(_("结束时间应晚于开始时间。"))
    groups = [g for g in data.get("key_groups", []) if g]
    known = {code for code, _label in selectors.KEY_GROUP_CHOICES}
    if any(g not in known for g in groups):
        errors.append(_("重点人群只能从列表中选择。"))
    out["key_groups"] = sorted(set(groups))
    if errors:
        raise InputError(errors[0], errors=errors)
    return out


@transaction.atomic
def contest_create(*, data: dict[str, Any], org_unit: OrgUnit, actor: User, scope: Any) -> Contest:
    """Create a contest for an org unit the actor edits (an editor or the office, in their subtree)."""
    if not selectors.can_manage(scope, org_unit):
        raise PermissionDenied(_("只有本地区的科普内容编辑或办公室管理员可以创建竞赛。"))
    fields = _contest_fields(data)
    live = Item.objects.filter(status=Item.Status.LIVE).count()
    if live < fields["question_count"]:
        raise InputError(_("题库中已上线的题目只有 %(n)s 道，不够出题。") % {"n": live})
    contest = Contest.objects.create(org_unit=org_unit, created_by=actor, **fields)
    audit_record(actor=actor, action="contest.create", obj=contest, org_unit=org_unit, label=contest.title_zh)
    return contest


def _draw(contest: Contest, citizen: Any, day: dt.date, number: int) -> list[str]:
    """The attempt's questions: live items spread over the dimensions, preferring items written for
    the contest's key groups; a seed of contest, citizen, day and attempt number."""
    live = list(Item.objects.filter(status=Item.Status.LIVE).order_by("code")
                .values_list("code", "dimension", "groups"))
    rng = random.Random(f"{contest.pk}:{_seed(citizen, day)}:{number}")
    wanted = set(contest.key_groups)
    rng.shuffle(live)
    live.sort(key=lambda row: 0 if wanted & set(row[2] or []) else 1)
    by_dim: dict[str, list[str]] = {}
    for code, dim, _groups in live:
        by_dim.setdefault(dim, []).append(code)
    chosen: list[str] = []
    while len(chosen) < contest.question_count and any(by_dim.values()):
        for codes in by_dim.values():
            if codes and len(chosen) < contest.question_count:
                chosen.append(codes.pop(0))
    rng.shuffle(chosen)
    return chosen


@transaction.atomic
def contest_start(*, contest: Contest, citizen: Any, client: str = "") -> Attempt:
    """Start today's attempt, or go on with today's unfinished one."""
    now = timezone.now()
    if not contest.starts_at <= now < contest.ends_at:
        raise InputError(_("竞赛不在进行中。"))
    if not selectors.may_enter(contest, citizen):
        raise PermissionDenied(_("这项竞赛面向其他地区或人群。"))
    _lock_citizen(citizen.pk)
    day = timezone.localdate(now)
    today = list(Attempt.objects.filter(contest=contest, citizen=citizen, day=day).order_by("number"))
    if today and today[-1].finished_at is None:
        return today[-1]
    if len(today) >= contest.attempts_per_day:
        raise InputError(_("今天的答题次数已用完，明天再来吧。"))
    if not ratelimit.hit("quiz-start", client or f"c{citizen.pk}", limit=limits()["starts_per_day"],
                         window=ratelimit.DAY):
        raise RateLimited(_("从您所在网络开始的答题太多了，请明天再试。"))
    number = len(today) + 1
    return Attempt.objects.create(contest=contest, citizen=citizen, day=day, number=number,
                                  item_codes=_draw(contest, citizen, day, number), client=client[:32])


def _limit(attempt: Attempt) -> dt.timedelta:
    return dt.timedelta(seconds=attempt.contest.seconds_per_question)


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=limits()["grace_seconds"])


def _close_current(attempt: Attempt) -> None:
    """The current question ran out of time unanswered: it scores nothing and costs its full limit."""
    attempt.seconds += attempt.contest.seconds_per_question
    attempt.position += 1
    attempt.shown_at = None
    if attempt.position >= len(attempt.item_codes):
        attempt.finished_at = timezone.now()


@dataclass
class Shown:
    attempt: Attempt
    item: Item | None  # None: the attempt is finished


@transaction.atomic
def attempt_show(*, attempt_id: int, citizen: Any) -> Shown:
    """The attempt's current question, its clock started on first showing (a reload does not reset
    it). A question whose time ran out unanswered is closed first."""
    attempt = Attempt.objects.select_for_update().select_related("contest").get(pk=attempt_id, citizen=citizen)
    now = timezone.now()
    shown = attempt.shown_at
    if attempt.finished_at is None and shown is not None and now > shown + _limit(attempt) + _grace():
        _close_current(attempt)
    if attempt.finished_at is None and attempt.position >= len(attempt.item_codes):
        attempt.finished_at = now
    item = None
    if attempt.finished_at is None:
        item = Item.objects.get(code=attempt.item_codes[attempt.position])
        if attempt.shown_at is None:
            attempt.shown_at = now
    attempt.save(update_fields=["position", "shown_at", "seconds", "finished_at"])
    return Shown(attempt=attempt, item=item)


@dataclass
class Answered:
    answer: QuizAnswer
    item: Item
    attempt: Attempt
    points: int
    next_item: Item | None = None  # with show_next: the question now shown


def contest_answer(*, attempt_id: int, citizen: Any, position: int, item_code: str, raw: Any,
                   client: str = "", show_next: bool = False) -> Answered:
    """Take the answer to the attempt's current question. Refused (AnswerRefused, nothing scored):
    an answer for a question that is not the current one (forged), for one already answered (replay),
    after the question's time limit (late: the question closes with no score), or to a finished attempt.

    With `show_next` (the API, whose reply carries the next question) the next question counts as
    shown from now, in the same transaction; the page instead shows feedback first and starts the
    next clock when the next question is opened (`attempt_show`)."""
    config = limits()
    if not ratelimit.hit("quiz-answer", client or f"c{citizen.pk}", limit=config["answers_per_minute"], window=60):
        raise RateLimited(_("提交太频繁了，请稍后再试。"))
    refusal: AnswerRefused | None = None
    grace = dt.timedelta(seconds=config["grace_seconds"])
    with transaction.atomic():
        # The busiest write of a contest: its reads go through plain SQL (kepu.core.plainsql says why).
        found = plainsql.fetch(Attempt, "id = %s AND citizen_id = %s", [attempt_id, citizen.pk], lock=True)
        if not found:
            raise AnswerRefused(_("没有这次答题。"), reason="forged")
        attempt = found[0]
        attempt.contest = plainsql.fetch(Contest, "id = %s", [attempt.contest_id])[0]
        now = timezone.now()
        if attempt.finished_at is not None:
            refusal = AnswerRefused(_("这次答题已经结束。"), reason="replay")
        elif position < attempt.position:
            refusal = AnswerRefused(_("这道题已经答过了，不能再答。"), reason="replay")
        elif (position != attempt.position or attempt.shown_at is None
              or item_code != attempt.item_codes[attempt.position]):
            refusal = AnswerRefused(_("这不是当前的题目，请刷新页面。"), reason="forged")
        elif now > attempt.shown_at + _limit(attempt) + grace:
            _close_current(attempt)
            attempt.save(update_fields=["position", "shown_at", "seconds", "finished_at"])
            refusal = AnswerRefused(_("已超过本题的答题时限，本题不计分。"), reason="late")
        if refusal is not None:
            counts = dict(attempt.refusals)
            counts[refusal.reason] = counts.get(refusal.reason, 0) + 1
            Attempt.objects.filter(pk=attempt.pk).update(refusals=counts)
        else:
            return _take(attempt, item_code, raw, now, show_next)
    raise refusal


def _take(attempt: Attempt, item_code: str, raw: Any, now: dt.datetime, show_next: bool) -> Answered:
    """Store an accepted answer and move the attempt on (inside contest_answer's transaction)."""
    position = attempt.position
    codes = attempt.item_codes
    wanted = codes[position:position + 2] if show_next else [item_code]
    items = {i.code: i for i in plainsql.fetch(Item, f"code IN ({', '.join(['%s'] * len(wanted))})", wanted)}
    item = items[item_code]
    response = _normalise(item, raw)
    correct = item_points(item, response)[1]
    seconds = round((now - attempt.shown_at).total_seconds(), 3)  # type: ignore[operator]
    answer = QuizAnswer(
        kind=QuizAnswer.Kind.CONTEST, citizen_id=attempt.citizen_id, attempt=attempt, position=position,
        item=item, dimension=item.dimension, response=response, correct=correct, seconds=seconds, at=now,
    )
    plainsql.insert(answer)
    attempt.position += 1
    attempt.seconds += seconds
    attempt.score += 1 if correct else 0
    following = None
    if attempt.position >= len(codes):
        attempt.finished_at, attempt.shown_at = now, None
    elif show_next:
        following = items[codes[attempt.position]]
        attempt.shown_at = now
    else:
        attempt.shown_at = None
    plainsql.update(attempt, ["position", "shown_at", "seconds", "score", "finished_at"])
    points = 0
    if attempt.finished_at is not None and attempt.score:
        # Contest points are awarded once, when the attempt is finished (under the daily cap).
        _lock_citizen(attempt.citizen_id)
        points = _award(citizen_id=attempt.citizen_id, day=timezone.localdate(now),
                        points=attempt.score * limits()["contest_points"], reason="contest", answer=answer)
    return Answered(answer=answer, item=item, attempt=attempt, points=points, next_item=following)


# --- deletion -----------------------------------------------------------------------------------


def citizen_forget(citizen: Any) -> None:
    """Run inside the citizen's delete transaction: their attempts leave the leaderboards, their
    points and daily questions go; their answers stay for item statistics without them."""
    QuizAnswer.objects.filter(citizen=citizen).update(citizen=None, attempt=None)
    Attempt.objects.filter(citizen=citizen).delete()
    DailyQuestion.objects.filter(citizen=citizen).delete()
    PointEntry.objects.filter(citizen=citizen).delete()


def citizen_export(citizen: Any) -> dict[str, Any]:
    """The citizen's quiz rows for their data download (PIPL right of access)."""
    answers = QuizAnswer.objects.filter(citizen=citizen).select_related("item").order_by("at")
    return {
        "quiz_answers": [{"kind": a.kind, "item": a.item.code, "response": a.response, "correct": a.correct,
                          "seconds": a.seconds, "at": a.at.isoformat()} for a in answers],
        "quiz_points": [{"day": p.day.isoformat(), "points": p.points, "reason": p.reason}
                        for p in PointEntry.objects.filter(citizen=citizen).order_by("day", "id")],
    }
