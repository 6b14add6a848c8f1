"""The catalogue in Chromium: a stored-XSS payload saved by an editor fires nothing on the review page
or the citizen page; the console at desktop width and the citizen search at 390 px, checked with axe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "catalogue-pass-2026"
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "outreach"
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}
XSS = ('<p>正文<script>alert("s1")</script><img src="x" onerror="alert(\'s2\')">'
       '<a href="javascript:alert(\'s3\')" id="js-link">点这里</a></p><svg onload="alert(\'s4\')"></svg>')


@pytest.fixture
def editors(region: Any) -> dict[str, Any]:
    from django.core.cache import cache

    from kepu.core.services import user_create
    from kepu.outreach.content_import import content_import

    cache.clear()
    content_import(path=FIXTURE / "content", publish=True)
    return {name: user_create(username=name, password=PASSWORD, roles=[("editor", "320400", None)])
            for name in ("editor", "editor2")}


def test_stored_xss_fires_no_dialog_on_the_review_and_citizen_pages(editors: Any, browser: Any,
                                                                    live_server: Any) -> None:
    from kepu.outreach import services

    r = services.resource_create(actor=editors["editor"], data={
        "code": "xss", "title_zh": '<img src=x onerror="alert(\'t\')">标题', "body_zh": XSS, "topics": ["health"]})
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, base, "editor2", PASSWORD)
    page.goto(f"{base}/outreach/resources/xss/")
    assert "正文" in page.get_by_test_id("resource-body").inner_text()
    page.get_by_text("点这里").click()  # its javascript: URL was removed: nothing runs
    page.get_by_test_id("do-review").click()
    page.wait_for_load_state()
    page.get_by_test_id("do-publish").click()
    page.wait_for_load_state()
    r.refresh_from_db()
    assert r.status == "published"
    page.goto(f"{base}/me/r/xss/")
    ctx.close()
    anonymous = browser.new_context(**PHONE).new_page()
    anonymous.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    anonymous.goto(f"{base}/me/r/xss/")
    assert "正文" in anonymous.inner_text("main")
    assert dialogs == []


def test_console_and_citizen_search_pages(editors: Any, browser: Any, live_server: Any) -> None:
    from kepu.outreach import services

    services.resource_create(actor=editors["editor2"], data={
        "code": "draft-1", "title_zh": "冬季取暖防一氧化碳中毒", "summary_zh": "开窗通风。", "topics": ["safety"]})
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, base, "editor", PASSWORD)
    page.goto(f"{base}/outreach/resources/")
    assert page.get_by_test_id("resources").locator("tbody tr").count() == 6
    assert_accessible(page)
    shot(page, "catalogue-console")
    page.goto(f"{base}/outreach/resources/review/")
    assert "冬季取暖防一氧化碳中毒" in page.get_by_test_id("queue-drafts").inner_text()
    assert_accessible(page)
    page.goto(f"{base}/outreach/resources/draft-1/")
    assert_accessible(page)
    shot(page, "catalogue-review-page")
    page.goto(f"{base}/outreach/resources/new/")
    assert_accessible(page)
    shot(page, "catalogue-new")
    ctx.close()

    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{base}/me/search/")
    phone.get_by_test_id("search-q").fill("高血壓")  # traditional characters
    phone.get_by_test_id("search-go").click()
    phone.wait_for_load_state()
    first = phone.get_by_test_id("search-results").locator("a").first
    assert "高血压患者如何科学控制血压" in first.inner_text()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert_accessible(phone)
    shot(phone, "catalogue-search-phone")
    first.click()
    phone.wait_for_url(f"{base}/me/r/t-hypertension/")
    assert_accessible(phone)
    shot(phone, "catalogue-resource-phone")
