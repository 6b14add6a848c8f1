# ruff: noqa: F811  (pytest fixtures are imported from tests/test_rumours_fixtures.py and named as arguments)
"""In a real browser (issue 11 point 7):
(a) a citizen on a 390 px phone reports a rumour; the editor opens a debunk and assigns a talent-pool
    expert; the expert drafts and sends it for review; a reviewer publishes it; the citizen later finds
    the answer in /me/inbox/, opens it and lands on the public debunk with its ClaimReview JSON-LD
    (which the strict CSP leaves alone: it is data, not script);
(b) an expert reviews and publishes another expert's debunk (the author gets no publish button), and
    the district officer's monitoring dashboard shows the volume chart and the rising-cluster table."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.portal import PHONE
from tests.test_rumours_fixtures import (  # noqa: F401
    CITIZEN_PASSWORD,
    PASSWORD,
    citizen_of,
    fresh_rate_limits,
    rumour_people,
    unit,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OUT = ARTIFACTS / "rumours"


def _shot(page: Any, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def _desktop(browser: Any, base: str, username: str) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, base, username, PASSWORD)
    return page


def _csp_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return errors


def test_a_citizen_reports_a_rumour_and_finds_the_answer_in_the_inbox(
        rumour_people: dict[str, Any], citizen_of: Any, browser: Any, live_server: Any, monkeypatch: Any) -> None:
    from kepu.rumours import views
    from kepu.rumours.models import Claim, Debunk

    monkeypatch.setattr(views, "MIN_FILL_SECONDS", 0)  # a person types for a while; the test does not wait
    citizen = citizen_of("xiaoming")
    base = live_server.url

    # Given a citizen on their phone reports a forwarded rumour
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{base}/me/login/")
    phone.fill("#id_username", "xiaoming")
    phone.fill("#id_password", CITIZEN_PASSWORD)
    phone.click("#login")
    phone.wait_for_load_state()
    phone.goto(f"{base}/me/rumours/report/")
    assert phone.get_by_test_id("inbox-note").is_visible()
    phone.fill("#text", "紧急扩散！喝隔夜水会致癌，家里有老人的赶紧转告！！")
    phone.select_option("#district", "320412")
    phone.select_option("#media", "微信群转发")
    _shot(phone, "citizen-phone-report")
    assert_accessible(phone)
    phone.get_by_test_id("report-submit").click()
    phone.wait_for_url(f"{base}/me/rumours/report/done/")
    assert "答复会发到您的“消息”里" in phone.get_by_test_id("report-done").inner_text()
    _shot(phone, "citizen-phone-report-done")
    claim = Claim.objects.get()
    assert claim.citizen == citizen and claim.district.code == "320412"

    # When the editor opens a debunk for it and assigns an expert from the talent pool
    editor = _desktop(browser, base, "editor")
    editor.goto(f"{base}/rumours/claims/")
    editor.get_by_test_id(f"pick-{claim.pk}").check()
    _shot(editor, "editor-claims-queue")
    editor.get_by_test_id("open-debunk").click()
    debunk = Debunk.objects.get()
    editor.wait_for_url(f"{base}/rumours/debunks/{debunk.pk}/")
    editor.select_option("#expert", str(rumour_people["expert"].pk))
    editor.get_by_test_id("assign").click()
    editor.wait_for_load_state()
    assert editor.get_by_test_id("status").inner_text() == "已分派专家"

    # and the expert drafts it and sends it for review
    expert = _desktop(browser, base, "expert")
    expert.goto(f"{base}/rumours/debunks/")
    expert.get_by_test_id("my-drafts").get_by_role("link").first.click()
    expert.wait_for_url(f"{base}/rumours/debunks/{debunk.pk}/edit/")
    expert.fill("#title", "喝隔夜水会致癌？不会")
    expert.fill("#claim_text", "喝隔夜水会致癌")
    expert.select_option("#verdict", "false")
    expert.select_option("#topic", "health")
    expert.fill("#explanation", "烧开后盖好存放的隔夜水，亚硝酸盐含量远低于国家饮用水标准限值，正常饮用不会致癌。")
    expert.fill("#evidence", "多次检测显示，存放 24 小时的开水亚硝酸盐含量约为每升 0.01 毫克。")
    expert.fill("#sources", "生活饮用水卫生标准（演示） https://example.org/gb5749")
    _shot(expert, "expert-draft")
    expert.get_by_test_id("save-submit").click()
    expert.wait_for_url(f"{base}/rumours/debunks/{debunk.pk}/")
    assert expert.get_by_test_id("status").inner_text() == "待审核"
    assert expert.get_by_test_id("publish").count() == 0  # not for the author

    # and a reviewer publishes it
    reviewer = _desktop(browser, base, "reviewer")
    reviewer.goto(f"{base}/rumours/debunks/{debunk.pk}/")
    reviewer.get_by_test_id("publish").click()
    reviewer.wait_for_load_state()
    assert reviewer.get_by_test_id("status").inner_text() == "已发布"
    _shot(reviewer, "reviewer-published")

    # Then the citizen later finds the answer in their inbox and opens it
    csp = _csp_errors(phone)
    phone.goto(f"{base}/me/inbox/")
    inbox = phone.get_by_test_id("inbox")
    assert "您反映的说法有答复了" in inbox.inner_text() and "谣言" in inbox.inner_text()
    _shot(phone, "citizen-phone-inbox")
    inbox.get_by_role("link").first.click()
    phone.wait_for_url(f"{base}/me/rumours/{debunk.pk}/")
    assert phone.get_by_test_id("verdict").inner_text() == "谣言"
    assert "亚硝酸盐" in phone.get_by_test_id("debunk").inner_text()
    review = json.loads(phone.locator("script[type='application/ld+json']").text_content() or "{}")
    assert review["@type"] == "ClaimReview" and review["reviewRating"]["alternateName"] == "谣言"
    assert csp == []
    _shot(phone, "citizen-phone-answer")
    assert_accessible(phone)


def test_an_expert_reviews_and_publishes_and_the_officer_watches_the_dashboard(
        rumour_people: dict[str, Any], browser: Any, live_server: Any) -> None:
    from kepu.rumours import services
    from kepu.rumours.models import Debunk

    now = timezone.now()
    # Given reports over four weeks and a burst today (a rising cluster), and a debunk in review
    for day in range(28, 0, -1):
        services.claim_submit(text="自来水里检出新冠病毒，千万别喝", source="public_form", org_unit=unit("320412"),
                              client=f"d{day}", topic="epidemic", received_at=now - dt.timedelta(days=day))
    for i in range(12):
        services.claim_submit(text="自来水里检出新冠病毒，千万别喝", source="public_form", org_unit=unit("320412"),
                              client=f"t{i}", topic="epidemic", received_at=now)
    services.claim_submit(text="吃大蒜能预防流感", source="public_form", org_unit=unit("320412"), client="g",
                          topic="health", received_at=now - dt.timedelta(days=3))
    claim = services.claim_enter(actor=rumour_people["editor"], text="5G 基站会传播病毒", org_unit=unit("320412"),
                                 topic="technology").claim
    d = services.debunk_open(actor=rumour_people["editor"], claims=[claim])
    services.debunk_assign(actor=rumour_people["editor"], debunk=d, expert=rumour_people["expert"])
    services.debunk_draft_save(actor=rumour_people["expert"], debunk=d, title="5G 基站不会传播病毒",
                               claim_text="5G 基站会传播病毒", verdict="false",
                               explanation="病毒需要宿主细胞复制，无线电波不能携带病毒。",
                               sources=[{"url": "https://example.org/5g", "title": "通信科普（演示）"}])
    services.debunk_submit(actor=rumour_people["expert"], debunk=d)
    base = live_server.url

    # When another talent-pool expert opens their review list and publishes it
    page = _desktop(browser, base, "expert2")
    page.goto(f"{base}/rumours/debunks/")
    page.get_by_test_id("to-review").get_by_role("link", name="5G 基站不会传播病毒").click()
    page.wait_for_url(f"{base}/rumours/debunks/{d.pk}/")
    _shot(page, "expert-review")
    page.get_by_test_id("publish").click()
    page.wait_for_load_state()
    # Then it is published with the expert as reviewer
    assert page.get_by_test_id("status").inner_text() == "已发布"
    d.refresh_from_db()
    assert d.status == Debunk.Status.PUBLISHED and d.reviewer == rumour_people["expert2"]

    # And the Wujin officer's dashboard shows the chart, the rising cluster and the method
    officer = _desktop(browser, base, "wujin")
    officer.goto(f"{base}/rumours/monitor/")
    officer.wait_for_selector("#volume-chart[data-rendered='1']")
    rising = officer.locator("[data-rising='1']")
    assert rising.count() == 1 and "自来水里检出新冠病毒" in rising.inner_text()
    assert "泊松分布" in officer.get_by_test_id("method").inner_text()
    _shot(officer, "officer-monitor")
    assert_accessible(officer)
