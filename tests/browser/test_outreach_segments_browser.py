"""The feed on a 390 px phone (a citizen, an older citizen in elder mode, a visitor) and the segment
console's live count on a desktop (issue 9, points 3 and 4). Every citizen page passes axe."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import log_in, shot
from tests.browser.portal import PASSWORD, PHONE, citizen_login, portal_world, small_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_feed_on_a_phone_for_a_citizen_an_elder_and_a_visitor(region: Any, browser: Any, live_server: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    portal_world(contest=False, inbox=False)
    for username, min_px in (("citizen", 17), ("elder", 18)):
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        citizen_login(page, live_server.url, username)
        page.goto(f"{live_server.url}/me/")
        assert page.locator("h1").inner_text() == "为您推荐"
        assert page.locator("[data-testid=feed-item]").count() == 4
        # the farmer's own key group and interest (health) come first
        assert page.locator("[data-testid=feed-item]").first.get_attribute("data-code") in ("wash-hands",
                                                                                            "overnight-water")
        assert not small_text(page, min_px), small_text(page, min_px)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert_accessible(page)
        shot(page, f"outreach-feed-{username}-390")
        ctx.close()
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/me/")
    expect(page.locator("[data-testid=feed-visitor]")).to_be_visible()
    assert page.locator("[data-testid=feed-item]").count() == 4
    assert_accessible(page)
    ctx.close()


def test_segment_console_shows_a_live_count_and_refuses_a_bad_rule(region: Any, browser: Any,
                                                                   live_server: Any) -> None:
    from kepu.core.services import user_create
    from kepu.outreach.segment_models import Segment

    portal_world(contest=False, inbox=False)
    user_create(username="ops", password=PASSWORD, roles=[("campaigner", "320400", None)])
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, live_server.url, "ops", PASSWORD)
    page.goto(f"{live_server.url}/outreach/segments/new/")
    count = page.locator("[data-testid=segment-live-count]")
    page.check("input[data-field=key_groups][value=elderly]")  # the builder writes the rules, the count follows
    page.wait_for_function("() => document.querySelector('#seg-rules').value.includes('elderly')")
    page.locator("[data-testid=segment-preview] tbody tr").first.wait_for()
    assert count.inner_text() == "1"
    page.fill("#seg-rules", json.dumps({"all": [{"field": "age_band", "op": "between", "value": ["50-59"]}]}))
    page.locator("[data-testid=segment-rule-errors] p").first.wait_for()
    assert page.locator("[data-testid=segment-rule-errors]").inner_text().startswith("all[0].op: ")
    assert count.inner_text() == "—"
    page.fill("#seg-rules", json.dumps({"field": "key_groups", "op": "contains_any", "value": ["farmers", "elderly"]}))
    page.wait_for_function("() => document.querySelector('[data-testid=segment-live-count]').textContent === '2'")
    page.fill("#seg-code", "farmers-elders")
    page.fill("#seg-name", "农民和老年人")
    page.click("[data-testid=segment-save]")
    page.wait_for_url(f"{live_server.url}/outreach/segments/farmers-elders/")
    assert Segment.objects.get(code="farmers-elders").rules["op"] == "contains_any"
    shot(page, "outreach-segment-console")
    ctx.close()
