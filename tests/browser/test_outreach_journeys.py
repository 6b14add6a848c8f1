"""Journeys through the outreach pages, as people use them (issue 9, point 10), on Debian's Chromium:

- a citizen on a phone: sign up → profile → feed → open a piece → the daily question → the inbox;
- an older citizen in elder mode: the daily question one per screen, large text and targets, read aloud
  with the browser's speech synthesis (the button is hidden where there is none);
- an editor: create a piece → a second editor reviews it → publish → citizens find it by search.
Every page on the way is checked with axe (WCAG 2.1 AA, no serious/critical violation)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import log_in, shot
from tests.browser.portal import (
    PASSWORD,
    PHONE,
    WUJIN,
    citizen_login,
    portal_world,
    send_campaign,
    small_targets,
    small_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(region: Any) -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()
    return portal_world(inbox=False)


def test_citizen_journey(world: dict[str, Any], browser: Any, live_server: Any) -> None:
    from kepu.citizens.models import Citizen
    from kepu.core.services import user_create
    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.engagement_models import Interaction
    from kepu.quiz.models import DailyQuestion

    base = live_server.url
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()

    # Sign up with a username and a password only; consent per purpose
    page.goto(f"{base}/me/signup/")
    assert_accessible(page)
    page.fill("#identifier", "lihua_wj")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.check('input[name="consent"][value="personalise"]')
    page.check('input[name="consent"][value="push"]')
    page.click("#signup")
    page.wait_for_url(f"{base}/me/profile/")
    citizen = Citizen.objects.get(user__username="lihua_wj")
    assert citizen.phone == ""

    # Profile: age band, district and town, occupation, key group, interests
    assert_accessible(page)
    page.select_option("#age_band", "50-59")
    page.select_option("#district", WUJIN)
    towns = [v for v in page.eval_on_selector_all("#town option", "os => os.map(o => o.value)") if v]
    page.select_option("#town", towns[0])
    page.select_option("#occupation", "farmer")
    page.check('input[name="key_groups"][value="farmers"]')
    page.check('input[name="interests"][value="health"]')
    page.click("#save-profile")
    citizen.refresh_from_db()
    assert (citizen.age_band, citizen.district.code, citizen.occupation) == ("50-59", WUJIN, "farmer")
    assert citizen.key_groups == ["farmers"] and citizen.interests == ["health"]
    shot(page, "journey-citizen-profile")

    # The feed (portal home) recommends published pieces; open one
    page.goto(f"{base}/me/")
    items = page.get_by_test_id("feed-item")
    assert items.count() >= 3
    assert_accessible(page)
    shot(page, "journey-citizen-feed")
    code = items.first.get_attribute("data-code")
    items.first.click()
    page.wait_for_url(f"{base}/me/r/{code}/")
    assert_accessible(page)
    assert Interaction.objects.filter(citizen=citizen, kind="view", resource__code=code).count() == 1

    # The daily question: one question, answered, the verdict and the key come back after the answer only
    page.goto(f"{base}/me/quiz/")
    assert page.locator('[data-testid="question"]').count() == 1
    assert page.get_by_test_id("key").count() == 0
    assert_accessible(page)
    page.locator('input[name="answer"]').first.check()
    page.locator('[data-testid="question"] button[type="submit"]').click()
    expect(page.get_by_test_id("verdict")).to_have_count(1)
    expect(page.get_by_test_id("key")).to_have_count(1)
    assert DailyQuestion.objects.filter(citizen=citizen).count() == 1
    shot(page, "journey-citizen-daily")

    # A campaign reaches the inbox; opening the message opens the piece
    camp = user_create(username="camp", password=PASSWORD, roles=[("campaigner", "320400", None)])
    camp2 = user_create(username="camp2", password=PASSWORD, roles=[("campaigner", "320400", None)])
    send_campaign(camp, camp2, world["pieces"][1])
    page.goto(f"{base}/me/inbox/")
    inbox = page.get_by_test_id("inbox")
    assert "健康提醒" in inbox.inner_text()
    assert_accessible(page)
    shot(page, "journey-citizen-inbox")
    inbox.locator("a").first.click()
    page.wait_for_url(f"{base}/me/inbox/*/")
    assert Delivery.objects.get(citizen=citizen).status == "opened"
    assert_accessible(page)
    assert "来看看这篇科普" in page.get_by_test_id("inbox-message").inner_text()
    page.locator(".inbox-resources").get_by_role("link", name=world["pieces"][1].title_zh).click()
    page.wait_for_url(f"{base}/me/r/{world['pieces'][1].code}/")
    assert world["pieces"][1].summary_zh in page.inner_text("main")
    ctx.close()


SPEECH_STUB = """(() => {
  window.__spoken = [];
  const fake = {speak: u => window.__spoken.push(u.text), cancel: () => {}, getVoices: () => [],
                speaking: false, pending: false, paused: false};
  Object.defineProperty(window, 'speechSynthesis', {value: fake, configurable: true});
  if (!('SpeechSynthesisUtterance' in window)) {
    window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  }
})()"""

NO_SPEECH = "delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;"


def test_elder_journey(world: dict[str, Any], browser: Any, live_server: Any) -> None:
    from kepu.citizens.models import Citizen

    base = live_server.url
    ctx = browser.new_context(**PHONE)
    ctx.add_init_script(SPEECH_STUB)
    page = ctx.new_page()
    citizen_login(page, base, "elder")
    assert Citizen.objects.get(user__username="elder").elder_mode  # remembered on the account

    page.goto(f"{base}/me/quiz/")
    assert "elder" in (page.get_attribute("body", "class") or "")
    # One question per screen, text ≥ 18 px, tap targets ≥ 48×48, AA contrast
    assert page.locator('[data-testid="question"]').count() == 1 and page.locator(".stem").count() == 1
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    assert small_text(page, 18) == []
    assert small_targets(page) == []
    assert_accessible(page)

    # Read aloud: the button is there and speaks the question text
    button = page.locator("button.read-aloud")
    expect(button).to_be_visible()
    stem = page.locator(".stem").inner_text().strip()
    button.click()
    spoken = page.evaluate("() => window.__spoken")
    assert len(spoken) == 1 and spoken[0].startswith(stem)
    shot(page, "journey-elder-daily")

    # Answering keeps to one screen; the verdict page is as large
    page.locator('input[name="answer"]').first.check()
    page.locator('[data-testid="question"] button[type="submit"]').click()
    expect(page.get_by_test_id("verdict")).to_have_count(1)
    assert small_text(page, 18) == []
    assert_accessible(page)

    # A contest: one question per screen too, each read aloud; answering moves to the next screen
    page.goto(f"{base}/me/quiz/contests/")
    page.locator("a.btn.big").first.click()
    page.get_by_test_id("start").click()
    page.wait_for_url(f"{base}/me/quiz/contests/{world['contest'].pk}/play/")
    assert page.locator('[data-testid="question"]').count() == 1 and page.locator(".stem").count() == 1
    assert small_text(page, 18) == [] and small_targets(page) == []
    assert_accessible(page)
    first = page.locator(".stem").inner_text().strip()
    page.locator("button.read-aloud").click()
    assert page.evaluate("() => window.__spoken").pop().startswith(first)
    shot(page, "journey-elder-contest")
    page.locator('input[name="answer"]').first.check()
    page.locator('[data-testid="question"] button[type="submit"]').click()
    page.wait_for_load_state()
    assert page.locator(".stem").count() <= 1
    ctx.close()

    # Where the browser has no speech synthesis, no dead button is shown
    ctx = browser.new_context(**PHONE)
    ctx.add_init_script(NO_SPEECH)
    page = ctx.new_page()
    citizen_login(page, base, "elder")
    page.goto(f"{base}/me/quiz/contests/")
    page.goto(f"{base}/me/quiz/")
    assert page.locator("button.read-aloud").count() in (0, 1)
    expect(page.locator("button.read-aloud")).to_be_hidden()
    ctx.close()


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
