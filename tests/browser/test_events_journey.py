"""A district officer runs a training end to end in a real browser: creates it, registers walk-ins,
checks attendees in on the check-in page (one scan queued while the browser is offline, then synced;
a replay of it adds nothing), certifies them, and sees T06 move on the dashboard. A citizen on a
390px phone registers and shows their QR code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}


def shot(page: Any, name: str) -> None:
    out = Path(ARTIFACTS) / "events"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def t06_cell(page: Any, base: str) -> str:
    page.goto(f"{base}/")
    return str(page.locator('tr[data-target="T06"] td[data-unit="320412"]').inner_text())


def test_district_officer_training_checkin_certify_moves_t06(
    users: dict[str, Any], login: Any, live_server: Any, browser: Any
) -> None:
    from kepu.citizens.services import citizen_signup
    from kepu.events.models import CheckIn, Event, Registration
    from kepu.plans.models import TargetStatus

    base = live_server.url
    citizen = citizen_signup(identifier="13912340000", password=PASSWORD, password_again=PASSWORD)
    page = login("wujin", PASSWORD)
    # Given T06 has no data for 武进区
    assert "暂无数据" in t06_cell(page, base)

    # When the officer creates a counsellor training that started an hour ago
    page.goto(f"{base}/events/")
    page.get_by_test_id("event-new").click()
    now = timezone.localtime()
    page.fill('input[name="title"]', "科技辅导员能力提升培训（演示）")
    page.select_option('select[name="kind"]', "training")
    page.select_option('select[name="training_kind"]', "counsellors")
    page.fill('input[name="organiser"]', "武进区科协")
    page.select_option('select[name="org_unit"]', "320412")
    page.fill('input[name="venue"]', "武进区青少年活动中心")
    page.fill('input[name="starts_at"]', (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill('input[name="ends_at"]', (now + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.fill('input[name="capacity"]', "40")
    page.check('input[name="key_groups"][value="youth"]')
    shot(page, "event-form-district-officer")
    page.get_by_test_id("event-save").click()
    event = Event.objects.get()
    page.wait_for_url(f"{base}/events/{event.pk}/")

    # And a citizen registers on their phone and sees their QR code
    ctx = browser.new_context(**PHONE)
    try:
        phone = ctx.new_page()
        phone.goto(f"{base}/me/login/")
        phone.fill("#id_username", "13912340000")
        phone.fill("#id_password", PASSWORD)
        phone.click("#login")
        phone.wait_for_load_state()
        phone.goto(f"{base}/me/events/")
        shot(phone, "citizen-open-events-phone")
        phone.get_by_test_id(f"register-{event.pk}").click()
        phone.wait_for_url(f"{base}/me/events/r/**")
        assert phone.get_by_test_id("my-qr").locator("svg").count() == 1
        citizen_code = phone.get_by_test_id("my-code").inner_text()
        shot(phone, "citizen-registration-qr-phone")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the registration page scrolls sideways on a phone ({width}px)"
    finally:
        ctx.close()
    assert Registration.objects.get(citizen_user=citizen.user).code == citizen_code

    # And the officer registers two walk-ins at the door
    page.goto(f"{base}/events/{event.pk}/")
    for name, number in (("王老师", "13800001111"), ("李老师", "138 0000 2222")):
        page.fill('form[data-testid="walk-in-form"] input[name="name"]', name)
        page.fill('form[data-testid="walk-in-form"] input[name="phone"]', number)
        page.get_by_test_id("walk-in-submit").click()
        page.wait_for_load_state()
    # A duplicate walk-in (the same phone written differently) is refused on the page
    page.fill('form[data-testid="walk-in-form"] input[name="name"]', "王老师")
    page.fill('form[data-testid="walk-in-form"] input[name="phone"]', "+86 138-0000-1111")
    page.get_by_test_id("walk-in-submit").click()
    assert "已在本活动登记" in page.locator(".msg.error").first.inner_text()
    wang, li = (Registration.objects.get(event=event, name=n).code for n in ("王老师", "李老师"))
    assert Registration.objects.filter(event=event).count() == 3

    # When they check 王老师 in online
    page.get_by_test_id("open-checkin").click()
    page.wait_for_url(f"{base}/events/{event.pk}/checkin/")
    page.fill("#checkin-code", wang)
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("checkin-count")).to_have_text("1")
    # And 李老师 while the connection is down: the scan waits in the browser
    page.context.set_offline(True)
    page.fill("#checkin-code", li.lower())
    page.get_by_test_id("checkin-submit").click()
    assert page.get_by_test_id("checkin-pending").inner_text() == "1"
    assert not CheckIn.objects.filter(registration__code=li).exists()
    shot(page, "checkin-offline-queued-district-officer")
    # Then back online the queue is sent and emptied
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("checkin-pending")).to_have_text("0")
    expect(page.get_by_test_id("checkin-count")).to_have_text("2")
    # And a replay of the same queued scan (its answer lost) adds nothing
    sent = CheckIn.objects.get(registration__code=li)
    page.evaluate(
        "([key, item]) => localStorage.setItem(key, JSON.stringify([item]))",
        [f"kepu-checkin-queue-{event.pk}", {"client_id": sent.client_id, "code": li, "at": sent.at.isoformat()}],
    )
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("checkin-log")).to_contain_text("已签到过：李老师")
    expect(page.get_by_test_id("checkin-pending")).to_have_text("0")
    expect(page.get_by_test_id("checkin-count")).to_have_text("2")
    # And the citizen's QR code is typed in as well
    page.fill("#checkin-code", citizen_code)
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("checkin-count")).to_have_text("3")
    shot(page, "checkin-synced-district-officer")
    assert CheckIn.objects.filter(registration__event=event).count() == 3

    # When the officer certifies the three attendees
    page.goto(f"{base}/events/{event.pk}/")
    for box in page.locator('input[name="registration"]').all():
        box.check()
    page.get_by_test_id("certify").click()
    page.wait_for_load_state()
    assert page.get_by_test_id(f"certified-{wang}").inner_text() == "已认定"
    shot(page, "event-certified-district-officer")

    # Then T06 for 武进区 shows the 3 counsellors trained on the dashboard
    status = TargetStatus.objects.get(target__code="T06", org_unit__code="320412")
    assert status.current == 3
    cell = t06_cell(page, base)
    assert "暂无数据" not in cell and "3" in cell
    shot(page, "dashboard-after-certify-district-officer")

    # And decertifying one moves it back to 2
    page.goto(f"{base}/events/{event.pk}/")
    page.locator(f'tr[data-code="{li}"] input[name="registration"]').check()
    page.get_by_test_id("decertify").click()
    page.wait_for_load_state()
    assert TargetStatus.objects.get(target__code="T06", org_unit__code="320412").current == 2
    assert "2" in t06_cell(page, base)

    # The calendar page renders for the district
    page.goto(f"{base}/events/calendar/")
    shot(page, "calendar-district-officer")
