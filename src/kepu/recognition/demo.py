"""Demo recognition records: the plan's honours (市长奖 and the 表扬激励 honours), and for 2024–2026
nominations of individuals and collectives in every county-level unit, reviewed and decided by the
office (a few declined, one award revoked), through the services so SCI_HONOURS is published.
Invented names are marked （演示）."""

from __future__ import annotations

import random
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from kepu.core.models import OrgUnit
from kepu.core.services import user_create
from kepu.recognition import services
from kepu.recognition.models import Nomination

DEMO_PASSWORD = "kepu-demo"
NOTE = "（演示）"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙朱马胡郭林何高罗"
GIVEN = ["子涵", "浩然", "思远", "雨桐", "梓萱", "宇轩", "欣怡", "俊杰", "佳怡", "明轩", "建国", "秀英", "志强", "丽华"]
SCHOOLS = ["实验中学", "高级中学", "外国语学校", "第一中学"]
REASONS = {
    "CZ-MAYOR-YOUTH": "在江苏省青少年科技创新大赛中获一等奖，发明作品已申请实用新型专利。",
    "CZ-SCI-INDIVIDUAL": "长期扎根基层开展科普讲座，年均开展活动 40 余场，受众逾万人次。",
    "CZ-SCI-VOLUNTEER": "累计志愿服务 300 小时以上，组织银龄科普志愿服务队。",
    "CZ-SCI-COLLECTIVE": "建成社区科普e站，全年开展科普活动 60 余场，居民科学素质明显提升。",
}


def _staff(username: str, full_name: str, region: OrgUnit) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=DEMO_PASSWORD, full_name=full_name,
                           roles=[("office_admin", region.code, None)])
    return user


def _person(rnd: random.Random) -> str:
    return f"{rnd.choice(SURNAMES)}{rnd.choice(GIVEN)}{NOTE}"


@transaction.atomic
def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    region: OrgUnit = plan.region
    if Nomination.objects.filter(org_unit__path__startswith=region.path, reason__endswith=NOTE).exists():
        return {"nominations": 0, "awards": 0}
    rnd = random.Random(rng_seed)
    office = _staff("office", "市科学素质办 管理员", region)
    office2 = _staff("office2", "市科学素质办 复核员", region)
    honours = {h.code: h for h in services.plan_honours_ensure(actor=office, city=region)}
    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT).order_by("sort", "code"))
    made = awarded = 0
    revoked_one = False
    for y in (year - 2, year - 1, year):
        for d in districts:
            town = OrgUnit.objects.filter(parent=d, level=OrgUnit.Level.TOWN).order_by("code").first() or d
            entries: list[dict[str, Any]] = [
                {"honour": honours["CZ-MAYOR-YOUTH"], "kind": "individual", "org_unit": d,
                 "person_name": _person(rnd), "organisation": f"{d.name_zh}{rnd.choice(SCHOOLS)}{NOTE}"},
                {"honour": honours["CZ-SCI-INDIVIDUAL"], "kind": "individual", "org_unit": d,
                 "person_name": _person(rnd), "organisation": f"{d.name_zh}科学技术协会{NOTE}"},
            ]
            if rnd.random() < 0.6:
                entries.append({"honour": honours["CZ-SCI-COLLECTIVE"], "kind": "collective", "org_unit": town,
                                "collective_name": f"{town.name_zh}科普工作站{NOTE}"})
            if rnd.random() < 0.4:
                entries.append({"honour": honours["CZ-SCI-VOLUNTEER"], "kind": "individual", "org_unit": town,
                                "person_name": _person(rnd), "organisation": f"{town.name_zh}志愿服务站{NOTE}"})
            for e in entries:
                honour = e.pop("honour")
                n = services.nomination_create(actor=office, honour=honour, year=y,
                                               reason=REASONS[honour.code] + NOTE, evidence="获奖证书、活动照片", **e)
                made += 1
                score = rnd.randrange(60, 98)
                services.nomination_review(actor=office2, nomination=n, recommend=score >= 72, score=score)
                if score >= 72:
                    award = services.award_decide(actor=office2, nomination=n,
                                                  certificate_no=f"CZKP{y}-{awarded + 1:03d}")
                    awarded += 1
                    if y == year - 1 and d.code == "320413" and not revoked_one:
                        revoked_one = True
                        services.award_revoke(actor=office2, award=award, reason="经复核，申报材料与事实不符。（演示）")
                else:
                    services.nomination_decline(actor=office2, nomination=n, comment="评审未通过。")
    return {"nominations": made, "awards": awarded}
