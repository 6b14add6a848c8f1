"""Everything that writes funding records: budgets (enter → submit → approve/return, and changes to an
approved budget), spending reports, and the project fund (calls, applications, expert reviews, awards,
completion reports). Each function is transactional and audited; nobody approves, reviews or awards
their own submission. Approving or changing a budget republishes the funding indicators in the same
transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.community.selectors import expert_conflict, expert_profile
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import Department, OrgUnit
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.funding import indicators
from kepu.funding.models import (
    Budget,
    CompletionReport,
    FundApplication,
    FundAward,
    FundCall,
    FundReview,
    SpendingCategory,
    SpendingLine,
    SpendingReport,
)
from kepu.funding.money import plausibility_problem, show_wan, to_fen, unit_code, yuan
from kepu.funding.selectors import awarded_total_fen, can_manage, can_review
from kepu.plans.derived import ancestor_at

LEVELS = ("city", "district", "town")


def _city(unit: OrgUnit) -> OrgUnit | None:
    return ancestor_at(unit, "city")


def _publish(unit: OrgUnit, year: int) -> None:
    city = _city(unit)
    if city is not None:
        indicators.funding_publish(city=city, year=year)


# -- budgets -------------------------------------------------------------------------------------------


def budget_check(
    *, org_unit: OrgUnit, year: int, amount: object, unit: str, department: Department | None = None,
    where: str = "",
) -> int:
    """The amount in fen, or InputError naming `where` when it is malformed or looks like the wrong unit."""
    prefix = f"{where}：" if where else ""
    if org_unit.level not in LEVELS:
        raise InputError(prefix + _("科普经费预算按市、辖市(区)、镇(街道)三级填报，%(u)s 不是其中之一。")
                         % {"u": org_unit.name_zh})
    if not 2000 <= year <= 2100:
        raise InputError(prefix + _("年度须在 2000–2100 之间，得到 %(y)s。") % {"y": year})
    fen = to_fen(amount, unit, where=where)
    previous = Budget.objects.filter(org_unit=org_unit, department=department, year=year - 1).first()
    problem = plausibility_problem(
        fen=fen, unit_name=org_unit.name_zh + (department.name_zh if department else ""),
        population=org_unit.population if department is None else None,
        previous_fen=previous.amount_fen if previous else None, entered_unit=unit_code(unit),
    )
    if problem:
        raise InputError(prefix + problem)
    return fen


@transaction.atomic
def budget_save(
    *,
    actor: User,
    org_unit: OrgUnit,
    year: int,
    amount: object,
    unit: str,
    department: Department | None = None,
    note: str = "",
    where: str = "",
) -> Budget:
    """Enter or correct a budget (draft or returned). `unit` is 元 or 万元; the amount is stored in fen.
    A department line is checked against the unit's previous year, not its population (it is a part)."""
    if not can_manage(scope_for(actor), org_unit, department.code if department else None):
        raise PermissionDenied(_("您无权填报该单位的科普经费。"))
    fen = budget_check(org_unit=org_unit, year=year, amount=amount, unit=unit, department=department, where=where)
    budget = (Budget.objects.select_for_update(of=("self",))
              .filter(org_unit=org_unit, department=department, year=year).first())
    if budget is None:
        budget = Budget.objects.create(
            org_unit=org_unit, department=department, year=year, amount_fen=fen, entered_unit=unit_code(unit),
            note=note[:300], created_by=actor,
        )
        audit_record(actor=actor, action="funding.budget_create", obj=budget, org_unit=org_unit,
                     changes={"amount_yuan": (None, str(yuan(fen))), "status": (None, budget.status)})
        return budget
    if budget.status not in (Budget.Status.DRAFT, Budget.Status.RETURNED):
        raise InputError((f"{where}：" if where else "") + _(
            "%(b)s 已%(s)s，不能直接修改；已批准的预算请由审核人员调整。")
            % {"b": budget, "s": budget.get_status_display()})
    changes = {}
    if budget.amount_fen != fen:
        changes["amount_yuan"] = (str(yuan(budget.amount_fen)), str(yuan(fen)))
    if budget.note != note[:300]:
        changes["note"] = (budget.note, note[:300])
    budget.amount_fen, budget.note, budget.entered_unit = fen, note[:300], unit_code(unit)
    budget.save()
    if changes:
        audit_record(actor=actor, action="funding.budget_update", obj=budget, org_unit=org_unit, changes=changes)
    return budget


