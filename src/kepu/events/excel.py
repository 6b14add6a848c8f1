"""Excel import and export of events, of attendee lists and of 科技特派员 assignments and visit logs.
Imports are all-or-nothing: every row is checked first and every problem is listed ("第 5 行 手机号：…");
nothing is saved unless all rows are good. Attendee phones are exported masked, except to the office
(unmasked, and audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kepu.citizens.models import KEY_GROUPS
from kepu.core import pii
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import read_xlsx, xlsx_bytes
from kepu.events import selectors
from kepu.events import services as svc
from kepu.events.models import Assignment, Event, Registration, Series, TrainingKind, Visit

EVENT_COLUMNS = [
    "活动名称",
    "类型",
    "培训类别",
    "品牌系列",
    "主办单位",
    "所属单位代码",
    "地点",
    "开始时间",
    "结束时间",
    "容量",
    "重点人群",
]
# Optional column of the events workbook: the 五进 setting by its Chinese label, or empty.
SETTING_COLUMN = "五进场景"
SETTING_BY_LABEL = {
    "进企业": Event.Setting.ENTERPRISE,
    "进农村": Event.Setting.VILLAGE,
    "进社区": Event.Setting.COMMUNITY,
    "进学校": Event.Setting.SCHOOL,
    "进家庭": Event.Setting.FAMILY,
}
SETTING_LABEL = {code: label for label, code in SETTING_BY_LABEL.items()}
ATTENDEE_COLUMNS = ["姓名", "手机号", "重点人群"]
VISIT_COLUMNS = ["派驻编号", "走访日期", "走访地点代码", "走访户数", "指导内容"]
VISIT_SHEET = "走访记录"
ASSIGNMENT_COLUMNS = [
    "派驻编号",
    "农技员/专家",
    "人才库专家",
    "所属区",
    "派驻地代码",
    "派驻地",
    "联系户数",
    "开始日期",
    "结束日期",
    "专业",
    "走访次数",
]
GROUP_BY_LABEL = {str(label): code for code, label in KEY_GROUPS}
GROUP_LABEL = {code: str(label) for code, label in KEY_GROUPS}
KIND_BY_LABEL = {"科普活动": Event.Kind.EVENT, "活动": Event.Kind.EVENT, "培训": Event.Kind.TRAINING}
TRAINING_BY_LABEL = {str(label): code for code, label in TrainingKind.choices}


def _header(rows: list[list[Any]], expected: list[str], name: str) -> list[list[Any]]:
    if not rows:
        raise InputError(_("文件 %(n)s 是空的。") % {"n": name})
    head = [str(c or "").strip() for c in rows[0]]
    missing = [c for c in expected if c not in head]
    if missing:
        raise InputError(
            _("文件 %(n)s 第 1 行缺少列：%(m)s。应为：%(e)s。")
            % {"n": name, "m": "、".join(missing), "e": "、".join(expected)}
        )
    idx = [head.index(c) for c in expected]
    body = []
    for r in rows[1:]:
        body.append([r[i] if i < len(r) else None for i in idx])
    return body


def _optional_column(rows: list[list[Any]], column: str) -> list[Any]:
    """The values of an optional column for each row after the header (None for all when it is absent)."""
    head = [str(c or "").strip() for c in rows[0]] if rows else []
    if column not in head:
        return [None] * max(len(rows) - 1, 0)
    i = head.index(column)
    return [r[i] if i < len(r) else None for r in rows[1:]]


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _when(v: Any) -> dt.datetime | None:
    tz = timezone.get_current_timezone()
    if isinstance(v, dt.datetime):
        return v if timezone.is_aware(v) else v.replace(tzinfo=tz)
    text = _text(v)
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def _groups(v: Any) -> tuple[list[str], list[str]]:
    parts = [p.strip() for p in _text(v).replace(",", "、").replace("，", "、").split("、") if p.strip()]
    good = [GROUP_BY_LABEL.get(p, p if p in GROUP_LABEL else "") for p in parts]
    return [g for g in good if g], [p for p, g in zip(parts, good, strict=True) if not g]


def _excel(content: bytes, name: str) -> list[list[Any]]:
    sheets = read_xlsx(content, name=name, kind="registry")
    return next(iter(sheets.values()), [])


@transaction.atomic
def events_import(*, actor: User, content: bytes, name: str) -> list[Event]:
    """Create the events of a workbook (columns EVENT_COLUMNS, and optionally SETTING_COLUMN), all or none."""
    sheet = _excel(content, name)
    rows = _header(sheet, EVENT_COLUMNS, name)
    settings = _optional_column(sheet, SETTING_COLUMN)
    errors: list[str] = []
    parsed: list[tuple[OrgUnit, dict[str, Any]]] = []
    scope = scope_for(actor)
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[_text(r[5]) for r in rows])}
    series = {s.code: s for s in Series.objects.all()} | {s.name_zh: s for s in Series.objects.all()}
    for n, (r, setting_l) in enumerate(zip(rows, settings, strict=True), start=2):
        if all(_text(c) == "" for c in [*r, setting_l]):
            continue
        p = _("第 %(n)s 行 ") % {"n": n}
        title, kind_l, tk_l, series_l, organiser, unit_code, venue, start, end, cap, groups = r
        unit = units.get(_text(unit_code))
        if unit is None:
            errors.append(_("%(p)s所属单位代码：没有代码为“%(c)s”的单位。") % {"p": p, "c": _text(unit_code)})
            continue
        if not scope.covers(unit, svc.MANAGE_ROLES):
            errors.append(_("%(p)s所属单位代码：%(u)s 不在您的管理范围内。") % {"p": p, "u": unit.name_zh})
            continue
        kind = KIND_BY_LABEL.get(_text(kind_l) or "科普活动")
        tk = TRAINING_BY_LABEL.get(_text(tk_l), _text(tk_l))
        s = series.get(_text(series_l)) if _text(series_l) else None
        if _text(series_l) and s is None:
            errors.append(_("%(p)s品牌系列：没有“%(s)s”。") % {"p": p, "s": _text(series_l)})
        if kind is None:
            errors.append(_("%(p)s类型：应为“科普活动”或“培训”，得到“%(k)s”。") % {"p": p, "k": _text(kind_l)})
            continue
        codes, bad = _groups(groups)
        if bad:
            errors.append(_("%(p)s重点人群：不认识“%(g)s”。") % {"p": p, "g": "、".join(bad)})
        setting = SETTING_BY_LABEL.get(_text(setting_l), "") if _text(setting_l) else ""
        if _text(setting_l) and not setting:
            errors.append(
                _("%(p)s五进场景：应为进企业、进农村、进社区、进学校、进家庭之一，或留空，得到“%(v)s”。")
                % {"p": p, "v": _text(setting_l)[:20]}
            )
        try:
            capacity = int(cap or 0)
        except (TypeError, ValueError):
            errors.append(_("%(p)s容量：应为整数，得到“%(v)s”。") % {"p": p, "v": _text(cap)})
            capacity = 0
        starts, ends = _when(start), _when(end)
        if starts is None or ends is None:
            errors.append(_("%(p)s开始/结束时间：应为“2026-09-19 09:00”这样的日期时间。") % {"p": p})
            continue
        data = {
            "title": _text(title),
            "kind": kind,
            "training_kind": tk if kind == Event.Kind.TRAINING else "",
            "organiser": _text(organiser),
            "venue": _text(venue),
            "starts_at": starts,
            "ends_at": ends,
            "capacity": capacity,
            "key_groups": codes,
            "setting": setting,
            "series": s,
        }
        if kind == Event.Kind.EVENT and _text(tk_l):
            data["training_kind"] = tk
        errors += svc.clean_event(data, p)
        parsed.append((unit, data))
    if errors:
        raise InputError(
            _("文件 %(n)s 有 %(k)s 处错误，未导入任何活动。") % {"n": name, "k": len(errors)}, errors=errors
        )
    if not parsed:
        raise InputError(_("文件 %(n)s 没有活动行。") % {"n": name})
    out = [svc.event_create(actor=actor, org_unit=unit, **data) for unit, data in parsed]
    audit_record(
        actor=actor,
        action="events.import",
        obj=actor,
        changes={"events": (None, len(out))},
        comment=f"导入 {name}",
        label=name,
    )
    return out


@transaction.atomic
def attendees_import(*, actor: User, event: Event, content: bytes, name: str) -> list[Registration]:
    """Register the walk-ins of a workbook (姓名, 手机号, 重点人群) for an event, all or none. The same
    phone twice in the file, or already registered, is refused naming both rows."""
    svc.require_manage(actor, event.org_unit)
    rows = _header(_excel(content, name), ATTENDEE_COLUMNS, name)
    errors: list[str] = []
    seen: dict[str, int] = {}
    existing = set(event.registrations.exclude(phone_key="").values_list("phone_key", flat=True))
    good: list[tuple[int, str, str, str]] = []
    for n, (person, phone, group) in enumerate(rows, start=2):
        if all(_text(c) == "" for c in (person, phone, group)):
            continue
        p = _("第 %(n)s 行 ") % {"n": n}
        if not _text(person):
            errors.append(_("%(p)s姓名：必填。") % {"p": p})
        try:
            normal = pii.normalise_phone(_text(phone))
        except InputError:
            errors.append(
                _("%(p)s手机号：需要 11 位手机号或带区号的固定电话，得到“%(v)s”。")
                % {"p": p, "v": pii.mask_phone(_text(phone))}
            )
            continue
        key = pii.match_key("phone", normal)
        if key in seen:
            errors.append(
                _("%(p)s手机号：%(m)s 与第 %(o)s 行重复。") % {"p": p, "m": pii.mask_phone(normal), "o": seen[key]}
            )
            continue
        if key in existing:
            errors.append(_("%(p)s手机号：%(m)s 已在本活动登记。") % {"p": p, "m": pii.mask_phone(normal)})
            continue
        seen[key] = n
        codes, bad = _groups(group)
        if bad or len(codes) > 1:
            errors.append(_("%(p)s重点人群：应为一个，如“农民”，得到“%(g)s”。") % {"p": p, "g": _text(group)})
            continue
        good.append((n, _text(person), normal, codes[0] if codes else ""))
    if event.capacity and event.registrations.count() + len(good) > event.capacity:
        errors.append(_("人数超过活动容量 %(c)s 人。") % {"c": event.capacity})
    if errors:
        raise InputError(
            _("文件 %(n)s 有 %(k)s 处错误，未导入任何报名。") % {"n": name, "k": len(errors)}, errors=errors
        )
    out = [
        svc.registration_walk_in(
            actor=actor, event=event, name=person, phone=phone, key_group=group, where=_("第 %(n)s 行 ") % {"n": n}
        )
        for n, person, phone, group in good
    ]
    return out


def events_xlsx(events: Any) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "活动"
    ws.append([*EVENT_COLUMNS, SETTING_COLUMN, "报名人数", "签到人数", "结业认定人数"])
    for e in events:
        ws.append(
            [
                e.title,
                e.get_kind_display(),
                e.get_training_kind_display() if e.training_kind else "",
                e.series.code if e.series else "",
                e.organiser,
                e.org_unit.code,
                e.venue,
                timezone.localtime(e.starts_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(e.ends_at).strftime("%Y-%m-%d %H:%M"),
                e.capacity,
                "、".join(GROUP_LABEL.get(g, g) for g in e.key_groups),
                SETTING_LABEL.get(e.setting, ""),
                e.registrations.count(),
                e.registrations.filter(checkin__isnull=False).count(),
                e.registrations.filter(certified_at__isnull=False).count(),
            ]
        )
    return xlsx_bytes(wb)


def attendees_xlsx(*, actor: User, event: Event, unmasked: bool = False) -> bytes:
    """The attendee list; `unmasked` (full phone numbers) only for the office, and audited."""
    svc.require_manage(actor, event.org_unit)
    if unmasked and not scope_for(actor).is_office_admin:
        raise PermissionDenied(_("只有科普办管理员可以导出完整手机号。"))
    wb = Workbook()
    ws = wb.active
    ws.title = "报名"
    ws.append(["姓名", "手机号", "重点人群", "报名码", "报名方式", "签到时间", "结业认定"])
    regs = event.registrations.select_related("checkin").order_by("created_at", "id")
    for r in regs:
        phone = pii.decrypt(r.phone_enc) if unmasked else r.phone_masked
        checkin = getattr(r, "checkin", None)
        ws.append(
            [
                r.name,
                phone,
                GROUP_LABEL.get(r.key_group, ""),
                r.code,
                "现场登记" if r.walk_in else "市民报名",
                timezone.localtime(checkin.at).strftime("%Y-%m-%d %H:%M") if checkin else "",
                "是" if r.certified_at else "",
            ]
        )
    if unmasked:
        audit_record(
            actor=actor,
            action="events.attendees_export_unmasked",
            obj=event,
            org_unit=event.org_unit,
            changes={"rows": (None, regs.count())},
            comment="导出含完整手机号的报名名单",
        )
    return xlsx_bytes(wb)


def template_xlsx(columns: list[str], example: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    ws.append(example)
    return xlsx_bytes(wb)


# -- 科技特派员 assignments and visit logs ------------------------------------------------------------


def _day(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(_text(v).replace("/", "-"))
    except ValueError:
        return None


def _code(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return _text(v)


@transaction.atomic
def visits_import(*, actor: User, content: bytes, name: str) -> list[Visit]:
    """Log the visits of a workbook (sheet 走访记录 if present, else the first sheet; columns VISIT_COLUMNS),
    all or none, through the same service as the page, so the 进村入户 indicator (T10) is republished."""
    sheets = read_xlsx(content, name=name, kind="registry", sheets=[VISIT_SHEET]) or read_xlsx(
        content, name=name, kind="registry"
    )
    rows = _header(next(iter(sheets.values()), []), VISIT_COLUMNS, name)
    scope = scope_for(actor)
    errors: list[str] = []
    seen: dict[tuple[int, dt.date, int, str], int] = {}
    good: list[tuple[str, dict[str, Any]]] = []
    for n, r in enumerate(rows, start=2):
        if all(_text(c) == "" for c in r):
            continue
        p = _("第 %(n)s 行 ") % {"n": n}
        code, day, village_code, households, text = r
        a = None
        if _code(code).isdigit():
            a = Assignment.objects.select_related("org_unit", "district").filter(pk=int(_code(code))).first()
        if a is None or not scope.covers(a.org_unit, svc.MANAGE_ROLES):
            errors.append(
                _("%(p)s派驻编号：找不到编号为“%(c)s”的派驻，或不在您的管理范围内。") % {"p": p, "c": _code(code)}
            )
            continue
        date = _day(day)
        if date is None:
            errors.append(_("%(p)s走访日期：应为 2026-09-19 这样的日期，得到“%(v)s”。") % {"p": p, "v": _text(day)})
        village = a.org_unit
        if _code(village_code):
            found = OrgUnit.objects.filter(code=_code(village_code)).first()
            if found is None:
                errors.append(_("%(p)s走访地点代码：没有代码为“%(c)s”的单位。") % {"p": p, "c": _code(village_code)})
                continue
            village = found
        try:
            count = int(households or 0)
            if count < 0 or float(households or 0) != count:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(_("%(p)s走访户数：应为非负整数，得到“%(v)s”。") % {"p": p, "v": _text(households)})
            continue
        if date is None:
            continue
        key = (a.pk, date, village.pk, _text(text))
        if key in seen:
            errors.append(
                _("%(p)s与第 %(o)s 行是同一次走访（派驻、日期、地点、内容相同）。") % {"p": p, "o": seen[key]}
            )
            continue
        seen[key] = n
        if Visit.objects.filter(assignment=a, date=date, village=village, content=_text(text)).exists():
            errors.append(_("%(p)s这次走访已经记录过（派驻、日期、地点、内容相同）。") % {"p": p})
            continue
        good.append(
            (
                p,
                {
                    "assignment": a,
                    "date": date,
                    "village": village,
                    "households_visited": count,
                    "content": _text(text),
                },
            )
        )
    out: list[Visit] = []
    for p, data in good:
        try:
            with transaction.atomic():
                out.append(svc.visit_log(actor=actor, **data))
        except InputError as exc:
            errors += [p + e for e in exc.errors]
        except PermissionDenied as exc:
            errors.append(p + str(exc))
    if errors:
        raise InputError(
            _("文件 %(n)s 有 %(k)s 处错误，未导入任何走访记录。") % {"n": name, "k": len(errors)}, errors=errors
        )
    if not out:
        raise InputError(_("文件 %(n)s 没有走访记录行。") % {"n": name})
    audit_record(
        actor=actor,
        action="events.import_visits",
        obj=actor,
        changes={"visits": (None, len(out))},
        comment=f"导入 {name}",
        label=name[:300],
    )
    return out


def assignments_xlsx(*, actor: User) -> bytes:
    """The assignments the actor can see (a district officer: their district's) and, on a second sheet
    with the import's columns, their visit logs."""
    wb = Workbook()
    ws = wb.active
    ws.title = "派驻"
    ws.append(ASSIGNMENT_COLUMNS)
    assignments = list(selectors.assignments_for(actor))
    for a in assignments:
        ws.append(
            [
                a.pk,
                selectors.technician_name(a),
                "是" if a.expert_user_id else "否",
                a.district.name_zh,
                a.org_unit.code,
                a.org_unit.name_zh,
                a.households,
                a.start.isoformat(),
                a.end.isoformat() if a.end else "",
                a.speciality,
                a.n_visits,  # type: ignore[attr-defined]
            ]
        )
    vs = wb.create_sheet(VISIT_SHEET)
    vs.append([*VISIT_COLUMNS, "走访地点", "农技员/专家"])
    names = {a.pk: selectors.technician_name(a) for a in assignments}
    visits = (
        Visit.objects.filter(assignment_id__in=list(names))
        .select_related("village")
        .order_by("assignment_id", "date", "id")
    )
    for v in visits:
        vs.append(
            [
                v.assignment_id,
                v.date.isoformat(),
                v.village.code,
                v.households_visited,
                v.content,
                v.village.name_zh,
                names[v.assignment_id],
            ]
        )
    return xlsx_bytes(wb)
