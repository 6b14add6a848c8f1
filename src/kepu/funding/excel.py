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
from kepu.funding.models import Budget
from kepu.funding.money import yuan
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