@transaction.atomic
def budget_submit(*, actor: User, budget: Budget) -> Budget:
    if not can_manage(scope_for(actor), budget.org_unit, budget.department.code if budget.department else None):
        raise PermissionDenied(_("您无权提交该单位的科普经费。"))
    if budget.status not in (Budget.Status.DRAFT, Budget.Status.RETURNED):
        raise InputError(_("只有草稿或已退回的预算可以提交，%(b)s 当前为“%(s)s”。")
                         % {"b": budget, "s": budget.get_status_display()})
    old = budget.status
    budget.status, budget.submitted_by = Budget.Status.SUBMITTED, actor
    budget.save()
    audit_record(actor=actor, action="funding.budget_submit", obj=budget, org_unit=budget.org_unit,
                 changes={"status": (old, budget.status)})
    return budget


def _reviewer_check(actor: User, budget: Budget) -> None:
    if not can_review(scope_for(actor), budget.org_unit):
        raise PermissionDenied(_("只有领导小组办公室或审核员可以审核科普经费。"))
    if actor.pk in (budget.created_by_id, budget.submitted_by_id):
        raise PermissionDenied(_("不能审核自己填报或提交的预算，请由另一位审核人员处理。"))


@transaction.atomic
def budget_approve(*, actor: User, budget: Budget, comment: str = "") -> Budget:
    """Approve a submitted budget (not one's own) and republish the funding indicators at once."""
    budget = Budget.objects.select_for_update(of=("self",)).get(pk=budget.pk)
    _reviewer_check(actor, budget)
    if budget.status != Budget.Status.SUBMITTED:
        raise InputError(_("只有待审核的预算可以批准，%(b)s 当前为“%(s)s”。")
                         % {"b": budget, "s": budget.get_status_display()})
    budget.status, budget.approved_by, budget.approved_at = Budget.Status.APPROVED, actor, timezone.now()
    budget.review_comment = comment[:300]
    budget.save()
    audit_record(actor=actor, action="funding.budget_approve", obj=budget, org_unit=budget.org_unit,
                 changes={"status": (Budget.Status.SUBMITTED, Budget.Status.APPROVED)}, comment=comment)
    _publish(budget.org_unit, budget.year)
    return budget


@transaction.atomic
def budget_return(*, actor: User, budget: Budget, comment: str) -> Budget:
    budget = Budget.objects.select_for_update(of=("self",)).get(pk=budget.pk)
    _reviewer_check(actor, budget)
    if budget.status != Budget.Status.SUBMITTED:
        raise InputError(_("只有待审核的预算可以退回。"))
    if not comment.strip():
        raise InputError(_("退回时请写明原因。"))
    budget.status, budget.review_comment = Budget.Status.RETURNED, comment[:300]
    budget.save()
    audit_record(actor=actor, action="funding.budget_return", obj=budget, org_unit=budget.org_unit,
                 changes={"status": (Budget.Status.SUBMITTED, Budget.Status.RETURNED)}, comment=comment)
    return budget


@transaction.atomic
def budget_change(*, actor: User, budget: Budget, amount: object, unit: str, reason: str) -> Budget:
    """Adjust an approved budget (a mid-year 预算调整) with a reason; republishes the indicators.
    Only reviewers may do this, and not on a budget they entered themselves."""
    budget = Budget.objects.select_for_update(of=("self",)).get(pk=budget.pk)
    if not can_review(scope_for(actor), budget.org_unit):
        raise PermissionDenied(_("只有领导小组办公室或审核员可以调整已批准的预算。"))
    if actor.pk in (budget.created_by_id, budget.submitted_by_id):
        raise PermissionDenied(_("不能调整自己填报的预算，请由另一位审核人员处理。"))
    if budget.status != Budget.Status.APPROVED:
        raise InputError(_("只有已批准的预算可以调整；未批准的请直接修改。"))
    if not reason.strip():
        raise InputError(_("调整预算时请写明原因。"))
    fen = budget_check(org_unit=budget.org_unit, year=budget.year, amount=amount, unit=unit,
                       department=budget.department)
    old = budget.amount_fen
    budget.amount_fen, budget.entered_unit = fen, unit_code(unit)
    budget.save()
    audit_record(actor=actor, action="funding.budget_change", obj=budget, org_unit=budget.org_unit,
                 changes={"amount_yuan": (str(yuan(old)), str(yuan(fen)))}, comment=reason)
    _publish(budget.org_unit, budget.year)
    return budget


