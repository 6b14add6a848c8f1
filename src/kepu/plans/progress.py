"""Progress reports on tasks: who may file them, the submit → review workflow (the same rules as
observations: scope, one submission, four eyes), deadlines, overdue lists and reminders.

A department files for the city on the tasks its department is on (lead or supporting); a district
reporter files for their own district's part of any task. Expected reports, and so overdue ones, are
one per task, lead unit (牵头单位) and period: supporting units may file too, but are not chased."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import Department, OrgUnit, Role, RoleAssignment
from kepu.core.scope import REVIEW_ROLES, scope_for
from kepu.core.services import audit_record
from kepu.plans.models import Observation, Plan, Task
from kepu.plans.progress_models import (
    ProgressReminder,
    ProgressReport,
    ProgressSchedule,
    period_label,
)

Viewer = User | AnonymousUser
Status = ProgressReport.Status
TEXT_LIMIT = 5000
OVERDUE_REMINDER_DAYS = 183


# ---------------------------------------------------------------- reads


def schedule_of(plan: Plan) -> ProgressSchedule:
    """The plan's reporting deadlines (the defaults, 7/15 and 1/15, until the office sets others)."""
    return ProgressSchedule.objects.filter(plan=plan).first() or ProgressSchedule(plan=plan)


def task_departments(task: Task) -> list[Department]:
    """The departments on a task, lead first; a task without its own units falls back to its section's."""
    units = [r.department for r in task.responsibilities.all() if r.department is not None]
    return units or list(task.section.responsible_units.all())


def task_leads(task: Task) -> list[Department]:
    """The departments that owe the task's progress report: its lead units (牵头), or, for a task
    without its own units, its section's."""
    leads = [r.department for r in task.responsibilities.all() if r.department is not None and r.role == "lead"]
    return leads or task_departments(task)


def tasks_of(plan: Plan) -> QuerySet[Task]:
    return (
        Task.objects.filter(section__programme__plan=plan, active=True)
        .select_related("section__programme")
        .prefetch_related("responsibilities__department", "section__responsible_units")
        .order_by("section__programme__order", "section__order", "order")
    )


def task_plan(task: Task) -> Plan:
    return task.section.programme.plan


def filing_options(user: Viewer, task: Task) -> list[tuple[OrgUnit, Department | None]]:
    """The (unit, department) pairs the user may file a report on this task for."""
    scope = scope_for(user)
    plan = task_plan(task)
    region = plan.region
    out: list[tuple[OrgUnit, Department | None]] = []
    office = scope.covers(region, (Role.OFFICE_ADMIN,))
    department_reporter = scope.covers(region, (Role.DEPARTMENT_REPORTER,))
    for dept in task_departments(task):
        if office or (department_reporter and dept.code in scope.departments):
            out.append((region, dept))
    districts = OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True)
    out += [(u, None) for u in districts if scope.covers(u, (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER))]
    return out


def can_file(user: Viewer, task: Task, unit: OrgUnit, department: Department | None) -> bool:
    return any(u.pk == unit.pk and (d.pk if d else None) == (department.pk if department else None)
               for u, d in filing_options(user, task))


def reports_visible(user: Viewer, plan: Plan | None = None) -> QuerySet[ProgressReport]:
    """Reports on units in the user's scope; a department reporter also sees their department's."""
    scope = scope_for(user)
    q = scope.unit_filter("org_unit__")
    if scope.departments:
        q |= Q(department__code__in=scope.departments)
    qs = ProgressReport.objects.select_related(
        "task__section__programme__plan", "org_unit", "department", "submitted_by", "reviewed_by", "created_by"
    ).filter(q)
    return qs.filter(task__section__programme__plan=plan) if plan is not None else qs


def my_reports(user: Viewer, plan: Plan | None = None) -> QuerySet[ProgressReport]:
    """The reports the user's own units file: their departments' and their districts'."""
    scope = scope_for(user)
    q = Q(pk__in=[])
    if scope.departments:
        q |= Q(department__code__in=scope.departments)
    q |= scope.unit_filter("org_unit__", (Role.DISTRICT_REPORTER,)) & Q(department__isnull=True)
    if scope.is_office_admin:
        q = Q()
    return reports_visible(user, plan).filter(q)


