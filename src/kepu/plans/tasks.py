"""Background work for plans, through Django's tasks interface (in-process by default)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from kepu.plans.models import Plan


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
