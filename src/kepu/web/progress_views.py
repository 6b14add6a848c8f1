"""Progress-report pages: my reports (with reminders), file or edit a report with evidence, one
report with its review, the review queue and the overdue list. Scope is decided in
kepu.plans.progress; these views only translate requests and responses."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import Department, OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.plans import progress, selectors
from kepu.plans.models import Plan, Task
from kepu.plans.progress_models import ProgressReport, period_label


def _lang() -> str:
    return get_language() or "zh-hans"


def _plan(request: HttpRequest) -> Plan:
    code = request.GET.get("plan")
    plan = selectors.plan_get(code) if code else selectors.plan_default()
    if plan is None:
        raise Http404(_("No plan has been imported yet. Run: kepu plan import FILE"))
    return plan


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


@login_required
def progress_list(request: HttpRequest) -> HttpResponse:
    """My reports, my reminders, and the tasks I may report on with a link for the latest period."""
    plan = _plan(request)
    year, half = progress.current_period(timezone.localdate())
    tasks = []
    for task in progress.tasks_of(plan):
        options = progress.filing_options(request.user, task)
        if options:
            tasks.append((task, [(dept or unit, _file_url(task, unit, dept, year, half)) for unit, dept in options]))
    context: dict[str, Any] = {
        "plan": plan,
        "reports": progress.my_reports(request.user, plan),
        "reminders": progress.reminders_for(request.user),
        "tasks": tasks,
        "year": year,
        "half": half,
        "period": period_label(year, half),
        "lang": _lang(),
    }
    return render(request, "web/progress_list.html", context)


def _file_url(task: Task, unit: OrgUnit, dept: Department | None, year: int, half: int) -> str:
    query: dict[str, str | int] = {"unit": unit.code, "dept": dept.code if dept else "", "year": year, "half": half}
    return f"{reverse('web:progress_file', args=[task.pk])}?{urlencode(query)}"


def _filing_target(request: HttpRequest, task: Task) -> tuple[OrgUnit, Department | None]:
    unit_code, dept_code = request.GET.get("unit"), request.GET.get("dept") or None
    for unit, dept in progress.filing_options(request.user, task):
        if unit.code == unit_code and (dept.code if dept else None) == dept_code:
            return unit, dept
    raise DjangoPermissionDenied(_("您不能为这个单位填报本任务的进展报告。"))


@login_required
@require_http_methods(["GET", "POST"])
def progress_file(request: HttpRequest, task_id: int) -> HttpResponse:
    """File or edit the report of one task, unit and period; evidence files are uploaded with it."""
    task = get_object_or_404(progress.tasks_of(_plan(request)), pk=task_id)
    unit, dept = _filing_target(request, task)
    default_year, default_half = progress.current_period(timezone.localdate())
    year, half = _int(request.GET.get("year"), default_year), _int(request.GET.get("half"), default_half)
    report = ProgressReport.objects.filter(task=task, org_unit=unit, department=dept, year=year, half=half).first()
    if request.method == "POST":
        try:
            report = progress.progress_report_save(
                user=actor(request), task=task, org_unit=unit, department=dept, year=year, half=half,
                done=request.POST.get("done", ""), problems=request.POST.get("problems", ""),
                next_steps=request.POST.get("next_steps", ""),
                observation_ids=[int(i) for i in request.POST.getlist("obs") if i.isdigit()],
            )
            for upload in request.FILES.getlist("evidence"):
                progress.progress_report_add_evidence(user=actor(request), report=report, upload=upload)
            if request.POST.get("action") == "submit":
                report = progress.progress_report_submit(user=actor(request), report=report)
                messages.success(request, _("进展报告已提交审核。"))
                return redirect("web:progress_detail", report_id=report.pk)
            messages.success(request, _("草稿已保存。"))
            return redirect(request.get_full_path())
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except InputError as exc:
            for msg in exc.errors or [str(exc)]:
                messages.error(request, msg)
    from kepu.core.evidence import evidence_accept_attr, evidence_max_size

    plan = task.section.programme.plan
    context = {
        "task": task,
        "unit": unit,
        "dept": dept,
        "year": year,
        "half": half,
        "years": list(range(plan.start_year, min(plan.end_year, timezone.localdate().year) + 1)),
        "period": period_label(year, half),
        "due": progress.schedule_of(plan).due_date(year, half),
        "report": report,
        "form": request.POST if request.method == "POST" else None,
        "observations": progress.linkable_observations(request.user, task, unit, year),
        "linked": set(report.observations.values_list("pk", flat=True)) if report else set(),
        "accept": evidence_accept_attr(),
        "max_size": evidence_max_size(),
        "lang": _lang(),
    }
    return render(request, "web/progress_form.html", context)


def _report(request: HttpRequest, report_id: int) -> ProgressReport:
    return get_object_or_404(progress.reports_visible(request.user), pk=report_id)


@login_required
def progress_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report(request, report_id)
    submitted = report.status == ProgressReport.Status.SUBMITTED
    can_review = submitted and scope_for(request.user).can_review(report.org_unit)
    can_edit = report.editable and progress.can_file(request.user, report.task, report.org_unit, report.department)
    edit_url = _file_url(report.task, report.org_unit, report.department, report.year, report.half) if can_edit else ""
    context = {
        "report": report,
        "evidence": report.evidence.all(),
        "observations": report.observations.select_related("indicator", "org_unit"),
        "can_review": can_review,
        "own": progress.is_own_report(request.user, report),
        "edit_url": edit_url,
        "due": progress.schedule_of(report.task.section.programme.plan).due_date(report.year, report.half),
        "lang": _lang(),
    }
    return render(request, "web/progress_detail.html", context)


@login_required
@require_POST
def progress_review(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report(request, report_id)
    comment = request.POST.get("comment", "")
    try:
        if request.POST.get("action") == "approve":
            progress.progress_report_approve(user=actor(request), report=report, comment=comment)
            messages.success(request, _("进展报告已审核通过。"))
        else:
            progress.progress_report_return(user=actor(request), report=report, comment=comment)
            messages.success(request, _("进展报告已退回填报单位。"))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except InputError as exc:
        messages.error(request, str(exc))
        return redirect("web:progress_detail", report_id=report.pk)
    return redirect("web:progress_queue")


@login_required
def progress_evidence(request: HttpRequest, report_id: int, evidence_id: int) -> FileResponse:
    """An evidence file of a report the user may see, sent as the type detected at upload."""
    report = _report(request, report_id)
    file = get_object_or_404(report.evidence.all(), pk=evidence_id)
    return FileResponse(file.file.open("rb"), as_attachment=True, filename=file.original_name,
                        content_type=file.content_type)


@login_required
def progress_queue(request: HttpRequest) -> HttpResponse:
    if not scope_for(request.user).can_review_anything:
        raise DjangoPermissionDenied(_("Only reviewers have an approval inbox."))
    return render(request, "web/progress_queue.html", {"reports": progress.review_queue(request.user), "lang": _lang()})


@login_required
def progress_overdue(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    today = timezone.localdate()
    periods = [(f"{y}-{h}", period_label(y, h), due) for y, h, due in progress.overdue_periods(plan, today)]
    chosen = request.GET.get("period") or (periods[0][0] if periods else "")
    rows: list[progress.Missing] = []
    if periods:
        if chosen not in {p[0] for p in periods}:
            raise Http404(_("没有这个报告期。"))
        year, half = (int(x) for x in chosen.split("-"))
        rows = progress.overdue_list(request.user, plan, today, (year, half))
    by_department: dict[Department, list[progress.Missing]] = {}
    for m in rows:
        by_department.setdefault(m.department, []).append(m)
    context = {"plan": plan, "groups": sorted(by_department.items(), key=lambda kv: kv[0].code),
               "count": len(rows), "today": today, "periods": periods, "chosen": chosen, "lang": _lang()}
    return render(request, "web/progress_overdue.html", context)
