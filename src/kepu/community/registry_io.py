"""Excel import and export of the talent pool, volunteers, volunteer teams and service records.

Imports are all-or-nothing: every row is checked, every problem is named ("第 5 行 手机号：…"), and
nothing is written unless the whole file is right. The same person (normalised phone or ID number)
twice in a file, or already in the registry, is refused. Exports show masked phone and ID numbers;
an office admin may export them unmasked, and that export is audited."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.community import indicators, selectors, services
from kepu.community import volunteers as vsvc
from kepu.community.models import Evaluation, ExpertRole, ServiceRecord, TeamKind, Volunteer, VolunteerTeam
from kepu.core import pii
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import read_xlsx, xlsx_bytes

EXPERT_COLUMNS = ["姓名", "工作单位", "职称", "专业领域", "专长", "语言", "可服务时间", "角色", "管理单位代码",
                  "手机号"]
VOLUNTEER_COLUMNS = ["姓名", "所属单位代码", "手机号", "身份证号", "科普信息员", "服务专长", "志愿服务队", "登记日期"]
RECORD_COLUMNS = ["志愿者手机号", "志愿者身份证号", "组织单位代码", "组织单位", "服务内容", "服务地点", "开始时间",
                  "结束时间", "服务时长", "培训情况", "表彰奖励", "服务评价"]
TEAM_COLUMNS = ["队伍名称", "队伍类型", "所属单位代码", "负责人"]
KINDS = {"experts": EXPERT_COLUMNS, "volunteers": VOLUNTEER_COLUMNS, "records": RECORD_COLUMNS, "teams": TEAM_COLUMNS}
TEAM_KIND_BY_LABEL = {str(label): value for value, label in TeamKind.choices}
ROLE_BY_LABEL = {str(label): value for value, label in ExpertRole.choices}
EVAL_BY_LABEL = {str(label): value for value, label in Evaluation.choices}
YES = {"是", "y", "yes", "1", "true", "√"}


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").replace("、", ",").replace("；", ",").split(",") if p.strip()]


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _when(v: Any) -> dt.datetime | None:
    if isinstance(v, dt.datetime):
        return timezone.make_aware(v) if timezone.is_naive(v) else v
    text = _text(v)
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return timezone.make_aware(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def _date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(_text(v).replace("/", "-"))
    except ValueError:
        return None


def _rows(content: bytes, name: str, columns: list[str]) -> list[tuple[int, dict[str, Any]]]:
    try:
        sheets = read_xlsx(content, name=name, kind="registry")
    except InputError:
        raise
    except Exception as exc:  # a file that is not a workbook at all
        raise InputError(_("文件 %(name)s 不是有效的 Excel（.xlsx）文件。") % {"name": name}) from exc
    rows = next(iter(sheets.values()), [])
    if not rows:
        raise InputError(_("文件 %(name)s 是空的：第 1 行应为表头。") % {"name": name})
    header = [_text(c) for c in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(_("第 1 行 表头：缺少列 %(cols)s；应为 %(all)s。") % {
            "cols": "、".join(missing), "all": "、".join(columns)})
    idx = {c: header.index(c) for c in columns}
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(_text(c) for c in row):
            continue
        out.append((n, {c: (row[i] if i < len(row) else None) for c, i in idx.items()}))
    if not out:
        raise InputError(_("文件 %(name)s 没有数据行。") % {"name": name})
    return out


def _unit(code: str, actor: User, where: str, errors: list[str]) -> OrgUnit | None:
    unit = OrgUnit.objects.filter(code=code).first() if code else None
    if unit is None:
        errors.append(where + _("单位代码：找不到“%(code)s”，应为区划代码，如 320412。") % {"code": code})
        return None
    if not vsvc.can_manage(actor, unit):
        errors.append(where + _("单位代码：您无权管理 %(name)s 的记录。") % {"name": unit.name_zh})
        return None
    return unit


def _finish(errors: list[str]) -> None:
    if errors:
        raise InputError(errors[0], errors=errors)


@transaction.atomic
def import_(*, actor: User, kind: str, content: bytes, name: str) -> int:
    if kind not in KINDS:
        raise InputError(_("无法识别的导入类型。"))
    rows = _rows(content, name, KINDS[kind])
    errors: list[str] = []
    n = {"experts": _import_experts, "volunteers": _import_volunteers, "records": _import_records,
         "teams": _import_teams}[kind](
        actor, rows, errors)
    _finish(errors)
    audit_record(actor=actor, action=f"community.import_{kind}", obj=actor, label=name[:300],
                 changes={"rows": (None, n)}, comment=_("从 Excel 导入"))
    return n


def _seen(keys: dict[str, int], key: str, row: int, where: str, what: str, errors: list[str]) -> None:
    if key in keys:
        errors.append(where + _("%(what)s与第 %(row)s 行相同：同一人不能重复登记。") % {"what": what, "row": keys[key]})
    else:
        keys[key] = row


def _import_experts(actor: User, rows: list[tuple[int, dict[str, Any]]], errors: list[str]) -> int:
    keys: dict[str, int] = {}
    for row, r in rows:
        where = _("第 %(row)s 行 ") % {"row": row}
        unit = _unit(_text(r["管理单位代码"]), actor, where, errors)
        phone = _text(r["手机号"])
        if phone:
            with contextlib.suppress(InputError):  # a malformed phone is named by the service below
                _seen(keys, pii.match_key("phone", pii.normalise_phone(phone)), row, where, _("手机号"), errors)
        roles = []
        for label in _split(_text(r["角色"])):
            role = ROLE_BY_LABEL.get(label, label if label in ExpertRole.values else "")
            if not role:
                errors.append(where + _("角色：无法识别“%(r)s”，应为 %(all)s。") % {
                    "r": label, "all": "、".join(ROLE_BY_LABEL)})
            roles.append(role)
        if unit is None or any(not x for x in roles):
            continue
        try:
            with transaction.atomic():
                services.expert_create(
                    actor=actor, name=_text(r["姓名"]), organisation=_text(r["工作单位"]), org_unit=unit,
                    fields=_split(_text(r["专业领域"])), roles=roles, title=_text(r["职称"]),
                    specialities=_text(r["专长"]), languages=_split(_text(r["语言"])),
                    availability=_text(r["可服务时间"]), phone=phone)
        except InputError as exc:
            errors += [where + e for e in exc.errors]
        except PermissionDenied as exc:
            errors.append(where + str(exc))
    return len(rows)


def _import_volunteers(actor: User, rows: list[tuple[int, dict[str, Any]]], errors: list[str]) -> int:
    keys: dict[str, int] = {}
    teams = {t.name: t for t in vsvc.teams_visible(actor)}
    units: set[OrgUnit] = set()
    for row, r in rows:
        where = _("第 %(row)s 行 ") % {"row": row}
        unit = _unit(_text(r["所属单位代码"]), actor, where, errors)
        phone, id_number = _text(r["手机号"]), _text(r["身份证号"])
        for kind, raw, norm, label in (("phone", phone, pii.normalise_phone, _("手机号")),
                                       ("id", id_number, pii.normalise_id_number, _("身份证号"))):
            if raw:
                with contextlib.suppress(InputError):
                    _seen(keys, pii.match_key(kind, norm(raw)), row, where, label, errors)
        team = None
        if _text(r["志愿服务队"]):
            team = teams.get(_text(r["志愿服务队"]))
            if team is None:
                errors.append(where + _("志愿服务队：找不到“%(t)s”，请先在“志愿服务队”页面建立。") % {
                    "t": _text(r["志愿服务队"])})
        registered = _date(r["登记日期"]) if _text(r["登记日期"]) else timezone.localdate()
        if registered is None:
            errors.append(where + _("登记日期：格式应为 2026-05-20。"))
        if unit is None or registered is None:
            continue
        try:
            with transaction.atomic():
                vsvc.volunteer_register(
                    actor=actor, name=_text(r["姓名"]), org_unit=unit, phone=phone, id_number=id_number, team=team,
                    is_info_officer=_text(r["科普信息员"]).lower() in YES, skills=_text(r["服务专长"]),
                    registered_on=registered, publish=False)
            units.add(unit)
        except InputError as exc:
            errors += [where + e for e in exc.errors]
        except PermissionDenied as exc:
            errors.append(where + str(exc))
    if not errors:
        years = {timezone.localdate().year} | {
            d.year for d in Volunteer.objects.filter(registered_by=actor).values_list("registered_on", flat=True)}
        for unit in units:
            for year in sorted(years):
                indicators.volunteers_publish(unit=unit, year=year)
    return len(rows)


def _volunteer_by(phone: str, id_number: str) -> Volunteer | None:
    if phone:
        v = Volunteer.objects.filter(phone_key=pii.match_key("phone", pii.normalise_phone(phone))).first()
        if v is not None:
            return v
    if id_number:
        return Volunteer.objects.filter(id_key=pii.match_key("id", pii.normalise_id_number(id_number))).first()
    return None


def _import_records(actor: User, rows: list[tuple[int, dict[str, Any]]], errors: list[str]) -> int:
    for row, r in rows:
        where = _("第 %(row)s 行 ") % {"row": row}
        unit = _unit(_text(r["组织单位代码"]), actor, where, errors)
        try:
            volunteer = _volunteer_by(_text(r["志愿者手机号"]), _text(r["志愿者身份证号"]))
        except InputError:
            volunteer = None
        if volunteer is None:
            errors.append(where + _("志愿者：按手机号或身份证号找不到已登记的志愿者。"))
        start, end = _when(r["开始时间"]), _when(r["结束时间"])
        if start is None or end is None:
            errors.append(where + _("开始和结束时间：格式应为 2026-05-20 09:00。"))
        evaluation = _text(r["服务评价"])
        evaluation = EVAL_BY_LABEL.get(evaluation, evaluation)
        hours: Any = _text(r["服务时长"])
        if hours:
            try:
                Decimal(hours)
            except InvalidOperation:
                errors.append(where + _("服务时长：应为数字（小时）。"))
                continue
        if unit is None or volunteer is None or start is None or end is None:
            continue
        try:
            with transaction.atomic():
                vsvc.record_create(
                    actor=actor, volunteer=volunteer, org_unit=unit, organiser=_text(r["组织单位"]),
                    content=_text(r["服务内容"]), place=_text(r["服务地点"]), start=start, end=end, hours=hours or None,
                    training=_text(r["培训情况"]), awards=_text(r["表彰奖励"]), evaluation=evaluation)
        except InputError as exc:
            errors += [where + e for e in exc.errors]
        except PermissionDenied as exc:
            errors.append(where + str(exc))
    return len(rows)


def _import_teams(actor: User, rows: list[tuple[int, dict[str, Any]]], errors: list[str]) -> int:
    """Teams are looked up by name when volunteers are imported, so a name may appear only once per unit:
    twice in the file, or already registered there, is refused."""
    seen: dict[tuple[str, str], int] = {}
    for row, r in rows:
        where = _("第 %(row)s 行 ") % {"row": row}
        unit = _unit(_text(r["所属单位代码"]), actor, where, errors)
        name = _text(r["队伍名称"])
        label = _text(r["队伍类型"])
        kind = TEAM_KIND_BY_LABEL.get(label, label if label in TeamKind.values else "") if label else TeamKind.GENERAL
        if not kind:
            errors.append(where + _("队伍类型：无法识别“%(k)s”，应为 %(all)s。") % {
                "k": label, "all": "、".join(TEAM_KIND_BY_LABEL)})
        if unit is None or not kind:
            continue
        if name:
            key = (unit.code, name)
            if key in seen:
                errors.append(where + _("队伍名称：“%(n)s”与第 %(row)s 行相同。") % {"n": name, "row": seen[key]})
                continue
            seen[key] = row
            if VolunteerTeam.objects.filter(org_unit=unit, name=name).exists():
                errors.append(where + _("队伍名称：%(u)s 已有“%(n)s”。") % {"u": unit.name_zh, "n": name})
                continue
        try:
            with transaction.atomic():
                vsvc.team_create(actor=actor, name=name, kind=kind, org_unit=unit, leader=_text(r["负责人"]))
        except InputError as exc:
            errors += [where + e for e in exc.errors]
        except PermissionDenied as exc:
            errors.append(where + str(exc))
    return len(rows)


# -- export ------------------------------------------------------------------------------------------


def export(*, actor: User, kind: str, unmasked: bool = False) -> bytes:
    """The registry rows in the actor's scope, with the import's columns (so a file can go back in).
    Unmasked phone and ID numbers only for office admins, audited."""
    from openpyxl import Workbook

    if kind not in KINDS:
        raise InputError(_("无法识别的导出类型。"))
    if kind == "teams":
        unmasked = False  # no personal data in the team list
    if unmasked and not scope_for(actor).is_office_admin:
        raise PermissionDenied(_("只有领导小组办公室管理员可以导出完整的手机号和身份证号。"))
    wb = Workbook()
    ws = wb.active
    ws.title = {"experts": "专家库", "volunteers": "志愿者", "records": "服务记录", "teams": "志愿服务队"}[kind]
    ws.append(KINDS[kind] + (["状态"] if kind == "records" else []))

    def phone(enc: str, masked: str) -> str:
        return pii.decrypt(enc) if unmasked else masked

    n = 0
    if kind == "experts":
        role_names = {v: str(label) for v, label in ExpertRole.choices}
        for e in selectors.experts_visible(actor).filter(active=True):
            ws.append([e.name, e.organisation, e.title, "、".join(e.fields), e.specialities, "、".join(e.languages),
                       e.availability, "、".join(role_names.get(r, r) for r in e.roles), e.org_unit.code,
                       phone(e.phone_enc, e.phone_masked)])
            n += 1
    elif kind == "volunteers":
        for v in vsvc.volunteers_visible(actor).filter(vsvc.Q_managed(actor)):
            ws.append([v.name, v.org_unit.code, phone(v.phone_enc, v.phone_masked), phone(v.id_enc, v.id_masked),
                       "是" if v.is_info_officer else "否", v.skills, v.team.name if v.team else "",
                       v.registered_on.isoformat()])
            n += 1
    elif kind == "teams":
        for t in vsvc.teams_visible(actor).filter(vsvc.Q_managed(actor)):
            ws.append([t.name, t.get_kind_display(), t.org_unit.code, t.leader])
            n += 1
    else:
        eval_names = {v: str(label) for v, label in Evaluation.choices}
        status_names = {v: str(label) for v, label in ServiceRecord.Status.choices}
        for r in vsvc.records_visible(actor).filter(vsvc.Q_managed(actor)):
            v = r.volunteer
            ws.append([phone(v.phone_enc, v.phone_masked), phone(v.id_enc, v.id_masked), r.org_unit.code, r.organiser,
                       r.content, r.place, timezone.localtime(r.start).strftime("%Y-%m-%d %H:%M"),
                       timezone.localtime(r.end).strftime("%Y-%m-%d %H:%M"), float(r.hours), r.training, r.awards,
                       eval_names.get(r.evaluation, ""), status_names[r.status]])
            n += 1
    if unmasked:
        audit_record(actor=actor, action=f"community.export_unmasked_{kind}", obj=actor, label=ws.title,
                     changes={"rows": (None, n)}, comment=_("导出了完整的手机号和身份证号"))
    return xlsx_bytes(wb)