# -- spending reports ----------------------------------------------------------------------------------


@transaction.atomic
def spending_report_submit(
    *, actor: User, budget: Budget, lines: Mapping[str, object], unit: str, note: str = "",
    replace: SpendingReport | None = None,
) -> SpendingReport:
    """Report actual spending against an approved budget, by category (amounts in `unit`). With `replace`
    (a report of this budget still awaiting review or returned), its lines are replaced and it is submitted
    again (by `actor`, who then cannot accept it); an accepted report is never changed."""
    if not can_manage(scope_for(actor), budget.org_unit, budget.department.code if budget.department else None):
        raise PermissionDenied(_("您无权填报该单位的经费支出。"))
    if budget.status != Budget.Status.APPROVED:
        raise InputError(_("只能对已批准的预算填报支出。"))
    errors, parsed = [], {}
    for category, amount in lines.items():
        if category not in SpendingCategory.values:
            errors.append(_("支出类别“%(c)s”无法识别。") % {"c": category})
            continue
        label = str(SpendingCategory(category).label)
        if amount in (None, ""):
            continue
        try:
            parsed[category] = to_fen(amount, unit, where=label)
        except InputError as e:
            errors.extend(e.errors)
    if not parsed and not errors:
        errors.append(_("请至少填写一个支出类别的金额。"))
    if errors:
        raise InputError(errors[0], errors=errors)
    total = sum(parsed.values())
    if total > budget.amount_fen * 2:
        raise InputError(_("支出合计 %(t)s 万元超过预算 %(b)s 万元的两倍，请检查金额单位。")
                         % {"t": show_wan(total), "b": show_wan(budget.amount_fen)})
    if replace is not None:
        return _spending_report_replace(actor=actor, budget=budget, report=replace, parsed=parsed, note=note)
    report = SpendingReport.objects.create(budget=budget, note=note[:300], submitted_by=actor)
    for category, fen in parsed.items():
        SpendingLine.objects.create(report=report, category=category, amount_fen=fen)
    audit_record(actor=actor, action="funding.spending_submit", obj=report, org_unit=budget.org_unit,
                 changes={c: (None, str(yuan(f))) for c, f in parsed.items()}, label=f"{budget} 支出报告")
    return report


def _spending_report_replace(
    *, actor: User, budget: Budget, report: SpendingReport, parsed: dict[str, int], note: str
) -> SpendingReport:
    report = SpendingReport.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if report.budget_id != budget.pk or report.status == SpendingReport.Status.ACCEPTED:
        raise InputError(_("已通过审核的支出报告不能修改，请另行提交。"))
    old = {line.category: line.amount_fen for line in report.lines.all()}
    changes: dict[str, tuple[object, object]] = {
        c: (str(yuan(old[c])) if c in old else None, str(yuan(parsed[c])) if c in parsed else None)
        for c in sorted(set(old) | set(parsed)) if old.get(c) != parsed.get(c)}
    if report.status != SpendingReport.Status.SUBMITTED:
        changes["status"] = (report.status, SpendingReport.Status.SUBMITTED)
    report.lines.all().delete()
    for category, fen in parsed.items():
        SpendingLine.objects.create(report=report, category=category, amount_fen=fen)
    report.status, report.note, report.review_comment = SpendingReport.Status.SUBMITTED, note[:300], ""
    report.submitted_by, report.submitted_at, report.reviewed_by = actor, timezone.now(), None
    report.save()
    audit_record(actor=actor, action="funding.spending_submit", obj=report, org_unit=budget.org_unit,
                 changes=changes, label=f"{budget} 支出报告")
    return report


