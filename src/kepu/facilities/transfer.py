"""Excel export and import of the base and venue registries. Imports are all-or-nothing: every row
is checked first and every problem is listed ("第 5 行 级别：…"); nothing is written unless all rows
are good. Each imported record is audited, and imported bases republish the plan indicators.

Bases imported here are designations made before Kepu kept the lifecycle (or by the province or the
nation), so only the office may import them; venues may be imported by a district officer for their
own district."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import read_xlsx, xlsx_bytes
from kepu.facilities import indicators
from kepu.facilities.models import Base, BaseKind, BaseLevel, Venue, VenueKind
from kepu.facilities.selectors import bases_visible, venues_manageable
from kepu.plans.derived import ancestor_at

BASE_COLUMNS = ["名称", "类型", "级别", "依托单位", "所在单位代码", "首次认定日期", "有效期起", "有效期至", "撤销日期"]
VENUE_COLUMNS = ["名称", "类型", "运营单位", "所在单位代码", "地址", "开放时间", "开放日", "简介", "对公众开放"]
DAY_NAMES = "一二三四五六日"


def _label(choices: Any, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _by_label(choices: Any) -> dict[str, str]:
    out = {str(label): value for value, label in choices.choices}
    out.update({value: value for value in choices.values})
    return out


def bases_export(user: Any) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "科普教育基地"
    ws.append(BASE_COLUMNS)
    for b in bases_visible(user):
        ws.append([b.name, _label(BaseKind, b.kind), _label(BaseLevel, b.level), b.organisation, b.org_unit.code,
                   b.first_certified_on, b.valid_from, b.valid_until, b.revoked_on])
    return xlsx_bytes(wb)


def venues_export(user: Any) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "开放场馆"
    ws.append(VENUE_COLUMNS)
    for v in venues_manageable(user):
        ws.append([v.name, _label(VenueKind, v.kind), v.organisation, v.org_unit.code, v.address, v.opening_hours,
                   ",".join(str(d) for d in v.open_days), v.description, "是" if v.public else "否"])
    return xlsx_bytes(wb)


def _rows(content: bytes, name: str, columns: list[str]) -> list[tuple[int, dict[str, Any]]]:
    sheets = read_xlsx(content, name=name, kind="registry")
    rows = next(iter(sheets.values()), [])
    if not rows:
        raise InputError(_("%(name)s 是空的：第 1 行应为表头 %(cols)s。") % {"name": name, "cols": "、".join(columns)})
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    missing = [c for c in columns[:4] if c not in header]
    if missing:
        raise InputError(_("%(name)s 第 1 行缺少列：%(cols)s。") % {"name": name, "cols": "、".join(missing)})
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        out.append((i, {h: (row[j] if j < len(row) else None) for j, h in enumerate(header) if h}))
    if not out:
        raise InputError(_("%(name)s 没有数据行。") % {"name": name})
    return out


def _str(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _date(v: Any, row: int, col: str, errors: list[str], required: bool = True) -> dt.date | None:
    if v is None or _str(v) == "":
        if required:
            errors.append(_("第 %(row)s 行 %(col)s：必填。") % {"row": row, "col": col})
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(_str(v))
    except ValueError:
        errors.append(_("第 %(row)s 行 %(col)s：需要日期(如 2024-05-01)，得到“%(v)s”。") % {
            "row": row, "col": col, "v": v})
        return None


def _unit(v: Any, row: int, errors: list[str], user: User, roles: tuple[str, ...]) -> OrgUnit | None:
    code = _str(v)
    unit = OrgUnit.objects.filter(code=code).first() if code else None
    if unit is None or ancestor_at(unit, OrgUnit.Level.DISTRICT) is None:
        errors.append(_("第 %(row)s 行 所在单位代码：找不到辖市(区)或镇(街道)“%(v)s”。") % {"row": row, "v": code})
        return None
    if not scope_for(user).covers(unit, roles):
        errors.append(_("第 %(row)s 行 所在单位代码：%(unit)s 不在您的管理范围内。") % {
            "row": row, "unit": unit.name_zh})
        return None
    return unit


def _text(v: Any, row: int, col: str, n: int, errors: list[str], required: bool = True) -> str:
    text = _str(v)
    if required and not text:
        errors.append(_("第 %(row)s 行 %(col)s：必填。") % {"row": row, "col": col})
    elif len(text) > n:
        errors.append(_("第 %(row)s 行 %(col)s：最长 %(n)s 个字符。") % {"row": row, "col": col, "n": n})
    return text


def _choice(v: Any, row: int, col: str, choices: Any, errors: list[str]) -> str:
    found = _by_label(choices).get(_str(v))
    if found is None:
        errors.append(_("第 %(row)s 行 %(col)s：应为 %(allowed)s 之一，得到“%(v)s”。") % {
            "row": row, "col": col, "allowed": "、".join(str(c) for c in choices.labels), "v": _str(v)})
        return ""
    return found


@transaction.atomic
def bases_import(*, actor: User, content: bytes, name: str) -> list[Base]:
    if not scope_for(actor).is_office_admin:
        raise PermissionDenied(_("只有科普办(办公室管理员)可以导入已认定的基地。"))
    errors: list[str] = []
    parsed = []
    for row, r in _rows(content, name, BASE_COLUMNS):
        e_before = len(errors)
        fields = {
            "name": _text(r.get("名称"), row, "名称", 200, errors),
            "kind": _choice(r.get("类型"), row, "类型", BaseKind, errors),
            "level": _choice(r.get("级别"), row, "级别", BaseLevel, errors),
            "organisation": _text(r.get("依托单位"), row, "依托单位", 200, errors),
            "org_unit": _unit(r.get("所在单位代码"), row, errors, actor, (Role.OFFICE_ADMIN,)),
        }
        first = _date(r.get("首次认定日期"), row, "首次认定日期", errors)
        start = _date(r.get("有效期起"), row, "有效期起", errors, required=False) or first
        until = _date(r.get("有效期至"), row, "有效期至", errors)
        revoked = _date(r.get("撤销日期"), row, "撤销日期", errors, required=False)
        if first and until and start and until < start:
            errors.append(_("第 %(row)s 行 有效期至：须不早于有效期起。") % {"row": row})
        if first and first > timezone.localdate():
            errors.append(_("第 %(row)s 行 首次认定日期：不能晚于今天。") % {"row": row})
        if len(errors) == e_before:
            unit = fields["org_unit"]
            assert isinstance(unit, OrgUnit)
            if Base.objects.filter(name=fields["name"], org_unit=unit).exists():
                errors.append(_("第 %(row)s 行 名称：%(unit)s 已有基地“%(name)s”。") % {
                    "row": row, "unit": unit.name_zh, "name": fields["name"]})
                continue
            parsed.append({**fields, "district": ancestor_at(unit, OrgUnit.Level.DISTRICT),
                           "first_certified_on": first, "valid_from": start, "valid_until": until,
                           "revoked_on": revoked, "revoke_reason": _("导入：已撤销") if revoked else "",
                           "certified_by": actor})
    if errors:
        raise InputError(errors[0], errors=errors)
    created = [Base.objects.create(**p) for p in parsed]
    for b in created:
        audit_record(actor=actor, action="facilities.import", obj=b, org_unit=b.org_unit,
                     changes={"state": (None, b.state_on(timezone.localdate()))}, comment=name)
    cities = {indicators.city_of(b.district).pk: indicators.city_of(b.district) for b in created}
    for city in cities.values():
        indicators.bases_publish(city=city, since_year=min(b.first_certified_on.year for b in created))
    return created


@transaction.atomic
def venues_import(*, actor: User, content: bytes, name: str) -> list[Venue]:
    """Venues by (name, place): a row matching an existing venue of the same place updates it."""
    from kepu.facilities.services import MANAGE_ROLES

    errors: list[str] = []
    parsed: list[dict[str, Any]] = []
    for row, r in _rows(content, name, VENUE_COLUMNS):
        e_before = len(errors)
        days_raw = _str(r.get("开放日")).replace("，", ",")
        days: list[int] = []
        for part in (p.strip() for p in days_raw.split(",") if p.strip()):
            if part.isdigit() and 1 <= int(part) <= 7:
                days.append(int(part))
            elif part in DAY_NAMES:
                days.append(DAY_NAMES.index(part) + 1)
            else:
                errors.append(_("第 %(row)s 行 开放日：应为 1–7 的数字(1 为周一)，用逗号分隔，得到“%(v)s”。") % {
                    "row": row, "v": part})
                break
        public_raw = _str(r.get("对公众开放")) or "是"
        if public_raw not in ("是", "否"):
            errors.append(_("第 %(row)s 行 对公众开放：应为“是”或“否”。") % {"row": row})
        fields = {
            "name": _text(r.get("名称"), row, "名称", 200, errors),
            "kind": _choice(r.get("类型"), row, "类型", VenueKind, errors),
            "organisation": _text(r.get("运营单位"), row, "运营单位", 200, errors),
            "org_unit": _unit(r.get("所在单位代码"), row, errors, actor, MANAGE_ROLES),
            "address": _text(r.get("地址"), row, "地址", 300, errors, required=False),
            "opening_hours": _text(r.get("开放时间"), row, "开放时间", 200, errors, required=False),
            "description": _text(r.get("简介"), row, "简介", 5000, errors, required=False),
            "open_days": sorted(set(days)),
            "public": public_raw != "否",
        }
        if len(errors) == e_before:
            parsed.append(fields)
    if errors:
        raise InputError(errors[0], errors=errors)
    out = []
    for f in parsed:
        unit: OrgUnit = f["org_unit"]
        f["district"] = ancestor_at(unit, OrgUnit.Level.DISTRICT)
        existing = Venue.objects.filter(name=f["name"], org_unit=unit).first()
        if existing is None:
            v = Venue.objects.create(**f)
            audit_record(actor=actor, action="facilities.import", obj=v, org_unit=unit,
                         changes={"name": (None, v.name)}, comment=name)
        else:
            changes = {}
            for k, val in f.items():
                if getattr(existing, k) != val:
                    old = getattr(existing, k)
                    changes[k] = (getattr(old, "code", old), getattr(val, "code", val))
                    setattr(existing, k, val)
            if changes:
                existing.save()
                audit_record(actor=actor, action="facilities.import", obj=existing, org_unit=unit,
                             changes=changes, comment=name)
            v = existing
        out.append(v)
    return out


VISIT_COLUMNS = ["场馆编号", "场馆名称", "年度", "月份", "接待人次"]


def visits_export(user: Any) -> bytes:
    """The monthly visitor counts of the venues the user manages, in the layout visits_import reads."""
    from kepu.facilities.models import VisitCount

    wb = Workbook()
    ws = wb.active
    ws.title = "场馆接待人次"
    ws.append(VISIT_COLUMNS)
    rows = VisitCount.objects.filter(venue__in=venues_manageable(user)).select_related("venue")
    for c in rows.order_by("venue__name", "venue_id", "year", "month"):
        ws.append([c.venue_id, c.venue.name, c.year, c.month, c.visitors])
    return xlsx_bytes(wb)


def _int(v: Any, row: int, col: str, errors: list[str]) -> int | None:
    text = _str(v)
    try:
        f = float(text)
    except ValueError:
        errors.append(_("第 %(row)s 行 %(col)s：需要整数，得到“%(v)s”。") % {"row": row, "col": col, "v": text[:20]})
        return None
    if f != int(f):
        errors.append(_("第 %(row)s 行 %(col)s：需要整数，得到“%(v)s”。") % {"row": row, "col": col, "v": text[:20]})
        return None
    return int(f)


@transaction.atomic
def visits_import(*, actor: User, content: bytes, name: str) -> int:
    """Monthly visitor counts (venue by its number 场馆编号, year, month, visitors). Every row is checked
    first; then each goes through services.visits_record — the same service as the venue page — so each
    is audited and SCI_VENUE_VISITS is republished. One bad row refuses the whole file."""
    from kepu.facilities import services as svc_mod

    rows = _rows(content, name, ["场馆编号", "年度", "月份", "接待人次"])
    manageable = {v.pk: v for v in venues_manageable(actor)}
    errors: list[str] = []
    parsed: list[tuple[int, Venue, int, int, int]] = []
    seen: dict[tuple[int, int, int], int] = {}
    for row, r in rows:
        e_before = len(errors)
        vid = _int(r.get("场馆编号"), row, "场馆编号", errors)
        venue = None
        if vid is not None:
            venue = manageable.get(vid)
            if venue is None:
                if Venue.objects.filter(pk=vid).exists():
                    errors.append(_("第 %(row)s 行 场馆编号：场馆 %(v)s 不在您的管理范围内。") % {"row": row, "v": vid})
                else:
                    errors.append(_("第 %(row)s 行 场馆编号：没有编号为 %(v)s 的场馆。") % {"row": row, "v": vid})
        year = _int(r.get("年度"), row, "年度", errors)
        month = _int(r.get("月份"), row, "月份", errors)
        visitors = _int(r.get("接待人次"), row, "接待人次", errors)
        today = timezone.localdate()
        if month is not None and not 1 <= month <= 12:
            errors.append(_("第 %(row)s 行 月份：应为 1 到 12，得到 %(v)s。") % {"row": row, "v": month})
        elif year is not None and month is not None and (
                not 2000 <= year <= today.year or (year == today.year and month > today.month)):
            errors.append(_("第 %(row)s 行 年度：%(y)s 年 %(m)s 月还没有到或早于 2000 年，不能登记接待人次。") % {
                "row": row, "y": year, "m": month})
        if visitors is not None and not 0 <= visitors <= 10_000_000:
            errors.append(_("第 %(row)s 行 接待人次：须在 0 到 10,000,000 之间。") % {"row": row})
        if len(errors) > e_before:
            continue
        assert venue is not None and year is not None and month is not None and visitors is not None
        key = (venue.pk, year, month)
        if key in seen:
            errors.append(_("第 %(row)s 行：与第 %(o)s 行重复（同一场馆、年度和月份）。") % {
                "row": row, "o": seen[key]})
            continue
        seen[key] = row
        parsed.append((row, venue, year, month, visitors))
    if errors:
        raise InputError(errors[0], errors=errors)
    for row, venue, year, month, visitors in parsed:
        try:
            with transaction.atomic():
                svc_mod.visits_record(actor=actor, venue=venue, year=year, month=month, visitors=visitors)
        except InputError as e:
            errors.extend(_("第 %(row)s 行 %(msg)s") % {"row": row, "msg": m} for m in (e.errors or [str(e)]))
        except PermissionDenied as e:
            errors.append(_("第 %(row)s 行 %(msg)s") % {"row": row, "msg": str(e)})
    if errors:  # the outer transaction rolls back every row already recorded
        raise InputError(errors[0], errors=errors)
    return len(parsed)
