"""Background work for plans, through Django's tasks interface (in-process by default). Every task
is idempotent: a task whose worker was killed is queued again by kepu.core.worker.tasks_recover."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from kepu.plans.models import Plan, ReportFile


@task()
def refresh_status(plan_id: int) -> int:
    from kepu.plans.status import status_refresh

    return status_refresh(Plan.objects.get(pk=plan_id))


@task()
def build_report(report_id: int) -> None:
    from kepu.plans.reports import report_build

    report_build(report_id=report_id)


def enqueue_status_refresh(plan_id: int) -> None:
    """After the surrounding transaction commits, so the task sees the new data."""
    transaction.on_commit(lambda: refresh_status.enqueue(plan_id))


def enqueue_report_build(report_id: int) -> None:
    """After the surrounding transaction commits (so a worker sees the row); the task's id is kept
    on the report so its page can follow the build and notice one that can no longer finish."""

    def enqueue() -> None:
        result = build_report.enqueue(report_id)
        ReportFile.objects.filter(pk=report_id).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


@task()
def send_progress_reminders(day: str) -> int:
    """The day's progress-report reminders (ISO date); idempotent per user, period and kind."""
    import datetime as dt

    from kepu.plans.progress import progress_reminders_send

    return progress_reminders_send(today=dt.date.fromisoformat(day))