def review_queue(user: Viewer) -> QuerySet[ProgressReport]:
    scope = scope_for(user)
    return (
        reports_visible(user)
        .filter(scope.unit_filter("org_unit__", REVIEW_ROLES), status=Status.SUBMITTED)
        .order_by("submitted_at", "id")
    )


def is_own_report(user: Viewer, report: ProgressReport) -> bool:
    return user.pk is not None and user.pk in (report.created_by_id, report.submitted_by_id)


def linkable_observations(user: Viewer, task: Task, unit: OrgUnit, year: int) -> QuerySet[Observation]:
    """Indicator values a report may explain: of the indicators the task measures (or, for a task
    that names none, of its section), for the report's unit and year, visible to the user."""
    scope = scope_for(user)
    indicator_ids = list(task.indicators.values_list("pk", flat=True)) if hasattr(task, "indicators") else []
    qs = Observation.objects.select_related("indicator", "org_unit").filter(
        scope.unit_filter("org_unit__"), org_unit=unit, year=year
    )
    if indicator_ids:
        return qs.filter(indicator_id__in=indicator_ids)
    return qs.filter(indicator__section=task.section)


def current_period(today: dt.date) -> tuple[int, int]:
    """The latest period that has ended: the year before in January–June, the first half after."""
    return (today.year, 1) if today.month >= 7 else (today.year - 1, 0)


def periods_due(plan: Plan, today: dt.date) -> list[tuple[int, int, dt.date]]:
    """(year, half, due date) of the plan's periods that have ended by `today`, latest first."""
    schedule = schedule_of(plan)
    out = []
    for year in range(min(today.year, plan.end_year), plan.start_year - 1, -1):
        for half in (0, 1):
            end = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
            if end < today:
                out.append((year, half, schedule.due_date(year, half)))
    return sorted(out, key=lambda p: p[2], reverse=True)


@dataclass(frozen=True)
class Missing:
    """An expected report not submitted (or returned and not resubmitted) for one task and unit."""

    task: Task
    department: Department
    year: int
    half: int
    due: dt.date
    overdue: bool

    @property
    def period_label(self) -> str:
        return period_label(self.year, self.half)


def missing_reports(
    plan: Plan, year: int, half: int, today: dt.date, departments: Iterable[str] | None = None
) -> list[Missing]:
    """Expected reports (one per task and lead unit) not yet submitted for the period;
    `departments` restricts to those department codes."""
    due = schedule_of(plan).due_date(year, half)
    filed = set(
        ProgressReport.objects.filter(
            task__section__programme__plan=plan,
            year=year,
            half=half,
            department__isnull=False,
            status__in=[Status.SUBMITTED, Status.APPROVED],
        ).values_list("task_id", "department_id")
    )
    wanted = None if departments is None else set(departments)
    out = []
    for task in tasks_of(plan):
        for dept in task_leads(task):
            if (task.pk, dept.pk) in filed or (wanted is not None and dept.code not in wanted):
                continue
            out.append(Missing(task, dept, year, half, due, overdue=today > due))
    return out


def overdue_periods(plan: Plan, today: dt.date) -> list[tuple[int, int, dt.date]]:
    """(year, half, due) of the periods past their deadline, latest first."""
    return [p for p in periods_due(plan, today) if today > p[2]]


def overdue_list(
    user: Viewer, plan: Plan, today: dt.date, period: tuple[int, int] | None = None
) -> list[Missing]:
    """Overdue reports of every period past its deadline (or of one period): the office (and
    reviewers) see all units; a department reporter their own department's."""
    scope = scope_for(user)
    if scope.is_office_admin or scope.can_review_anything:
        departments = None
    elif scope.departments:
        departments = scope.departments
    else:
        return []
    out: list[Missing] = []
    for year, half, _due in overdue_periods(plan, today):
        if period is None or period == (year, half):
            out += missing_reports(plan, year, half, today, departments)
    return out


def reminders_for(user: Viewer) -> QuerySet[ProgressReminder]:
    if not user.is_authenticated:
        return ProgressReminder.objects.none()
    return ProgressReminder.objects.filter(user=user).select_related("plan")[:10]


