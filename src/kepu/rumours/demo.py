"""Demo rumours for every county-level unit of the city: about 90 days of claims (public form, citizens'
accounts, editors and a partner platform) in many wordings of a dozen rumours, five debunks written
by a talent-pool expert and published by a reviewer, and one cluster rising today (自来水检出诺如病毒).
Made through the services; afterwards the answer times are set as they would have happened (each
debunk published a day or two after its first report; claims arriving later answered within minutes),
and the response-time indicator is published. Idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.core.services import user_create
from kepu.rumours import indicators, services
from kepu.rumours.models import Claim, Debunk

DEMO_PASSWORD = "kepu-demo"  # as kepu.plans.demo
MEDIA = ["微信群转发", "朋友圈", "抖音视频文案", "微博", "短信", "口头传言"]
# (topic, daily rate per district, wordings, debunk: (title, verdict, explanation, source) or None)
RUMOURS: list[tuple[str, float, list[str], tuple[str, str, str, str] | None]] = [
    ("health", 0.35,
     ["喝隔夜水会致癌", "隔夜开水千万别喝，亚硝酸盐超标会致癌！", "烧开的水放一夜就有毒了，赶紧转给家人"],
     ("喝隔夜水会致癌？不会", "false",
      "烧开后盖好存放的隔夜水，亚硝酸盐含量远低于生活饮用水卫生标准限值，正常饮用不会致癌。",
      "https://www.nhc.gov.cn/")),
    ("epidemic", 0.3, ["板蓝根能预防新冠", "板兰根冲剂每天喝一包，病毒不敢靠近", "喝板蓝根可以预防流感和新冠"],
     ("板蓝根能预防病毒感染？没有证据", "false",
      "目前没有可靠研究证明板蓝根能预防新冠或流感；预防靠接种疫苗、勤洗手和通风。",
      "https://www.chinacdc.cn/")),
    ("technology", 0.2, ["5G基站辐射会致癌", "5g鸡站建在小区旁边，辐射让人失眠致癌", "5G 信号塔会传播病毒"],
     ("5G 基站辐射致癌、传播病毒？不会", "false",
      "5G 基站的电磁辐射远低于国家限值，属非电离辐射，不会致癌；无线电波也不能携带病毒。",
      "https://www.miit.gov.cn/")),
    ("food_safety", 0.25, ["吃小龙虾会得横纹肌溶解症，千万别吃", "小龙虾都是在臭水沟里养的，重金属超标"],
     ("吃小龙虾就会得横纹肌溶解症？言过其实", "misleading",
      "个别病例与过量食用有关，原因尚未完全明确；正规渠道购买、适量食用即可。",
      "https://www.samr.gov.cn/")),
    ("telecom_fraud", 0.2, ["接到 96110 来电就是诈骗电话", "96110 打来的都是骗子，直接挂断"],
     ("96110 来电是诈骗？不是", "false", "96110 是全国统一的反诈预警劝阻专线，接到来电请耐心接听。",
      "https://www.mps.gov.cn/")),
    ("health", 0.2, ["隔夜茶会致癌", "隔夜茶不能喝，喝了会得癌症"], None),
    ("earthquake", 0.1, ["常州下周会发生地震，赶紧准备", "地震局内部消息：近期苏南有大地震"], None),
    ("heat", 0.15, ["高温天开车放瓶装水会引发车内爆炸", "夏天车里放矿泉水会自燃"], None),
    ("cold_wave", 0.1, ["寒潮来了用热水浇挡风玻璃化冰最快"], None),
    ("environment", 0.12, ["常州自来水厂被污染了，这几天别喝自来水"], None),
]
# One rumour forwarded in three coats (padding, exclamation marks, a 了): near-duplicates, so one cluster rises.
RISING = ("epidemic",
          ["自来水检出诺如病毒，千万别喝生水", "自来水检出诺如病毒！！千万别喝生水，赶紧转给家人",
           "【紧急扩散】自来水里检出了诺如病毒 千万别喝生水！！"])


def _user(username: str, full_name: str, role: str, region: OrgUnit) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=DEMO_PASSWORD, full_name=full_name,
                           roles=[(role, region.code, None)])
    return user


def _expert(office: User, region: OrgUnit) -> User:
    from kepu.community.selectors import expert_profiles
    from kepu.community.services import expert_create

    for p in expert_profiles(role="emergency") or expert_profiles():
        if p.user_id is not None:
            return User.objects.get(pk=p.user_id)
    account = User.objects.filter(username="rumour_expert").first() or User.objects.create_user(
        username="rumour_expert", password=DEMO_PASSWORD, first_name="钱建华（演示）")
    expert_create(actor=office, name="钱建华（演示）", organisation="常州市疾病预防控制中心（演示）", org_unit=region,
                  fields=["公共卫生", "医学"], roles=["emergency"], user=account)
    return account


def _poisson(rnd: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1


def seed(*, plan: Any, year: int = 2026, rng_seed: int = 10) -> dict[str, int]:
    if Claim.objects.exists():
        return {"claims": 0, "debunks": 0}
    region = plan.region
    rnd = random.Random(rng_seed)
    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT).order_by("sort", "code"))
    office = _user("rumour_office", "辟谣办公室（演示）", "office_admin", region)
    editor = _user("rumour_editor", "辟谣编辑（演示）", "editor", region)
    reviewer = _user("rumour_reviewer", "辟谣审核（演示）", "reviewer", region)
    expert = _expert(office, region)
    partner, _token = services.partner_create(actor=office, name="常州发布客户端（演示）", org_unit=region)
    now = timezone.now()
    end = min(now, timezone.make_aware(dt.datetime(year, 12, 31, 20)))
    n = 0
    for r, (topic, rate, wordings, _debunk) in enumerate(RUMOURS):
        for district in districts:
            for back in range(90, 0, -1):
                for _i in range(_poisson(rnd, rate * (1.6 if back < 30 and r < 2 else 1.0))):
                    when = end - dt.timedelta(days=back, minutes=rnd.randint(0, 1439))
                    _submit(rnd, wordings, topic, district, when, partner, editor, n)
                    n += 1
    # The rising cluster: quiet, then a burst today. Each day's reports stay inside that local day (at 00:30
    # the burst is in the last half hour), so the monitor sees the burst today whatever the time.
    since_midnight = end - timezone.localtime(end).replace(hour=0, minute=0, second=0, microsecond=0)
    span = max(0, min(240, int(since_midnight.total_seconds() // 60)))
    for back, count in ((3, 1), (2, 1), (1, 2), (0, 14)):
        for _i in range(count):
            district = rnd.choice(districts[:3])
            when = end - dt.timedelta(days=back, minutes=rnd.randint(0, span))
            _submit(rnd, RISING[1], RISING[0], district, when, partner, editor, n)
            n += 1
    debunks = 0
    for topic, _rate, wordings, answer in RUMOURS:
        if answer is None:
            continue
        title, verdict, explanation, url = answer
        claims = list(Claim.objects.filter(text=wordings[0], debunk__isnull=True).order_by("received_at")[:1])
        if not claims:
            continue
        d = services.debunk_open(actor=editor, claims=claims, title=title)
        services.debunk_assign(actor=editor, debunk=d, expert=expert)
        services.debunk_draft_save(actor=expert, debunk=d, title=title, claim_text=wordings[0], verdict=verdict,
                                   explanation=explanation, evidence="见所列权威来源。",
                                   sources=[{"url": url, "title": f"{title}（权威来源，演示）"}], topic=topic)
        services.debunk_submit(actor=expert, debunk=d)
        services.debunk_publish(actor=reviewer, debunk=d)
        _as_it_happened(rnd, d, claims[0].received_at)
        debunks += 1
    indicators.response_publish(year=timezone.localtime(end).year)
    return {"claims": Claim.objects.count(), "reports": n, "debunks": debunks}


def _submit(rnd: random.Random, wordings: list[str], topic: str, district: OrgUnit, when: dt.datetime,
            partner: Any, editor: User, n: int) -> None:
    text = rnd.choice(wordings) + rnd.choice(["", "", "！", "，转给家人！", "。"])
    kind = rnd.random()
    if kind < 0.1:
        services.claim_enter(actor=editor, text=text, org_unit=district, media=rnd.choice(MEDIA), topic=topic,
                             received_at=when)
    elif kind < 0.25:
        services.partner_claim(partner=partner, text=text, region_code=district.code, media=rnd.choice(MEDIA),
                               topic=topic, received_at=when)
    else:
        services.claim_submit(text=text, source="public_form", org_unit=district, media=rnd.choice(MEDIA),
                              topic=topic, client=f"demo-{n}", received_at=when)


def _as_it_happened(rnd: random.Random, debunk: Debunk, first: dt.datetime) -> None:
    """Demo only: the debunk was published 6–40 hours after the first report; claims that arrived later
    were matched on arrival, within minutes."""
    published = first + dt.timedelta(hours=rnd.uniform(6, 40))
    Debunk.objects.filter(pk=debunk.pk).update(published_at=published)
    for claim in Claim.objects.filter(debunk=debunk):
        answered = max(published, claim.received_at + dt.timedelta(minutes=rnd.uniform(1, 5)))
        Claim.objects.filter(pk=claim.pk).update(answered_at=answered)
