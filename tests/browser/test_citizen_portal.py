"""A citizen on a 390 px phone (issue 9, points 2 and 9): signs up with a mobile number and separate
consents, fills the profile (the town list follows the district; key groups suggested from age and
occupation), switches elder mode on (text ≥ 18 px measured in the browser, tap targets ≥ 48 px),
withdraws a consent, and sees their data. Every page passes axe; screenshots of each step, on the
phone and on a desktop."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import shot
from tests.browser.portal import PHONE, small_targets, small_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "lotus-pond-2026"
BODY_FONT = "() => parseFloat(getComputedStyle(document.body).fontSize)"


def _topics() -> None:
    from django.apps import apps

    if apps.is_installed("kepu.outreach"):
        topic = apps.get_model("outreach", "Topic")
        for i, (code, zh, en) in enumerate([("health", "健康生活", "Healthy living"),
                                            ("agriculture", "现代农业", "Modern agriculture")]):
            topic.objects.create(code=code, name_zh=zh, name_en=en, order=i)


def _town_options(page: Any) -> list[str]:
    return [v for v in page.eval_on_selector_all("#town option", "os => os.map(o => o.value)") if v]


def test_a_citizen_signs_up_sets_a_profile_and_reads_in_elder_mode(region: Any, browser: Any,
                                                                   live_server: Any) -> None:
    from django.core.cache import cache

    from kepu.citizens.models import Citizen
    from kepu.citizens.selectors import consents
    from kepu.core.models import OrgUnit

    cache.clear()
    _topics()
    base = live_server.url
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()

    # Sign-up: the identifier, a password twice, and four separate unticked consents.
    page.goto(f"{base}/me/signup/")
    boxes = page.locator('input[name="consent"]')
    assert boxes.count() == 4 and not any(boxes.nth(i).is_checked() for i in range(4))
    fields = set(page.eval_on_selector_all("main form input, main form select", "es => es.map(e => e.name)"))
    assert fields == {"csrfmiddlewaretoken", "identifier", "password", "password2", "consent"}  # no ID, no name
    assert page.evaluate(BODY_FONT) >= 17 and not small_text(page, 17)
    assert_accessible(page)
    shot(page, "cit-01-signup-phone")
    page.fill("#identifier", "139 1234 5678")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.check('input[name="consent"][value="personalise"]')
    page.check('input[name="consent"][value="selftest_link"]')
    page.click("#signup")
    page.wait_for_url(f"{base}/me/profile/")
    citizen = Citizen.objects.get()
    assert citizen.phone == "13912345678"
    assert consents(citizen) == {"personalise": True, "push": False, "analytics": False, "selftest_link": True}

    # Profile: the key group follows age and occupation; the town list follows the district.
    page.select_option("#age_band", "50-59")
    page.select_option("#occupation", "farmer")
    assert page.locator('input[name="key_groups"][value="farmers"]').is_checked()
    assert "农民" in page.locator("#groups-hint").inner_text()
    page.select_option("#district", "320412")
    wujin_towns = set(OrgUnit.objects.filter(parent__code="320412", level="town", valid_to__isnull=True)
                      .values_list("code", flat=True))
    offered = _town_options(page)
    assert offered and set(offered) <= wujin_towns
    page.select_option("#town", offered[0])
    page.fill("#industry", "水稻种植")
    interests = page.locator('input[name="interests"]')
    if interests.count():
        interests.first.check()
    assert_accessible(page)
    shot(page, "cit-02-profile-phone")
    page.click("#save-profile")
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text() == "资料已保存。"
    citizen.refresh_from_db()
    assert (citizen.age_band, citizen.district.code, citizen.town.code, citizen.key_groups) == (
        "50-59", "320412", offered[0], ["farmers"])

    # Elder mode: switched from the header, remembered on the citizen, bigger text and targets.
    assert page.evaluate(BODY_FONT) == pytest.approx(17)
    page.click('[data-testid="elder-switch"]')
    page.wait_for_load_state()
    assert "elder" in (page.get_attribute("body", "class") or "")
    assert Citizen.objects.get().elder_mode is True
    assert page.evaluate(BODY_FONT) >= 18
    assert not small_text(page, 18), small_text(page, 18)
    assert not small_targets(page, 48), small_targets(page, 48)
    assert_accessible(page)
    shot(page, "cit-03-profile-elder-phone")

    # Withdrawing a consent is one untick away, on the same page.
    page.uncheck('input[name="consent"][value="personalise"]')
    page.click("#save-consents")
    page.wait_for_load_state()
    assert consents(Citizen.objects.get())["personalise"] is False

    # My data: what is held, and the download.
    page.goto(f"{base}/me/data/")
    assert "13912345678" in page.content()
    assert_accessible(page)
    shot(page, "cit-04-my-data-elder-phone")
    with page.expect_download() as download:
        page.click('[data-testid="download"]')
    assert "13912345678" in download.value.path().read_text(encoding="utf-8")
    page.goto(f"{base}/me/delete/")
    assert_accessible(page)
    shot(page, "cit-05-delete-elder-phone")
    ctx.close()

    # The same pages on a desktop, elder mode remembered across browsers.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{base}/me/login/")
    page.fill("#id_username", "13912345678")
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.goto(f"{base}/me/profile/")
    assert "elder" in (page.get_attribute("body", "class") or "")
    shot(page, "cit-06-profile-elder-desktop")
    page.click('[data-testid="elder-switch"]')
    page.wait_for_load_state()
    assert page.evaluate(BODY_FONT) == pytest.approx(17)
    shot(page, "cit-07-profile-desktop")
    desk.close()


def test_a_visitor_switches_elder_mode_on_the_login_page(region: Any, browser: Any, live_server: Any) -> None:
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/me/login/")
    assert page.evaluate(BODY_FONT) == pytest.approx(17)
    shot(page, "cit-08-login-phone")
    page.click('[data-testid="elder-switch"]')
    page.wait_for_load_state()
    assert page.evaluate(BODY_FONT) >= 18 and "elder" in (page.get_attribute("body", "class") or "")
    assert not small_targets(page, 48), small_targets(page, 48)
    page.goto(f"{live_server.url}/me/signup/")  # the cookie remembers it
    assert page.evaluate(BODY_FONT) >= 18
    assert_accessible(page)
    shot(page, "cit-09-signup-elder-phone")
    ctx.close()
