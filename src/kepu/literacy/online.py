"""The citizen's online test: draw a form from a blueprint, time each answer and the whole test on
the server, score.

Answer keys never leave the server while the test runs: the page gets only stems and options. The
result shows keys and explanations only for the items on the person's own form, and only for the
first few tests a client starts each day (`reviews_per_day`); a client also gets the same form all
day. Together with the limits on starts and answers, a script cannot harvest the bank's keys at scale.

Limits are settings (`KEPU_SELFTEST`, a dict overriding `LIMITS`); counters live in the cache
(kepu.core.ratelimit), so they hold across web workers when KEPU_REDIS_URL is set."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core import ratelimit
from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.literacy.items import item_points, normalise_response
from kepu.literacy.models import DIMENSIONS, Answer, Dimension, Item, Respondent, ScoringProfile, TestSession
from kepu.literacy.people import EDUCATION, OCCUPATIONS, age_band, key_group
from kepu.literacy.scoring import profile_of, profiles_ensure, respondents_score

# Items per dimension on every online form (the cast_newera weights at a twentieth of 100 items:
# 20 questions, so the intro page can say exactly how many).
DEFAULT_BLUEPRINT = {"knowledge": 8, "method": 4, "spirit": 4, "application": 4}
DEFAULT_PROFILE = "cast_newera"
LIMITS: dict[str, int] = {
    "time_limit_minutes": 20,  # per test, stated on the intro page, enforced on every answer
    "starts_per_hour": 20,  # per client (network address); a school class shares one address
    "starts_per_day": 100,
    "reviews_per_day": 10,  # tests per client per day whose result shows keys and explanations
    "answers_per_minute": 200,  # per client
}


class RateLimited(InputError):
    """Too many starts or answers from one client; the page answers 429."""


# Callables (user, finished session) -> bool run when a finished test's result is shown, so an app
# that knows the person can keep the result (kepu.citizens: only with the citizen's consent).
# Registered by that app; this app does not know who they are.
_result_hooks: list[Callable[[Any, TestSession], bool]] = []


def on_result(callback: Callable[[Any, TestSession], bool]) -> None:
    if callback not in _result_hooks:
        _result_hooks.append(callback)


def result_kept(user: Any, session: TestSession) -> bool:
    """Offer the finished session to every registered hook; True when one kept it."""
    return any([hook(user, session) for hook in _result_hooks])


def limits() -> dict[str, int]:
    return {**LIMITS, **getattr(settings, "KEPU_SELFTEST", {})}


def question_count() -> int:
    return sum(DEFAULT_BLUEPRINT.values())


def pseudonym(raw: str) -> str:
    """A keyed hash: the same person maps to the same key, but the key reveals nothing. Keyed with
    KEPU_PSEUDONYM_KEY, never SECRET_KEY."""
    return hmac.new(settings.KEPU_PSEUDONYM_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def form_draw(blueprint: dict[str, int], rng: random.Random, *, group: str = "") -> list[Item]:
    """Pick `blueprint[dimension]` live items per dimension; one anchor item per dimension (when
    there is one) keeps forms on a common scale; items for the person's key group are preferred so
    the test speaks to their life."""
    live = list(Item.objects.filter(status=Item.Status.LIVE).order_by("code"))
    chosen: list[Item] = []
    for dim, count in blueprint.items():
        pool = [i for i in live if i.dimension == dim]
        if len(pool) < count:
            raise InputError(
                _("题库中“%(dim)s”方面的已上线题目不足(需要 %(count)s 道，现有 %(got)s 道)。")
                % {"dim": Dimension(dim).label, "count": count, "got": len(pool)}
            )
        rng.shuffle(pool)
        anchors = [i for i in pool if i.anchor][:1]
        rest = [i for i in pool if i not in anchors]
        rest.sort(key=lambda i: group not in (i.groups or []))
        chosen += (anchors + rest)[:count]
    rng.shuffle(chosen)
    return chosen


@dataclass(frozen=True)
class Profile:
    """What the citizen tells us before the test (all optional beyond age band and district)."""

    age: int
    sex: str
    district: OrgUnit
    town: OrgUnit | None
    area: str
    education: str
    occupation: str


def profile_errors(
    data: dict[str, str], districts: dict[str, OrgUnit], towns: dict[str, OrgUnit]
) -> tuple[Profile | None, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        age = int(data.get("age", ""))
        if not 10 <= age <= 100:
            raise ValueError
    except ValueError:
        errors["age"] = _("请填写 10–100 之间的周岁年龄。")
        age = 0
    if data.get("sex") not in ("M", "F"):
        errors["sex"] = _("请选择性别。")
    district = districts.get(data.get("district", ""))
    if district is None:
        errors["district"] = _("请选择所在辖市(区)。")
    town = towns.get(data.get("town", "")) if data.get("town") else None
    if data.get("town") and town is None:
        errors["town"] = _("请从列表中选择镇(街道)。")
    if town is not None and district is not None and town.parent_id != district.pk:
        errors["town"] = _("所选镇(街道)不属于该辖市(区)。")
    if data.get("area") not in ("urban", "rural"):
        errors["area"] = _("请选择城镇或乡村。")
    if data.get("education") not in {c for c, _ in EDUCATION}:
        errors["education"] = _("请选择文化程度。")
    if data.get("occupation") not in {c for c, _ in OCCUPATIONS}:
        errors["occupation"] = _("请选择职业。")
    if data.get("consent") != "yes":
        errors["consent"] = _("请阅读并同意个人信息告知后再开始。")
    if errors or district is None:
        return None, errors
    return Profile(age, data["sex"], district, town, data["area"], data["education"], data["occupation"]), {}


def start_allowed(client: str) -> None:
    """Count a start for the client; raise RateLimited past the hourly or daily cap."""
    lim = limits()
    if not (
        ratelimit.hit("selftest-start-h", client, limit=lim["starts_per_hour"], window=3600)
        and ratelimit.hit("selftest-start-d", client, limit=lim["starts_per_day"], window=ratelimit.DAY)
    ):
        raise RateLimited(_("从您所在网络开始的测试太多了，请稍后再试。"))


def _client_seed(client: str) -> int:
    # The client key is today's keyed hash of the address: the same form all day, another tomorrow.
    return int(client[:16], 16) if client else secrets.randbits(64)


@transaction.atomic
def test_start(
    *, profile: Profile, client: str = "", language: str = "zh-hans", seed: int | None = None
) -> tuple[TestSession, str]:
    """Start a test; returns the session and the token for the browser's cookie (never stored).
    A client gets the same form all day (so restarting shows no new items) and per-item review
    for its first `reviews_per_day` tests a day."""
    lim = limits()
    token = secrets.token_urlsafe(32)
    group = key_group(profile.age, profile.occupation)
    rng = random.Random(seed if seed is not None else _client_seed(client))
    items = form_draw(DEFAULT_BLUEPRINT, rng, group=group)
    review = ratelimit.hit("selftest-review", client, limit=lim["reviews_per_day"], window=ratelimit.DAY)
    respondent = Respondent.objects.create(
        wave=None,
        sample=Respondent.Sample.OPT_IN,
        key=pseudonym(f"online:{token}"),
        sex=profile.sex,
        age=profile.age,
        age_band=age_band(profile.age),
        district=profile.district,
        town=profile.town,
        area=profile.area,
        education=profile.education,
        occupation=profile.occupation,
        key_group=group,
    )
    now = timezone.now()
    session = TestSession.objects.create(
        token_hash=token_hash(token),
        respondent=respondent,
        item_codes=[i.code for i in items],
        consent_at=now,
        deadline=now + dt.timedelta(minutes=lim["time_limit_minutes"]),
        review=review,
        language=language,
    )
    return session, token


def session_get(token: str) -> TestSession:
    found = TestSession.objects.select_related("respondent").filter(token_hash=token_hash(token)) if token else None
    session = found.first() if found is not None else None
    if session is None:
        raise InputError(_("This test link is not valid; start a new test."))
    return session


def current_item(session: TestSession) -> Item | None:
    if session.position >= len(session.item_codes):
        return None
    return Item.objects.get(code=session.item_codes[session.position])


def question_shown(session: TestSession) -> None:
    """Start the clock for the current question (once: reloading the page does not reset it)."""
    if session.shown_at is None:
        session.shown_at = timezone.now()
        session.save(update_fields=["shown_at"])


def is_expired(session: TestSession) -> bool:
    return session.deadline is not None and timezone.now() > session.deadline


@transaction.atomic
def test_expire(*, token: str) -> TestSession:
    """Finish a test whose time is up: unanswered items count as wrong. Idempotent."""
    session = TestSession.objects.select_for_update().get(pk=session_get(token).pk)
    if session.finished_at is None and is_expired(session):
        _finish(session)
    return session


@transaction.atomic
def test_answer(*, token: str, item_code: str, raw: Any, client: str = "") -> TestSession:
    """Record the answer to the current item. After the deadline nothing is recorded: the test is
    finished as it stands (the returned session is finished; the caller shows the result)."""
    if not ratelimit.hit("selftest-answer", client, limit=limits()["answers_per_minute"], window=60):
        raise RateLimited(_("提交太频繁了，请稍后再试。"))
    session = TestSession.objects.select_for_update().get(pk=session_get(token).pk)
    if session.finished_at is not None:
        raise InputError(_("This test is finished."))
    if is_expired(session):
        _finish(session)
        return session
    item = current_item(session)
    if item is None or item.code != item_code:
        raise InputError(_("That question is not the current one; the page was out of date."))
    if raw in ("", [], None):
        # An empty multiple-choice answer would otherwise be a valid (wrong) answer "[]".
        raise InputError(_("Choose an answer before continuing."))
    try:
        response = normalise_response(item, raw)
    except ValueError as exc:
        raise InputError(_("Choose an answer before continuing.")) from exc
    points, correct = item_points(item, response)
    now = timezone.now()
    seconds = (now - session.shown_at).total_seconds() if session.shown_at else 0.0
    Answer.objects.create(
        session=session, item=item, response=response, points=points, correct=correct, seconds=round(seconds, 3)
    )
    respondent = session.respondent
    respondent.responses[item.code] = response
    session.position += 1
    session.shown_at = None
    session.save(update_fields=["position", "shown_at"])
    respondent.save(update_fields=["responses"])
    if session.position >= len(session.item_codes):
        _finish(session)
    return session


def _finish(session: TestSession) -> None:
    """Score over the whole form: an item left unanswered when time ran out is administered and wrong."""
    respondent = session.respondent
    items = {i.code: i for i in Item.objects.filter(code__in=session.item_codes)}
    earned = dict.fromkeys(DIMENSIONS, 0.0)
    possible = dict.fromkeys(DIMENSIONS, 0.0)
    for code in session.item_codes:
        possible[items[code].dimension] += items[code].points
    for answer in session.answers.select_related("item"):
        earned[answer.item.dimension] += answer.points
    for code in session.item_codes:
        respondent.responses.setdefault(code, None)
    respondent.earned, respondent.possible = earned, possible
    respondent.save(update_fields=["earned", "possible", "responses"])
    profiles_ensure()
    respondents_score([respondent], ScoringProfile.objects.get(code=DEFAULT_PROFILE))
    session.finished_at = timezone.now()
    session.save(update_fields=["finished_at"])


def tier_text(respondent: Respondent, language: str) -> str:
    """The stored tier is the profile's Chinese label; English pages show the profile's English one."""
    if not language.startswith("en"):
        return respondent.tier
    profile = ScoringProfile.objects.filter(code=DEFAULT_PROFILE).first()
    tiers = profile_of(profile).tiers if profile else []
    return next((t.label_en for t in tiers if t.label_zh == respondent.tier), respondent.tier)


@dataclass(frozen=True)
class ResultLine:
    """One item on the result page: the person's own answer always; the key, ✔/✘ and the
    explanation only when the session has review."""

    stem: str
    given: str
    seconds: float | None
    correct: bool | None
    key: str
    explanation: str


def _answer_text(item: Item, response: Any, language: str) -> str:
    if response is None or response == []:
        return _("未作答")
    if item.type == Item.Type.TRUE_FALSE:
        return _("正确") if response is True else _("错误")
    text = {o["key"]: o["en"] if language.startswith("en") else o["zh"] for o in item.options}
    letters = response if isinstance(response, list) else [response]
    return ("; " if language.startswith("en") else "；").join(f"{k}. {text.get(k, '')}" for k in letters)


def result_lines(session: TestSession, language: str) -> list[ResultLine]:
    items = {i.code: i for i in Item.objects.filter(code__in=session.item_codes)}
    answers = {a.item_id: a for a in session.answers.all()}
    lines = []
    for code in session.item_codes:
        item = items[code]
        answer = answers.get(item.pk)
        given = _answer_text(item, answer.response if answer else None, language)
        if session.review:
            key = _answer_text(item, item.key, language)
            explanation = item.explanation_en if language.startswith("en") else item.explanation_zh
            correct = answer.correct if answer else False
        else:
            key = explanation = ""
            correct = None
        seconds = answer.seconds if answer else None
        lines.append(ResultLine(item.stem(language), given, seconds, correct, key, explanation))
    return lines
