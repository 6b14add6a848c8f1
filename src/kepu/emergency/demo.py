"""Demo records for the emergency app: the starter knowledge base loaded from data/hazards.yaml,
linked to catalogue content on the same subject, reviewed by a talent-pool expert and published by
the office; and emergency events in every district for 2024–2026 (ended ones, each with its record,
and one still active, so the portal and big screens show a pinned notice)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.emergency import selectors, services
from kepu.emergency.loader import DEFAULT_FILE, hazards_load, starter_review
from kepu.emergency.models import EmergencyEvent, Hazard

DEMO_PASSWORD = "kepu-demo"
# (hazard, month, day, days) per year: the season decides the hazard.
SEASONS = [("flood", 6, 20, 6), ("heat", 7, 25, 8), ("typhoon", 8, 30, 3), ("cold_wave", 1, 10, 4),
           ("epidemic", 3, 5, 20), ("food_safety", 9, 12, 5)]


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _expert(office: User, region: OrgUnit) -> User:
    """A talent-pool emergency-science expert (应急科普专家) with an account, else any expert with one
    (the community demo's), else one made here."""
    from kepu.community.selectors import expert_profiles

    for p in [*expert_profiles(role="emergency"), *expert_profiles()]:
        user = User.objects.filter(pk=p.user_id).first() if p.user_id is not None else None
        if user is not None:
            return user
    from kepu.community.services import expert_create
    from kepu.core.services import user_create

    user = _user("em_expert") or user_create(username="em_expert", password=DEMO_PASSWORD, roles=[],
                                              full_name="应急科普专家（演示）")
    expert_create(actor=office, name="应急科普专家（演示）", organisation="常州市疾病预防控制中心（演示）",
                  org_unit=region, fields=["public_health"], roles=["emergency"], user=user)
    return user


def _link_resources(office: User) -> int:
    """Link each hazard to up to four published catalogue pieces whose title or summary names one of
    its keywords."""
    from kepu.outreach.selectors import published_resources

    resources = list(published_resources().only("code", "title_zh", "summary_zh"))
    linked = 0
    for hazard in Hazard.objects.all():
        if hazard.resource_codes:
            continue
        words = [w for w in hazard.keywords if len(w) >= 2]
        codes = [r.code for r in resources if any(w in f"{r.title_zh}{r.summary_zh}" for w in words)][:4]
        if codes:
            services.hazard_save(actor=office, hazard=hazard, data=services.HazardInput(
                code=hazard.code, name_zh=hazard.name_zh, name_en=hazard.name_en, category=hazard.category,
                keywords=hazard.keywords, resource_codes=codes))
            linked += 1
    return linked


def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    region = plan.region
    office = _user("office")
    if office is None:
        return {"hazards": 0, "published": 0, "events": 0}
    rnd = random.Random(rng_seed)
    result = hazards_load(content=DEFAULT_FILE.read_bytes(), actor=office, source="hazards.yaml (demo)")
    _link_resources(office)
    published = starter_review(reviewer=_expert(office, region), publisher=_user("office2") or office)
    events = 0
    if not EmergencyEvent.objects.exists():
        events = _events(plan, office, year, rnd)
    return {"hazards": result.hazards_created, "published": published, "events": events}


def _events(plan: Any, office: User, year: int, rnd: random.Random) -> int:
    districts = list(OrgUnit.objects.filter(parent=plan.region, level=OrgUnit.Level.DISTRICT).order_by("code"))
    hazards = {h.code: h for h in Hazard.objects.all()}
    tz = timezone.get_current_timezone()
    now = timezone.now()
    made = 0
    for i, district in enumerate(districts):
        for y in range(year - 2, year + 1):
            code, month, day, days = SEASONS[(i + y) % len(SEASONS)]
            hazard = hazards.get(code)
            start = dt.datetime(y, month, day, 8 + rnd.randrange(8), tzinfo=tz)
            if hazard is None or start >= now:
                continue
            towns = list(OrgUnit.objects.filter(parent=district, level=OrgUnit.Level.TOWN).order_by("code"))
            affected = [district] if not towns or rnd.random() < 0.5 else rnd.sample(towns, min(2, len(towns)))
            made += _past_event(office, hazard, affected, start, days)
    # One still on: a cold wave over 溧阳市 declared yesterday.
    liyang = next((d for d in districts if d.code == "320481"), districts[-1] if districts else None)
    if liyang is not None and "cold_wave" in hazards:
        services.event_declare(actor=office, hazard=hazards["cold_wave"], affected=[liyang],
                               starts_at=now - dt.timedelta(days=1), planned_end=now + dt.timedelta(days=3),
                               note="（演示）寒潮来袭，最低气温将降至零下 6 ℃，请注意防寒保暖和取暖安全。")
        made += 1
    return made


@transaction.atomic
def _past_event(office: User, hazard: Hazard, affected: list[OrgUnit], start: dt.datetime, days: int) -> int:
    event = services.event_declare(actor=office, hazard=hazard, affected=affected, starts_at=start,
                                   planned_end=start + dt.timedelta(days=days),
                                   note=f"（演示）{hazard.name_zh}应急科普响应。")
    services.event_end(actor=office, event=event, note="（演示）预警解除。")
    ended = start + dt.timedelta(days=days, hours=2)
    EmergencyEvent.objects.filter(pk=event.pk).update(ended_at=ended)  # the demo's history: ended back then
    return 1 if selectors.events_visible(office).filter(pk=event.pk).exists() else 0