@transaction.atomic
def spending_report_review(*, actor: User, report: SpendingReport, accept: bool, comment: str = "") -> SpendingReport:
    report = SpendingReport.objects.select_for_update(of=("self",)).select_related("budget__org_unit").get(pk=report.pk)
    if not can_review(scope_for(actor), report.budget.org_unit):
        raise PermissionDenied(_("只有领导小组办公室或审核员可以审核支出报告。"))
    if report.submitted_by_id == actor.pk:
        raise PermissionDenied(_("不能审核自己提交的支出报告。"))
    if report.status != SpendingReport.Status.SUBMITTED:
        raise InputError(_("该支出报告已审核。"))
    if not accept and not comment.strip():
        raise InputError(_("退回时请写明原因。"))
    old = report.status
    report.status = SpendingReport.Status.ACCEPTED if accept else SpendingReport.Status.RETURNED
    report.reviewed_by, report.review_comment = actor, comment[:300]
    report.save()
    audit_record(actor=actor, action="funding.spending_review", obj=report, org_unit=report.budget.org_unit,
                 changes={"status": (old, report.status)}, comment=comment, label=f"{report.budget} 支出报告")
    return report


# -- project fund --------------------------------------------------------------------------------------


@transaction.atomic
def call_create(
    *, actor: User, org_unit: OrgUnit, title: str, budget: object, unit: str, opens: dt.date, closes: dt.date,
    eligible_units: Iterable[OrgUnit], description: str = "",
) -> FundCall:
    if not can_review(scope_for(actor), org_unit) or not scope_for(actor).is_office_admin:
        raise PermissionDenied(_("只有领导小组办公室可以发布科普基金项目申报。"))
    errors = []
    if not title.strip():
        errors.append(_("标题：必填。"))
    if closes < opens:
        errors.append(_("截止日期不能早于开始日期。"))
    eligible = list(eligible_units)
    if not eligible:
        errors.append(_("请至少选择一个可申报的单位。"))
    bad = [u.name_zh for u in eligible if not u.path.startswith(org_unit.path)]
    if bad:
        errors.append(_("可申报单位须在 %(u)s 范围内：%(bad)s。") % {"u": org_unit.name_zh, "bad": "、".join(bad)})
    try:
        fen = to_fen(budget, unit, where=_("资金总额"))
        if fen <= 0:
            errors.append(_("资金总额须大于 0。"))
    except InputError as e:
        errors.extend(e.errors)
        fen = 0
    if errors:
        raise InputError(errors[0], errors=errors)
    call = FundCall.objects.create(title=title.strip()[:200], description=description, org_unit=org_unit,
                                   budget_fen=fen, opens=opens, closes=closes, created_by=actor)
    call.eligible_units.set(eligible)
    audit_record(actor=actor, action="funding.call_create", obj=call, org_unit=org_unit,
                 changes={"budget_yuan": (None, str(yuan(fen))), "window": (None, f"{opens}–{closes}")})
    return call


def _eligible(call: FundCall, unit: OrgUnit) -> bool:
    return any(unit.path.startswith(u.path) for u in call.eligible_units.all())


@transaction.atomic
def application_submit(
    *, actor: User, call: FundCall, title: str, applicant_organisation: str, org_unit: OrgUnit,
    amount: object, unit: str, summary: str = "", today: dt.date | None = None,
) -> FundApplication:
    """Apply to a call for an organisation in a unit the actor manages, inside the call's window."""
    if not can_manage(scope_for(actor), org_unit):
        raise PermissionDenied(_("您只能为本辖区的单位申报项目。"))
    today = today or timezone.localdate()
    errors = []
    if not call.opens <= today <= call.closes:
        errors.append(_("该项目申报时间为 %(a)s 至 %(b)s，现在不在申报期内。") % {"a": call.opens, "b": call.closes})
    if not _eligible(call, org_unit):
        errors.append(_("%(u)s 不在本次申报的范围内。") % {"u": org_unit.name_zh})
    if not title.strip():
        errors.append(_("项目名称：必填。"))
    if not applicant_organisation.strip():
        errors.append(_("申报单位：必填。"))
    try:
        fen = to_fen(amount, unit, where=_("申请金额"))
        if fen <= 0:
            errors.append(_("申请金额须大于 0。"))
        elif fen > call.budget_fen:
            errors.append(_("申请金额 %(a)s 万元超过本次资金总额 %(b)s 万元。")
                          % {"a": show_wan(fen), "b": show_wan(call.budget_fen)})
    except InputError as e:
        errors.extend(e.errors)
        fen = 0
    if errors:
        raise InputError(errors[0], errors=errors)
    app = FundApplication.objects.create(
        call=call, title=title.strip()[:200], applicant_organisation=applicant_organisation.strip()[:200],
        org_unit=org_unit, amount_asked_fen=fen, summary=summary, submitted_by=actor,
    )
    audit_record(actor=actor, action="funding.application_submit", obj=app, org_unit=org_unit,
                 changes={"amount_yuan": (None, str(yuan(fen)))})
    return app


