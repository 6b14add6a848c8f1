"""Deliverables (one-off commitments): loading them from the plan file, who may see and change them,
status updates by the owner unit, evidence, and the reviewer's sign-off (never by the submitter).

Status: not started → in progress → submitted (the owner says it is done, with evidence) → done (a
reviewer signed off) or back to in progress (returned with a comment). "Late" is computed: not done
and past the due date (without one, the end of the plan period)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.evidence import evidence_store
from kepu.core.models import Department, EvidenceFile, OrgUnit, Role
from kepu.core.scope import Scope, scope_for
from kepu.core.services import audit_record, model_update
from kepu.plans.models import Deliverable, Milestone, Plan, Section

DISPLAY_STATUSES: dict[str, Any] = {
    "not_started": gettext_lazy("未启动"),
    "in_progress": gettext_lazy("推进中"),
    "done": gettext_lazy("已完成"),
    "late": gettext_lazy("已逾期"),
}


# --- the plan file -------------------------------------------------------------------------------


def deliverable_file_errors(doc: dict[str, Any], dept_names: set[str], sections: set[str]) -> list[str]:
    """Problems of a plan file's `deliverables:` section, each with its path."""
    errors: list[str] = []
    start, end = doc["plan"]["start_year"], doc["plan"]["end_year"]
    seen: set[str] = set()
    for i, d in enumerate(doc.get("deliverables", [])):
        where = f"deliverables[{i}]"
        if d["code"] in seen:
            errors.append(f"{where}.code: duplicate deliverable code {d['code']!r}")
        seen.add(d["code"])
        if d["owner"] not in dept_names:
            errors.append(f"{where}.owner: deliverable {d['code']}: unknown unit {d['owner']!r} (not a department)")
        for ui, name in enumerate(d.get("supporting_units", [])):
            if name not in dept_names:
                errors.append(f"{where}.supporting_units[{ui}]: deliverable {d['code']}: unknown unit {name!r}")
        if "section" in d and d["section"] not in sections:
            errors.append(f"{where}.section: unknown section {d['section']!r}")
        dates = [("due", d.get("due"))]
        dates += [(f"milestones[{mi}].due", m.get("due")) for mi, m in enumerate(d.get("milestones", []))]
        for key, value in dates:
            if value is None:
                continue
            day = _date(value)
            if day is None:
                errors.append(f"{where}.{key}: {value!r} is not a date (YYYY-MM-DD)")
            elif not start <= day.year <= end:
                errors.append(f"{where}.{key}: {value} is outside the plan years {start}–{end}")
    return errors


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def deliverables_import(
    *, plan: Plan, doc: dict[str, Any], departments: dict[str, Department], actor: User | None
) -> int:
    """Create or update the plan's deliverables from a validated file; ones no longer in the file are
    deactivated (their status, evidence and sign-off are kept). Returns how many the file has."""
    sections = {s.code: s for s in Section.objects.filter(programme__plan=plan)}
    keep: set[int] = set()
    for order, d in enumerate(doc.get("deliverables", [])):
        data = {
            "name_zh": d["name_zh"],
            "name_en": d["name_en"],
            "section": sections.get(d.get("section", "")),
            "owner": departments[d["owner"]],
            "due_date": _date(d["due"]) if d.get("due") else None,
            "quote": d["quote"],
            "note_zh": d.get("note_zh", ""),
            "note_en": d.get("note_en", ""),
            "order": order,
            "active": True,
        }
        item = Deliverable.objects.filter(plan=plan, code=d["code"]).first()
        if item is None:
            item = Deliverable.objects.create(plan=plan, code=d["code"], **data)
            audit_record(actor=actor, action="deliverable.create", obj=item)
        else:
            changes = model_update(instance=item, data=data)
            if changes:
                item.save()
                audit_record(
                    actor=actor, action="deliverable.update", obj=item,
                    changes={k: (str(o), str(n)) for k, (o, n) in changes.items()},
                )
        item.supporting.set([departments[n] for n in d.get("supporting_units", [])])
        _plan_milestones(item, d.get("milestones", []))
        keep.add(item.pk)
    for gone in Deliverable.objects.filter(plan=plan, active=True).exclude(pk__in=keep):
        gone.active = False
        gone.save(update_fields=["active"])
        audit_record(actor=actor, action="deliverable.deactivate", obj=gone)
    return len(keep)


def _plan_milestones(item: Deliverable, milestones: list[dict[str, Any]]) -> None:
    """The file's milestones replace the earlier file's; ones the owner added on the page stay. A plan
    milestone already marked done keeps its date when its name is unchanged."""
    done = {m.name_zh: m.done_on for m in item.milestones.filter(from_plan=True)}
    item.milestones.filter(from_plan=True).delete()
    Milestone.objects.bulk_create(
        [
            Milestone(
                deliverable=item,
                name_zh=m["name_zh"],
                name_en=m["name_en"],
                due_date=_date(m["due"]) if m.get("due") else None,
                done_on=done.get(m["name_zh"]),
                from_plan=True,
                order=i,
            )
            for i, m in enumerate(milestones)
        ]
    )