# ---------------------------------------------------------------- writes


def _label(report: ProgressReport) -> str:
    who = report.department.name_zh if report.department else report.org_unit.name_zh
    return f"{report.task.code} · {who} · {report.period_label}"


def _check_text(name: str, text: str) -> str:
    text = text.strip()
    if "\x00" in text:
        raise InputError(_("%(field)s中有一个不可见的空字符（NUL），请删去后再保存。") % {"field": name})
    if len(text) > TEXT_LIMIT:
        raise InputError(_("%(field)s最多 %(n)s 个字。") % {"field": name, "n": TEXT_LIMIT})
    return text


def _check_period(plan: Plan, year: int, half: int, today: dt.date) -> None:
    if half not in (0, 1):
        raise InputError(_("报告期只能是上半年或全年。"))
    if not plan.start_year <= year <= plan.end_year:
        raise InputError(
            _("%(year)s年不在规划期 %(a)s–%(b)s 年内。") % {"year": year, "a": plan.start_year, "b": plan.end_year}
        )
    start = dt.date(year, 1, 1)
    if start > today:
        raise InputError(_("%(period)s尚未开始，不能填报。") % {"period": period_label(year, half)})


@transaction.atomic
def progress_report_save(
    *,
    user: User,
    task: Task,
    org_unit: OrgUnit,
    department: Department | None,
    year: int,
    half: int,
    done: str,
    problems: str = "",
    next_steps: str = "",
    observation_ids: Iterable[int] = (),
    evidence_ids: Iterable[int] = (),
    submit: bool = False,
    today: dt.date | None = None,
) -> ProgressReport:
    """Create or update a draft (or returned) report; with `submit`, also submit it for review."""
    if not can_file(user, task, org_unit, department):
        raise PermissionDenied(
            _("您不能为%(unit)s填报任务“%(task)s”的进展报告。")
            % {"unit": department.name_zh if department else org_unit.name_zh, "task": task.name_zh}
        )
    _check_period(task_plan(task), year, half, today or timezone.localdate())
    fields = {
        "done": _check_text(_("工作进展"), done),
        "problems": _check_text(_("存在问题"), problems),
        "next_steps": _check_text(_("下一步打算"), next_steps),
    }
    if submit and not fields["done"]:
        raise InputError(_("请填写工作进展后再提交。"))
    allowed = linkable_observations(user, task, org_unit, year)
    obs_ids = set(observation_ids)
    observations = list(allowed.filter(pk__in=obs_ids))
    if len(observations) != len(obs_ids):
        raise InputError(_("只能关联本任务所衡量指标在本单位、本年度的数据。"))
    report = (
        ProgressReport.objects.select_for_update()
        .filter(task=task, org_unit=org_unit, department=department, year=year, half=half)
        .first()
    )
    if report is None:
        report = ProgressReport.objects.create(
            task=task, org_unit=org_unit, department=department, year=year, half=half, created_by=user, **fields
        )
        changes: dict[str, Any] = {"status": (None, report.status)}
        action = "progress.create"
    else:
        if not report.editable:
            raise InputError(
                _("%(label)s%(status)s，不能修改；如需修改，请审核人退回。")
                % {"label": _label(report), "status": report.get_status_display()}
            )
        changes = {k: (getattr(report, k), v) for k, v in fields.items() if getattr(report, k) != v}
        for k, v in fields.items():
            setattr(report, k, v)
        report.save()
        action = "progress.update"
    report.observations.set(observations)
    _attach_evidence(user, report, evidence_ids)
    if changes or action == "progress.create":
        audit_record(actor=user, action=action, obj=report, org_unit=org_unit, label=_label(report),
                     changes={k: v for k, v in changes.items() if k == "status"} or {"text": ("", "…")})
    if submit:
        report = progress_report_submit(user=user, report=report)
    return report


