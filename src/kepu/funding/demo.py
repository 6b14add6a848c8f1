"""Demo funding records for the plan's city: science budgets of the city and all its county-level
units (and one town each) for 2024–2026 in plausible 元 amounts, spending reports, and a 2026 project
fund call with applications, expert reviews, awards and a completion report — all through the
services, so the funding indicators are published as they would be in use. Names are marked （演示）."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from kepu.community.selectors import expert_profile
from kepu.community.services import expert_create
from kepu.core.models import OrgUnit
from kepu.core.services import user_create
from kepu.funding import services
from kepu.funding.models import Budget, FundCall

DEMO_PASSWORD = "kepu-demo"
NOTE = "（演示）"
# Budgeted 元 per resident in 2024 for each district's own level (a few 元, as Chinese districts budget).
BASE_PER_CAPITA = {"320402": 4.2, "320404": 4.0, "320411": 5.1, "320412": 3.6, "320413": 2.8, "320481": 2.5,
                   "changzhou_edz": 3.9}
FUND_EXPERTS = [("fundexpert1", "周建华（演示）", "常州大学"), ("fundexpert2", "孙丽萍（演示）", "河海大学常州校区"),
                ("fundexpert3", "陆志强（演示）", "江苏理工学院")]
PROJECTS = ["乡村科普大篷车巡展", "青少年人工智能科普课堂", "银龄智能手机科普行", "社区应急科普体验站",
            "科普研学精品线路", "农业科技田间课堂", "科普短视频创作"]


def _staff(username: str, full_name: str, region: OrgUnit) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=DEMO_PASSWORD, full_name=full_name,
                           roles=[("office_admin", region.code, None)])
    return user


def _approve(entered_by: User, approver: User, unit: OrgUnit, year: int, yuan: Decimal, note: str) -> Budget:
    b = services.budget_save(actor=entered_by, org_unit=unit, year=year, amount=str(yuan), unit="元", note=note)
    services.budget_submit(actor=entered_by, budget=b)
    return services.budget_approve(actor=approver, budget=b)


def _experts(office: User, region: OrgUnit) -> list[User]:
    out = []
    for username, name, org in FUND_EXPERTS:
        user = User.objects.filter(username=username).first() or user_create(
            username=username, password=DEMO_PASSWORD, roles=[], full_name=name)
        if expert_profile(user) is None:
            expert_create(actor=office, name=name, organisation=org, org_unit=region, fields=["科普项目评审"],
                          roles=["reviewer"], user=user)
        out.append(user)
    return out


@transaction.atomic
def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    region: OrgUnit = plan.region
    if Budget.objects.filter(org_unit__path__startswith=region.path, note__endswith=NOTE).exists():
        return {"budgets": 0, "applications": 0, "awards": 0}
    rnd = random.Random(rng_seed)
    office = _staff("office", "市科学素质办 管理员", region)
    office2 = _staff("office2", "市科学素质办 复核员", region)
    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT).order_by("sort", "code"))
    years = [y for y in (year - 2, year - 1, year)]
    budgets = 0
    city_yuan = Decimal(region.population or 5_000_000) * Decimal("3.2")
    for i, y in enumerate(years):
        amount = (city_yuan * Decimal("1.08") ** i).quantize(Decimal("1000"))
        _approve(office, office2, region, y, amount, f"市本级科普经费{NOTE}")
        budgets += 1
    for d in districts:
        if not d.population:
            continue
        pc = Decimal(str(BASE_PER_CAPITA.get(d.code, 3.5)))
        town = OrgUnit.objects.filter(parent=d, level=OrgUnit.Level.TOWN).order_by("code").first()
        town_yuan = Decimal(rnd.randrange(20, 60) * 10_000)
        for i, y in enumerate(years):
            pc = pc * Decimal(str(1 + rnd.uniform(0.03, 0.14))) if i else pc
            amount = (pc * d.population).quantize(Decimal("1000"))
            b = _approve(office, office2, d, y, amount, f"{d.name_zh}本级科普经费{NOTE}")
            budgets += 1
            if i == 1:
                spent = {"activities": amount * Decimal("0.42"), "facilities": amount * Decimal("0.23"),
                         "talent": amount * Decimal("0.12"), "media": amount * Decimal("0.15")}
                report = services.spending_report_submit(
                    actor=office, budget=b, unit="元", note=f"{y} 年决算{NOTE}",
                    lines={k: str(v.quantize(Decimal("1"))) for k, v in spent.items()})
                services.spending_report_review(actor=office2, report=report, accept=True)
            if town is not None and i >= 1:
                town_yuan = (town_yuan * Decimal("1.06")).quantize(Decimal("100"))
                _approve(office, office2, town, y, town_yuan, f"{town.name_zh}科普经费{NOTE}")
                budgets += 1
                second = OrgUnit.objects.filter(parent=d, level=OrgUnit.Level.TOWN).order_by("code")[1:2].first()
                if y == year and d.code == "320413" and second is not None:
                    # a town budgeting for the first time, left awaiting review for the demo reviewer
                    tb = services.budget_save(actor=office, org_unit=second, year=y, amount="180000", unit="元",
                                              note=f"{second.name_zh}科普经费{NOTE}")
                    services.budget_submit(actor=office, budget=tb)
                    budgets += 1
    apps, awards = _fund(office, office2, region, districts, year, rnd)
    return {"budgets": budgets, "applications": apps, "awards": awards}


def _fund(office: User, office2: User, region: OrgUnit, districts: list[OrgUnit], year: int,
          rnd: random.Random) -> tuple[int, int]:
    if FundCall.objects.filter(title__endswith=NOTE).exists():
        return 0, 0
    experts = _experts(office, region)
    call = services.call_create(
        actor=office, org_unit=region, title=f"{year} 年常州市科普基金项目{NOTE}", budget="200", unit="万元",
        opens=dt.date(year, 3, 1), closes=dt.date(year, 12, 31), eligible_units=districts,
        description="支持社会力量开展科普项目，建立多元化科普投入机制。")
    awards = 0
    for i, d in enumerate(districts):
        app = services.application_submit(
            actor=office, call=call, title=f"{d.name_zh}{PROJECTS[i % len(PROJECTS)]}{NOTE}",
            applicant_organisation=f"{d.name_zh}科学技术协会{NOTE}", org_unit=d,
            amount=str(rnd.randrange(15, 41)), unit="万元", today=dt.date(year, 4, 15))
        scores = []
        for expert in rnd.sample(experts, 2):
            review = services.review_assign(actor=office, application=app, reviewer=expert)
            score = rnd.randrange(62, 96)
            scores.append(score)
            services.review_score(actor=expert, review=review, score=score, recommend=score >= 75,
                                  comment="项目设计合理，受众明确。" if score >= 75 else "实施方案需进一步细化。")
        if sum(scores) / len(scores) >= 75 and awards < 5:
            asked = Decimal(app.amount_asked_fen) / 100
            amount = (asked * Decimal("0.8")).quantize(Decimal("1"))
            award = services.award_decide(actor=office2, application=app, amount=str(amount), unit="元")
            awards += 1
            if awards == 1:
                report = services.completion_submit(
                    actor=office, award=award, summary=f"项目按计划完成，开展活动 24 场，覆盖 3,600 人次。{NOTE}",
                    spent=str(amount), unit="元")
                services.completion_review(actor=office2, report=report, accept=True)
        elif i % 3 == 2:
            services.application_decline(actor=office2, application=app, comment="评审得分未达资助线。")
    return len(districts), awards
