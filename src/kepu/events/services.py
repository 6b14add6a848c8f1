"""Writes of the events app: series and the campaign calendar (office), events and trainings,
registration (citizens themselves, walk-ins at the door), QR check-in (idempotent by the client's id),
certification of training attendees, feedback, evidence photos, 科技特派员 assignments and visits.

Every write is transactional and audited. A district officer (district_reporter) manages only the
events of their district; the office (office_admin) manages all. Certifying, checking in and logging
visits publish the plan indicators they feed in the same transaction (kepu.events.indicators)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.citizens.models import KEY_GROUPS
from kepu.citizens.selectors import citizen_of
from kepu.core import pii
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.evidence import evidence_store
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.events import indicators
from kepu.events.models import (
    Assignment,
    CampaignDay,
    CheckIn,
    Event,
    EventPhoto,
    Feedback,
    Registration,
    Series,
    TrainingKind,
    Visit,
)
from kepu.plans.derived import ancestor_at

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)
# A scan is accepted from this long before the start until this long after the end.
CHECKIN_TOLERANCE = dt.timedelta(minutes=30)
# A device clock ahead of the server's by more than this is not trusted.
CLOCK_SKEW = dt.timedelta(minutes=5)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
KEY_GROUP_CODES = [c for c, _label in KEY_GROUPS]


# -- scope -------------------------------------------------------------------------------------------


def can_manage(user: User | None, unit: OrgUnit) -> bool:
    return user is not None and scope_for(user).covers(unit, MANAGE_ROLES)


def require_manage(user: User | None, unit: OrgUnit) -> None:
    if not can_manage(user, unit):
        raise PermissionDenied(_("您只能管理本辖区的活动。"))


def require_office(user: User | None) -> None:
    if user is None or not scope_for(user).is_office_admin:
        raise PermissionDenied(_("只有科普办管理员可以修改品牌系列和活动日历。"))


def district_of(unit: OrgUnit) -> OrgUnit:
    """The district of a unit, or the city itself for a city-level event."""
    return ancestor_at(unit, OrgUnit.Level.DISTRICT) or ancestor_at(unit, OrgUnit.Level.CITY) or unit


def _year(at: dt.datetime) -> int:
    return timezone.localtime(at).year


# -- series and calendar -----------------------------------------------------------------------------


@transaction.atomic
def series_save(
    *, actor: User, code: str, name_zh: str, name_en: str = "", description: str = "", active: bool = True
) -> Series:
    require_office(actor)
    if not code.strip() or not name_zh.strip():
        raise InputError(_("品牌系列需要代码和中文名称。"))
    series, created = Series.objects.get_or_create(code=code.strip(), defaults={"name_zh": name_zh.strip()})
    old = {
        "name_zh": series.name_zh,
        "name_en": series.name_en,
        "description": series.description,
        "active": series.active,
    }
    series.name_zh, series.name_en, series.description, series.active = name_zh.strip(), name_en, description, active
    series.save()
    new = {
        "name_zh": series.name_zh,
        "name_en": series.name_en,
        "description": series.description,
        "active": series.active,
    }
    changes = {k: (None if created else old[k], v) for k, v in new.items() if created or old[k] != v}
    audit_record(actor=actor, action="events.series_save", obj=series, changes=changes)
    return series


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def calendar_defaults(year: int) -> list[dict[str, Any]]:
    """The usual national and city campaign days of a year; the office corrects the dates each year
    when the national notices fix them."""
    sci_day = _nth_weekday(year, 9, 5, 3)  # 全国科普日: around the third Saturday of September
    tech_week = _nth_weekday(year, 5, 5, 3)  # 科技活动周: a week from the third Saturday of May
    return [
        {
            "code": "meteorology-day",
            "name_zh": "世界气象日",
            "name_en": "World Meteorological Day",
            "start": dt.date(year, 3, 23),
            "end": dt.date(year, 3, 23),
        },
        {
            "code": "disaster-day",
            "name_zh": "防灾减灾日",
            "name_en": "Disaster Prevention and Reduction Day",
            "start": dt.date(year, 5, 12),
            "end": dt.date(year, 5, 12),
        },
        {
            "code": "tech-week",
            "name_zh": "科技活动周",
            "name_en": "Science and Technology Week",
            "start": tech_week,
            "end": tech_week + dt.timedelta(days=7),
        },
        {
            "code": "sci-day",
            "name_zh": "全国科普日",
            "name_en": "National Science Popularisation Day",
            "start": sci_day - dt.timedelta(days=5),
            "end": sci_day + dt.timedelta(days=1),
        },
        {
            "code": "city-sci-week",
            "name_zh": "常州市科普宣传周",
            "name_en": "Changzhou Science Week",
            "start": sci_day - dt.timedelta(days=5),
            "end": sci_day + dt.timedelta(days=1),
            "note": "与全国科普日同期举办",
        },
    ]


@transaction.atomic
def campaign_day_save(
    *, actor: User, year: int, code: str, name_zh: str, start: dt.date, end: dt.date, name_en: str = "", note: str = ""
) -> CampaignDay:
    require_office(actor)
    if end < start:
        raise InputError(_("活动日历“%(name)s”：结束日期早于开始日期。") % {"name": name_zh})
    if start.year != year:
        raise InputError(_("活动日历“%(name)s”：开始日期不在 %(year)s 年。") % {"name": name_zh, "year": year})
    day = CampaignDay.objects.filter(year=year, code=code).first()
    old = None if day is None else (day.name_zh, str(day.start), str(day.end), day.note)
    if day is None:
        day = CampaignDay(year=year, code=code)
    day.name_zh, day.name_en, day.start, day.end, day.note = name_zh, name_en, start, end, note
    day.save()
    new = (day.name_zh, str(day.start), str(day.end), day.note)
    if old != new:
        audit_record(
            actor=actor, action="events.calendar_save", obj=day, changes={"name_zh, start, end, note": (old, new)}
        )
    return day


@transaction.atomic
def campaign_day_delete(*, actor: User, day: CampaignDay) -> None:
    require_office(actor)
    audit_record(
        actor=actor, action="events.calendar_delete", obj=day, changes={"dates": ((str(day.start), str(day.end)), None)}
    )
    day.delete()


@transaction.atomic
def calendar_seed_year(*, actor: User, year: int) -> list[CampaignDay]:
    """Create the year's default campaign days that do not exist yet (existing ones are kept)."""
    require_office(actor)
    out = []
    for d in calendar_defaults(year):
        if not CampaignDay.objects.filter(year=year, code=d["code"]).exists():
            out.append(campaign_day_save(actor=actor, year=year, **d))
    return out