def _attach_evidence(user: User, report: ProgressReport, evidence_ids: Iterable[int]) -> None:
    ids = set(evidence_ids)
    if not ids:
        return
    from kepu.core.models import EvidenceFile

    files = list(EvidenceFile.objects.filter(pk__in=ids, uploaded_by=user))
    if len(files) != len(ids):
        raise InputError(_("只能附上您本人上传的佐证材料。"))
    report.evidence.add(*files)


@transaction.atomic
def progress_report_add_evidence(*, user: User, report: ProgressReport, upload: Any) -> ProgressReport:
    """Check and store an uploaded evidence file and attach it to a draft or returned report."""
    from kepu.core.evidence import evidence_store

    report = ProgressReport.objects.select_for_update().get(pk=report.pk)
    if not can_file(user, report.task, report.org_unit, report.department):
        raise PermissionDenied(_("您不能修改这份进展报告。"))
    if not report.editable:
        raise InputError(_("%(label)s已提交，不能再添加佐证材料。") % {"label": _label(report)})
    stored = evidence_store(upload, user)
    report.evidence.add(stored)
    audit_record(actor=user, action="progress.evidence", obj=report, org_unit=report.org_unit,
                 label=_label(report), changes={"evidence": (None, stored.original_name)})
    return report


def _locked(report: ProgressReport) -> ProgressReport:
    """The report, locked for this transaction (only its own row: its department may be empty)."""
    return (
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("task", "org_unit", "department")
        .get(pk=report.pk)
    )


@transaction.atomic
def progress_report_submit(*, user: User, report: ProgressReport) -> ProgressReport:
    report = _locked(report)
    if not can_file(user, report.task, report.org_unit, report.department):
        raise PermissionDenied(_("您不能提交这份进展报告。"))
    if not report.editable:
        raise InputError(
            _("%(label)s%(status)s，不能再次提交。") % {"label": _label(report), "status": report.get_status_display()}
        )
    if not report.done.strip():
        raise InputError(_("请填写工作进展后再提交。"))
    old = report.status
    report.status, report.submitted_by, report.submitted_at = Status.SUBMITTED, user, timezone.now()
    report.save()
    audit_record(actor=user, action="progress.submit", obj=report, org_unit=report.org_unit, label=_label(report),
                 changes={"status": (old, report.status)})
    return report


def _review(user: User, report: ProgressReport, status: str, comment: str) -> ProgressReport:
    report = _locked(report)
    if not scope_for(user).can_review(report.org_unit):
        raise PermissionDenied(_("您不能审核%(label)s。") % {"label": _label(report)})
    if report.status != Status.SUBMITTED:
        raise InputError(
            _("%(label)s%(status)s；只有已提交的报告可以审核。")
            % {"label": _label(report), "status": report.get_status_display()}
        )
    if status == Status.APPROVED and is_own_report(user, report):
        raise PermissionDenied(
            _("%(label)s 是您本人填报或提交的，不能由您审核通过；请另一位审核人处理（四眼原则）。")
            % {"label": _label(report)}
        )
    if status == Status.RETURNED and not comment.strip():
        raise InputError(_("退回时请写明原因。"))
    report.status, report.reviewed_by, report.reviewed_at = status, user, timezone.now()
    report.review_comment = _check_text(_("审核意见"), comment)
    report.save()
    audit_record(actor=user, action=f"progress.{'approve' if status == Status.APPROVED else 'return'}", obj=report,
                 org_unit=report.org_unit, label=_label(report), changes={"status": (Status.SUBMITTED, status)},
                 comment=comment)
    return report


@transaction.atomic
def progress_report_approve(*, user: User, report: ProgressReport, comment: str = "") -> ProgressReport:
    return _review(user, report, Status.APPROVED, comment)


@transaction.atomic
def progress_report_return(*, user: User, report: ProgressReport, comment: str) -> ProgressReport:
    return _review(user, report, Status.RETURNED, comment)


