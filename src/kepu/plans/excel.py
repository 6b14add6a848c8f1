"""Excel reporting templates: downloaded for one unit and year, filled in offline, uploaded back.

The template carries a signed, hidden sheet naming its plan, unit, year and rows; an upload whose
signature or rows do not match is refused as tampered. Uploads are all-or-nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.uploads import read_xlsx, xlsx_bytes
from kepu.plans import selectors
from kepu.plans.models import Indicator, Observation, Plan
from kepu.plans.services import Entry, observation_save
from kepu.plans.validation import parse_number

SHEET = "填报"
META = "_kepu"
FIRST_ROW = 4  # rows 1-3: title, instructions, header
COLS = ["指标代码 Code", "指标名称 Indicator", "单位 Unit", "上年值 Last year", "本期值 Value", "说明 Comment"]


def _sign(meta: dict[str, Any]) -> str:
    payload = json.dumps(meta, sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(settings.SECRET_KEY.encode(), payload, hashlib.sha256).hexdigest()


def template_build(*, plan: Plan, unit: OrgUnit, year: int, user: User) -> bytes:
    indicators = selectors.reportable_indicators(plan, user, unit)
    previous = {o.indicator_id: o.value for o in Observation.objects.filter(
        org_unit=unit, year=year - 1, quarter=0, indicator__in=indicators)}
    current = {o.indicator_id: o for o in Observation.objects.filter(
        org_unit=unit, year=year, quarter=0, indicator__in=indicators)}
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws["A1"] = f"{plan.name_zh} · {unit.name_zh} · {year}年 数据填报"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = "只填写“本期值”和“说明”两列(黄色);请勿修改其他单元格。Fill in only the yellow columns."
    for i, title in enumerate(COLS, start=1):
        c = ws.cell(row=3, column=i, value=title)
        c.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF4C2")
    for r, ind in enumerate(indicators, start=FIRST_ROW):
        obs = current.get(ind.pk)
        ws.cell(row=r, column=1, value=ind.code)
        ws.cell(row=r, column=2, value=ind.name_zh)
        ws.cell(row=r, column=3, value=ind.unit)
        ws.cell(row=r, column=4, value=previous.get(ind.pk))
        editable: tuple[tuple[int, float | str | None], ...] = (
            (5, obs.value if obs else None), (6, obs.comment if obs else None))
        for col, val in editable:
            c = ws.cell(row=r, column=col, value=val)
            c.fill = fill
            c.protection = Protection(locked=False)
            c.alignment = Alignment(wrap_text=col == 6)
    for letter, width in zip("ABCDEF", (26, 44, 8, 12, 12, 40), strict=True):
        ws.column_dimensions[letter].width = width
    ws.protection.sheet = True
    meta = {"plan": plan.code, "plan_version": plan.version, "unit": unit.code, "year": year,
            "rows": [i.code for i in indicators]}
    ms = wb.create_sheet(META)
    ms["A1"] = json.dumps(meta, ensure_ascii=False)
    ms["A2"] = _sign(meta)
    ms.sheet_state = "hidden"
    return xlsx_bytes(wb)


def _cell(rows: list[list[Any]], row: int, col: int) -> Any:
    """The value at a 1-based row and column, None where the sheet has no cell."""
    values = rows[row - 1] if 0 < row <= len(rows) else []
    return values[col - 1] if 0 < col <= len(values) else None


def _read_meta(sheets: dict[str, list[list[Any]]]) -> dict[str, Any]:
    if META not in sheets or SHEET not in sheets:
        raise InputError(_("This is not a Kepu reporting template (sheet %(s)s is missing). Download a new template.")
                         % {"s": META if META not in sheets else SHEET})
    control = sheets[META]
    try:
        meta = json.loads(str(_cell(control, 1, 1)))
    except (TypeError, ValueError) as exc:
        raise InputError(_("The template's control data is damaged. Download a new template.")) from exc
    if not isinstance(meta, dict) or not hmac.compare_digest(str(_cell(control, 2, 1) or ""), _sign(meta)):
        raise InputError(_("The template's control data was changed (signature mismatch). Download a new template."))
    return meta


def template_upload(
    *, user: User, content: bytes, name: str = "template.xlsx", submit: bool = True
) -> list[Observation]:
    """Read a filled template and save every row, or nothing if any row is wrong. Rows whose value
    was submitted before are skipped; an empty list means there was nothing new to save."""
    sheets = read_xlsx(content, name=name, kind="template", sheets=[SHEET, META])
    meta = _read_meta(sheets)
    plan = selectors.plan_get(str(meta.get("plan")))
    unit = OrgUnit.objects.filter(code=str(meta.get("unit"))).first()
    if plan is None or unit is None:
        raise InputError(_("The template names a plan or unit that no longer exists. Download a new template."))
    return _save_rows(user=user, plan=plan, unit=unit, year=int(meta["year"]), codes=list(meta["rows"]),
                      rows=sheets[SHEET], submit=submit)


@transaction.atomic
def _save_rows(*, user: User, plan: Plan, unit: OrgUnit, year: int, codes: list[str], rows: list[list[Any]],
               submit: bool) -> list[Observation]:
    indicators = {i.code: i for i in Indicator.objects.filter(plan=plan, code__in=codes)}
    locked = dict(Observation.objects.filter(
        indicator__in=indicators.values(), org_unit=unit, year=year, quarter=0,
        status__in=(Observation.Status.SUBMITTED, Observation.Status.APPROVED)).values_list("indicator_id", "value"))
    errors: list[str] = []
    entries: list[tuple[int, Entry]] = []
    unchanged = 0
    for offset, code in enumerate(codes):
        r = FIRST_ROW + offset
        cell_code = _cell(rows, r, 1)
        if cell_code != code:
            errors.append(_("Row %(r)s, column A: expected indicator code %(code)s, found %(found)r; the template "
                            "was edited outside the yellow columns.") % {"r": r, "code": code, "found": cell_code})
            continue
        raw, comment = _cell(rows, r, 5), _cell(rows, r, 6)
        if raw in (None, ""):
            continue
        ind = indicators.get(code)
        if ind is None:
            errors.append(_("Row %(r)s: indicator %(code)s is no longer in the plan.") % {"r": r, "code": code})
            continue
        value, _err = parse_number(raw, code)
        if value is not None and value == locked.get(ind.pk):
            unchanged += 1  # submitted earlier and shown in a re-downloaded template: nothing to save
            continue
        entries.append((r, Entry(ind, unit, year, 0, raw, str(comment or ""))))
    extra = next((r for r in range(FIRST_ROW + len(codes), len(rows) + 1) if _cell(rows, r, 1) not in (None, "")),
                 None)
    if extra is not None:
        errors.append(_("Row %(r)s: rows were added to the template; only the listed indicators can be reported.")
                      % {"r": extra})
    if not entries and not errors and not unchanged:
        errors.append(_("The template has no values in column E (本期值)."))
    saved: list[Observation] = []
    if not errors:
        for r, entry in entries:
            try:
                saved.append(observation_save(user=user, entry=entry, submit=submit, source="excel"))
            except InputError as exc:
                errors += [_("Row %(r)s, column E: %(msg)s") % {"r": r, "msg": m} for m in exc.errors]
    if errors:
        transaction.set_rollback(True)
        raise InputError(errors[0], errors=errors)
    return saved
