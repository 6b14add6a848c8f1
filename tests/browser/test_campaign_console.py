"""The campaign console and the inbox in Chromium (issue 9, points 5, 6, 10): a campaigner creates a
campaign with a holdout from a saved segment, a second campaigner approves it, the first starts it
and sees the delivery stats and the effect panel; a citizen on a phone (and an older one in elder
mode) reads the message in the inbox and opens it. Citizen pages are checked with axe."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import log_in, shot
from tests.browser.portal import PASSWORD, PHONE, citizen_login, portal_world, small_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(region: Any) -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()
    return portal_world(contest=False, inbox=True)


def test_a_campaign_from_the_console_reaches_the_inbox_and_its_opens_are_counted(
    world: dict[str, Any], browser: Any, live_server: Any,
) -> None:
    from kepu.outreach.campaign_models import Campaign, Delivery

    base = live_server.url
    author_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    author = author_ctx.new_page()
    log_in(author, base, "camp", PASSWORD)
    author.goto(f"{base}/outreach/campaigns/new/")
    author.fill("#id_name", "识别电信诈骗")
    author.select_option("#id_segment", label="全市市民")
    author.select_option("#id_resources", label="识别电信诈骗")
    author.fill("#id_title", "防诈提醒")
    author.fill("#id_message", "陌生来电要求转账，一律挂断。")
    author.fill("#id_holdout_percent", "50")
    shot(author, "campaign-console-form")
    with author.expect_navigation():
        author.click('[data-testid="campaign-save"]')
    campaign = Campaign.objects.get(name="识别电信诈骗")
    assert author.url == f"{base}/outreach/campaigns/{campaign.pk}/"
    assert author.get_by_test_id("campaign-approve").count() == 0  # not by its author

    approver_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    approver = approver_ctx.new_page()
    log_in(approver, base, "camp2", PASSWORD)
    approver.goto(f"{base}/outreach/campaigns/{campaign.pk}/")
    with approver.expect_navigation():
        approver.click('[data-testid="campaign-approve"]')
    assert "已批准" in approver.get_by_test_id("campaign-status").inner_text()

    author.reload()
    with author.expect_navigation():
        author.click('[data-testid="campaign-start"]')
    assert author.get_by_test_id("campaign-status").inner_text().strip() == "已完成"
    stats = author.get_by_test_id("campaign-stats").inner_text()
    assert "2" in stats  # two citizens targeted
    shot(author, "campaign-console-detail")
    author.goto(f"{base}/outreach/campaigns/")
    assert "识别电信诈骗" in author.get_by_test_id("campaigns").inner_text()
    shot(author, "campaign-console-list")

    # Both citizens: a message from the first campaign (sent by portal_world), maybe one from this one.
    for who, minimum in (("citizen", 17), ("elder", 18)):
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        citizen_login(page, base, who)
        page.goto(f"{base}/me/inbox/")
        assert "健康提醒：饭前便后要洗手" in page.get_by_test_id("inbox").inner_text()
        assert_accessible(page)
        assert not small_text(page, minimum), small_text(page, minimum)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"inbox-{who}-390")
        with page.expect_navigation():
            page.get_by_text("健康提醒：饭前便后要洗手").click()
        assert page.get_by_test_id("inbox-message").count() == 1
        assert_accessible(page)
        shot(page, f"inbox-message-{who}-390")
        ctx.close()
    first = Campaign.objects.exclude(pk=campaign.pk).get()
    assert set(Delivery.objects.filter(campaign=first).values_list("status", flat=True)) == {"opened"}
    author_ctx.close()
    approver_ctx.close()
