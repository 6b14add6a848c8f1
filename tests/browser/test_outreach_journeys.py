"""Journeys through the outreach pages, as people use them (issue 9, point 10), on Debian's Chromium:

- a citizen on a phone: sign up → profile → feed → open a piece → the daily question → the inbox;
- an older citizen in elder mode: the daily question one per screen, large text and targets, read aloud
  with the browser's speech synthesis (the button is hidden where there is none);
- an editor: create a piece → a second editor reviews it → publish → citizens find it by search.
Every page on the way is checked with axe (WCAG 2.1 AA, no serious/critical violation)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import log_in, shot
from tests.browser.portal import PASSWORD, PHONE, citizen_login, portal_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(region: Any) -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()
    return portal_world(inbox=False)


def test_editor_journey(world: dict[str, Any], browser: Any, live_server: Any) -> None:
    from kepu.core.services import user_create
    from kepu.outreach.models import Resource

    base = live_server.url
    user_create(username="editor", password=PASSWORD, roles=[("editor", "320400", None)])
    user_create(username="editor2", password=PASSWORD, roles=[("editor", "320400", None)])

    # The first editor writes a draft
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, base, "editor", PASSWORD)
    page.goto(f"{base}/outreach/resources/new/")
    page.fill("#id_code", "heat-stroke")
    page.select_option("#id_kind", "article")
    page.fill("#id_title_zh", "高温天气防中暑")
    page.fill("#id_summary_zh", "中午少出门，多喝水，头晕恶心要马上到阴凉处休息。")
    page.fill("#id_body_zh", "<p>中暑的早期信号是头晕、口渴、乏力。</p><p>出现这些信号，立即到阴凉通风处。</p>")
    page.locator('input[name="topics"][value="health"]').check()
    page.get_by_test_id("resource-save").click()
    page.wait_for_url(f"{base}/outreach/resources/heat-stroke/")
    assert Resource.objects.get(code="heat-stroke").status == "draft"
    # Nobody reviews their own piece
    assert page.get_by_test_id("do-review").count() == 0 and page.get_by_test_id("own-note").count() == 1
    shot(page, "journey-editor-draft")
    ctx.close()

    # A second editor reviews it and publishes it
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, base, "editor2", PASSWORD)
    page.goto(f"{base}/outreach/resources/heat-stroke/")
    page.get_by_test_id("do-review").click()
    page.wait_for_load_state()
    assert Resource.objects.get(code="heat-stroke").status == "reviewed"
    page.get_by_test_id("do-publish").click()
    page.wait_for_load_state()
    piece = Resource.objects.get(code="heat-stroke")
    assert piece.status == "published" and piece.reviewer is not None and piece.reviewer.username == "editor2"
    shot(page, "journey-editor-published")
    ctx.close()

    # A citizen finds it by search, and opens it
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    citizen_login(page, base, "citizen")
    page.goto(f"{base}/me/search/")
    page.get_by_test_id("search-q").fill("中暑")
    page.get_by_test_id("search-go").click()
    results = page.get_by_test_id("search-results")
    assert "高温天气防中暑" in results.locator("a").first.inner_text()
    assert_accessible(page)
    shot(page, "journey-editor-search")
    results.locator("a").first.click()
    page.wait_for_url(f"{base}/me/r/heat-stroke/")
    assert "阴凉通风处" in page.inner_text("main")
    ctx.close()