# --- who may do what -------------------------------------------------------------------------------


def _in_region(scope: Scope, region: OrgUnit) -> bool:
    """Anyone with a role in the plan's region (above it, at it or inside it) sees its commitments."""
    if scope.superuser:
        return True
    return any(p.startswith(region.path) or region.path.startswith(p) for ps in scope.paths.values() for p in ps)


def can_view_plan(user: User | AnonymousUser, plan: Plan) -> bool:
    return _in_region(scope_for(user), plan.region)


def can_view(user: User | AnonymousUser, item: Deliverable) -> bool:
    return _in_region(scope_for(user), item.plan.region)


def can_update(user: User | AnonymousUser, item: Deliverable) -> bool:
    """The office, or a reporter of the owner unit (department reporter of that department in the region)."""
    scope = scope_for(user)
    if scope.covers(item.plan.region, (Role.OFFICE_ADMIN,)):
        return True
    return scope.covers(item.plan.region, (Role.DEPARTMENT_REPORTER,)) and item.owner.code in scope.departments


def can_review(user: User | AnonymousUser, item: Deliverable) -> bool:
    return scope_for(user).can_review(item.plan.region)


def can_sign_off(user: User | AnonymousUser, item: Deliverable) -> bool:
    return (
        item.status == Deliverable.Status.SUBMITTED and can_review(user, item) and item.submitted_by_id != user.pk
    )


# --- selectors ---------------------------------------------------------------------------------------


def deliverables_for(plan: Plan, user: User | AnonymousUser) -> QuerySet[Deliverable]:
    qs = (
        Deliverable.objects.filter(plan=plan, active=True)
        .select_related("owner", "section", "plan__region", "signed_off_by", "submitted_by")
        .prefetch_related("milestones", "supporting", "evidence")
    )
    return qs if _in_region(scope_for(user), plan.region) else qs.none()


def deliverable_get(pk: int, user: User | AnonymousUser) -> Deliverable | None:
    item = Deliverable.objects.select_related("plan__region", "owner").filter(pk=pk, active=True).first()
    return item if item is not None and can_view(user, item) else None


def deliverable_counts(items: Any, today: dt.date) -> dict[str, int]:
    """How many deliverables are in each display status (all four keys, zeros included)."""
    counted = Counter(d.display_status(today) for d in items)
    return {k: counted.get(k, 0) for k in DISPLAY_STATUSES}


def plan_deliverable_counts(plan: Plan, today: dt.date) -> dict[str, int]:
    """The same for the whole plan, without scope (the annual assessment)."""
    return deliverable_counts(Deliverable.objects.filter(plan=plan, active=True).select_related("plan"), today)


# --- services -----------------------------------------------------------------------------------------


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


@transaction.atomic
def deliverable_progress(*, user: User, item: Deliverable, status: str, note: str) -> Deliverable:
    """The owner unit says where the commitment stands: not started or in progress, with a note."""
    _require(can_update(user, item), _("只有牵头单位的填报员或领导小组办公室可以更新此事项。"))
    if item.status in (Deliverable.Status.SUBMITTED, Deliverable.Status.DONE):
        raise InputError(_("此事项已提交验收或已完成，不能再修改进展状态。"))
    if status not in (Deliverable.Status.NOT_STARTED, Deliverable.Status.IN_PROGRESS):
        raise InputError(_("请选择“未启动”或“推进中”。"))
    changes = model_update(instance=item, data={"status": status, "progress_note": note.strip()})
    if changes:
        item.save()
        audit_record(actor=user, action="deliverable.progress", obj=item, changes=changes)
    return item


@transaction.atomic
def deliverable_evidence_add(*, user: User, item: Deliverable, upload: Any) -> EvidenceFile:
    _require(can_update(user, item), _("只有牵头单位的填报员或领导小组办公室可以上传佐证材料。"))
    if item.status == Deliverable.Status.DONE:
        raise InputError(_("此事项已验收完成，不能再添加佐证材料。"))
    evidence = evidence_store(upload, user)
    item.evidence.add(evidence)
    audit_record(actor=user, action="deliverable.evidence", obj=item, comment=evidence.original_name)
    return evidence


@transaction.atomic
def deliverable_submit(*, user: User, item: Deliverable, note: str = "") -> Deliverable:
    """The owner says the commitment is kept; a reviewer must sign it off. Needs at least one evidence file."""
    _require(can_update(user, item), _("只有牵头单位的填报员或领导小组办公室可以提交验收。"))
    if item.status in (Deliverable.Status.SUBMITTED, Deliverable.Status.DONE):
        raise InputError(_("此事项已提交验收或已完成。"))
    if not item.evidence.exists():
        raise InputError(_("提交验收前请至少上传一份佐证材料。"))
    item.status = Deliverable.Status.SUBMITTED
    item.submitted_by = user
    item.submitted_at = timezone.now()
    if note.strip():
        item.progress_note = note.strip()
    item.review_comment = ""
    item.save()
    audit_record(actor=user, action="deliverable.submit", obj=item, comment=note)
    return item


