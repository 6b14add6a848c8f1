"""A department reporter files a half-year progress report with an evidence file in a real browser;
a reviewer returns it with a comment, and the reporter sees the comment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_file_half_year_report_with_evidence_and_return(users: dict[str, Any], login: Any, live_server: Any,
                                                        settings: Any, tmp_path: Path) -> None:
    from kepu.plans import progress
    from kepu.plans.models import Plan
    from kepu.plans.progress_models import ProgressReport

    settings.MEDIA_ROOT = tmp_path / "media"
    edu = users["edu"]
    edu.first_name = "市教育局 填报员"
    edu.save()
    plan = Plan.objects.get()
    task = next(t for t in progress.tasks_of(plan) if "cz-edu" in {d.code for d in progress.task_departments(t)})
    year = timezone.localdate().year - 1
    evidence = tmp_path / "上半年工作总结.pdf"
    evidence.write_bytes(PDF)
    # and a reminder a week before the half-year deadline (e-mail goes to Django's test outbox)
    progress.progress_reminders_send(today=dt.date(year, 7, 8))

    # Given 市教育局's reporter opens 进展报告 and the form for one of its tasks
    page = login("edu", PASSWORD)
    page.get_by_role("link", name="进展报告", exact=True).click()
    assert "即将到期" in page.get_by_test_id("reminders").inner_text()
    page.locator(f'a[data-task="{task.code}"]').first.click()
    page.select_option('select[name="year"]', str(year))
    page.select_option('select[name="half"]', "1")
    page.get_by_role("button", name="切换期间").click()
    # When they describe the half-year, attach the evidence file and submit
    page.fill('textarea[name="done"]', "上半年举办青少年科学教育周 12 场，覆盖全部辖市(区)。")
    page.fill('textarea[name="problems"]', "乡村学校科学教师不足。")
    page.fill('textarea[name="next_steps"]', "下半年开展科学教师轮训。")
    page.set_input_files('input[name="evidence"]', str(evidence))
    shot(page, "progress-form-edu")
    page.get_by_role("button", name="提交审核").click()
    # Then the report is submitted with its evidence
    assert page.get_by_test_id("status").inner_text() == "已提交"
    assert page.get_by_test_id("evidence").inner_text().startswith("上半年工作总结.pdf")
    report = ProgressReport.objects.get()
    assert (report.year, report.half, report.status) == (year, 1, ProgressReport.Status.SUBMITTED)

    # When the reviewer opens the queue and returns it with a comment
    reviewer = login("reviewer", PASSWORD)
    reviewer.get_by_role("link", name="报告审核").click()
    reviewer.locator(f'tr[data-report="{report.pk}"] a').click()
    shot(reviewer, "progress-review")
    reviewer.fill('form[data-testid="review"] textarea[name="comment"]', "请补充各辖市(区)的场次明细。")
    reviewer.get_by_role("button", name="退回").click()
    expect(reviewer.locator(".msg.success")).to_have_count(1)

    # Then the reporter sees the comment on their list and on the report, and can edit it again
    page.goto(f"{live_server.url}/progress/")
    assert "请补充各辖市(区)的场次明细。" in page.locator(f'tr[data-report="{report.pk}"]').inner_text()
    page.locator(f'tr[data-report="{report.pk}"] a').click()
    assert page.get_by_test_id("review-comment").inner_text() == "请补充各辖市(区)的场次明细。"
    expect(page.get_by_role("link", name="修改并重新提交")).to_have_count(1)
    shot(page, "progress-returned-edu")
    phone = login("edu", PASSWORD, width=390)
    phone.goto(f"{live_server.url}/progress/")
    shot(phone, "progress-list-edu-phone")

    # The office sees every department's overdue reports, 市教育局's among them
    office = login("office", PASSWORD)
    office.goto(f"{live_server.url}/progress/overdue/")
    assert office.get_by_test_id("overdue-cz-edu").count() == 1
    shot(office, "progress-overdue-office")
