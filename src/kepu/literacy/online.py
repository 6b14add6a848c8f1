"""The citizen's online test: draw a form from a blueprint, time each answer on the server, score.

Answer keys never leave the server: the page gets only stems and options; scoring happens here."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.literacy.items import item_points, normalise_response
from kepu.literacy.models import DIMENSIONS, Answer, Item, Respondent, ScoringProfile, TestSession
from kepu.literacy.people import EDUCATION, OCCUPATIONS, age_band, key_group
from kepu.literacy.scoring import profiles_ensure, respondents_score

# Points per dimension in the online form (the cast_newera weights at a tenth of the size).
DEFAULT_BLUEPRINT = {"knowledge": 8, "method": 4, "spirit": 4, "application": 4}
DEFAULT_PROFILE = "cast_newera"


def pseudonym(raw: str) -> str:
    """A keyed hash: the same person maps to the same key, but the key reveals nothing."""
    return hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


def form_draw(blueprint: dict[str, int], rng: random.Random, *, group: str = "") -> list[Item]:
    """Pick live items until each dimension's points are reached; at least one anchor item per
    dimension (when there is one) keeps forms on a common scale; items for the person's key group
    are preferred so the test speaks to their life."""
    live = list(Item.objects.filter(status=Item.Status.LIVE))
    chosen: list[Item] = []
    for dim, target in blueprint.items():
        pool = [i for i in live if i.dimension == dim]
        rng.shuffle(pool)
        pool.sort(key=lambda i: (not i.anchor, group not in (i.groups or [])))
        anchors = [i for i in pool if i.anchor][:1]
        rest = [i for i in pool if i not in anchors]
        got = sum(i.points for i in anchors)
        picked = list(anchors)
        rng.shuffle(rest)
        rest.sort(key=lambda i: group not in (i.groups or []))
        for item in rest:
            if got >= target:
                break
            if got + item.points <= target:
                picked.append(item)
                got += item.points
        if got < target:
            raise InputError(
                _("The item bank has too few live %(dim)s items for the blueprint (%(got)s of %(target)s points).")
                % {"dim": dim, "got": got, "target": target}
            )
        chosen += picked
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


@transaction.atomic
def test_start(*, profile: Profile, language: str = "zh-hans", seed: int | None = None) -> TestSession:
    token = secrets.token_urlsafe(32)
    group = key_group(profile.age, profile.occupation)
    items = form_draw(DEFAULT_BLUEPRINT, random.Random(seed if seed is not None else secrets.randbits(64)), group=group)
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
    return TestSession.objects.create(
        token=token,
        respondent=respondent,
        item_codes=[i.code for i in items],
        consent_at=timezone.now(),
        language=language,
    )


def session_get(token: str) -> TestSession:
    session = TestSession.objects.select_related("respondent").filter(token=token).first()
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


@transaction.atomic
def test_answer(*, token: str, item_code: str, raw: object) -> TestSession:
    session = TestSession.objects.select_for_update().get(pk=session_get(token).pk)
    if session.finished_at is not None:
        raise InputError(_("This test is finished."))
    item = current_item(session)
    if item is None or item.code != item_code:
        raise InputError(_("That question is not the current one; the page was out of date."))
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
    respondent = session.respondent
    earned = dict.fromkeys(DIMENSIONS, 0.0)
    possible = dict.fromkeys(DIMENSIONS, 0.0)
    for answer in session.answers.select_related("item"):
        earned[answer.item.dimension] += answer.points
        possible[answer.item.dimension] += answer.item.points
    respondent.earned, respondent.possible = earned, possible
    respondent.save(update_fields=["earned", "possible"])
    profiles_ensure()
    respondents_score([respondent], ScoringProfile.objects.get(code=DEFAULT_PROFILE))
    session.finished_at = timezone.now()
    session.save(update_fields=["finished_at"])
