"""Progress reports in the API (read-only): the reports a user may see, one report, and the overdue
list, scoped by the same selectors as the pages (kepu.plans.progress)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from kepu.plans import progress, selectors
from kepu.plans.progress_models import ProgressReport
from kepu.plans.schemas import PlanCode, Year

router = Router(tags=["progress"])

ReportId = Annotated[int, Field(ge=1, le=2**63 - 1, examples=[1])]
ReportStatus = Literal["draft", "submitted", "approved", "returned"]


class EvidenceOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str


class ProgressReportOut(Schema):
    id: int
    plan: str
    task: str
    org_unit: str
    department: str | None
    year: int
    half: int
    status: ReportStatus
    done: str
    problems: str
    next_steps: str
    review_comment: str
    observations: list[int]
    evidence: list[EvidenceOut]
    due: dt.date
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None


class ProgressPage(Schema):
    count: int
    items: list[ProgressReportOut]


class OverdueOut(Schema):
    task: str
    department: str
    year: int
    half: int
    due: dt.date


def _out(r: ProgressReport) -> dict[str, Any]:
    plan = r.task.section.programme.plan
    return {
        "id": r.pk,
        "plan": plan.code,
        "task": r.task.code,
        "org_unit": r.org_unit.code,
        "department": r.department.code if r.department else None,
        "year": r.year,
        "half": r.half,
        "status": r.status,
        "done": r.done,
        "problems": r.problems,
        "next_steps": r.next_steps,
        "review_comment": r.review_comment,
        "observations": sorted(o.pk for o in r.observations.all()),
        "evidence": [
            {"id": e.pk, "name": e.original_name, "size": e.size, "content_type": e.content_type, "sha256": e.sha256}
            for e in r.evidence.all()
        ],
        "due": progress.schedule_of(plan).due_date(r.year, r.half),
        "submitted_at": r.submitted_at,
        "reviewed_at": r.reviewed_at,
    }


def _plan(code: str) -> Any:
    plan = selectors.plan_get(code)
    if plan is None:
        raise Http404(f"No plan with code {code!r}.")
    return plan


@router.get("/progress-reports", response=ProgressPage)
def progress_reports_list(
    request: HttpRequest,
    plan: PlanCode,
    year: Year | None = None,
    status: ReportStatus | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
) -> dict[str, Any]:
    qs = progress.reports_visible(request.user, _plan(plan)).prefetch_related("observations", "evidence")
    if year is not None:
        qs = qs.filter(year=year)
    if status is not None:
        qs = qs.filter(status=status)
    qs = qs.order_by("-year", "-half", "task__code", "id")
    return {"count": qs.count(), "items": [_out(r) for r in qs[offset : offset + limit]]}


@router.get("/progress-reports/{report_id}", response=ProgressReportOut)
def progress_report_get(request: HttpRequest, report_id: ReportId) -> dict[str, Any]:
    report = progress.reports_visible(request.user).filter(pk=report_id).first()
    if report is None:
        raise Http404("No such progress report in your scope.")
    return _out(report)


@router.get("/plans/{code}/progress-overdue", response=list[OverdueOut])
def progress_overdue_list(request: HttpRequest, code: PlanCode) -> list[dict[str, Any]]:
    """Reports past their deadline and not submitted: all units for the office and reviewers, a
    department reporter's own department's otherwise."""
    rows = progress.overdue_list(request.user, _plan(code), timezone.localdate())
    return [
        {"task": m.task.code, "department": m.department.code, "year": m.year, "half": m.half, "due": m.due}
        for m in rows
    ]
