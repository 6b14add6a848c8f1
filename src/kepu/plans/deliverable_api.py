"""Deliverables in the API (read-only): a plan's one-off commitments and one of them, scoped as on the
pages (kepu.plans.deliverables). Evidence is listed by name, size, type and hash; the file itself is
downloaded from the page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from kepu.plans import deliverables as svc
from kepu.plans import selectors
from kepu.plans.models import Deliverable
from kepu.plans.schemas import PlanCode

router = Router(tags=["deliverables"])

DeliverableId = Annotated[int, Field(ge=1, le=2**63 - 1, examples=[1])]
DisplayStatus = Literal["not_started", "in_progress", "done", "late"]
StoredStatus = Literal["not_started", "in_progress", "submitted", "done"]


class DeliverableEvidenceOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str


class MilestoneOut(Schema):
    name_zh: str
    name_en: str
    due: dt.date | None
    done_on: dt.date | None


class DeliverableOut(Schema):
    id: int
    plan: str
    code: str
    name_zh: str
    name_en: str
    section: str | None
    owner: str
    supporting_units: list[str]
    due: dt.date = Field(description="the due date; the end of the plan period where the plan gives none")
    due_in_plan: bool = Field(description="false: the plan gives no date (due during the plan period)")
    quote: str
    status: DisplayStatus
    workflow_status: StoredStatus
    progress_note: str
    review_comment: str
    submitted_at: dt.datetime | None
    signed_off_at: dt.datetime | None
    milestones: list[MilestoneOut]
    evidence: list[DeliverableEvidenceOut]


class DeliverablePage(Schema):
    count: int
    counts: dict[str, int]
    items: list[DeliverableOut]


def _out(d: Deliverable, today: dt.date) -> dict[str, Any]:
    return {
        "id": d.pk,
        "plan": d.plan.code,
        "code": d.code,
        "name_zh": d.name_zh,
        "name_en": d.name_en,
        "section": d.section.code if d.section else None,
        "owner": d.owner.code,
        "supporting_units": sorted(u.code for u in d.supporting.all()),
        "due": d.due,
        "due_in_plan": d.due_date is not None,
        "quote": d.quote,
        "status": d.display_status(today),
        "workflow_status": d.status,
        "progress_note": d.progress_note,
        "review_comment": d.review_comment,
        "submitted_at": d.submitted_at,
        "signed_off_at": d.signed_off_at,
        "milestones": [
            {"name_zh": m.name_zh, "name_en": m.name_en, "due": m.due_date, "done_on": m.done_on}
            for m in d.milestones.all()
        ],
        "evidence": [
            {"id": e.pk, "name": e.original_name, "size": e.size, "content_type": e.content_type, "sha256": e.sha256}
            for e in d.evidence.all()
        ],
    }


@router.get("/plans/{code}/deliverables", response=DeliverablePage)
def deliverables_list(request: HttpRequest, code: PlanCode) -> dict[str, Any]:
    """The plan's deliverables with counts by status; a plan outside the user's region is not shown to exist."""
    plan = selectors.plan_get(code)
    if plan is None or not svc.can_view_plan(request.user, plan):
        raise Http404(f"No plan with code {code!r}.")
    today = timezone.localdate()
    items = list(svc.deliverables_for(plan, request.user))
    return {
        "count": len(items),
        "counts": svc.deliverable_counts(items, today),
        "items": [_out(d, today) for d in items],
    }


@router.get("/deliverables/{deliverable_id}", response=DeliverableOut)
def deliverable_get(request: HttpRequest, deliverable_id: DeliverableId) -> dict[str, Any]:
    item = svc.deliverable_get(deliverable_id, request.user)
    if item is None:
        raise Http404("No such deliverable in your scope.")
    return _out(item, timezone.localdate())
