"""The big screen on a 1920×1080 TV: readable from 3 m (body text ≥ 32 px), WCAG AA (axe), one slide at a
time rotated by the static script, a QR code per slide, the leaderboard panel when a contest's board is
served, and the last slides kept on screen when the network drops. Time is driven by Playwright's clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TV = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}

# Every visible element with its own text, and its font size in px.
TEXT_SIZES = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getClientRects().length && !e.closest('svg')
    && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.tagName, parseFloat(getComputedStyle(e).fontSize), e.textContent.trim().slice(0, 20)])"""


def _screen(n: int = 3, **kw: Any) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.core.services import user_create
    from kepu.outreach.kiosk import KioskInput, kiosk_save
    from kepu.outreach.models import Resource, Topic

    health = Topic.objects.create(code="health", name_zh="健康", name_en="Health")
    for i in range(n):
        r = Resource.objects.create(
            code=f"piece-{i}", title_zh=f"第{i + 1}篇：饭前便后要洗手", status="published",
            summary_zh="用流动的水和肥皂搓洗至少二十秒，指缝、指尖和手腕都要洗到，能去掉大多数病菌。")
        r.topics.set([health])
    editor = user_create(username="editor", password="x" * 12, roles=[("editor", "320400", None)])
    return kiosk_save(user=editor, data=KioskInput(
        code="hall", name="湖塘社区大屏", venue="湖塘社区服务中心", org_unit=OrgUnit.objects.get(code="320412"),
        topics=(health,), interval=10, **kw))


def _current(page: Any) -> str:
    return page.locator('[data-testid="kiosk-slide"]:visible').get_attribute("data-code")


def test_kiosk_on_a_tv(region: Any, browser: Any, live_server: Any) -> None:
    from kepu.outreach.models import Resource

    _screen()
    ctx = browser.new_context(**TV)
    page = ctx.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page.clock.install()
    page.goto(f"{live_server.url}/kiosk/hall/")  # no login
    assert page.locator('[data-testid="kiosk-slide"]:visible').count() == 1
    first = _current(page)
    sizes = page.evaluate(TEXT_SIZES)
    assert sizes and [s for s in sizes if s[1] < 32] == []
    assert page.locator('[data-testid="kiosk-slide"]:visible [data-testid="kiosk-qr"] svg').count() == 1
    assert page.locator("#kiosk-pos").inner_text() == "1 / 3"
    assert_accessible(page)
    shot(page, "kiosk-tv")

    # The script rotates to the next slide after the interval
    page.clock.run_for(10_500)
    assert _current(page) != first and page.locator("#kiosk-pos").inner_text() == "2 / 3"

    # Network down at the end of the round: the slides stay on screen
    page.route("**/kiosk/hall/slides/", lambda route: route.abort())
    page.clock.run_for(10_000)
    page.clock.run_for(10_000)
    page.wait_for_function("() => document.body.classList.contains('kiosk-offline')")
    assert page.locator('[data-testid="kiosk-slide"]').count() == 3
    assert page.locator('[data-testid="kiosk-slide"]:visible').count() == 1

    # Back online: the next round brings a newly published piece
    page.unroute("**/kiosk/hall/slides/")
    r = Resource.objects.create(code="piece-new", title_zh="新发布：夏季防溺水", status="published")
    r.topics.set(Resource.objects.get(code="piece-0").topics.all())
    page.clock.run_for(30_000)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=kiosk-slide]').length === 4")
    assert not page.evaluate("() => document.body.classList.contains('kiosk-offline')")
    assert csp == []
    ctx.close()


def test_leaderboard_panel(region: Any, browser: Any, live_server: Any) -> None:
    """When the kiosk shows a contest the board is read from the quiz API; while the API answers with an
    error or the network drops, the last rows stay."""
    import datetime as dt

    from django.test import Client
    from django.utils import timezone

    from kepu.core.models import OrgUnit
    from kepu.quiz.models import Contest

    now = timezone.now()
    contest = Contest.objects.create(
        title_zh="全市科学素质网络竞赛", title_en="City science contest", org_unit=OrgUnit.objects.get(code="320400"),
        starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(days=1), question_count=3)
    _screen(n=1, contest_id=contest.pk)
    # The quiz API's public board has the shape the screen's script reads
    api = f"/api/quiz/contests/{contest.pk}/leaderboard"
    board = Client().get(api).json()
    assert board["title_zh"] == "全市科学素质网络竞赛" and board["persons"] == []
    rows = {"title_zh": "全市科学素质网络竞赛", "title_en": "City science contest",
            "persons": [{"rank": 1, "name": "武进区·农民·50-59 #3f2a", "score": 90},
                        {"rank": 2, "name": "天宁区·70+ #81c0", "score": 80}]}
    ctx = browser.new_context(**TV)
    page = ctx.new_page()
    page.clock.install()
    page.route(f"**{api}", lambda route: route.fulfill(json=rows))
    page.goto(f"{live_server.url}/kiosk/hall/")
    page.wait_for_selector("#kiosk-board:not([hidden]) li")
    assert page.locator("#kiosk-board li").count() == 2
    board = page.locator("#kiosk-board").inner_text()
    assert "武进区·农民·50-59" in board and "全市科学素质网络竞赛" in board
    assert_accessible(page)
    shot(page, "kiosk-tv-leaderboard")
    page.unroute(f"**{api}")
    page.route(f"**{api}", lambda route: route.abort())
    page.clock.run_for(20_000)
    assert page.locator("#kiosk-board li").count() == 2
    ctx.close()
