"""The review queue in a real browser: a district reporter downloads the Excel template and uploads it
unchanged; the office sees who reported, last year's value and the change, cannot approve its own
city figure, and batch-approves only after confirming."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_template_round_trip_and_batch_approve(users: dict[str, Any], report: Any, login: Any,
                                               live_server: Any) -> None:
    from kepu.plans.models import Observation
    from kepu.plans.services import observation_approve

    year = timezone.localdate().year
    wujin, office = users["wujin"], users["office"]
    wujin.first_name = "武进区 填报员"
    wujin.save()
    # Given 武进区's approved value for last year and a draft for this year (a 60 % jump, no comment)
    observation_approve(user=users["reviewer"], observation=report(wujin, "HQ_FARMERS", "320412", year - 1, 1000))
    report(wujin, "HQ_FARMERS", "320412", year, 1600, submit=False, comment="新增培训点")
    Observation.objects.filter(year=year).update(comment="")
    # and a city value the office submitted itself
    own = report(office, "SCHOOLS_SCI_PROV", "320400", year, 4)

    # When 武进区 downloads its template and uploads it unchanged
    page = login("wujin", PASSWORD)
    page.goto(f"{live_server.url}/report/?unit=320412&year={year}")
    with page.expect_download() as download:
        page.get_by_text("下载 Excel 模板").click()
    page.set_input_files('input[name="file"]', download.value.path())
    page.get_by_text("上传并提交").click()
    # Then the draft is submitted
    expect(page.locator(".msg.success")).to_have_count(1)
    assert page.locator('tr[data-indicator="HQ_FARMERS"] .badge').inner_text() == "已提交"
    shot(page, "review-round-trip")

    # When the office opens its queue
    queue = login("office", PASSWORD)
    queue.goto(f"{live_server.url}/inbox/")
    theirs = Observation.objects.get(indicator__code="HQ_FARMERS", year=year)
    row = queue.locator(f'tr[data-obs="{theirs.pk}"]')
    # Then it sees the reporter, last year's value and the change
    assert row.get_by_test_id("reporter").inner_text().startswith("武进区 填报员")
    assert row.get_by_test_id("previous").inner_text().startswith("1,000")
    assert row.get_by_test_id("change").inner_text().split() == ["+600", "+60.0%", "变化超过", "50%"]
    # And its own submission has no approve button
    assert queue.locator(f'tr[data-obs="{own.pk}"] button[value="approve"]').count() == 0
    shot(queue, "review-queue")

    # When it ticks 武进区's value and approves the selection, it is asked to confirm first
    row.locator('input[name="obs"]').check()
    queue.get_by_role("button", name="批准所选…").click()
    expect(queue.get_by_test_id("batch-confirm")).to_be_visible()
    assert Observation.objects.get(pk=theirs.pk).status == "submitted"
    shot(queue, "review-confirm")
    queue.get_by_role("button", name="确认批准这 1 项").click()
    # Then the value is approved and leaves the queue; its own value stays
    assert queue.locator(".msg.success").inner_text() == "已批准 1 项数据。"
    assert Observation.objects.get(pk=theirs.pk).status == "approved"
    assert queue.locator(f'tr[data-obs="{theirs.pk}"]').count() == 0
    assert Observation.objects.get(pk=own.pk).status == "submitted"
