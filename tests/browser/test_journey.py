"""The main journey in a real browser: a district reporter enters and submits a value, a reviewer
approves it, and the dashboard shows the change."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from conftest import PASSWORD
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _cell(page: Any, target: str, unit: str) -> Any:
    return page.locator(f'tr[data-target="{target}"] td[data-unit="{unit}"]')


def test_report_approve_dashboard(users: dict[str, Any], login: Any, live_server: Any) -> None:
    from kepu.plans.models import Observation

    year = timezone.localdate().year
    # Given: the dashboard shows no value for 武进区 on T07 (high-quality farmers)
    office = login("office", PASSWORD)
    assert _cell(office, "T07", "320412").get_by_test_id("cell-value").count() == 0
    shot(office, "dashboard-before")

    # When: the 武进区 reporter enters and submits this year's number
    reporter = login("wujin", PASSWORD, width=390)  # on a phone
    reporter.goto(f"{live_server.url}/report/?unit=320412&year={year}")
    reporter.fill('input[name="v_HQ_FARMERS"]', "1234")
    reporter.click('button[name="submit"]')
    row = reporter.locator('tr[data-indicator="HQ_FARMERS"]')
    assert row.locator(".badge").inner_text() == "已提交"
    shot(reporter, "entry-submitted-mobile")
    obs = Observation.objects.get(indicator__code="HQ_FARMERS", org_unit__code="320412", year=year)
    assert (obs.value, obs.status) == (1234.0, "submitted")

    # And: the reviewer approves it from the inbox
    reviewer = login("reviewer", PASSWORD)
    reviewer.goto(f"{live_server.url}/inbox/")
    item = reviewer.locator(f'tr[data-obs="{obs.pk}"]')
    assert "1,234" in item.inner_text()
    shot(reviewer, "inbox")
    item.locator('button[value="approve"]').click()
    reviewer.wait_for_selector(".msg.success")
    assert reviewer.locator(f'tr[data-obs="{obs.pk}"]').count() == 0
    obs.refresh_from_db()
    assert obs.status == "approved"

    # Then: the dashboard shows the approved value and a status for 武进区
    office.goto(f"{live_server.url}/")
    cell = _cell(office, "T07", "320412")
    assert cell.get_by_test_id("cell-value").inner_text() == "1,234"
    assert cell.locator(".badge").inner_text() in {"已达成", "进展顺利", "存在风险", "严重滞后"}
    assert office.locator("#trend[data-rendered='1']").count() == 1
    shot(office, "dashboard-after")


def test_english_switch(users: dict[str, Any], login: Any, live_server: Any) -> None:
    page = login("office", PASSWORD)
    assert page.locator("nav").get_by_text("总览").count() == 1
    page.click('button[name="language"][value="en"]')
    page.wait_for_load_state()
    assert page.locator("nav").get_by_text("Overview").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
