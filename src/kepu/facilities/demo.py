"""Demo records for the facilities app: designated bases of every kind and level in all seven
county-level units (first designated 2021–2026, some renewed, some expired, some revoked, a 老年科技大学
in most but not all districts), venues open to the public with monthly visitor counts, visit slots
and school bookings, and a few applications waiting for review. Every invented name ends in （演示）.
The plan indicators are then published from these records, as the services do."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from kepu.core import pii
from kepu.core.models import OrgUnit
from kepu.facilities import indicators
from kepu.facilities.models import (
    Application,
    Base,
    BaseKind,
    BaseLevel,
    Booking,
    Venue,
    VenueKind,
    VisitCount,
    VisitSlot,
)
from kepu.facilities.services import bases_expire, rubric_ensure

THEMES = ["科技", "生态", "农业", "气象", "水利", "消防安全", "卫生健康", "地震", "智能制造", "新能源", "天文", "湿地"]
VENUE_KINDS = [VenueKind.MUSEUM, VenueKind.SPECIALIST, VenueKind.LAB, VenueKind.SCHOOL, VenueKind.OTHER]


def _date(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, rng.randint(1, 12), rng.randint(1, 28))


def _base(rng: random.Random, *, district: OrgUnit, towns: list[OrgUnit], kind: str, level: str, name: str,
          first_year: int, today: dt.date, stable: bool = False) -> Base:
    first = min(_date(rng, first_year), today - dt.timedelta(days=1))
    until = first.replace(year=first.year + 3) - dt.timedelta(days=1)
    roll = rng.random()
    if stable:  # the 老年科技大学 of the demo stay in force, so the coverage figure is the one the docs state
        roll = 0.0
    while until < today and roll < 0.6:  # most bases past their first term were renewed
        until = until.replace(year=until.year + 3)
    unit = rng.choice(towns) if towns and rng.random() < 0.85 else district
    revoked = None
    if roll > 0.93 and first < today - dt.timedelta(days=200):
        revoked = first + dt.timedelta(days=rng.randint(150, (today - first).days))
    return Base.objects.create(
        name=name, kind=kind, level=level, organisation=name.replace("（演示）", "") + "依托单位（演示）",
        org_unit=unit, district=district, first_certified_on=first, valid_from=first, valid_until=until,
        revoked_on=revoked, revoke_reason="年度复核不合格（演示）" if revoked else "",
    )


@transaction.atomic
def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    rng = random.Random(rng_seed)
    today = min(timezone.localdate(), dt.date(year, 12, 31))
    city = plan.region
    districts = list(OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT).order_by("sort", "code"))
    rubric_ensure()
    no_elderly = {d.code for d in rng.sample(districts, k=min(2, len(districts)))}
    n_bases = n_venues = 0
    for d in districts:
        towns = list(OrgUnit.objects.filter(parent=d, level=OrgUnit.Level.TOWN).order_by("code"))
        short = d.name_zh.removesuffix("区").removesuffix("市")
        plan_rows: list[tuple[str, str, str]] = []  # kind, level, name
        for i in range(rng.randint(4, 8)):
            name = f"{short}{THEMES[i % len(THEMES)]}科普教育基地（演示）"
            plan_rows.append((BaseKind.GENERAL, BaseLevel.MUNICIPAL, name))
        for i in range(rng.randint(0, 2)):
            higher: str = BaseLevel.NATIONAL if rng.random() < 0.2 else BaseLevel.PROVINCIAL
            plan_rows.append((BaseKind.GENERAL, higher, f"{short}{THEMES[-1 - i]}科普馆（演示）"))
        for i in range(rng.randint(1, 2)):
            plan_rows.append((BaseKind.STEM, BaseLevel.MUNICIPAL, f"{short}青少年 STEM 创新实践基地{i + 1}（演示）"))
        if rng.random() < 0.5:
            plan_rows.append((BaseKind.STEM, BaseLevel.PROVINCIAL, f"{short}STEM 教育省级基地（演示）"))
        for i in range(rng.randint(1, 3)):
            plan_rows.append((BaseKind.SCHOOL, BaseLevel.MUNICIPAL, f"{short}实验学校{i + 1}（演示）"))
        if rng.random() < 0.6:
            plan_rows.append((BaseKind.SCHOOL, BaseLevel.PROVINCIAL, f"{short}科学教育示范中学（演示）"))
        if d.code not in no_elderly:
            plan_rows.append((BaseKind.ELDERLY, BaseLevel.MUNICIPAL, f"{short}老年科技大学（演示）"))
        for kind, level, name in plan_rows:
            _base(rng, district=d, towns=towns, kind=kind, level=level, name=name,
                  first_year=rng.randint(2021, year), today=today, stable=kind == BaseKind.ELDERLY)
            n_bases += 1
        # Two applications waiting for the office to assign experts.
        for i in range(2):
            unit = rng.choice(towns) if towns else d
            Application.objects.create(
                name=f"{short}{rng.choice(THEMES)}科普体验馆{i + 1}（演示）", kind=BaseKind.GENERAL,
                level=BaseLevel.MUNICIPAL, organisation=f"{short}某科技企业{i + 1}（演示）", org_unit=unit,
                district=d, description="展厅面积 800 平方米，年接待中小学生约 1 万人次（演示）。",
                evidence="开放记录、安全制度、讲解员名单（演示）",
            )
        for i in range(2):
            kind = VENUE_KINDS[(i + rng.randint(0, 4)) % len(VENUE_KINDS)]
            unit = rng.choice(towns) if towns else d
            venue = Venue.objects.create(
                name=f"{short}{'科技馆' if i == 0 else rng.choice(THEMES) + '开放实验室'}（演示）",
                kind=VenueKind.MUSEUM if i == 0 else kind, organisation=f"{short}科协（演示）", org_unit=unit,
                district=d, address=f"{unit.name_zh}（演示地址）", opening_hours="9:00–16:30（16:00 停止入场）",
                open_days=[2, 3, 4, 5, 6, 7], description="面向公众和中小学校开放，可预约团体参观（演示）。",
            )
            n_venues += 1
            base_visits = rng.randint(1500, 9000) if i == 0 else rng.randint(200, 1500)
            for y in range(year - 2, year + 1):
                last_month = today.month - 1 if y == today.year else 12
                for m in range(1, last_month + 1):
                    seasonal = 1.4 if m in (7, 8) else 0.6 if m == 2 else 1.0
                    VisitCount.objects.create(venue=venue, year=y, month=m,
                                              visitors=int(base_visits * seasonal * rng.uniform(0.8, 1.2)))
            start = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=7 + i), dt.time(9, 30)))
            for k in range(3):
                slot = VisitSlot.objects.create(venue=venue, starts_at=start + dt.timedelta(days=7 * k),
                                                ends_at=start + dt.timedelta(days=7 * k, hours=2), capacity=120)
                if k < 2:
                    phone = f"1380000{rng.randint(1000, 9999)}"
                    Booking.objects.create(
                        slot=slot, school=f"{short}实验小学（演示）", class_name=f"{rng.randint(3, 6)}年级",
                        class_size=rng.randint(35, 50), contact_name="王老师（演示）",
                        phone_encrypted=pii.encrypt(phone), phone_masked=pii.mask_phone(phone),
                        status=Booking.Status.CONFIRMED if k == 0 else Booking.Status.PENDING,
                    )
    published = indicators.bases_publish(city=city)
    for y in range(max(indicators.FIRST_YEAR, year - 2), year + 1):
        published += indicators.visits_publish(city=city, year=y)
    expired = bases_expire(city=city, today=today)
    return {"bases": n_bases, "venues": n_venues, "expired": len(expired), "observations": published}
