"""A volunteer (a citizen, on a 390 px phone) registers and submits service hours; a district officer
of the same district (desktop) approves them in bulk; the volunteer downloads the certificate; the
public verification page confirms it, and an altered code is refused (issue 10 points 2 and 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.portal import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VOL_PASSWORD = "lotus-pond-2026"
OUT = ARTIFACTS / "community"


def _shot(page: Any, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_volunteer_hours_certificate_and_public_verification(users: dict[str, Any], browser: Any,
                                                             live_server: Any, tmp_path: Path) -> None:
    from kepu.citizens.services import citizen_signup
    from kepu.community.models import Certificate, ServiceRecord, Volunteer
    from kepu.core.models import OrgUnit
    from kepu.plans.models import Observation

    citizen_signup(identifier="xiaoming", password=VOL_PASSWORD)
    wujin = OrgUnit.objects.get(code="320412")
    base = live_server.url

    # Given a citizen on their phone registers as a volunteer
    phone_ctx = browser.new_context(**PHONE)
    vol = phone_ctx.new_page()
    vol.goto(f"{base}/me/login/")
    vol.fill("#id_username", "xiaoming")
    vol.fill("#id_password", VOL_PASSWORD)
    vol.click("#login")
    vol.wait_for_load_state()
    vol.goto(f"{base}/me/volunteer/")
    vol.fill("#id_name", "张小明")
    vol.select_option("#id_org_unit", str(wujin.pk))
    vol.fill("#id_phone", "138 0000 1111")
    vol.get_by_test_id("register").click()
    vol.wait_for_load_state()
    assert Volunteer.objects.get().phone_masked == "138****1111"
    # When they submit three hours of service
    vol.fill("#id_content", "社区科普讲座志愿服务")
    vol.fill("#id_place", "湖塘镇社区党群服务中心")
    vol.fill("#id_organiser", "武进区科协")
    vol.fill("#id_start", "2026-11-20T09:00")
    vol.fill("#id_end", "2026-11-20T12:00")
    vol.get_by_test_id("submit-hours").click()
    vol.wait_for_load_state()
    assert "待审核" in vol.get_by_test_id("records").inner_text()
    # and an overlapping second submission is refused with a clear message
    vol.fill("#id_content", "重复提交")
    vol.fill("#id_place", "湖塘镇")
    vol.fill("#id_organiser", "武进区科协")
    vol.fill("#id_start", "2026-11-20T11:00")
    vol.fill("#id_end", "2026-11-20T13:00")
    vol.get_by_test_id("submit-hours").click()
    vol.wait_for_load_state()
    assert "重叠" in vol.locator("[role=alert]").inner_text()
    _shot(vol, "volunteer-phone-submitted")
    assert_accessible(vol)
    assert ServiceRecord.objects.count() == 1

    # Then the Wujin officer (desktop) sees it and approves it in bulk
    desk_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    officer = desk_ctx.new_page()
    log_in(officer, base, "wujin", "test-pass-123")
    officer.goto(f"{base}/community/records/")
    rec = ServiceRecord.objects.get()
    officer.get_by_test_id(f"pick-{rec.pk}").check()
    _shot(officer, "officer-records-desktop")
    assert_accessible(officer)
    officer.get_by_test_id("approve").click()
    officer.wait_for_load_state()
    assert "已认定 1 条" in officer.content()
    rec.refresh_from_db()
    assert rec.status == "approved"
    assert Observation.objects.get(indicator__code="VOLUNTEER_HOURS", org_unit__code="320412",
                                   indicator__plan__code="changzhou-2021-2035", year=2026).value == 3

    # The volunteer issues and downloads the certificate
    vol.goto(f"{base}/me/volunteer/")
    with vol.expect_download() as dl:
        vol.get_by_test_id("issue").click()
    pdf = tmp_path / "cert.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    (OUT / "certificate.pdf").write_bytes(pdf.read_bytes())
    vol.goto(f"{base}/me/volunteer/")
    _shot(vol, "volunteer-phone-certificate")
    cert = Certificate.objects.get()

    # Anyone scanning the QR code (no login) sees it confirmed, with the masked name and hours
    public = browser.new_context(**PHONE).new_page()
    public.goto(f"{base}/community/verify/{cert.code}/")
    result = public.get_by_test_id("verify-result")
    assert result.get_attribute("data-valid") == "yes"
    assert public.get_by_test_id("verify-name").inner_text() == "张*明"
    assert public.get_by_test_id("verify-hours").inner_text() == "3.0 小时"
    _shot(public, "verify-valid-phone")
    assert_accessible(public)
    # An altered code is refused
    altered = cert.code[:-3] + ("xyz" if not cert.code.endswith("xyz") else "abc")
    public.goto(f"{base}/community/verify/{altered}/")
    assert public.get_by_test_id("verify-result").get_attribute("data-valid") == "no"
    assert "伪造" in public.get_by_test_id("verify-result").inner_text()
    _shot(public, "verify-altered-phone")
    phone_ctx.close()
    desk_ctx.close()


def test_district_officer_pages_on_demo_data(users: dict[str, Any], login: Any, live_server: Any) -> None:
    from kepu.community.demo import seed
    from kepu.community.models import Expert
    from kepu.plans.models import Plan

    seed(plan=Plan.objects.get(code="changzhou-2021-2035"))
    page = login("wujin", "test-pass-123")
    base = live_server.url
    page.goto(f"{base}/community/experts/")
    rows = page.get_by_test_id("experts").locator("tbody tr")
    assert rows.count() == Expert.objects.filter(org_unit__code="320412", active=True).count() > 0
    _shot(page, "officer-experts-desktop")
    assert_accessible(page)
    mine = Expert.objects.filter(org_unit__code="320412").first()
    assert mine is not None
    word = mine.fields[0]
    page.fill("[data-testid=expert-q]", word)
    page.get_by_role("button", name="查找").click()
    page.wait_for_url("**q=*")
    found = page.get_by_test_id("experts").locator("tbody tr").all_inner_texts()
    assert found and all(word in t for t in found) and any(mine.name in t for t in found)
    page.goto(f"{base}/community/volunteers/")
    assert "武进区" in page.get_by_test_id("volunteers").inner_text()
    assert "新北区" not in page.get_by_test_id("volunteers").inner_text()
    _shot(page, "officer-volunteers-desktop")
    assert_accessible(page)
    page.goto(f"{base}/community/teams/")
    assert "银龄" in page.get_by_test_id("teams").inner_text()
    _shot(page, "officer-teams-desktop")
    assert_accessible(page)
    page.goto(f"{base}/community/records/?status=all")
    _shot(page, "officer-records-all-desktop")
    other = Expert.objects.exclude(org_unit__code="320412").first()
    assert other is not None
    response = page.goto(f"{base}/community/experts/{other.pk}/")
    assert response is not None and response.status == 404