# -- events ------------------------------------------------------------------------------------------


def clean_event(data: dict[str, Any], where: str = "") -> list[str]:
    errors = []
    p = where
    if not str(data.get("title") or "").strip():
        errors.append(_("%(p)s活动名称：必填。") % {"p": p})
    if not str(data.get("organiser") or "").strip():
        errors.append(_("%(p)s主办单位：必填。") % {"p": p})
    if not str(data.get("venue") or "").strip():
        errors.append(_("%(p)s地点：必填。") % {"p": p})
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts, dt.datetime) or not isinstance(ends, dt.datetime):
        errors.append(_("%(p)s开始和结束时间：需要日期和时间，例如 2026-09-19 09:00。") % {"p": p})
    elif ends <= starts:
        errors.append(_("%(p)s结束时间：应晚于开始时间。") % {"p": p})
    kind = data.get("kind") or Event.Kind.EVENT
    tk = data.get("training_kind") or ""
    if kind not in Event.Kind.values:
        errors.append(_("%(p)s类型：应为“科普活动”或“培训”。") % {"p": p})
    elif kind == Event.Kind.TRAINING and tk not in TrainingKind.values:
        errors.append(_("%(p)s培训类别：培训必须选择培训类别。") % {"p": p})
    elif kind == Event.Kind.EVENT and tk:
        errors.append(_("%(p)s培训类别：普通活动不填培训类别。") % {"p": p})
    groups = data.get("key_groups") or []
    bad = [g for g in groups if g not in KEY_GROUP_CODES]
    if bad:
        errors.append(_("%(p)s重点人群：不认识 %(bad)s。") % {"p": p, "bad": "、".join(map(str, bad))})
    setting = data.get("setting") or ""
    if setting not in ("", *Event.Setting.values):
        errors.append(
            _("%(p)s面向场景（五进）：应为进企业、进农村、进社区、进学校、进家庭之一，或不填，得到“%(v)s”。")
            % {"p": p, "v": str(setting)[:20]}
        )
    cap = data.get("capacity") or 0
    if not isinstance(cap, int) or cap < 0 or cap > 1_000_000:
        errors.append(_("%(p)s容量：应为 0 到 1000000 的整数（0 表示不限）。") % {"p": p})
    for field, label, n in (
        ("title", _("活动名称"), 200),
        ("organiser", _("主办单位"), 200),
        ("venue", _("地点"), 200),
    ):
        if len(str(data.get(field) or "")) > n:
            errors.append(_("%(p)s%(f)s：最长 %(n)s 个字符。") % {"p": p, "f": label, "n": n})
    return errors


