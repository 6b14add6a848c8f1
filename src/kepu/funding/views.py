"""Funding pages: the budget page (/funding/: per-capita table, budgets in scope, entry in 元 or 万元,
Excel import/export), a budget's page (review, adjustment, spending reports), and the project fund
(/funding/fund/: calls, applications, assigned reviews, awards). Thin: the rules live in services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import Department, OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import max_size_label, read_upload
from kepu.funding import excel, selectors, services
from kepu.funding.models import CompletionReport, FundApplication, FundAward, FundCall, SpendingCategory
from kepu.funding.money import show_wan

UNIT_CHOICES = [("万元", "万元"), ("元", "元")]


def _staff(request: HttpRequest) -> User:
    user = actor(request)
    if not selectors.has_staff_role(user):
        raise DjangoPermissionDenied(_("只有办公室、审核员和辖市(区)填报员可以查看科普经费。"))
    return user


def _errors(request: HttpRequest, e: InputError | PermissionDenied) -> None:
    for err in getattr(e, "errors", [str(e)]):
        messages.error(request, err)


def _city() -> OrgUnit:
    city = OrgUnit.objects.filter(level="city").order_by("code").first()
    if city is None:
        raise Http404(_("还没有导入行政区划。"))
    return city


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


@login_required
def budget_page(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if request.method == "POST":
        return _budget_post(request, user)
    year = _year(request)
    scope = scope_for(user)
    rows = []
    for b in selectors.budgets_visible(user, year=year):
        own = user.pk in (b.created_by_id, b.submitted_by_id)
        rows.append({
            "b": b, "wan": show_wan(b.amount_fen),
            "can_submit": b.status in ("draft", "returned")
            and selectors.can_manage(scope, b.org_unit, b.department.code if b.department else None),
            "can_review": b.status == "submitted" and selectors.can_review(scope, b.org_unit) and not own,
        })
    per_capita = [
        {"r": r, "approved": show_wan(r.approved_fen), "pending": show_wan(r.pending_fen),
         "population": f"{r.population:,}" if r.population else ""}
        for r in selectors.per_capita_table(user, city=_city(), year=year)
    ]
    return render(request, "funding/budgets.html", {
        "year": year, "years": list(range(timezone.localdate().year + 1, 2020, -1)), "rows": rows,
        "per_capita": per_capita, "units": selectors.units_managed(user), "unit_choices": UNIT_CHOICES,
        "departments": Department.objects.filter(region=_city()).order_by("code") if scope.is_office_admin else [],
        "max_size": max_size_label("registry"),
    })


def _budget_post(request: HttpRequest, user: User) -> HttpResponse:
    action = request.POST.get("action", "")
    try:
        if action == "save":
            unit = selectors.units_managed(user).filter(pk=request.POST.get("org_unit") or 0).first()
            if unit is None:
                raise InputError(_("请选择您负责的单位。"))
            dept = Department.objects.filter(pk=request.POST.get("department") or 0).first()
            year = int(request.POST.get("year") or 0)
            services.budget_save(actor=user, org_unit=unit, department=dept, year=year,
                                 amount=request.POST.get("amount", ""), unit=request.POST.get("unit", ""),
                                 note=request.POST.get("note", ""))
            messages.success(request, _("预算已保存为草稿，请核对后提交审核。"))
            return redirect(f"{request.path}?year={year}")
        if action == "import":
            upload = request.FILES.get("file")
            if upload is None:
                raise InputError(_("请选择要导入的 Excel 文件。"))
            made = excel.budgets_import(actor=user, content=read_upload(upload, kind="registry"),
                                        name=upload.name or "budgets.xlsx")
            messages.success(request, _("已导入 %(n)s 条预算。") % {"n": len(made)})
            return redirect(request.path)
        if action == "spending_import":
            upload = request.FILES.get("file")
            if upload is None:
                raise InputError(_("请选择要导入的 Excel 文件。"))
            reports = excel.spending_import(actor=user, content=read_upload(upload, kind="registry"),
                                            name=upload.name or "spending.xlsx")
            messages.success(request, _("已导入 %(n)s 份支出报告，待审核。") % {"n": len(reports)})
            return redirect(request.path)
        budget = selectors.budget_for(user, int(request.POST.get("budget") or 0))
        if budget is None:
            raise Http404(_("没有这条预算，或您无权查看。"))
        if action == "submit":
            services.budget_submit(actor=user, budget=budget)
            messages.success(request, _("已提交审核。"))
        elif action == "approve":
            services.budget_approve(actor=user, budget=budget, comment=request.POST.get("comment", ""))
            messages.success(request, _("已批准；人均科普经费指标已更新。"))
        elif action == "return":
            services.budget_return(actor=user, budget=budget, comment=request.POST.get("comment", ""))
            messages.success(request, _("已退回。"))
        return redirect(f"{request.path}?year={budget.year}")
    except ValueError as e:
        if not isinstance(e, InputError):
            e = InputError(_("年度须为数字。"))
        _errors(request, e)
    except PermissionDenied as e:
        _errors(request, e)
    return redirect(request.path)


@login_required
def budget_export(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    response = HttpResponse(excel.budgets_export(user),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="science-budgets.xlsx"'
    return response


@login_required
def spending_export(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    response = HttpResponse(excel.spending_export(user),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="science-spending.xlsx"'
    return response


@login_required
def fund_export(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not selectors.fund_access(user):
        raise DjangoPermissionDenied(_("您无权查看科普基金。"))
    response = HttpResponse(excel.fund_export(user),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="science-fund.xlsx"'
    return response


@login_required
def budget_detail(request: HttpRequest, budget_id: int) -> HttpResponse:
    user = _staff(request)
    budget = selectors.budget_for(user, budget_id)
    if budget is None:
        raise Http404(_("没有这条预算，或您无权查看。"))
    scope = scope_for(user)
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "change":
                services.budget_change(actor=user, budget=budget, amount=request.POST.get("amount", ""),
                                       unit=request.POST.get("unit", ""), reason=request.POST.get("reason", ""))
                messages.success(request, _("预算已调整；人均科普经费指标已更新。"))
            elif action == "spending":
                lines = {c: request.POST.get(f"line_{c}", "") for c in SpendingCategory.values}
                services.spending_report_submit(actor=user, budget=budget, lines=lines,
                                                unit=request.POST.get("unit", ""), note=request.POST.get("note", ""))
                messages.success(request, _("支出报告已提交审核。"))
            elif action in ("accept", "return_report"):
                report = selectors.spending_reports_visible(user).filter(
                    pk=int(request.POST.get("report") or 0), budget=budget).first()
                if report is None:
                    raise Http404
                services.spending_report_review(actor=user, report=report, accept=action == "accept",
                                                comment=request.POST.get("comment", ""))
                messages.success(request, _("支出报告已审核。"))
        except (InputError, PermissionDenied) as e:
            _errors(request, e)
        return redirect("funding:budget", budget.pk)
    reports = [{"r": r, "total": show_wan(r.total_fen),
                "lines": [(ln.get_category_display(), show_wan(ln.amount_fen)) for ln in r.lines.all()],
                "can_review": r.status == "submitted" and selectors.can_review(scope, budget.org_unit)
                and r.submitted_by_id != user.pk}
               for r in selectors.spending_reports_visible(user).filter(budget=budget)]
    return render(request, "funding/budget_detail.html", {
        "b": budget, "wan": show_wan(budget.amount_fen), "reports": reports, "categories": SpendingCategory.choices,
        "unit_choices": UNIT_CHOICES,
        "can_change": budget.status == "approved" and selectors.can_review(scope, budget.org_unit)
        and user.pk not in (budget.created_by_id, budget.submitted_by_id),
        "can_report": budget.status == "approved"
        and selectors.can_manage(scope, budget.org_unit, budget.department.code if budget.department else None),
    })


# -- project fund --------------------------------------------------------------------------------------


@login_required
def fund_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    scope = scope_for(user)
    reviews = list(selectors.reviews_assigned(user))
    if not selectors.fund_access(user):
        raise DjangoPermissionDenied(_("只有办公室、审核员、辖市(区)填报员和评审专家可以查看科普基金。"))
    if request.method == "POST":
        try:
            if request.POST.get("action") == "call":
                eligible = OrgUnit.objects.filter(parent=_city(), level="district")
                services.call_create(
                    actor=user, org_unit=_city(), title=request.POST.get("title", ""),
                    budget=request.POST.get("budget", ""), unit=request.POST.get("unit", ""),
                    opens=dt.date.fromisoformat(request.POST.get("opens", "")),
                    closes=dt.date.fromisoformat(request.POST.get("closes", "")), eligible_units=eligible)
                messages.success(request, _("项目申报已发布。"))
            else:
                call = FundCall.objects.filter(pk=int(request.POST.get("call") or 0)).first()
                unit = selectors.units_managed(user).filter(pk=request.POST.get("org_unit") or 0).first()
                if call is None or unit is None:
                    raise InputError(_("请选择项目申报和您负责的单位。"))
                services.application_submit(
                    actor=user, call=call, title=request.POST.get("title", ""), org_unit=unit,
                    applicant_organisation=request.POST.get("organisation", ""),
                    amount=request.POST.get("amount", ""), unit=request.POST.get("unit", ""),
                    summary=request.POST.get("summary", ""))
                messages.success(request, _("项目已申报。"))
        except ValueError as e:
            _errors(request, e if isinstance(e, InputError) else InputError(_("日期格式应为 年-月-日。")))
        except PermissionDenied as e:
            _errors(request, e)
        return redirect("funding:fund")
    calls = [{"c": c, "budget": show_wan(c.budget_fen), "awarded": show_wan(selectors.awarded_total_fen(c)),
              "open": c.opens <= timezone.localdate() <= c.closes} for c in selectors.calls_visible(user)]
    apps = [{"a": a, "asked": show_wan(a.amount_asked_fen)} for a in selectors.applications_visible(user)]
    return render(request, "funding/fund.html", {
        "calls": calls, "apps": apps, "reviews": reviews, "is_office": scope.is_office_admin,
        "units": selectors.units_managed(user), "unit_choices": UNIT_CHOICES,
    })


@login_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    user = actor(request)
    app = selectors.applications_visible(user).filter(pk=application_id).first()
    if app is None:
        raise Http404(_("没有这个项目，或您无权查看。"))
    scope = scope_for(user)
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "assign":
                reviewer = User.objects.filter(username=request.POST.get("reviewer", "").strip()).first()
                if reviewer is None:
                    raise InputError(_("没有这个用户名的专家。"))
                services.review_assign(actor=user, application=app, reviewer=reviewer)
                messages.success(request, _("已分配评审专家。"))
            elif action == "score":
                review = selectors.reviews_assigned(user).filter(application=app).first()
                if review is None:
                    raise PermissionDenied(_("这不是分配给您的评审。"))
                try:
                    score = int(request.POST.get("score", ""))
                except ValueError:
                    raise InputError(_("评分须为 0–100 的整数。")) from None
                services.review_score(actor=user, review=review, score=score,
                                      recommend=request.POST.get("recommend") == "1",
                                      comment=request.POST.get("comment", ""))
                messages.success(request, _("评分已保存。"))
            elif action == "award":
                services.award_decide(actor=user, application=app, amount=request.POST.get("amount", ""),
                                      unit=request.POST.get("unit", ""))
                messages.success(request, _("已决定资助。"))
            elif action == "decline":
                services.application_decline(actor=user, application=app)
                messages.success(request, _("已决定不予资助。"))
            elif action == "completion":
                funded = FundAward.objects.filter(application=app).first()
                if funded is None:
                    raise InputError(_("该项目没有获得资助，无需结项。"))
                services.completion_submit(actor=user, award=funded, summary=request.POST.get("summary", ""),
                                           spent=request.POST.get("spent", ""), unit=request.POST.get("unit", ""))
                messages.success(request, _("结项报告已提交验收。"))
            elif action in ("accept", "return"):
                report = CompletionReport.objects.filter(pk=int(request.POST.get("report") or 0),
                                                         award__application=app).first()
                if report is None:
                    raise Http404
                services.completion_review(actor=user, report=report, accept=action == "accept",
                                           comment=request.POST.get("comment", ""))
                messages.success(request, _("结项报告已处理。"))
        except (InputError, PermissionDenied) as e:
            _errors(request, e)
        return redirect("funding:application", app.pk)
    runs_call = selectors.can_review(scope, app.call.org_unit)
    award = getattr(app, "award", None) if app.status == FundApplication.Status.AWARDED else None
    return render(request, "funding/application.html", {
        "a": app, "asked": show_wan(app.amount_asked_fen), "reviews": selectors.reviews_of(user, app),
        "runs_call": runs_call, "is_office": scope.is_office_admin and user.pk != app.submitted_by_id,
        "my_review": selectors.reviews_assigned(user).filter(application=app).first(),
        "award": award, "award_wan": show_wan(award.amount_fen) if award else "", "unit_choices": UNIT_CHOICES,
        "remaining": show_wan(app.call.budget_fen - selectors.awarded_total_fen(app.call)),
        "completions": [{"r": r, "spent": show_wan(r.spent_fen),
                         "can_review": r.status == "submitted" and runs_call
                         and user.pk not in (r.submitted_by_id, app.submitted_by_id)}
                        for r in (award.completion_reports.all() if award else [])],
        "can_complete": award is not None and selectors.can_manage(scope, app.org_unit)
        and not award.completion_reports.filter(status__in=["submitted", "accepted"]).exists(),
    })

