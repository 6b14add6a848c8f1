"""Progress reports on tasks: workflow (draft → submitted → approved or returned), scope, four eyes,
deadlines and overdue lists, reminders (once per user and period, into the outbox), e-mail settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.mail import email_settings
from kepu.core.models import AuditEntry, OrgUnit
from kepu.plans import progress
from kepu.plans.models import Task
from kepu.plans.progress_models import ProgressReminder, ProgressReport, ProgressSchedule

Status = ProgressReport.Status
TODAY = dt.date(2025, 7, 20)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _task_with(plan: Any, dept: str, on: bool = True) -> Task:
    return next(t for t in progress.tasks_of(plan) if (dept in {d.code for d in progress.task_departments(t)}) == on)


def _file(user: Any, task: Task, *, unit: str = "320400", dept: str | None = "cz-edu", submit: bool = True,
          **kw: Any) -> ProgressReport:
    from kepu.core.models import Department

    return progress.progress_report_save(
        user=user, task=task, org_unit=OrgUnit.objects.get(code=unit),
        department=Department.objects.get(code=dept) if dept else None,
        year=kw.pop("year", 2025), half=kw.pop("half", 1), done=kw.pop("done", "举办科学教育周 12 场。"),
        problems="乡村学校师资不足。", next_steps="下半年培训科学教师。", submit=submit, today=TODAY, **kw,
    )


def test_department_reporter_files_and_reviewer_returns_then_approves(plan: Any, users: dict[str, Any]) -> None:
    edu, reviewer = users["edu"], users["reviewer"]
    task = _task_with(plan, "cz-edu")
    # Given 市教育局 saves a draft half-year report and then submits it
    report = _file(edu, task, submit=False)
    assert report.status == Status.DRAFT and report.org_unit.code == "320400"
    report = progress.progress_report_submit(user=edu, report=report)
    assert report.status == Status.SUBMITTED and report.submitted_by == edu
    assert list(progress.review_queue(reviewer)) == [report]
    # When the reviewer returns it without a reason, nothing changes
    with pytest.raises(InputError):
        progress.progress_report_return(user=reviewer, report=report, comment="  ")
    assert ProgressReport.objects.get(pk=report.pk).status == Status.SUBMITTED
    # And with a reason, it goes back to the reporter with the comment
    report = progress.progress_report_return(user=reviewer, report=report, comment="请补充各区数据。")
    mine = progress.my_reports(edu).get()
    assert (mine.status, mine.review_comment) == (Status.RETURNED, "请补充各区数据。")
    # Then the reporter edits and resubmits, and the reviewer approves: the report is locked
    report = _file(edu, task, done="举办科学教育周 12 场，覆盖 7 个辖市(区)。")
    report = progress.progress_report_approve(user=reviewer, report=report)
    assert report.status == Status.APPROVED
    with pytest.raises(InputError):
        _file(edu, task, done="改动")
    assert ProgressReport.objects.get(pk=report.pk).done.endswith("7 个辖市(区)。")
    actions = list(AuditEntry.objects.filter(object_type="plans.progressreport").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["progress.create", "progress.submit", "progress.return", "progress.update",
                       "progress.submit", "progress.approve"]


def test_scope_department_only_on_its_tasks_district_only_its_own(plan: Any, users: dict[str, Any]) -> None:
    edu, wujin = users["edu"], users["wujin"]
    other = _task_with(plan, "cz-edu", on=False)
    # 市教育局 may not report on a task its department is not on
    with pytest.raises(PermissionDenied):
        _file(edu, other)
    # nor for 常州市 as another department, nor for a district
    task = _task_with(plan, "cz-edu")
    with pytest.raises(PermissionDenied):
        _file(edu, task, unit="320412", dept=None)
    # 武进区 reports its own part of any task, never 新北区's
    assert _file(wujin, other, unit="320412", dept=None).org_unit.code == "320412"
    with pytest.raises(PermissionDenied):
        _file(wujin, other, unit="320411", dept=None)
    with pytest.raises(PermissionDenied):
        _file(users["viewer_wujin"], other, unit="320412", dept=None)
    assert ProgressReport.objects.count() == 1
    # The district's report is not in 市教育局's list, nor in 新北区's
    assert not progress.my_reports(edu).exists() and not progress.my_reports(users["xinbei"]).exists()
    assert not progress.reports_visible(users["xinbei"]).exists()


def test_four_eyes_nobody_approves_their_own(plan: Any, users: dict[str, Any]) -> None:
    office, reviewer = users["office"], users["reviewer"]
    report = _file(office, _task_with(plan, "cz-edu"))
    with pytest.raises(PermissionDenied):
        progress.progress_report_approve(user=office, report=report)
    assert ProgressReport.objects.get(pk=report.pk).status == Status.SUBMITTED
    # a reviewer outside the unit's scope may not review either
    with pytest.raises(PermissionDenied):
        progress.progress_report_approve(user=users["viewer_wujin"], report=report)
    assert progress.progress_report_approve(user=reviewer, report=report).status == Status.APPROVED


def test_linked_values_must_be_of_the_task_and_unit(plan: Any, users: dict[str, Any], report: Any) -> None:
    edu, office = users["edu"], users["office"]
    task = _task_with(plan, "cz-edu")
    indicator = task.indicators.first() if task.indicators.exists() else task.section.indicators.first()
    if indicator is None:
        pytest.skip("the task's section measures no indicator")
    obs = report(office, indicator.code, "320400", 2025, "1", submit=False)
    linked = _file(edu, task, observation_ids=[obs.pk])
    assert list(linked.observations.all()) == [obs]
    foreign = report(office, indicator.code, "320400", 2024, "1", submit=False)
    with pytest.raises(InputError):
        _file(office, task, observation_ids=[foreign.pk])


def test_evidence_upload_checked_and_attached(plan: Any, users: dict[str, Any], settings: Any,
                                              tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    edu = users["edu"]
    report = _file(edu, _task_with(plan, "cz-edu"), submit=False)
    progress.progress_report_add_evidence(user=edu, report=report,
                                          upload=SimpleUploadedFile("总结.pdf", PDF, "application/pdf"))
    assert [e.original_name for e in report.evidence.all()] == ["总结.pdf"]
    exe = SimpleUploadedFile("setup.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")
    with pytest.raises(InputError):
        progress.progress_report_add_evidence(user=edu, report=report, upload=exe)
    assert report.evidence.count() == 1
    # another department may not add files to it
    with pytest.raises(PermissionDenied):
        progress.progress_report_add_evidence(user=users["wujin"], report=report,
                                              upload=SimpleUploadedFile("x.pdf", PDF))


def test_deadlines_and_overdue_lists(plan: Any, users: dict[str, Any]) -> None:
    edu, office = users["edu"], users["office"]
    schedule = progress.schedule_of(plan)
    assert schedule.due_date(2025, 1) == dt.date(2025, 7, 15)
    assert schedule.due_date(2025, 0) == dt.date(2026, 1, 15)
    # Before the half-year deadline nothing of 2025 is overdue; after it, every task of 市教育局 is
    before = progress.overdue_list(edu, plan, dt.date(2025, 7, 10))
    assert not [m for m in before if m.year == 2025]
    after = [m for m in progress.overdue_list(edu, plan, TODAY) if (m.year, m.half) == (2025, 1)]
    edu_tasks = [t for t in progress.tasks_of(plan) if "cz-edu" in {d.code for d in progress.task_leads(t)}]
    # Only lead units owe a report: a task 市教育局 merely supports is not on its list
    supported = [t for t in progress.tasks_of(plan) if t not in edu_tasks
                 and "cz-edu" in {d.code for d in progress.task_departments(t)}]
    assert supported and not {t.pk for t in supported} & {m.task.pk for m in after}
    assert {m.task.pk for m in after} == {t.pk for t in edu_tasks}
    assert {m.department.code for m in after} == {"cz-edu"}
    # The office sees every department's
    everyone = {m.department.code for m in progress.overdue_list(office, plan, TODAY) if (m.year, m.half) == (2025, 1)}
    assert {"cz-edu", "cz-agri"} <= everyone
    # A district reporter has no department list
    assert progress.overdue_list(users["wujin"], plan, TODAY) == []
    # A submitted report leaves the list
    _file(edu, edu_tasks[0])
    left = [m for m in progress.overdue_list(edu, plan, TODAY) if (m.year, m.half) == (2025, 1)]
    assert len(left) == len(after) - 1 and edu_tasks[0].pk not in {m.task.pk for m in left}
    # The deadline is configurable per plan
    ProgressSchedule.objects.create(plan=plan, half_year_due_month=8, half_year_due_day=1)
    assert not [m for m in progress.overdue_list(edu, plan, TODAY) if (m.year, m.half) == (2025, 1)]


def test_reminders_once_per_user_and_period_into_the_outbox(plan: Any, users: dict[str, Any], settings: Any,
                                                            tmp_path: Path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "outbox")
    edu = users["edu"]
    edu.email = "edu@example.org"
    edu.save()
    # A week before the half-year deadline, the command enqueues the day's reminders (run at once here)
    call_command("progress", "remind", "--date", "2025-07-08")
    reminders = list(ProgressReminder.objects.filter(user=edu, year=2025, half=1))
    assert [(r.kind, r.emailed) for r in reminders] == [(ProgressReminder.Kind.DUE_SOON, True)]
    def mails() -> list[str]:
        return [m for f in sorted((tmp_path / "outbox").iterdir())
                for m in f.read_text(encoding="utf-8").split("-" * 79) if "To: " in m]

    sent = mails()
    # one message per overdue or due period: the half-year due on 7/15 and last year's annual report
    assert sum("2025-07-15" in m for m in sent) == 1
    assert all("To: edu@example.org" in m for m in sent) and len(sent) == 2
    # Running it again the same day (or the next) sends nothing new
    call_command("progress", "remind", "--date", "2025-07-08")
    call_command("progress", "remind", "--date", "2025-07-09")
    assert ProgressReminder.objects.filter(user=edu, year=2025, half=1).count() == 1
    assert len(mails()) == 2
    # After the deadline an overdue reminder follows, once
    call_command("progress", "remind", "--date", "2025-07-16")
    call_command("progress", "remind", "--date", "2025-07-17")
    assert ProgressReminder.objects.filter(user=edu, year=2025, half=1).count() == 2
    assert len(mails()) == 3


def test_no_reminder_before_the_window(plan: Any, users: dict[str, Any]) -> None:
    progress.progress_reminders_send(today=dt.date(2025, 6, 20))
    assert not ProgressReminder.objects.filter(year=2025, half=1).exists()


def test_smtp_when_configured_outbox_otherwise(tmp_path: Path) -> None:
    dev = email_settings({}, tmp_path)
    assert dev["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert dev["EMAIL_FILE_PATH"] == str(tmp_path / "outbox")
    smtp = email_settings({"KEPU_SMTP_HOST": "smtp.example.org", "KEPU_SMTP_USER": "kepu",
                           "KEPU_SMTP_PASSWORD": "s3cret", "KEPU_MAIL_FROM": "kepu@example.org"}, tmp_path)
    assert smtp["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"], smtp["EMAIL_USE_TLS"], smtp["EMAIL_USE_SSL"]) == (
        "smtp.example.org", 587, True, False)
    assert (smtp["EMAIL_HOST_USER"], smtp["EMAIL_HOST_PASSWORD"], smtp["DEFAULT_FROM_EMAIL"]) == (
        "kepu", "s3cret", "kepu@example.org")
    ssl = email_settings({"KEPU_SMTP_HOST": "smtp.example.org", "KEPU_SMTP_SSL": "1"}, tmp_path)
    assert (ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"], ssl["EMAIL_USE_TLS"]) == (465, True, False)


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_file_return_and_see_the_comment(plan: Any, users: dict[str, Any], settings: Any,
                                               tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    edu, reviewer = users["edu"], users["reviewer"]
    task = _task_with(plan, "cz-edu")
    page = _login(edu).get("/progress/")
    assert page.status_code == 200 and f'data-task="{task.code}"' in page.content.decode()
    url = f"/progress/tasks/{task.pk}/?unit=320400&dept=cz-edu&year=2025&half=1"
    client = _login(edu)
    assert client.get(url).status_code == 200
    response = client.post(url, {"done": "举办科学教育周。", "problems": "", "next_steps": "", "action": "submit",
                                 "evidence": SimpleUploadedFile("总结.pdf", PDF, "application/pdf")})
    report = ProgressReport.objects.get()
    assert response.status_code == 302 and report.status == Status.SUBMITTED
    assert [e.original_name for e in report.evidence.all()] == ["总结.pdf"]
    # Another department may not open the form for 市教育局
    assert _login(users["wujin"]).get(url).status_code == 403
    # The reviewer sees it in the queue and returns it with a comment
    rc = _login(reviewer)
    assert f'data-report="{report.pk}"' in rc.get("/progress/review/").content.decode()
    assert rc.post(f"/progress/{report.pk}/review/", {"action": "return", "comment": "请补充佐证。"}).status_code == 302
    detail = client.get(f"/progress/{report.pk}/").content.decode()
    assert "请补充佐证。" in detail and "已退回" in detail
    assert "请补充佐证。" in client.get("/progress/").content.decode()
    # The evidence downloads for those who may see the report, not for another district
    assert client.get(f"/progress/{report.pk}/evidence/{report.evidence.get().pk}/").status_code == 200
    xinbei = _login(users["xinbei"])
    assert xinbei.get(f"/progress/{report.pk}/").status_code == 404
    assert xinbei.get(f"/progress/{report.pk}/evidence/{report.evidence.get().pk}/").status_code == 404


def test_overdue_page_and_english(plan: Any, users: dict[str, Any]) -> None:
    office = _login(users["office"])
    zh = office.get("/progress/overdue/").content.decode()
    assert "逾期未报清单" in zh and 'data-testid="overdue-cz-edu"' in zh and 'data-testid="overdue-cz-agri"' in zh
    edu = _login(users["edu"]).get("/progress/overdue/").content.decode()
    assert 'data-testid="overdue-cz-edu"' in edu and "overdue-cz-agri" not in edu
    en = Client(headers={"Accept-Language": "en"})
    en.force_login(users["office"])
    en.cookies["django_language"] = "en"
    text = en.get("/progress/overdue/").content.decode()
    assert "Overdue reports" in text and "逾期未报清单" not in text


def test_api_lists_reports_in_scope_and_the_overdue_list(plan: Any, users: dict[str, Any], api_client: Any) -> None:
    edu = users["edu"]
    report = _file(edu, _task_with(plan, "cz-edu"))
    body = api_client(edu).get(f"/api/progress-reports?plan={plan.code}").json()
    assert body["count"] == 1 and body["items"][0]["id"] == report.pk
    assert body["items"][0]["department"] == "cz-edu" and body["items"][0]["due"] == "2025-07-15"
    assert api_client(users["xinbei"]).get(f"/api/progress-reports?plan={plan.code}").json()["count"] == 0
    assert api_client(users["xinbei"]).get(f"/api/progress-reports/{report.pk}").status_code == 404
    assert api_client(users["reviewer"]).get(f"/api/progress-reports/{report.pk}").json()["status"] == "submitted"
    overdue = api_client(edu).get(f"/api/plans/{plan.code}/progress-overdue").json()
    assert overdue and {row["department"] for row in overdue} == {"cz-edu"}


def test_deadlines_configurable_per_plan_by_command(plan: Any, users: dict[str, Any], capsys: Any) -> None:
    from django.core.management.base import CommandError

    call_command("progress", "schedule", "--half-year-due", "07-31", "--annual-due", "02-10", "--remind-days", "7")
    schedule = progress.schedule_of(plan)
    assert (schedule.due_date(2025, 1), schedule.due_date(2025, 0), schedule.remind_days_before) == (
        dt.date(2025, 7, 31), dt.date(2026, 2, 10), 7)
    assert "07-31" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="progress.schedule").count() == 1
    # A day that is not in every year, or a half-year deadline before the half-year ends, is refused
    for bad in (["--annual-due", "02-29"], ["--half-year-due", "06-15"], ["--remind-days", "400"]):
        with pytest.raises(CommandError):
            call_command("progress", "schedule", *bad)
    assert progress.schedule_of(plan).due_date(2025, 1) == dt.date(2025, 7, 31)
