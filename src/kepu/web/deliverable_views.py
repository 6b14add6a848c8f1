"""Deliverable pages: the list (counts by status), the detail (milestones, evidence, status, sign-off),
evidence download. Thin: each view checks scope through kepu.plans.deliverables and calls a service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.evidence import evidence_accept_attr, evidence_max_size
from kepu.core.scope import actor
from kepu.plans import deliverables as svc
from kepu.plans import selectors
from kepu.plans.models import Deliverable, Milestone, Plan

# Display status → the house's status colours.
BADGE = {"done": "st-met", "in_progress": "st-on_track", "not_started": "st-no_data", "late": "st-off_track"}


def _lang() -> str:
    return get_language() or "zh-hans"


def _plan(request: HttpRequest) -> Plan:
    code = request.GET.get("plan")
    plan = selectors.plan_get(code) if code else selectors.plan_default()
    if plan is None:
        raise Http404(_("没有这个规划,或您无权查看。"))
    return plan


def status_row(item: Deliverable, today: dt.date) -> dict[str, Any]:
    status = item.display_status(today)
    return {"item": item, "status": status, "label": svc.DISPLAY_STATUSES[status], "badge": BADGE[status]}


@login_required
def deliverable_list(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    today = timezone.localdate()
    if not svc.can_view_plan(request.user, plan):
        raise Http404(_("没有这个规划,或您无权查看。"))
    items = list(svc.deliverables_for(plan, request.user))
    wanted = request.GET.get("status", "")
    rows = [status_row(d, today) for d in items]
    return render(
        request,
        "web/deliverables.html",
        {
            "plan": plan,
            "rows": [r for r in rows if not wanted or r["status"] == wanted],
            "counts": svc.deliverable_counts(items, today),
            "statuses": [(k, v, BADGE[k]) for k, v in svc.DISPLAY_STATUSES.items()],
            "wanted": wanted,
            "lang": _lang(),
        },
    )


def _item(request: HttpRequest, pk: int) -> Deliverable:
    item = svc.deliverable_get(pk, request.user)
    if item is None:
        raise Http404(_("没有这个事项,或您无权查看。"))
    return item


@login_required
def deliverable_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    today = timezone.localdate()
    return render(
        request,
        "web/deliverable_detail.html",
        {
            "plan": item.plan,
            "item": item,
            "row": status_row(item, today),
            "milestones": list(item.milestones.all()),
            "evidence": list(item.evidence.select_related("uploaded_by").order_by("uploaded_at", "id")),
            "supporting": list(item.supporting.all()),
            "can_update": svc.can_update(request.user, item) and item.status != Deliverable.Status.DONE,
            "can_review": svc.can_review(request.user, item) and item.status == Deliverable.Status.SUBMITTED,
            "can_sign_off": svc.can_sign_off(request.user, item),
            "accept": evidence_accept_attr(),
            "max_size": evidence_max_size(),
            "today": today,
            "lang": _lang(),
        },
    )


def _run(request: HttpRequest, item: Deliverable, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except InputError as exc:
        for msg in exc.errors:
            messages.error(request, msg)
    else:
        messages.success(request, done)
    return redirect("web:deliverable_detail", pk=item.pk)


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise InputError(_("日期格式应为 年-月-日。")) from None


@login_required
@require_POST
def deliverable_action(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    user = actor(request)
    post = request.POST
    what = post.get("action", "")
    note = post.get("note", "")
    if what == "progress":
        return _run(
            request, item,
            lambda: svc.deliverable_progress(user=user, item=item, status=post.get("status", ""), note=note),
            _("进展已保存。"),
        )
    if what == "evidence":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要上传的文件。"))
            return redirect("web:deliverable_detail", pk=item.pk)
        return _run(
            request, item, lambda: svc.deliverable_evidence_add(user=user, item=item, upload=upload),
            _("佐证材料已上传。"),
        )
    if what == "submit":
        return _run(
            request, item, lambda: svc.deliverable_submit(user=user, item=item, note=note), _("已提交验收。")
        )
    if what == "sign_off":
        return _run(
            request, item, lambda: svc.deliverable_sign_off(user=user, item=item, comment=post.get("comment", "")),
            _("已验收通过。"),
        )
    if what == "return":
        return _run(
            request, item, lambda: svc.deliverable_return(user=user, item=item, comment=post.get("comment", "")),
            _("已退回牵头单位。"),
        )
    if what == "milestone":
        return _run(
            request, item,
            lambda: svc.milestone_add(
                user=user, item=item, name_zh=post.get("name", ""), due_date=_day(post.get("due", ""))
            ),
            _("节点已添加。"),
        )
    if what == "milestone_done":
        milestone = get_object_or_404(Milestone, pk=post.get("milestone") or 0, deliverable=item)
        return _run(
            request, item,
            lambda: svc.milestone_done(
                user=user, milestone=milestone, done_on=_day(post.get("done_on", "")) or timezone.localdate()
            ),
            _("节点已标记完成。"),
        )
    messages.error(request, _("未知操作。"))
    return redirect("web:deliverable_detail", pk=item.pk)


@login_required
def deliverable_evidence(request: HttpRequest, pk: int, evidence_id: int) -> FileResponse:
    """An evidence file, only to someone who may see the deliverable it is attached to."""
    item = _item(request, pk)
    ev = get_object_or_404(item.evidence.all(), pk=evidence_id)
    response = FileResponse(
        ev.file.open("rb"), as_attachment=True, filename=ev.original_name, content_type=ev.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("deliverables/", deliverable_list, name="deliverables"),
    path("deliverables/<int:pk>/", deliverable_detail, name="deliverable_detail"),
    path("deliverables/<int:pk>/action/", deliverable_action, name="deliverable_action"),
    path("deliverables/<int:pk>/evidence/<int:evidence_id>/", deliverable_evidence, name="deliverable_evidence"),
]
