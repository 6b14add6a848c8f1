"""Issue 8, point 10: a province user switches between two cities in a real browser (demo data for
Changzhou, the fictional Lakeside and province loaded beside it); a city user sees no picker."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import REPO
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cities(plan: Any) -> str:
    from kepu.core.services import region_import, user_create
    from kepu.plans.demo import DEMO_PASSWORD, demo_generate
    from kepu.plans.models import Observation
    from kepu.plans.plan_import import plan_import

    demo_generate(plan=plan)
    region_import(path=REPO / "data/regions/lakeside.yaml")
    lakeside, _ = plan_import(path=REPO / "data/plans/example-lakeside-2022-2030.yaml")
    region_import(path=REPO / "data/regions/example-province.yaml")
    plan_import(path=REPO / "data/plans/example-province-2022-2030.yaml")
    from kepu.core.models import OrgUnit

    Observation.objects.create(indicator=lakeside.indicators.get(code="LIT_RATE"),
                               org_unit=OrgUnit.objects.get(code="990100"), year=2024, value=12.5,
                               status=Observation.Status.APPROVED)
    user_create(username="province", password=DEMO_PASSWORD, full_name="省办公室 查看",
                roles=[("viewer", "990000", None)])
    user_create(username="lakeside", password=DEMO_PASSWORD, full_name="湖滨市 办公室",
                roles=[("office_admin", "990100", None)])
    return DEMO_PASSWORD


def _pick(page: Any, label: str) -> None:
    page.get_by_test_id("plan-select").select_option(label=label)
    page.get_by_test_id("plan-picker").locator("button").click()
    page.wait_for_load_state()


def test_province_user_switches_between_two_cities(cities: str, login: Any, live_server: Any) -> None:
    page = login("province", cities)
    options = page.get_by_test_id("plan-select").locator("option").all_inner_texts()
    assert any("常州市" in o for o in options) and any("湖滨市" in o for o in options)
    assert any("江湖省" in o for o in options)
    # When the province user picks Lakeside
    _pick(page, "湖滨市 · 湖滨市全民科学素质行动规划(2022-2030年)")
    assert "湖滨市全民科学素质行动规划" in page.locator("h1").inner_text()
    grid = page.get_by_test_id("status-grid").inner_text()
    assert "东湖区" in grid and "武进区" not in grid
    shot(page, "province-picker-lakeside")
    # Then the choice is remembered on the next visit to the dashboard
    page.goto(f"{live_server.url}/")
    assert "湖滨市" in page.locator("h1").inner_text()
    # When they switch to Changzhou
    _pick(page, "常州市 · 常州市全民科学素质行动规划(2021-2035年)")
    assert "常州市全民科学素质行动规划" in page.locator("h1").inner_text()
    assert "武进区" in page.get_by_test_id("status-grid").inner_text()
    shot(page, "province-picker-changzhou")
    # And the province's own plan rolls up both cities
    _pick(page, "江湖省 · 江湖省全民科学素质行动规划(2022-2030年)(虚构示例)")
    rollup = page.get_by_test_id("province-rollup").inner_text()
    assert "常州市" in rollup and "湖滨市" in rollup
    shot(page, "province-rollup")
    # On a phone the picker is there and usable too
    phone = login("province", cities, width=390)
    expect(phone.get_by_test_id("plan-select")).to_be_visible()
    shot(phone, "province-picker-phone")


def test_city_user_has_no_picker_and_cannot_open_the_other_city(cities: str, login: Any, live_server: Any) -> None:
    page = login("lakeside", cities)
    assert "湖滨市" in page.locator("h1").inner_text()
    assert page.get_by_test_id("plan-picker").count() == 0
    shot(page, "city-user-dashboard")
    response = page.goto(f"{live_server.url}/?plan=changzhou-2021-2035")
    assert response is not None and response.status == 404