EVENT_FIELDS = (
    "series",
    "title",
    "kind",
    "training_kind",
    "organiser",
    "org_unit",
    "venue",
    "starts_at",
    "ends_at",
    "capacity",
    "key_groups",
    "setting",
    "task",
)


@transaction.atomic
def event_create(*, actor: User, org_unit: OrgUnit, **data: Any) -> Event:
    """Create an event or training in a unit the actor manages. `data`: the EVENT_FIELDS but org_unit."""
    require_manage(actor, org_unit)
    errors = clean_event(data)
    if errors:
        raise InputError(errors[0], errors=errors)
    event = Event.objects.create(
        series=data.get("series"),
        title=data["title"].strip(),
        kind=data.get("kind") or Event.Kind.EVENT,
        training_kind=data.get("training_kind") or "",
        organiser=data["organiser"].strip(),
        org_unit=org_unit,
        district=district_of(org_unit),
        venue=data["venue"].strip(),
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        capacity=data.get("capacity") or 0,
        key_groups=list(data.get("key_groups") or []),
        setting=data.get("setting") or "",
        task=data.get("task"),
        created_by=actor,
    )
    changes = {"title": (None, event.title), "starts_at": (None, event.starts_at.isoformat())}
    if event.setting:
        changes["setting"] = (None, event.setting)
    audit_record(actor=actor, action="events.event_create", obj=event, org_unit=org_unit, changes=changes)
    return event


@transaction.atomic
def event_update(*, actor: User, event: Event, **data: Any) -> Event:
    require_manage(actor, event.org_unit)
    unit = data.pop("org_unit", None) or event.org_unit
    require_manage(actor, unit)
    merged = {f: getattr(event, f) for f in EVENT_FIELDS if f != "org_unit"} | data
    if merged.get("setting") is None:
        merged["setting"] = ""
    errors = clean_event(merged)
    if errors:
        raise InputError(errors[0], errors=errors)
    old_year, old_district, old_kind = _year(event.starts_at), event.district, event.training_kind
    changes = {}
    for f, v in merged.items():
        if getattr(event, f) != v:
            changes[f] = (str(getattr(event, f)), str(v))
            setattr(event, f, v)
    if unit != event.org_unit:
        changes["org_unit"] = (event.org_unit.code, unit.code)
        event.org_unit, event.district = unit, district_of(unit)
    event.save()
    audit_record(actor=actor, action="events.event_update", obj=event, org_unit=event.org_unit, changes=changes)
    _republish_event(event, old_year, old_kind, old_district)
    return event


def _republish_event(event: Event, old_year: int, old_kind: str, old_district: OrgUnit) -> None:
    """After an edit: the indicators of the event's old and new year, training kind and district
    (the old district is named even when it has no event left, so it drops to 0)."""
    also = [old_district.code]
    for year in {old_year, _year(event.starts_at)}:
        indicators.attendance_publish(unit=event.district, year=year, also=also)
        for kind in {old_kind, event.training_kind} - {""}:
            indicators.training_publish(unit=event.district, year=year, training_kind=kind, also=also)


@transaction.atomic
def event_cancel(*, actor: User, event: Event) -> Event:
    require_manage(actor, event.org_unit)
    if event.status == Event.Status.CANCELLED:
        return event
    event.status = Event.Status.CANCELLED
    event.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="events.event_cancel",
        obj=event,
        org_unit=event.org_unit,
        changes={"status": (Event.Status.PLANNED, Event.Status.CANCELLED)},
    )
    indicators.attendance_publish(unit=event.district, year=_year(event.starts_at))
    if event.kind == Event.Kind.TRAINING:
        indicators.training_publish(unit=event.district, year=_year(event.starts_at), training_kind=event.training_kind)
    return event


# -- registration ------------------------------------------------------------------------------------


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(10))
        if not Registration.objects.filter(code=code).exists():
            return code


def _check_open(event: Event) -> None:
    if event.status == Event.Status.CANCELLED:
        raise InputError(_("活动“%(t)s”已取消，不能报名。") % {"t": event.title})
    if event.capacity and event.registrations.count() >= event.capacity:
        raise InputError(_("活动“%(t)s”已满（容量 %(n)s 人）。") % {"t": event.title, "n": event.capacity})


