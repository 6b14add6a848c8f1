"""Budgets in Excel: import (all-or-nothing, every row's problem named) and export in the same layout,
so an exported sheet can be corrected and imported again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import Department, OrgUnit
from kepu.core.scope import scope_for
from kepu.core.uploads import read_xlsx, xlsx_bytes
from kepu.funding import services
from kepu.funding.models import Budget, SpendingCategory, SpendingReport
from kepu.funding.money import show_wan, to_fen, yuan
from kepu.funding.selectors import budgets_visible, can_manage

HEADERS = ["年度", "单位代码", "单位名称", "部门代码", "金额", "金额单位", "备注", "状态"]
REQUIRED = ["年度", "单位代码", "金额", "金额单位"]


def budgets_export(user: User) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "科普经费预算"
    ws.append(HEADERS)
    for b in budgets_visible(user):
        ws.append([b.year, b.org_unit.code, b.org_unit.name_zh, b.department.code if b.department is not None else "",
                   float(yuan(b.amount_fen)), "元", b.note, b.get_status_display()])
    return xlsx_bytes(wb)


def _cell(row: list[Any], col: dict[str, int], name: str) -> Any:
    i = col.get(name)
    if i is None or i >= len(row):
        return None
    v = row[i]
    return v.strip() if isinstance(v, str) else v


@transaction.atomic
def budgets_import(*, actor: User, content: bytes, name: str) -> list[Budget]:
    """Enter the budgets of a sheet (as drafts, or corrections of drafts/returned ones). Every row is
    checked first; one bad row refuses the whole file and each problem names its row."""
    sheets = read_xlsx(content, name=name, kind="registry")
    rows = next(iter(sheets.values()), [])
    if not rows:
        raise InputError(_("文件 %(n)s 是空的。") % {"n": name})
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    col = {h: i for i, h in enumerate(header) if h}
    missing = [h for h in REQUIRED if h not in col]
    if missing:
        raise InputError(_("文件 %(n)s 第 1 行缺少列：%(m)s（需要 %(need)s）。")
                         % {"n": name, "m": "、".join(missing), "need": "、".join(REQUIRED)})
    scope = scope_for(actor)
    units = {u.code: u for u in OrgUnit.objects.all()}
    errors: list[str] = []
    parsed = []
    seen: dict[tuple[str, str, int], int] = {}
    for n, row in enumerate(rows[1:], start=2):
        if all(v in (None, "") for v in row):
            continue
        where = _("第 %(n)s 行") % {"n": n}
        code = str(_cell(row, col, "单位代码") or "")
        unit = units.get(code)
        if unit is None:
            errors.append(_("%(w)s 单位代码：没有代码为“%(c)s”的单位。") % {"w": where, "c": code[:40]})
            continue
        year_raw = _cell(row, col, "年度")
        try:
            year = int(str(year_raw))
        except (TypeError, ValueError):
            errors.append(_("%(w)s 年度：须为四位数字年份，得到“%(v)s”。") % {"w": where, "v": str(year_raw)[:20]})
            continue
        dept_code = str(_cell(row, col, "部门代码") or "")
        dept = None
        if dept_code:
            dept = Department.objects.filter(code=dept_code).first()
            if dept is None:
                errors.append(_("%(w)s 部门代码：没有代码为“%(c)s”的部门。") % {"w": where, "c": dept_code[:40]})
                continue
        if not can_manage(scope, unit, dept_code or None):
            errors.append(_("%(w)s：您无权填报 %(u)s 的科普经费。") % {"w": where, "u": unit.name_zh})
            continue
        key = (code, dept_code, year)
        if key in seen:
            errors.append(_("%(w)s：与第 %(o)s 行重复（同一单位、部门和年度）。") % {"w": where, "o": seen[key]})
            continue
        seen[key] = n
        try:
            services.budget_check(org_unit=unit, year=year, amount=_cell(row, col, "金额"),
                                  unit=str(_cell(row, col, "金额单位") or ""), department=dept, where=where)
        except InputError as e:
            errors.extend(e.errors)
            continue
        parsed.append((n, unit, dept, year, row))
    if errors:
        raise InputError(errors[0], errors=errors)
    if not parsed:
        raise InputError(_("文件 %(n)s 没有数据行。") % {"n": name})
    out = []
    for n, unit, dept, year, row in parsed:
        try:
            with transaction.atomic():
                out.append(services.budget_save(
                    actor=actor, org_unit=unit, department=dept, year=year, amount=_cell(row, col, "金额"),
                    unit=str(_cell(row, col, "金额单位")), note=str(_cell(row, col, "备注") or ""),
                    where=_("第 %(n)s 行") % {"n": n},
                ))
        except (InputError, PermissionDenied) as e:
            errors.extend(getattr(e, "errors", [str(e)]))
    if errors:  # the outer transaction rolls back every row already saved
        raise InputError(errors[0], errors=errors)
    return out


# -- spending reports ------------------------------------------------------------------------------------

SPENDING_HEADERS = ["年度", "单位代码", "单位名称", "部门代码", "支出类别", "金额", "金额单位", "备注",
                    "报告编号", "状态"]
SPENDING_REQUIRED = ["年度", "单位代码", "支出类别", "金额", "金额单位"]


def spending_export(user: User) -> bytes:
    """One row per spending line of the reports the user may see, in the layout spending_import reads."""
    from kepu.funding.selectors import spending_reports_visible

    wb = Workbook()
    ws = wb.active
    ws.title = "科普经费支出"
    ws.append(SPENDING_HEADERS)
    reports = spending_reports_visible(user).select_related("budget__org_unit", "budget__department")
    for r in reports.prefetch_related("lines").order_by("budget__year", "budget__org_unit__code", "pk"):
        b = r.budget
        for line in r.lines.all():
            ws.append([b.year, b.org_unit.code, b.org_unit.name_zh, b.department.code if b.department else "",
                       str(SpendingCategory(line.category).label), float(yuan(line.amount_fen)), "元", r.note,
                       r.pk, r.get_status_display()])
    return xlsx_bytes(wb)


@transaction.atomic
def spending_import(*, actor: User, content: bytes, name: str) -> list[SpendingReport]:
    """Spending lines grouped by budget (单位代码 + 年度 + 部门代码): one submitted report per budget,
    through services.spending_report_submit (audited; never approved here). A budget whose latest report
    still awaits review or was returned has that report's lines replaced (so a sheet can be exported,
    corrected and imported again); otherwise a new report is made. All-or-nothing."""
    sheets = read_xlsx(content, name=name, kind="registry")
    rows = next(iter(sheets.values()), [])
    if not rows:
        raise InputError(_("文件 %(n)s 是空的。") % {"n": name})
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    col = {h: i for i, h in enumerate(header) if h}
    missing = [h for h in SPENDING_REQUIRED if h not in col]
    if missing:
        raise InputError(_("文件 %(n)s 第 1 行缺少列：%(m)s（需要 %(need)s）。")
                         % {"n": name, "m": "、".join(missing), "need": "、".join(SPENDING_REQUIRED)})
    scope = scope_for(actor)
    categories = {str(label): value for value, label in SpendingCategory.choices}
    categories.update({v: v for v in SpendingCategory.values})
    errors: list[str] = []
    groups: dict[int, dict[str, Any]] = {}
    for n, row in enumerate(rows[1:], start=2):
        if all(v in (None, "") for v in row):
            continue
        where = _("第 %(n)s 行") % {"n": n}
        code = str(_cell(row, col, "单位代码") or "")
        dept_code = str(_cell(row, col, "部门代码") or "")
        year_raw = _cell(row, col, "年度")
        try:
            year = int(str(year_raw))
        except (TypeError, ValueError):
            errors.append(_("%(w)s 年度：须为四位数字年份，得到“%(v)s”。") % {"w": where, "v": str(year_raw)[:20]})
            continue
        budget = (Budget.objects.select_related("org_unit", "department")
                  .filter(org_unit__code=code, year=year, department__code=dept_code or None).first()
                  if dept_code else
                  Budget.objects.select_related("org_unit").filter(org_unit__code=code, year=year,
                                                                   department__isnull=True).first())
        if budget is None:
            errors.append(_("%(w)s：没有单位代码“%(c)s”、部门代码“%(d)s” %(y)s 年的预算。")
                          % {"w": where, "c": code[:40], "d": dept_code[:40], "y": year})
            continue
        if not can_manage(scope, budget.org_unit, dept_code or None):
            errors.append(_("%(w)s：您无权填报 %(u)s 的经费支出。") % {"w": where, "u": budget.org_unit.name_zh})
            continue
        if budget.status != Budget.Status.APPROVED:
            errors.append(_("%(w)s：%(b)s 尚未批准，只能对已批准的预算填报支出。") % {"w": where, "b": str(budget)})
            continue
        cat_raw = str(_cell(row, col, "支出类别") or "")
        category = categories.get(cat_raw)
        if category is None:
            errors.append(_("%(w)s 支出类别：应为 %(a)s 之一，得到“%(v)s”。")
                          % {"w": where, "a": "、".join(str(c) for c in SpendingCategory.labels), "v": cat_raw[:40]})
            continue
        try:
            fen = to_fen(_cell(row, col, "金额"), str(_cell(row, col, "金额单位") or ""),
                         where=_("%(w)s 金额") % {"w": where})
        except InputError as e:
            errors.extend(e.errors if e.errors[0].startswith(where) else [f"{where} {m}" for m in e.errors])
            continue
        g = groups.setdefault(budget.pk, {"budget": budget, "lines": {}, "rows": {}, "note": ""})
        if category in g["lines"]:
            errors.append(_("%(w)s：与第 %(o)s 行重复（同一预算和支出类别）。") % {
                "w": where, "o": g["rows"][category]})
            continue
        g["lines"][category], g["rows"][category] = fen, n
        g["note"] = g["note"] or str(_cell(row, col, "备注") or "")
    for g in groups.values():  # the wrong-unit check on the whole report, naming its rows
        total = sum(g["lines"].values())
        if total > g["budget"].amount_fen * 2:
            errors.append(_("第 %(rows)s 行：支出合计 %(t)s 万元超过预算 %(b)s 万元的两倍，请检查金额单位。") % {
                "rows": "、".join(str(r) for r in sorted(g["rows"].values())), "t": show_wan(total),
                "b": show_wan(g["budget"].amount_fen)})
    if errors:
        raise InputError(errors[0], errors=errors)
    if not groups:
        raise InputError(_("文件 %(n)s 没有数据行。") % {"n": name})
    out = []
    for g in groups.values():
        try:
            with transaction.atomic():
                latest = SpendingReport.objects.filter(budget=g["budget"]).order_by("-submitted_at", "-pk").first()
                open_report = latest if latest is not None and latest.status != SpendingReport.Status.ACCEPTED else None
                out.append(services.spending_report_submit(
                    actor=actor, budget=g["budget"], lines={c: str(yuan(f)) for c, f in g["lines"].items()},
                    unit="元", note=g["note"], replace=open_report))
        except (InputError, PermissionDenied) as e:
            errors.extend(getattr(e, "errors", [str(e)]))
    if errors:  # the outer transaction rolls back every report already saved
        raise InputError(errors[0], errors=errors)
    return out


# -- project fund ---------------------------------------------------------------------------------------

FUND_HEADERS = ["申报编号", "项目申报", "项目名称", "申报单位", "所在地区代码", "所在地区", "申请金额（元）", "状态",
                "评审专家数", "已评分", "平均分", "推荐数", "资助金额（元）", "结项状态", "结项支出（元）"]
CALL_HEADERS = ["项目申报", "发布单位", "资金总额（元）", "已资助（元）", "申报开始", "申报截止"]


def fund_export(user: User) -> bytes:
    """The fund as an officer reads it: one row per application in scope (its call, the reviews' mean
    score, the award and the latest completion report), and a sheet of the calls. Scoped like the fund
    pages: an expert gets only the applications assigned to them and only their own scores; a district
    officer their district's applications."""
    from statistics import mean

    from kepu.funding.models import CompletionReport, FundAward
    from kepu.funding.selectors import applications_visible, awarded_total_fen, calls_visible, reviews_of

    wb = Workbook()
    ws = wb.active
    ws.title = "科普基金项目"
    ws.append(FUND_HEADERS)
    for a in applications_visible(user).order_by("call__opens", "call_id", "pk"):
        reviews = list(reviews_of(user, a))
        scores = [r.score for r in reviews if r.score is not None]
        award = FundAward.objects.filter(application=a).first()
        report = (CompletionReport.objects.filter(award=award).order_by("-submitted_at", "-pk").first()
                  if award is not None else None)
        ws.append([a.pk, a.call.title, a.title, a.applicant_organisation, a.org_unit.code, a.org_unit.name_zh,
                   float(yuan(a.amount_asked_fen)), a.get_status_display(), len(reviews), len(scores),
                   round(mean(scores), 2) if scores else None, sum(1 for r in reviews if r.recommend),
                   float(yuan(award.amount_fen)) if award is not None else None,
                   report.get_status_display() if report is not None else (_("未提交") if award else ""),
                   float(yuan(report.spent_fen)) if report is not None else None])
    calls = wb.create_sheet("项目申报")
    calls.append(CALL_HEADERS)
    for c in calls_visible(user).order_by("opens", "pk"):
        calls.append([c.title, c.org_unit.name_zh, float(yuan(c.budget_fen)), float(yuan(awarded_total_fen(c))),
                      c.opens, c.closes])
    return xlsx_bytes(wb)
