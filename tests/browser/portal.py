"""A small citizen-portal world for browser tests: an item bank, topics and published pieces, a running
contest, citizens (one in elder mode) and a message in the inbox sent by a real campaign; plus the
page measurements the 适老化 checks use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

PASSWORD = "portal-pass-2025"
WUJIN, WUJIN_TOWN, TIANNING = "320412", "320412100", "320402"
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}

PIECES = [
    ("wash-hands", "health", "饭前便后要洗手", "用流动的水和肥皂搓洗至少二十秒，能去掉手上大多数病菌。"),
    ("overnight-water", "health", "隔夜水会致癌吗", "烧开后盖好放一夜的水，亚硝酸盐含量极低，不会致癌。"),
    ("soil-test", "farming", "测土配方施肥", "先测土壤养分，再按作物需要配肥，少花钱又增产。"),
    ("phone-scam", "digital", "识别电信诈骗", "陌生来电要求转账一律挂断，公检法不会通过电话办案。"),
]


def portal_world(*, contest: bool = True, inbox: bool = True) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from kepu.core.models import OrgUnit
    from kepu.core.services import user_create
    from kepu.literacy.tests.factories import load_items
    from kepu.outreach.models import Resource, Topic

    load_items()
    names = [("health", "健康", "Health"), ("farming", "农业", "Farming"), ("digital", "数字生活", "Digital life")]
    topics = {code: Topic.objects.create(code=code, name_zh=zh, name_en=en, order=i)
              for i, (code, zh, en) in enumerate(names)}
    now = timezone.now()
    pieces = []
    for code, topic, title, summary in PIECES:
        r = Resource.objects.create(
            code=code, title_zh=title, title_en=code.replace("-", " ").title(), summary_zh=summary,
            body_zh=f"<p>{summary}</p><p>记住这一点，并告诉家里人。</p>", status="published", published_at=now,
            dimensions=["knowledge"], key_groups=["farmers", "elderly"], source="Kepu 原创", licence="CC BY 4.0")
        r.topics.set([topics[topic]])
        pieces.append(r)
    world: dict[str, Any] = {"topics": topics, "pieces": pieces}
    world["citizen"] = make_citizen("citizen", district=WUJIN, town=WUJIN_TOWN, age_band="50-59",
                                    occupation="farmer", key_groups=["farmers"])
    world["elder"] = make_citizen("elder", district=TIANNING, town=None, age_band="70+", occupation="retired",
                                  key_groups=["elderly"], elder=True)
    if contest:
        from kepu.quiz.models import Contest

        world["contest"] = Contest.objects.create(
            title_zh="科学素质网络竞赛", title_en="Science literacy contest",
            org_unit=OrgUnit.objects.get(code="320400"),
            starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(days=7), question_count=3,
            seconds_per_question=60, attempts_per_day=1)
    if inbox:
        camp = user_create(username="camp", password=PASSWORD, roles=[("campaigner", "320400", None)])
        camp2 = user_create(username="camp2", password=PASSWORD, roles=[("campaigner", "320400", None)])
        send_campaign(camp, camp2, pieces[0])
    world["users"] = User.objects.all()
    return world


def make_citizen(username: str, *, district: str, town: str | None, age_band: str, occupation: str,
                 key_groups: list[str], elder: bool = False) -> Any:
    from kepu.citizens.services import citizen_signup, elder_mode_set
    from kepu.core.models import OrgUnit

    c = citizen_signup(identifier=username, password=PASSWORD, password_again=PASSWORD,
                       consents_granted=("personalise", "push", "analytics"))
    c.district = OrgUnit.objects.get(code=district)
    c.town = OrgUnit.objects.get(code=town) if town else None
    c.age_band, c.occupation, c.key_groups, c.interests = age_band, occupation, key_groups, ["health"]
    c.save()
    if elder:
        elder_mode_set(citizen=c, on=True)
    return c


def send_campaign(author: Any, approver: Any, piece: Any) -> Any:
    """A real in-app campaign to everyone in the city: created, approved by a second operator, run."""
    from kepu.core.models import OrgUnit
    from kepu.outreach.campaigns import campaign_approve, campaign_create, campaign_start
    from kepu.outreach.segment_models import Segment

    city = OrgUnit.objects.get(code="320400")
    segment = Segment.objects.create(
        code="everyone", name_zh="全市市民", name_en="Everyone", org_unit=city,
        rules={"field": "age_band", "op": "in", "value": ["18-29", "30-39", "40-49", "50-59", "60-69", "70+"]})
    campaign = campaign_create(user=author, name="夏季健康", org_unit=city, segment=segment, resources=[piece],
                               channel="inbox", title="健康提醒：饭前便后要洗手", message="来看看这篇科普。",
                               send_at=timezone.now())
    campaign_approve(campaign=campaign, user=approver)
    campaign_start(campaign=campaign, user=author)  # the immediate task backend runs it on commit
    return campaign


def citizen_login(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/me/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_load_state()


# Visible elements that carry their own text, with their font size (px), skipping screen-reader-only text.
TEXT_SIZES = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getClientRects().length && e.offsetWidth > 1 && e.offsetHeight > 1
    && getComputedStyle(e).visibility !== 'hidden'
    && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.tagName + (e.className ? '.' + String(e.className).split(' ').join('.') : ''),
             parseFloat(getComputedStyle(e).fontSize), e.textContent.trim().slice(0, 24)])"""

# Tap targets: links, buttons, form controls (a checkbox or radio counts by its label's box).
TAP_TARGETS = """() => Array.from(document.querySelectorAll(
    'main a[href], main button, main input:not([type=hidden]), main select, main textarea, main summary,'
    + ' nav a[href], header button, header a[href]'))
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map(e => {
    let box = e;
    if ((e.type === 'checkbox' || e.type === 'radio') && e.closest('label')) box = e.closest('label');
    if (e.tagName === 'A' && e.closest('p, li, td, dd') && !e.classList.contains('btn')
        && e.closest('p, li, td, dd').textContent.trim() !== e.textContent.trim()) {
      return null;  // a link inside a sentence (WCAG 2.5.8 exempts inline links)
    }
    const r = box.getBoundingClientRect();
    return [e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : ''),
            Math.round(r.width), Math.round(r.height), (e.textContent || e.value || '').trim().slice(0, 20)];
  }).filter(x => x)"""


def small_text(page: Any, minimum: float) -> list[Any]:
    return [s for s in page.evaluate(TEXT_SIZES) if s[1] < minimum]


def small_targets(page: Any, minimum: int = 48) -> list[Any]:
    return [t for t in page.evaluate(TAP_TARGETS) if t[1] < minimum or t[2] < minimum]