def _phone_parts(raw: str, where: str = "") -> tuple[str, str, str]:
    try:
        phone = pii.normalise_phone(raw)
    except InputError as exc:
        raise InputError(
            _("%(p)s手机号：需要 11 位手机号或带区号的固定电话，得到“%(v)s”。")
            % {"p": where, "v": pii.mask_phone(str(raw or ""))}
        ) from exc
    return pii.encrypt(phone), pii.match_key("phone", phone), pii.mask_phone(phone)


def _citizen_label(user: User) -> str:
    """How a citizen appears on the attendee list: their username, or masked when it is a phone number."""
    name = user.get_full_name() or user.get_username()
    try:
        return pii.mask_phone(pii.normalise_phone(name))
    except InputError:
        return name[:60]


@transaction.atomic
def registration_self(*, user: User, event: Event, key_group: str = "") -> Registration:
    """A citizen registers themselves (once per event)."""
    citizen = citizen_of(user)
    if citizen is None:
        raise PermissionDenied(_("请用市民账户报名。"))
    existing = event.registrations.filter(citizen_user=user).first()
    if existing is not None:
        return existing
    Event.objects.select_for_update(of=("self",)).filter(pk=event.pk).first()
    _check_open(event)
    enc = key = masked = ""
    if citizen.phone:
        try:
            enc, key, masked = _phone_parts(citizen.phone)
        except InputError:
            enc = key = masked = ""
    if key and event.registrations.filter(phone_key=key).exists():
        raise InputError(_("您的手机号 %(m)s 已在本活动登记（现场登记）。") % {"m": masked})
    group = key_group or (citizen.key_groups[0] if citizen.key_groups else "")
    if group and group not in KEY_GROUP_CODES:
        raise InputError(_("重点人群：不认识 %(g)s。") % {"g": group})
    reg = Registration.objects.create(
        event=event,
        citizen_user=user,
        name=_citizen_label(user),
        phone_enc=enc,
        phone_key=key,
        phone_masked=masked,
        key_group=group,
        code=_new_code(),
        walk_in=False,
        registered_by=user,
    )
    audit_record(
        actor=user,
        action="events.register",
        obj=reg,
        org_unit=event.org_unit,
        changes={"event": (None, event.pk)},
        label=f"{event.title} {reg.code}",
    )
    return reg


@transaction.atomic
def registration_walk_in(
    *, actor: User, event: Event, name: str, phone: str, key_group: str = "", where: str = ""
) -> Registration:
    """The organiser registers a walk-in at the door. The same phone (however written) twice in one
    event is refused, naming the masked number."""
    require_manage(actor, event.org_unit)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InputError(_("%(p)s姓名：必填，最长 60 个字符。") % {"p": where})
    if key_group and key_group not in KEY_GROUP_CODES:
        raise InputError(_("%(p)s重点人群：不认识“%(g)s”。") % {"p": where, "g": key_group})
    enc, key, masked = _phone_parts(phone, where)
    if event.registrations.filter(phone_key=key).exists():
        raise InputError(_("%(p)s手机号 %(m)s 已在本活动登记，同一人不能重复登记。") % {"p": where, "m": masked})
    _check_open(event)
    reg = Registration.objects.create(
        event=event,
        name=name,
        phone_enc=enc,
        phone_key=key,
        phone_masked=masked,
        key_group=key_group,
        code=_new_code(),
        walk_in=True,
        registered_by=actor,
    )
    audit_record(
        actor=actor,
        action="events.walk_in",
        obj=reg,
        org_unit=event.org_unit,
        changes={"event": (None, event.pk), "phone": (None, masked)},
        label=f"{event.title} {reg.code}",
    )
    return reg


# -- check-in ----------------------------------------------------------------------------------------


def checkin_window(event: Event) -> tuple[dt.datetime, dt.datetime]:
    return event.starts_at - CHECKIN_TOLERANCE, event.ends_at + CHECKIN_TOLERANCE


