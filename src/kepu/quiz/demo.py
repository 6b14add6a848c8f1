"""Demo quiz: two running contests (a city-wide science contest and the older people's smartphone
contest) with finished attempts by pseudonymous demo contestants across the districts, so the
leaderboards (pages, kiosk) and item statistics show something real. Idempotent."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kepu.citizens.models import Citizen
from kepu.citizens.services import citizen_pseudonym
from kepu.core.models import OrgUnit
from kepu.literacy.models import Item
from kepu.quiz import services
from kepu.quiz.models import Attempt, Contest

CONTESTS = [
    ("科学素质网络竞赛", "Science literacy online contest", [], 10, 30),
    ("老年人智能手机运用大赛", "Smartphone skills contest for older people", ["elderly"], 5, 60),
]
GROUPS = [("farmers", "farmer", "50-59"), ("workers", "worker", "30-39"), ("elderly", "retired", "70+"),
          ("youth", "student", "18-29"), ("officials", "official", "40-49")]
CONTESTANTS = 60


@transaction.atomic
def quiz_demo(*, seed: int = 2021) -> str:
    city = OrgUnit.objects.filter(level=OrgUnit.Level.CITY, code="320400").first()
    if city is None or Item.objects.filter(status=Item.Status.LIVE).count() < 10:
        return "Quiz demo skipped (no city or no live items)."
    if Contest.objects.filter(title_zh=CONTESTS[0][0]).exists():
        return "Quiz demo already present."
    rng = random.Random(seed)
    now = timezone.now()
    editor = User.objects.filter(username="editor").first()
    contests = [Contest.objects.create(title_zh=zh, title_en=en, org_unit=city, key_groups=groups,
                                       starts_at=now - dt.timedelta(days=3), ends_at=now + dt.timedelta(days=25),
                                       question_count=n, seconds_per_question=secs, created_by=editor)
                for zh, en, groups, n, secs in CONTESTS]
    districts = list(OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True))
    for k in range(CONTESTANTS):
        district = districts[k % len(districts)]
        town = (OrgUnit.objects.filter(parent=district, level=OrgUnit.Level.TOWN, valid_to__isnull=True)
                .order_by("sort", "code")[k % 3:k % 3 + 1].first())
        group, occupation, band = GROUPS[k % len(GROUPS)]
        user = User.objects.create(username=f"quizdemo{k:03d}", password="!")  # no login: leaderboard only
        citizen = Citizen.objects.create(user=user, pseudonym=citizen_pseudonym(user.pk), district=district,
                                         town=town, occupation=occupation, key_groups=[group], age_band=band)
        skill = rng.uniform(0.4, 0.95)
        for contest in contests:
            if contest.key_groups and group not in contest.key_groups:
                continue
            _play(contest, citizen, skill, rng)
    return f"Quiz demo: {len(contests)} contests, {Attempt.objects.count()} finished attempts."


def _play(contest: Contest, citizen: Citizen, skill: float, rng: random.Random) -> None:
    attempt = services.contest_start(contest=contest, citizen=citizen)
    for position in range(len(attempt.item_codes)):
        item = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).item
        assert item is not None
        right = rng.random() < skill
        raw = item.key if right else _wrong(item)
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=position, item_code=item.code,
                                raw="true" if raw is True else "false" if raw is False else raw)
    # Demo answers are instant; give them human answer times.
    Attempt.objects.filter(pk=attempt.pk).update(
        seconds=round(sum(rng.uniform(4, contest.seconds_per_question * 0.6)
                          for _ in attempt.item_codes), 1))


def _wrong(item: Item) -> object:
    if item.type == "true_false":
        return not item.key
    keys = [o["key"] for o in item.options]
    if isinstance(item.key, list):
        return [k for k in keys if k not in item.key][:1] or keys[:1]
    return next(k for k in keys if k != item.key)