@transaction.atomic
def review_assign(*, actor: User, application: FundApplication, reviewer: User) -> FundReview:
    """Assign a talent-pool expert to review an application. An expert from the applicant's own
    organisation is refused (conflict of interest), as is the applicant."""
    if not can_review(scope_for(actor), application.call.org_unit):
        raise PermissionDenied(_("只有领导小组办公室或审核员可以分配评审专家。"))
    profile = expert_profile(reviewer)
    if profile is None:
        raise InputError(_("%(u)s 不是科普人才库中的专家，不能评审。") % {"u": reviewer.get_username()})
    if expert_conflict(reviewer, application.applicant_organisation):
        raise InputError(_("利益冲突：专家 %(e)s 的工作单位（%(o)s）与申报单位“%(a)s”相同，不能评审该项目。")
                         % {"e": profile.name, "o": profile.organisation, "a": application.applicant_organisation})
    if reviewer.pk == application.submitted_by_id:
        raise InputError(_("申报人不能评审自己的项目。"))
    review, created = FundReview.objects.get_or_create(
        application=application, reviewer=reviewer, defaults={"assigned_by": actor})
    if created:
        audit_record(actor=actor, action="funding.review_assign", obj=review, org_unit=application.org_unit,
                     changes={"reviewer": (None, reviewer.get_username())}, label=f"{application} 评审")
    return review


@transaction.atomic
def review_score(*, actor: User, review: FundReview, score: int, recommend: bool, comment: str = "") -> FundReview:
    """The assigned expert scores (0–100). Nobody else can; a conflict found since assignment still refuses."""
    review = FundReview.objects.select_for_update(of=("self",)).select_related("application").get(pk=review.pk)
    if review.reviewer_id != actor.pk:
        raise PermissionDenied(_("这不是分配给您的评审。"))
    if expert_conflict(actor, review.application.applicant_organisation):
        raise InputError(_("利益冲突：您与申报单位“%(a)s”同属一个单位，不能评分。")
                         % {"a": review.application.applicant_organisation})
    if review.application.status != FundApplication.Status.SUBMITTED:
        raise InputError(_("该项目已有资助决定，评审已结束。"))
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
        raise InputError(_("评分须为 0–100 的整数，得到 %(s)s。") % {"s": score})
    old = review.score
    review.score, review.recommend, review.comment, review.scored_at = score, recommend, comment, timezone.now()
    review.save()
    audit_record(actor=actor, action="funding.review_score", obj=review, org_unit=review.application.org_unit,
                 changes={"score": (old, score), "recommend": (None, recommend)},
                 label=f"{review.application} 评审")
    return review


