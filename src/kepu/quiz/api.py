"""The quiz router.

- GET /api/quiz/daily?date=YYYY-MM-DD — the day's published questions for other platforms (e.g. a
  city's online-learning site for officials). Staff accounts only (token or session); answer keys and
  explanations only for the office, content editors and viewer accounts (a partner platform gets a
  viewer account and a token: read-only everywhere, docs/quiz.md).
- GET /api/quiz/contests/{id}/leaderboard — public (the kiosk's live board): pseudonymous names,
  scores and times, towns and districts; no personal data.
- POST /api/quiz/attempts/{id}/answer — a citizen's answer to their attempt's current question
  (session + CSRF), timed and checked on the server like the play page; the reply carries the
  verdict, the key and the explanation, and the next question (without its key), whose clock starts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from kepu.citizens.selectors import citizen_of
from kepu.core import ratelimit
from kepu.core.api_types import IsoDay
from kepu.core.errors import PermissionDenied
from kepu.core.scope import scope_for
from kepu.quiz import selectors, services
from kepu.quiz.models import Contest

router = Router(tags=["quiz"])


class FeedQuery(Schema):
    date: IsoDay | None = Field(None, description="The day, YYYY-MM-DD (default: today).")


class FeedOption(Schema):
    key: str
    zh: str
    en: str


class FeedItem(Schema):
    code: str
    dimension: str
    type: str
    stem_zh: str
    stem_en: str
    options: list[FeedOption]
    key: Any = None
    explanation_zh: str | None = None
    explanation_en: str | None = None


class FeedOut(Schema):
    date: dt.date
    with_keys: bool
    count: int
    items: list[FeedItem]


@router.get("/quiz/daily", response=FeedOut, summary="The day's published questions (keys for permitted roles)")
def daily_feed(request: HttpRequest, query: Query[FeedQuery]) -> dict[str, Any]:
    scope = scope_for(request.user)
    if not selectors.is_staff(scope):
        raise PermissionDenied("The daily-question feed is for staff and partner accounts.")
    day = query.date or timezone.localdate()
    with_keys = selectors.feed_with_keys(scope)
    rows = selectors.feed_rows(selectors.daily_feed(day), with_keys=with_keys)
    return {"date": day, "with_keys": with_keys, "count": len(rows), "items": rows}


class PersonOut(Schema):
    rank: int
    name: str
    score: int
    seconds: float


class UnitOut(Schema):
    rank: int
    name: str
    participants: int
    mean_score: float
    mean_seconds: float


class BoardOut(Schema):
    contest: int
    title_zh: str
    title_en: str
    question_count: int
    persons: list[PersonOut]
    towns: list[UnitOut]
    districts: list[UnitOut]


@router.get("/quiz/contests/{contest_id}/leaderboard", response=BoardOut, auth=None,
            summary="Live leaderboard of a contest (public, pseudonymous)")
def leaderboard(request: HttpRequest, contest_id: int) -> dict[str, Any]:
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise Http404(f"No contest {contest_id}.")
    persons = selectors.leaderboard(contest, limit=20)
    return {
        "contest": contest.pk, "title_zh": contest.title_zh, "title_en": contest.title_en,
        "question_count": contest.question_count,
        "persons": [{"rank": p.rank, "name": p.name, "score": p.score, "seconds": p.seconds} for p in persons],
        "towns": [u.__dict__ for u in selectors.unit_leaderboard(contest, "town")[:20]],
        "districts": [u.__dict__ for u in selectors.unit_leaderboard(contest, "district")],
    }


class AnswerIn(Schema):
    position: int
    item: str
    answer: str | bool | list[str]


class QuestionOut(Schema):
    position: int
    item: str
    type: str
    stem: str
    options: list[dict[str, str]]
    seconds: int


class Refusal(Schema):
    """A refused answer (problem details): 409 late, replayed or forged; 429 too many submissions."""

    type: str
    title: str
    status: int
    detail: str


class AnswerOut(Schema):
    correct: bool
    key: Any
    explanation: str
    points: int
    score: int
    finished: bool
    next: QuestionOut | None = None


@router.post("/quiz/attempts/{attempt_id}/answer", response={200: AnswerOut, 409: Refusal, 429: Refusal},
             summary="Answer the current question of one's contest attempt (citizens)")
def answer(request: HttpRequest, attempt_id: int, body: AnswerIn) -> dict[str, Any]:
    citizen = citizen_of(request.user)
    if citizen is None:
        raise PermissionDenied("Only citizens answer contest questions.")
    try:
        done = services.contest_answer(attempt_id=attempt_id, citizen=citizen, position=body.position,
                                       item_code=body.item, raw=body.answer, client=ratelimit.client_key(request),
                                       show_next=True)
    except services.RateLimited as exc:
        raise HttpError(429, str(exc)) from exc
    except services.AnswerRefused as exc:
        raise HttpError(409, str(exc)) from exc
    out: dict[str, Any] = {
        "correct": done.answer.correct, "key": done.item.key, "explanation": done.item.explanation_zh,
        "points": done.points, "score": done.attempt.score, "finished": done.attempt.finished_at is not None,
    }
    item = done.next_item
    if item is not None:
        out["next"] = {
            "position": done.attempt.position, "item": item.code, "type": item.type, "stem": item.stem_zh,
            "options": [{"key": o["key"], "text": o["zh"]} for o in item.options],
            "seconds": done.attempt.contest.seconds_per_question,
        }
    return out

