"""Demo records of the events app: the brand series, the campaign calendar 2024–2026, events and
trainings in all seven county-level units of Changzhou with registrations, check-ins and certified
attendees (some people attend more than one training a year, so de-duplication shows), a 五进
setting for most events (by training kind, or by where a science event is taken; some left
unrecorded), 科技特派员 assignments with village visits; then the plan indicators are published from these records.

Registrations and check-ins are written in bulk (tens of thousands of rows; the services would
publish the indicators after every single check-in); the indicators are published once at the end
through kepu.events.indicators, exactly as the services do. Invented names carry "（演示）"."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kepu.core import pii
from kepu.core.models import OrgUnit
from kepu.events import indicators
from kepu.events.models import (
    Assignment,
    CampaignDay,
    CheckIn,
    Event,
    Feedback,
    Registration,
    Series,
    TrainingKind,
    Visit,
)
from kepu.events.services import CODE_ALPHABET, calendar_defaults

SERIES = [
    ("lecture", "龙城科普大讲堂", "Dragon City Science Lectures"),
    ("grassroots", "百场科普进基层", "A Hundred Science Events in Communities"),
    ("study-tour", "科普研学", "Science study tours"),
    ("three-to-country", "三下乡", "Culture, science and health to the countryside"),
    ("sci-day", "全国科普日", "National Science Popularisation Day"),
    ("tech-week", "科技活动周", "Science and Technology Week"),
]
LECTURES = [
    "人工智能与日常生活",
    "健康饮食与慢病预防",
    "气候变化与极端天气",
    "防范电信网络诈骗",
    "太空探索新进展",
    "家庭用电安全",
    "食品安全小常识",
    "应急避险与自救互救",
    "新能源汽车知多少",
    "青少年近视防控",
]
VENUES = ["图书馆报告厅", "文化馆多功能厅", "新时代文明实践中心", "青少年活动中心", "社区党群服务中心", "科技馆"]
TRAININGS: dict[str, tuple[str, tuple[int, int], tuple[int, int], str, list[str]]] = {
    # kind: (title, trainings per district-year, attendees per training, organiser, key groups)
    TrainingKind.COUNSELLORS: ("科技辅导员能力提升培训", (2, 3), (18, 30), "教育局", ["youth"]),
    TrainingKind.HQ_FARMERS: ("高素质农民培育班", (4, 6), (60, 100), "农业农村局", ["farmers"]),
    TrainingKind.AGRI_LEADERS: ("现代农业经营主体带头人培训", (1, 1), (12, 20), "农业农村局", ["farmers"]),
    TrainingKind.RURAL_TALENT: ("农村科技人才培育班", (1, 2), (15, 30), "科协", ["farmers"]),
    TrainingKind.SKILLED_WORKERS: ("技能劳动者职业技能培训", (3, 4), (80, 120), "人社局", ["workers"]),
    TrainingKind.HIGH_SKILLED: ("高技能人才研修班", (2, 3), (40, 70), "人社局", ["workers"]),
    TrainingKind.CHIEF_TECHNICIANS: ("企业首席技师研修", (1, 1), (1, 3), "总工会", ["workers"]),
    TrainingKind.ELDERLY_SMARTPHONE: ("老年人智能手机使用培训", (2, 3), (25, 40), "老年大学", ["elderly"]),
    TrainingKind.OFFICIALS: ("领导干部科学素质专题培训", (1, 1), (30, 50), "委组织部", ["officials"]),
}
# The 五进 setting of trainings by kind ("" : not recorded; 领导干部 trainings are in party schools).
TRAINING_SETTINGS = {
    TrainingKind.COUNSELLORS: Event.Setting.SCHOOL,
    TrainingKind.HQ_FARMERS: Event.Setting.VILLAGE,
    TrainingKind.AGRI_LEADERS: Event.Setting.VILLAGE,
    TrainingKind.RURAL_TALENT: Event.Setting.VILLAGE,
    TrainingKind.SKILLED_WORKERS: Event.Setting.ENTERPRISE,
    TrainingKind.HIGH_SKILLED: Event.Setting.ENTERPRISE,
    TrainingKind.CHIEF_TECHNICIANS: Event.Setting.ENTERPRISE,
    TrainingKind.ELDERLY_SMARTPHONE: Event.Setting.COMMUNITY,
    TrainingKind.OFFICIALS: "",
}
# Science events taken out to a 五进 setting, and where they are held (after the unit's name).
SETTING_VENUES = {
    Event.Setting.SCHOOL: ["实验小学报告厅", "中学科技教室", "中心小学操场"],
    Event.Setting.ENTERPRISE: ["工业园区职工之家", "企业职工培训中心"],
    Event.Setting.VILLAGE: ["田间学校", "农家书屋", "村民议事广场"],
    Event.Setting.COMMUNITY: ["社区党群服务中心", "社区邻里中心"],
    Event.Setting.FAMILY: ["亲子科学工作坊", "家庭教育指导服务站"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅春林海燕文斌宇浩凯鹏飞"
CONTENTS = [
    "水稻病虫害绿色防控",
    "测土配方施肥指导",
    "设施蔬菜栽培技术",
    "果树修剪与保花保果",
    "畜禽养殖防疫",
    "稻虾共作技术",
    "农机安全操作",
    "茶叶修剪与采摘",
]


def _tz() -> Any:
    return timezone.get_current_timezone()


def _name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _i in range(rnd.choice((1, 2)))) + "（演示）"


def _code(rnd: random.Random, used: set[str]) -> str:
    while True:
        c = "".join(rnd.choice(CODE_ALPHABET) for _i in range(10))
        if c not in used:
            used.add(c)
            return c


class _People:
    """A pool of invented people per district (phone → name), so some come back to several events."""

    def __init__(self, rnd: random.Random, index: int, size: int) -> None:
        self.rnd = rnd
        base = (index + 1) * 10_000_000
        self.people = [(f"1{rnd.choice('3589')}{base + i:09d}"[:11], _name(rnd)) for i in range(size)]
        self._parts: dict[str, tuple[str, str, str]] = {}

    def sample(self, n: int) -> list[tuple[str, str]]:
        return self.rnd.sample(self.people, min(n, len(self.people)))

    def parts(self, phone: str) -> tuple[str, str, str]:
        if phone not in self._parts:
            self._parts[phone] = (pii.encrypt(phone), pii.match_key("phone", phone), pii.mask_phone(phone))
        return self._parts[phone]


def _event_time(rnd: random.Random, year: int, today: dt.date, campaigns: list[CampaignDay]) -> dt.datetime:
    if campaigns and rnd.random() < 0.35:
        c = rnd.choice(campaigns)
        day = c.start + dt.timedelta(days=rnd.randint(0, (c.end - c.start).days))
    else:
        last = dt.date(year, 12, 20) if year < today.year else today + dt.timedelta(days=20)
        day = dt.date(year, 1, 10) + dt.timedelta(days=rnd.randint(0, (last - dt.date(year, 1, 10)).days))
    return dt.datetime.combine(day, dt.time(rnd.choice((9, 10, 14, 15)), 0), tzinfo=_tz())


@transaction.atomic
def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    region: OrgUnit = plan.region
    if Event.objects.filter(title__endswith="（演示）", district__path__startswith=region.path).exists():
        return {"events": 0, "registrations": 0, "checkins": 0, "certified": 0, "visits": 0}
    rnd = random.Random(rng_seed)
    # The 五进 settings are drawn from their own generator, so the other records stay as they were.
    srnd = random.Random(rng_seed + 1)
    now = timezone.now()
    today = timezone.localdate()
    years = [y for y in (2024, 2025, 2026) if y <= year]
    series = {
        code: Series.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})[0]
        for code, zh, en in SERIES
    }
    for y in years:
        for d in calendar_defaults(y):
            CampaignDay.objects.get_or_create(
                year=y, code=d["code"], defaults={k: v for k, v in d.items() if k != "code"}
            )
    creator = User.objects.filter(username="office").first()
    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT).order_by("sort", "code"))
    used_codes: set[str] = set(Registration.objects.values_list("code", flat=True))
    counts = {"events": 0, "registrations": 0, "checkins": 0, "certified": 0, "visits": 0}
    for index, district in enumerate(districts):
        towns = list(OrgUnit.objects.filter(parent=district, level=OrgUnit.Level.TOWN).order_by("code")) or [district]
        people = _People(rnd, index, 2600)
        short = district.name_zh
        for y in years:
            campaigns = list(CampaignDay.objects.filter(year=y))
            plans: list[tuple[dict[str, Any], int]] = []
            for i in range(rnd.randint(9, 14)):
                s = rnd.choice(list(series.values()))
                topic = rnd.choice(LECTURES)
                plans.append(
                    (
                        {
                            "series": s,
                            "title": f"{s.name_zh}·{topic}（演示）",
                            "kind": Event.Kind.EVENT,
                            "training_kind": "",
                            "organiser": f"{short}科协",
                            "key_groups": rnd.sample(["youth", "farmers", "workers", "elderly"], 2),
                        },
                        rnd.randint(30, 90) + i,
                    )
                )
            for kind, (title, (lo_n, hi_n), (lo_a, hi_a), org, groups) in TRAININGS.items():
                for _i in range(rnd.randint(lo_n, hi_n)):
                    plans.append(
                        (
                            {
                                "series": None,
                                "title": f"{short}{title}（演示）",
                                "kind": Event.Kind.TRAINING,
                                "training_kind": kind,
                                "organiser": f"{short}{org}",
                                "key_groups": groups,
                            },
                            rnd.randint(lo_a, hi_a),
                        )
                    )
            for data, attendees in plans:
                starts = _event_time(rnd, y, today, campaigns)
                unit = rnd.choice(towns) if rnd.random() < 0.5 else district
                hours = 3 if data["kind"] == Event.Kind.EVENT else rnd.choice((6, 8))
                venue = f"{unit.name_zh}{rnd.choice(VENUES)}"
                setting, venue = _setting(srnd, data, unit, venue)
                event = Event.objects.create(
                    **data,
                    org_unit=unit,
                    district=district,
                    venue=venue,
                    setting=setting,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=hours),
                    capacity=attendees + rnd.randint(0, 30),
                    created_by=creator,
                )
                counts["events"] += 1
                held = event.ends_at < now
                regs = []
                for phone, name in people.sample(attendees):
                    enc, key, masked = people.parts(phone)
                    group = data["key_groups"][0] if data["key_groups"] and rnd.random() < 0.8 else ""
                    regs.append(
                        Registration(
                            event=event,
                            name=name,
                            phone_enc=enc,
                            phone_key=key,
                            phone_masked=masked,
                            key_group=group,
                            code=_code(rnd, used_codes),
                            walk_in=rnd.random() < 0.6,
                            registered_by=creator,
                        )
                    )
                Registration.objects.bulk_create(regs)
                counts["registrations"] += len(regs)
                if not held:
                    continue
                saved = list(Registration.objects.filter(event=event).order_by("id"))
                attended = [r for r in saved if rnd.random() < 0.88]
                CheckIn.objects.bulk_create(
                    [
                        CheckIn(
                            registration=r,
                            client_id=f"demo-{r.code}",
                            by=creator,
                            at=event.starts_at + dt.timedelta(minutes=rnd.randint(-20, 40)),
                        )
                        for r in attended
                    ]
                )
                counts["checkins"] += len(attended)
                if event.kind == Event.Kind.TRAINING:
                    done = [r.pk for r in attended if rnd.random() < 0.92]
                    Registration.objects.filter(pk__in=done).update(certified_at=event.ends_at, certified_by=creator)
                    counts["certified"] += len(done)
                Feedback.objects.bulk_create(
                    [
                        Feedback(
                            registration=r,
                            rating=rnd.choice((3, 4, 4, 5, 5, 5)),
                            comment=rnd.choice(["", "", "内容实用", "讲得很清楚", "希望多办几场"]),
                        )
                        for r in attended
                        if rnd.random() < 0.15
                    ]
                )
        counts["visits"] += _technicians(rnd, district, towns, years, today, creator)
    for y in years:
        indicators.publish_all(city=region, year=y)
    return counts


def _setting(srnd: random.Random, data: dict[str, Any], unit: OrgUnit, venue: str) -> tuple[str, str]:
    """(setting, venue) of a demo event. Trainings: by kind, unrecorded for about one in eight.
    Science events: about half are taken out to a setting (the venue follows it); those held in a
    community centre are 进社区; the rest (libraries, museums, culture halls) have none."""
    if data["kind"] == Event.Kind.TRAINING:
        setting = TRAINING_SETTINGS.get(data["training_kind"], "")
        return (setting if srnd.random() >= 0.12 else ""), venue
    if srnd.random() < 0.5:
        setting = srnd.choice(list(SETTING_VENUES))
        return setting, f"{unit.name_zh}{srnd.choice(SETTING_VENUES[setting])}"
    if "社区" in venue:
        return Event.Setting.COMMUNITY, venue
    return "", venue


def _technicians(
    rnd: random.Random, district: OrgUnit, towns: list[OrgUnit], years: list[int], today: dt.date, creator: User | None
) -> int:
    """12–20 technicians per district, each 包村联户 in a town; most log a few visits a year."""
    from kepu.community.selectors import expert_profile

    experts = []
    for u in User.objects.filter(username__startswith="expert").order_by("username")[:5]:
        profile = expert_profile(u)
        if profile is not None and profile.org_unit_code.startswith(district.code):
            experts.append(u)
    n = 0
    people = [("", f"{_name(rnd)[:-4]}农技员（演示）") for _i in range(rnd.randint(12, 20))]
    people += [(u.username, "") for u in experts]
    for username, name in people:
        a = Assignment.objects.create(
            expert_user=User.objects.get(username=username) if username else None,
            technician_name=name,
            org_unit=rnd.choice(towns),
            district=district,
            households=rnd.randint(10, 40),
            start=dt.date(years[0], 1, 1) + dt.timedelta(days=rnd.randint(0, 200)),
            speciality=rnd.choice(CONTENTS),
            created_by=creator,
        )
        visits = []
        for y in years:
            if rnd.random() < 0.15:  # some assigned technicians log nothing in a year
                continue
            last = min(dt.date(y, 12, 31), today)
            first = max(dt.date(y, 1, 1), a.start)
            if first > last:
                continue
            for _i in range(rnd.randint(2, 8)):
                day = first + dt.timedelta(days=rnd.randint(0, (last - first).days))
                visits.append(
                    Visit(
                        assignment=a,
                        date=day,
                        village=a.org_unit,
                        households_visited=rnd.randint(2, 12),
                        content=rnd.choice(CONTENTS),
                        recorded_by=creator,
                    )
                )
        Visit.objects.bulk_create(visits)
        n += len(visits)
    return n