@transaction.atomic
def award_decide(*, actor: User, application: FundApplication, amount: object, unit: str) -> FundAward:
    """Fund an application. The call's total awards may not exceed its budget; nobody awards an
    application they submitted; at least one expert must have scored it."""
    call = FundCall.objects.select_for_update(of=("self",)).get(pk=application.call_id)
    application = FundApplication.objects.select_for_update(of=("self",)).get(pk=application.pk)
    scope = scope_for(actor)
    if not (scope.is_office_admin and can_review(scope, call.org_unit)):
        raise PermissionDenied(_("只有领导小组办公室可以决定资助。"))
    if application.submitted_by_id == actor.pk:
        raise PermissionDenied(_("不能资助自己申报的项目，请由另一位办公室人员决定。"))
    if application.status != FundApplication.Status.SUBMITTED:
        raise InputError(_("该项目已有资助决定。"))
    if not application.reviews.filter(score__isnull=False).exists():
        raise InputError(_("该项目还没有专家评分，不能决定资助。"))
    fen = to_fen(amount, unit, where=_("资助金额"))
    if fen <= 0:
        raise InputError(_("资助金额须大于 0。"))
    already = awarded_total_fen(call)
    if already + fen > call.budget_fen:
        raise InputError(_("资助金额超出预算：本次资金总额 %(b)s 万元，已资助 %(a)s 万元，剩余 %(r)s 万元，"
                           "不足以资助 %(f)s 万元。") % {"b": show_wan(call.budget_fen), "a": show_wan(already),
                                               "r": show_wan(call.budget_fen - already), "f": show_wan(fen)})
    award = FundAward.objects.create(application=application, amount_fen=fen, decided_by=actor)
    application.status = FundApplication.Status.AWARDED
    application.save(update_fields=["status"])
    audit_record(actor=actor, action="funding.award", obj=application, org_unit=application.org_unit,
                 changes={"status": (FundApplication.Status.SUBMITTED, application.status),
                          "award_yuan": (None, str(yuan(fen)))})
    return award


@transaction.atomic
def application_decline(*, actor: User, application: FundApplication, comment: str = "") -> FundApplication:
    scope = scope_for(actor)
    if not (scope.is_office_admin and can_review(scope, application.call.org_unit)):
        raise PermissionDenied(_("只有领导小组办公室可以决定资助。"))
    if application.status != FundApplication.Status.SUBMITTED:
        raise InputError(_("该项目已有资助决定。"))
    application.status = FundApplication.Status.DECLINED
    application.save(update_fields=["status"])
    audit_record(actor=actor, action="funding.decline", obj=application, org_unit=application.org_unit,
                 changes={"status": (FundApplication.Status.SUBMITTED, application.status)}, comment=comment)
    return application


@transaction.atomic
def completion_submit(*, actor: User, award: FundAward, summary: str, spent: object, unit: str) -> CompletionReport:
    application = award.application
    if not can_manage(scope_for(actor), application.org_unit):
        raise PermissionDenied(_("您无权为该项目提交结项报告。"))
    if not summary.strip():
        raise InputError(_("结项报告：请填写项目完成情况。"))
    fen = to_fen(spent, unit, where=_("实际支出"))
    if fen > award.amount_fen * 2:
        raise InputError(_("实际支出 %(s)s 万元远超资助金额 %(a)s 万元，请检查金额单位。")
                         % {"s": show_wan(fen), "a": show_wan(award.amount_fen)})
    if award.completion_reports.filter(status__in=["submitted", "accepted"]).exists():
        raise InputError(_("该项目已有待验收或已验收的结项报告。"))
    report = CompletionReport.objects.create(award=award, summary=summary, spent_fen=fen, submitted_by=actor)
    audit_record(actor=actor, action="funding.completion_submit", obj=report, org_unit=application.org_unit,
                 changes={"spent_yuan": (None, str(yuan(fen)))}, label=f"{application} 结项报告")
    return report


@transaction.atomic
def completion_review(*, actor: User, report: CompletionReport, accept: bool, comment: str = "") -> CompletionReport:
    report = (CompletionReport.objects.select_for_update(of=("self",))
              .select_related("award__application__call").get(pk=report.pk))
    application = report.award.application
    if not can_review(scope_for(actor), application.call.org_unit):
        raise PermissionDenied(_("只有领导小组办公室或审核员可以验收结项报告。"))
    if actor.pk in (report.submitted_by_id, application.submitted_by_id):
        raise PermissionDenied(_("不能验收自己提交的结项报告。"))
    if report.status != CompletionReport.Status.SUBMITTED:
        raise InputError(_("该结项报告已处理。"))
    if not accept and not comment.strip():
        raise InputError(_("退回时请写明原因。"))
    old = report.status
    report.status = CompletionReport.Status.ACCEPTED if accept else CompletionReport.Status.RETURNED
    report.reviewed_by, report.review_comment = actor, comment[:300]
    report.save()
    audit_record(actor=actor, action="funding.completion_review", obj=report, org_unit=application.org_unit,
                 changes={"status": (old, report.status)}, comment=comment, label=f"{application} 结项报告")
    return report
