"""In a real browser: 武进区's officer submits a base application; the office assigns an expert (a
conflicted one is refused); the expert scores it; the office certifies it and T18 moves for 武进区;
the coverage map draws; a school books a visit on the public venue page on a phone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = ARTIFACTS / "facilities"


def _shot(page: Any, name: str) -> None:
    Path(OUT).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_application_review_certify_map_and_booking(users: dict[str, Any], make_user: Any, login: Any,
                                                    live_server: Any, browser: Any) -> None:
    from kepu.community.services import expert_create
    from kepu.core.models import OrgUnit
    from kepu.facilities import services as svc
    from kepu.facilities.models import Base, Booking
    from kepu.plans.models import Observation, TargetStatus

    wu = OrgUnit.objects.get(code="320412")
    expert = make_user("expert_zhang")
    expert_create(actor=users["office"], name="张教授", organisation="常州大学", org_unit=wu, roles=["reviewer"],
                  user=expert)
    conflicted = make_user("expert_li")
    expert_create(actor=users["office"], name="李研究员", organisation="武进区青少年活动中心", org_unit=wu,
                  roles=["reviewer"], user=conflicted)
    t18_before = TargetStatus.objects.get(target__code="T18", org_unit=wu, target__plan__parent__isnull=True)
    assert t18_before.current is None

    # Given 武进区's officer submits an application for a town's youth centre
    officer = login("wujin", PASSWORD)
    officer.goto(f"{live_server.url}/facilities/applications/new/")
    officer.fill('input[name="name"]', "武进区青少年科技体验馆（演示）")
    officer.select_option('select[name="kind"]', "general")
    officer.fill('input[name="organisation"]', "武进区青少年活动中心")
    officer.select_option('select[name="org_unit"]', label="　湖塘镇")
    officer.fill('textarea[name="description"]', "展厅 1200 平方米，每周二至周日向中小学生开放。")
    officer.fill('textarea[name="evidence"]', "开放记录、讲解员名单、安全制度")
    _shot(officer, "application-form-district-officer")
    officer.get_by_test_id("submit-application").click()
    assert officer.get_by_test_id("app-status").inner_text().startswith("已提交")
    app_url = officer.url

    # When the office assigns the conflicted expert, it is refused; the other one is assigned
    office = login("office", PASSWORD)
    office.goto(app_url)
    office.select_option('select[name="reviewer"]', label="李研究员（武进区青少年活动中心） — 同单位，利益冲突")
    office.get_by_test_id("assign").get_by_role("button").click()
    assert "利益冲突" in office.locator(".msg").first.inner_text()
    office.select_option('select[name="reviewer"]', label="张教授（常州大学）")
    office.get_by_test_id("assign").get_by_role("button").click()
    assert office.get_by_test_id("app-status").inner_text().startswith("专家评审中")

    # And the expert, who sees only this application, scores it against the rubric
    ex = login("expert_zhang", PASSWORD)
    ex.goto(f"{live_server.url}/facilities/applications/")
    assert ex.get_by_test_id("applications").locator("tbody tr").count() == 1
    ex.get_by_role("link", name="武进区青少年科技体验馆（演示）").click()
    for code, points in {"facilities": 22, "content": 21, "staff": 15, "openness": 17, "management": 9}.items():
        ex.fill(f'input[name="score_{code}"]', str(points))
    ex.get_by_test_id("submit-score").click()
    assert ex.get_by_test_id("mean").inner_text().startswith("84.0")

    # Then the office certifies it, and 武进区's count of newly designated municipal bases this year is 1
    # (T18's period ends in 2025, so this year's designation is published but not judged against it;
    # tests/test_facilities_lifecycle.py shows the status move for a 2025 certification)
    office.goto(app_url)
    _shot(office, "application-certify-office")
    office.get_by_test_id("certify-submit").click()
    assert office.get_by_test_id("app-status").inner_text().startswith("已认定")
    base = Base.objects.get()
    assert base.level == "municipal" and base.district.code == "320412" and base.org_unit.code == "320412100"
    new = Observation.objects.get(indicator__code="SCI_BASES_CITY_NEW", org_unit=wu, quarter=0,
                                  year=timezone.localdate().year, indicator__plan__parent__isnull=True)
    assert (new.value, new.status, new.source) == (1, "approved", "facilities")

    # And the coverage map shows 湖塘镇 covered, drawn by ECharts with the table beside it
    office.goto(f"{live_server.url}/facilities/map/")
    office.wait_for_selector("#coverage[data-rendered='1'] svg")
    assert office.get_by_test_id("towns-covered").inner_text().startswith("1 /")
    row = office.get_by_test_id("coverage-table").locator("tr", has_text="湖塘镇")
    assert row.locator("td").nth(1).inner_text() == "1"
    _shot(office, "map-office")
    officer.goto(f"{live_server.url}/facilities/map/")
    officer.wait_for_selector("#coverage[data-rendered='1'] svg")
    _shot(officer, "map-district-officer")
    officer.goto(f"{live_server.url}/facilities/")
    _shot(officer, "bases-district-officer")

    # A venue with a slot, booked by a school on a phone
    venue = svc.venue_save(actor=users["wujin"], org_unit=wu, name="武进科技馆（演示）", kind="museum",
                           organisation="武进区科协", opening_hours="9:00–16:30", open_days=[2, 3, 4, 5, 6, 7],
                           address="湖塘镇（演示地址）", description="常设展厅与球幕影院。")
    start = timezone.localtime() + dt.timedelta(days=10)
    svc.slot_add(actor=users["wujin"], venue=venue, starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=50)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    phone = ctx.new_page()
    phone.goto(f"{live_server.url}/facilities/open/{venue.pk}/")
    phone.locator('input[name="slot"]').first.check()
    phone.fill('input[name="school"]', "湖塘实验小学（演示）")
    phone.fill('input[name="class_name"]', "四(2)班")
    phone.fill('input[name="class_size"]', "42")
    phone.fill('input[name="contact_name"]', "王老师")
    phone.fill('input[name="phone"]', "13812345678")
    phone.get_by_test_id("book").click()
    phone.wait_for_load_state()
    assert "预约已提交" in phone.locator(".msg").first.inner_text()
    assert "剩余 8 个名额" in phone.get_by_test_id("booking-form").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(phone, "public-venue-phone")
    ctx.close()
    # The district officer confirms it
    officer.goto(f"{live_server.url}/facilities/venues/{venue.pk}/")
    b = Booking.objects.get()
    officer.get_by_test_id(f"confirm-{b.pk}").click()
    assert Booking.objects.get().status == "confirmed"
    _shot(officer, "venue-district-officer")


def test_map_and_registers_over_the_demo_records(users: dict[str, Any], login: Any, live_server: Any) -> None:
    from kepu.facilities.demo import seed
    from kepu.facilities.models import Base
    from kepu.plans.models import Plan

    seed(plan=Plan.objects.get(code__isnull=False, parent__isnull=True))
    office = login("office", PASSWORD)
    office.goto(f"{live_server.url}/facilities/map/")
    office.wait_for_selector("#coverage[data-rendered='1'] svg")
    covered, total = (int(x) for x in office.get_by_test_id("towns-covered").inner_text().split(" / "))
    assert 0 < covered < total
    assert office.get_by_test_id("elderly-covered").inner_text() == "5 / 7"
    _shot(office, "map-demo-office")
    officer = login("wujin", PASSWORD)
    officer.goto(f"{live_server.url}/facilities/")
    rows = officer.get_by_test_id("bases").locator("tbody tr")
    assert rows.count() == Base.objects.filter(district__code="320412").count()
    assert "已撤销" in officer.get_by_test_id("bases").inner_text() or "已到期" in officer.get_by_test_id(
        "bases").inner_text()
    _shot(officer, "bases-demo-district-officer")
    officer.goto(f"{live_server.url}/facilities/map/")
    officer.wait_for_selector("#coverage[data-rendered='1'] svg")
    _shot(officer, "map-demo-district-officer")
