"""The capacity page in a real browser: the office sees every district beside literacy with the
scatter and changes a weight; a district officer sees their district and the city, no weights form,
and only their own breakdown. Screenshots go to test-artifacts/capacity/."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import include, path
from playwright.sync_api import expect

import kepu.urls
from conftest import PASSWORD
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import ARTIFACTS, shot

# The root URLconf does not include the capacity pages yet (a shared file); the test adds them.
urlpatterns = [*kepu.urls.urlpatterns, path("", include("kepu.community.capacity_urls"))]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

SEVEN = ("320402", "320404", "320411", "320412", "320413", "320481", "changzhou_edz")


def _seed(plan: Any) -> None:
    """Three years of what the registries publish, and the literacy rate, for every district."""
    from kepu.core.models import OrgUnit
    from kepu.plans.selectors import indicator_get
    from kepu.plans.services import observation_publish

    def pub(code: str, unit: OrgUnit, year: int, value: float) -> None:
        indicator = indicator_get(plan, code)
        assert indicator is not None
        observation_publish(indicator=indicator, org_unit=unit, year=year, value=value, source="test")

    strength = {"320402": 1.25, "320404": 1.15, "320411": 1.2, "320412": 1.0, "320413": 0.75, "320481": 0.7,
                "changzhou_edz": 0.95}
    for year, growth in ((2023, 0.75), (2024, 0.88), (2025, 1.0)):
        for code in SEVEN:
            unit = OrgUnit.objects.get(code=code)
            f = strength[code] * growth
            p = (unit.population or 0) / 1e4 * f
            for ind, per_10k in (("SCI_BASES_ACTIVE", 0.4), ("SCI_VOLUNTEERS", 70), ("VOLUNTEER_HOURS", 1400),
                                 ("SCI_EVENTS_HELD", 3.5), ("SCI_EVENT_ATTENDANCE", 3500), ("SCI_HONOURS", 0.15),
                                 ("SCI_COUNSELLORS_TRAINED", 0.6), ("HQ_FARMERS", 9), ("SKILLED_WORKERS_TRAINED", 160)):
                pub(ind, unit, year, round(p * per_10k))
            pub("SCI_FUNDING_PER_CAPITA", unit, year, round(3.6 * f, 2))
            pub("ELDERLY_TECH_UNIV_COVERAGE", unit, year, 100 if f > 0.8 else 0)
            pub("LIT_RATE", unit, year, round(13 + 6 * f + (year - 2023) * 0.8, 1))


def test_office_and_district_officer_on_the_capacity_page(users: dict[str, Any], login: Any,
                                                          live_server: Any) -> None:
    from kepu.community import capacity
    from kepu.plans.models import Plan

    plan = Plan.objects.get()
    _seed(plan)
    (ARTIFACTS / "capacity").mkdir(parents=True, exist_ok=True)

    # Given the office opens the capacity page
    page = login("office", PASSWORD)
    page.goto(f"{live_server.url}/capacity/?year=2025")
    # Then every district is listed with its index, the correlation is given, and the scatter drawn
    for code in SEVEN:
        assert page.locator(f'[data-testid=capacity-index] tr[data-unit="{code}"]').count() == 1
    assert page.get_by_test_id("corr-n").inner_text() == "21"
    page.wait_for_selector("#capacity-scatter[data-rendered='1']")
    assert page.locator("#capacity-scatter svg path").count() > 20
    assert_accessible(page)
    shot(page, "capacity/capacity-office")

    # Given Wujin's district officer opens the same page
    wujin = login("wujin", PASSWORD)
    wujin.goto(f"{live_server.url}/capacity/?year=2025")
    # Then they see Wujin and the city, not the other districts, and no weights form
    assert wujin.get_by_test_id("district-scope").is_visible()
    rows = wujin.locator("[data-testid=capacity-index] tbody tr")
    assert [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())] == ["320412", "320400"]
    assert wujin.get_by_test_id("weights-form").count() == 0
    wujin.wait_for_selector("#capacity-scatter[data-rendered='1']")
    assert_accessible(wujin)
    shot(wujin, "capacity/capacity-district-officer")
    # And their own breakdown opens, another district's does not
    wujin.get_by_role("link", name="武进区").first.click()
    # (a click waits for the navigation to commit, not for the new page's rows: expect waits for them)
    expect(wujin.locator("[data-testid=district-years] tr[data-year='2025']")).to_have_count(1)
    shot(wujin, "capacity/capacity-district-breakdown")
    response = wujin.goto(f"{live_server.url}/capacity/320411/")
    assert response is not None and response.status == 403

    # Given the office back on its page
    before = page.locator('[data-testid=capacity-index] tr[data-unit="320481"] [data-testid=index]').inner_text()
    # When the office puts all the weight on funding per capita
    for c in capacity.COMPONENTS:
        page.fill(f"#w-{c.code}", "1" if c.code == "funding_per_capita" else "0")
    page.fill("#w-comment", "仅看人均经费(演示)")
    page.get_by_test_id("weights-save").click()
    # Then the page says so, and Liyang's index is now its funding score
    assert "权重已保存" in page.locator(".msg.success").inner_text()
    after = page.locator('[data-testid=capacity-index] tr[data-unit="320481"] [data-testid=index]').inner_text()
    liyang = next(r for r in capacity.capacity_compute(plan=plan, years=[2025])[2025] if r.unit.code == "320481")
    assert after != before and after.startswith(f"{liyang.scores['funding_per_capita']:.1f}")