@transaction.atomic
def progress_schedule_set(
    *,
    user: User | None,
    plan: Plan,
    half_year_due: tuple[int, int],
    annual_due: tuple[int, int],
    remind_days_before: int,
) -> ProgressSchedule:
    """Set a plan's reporting deadlines ((month, day) of the half-year report in the same year and
    of the annual report in the next) and how many days before them reminders start; audited."""
    for month, day in (half_year_due, annual_due):
        try:
            dt.date(2023, month, day)  # a year without 29 February: the day must exist every year
        except ValueError as exc:
            raise InputError(_("%(m)s月%(d)s日不是每年都有的日期。") % {"m": month, "d": day}) from exc
    if not 0 <= remind_days_before <= 180:
        raise InputError(_("提前提醒的天数应在 0 到 180 之间。"))
    if half_year_due[0] < 7:
        raise InputError(_("上半年报告的截止日期应在 7 月 1 日或以后（上半年结束之后）。"))
    schedule = schedule_of(plan)
    old = (schedule.half_year_due_month, schedule.half_year_due_day, schedule.annual_due_month,
           schedule.annual_due_day, schedule.remind_days_before)
    schedule.half_year_due_month, schedule.half_year_due_day = half_year_due
    schedule.annual_due_month, schedule.annual_due_day = annual_due
    schedule.remind_days_before = remind_days_before
    schedule.save()
    new = (*half_year_due, *annual_due, remind_days_before)
    if old != new:
        audit_record(actor=user, action="progress.schedule", obj=schedule, label=plan.code,
                     changes={"schedule": (list(old), list(new))})
    return schedule


# ---------------------------------------------------------------- reminders


def _reporters_of(departments: set[str]) -> dict[int, tuple[User, set[str]]]:
    """Active department reporters of the given departments, with their departments."""
    out: dict[int, tuple[User, set[str]]] = {}
    for a in RoleAssignment.objects.filter(
        role=Role.DEPARTMENT_REPORTER, department__code__in=departments, user__is_active=True
    ).select_related("user", "department"):
        assert a.department is not None
        out.setdefault(a.user_id, (a.user, set()))[1].add(a.department.code)
    return out


def progress_reminders_send(*, today: dt.date) -> int:
    """Remind each reporter with missing reports of a period due within the plan's reminder window
    (or overdue): one in-app reminder, and one e-mail when they have an address, per user, period and
    kind. Safe to run twice a day: returns how many reminders were new."""
    from kepu.core.mail import mail_send

    new = 0
    for plan in Plan.objects.select_related("region"):
        schedule = schedule_of(plan)
        for year, half, due in periods_due(plan, today):
            # From the reminder window before the deadline until the next period's deadline: older
            # gaps stay on the overdue list but are not mailed about every half-year again.
            opens = due - dt.timedelta(days=schedule.remind_days_before)
            if not opens <= today <= due + dt.timedelta(days=OVERDUE_REMINDER_DAYS):
                continue
            kind = ProgressReminder.Kind.OVERDUE if today > due else ProgressReminder.Kind.DUE_SOON
            missing = missing_reports(plan, year, half, today)
            if not missing:
                continue
            for user, codes in _reporters_of({m.department.code for m in missing}).values():
                count = sum(1 for m in missing if m.department.code in codes)
                with transaction.atomic():
                    reminder, created = ProgressReminder.objects.get_or_create(
                        user=user, plan=plan, year=year, half=half, kind=kind,
                        defaults={"due": due, "missing": count},
                    )
                    if not created:
                        continue
                    new += 1
                    if user.email:
                        mail_send(to=[user.email], subject=reminder_subject(reminder), body=reminder_text(reminder))
                        ProgressReminder.objects.filter(pk=reminder.pk).update(emailed=True)
    return new


def reminder_subject(reminder: ProgressReminder) -> str:
    return _("【科普】%(period)s进展报告提醒") % {"period": period_label(reminder.year, reminder.half)}


def reminder_text(reminder: ProgressReminder) -> str:
    values = {
        "period": period_label(reminder.year, reminder.half),
        "n": reminder.missing,
        "due": f"{reminder.due:%Y-%m-%d}",
        "plan": reminder.plan.name_zh,
    }
    if reminder.kind == ProgressReminder.Kind.OVERDUE:
        return _("《%(plan)s》%(period)s的进展报告已于 %(due)s 截止，您所在单位还有 %(n)s 份未提交。") % values
    return _("《%(plan)s》%(period)s的进展报告将于 %(due)s 截止，您所在单位还有 %(n)s 份未提交。") % values
