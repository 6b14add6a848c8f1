"""Nominations and awards in Excel: import nominations (all-or-nothing, every row's problem named) and
export nominations with their decisions in the same column layout."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.core.uploads import read_xlsx, xlsx_bytes
from kepu.recognition import services
from kepu.recognition.models import Honour, Nomination
from kepu.recognition.selectors import can_nominate, nominations_visible

HEADERS = ["荣誉代码", "年度", "类型", "姓名", "工作单位", "单位代码", "集体名称", "推荐理由", "证明材料",
           "状态", "授予年度", "证书编号"]
REQUIRED = HEADERS[:8]
KINDS = {"个人": "individual", "集体": "collective", "individual": "individual", "collective": "collective"}


def nominations_export(user: User) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "表彰推荐"
    ws.append(HEADERS)
    for n in nominations_visible(user):
        award = getattr(n, "award", None)
        ws.append([n.honour.code, n.year, n.get_kind_display(), n.person_name, n.organisation, n.org_unit.code,
                   n.collective_name, n.reason, n.evidence, n.get_status_display(),
                   award.year if award else None, award.certificate_no if award else ""])
    return xlsx_bytes(wb)


@transaction.atomic
def nominations_import(*, actor: User, content: bytes, name: str) -> list[Nomination]:
    sheets = read_xlsx(content, name=name, kind="registry")
    rows = next(iter(sheets.values()), [])
    if not rows:
        raise InputError(_("文件 %(n)s 是空的。") % {"n": name})
    col = {str(h).strip(): i for i, h in enumerate(rows[0]) if h is not None and str(h).strip()}
    missing = [h for h in REQUIRED if h not in col]
    if missing:
        raise InputError(_("文件 %(n)s 第 1 行缺少列：%(m)s。") % {"n": name, "m": "、".join(missing)})

    def cell(row: list[Any], key: str) -> str:
        i = col.get(key)
        v = row[i] if i is not None and i < len(row) else None
        return "" if v is None else str(v).strip()

    scope = scope_for(actor)
    honours = {h.code: h for h in Honour.objects.all()}
    units = {u.code: u for u in OrgUnit.objects.all()}
    errors: list[str] = []
    parsed = []
    for n, row in enumerate(rows[1:], start=2):
        if all(v in (None, "") for v in row):
            continue
        where = _("第 %(n)s 行") % {"n": n}
        row_errors = []
        honour = honours.get(cell(row, "荣誉代码"))
        if honour is None:
            row_errors.append(_("荣誉代码：没有“%(c)s”。") % {"c": cell(row, "荣誉代码")[:40]})
        unit = units.get(cell(row, "单位代码"))
        if unit is None:
            row_errors.append(_("单位代码：没有代码为“%(c)s”的单位。") % {"c": cell(row, "单位代码")[:40]})
        elif not can_nominate(scope, unit):
            row_errors.append(_("您无权推荐 %(u)s 的人选。") % {"u": unit.name_zh})
        kind = KINDS.get(cell(row, "类型"))
        if kind is None:
            row_errors.append(_("类型：须为“个人”或“集体”，得到“%(v)s”。") % {"v": cell(row, "类型")[:20]})
        try:
            year = int(float(cell(row, "年度")))
        except ValueError:
            row_errors.append(_("年度：须为四位数字年份，得到“%(v)s”。") % {"v": cell(row, "年度")[:20]})
            year = 0
        if honour is not None and kind is not None and year:
            collective = cell(row, "集体名称") or (unit.name_zh if unit is not None else "")
            row_errors += services.nomination_problems(
                honour=honour, kind=kind, year=year, person_name=cell(row, "姓名"),
                organisation=cell(row, "工作单位"), collective_name=collective, reason=cell(row, "推荐理由"))
        if row_errors:
            errors.extend(f"{where} {e}" for e in row_errors)
            continue
        assert honour is not None and unit is not None and kind is not None
        parsed.append((n, honour, unit, kind, year, row))
    if errors:
        raise InputError(errors[0], errors=errors)
    if not parsed:
        raise InputError(_("文件 %(n)s 没有数据行。") % {"n": name})
    out = []
    for n, honour, unit, kind, year, row in parsed:
        try:
            with transaction.atomic():
                out.append(services.nomination_create(
                    actor=actor, honour=honour, year=year, kind=kind, org_unit=unit, reason=cell(row, "推荐理由"),
                    person_name=cell(row, "姓名"), organisation=cell(row, "工作单位"),
                    collective_name=cell(row, "集体名称"), evidence=cell(row, "证明材料"),
                    where=_("第 %(n)s 行") % {"n": n}))
        except (InputError, PermissionDenied) as e:
            errors.extend(getattr(e, "errors", [str(e)]))
    if errors:
        raise InputError(errors[0], errors=errors)
    return out
