"""Demo engagement: a year of pseudonymous events from synthetic residents (no accounts: rows keyed by a
made-up pseudonym with a district, key groups and age band, as a deleted account's rows are), so the
reach and demand pages and the plan's reach indicators have something real to show. In the last four
weeks older people in 武进区 start searching for phone fraud, which the catalogue hardly covers."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from django.db import transaction
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.outreach.engagement_models import Interaction
from kepu.outreach.indicators import reach_publish
from kepu.outreach.models import Resource
from kepu.plans.models import Plan

GROUPS = [("farmers", 0.2), ("workers", 0.25), ("elderly", 0.25), ("youth", 0.1), ("officials", 0.05)]
AGE_BY_GROUP = {"farmers": "50-59", "workers": "30-39", "elderly": "70+", "youth": "18-29", "officials": "40-49"}
STEADY_QUERIES = ["流感疫苗", "高血压饮食", "垃圾分类", "防溺水", "手机支付", "食品安全", "睡眠", "用药安全"]
RISING_QUERIES = ["电信诈骗", "AI换脸诈骗", "保健品骗局"]


def _pseudonym(seed: int, n: int) -> str:
    return hashlib.sha256(f"kepu-demo-resident:{seed}:{n}".encode()).hexdigest()


@transaction.atomic
def engagement_demo(*, plan: Plan, seed: int = 2021, residents: int = 600) -> str:
    """Idempotent: replaces earlier demo rows (those without a citizen, named by this seed)."""
    rng = random.Random(seed)
    today = timezone.localdate()
    districts = list(OrgUnit.objects.filter(parent=plan.region, level=OrgUnit.Level.DISTRICT).order_by("code"))
    pieces = list(Resource.objects.filter(status=Resource.Status.PUBLISHED).order_by("code"))
    people = []
    for n in range(residents):
        group = rng.choices([g for g, _w in GROUPS], [w for _g, w in GROUPS])[0]
        people.append((_pseudonym(seed, n), rng.choice(districts), group))
    Interaction.objects.filter(citizen=None, pseudonym__in=[p for p, _d, _g in people]).delete()
    rows = []

    def add(person: tuple[str, OrgUnit, str], kind: str, day: int, **fields: object) -> None:
        pseudonym, district, group = person
        at = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=day), dt.time(8 + rng.randrange(13))))
        rows.append(Interaction(pseudonym=pseudonym, district=district, key_groups=[group],
                                age_band=AGE_BY_GROUP[group], kind=kind, at=at, **fields))

    for person in people:
        for _ in range(rng.randrange(1, 8)):
            day = rng.randrange(365)
            if pieces:
                piece = rng.choice(pieces)
                add(person, "view", day, resource=piece)
                if rng.random() < 0.4:
                    add(person, "complete", day, resource=piece)
            if rng.random() < 0.5:
                add(person, "search", day, query=rng.choice(STEADY_QUERIES))
    elderly_wujin = [p for p in people if p[2] == "elderly" and p[1].code == "320412"]
    for person in elderly_wujin:
        for query in RISING_QUERIES[: rng.randrange(1, 4)]:
            add(person, "search", rng.randrange(28), query=query)
    for person in elderly_wujin[:2]:
        add(person, "search", 28 + rng.randrange(28), query=RISING_QUERIES[0])
    Interaction.objects.bulk_create(rows, batch_size=2000)
    published = []
    for year in sorted({today.year - 1, today.year}):
        if plan.start_year <= year <= plan.end_year:
            published += reach_publish(plan=plan, year=year)
    return (f"Outreach engagement: {len(rows)} demo events from {residents} residents; "
            f"{len(published)} reach values published into the plan.")
