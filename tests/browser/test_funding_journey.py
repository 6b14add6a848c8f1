"""In a real browser: a district officer enters a budget in 万元 (after a slip in 元 is refused),
submits it; the reviewer approves it and the district's per-capita figure appears. The public honours
page on a 390px phone shows an award. Screenshots go to test-artifacts/funding/."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Any, name: str) -> None:
    (ARTIFACTS / "funding").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "funding" / f"{name}.png"), full_page=True)


def test_district_officer_budget_to_per_capita(users: dict[str, Any], login: Any, live_server: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.funding import services
    from kepu.funding.models import Budget
    from kepu.plans.models import Observation

    wujin_unit = OrgUnit.objects.get(code="320412")
    # last year's approved budget, so growth shows too
    b = services.budget_save(actor=users["wujin"], org_unit=wujin_unit, year=2025, amount="600", unit="万元",
                             note="2025 年区本级科普经费")
    services.budget_submit(actor=users["wujin"], budget=b)
    services.budget_approve(actor=users["reviewer"], budget=b)
    services.budget_save(actor=users["xinbei"], org_unit=OrgUnit.objects.get(code="320411"), year=2026,
                         amount="450", unit="万元", note="新北区本级（不应出现）")

    page = login("wujin", PASSWORD)
    page.goto(f"{live_server.url}/funding/?year=2026")
    # a slip: 650 万元 typed as 650 元
    page.select_option("#b-unit", str(wujin_unit.pk))
    page.fill("#b-amount", "650")
    page.select_option("#b-u", "元")
    page.fill("#b-note", "2026 年区本级科普经费")
    page.get_by_test_id("budget-save").click()
    assert "可能把万元填成了元" in page.locator(".msg.error").first.inner_text()
    assert not Budget.objects.filter(year=2026, org_unit=wujin_unit).exists()
    page.select_option("#b-unit", str(wujin_unit.pk))
    page.fill("#b-amount", "650")
    page.select_option("#b-u", "万元")
    page.fill("#b-note", "2026 年区本级科普经费")
    page.get_by_test_id("budget-save").click()
    budget = Budget.objects.get(year=2026, org_unit=wujin_unit)
    assert budget.amount_fen == 650_0000_00
    page.get_by_test_id(f"submit-{budget.pk}").click()
    body = page.get_by_test_id("budgets").inner_text()
    assert "待审核" in body and "新北区" not in body
    shot(page, "budgets-district-officer")

    reviewer = login("reviewer", PASSWORD)
    reviewer.goto(f"{live_server.url}/funding/?year=2026")
    reviewer.get_by_test_id(f"approve-{budget.pk}").click()
    assert "已批准" in reviewer.get_by_test_id("budgets").inner_text()
    obs = Observation.objects.get(indicator__code="SCI_FUNDING_PER_CAPITA", org_unit__code="320412", year=2026)
    assert obs.value == pytest.approx(6_500_000 / 1_277_487, rel=1e-4)

    page.goto(f"{live_server.url}/funding/?year=2026")
    row = page.get_by_test_id("per-capita").locator("tr", has_text="武进区").inner_text()
    assert "5.09" in row and "8.3%" in row
    shot(page, "budgets-district-officer-approved")


def test_public_honours_page_on_a_phone(users: dict[str, Any], browser: Any, live_server: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.recognition import services

    city = OrgUnit.objects.get(code="320400")
    h = {x.code: x for x in services.plan_honours_ensure(actor=users["office"], city=city)}
    for who, org, code, honour, kind in [
        ("李明轩（演示）", "武进区湖塘实验中学（演示）", "320412", "CZ-MAYOR-YOUTH", "individual"),
        ("", "", "320411", "CZ-SCI-COLLECTIVE", "collective"),
    ]:
        actor = users["wujin"] if code == "320412" else users["xinbei"]
        n = services.nomination_create(actor=actor, honour=h[honour], year=2026, kind=kind,
                                       org_unit=OrgUnit.objects.get(code=code), person_name=who, organisation=org,
                                       collective_name="新北区三井街道科普工作站（演示）" if who == "" else "",
                                       reason="成绩突出")
        services.nomination_review(actor=users["reviewer"], nomination=n, recommend=True, score=90)
        services.award_decide(actor=users["office"], nomination=n)

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    try:
        page = ctx.new_page()
        page.goto(f"{live_server.url}/recognition/honours/")
        text = page.get_by_test_id("year-2026").inner_text()
        assert "李明轩（演示）" in text and "常州市青少年科技创新市长奖" in text
        assert "新北区三井街道科普工作站（演示）" in text
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        shot(page, "honours-phone")
        page.get_by_role("link", name="武进区").first.click()
        page.wait_for_load_state()
        assert "李明轩（演示）" in page.content() and "三井街道" not in page.content()
        shot(page, "honours-unit-phone")
    finally:
        ctx.close()


def test_office_pages_over_the_demo(users: dict[str, Any], login: Any, live_server: Any) -> None:
    from kepu.funding import demo as funding_demo
    from kepu.plans.models import Plan
    from kepu.recognition import demo as recognition_demo

    plan = Plan.objects.get()
    funding_demo.seed(plan=plan)
    recognition_demo.seed(plan=plan)
    page = login("office", PASSWORD)
    page.goto(f"{live_server.url}/funding/?year=2026")
    rows = page.get_by_test_id("per-capita").locator("tbody tr")
    assert rows.count() == 8  # the city and its seven county-level units
    assert "（估算）" in page.get_by_test_id("per-capita").inner_text()  # 金坛区's population is an estimate
    shot(page, "budgets-office-demo")
    page.goto(f"{live_server.url}/funding/fund/")
    assert page.get_by_test_id("applications").locator("tbody tr").count() == 7
    shot(page, "fund-office-demo")
    page.goto(f"{live_server.url}/recognition/nominations/")
    shot(page, "nominations-office-demo")
