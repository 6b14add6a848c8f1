"""An officer declares and ends an emergency in a real browser (issue 11, point 7): the 武进区 officer
declares a flood emergency for 武进区; a citizen of 武进 on a 390px phone sees the pinned guidance on
the portal; the push campaign is prepared by the district's campaigner and waits for approval; a
city campaigner approves and sends it (it reaches the citizen's inbox); the officer ends the
emergency; the pin disappears and the record stays listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}


def shot(page: Any, name: str) -> None:
    out = Path(ARTIFACTS) / "emergency"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def _world(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    from kepu.citizens.services import citizen_signup
    from kepu.core.models import OrgUnit
    from kepu.emergency.models import Hazard
    from kepu.outreach.models import Resource
    from tests import test_emergency_kb as kb

    kb.load_small(users["office"])
    kb.publish_all(kb.make_expert(make_user, users["office"]), users["office"])
    Resource.objects.create(code="flood-safety", title_zh="洪水来了如何自救", status="published",
                            summary_zh="向高处转移，不要涉水。", published_at=timezone.now())
    Hazard.objects.filter(code="flood").update(resource_codes=["flood-safety"])
    citizen = citizen_signup(identifier="13912345678", password=PASSWORD, password_again=PASSWORD,
                             consents_granted=["push"])
    citizen.district = OrgUnit.objects.get(code="320412")
    citizen.town = OrgUnit.objects.get(code="320412-L02")
    citizen.key_groups = ["elderly"]
    citizen.save()
    return {"citizen": citizen, "camp_wujin": make_user("camp_wujin", ("campaigner", "320412", None)),
            "camp": make_user("camp", ("campaigner", "320400", None))}


def _phone_home(browser: Any, base: str) -> tuple[Any, Any]:
    ctx = browser.new_context(**PHONE)
    phone = ctx.new_page()
    phone.goto(f"{base}/me/login/")
    phone.fill("#id_username", "13912345678")
    phone.fill("#id_password", PASSWORD)
    phone.click("#login")
    phone.wait_for_load_state()
    phone.goto(f"{base}/me/")
    return ctx, phone


def test_officer_declares_citizen_sees_pin_campaign_approved_officer_ends(
    users: dict[str, Any], make_user: Any, login: Any, live_server: Any, browser: Any
) -> None:
    from kepu.core.models import OrgUnit
    from kepu.emergency.models import EmergencyEvent, Hazard

    base = live_server.url
    w = _world(users, make_user)

    # Given no emergency: the citizen's portal pins nothing
    ctx, phone = _phone_home(browser, base)
    assert phone.get_by_test_id("emergency-pinned").count() == 0

    # When the 武进区 officer declares a flood emergency for 武进区
    page = login("wujin", PASSWORD)
    page.goto(f"{base}/emergency/")
    page.get_by_test_id("declare").click()
    page.select_option('select[name="hazard"]', str(Hazard.objects.get(code="flood").pk))
    options = page.locator('select[name="affected"] option').all_inner_texts()
    assert not any("新北" in o for o in options), "another district is offered"
    page.select_option('select[name="affected"]', [str(OrgUnit.objects.get(code="320412").pk)])
    now = timezone.localtime()
    page.fill('input[name="starts_at"]', (now - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    page.fill('input[name="planned_end"]', (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill('textarea[name="note"]', "武进区发布暴雨红色预警，低洼地区居民请及时转移。")
    shot(page, "declare-form-district-officer")
    page.get_by_test_id("declare-submit").click()
    event = EmergencyEvent.objects.get()
    page.wait_for_url(f"{base}/emergency/{event.pk}/")
    assert "推送权限" in page.get_by_test_id("campaign-note").inner_text()
    shot(page, "event-declared-district-officer")

    # Then the citizen's portal pins the flood guidance (for everyone and for older people)
    phone.goto(f"{base}/me/")
    pin = phone.get_by_test_id("emergency-pinned")
    assert pin.count() == 1
    assert "洪水来了怎么办" in pin.inner_text() and "老年人转移" in pin.inner_text()
    assert "暴雨红色预警" in pin.inner_text()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the portal scrolls sideways on a phone ({width}px)"
    shot(phone, "citizen-portal-pinned-phone")
    phone.goto(f"{base}/me/hazards/flood/")
    assert "洪水来了怎么办" in phone.get_by_test_id("me-phase-during").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "citizen-hazard-page-phone")

    # And the district's campaigner prepares the push campaign: it awaits approval
    camp_wujin = login("camp_wujin", PASSWORD)
    camp_wujin.goto(f"{base}/emergency/{event.pk}/")
    camp_wujin.get_by_test_id("campaign-prepare").click()
    camp_wujin.wait_for_load_state()
    assert camp_wujin.get_by_test_id("campaign-status").inner_text() == "草稿"
    assert "等待另一位运营人员批准" in camp_wujin.get_by_test_id("event-campaign").inner_text()
    assert camp_wujin.get_by_test_id("campaign-send").count() == 0  # not its own author
    shot(camp_wujin, "campaign-awaiting-approval")

    # When another user (the city campaigner) approves it, it is sent through the outreach push
    camp = login("camp", PASSWORD)
    camp.goto(f"{base}/emergency/{event.pk}/")
    camp.get_by_test_id("campaign-send").click()
    camp.wait_for_load_state()
    assert camp.get_by_test_id("campaign-status").inner_text() in ("发送中", "已完成")
    shot(camp, "campaign-approved-and-sent")
    assert w["citizen"].inbox.filter(title__contains="洪涝").count() == 1

    # When the officer ends the emergency
    page.goto(f"{base}/emergency/{event.pk}/")
    page.fill('form[data-testid="end-form"] input[name="note"]', "预警解除")
    page.get_by_test_id("end-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("event-status").inner_text().strip() == "已结束"
    shot(page, "event-ended-district-officer")

    # Then the pin is gone and the record stays listed
    phone.goto(f"{base}/me/")
    assert phone.get_by_test_id("emergency-pinned").count() == 0
    shot(phone, "citizen-portal-after-end-phone")
    page.goto(f"{base}/emergency/")
    ended = page.get_by_test_id("ended-events")
    assert "洪涝" in ended.inner_text()
    shot(page, "event-list-district-officer")
    ctx.close()


def test_knowledge_base_review_coverage_and_kiosk_pages(
    users: dict[str, Any], make_user: Any, login: Any, live_server: Any, browser: Any
) -> None:
    """Screenshots of the staff pages (an expert reviews a draft; the office publishes it), the 五进
    table for the district officer, and a big screen with the pinned notice."""
    from kepu.core.models import OrgUnit
    from kepu.emergency.models import Guidance
    from kepu.outreach.kiosk_models import Kiosk
    from tests import test_emergency_kb as kb
    from tests.test_emergency_mode import declare

    base = live_server.url
    kb.load_small(users["office"])
    from kepu.community.services import expert_create

    expert_user = make_user("em_expert")
    expert_create(actor=users["office"], name="王专家", organisation="常州市疾控中心", org_unit=kb.unit("320400"),
                  fields=["公共卫生"], roles=["emergency"], user=expert_user)
    expert = login("em_expert", PASSWORD)
    expert.goto(f"{base}/emergency/review/")
    g = Guidance.objects.get(key="during-all-1")
    expert.get_by_test_id(f"review-{g.pk}").click()
    expert.wait_for_load_state()
    assert Guidance.objects.get(pk=g.pk).status == "reviewed"
    shot(expert, "review-queue-expert")
    office = login("office", PASSWORD)
    office.goto(f"{base}/emergency/review/")
    office.get_by_test_id(f"publish-{g.pk}").click()
    office.wait_for_load_state()
    assert Guidance.objects.get(pk=g.pk).status == "published"
    office.goto(f"{base}/emergency/hazards/")
    shot(office, "hazard-list-office")
    office.goto(f"{base}/emergency/hazards/flood/")
    shot(office, "hazard-detail-office")

    from tests.test_emergency_coverage import _event

    when = timezone.localtime().replace(month=5, day=20, hour=9)
    for title, venue in [("防溺水安全课", "湖塘实验小学"), ("防汛宣讲", "城湾村村委会"), ("反诈宣传", "西湖街道文化站"),
                         ("亲子防灾演练", "武进区科技馆")]:
        _event(users["wujin"], "320412", title, venue, when)
    officer = login("wujin", PASSWORD)
    officer.goto(f"{base}/emergency/coverage/")
    assert officer.locator('[data-testid="coverage-table"] tbody tr').count() == 1
    shot(officer, "coverage-district-officer")

    Kiosk.objects.create(code="wj-screen", name="武进西湖街道社区大屏", org_unit=OrgUnit.objects.get(code="320412-L02"))
    declare(users["office"], ["320412"])
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    screen = ctx.new_page()
    screen.goto(f"{base}/kiosk/wj-screen/")
    assert "洪水来了怎么办" in screen.get_by_test_id("emergency-pinned").inner_text()
    screen.screenshot(path=str(Path(ARTIFACTS) / "emergency" / "kiosk-pinned.png"))
    ctx.close()