@transaction.atomic
def deliverable_sign_off(*, user: User, item: Deliverable, comment: str = "") -> Deliverable:
    """A reviewer confirms the commitment is kept. Four eyes: never the person who submitted it."""
    _require(can_review(user, item), _("只有审核员或领导小组办公室可以验收。"))
    if item.status != Deliverable.Status.SUBMITTED:
        raise InputError(_("此事项尚未提交验收。"))
    if item.submitted_by_id == user.pk:
        raise PermissionDenied(_("提交人不能验收自己提交的事项，请由另一位审核员验收。"))
    item.status = Deliverable.Status.DONE
    item.signed_off_by = user
    item.signed_off_at = timezone.now()
    item.review_comment = comment.strip()
    item.save()
    audit_record(actor=user, action="deliverable.sign_off", obj=item, comment=comment)
    return item


@transaction.atomic
def deliverable_return(*, user: User, item: Deliverable, comment: str) -> Deliverable:
    _require(can_review(user, item), _("只有审核员或领导小组办公室可以退回。"))
    if item.status != Deliverable.Status.SUBMITTED:
        raise InputError(_("此事项尚未提交验收。"))
    if item.submitted_by_id == user.pk:
        raise PermissionDenied(_("提交人不能验收自己提交的事项，请由另一位审核员验收。"))
    if not comment.strip():
        raise InputError(_("退回时请写明原因。"))
    item.status = Deliverable.Status.IN_PROGRESS
    item.review_comment = comment.strip()
    item.save()
    audit_record(actor=user, action="deliverable.return", obj=item, comment=comment)
    return item


@transaction.atomic
def milestone_add(*, user: User, item: Deliverable, name_zh: str, due_date: dt.date | None) -> Milestone:
    _require(can_update(user, item), _("只有牵头单位的填报员或领导小组办公室可以添加节点。"))
    name = name_zh.strip()
    if not name or len(name) > 300:
        raise InputError(_("请填写节点名称（不超过300字）。"))
    end = dt.date(item.plan.end_year, 12, 31)
    if due_date is not None and not dt.date(item.plan.start_year, 1, 1) <= due_date <= end:
        raise InputError(_("节点日期须在规划期内。"))
    m = Milestone.objects.create(deliverable=item, name_zh=name, due_date=due_date, order=item.milestones.count())
    audit_record(actor=user, action="deliverable.milestone", obj=item, comment=name)
    return m


@transaction.atomic
def milestone_done(*, user: User, milestone: Milestone, done_on: dt.date) -> Milestone:
    _require(can_update(user, milestone.deliverable), _("只有牵头单位的填报员或领导小组办公室可以更新节点。"))
    if done_on > timezone.localdate():
        raise InputError(_("完成日期不能晚于今天。"))
    milestone.done_on = done_on
    milestone.save(update_fields=["done_on"])
    audit_record(actor=user, action="deliverable.milestone_done", obj=milestone.deliverable, comment=milestone.name_zh)
    return milestone


# --- the annual assessment --------------------------------------------------------------------------------


def deliverable_counts_at(plan: Plan, day: dt.date) -> dict[str, int]:
    """Counts by status as they stood on `day` (the end of an assessed year): done only if signed off by then;
    one signed off later counts as in progress then (or late, if it was past due)."""
    counts = dict.fromkeys(DISPLAY_STATUSES, 0)
    for item in Deliverable.objects.filter(plan=plan, active=True).select_related("plan"):
        signed = item.signed_off_at is not None and timezone.localtime(item.signed_off_at).date() <= day
        if item.status == Deliverable.Status.DONE and signed:
            counts["done"] += 1
        elif day > item.due:
            counts["late"] += 1
        elif item.status == Deliverable.Status.NOT_STARTED:
            counts["not_started"] += 1
        else:
            counts["in_progress"] += 1
    return counts


def assessment_method_lines(counts: dict[str, int], year: int) -> tuple[str, str]:
    """The assessment's method item on deliverables, with the year's counts (Chinese, English)."""
    total = sum(counts.values())
    zh = (
        f"重点事项（规划中的一次性任务，共 {total} 项）单独计数，不计入各区得分（事项不分解到各区）："
        f"以 {year} 年 12 月 31 日为准，经审核员验收的为已完成，超过期限（未注明期限的为规划期末）仍未验收的为已逾期。"
        f"本年度末：已完成 {counts['done']} 项，推进中 {counts['in_progress']} 项，"
        f"未启动 {counts['not_started']} 项，已逾期 {counts['late']} 项。"
    )
    en = (
        f"Deliverables (the plan's one-off commitments, {total} in all) are counted separately and do not enter "
        f"the district scores (they are not allocated to districts): as of 31 December {year}, one signed off by "
        "a reviewer is done, and one past its due date (the end of the plan period where none is given) and not "
        f"signed off is late. At the end of the year: {counts['done']} done, {counts['in_progress']} in progress, "
        f"{counts['not_started']} not started, {counts['late']} late."
    )
    return zh, en