@transaction.atomic
def checkin_record(
    *, actor: User, code: str, client_id: str, at: dt.datetime | None = None, event: Event | None = None
) -> tuple[CheckIn, bool]:
    """Check a registration in by its code. Returns (check-in, created). A replay (same client id) or
    a second scan of the same registration returns the existing check-in and creates nothing. A
    scan outside the event's window (± CHECKIN_TOLERANCE), or dated in the future, is refused."""
    client_id = (client_id or "").strip()
    if not (8 <= len(client_id) <= 64):
        raise InputError(_("签到编号无效：需要 8–64 个字符的客户端编号。"))
    code = (code or "").strip().upper().replace(" ", "")
    earlier = CheckIn.objects.select_related("registration__event__org_unit").filter(client_id=client_id).first()
    if earlier is not None:
        require_manage(actor, earlier.registration.event.org_unit)
        if earlier.registration.code != code:
            raise InputError(_("签到编号 %(c)s 已用于另一条签到。") % {"c": client_id})
        return earlier, False
    reg = Registration.objects.select_related("event__org_unit", "event__district").filter(code=code).first()
    if reg is None or (event is not None and reg.event_id != event.pk):
        raise InputError(_("签到码 %(c)s 不是本活动的报名码。") % {"c": code or "—"})
    ev = reg.event
    require_manage(actor, ev.org_unit)
    if ev.status == Event.Status.CANCELLED:
        raise InputError(_("活动“%(t)s”已取消，不能签到。") % {"t": ev.title})
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise InputError(
            _("签到时间 %(at)s 晚于服务器当前时间，请检查设备时钟。")
            % {"at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")}
        )
    lo, hi = checkin_window(ev)
    if not (lo <= at <= hi):
        raise InputError(
            _("签到时间 %(at)s 不在活动时间内（可签到时间 %(lo)s 至 %(hi)s）。")
            % {
                "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
                "lo": timezone.localtime(lo).strftime("%Y-%m-%d %H:%M"),
                "hi": timezone.localtime(hi).strftime("%Y-%m-%d %H:%M"),
            }
        )
    existing = CheckIn.objects.filter(registration=reg).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            checkin = CheckIn.objects.create(registration=reg, client_id=client_id, at=at, by=actor)
    except IntegrityError:  # the same scan arriving twice at once: the other request stored it
        again = CheckIn.objects.filter(registration=reg).first() or CheckIn.objects.filter(client_id=client_id).first()
        if again is None:
            raise
        return again, False
    audit_record(
        actor=actor,
        action="events.checkin",
        obj=checkin,
        org_unit=ev.org_unit,
        changes={"registration": (None, reg.code)},
        label=f"{ev.title} {reg.code}",
    )
    indicators.attendance_publish(unit=ev.district, year=_year(ev.starts_at))
    return checkin, True


# -- certification -----------------------------------------------------------------------------------


@transaction.atomic
def registrations_certify(
    *, actor: User, event: Event, registrations: Iterable[Registration], certified: bool = True
) -> int:
    """Certify (or decertify) attendees of a training who completed it. Only checked-in attendees; the
    certifier manages the event's unit and is not registered in it as an attendee. Moves the
    training's plan indicators at once. Returns how many changed."""
    require_manage(actor, event.org_unit)
    if event.kind != Event.Kind.TRAINING:
        raise InputError(_("只有培训可以认定结业。"))
    if event.registrations.filter(citizen_user=actor).exists():
        raise PermissionDenied(_("您本人报名参加了这个培训，不能认定本培训的结业。"))
    regs = list(
        Registration.objects.select_for_update(of=("self",))
        .filter(pk__in=[r.pk for r in registrations], event=event)
        .select_related("checkin")
    )
    changed = 0
    errors = []
    for reg in regs:
        if certified and not hasattr(reg, "checkin"):
            errors.append(_("%(n)s（%(c)s）没有签到，不能认定结业。") % {"n": reg.name, "c": reg.code})
    if errors:
        raise InputError(errors[0], errors=errors)
    now = timezone.now()
    for reg in regs:
        if certified == (reg.certified_at is not None):
            continue
        old = reg.certified_at
        reg.certified_at, reg.certified_by = (now, actor) if certified else (None, None)
        reg.save(update_fields=["certified_at", "certified_by"])
        audit_record(
            actor=actor,
            action="events.certify" if certified else "events.decertify",
            obj=reg,
            org_unit=event.org_unit,
            label=f"{event.title} {reg.code}",
            changes={"certified_at": (old.isoformat() if old else None, now.isoformat() if certified else None)},
        )
        changed += 1
    if changed:
        indicators.training_publish(unit=event.district, year=_year(event.starts_at), training_kind=event.training_kind)
    return changed


# -- feedback and photos -----------------------------------------------------------------------------


