"""Demo records of the talent pool and volunteer service for every county-level unit of the city:
experts (committee members, chief communicators, reviewers, emergency experts; some with accounts
expert1 … expert5), volunteer teams (incl. 银龄 and 五老 teams), volunteers and 科普信息员, and service
records 2024–2026 (approved, pending, rejected), made through the services and then published to the
plan's indicators. Every invented name is marked （演示）. Idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kepu.community import indicators, services
from kepu.community import volunteers as vsvc
from kepu.community.models import Expert, ServiceRecord, TeamKind, Volunteer
from kepu.core.models import OrgUnit
from kepu.core.services import user_create

DEMO_PASSWORD = "kepu-demo"  # as kepu.plans.demo
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢"
GIVEN = ["建国", "海燕", "志强", "丽华", "明", "静", "伟", "芳", "敏", "军", "洋", "磊", "婷", "勇", "霞", "俊", "红梅",
         "晓东", "玉兰", "文博", "春生", "秀英", "国平", "雪", "鹏", "琳"]
EXPERT_ORGS = [
    ("常州市第一人民医院", ["医学", "公共卫生"], "传染病防控、慢病管理"),
    ("常州市气象局", ["气象", "防灾减灾"], "灾害性天气预警、气候变化"),
    ("常州大学", ["化学", "材料"], "新材料、化工安全"),
    ("河海大学常州校区", ["水利", "环境"], "水环境治理"),
    ("常州市农业科学研究院", ["农业"], "稻麦栽培、绿色防控"),
    ("常州市疾病预防控制中心", ["公共卫生", "医学"], "食品安全、疫苗接种"),
    ("常州市地震局", ["地震", "应急"], "地震科普、应急避险"),
    ("江苏理工学院", ["信息技术", "人工智能"], "人工智能、网络安全"),
    ("常州市科技馆", ["科普教育"], "科学教育、展教活动"),
    ("常州市消防救援支队", ["消防", "应急"], "火灾防范、逃生自救"),
]
ROLE_CYCLE = [["committee", "reviewer"], ["chief"], ["reviewer"], ["emergency", "reviewer"], ["reviewer"],
              ["committee"], ["emergency"], ["chief", "reviewer"]]
CONTENTS = ["社区科普讲座志愿服务", "科技馆展厅讲解", "老年人智能手机使用辅导", "防灾减灾宣传", "青少年科学实验指导",
            "农村科技咨询服务", "全国科普日现场活动", "科技活动周展览服务", "防范电信诈骗宣传", "健康知识进社区"]
PLACES = ["社区党群服务中心", "科技馆", "文化广场", "村委会", "中学", "老年活动中心"]


def _name(rnd: random.Random) -> str:
    return f"{rnd.choice(SURNAMES)}{rnd.choice(GIVEN)}（演示）"


def _staff(username: str, full_name: str, region: OrgUnit) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=DEMO_PASSWORD, full_name=full_name,
                           roles=[("office_admin", region.code, None)])
    return user


@transaction.atomic
def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    region: OrgUnit = plan.region
    years = [y for y in (2024, 2025, 2026) if y <= year]
    if Volunteer.objects.filter(name__endswith="（演示）", org_unit__path__startswith=region.path).exists():
        # Already seeded: only republish (the plan's demo may have replaced its observations).
        published = indicators.publish_all(city=region, years=years)
        return {"experts": 0, "volunteers": 0, "records": 0, "published": published}
    rnd = random.Random(rng_seed)
    recorder = _staff("office", "市科学素质办 管理员", region)
    approver = _staff("office2", "市科学素质办 复核员", region)
    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT).order_by("sort", "code"))
    # experts: 30, spread over the city and its districts; expert1 … expert5 can log in
    experts = 0
    for i in range(30):
        org, fields, spec = EXPERT_ORGS[i % len(EXPERT_ORGS)]
        user = None
        if i < 5:
            user = user_create(username=f"expert{i + 1}", password=DEMO_PASSWORD, roles=[],
                               full_name=f"演示专家{i + 1}")
            if Expert.objects.filter(user=user).exists():
                continue
        unit = region if i % 3 == 0 else districts[i % len(districts)]
        e = services.expert_create(
            actor=recorder, name=_name(rnd), organisation=org, org_unit=unit, fields=fields,
            roles=ROLE_CYCLE[i % len(ROLE_CYCLE)],
            title=rnd.choice(["教授", "研究员", "主任医师", "高级工程师", "副教授"]),
            specialities=spec, languages=["普通话", "常州话"] if i % 2 else ["普通话", "English"],
            availability=rnd.choice(["工作日晚上", "周末", "提前一周预约"]), phone=f"1701000{i:04d}", user=user)
        if user is not None:
            services.expert_assign(actor=recorder, expert=e, kind="review", title="科普教育基地申报评审（演示）")
            services.expert_assign(actor=recorder, expert=e, kind="event", title="全国科普日专家讲座（演示）")
        experts += 1
    # teams and volunteers in all county-level units
    n_vol = n_rec = 0
    phone = 0
    for district in districts:
        short = district.name_zh.replace("常州", "")
        teams = [
            vsvc.team_create(actor=recorder, name=f"{short}科技志愿服务队（演示）", kind=TeamKind.GENERAL,
                             org_unit=district, leader=_name(rnd)),
            vsvc.team_create(actor=recorder, name=f"{short}银龄科普志愿服务队（演示）", kind=TeamKind.SILVER,
                             org_unit=district, leader=_name(rnd)),
            vsvc.team_create(actor=recorder, name=f"{short}五老科普宣讲团（演示）", kind=TeamKind.WULAO,
                             org_unit=district, leader=_name(rnd)),
        ]
        for k in range(8 + rnd.randint(0, 6)):
            phone += 1
            v = vsvc.volunteer_register(
                actor=recorder, name=_name(rnd), org_unit=district, phone=f"1702000{phone:04d}",
                team=teams[k % 3], is_info_officer=k % 4 == 0,
                skills=rnd.choice(["讲解", "摄影", "医疗", "编程", "农技"]),
                registered_on=dt.date(rnd.choice([2023, 2024, 2025, 2026]), rnd.randint(1, 11), rnd.randint(1, 28)),
                publish=False)
            n_vol += 1
            for y in (2024, 2025, 2026):
                if v.registered_on.year > y:
                    continue
                for m in rnd.sample(range(1, 12), k=rnd.randint(1, 3)):
                    day = rnd.randint(1, 28)
                    start = timezone.make_aware(dt.datetime(y, m, day, rnd.choice([9, 14])))
                    hours = rnd.choice([2, 3, 4])
                    r = vsvc.record_create(
                        actor=recorder, volunteer=v, org_unit=district, organiser=f"{short}科协",
                        content=rnd.choice(CONTENTS), place=short + rnd.choice(PLACES), start=start,
                        end=start + dt.timedelta(hours=hours), hours=Decimal(hours),
                        training="志愿服务岗前培训" if rnd.random() < 0.3 else "",
                        evaluation=rnd.choice(["excellent", "good", "good", "fair"]))
                    n_rec += 1 if r.pk else 0
    pending = list(ServiceRecord.objects.filter(status="pending", org_unit__path__startswith=region.path)
                   .select_related("volunteer", "org_unit"))
    rnd2 = random.Random(rng_seed + 1)
    approve, reject = [], []
    for r in pending:
        fate = rnd2.random()
        if fate < 0.78:
            approve.append(r)
        elif fate < 0.9:
            reject.append(r)
    if approve:
        vsvc.records_approve(actor=approver, records=approve)
    if reject:
        vsvc.records_reject(actor=approver, records=reject, reason="缺少签到记录，请补充后重新提交（演示）")
    published = indicators.publish_all(city=region, years=years)
    return {"experts": experts, "volunteers": n_vol, "records": n_rec, "published": published}