@transaction.atomic
def feedback_give(*, user: User, registration: Registration, rating: int, comment: str = "") -> Feedback:
    """An attendee (their own, checked-in registration) rates the event; a second time replaces it."""
    if registration.citizen_user_id != user.pk:
        raise PermissionDenied(_("只能评价自己参加的活动。"))
    if not hasattr(registration, "checkin"):
        raise InputError(_("签到参加活动后才能评价。"))
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InputError(_("评分：应为 1 到 5 的整数。"))
    if len(comment or "") > 500:
        raise InputError(_("意见：最长 500 个字符。"))
    fb, _created = Feedback.objects.update_or_create(
        registration=registration, defaults={"rating": rating, "comment": comment or ""}
    )
    audit_record(actor=user, action="events.feedback", obj=fb, changes={"rating": (None, rating)})
    return fb


@transaction.atomic
def photo_add(*, actor: User, event: Event, upload: Any, caption: str = "") -> EventPhoto:
    require_manage(actor, event.org_unit)
    name = str(getattr(upload, "name", "") or "").lower()
    if not name.endswith((".jpg", ".jpeg", ".png")):
        raise InputError(_("现场照片只接受 JPEG 或 PNG 图片。"))
    evidence = evidence_store(upload, actor)
    photo = EventPhoto.objects.create(event=event, evidence=evidence, caption=caption[:200], uploaded_by=actor)
    audit_record(
        actor=actor,
        action="events.photo_add",
        obj=photo,
        org_unit=event.org_unit,
        changes={"evidence": (None, evidence.pk)},
    )
    return photo


# -- 科技特派员 -----------------------------------------------------------------------------------------


@transaction.atomic
def assignment_create(
    *,
    actor: User,
    org_unit: OrgUnit,
    start: dt.date,
    households: int = 0,
    expert_user: User | None = None,
    technician_name: str = "",
    end: dt.date | None = None,
    speciality: str = "",
) -> Assignment:
    """Assign a talent-pool expert (by account) or a named technician to a village or town."""
    from kepu.community.selectors import expert_profile

    require_manage(actor, org_unit)
    if org_unit.level not in (OrgUnit.Level.TOWN, OrgUnit.Level.VILLAGE):
        raise InputError(_("包村联户的地点应是镇(街道)或村(社区)。"))
    technician_name = (technician_name or "").strip()
    if (expert_user is None) == (not technician_name):
        raise InputError(_("请选择人才库专家，或填写农技员姓名（二选一）。"))
    if expert_user is not None and expert_profile(expert_user) is None:
        raise InputError(_("账户 %(u)s 不是人才库中的专家。") % {"u": expert_user.get_username()})
    if not isinstance(households, int) or households < 0:
        raise InputError(_("联系户数：应为非负整数。"))
    if end is not None and end < start:
        raise InputError(_("结束日期早于开始日期。"))
    a = Assignment.objects.create(
        expert_user=expert_user,
        technician_name=technician_name,
        org_unit=org_unit,
        district=district_of(org_unit),
        households=households,
        start=start,
        end=end,
        speciality=speciality[:100],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="events.assignment_create",
        obj=a,
        org_unit=org_unit,
        changes={"households": (None, households)},
    )
    return a


@transaction.atomic
def visit_log(
    *,
    actor: User,
    assignment: Assignment,
    date: dt.date,
    village: OrgUnit | None = None,
    households_visited: int = 0,
    content: str,
) -> Visit:
    require_manage(actor, assignment.org_unit)
    village = village or assignment.org_unit
    if not village.path.startswith(assignment.org_unit.path):
        raise InputError(_("走访地点应在派驻的%(u)s范围内。") % {"u": assignment.org_unit.name_zh})
    if date > timezone.localdate():
        raise InputError(_("走访日期不能晚于今天。"))
    if date < assignment.start or (assignment.end is not None and date > assignment.end):
        raise InputError(_("走访日期不在派驻期内。"))
    if not (content or "").strip():
        raise InputError(_("指导内容：必填。"))
    v = Visit.objects.create(
        assignment=assignment,
        date=date,
        village=village,
        households_visited=households_visited,
        content=content.strip()[:500],
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="events.visit_log",
        obj=v,
        org_unit=village,
        changes={"households_visited": (None, households_visited)},
    )
    indicators.technicians_publish(unit=assignment.district, year=date.year)
    return v


@transaction.atomic
def visit_delete(*, actor: User, visit: Visit) -> None:
    require_manage(actor, visit.assignment.org_unit)
    year, district = visit.date.year, visit.assignment.district
    audit_record(
        actor=actor,
        action="events.visit_delete",
        obj=visit,
        org_unit=visit.village,
        changes={"date": (str(visit.date), None)},
    )
    visit.delete()
    indicators.technicians_publish(unit=district, year=year)
