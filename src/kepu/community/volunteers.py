"""Volunteers (科技志愿者, 科普信息员), teams and service records (志愿服务记录), and the certificates of
approved hours. Every write is one transaction, audited, and republishes the plan indicators it moves
(kepu.community.indicators) in the same commit.

Rules:
- an office admin or a district officer (district_reporter) manages the volunteers, teams and records
  of the units in their scope; a citizen registers themself and submits their own hours;
- hours go pending → approved / rejected (with a reason); approved ones may be revoked (with a reason),
  which invalidates every certificate that counted them; nobody decides on a record they submitted or
  on their own hours;
- a volunteer's records may not overlap in time (pending and approved ones count);
- the same person (normalised phone or ID number) is registered once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.community import indicators
from kepu.community.volunteer_models import (
    Certificate,
    Evaluation,
    ServiceRecord,
    TeamKind,
    Volunteer,
    VolunteerTeam,
)
from kepu.core import pii
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.plans.derived import ancestor_at

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)
CERT_SALT = "kepu.community.certificate.v1"
MAX_RECORD_HOURS = Decimal("24")


def can_manage(user: User | AnonymousUser, unit: OrgUnit) -> bool:
    return scope_for(user).covers(unit, MANAGE_ROLES)


def manages_any(user: User | AnonymousUser) -> bool:
    s = scope_for(user)
    return s.superuser or any(s.paths.get(r) for r in MANAGE_ROLES)


def managed_units(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope_for(user).unit_filter(roles=MANAGE_ROLES)).order_by("path")


def Q_managed(user: User | AnonymousUser, prefix: str = "org_unit__") -> Q:
    """Rows whose unit the user manages (not merely their own)."""
    return scope_for(user).unit_filter(prefix, roles=MANAGE_ROLES)


def district_of(unit: OrgUnit) -> OrgUnit | None:
    return ancestor_at(unit, OrgUnit.Level.DISTRICT)


# -- reads (scope applied) --------------------------------------------------------------------------


def volunteers_visible(user: User | AnonymousUser) -> QuerySet[Volunteer]:
    """Managers see their units' volunteers; anyone else only their own registration."""
    q = scope_for(user).unit_filter("org_unit__", roles=MANAGE_ROLES)
    if user.is_authenticated:
        q |= Q(user_id=user.pk)
    return Volunteer.objects.filter(q).select_related("org_unit", "team")


def records_visible(user: User | AnonymousUser) -> QuerySet[ServiceRecord]:
    q = scope_for(user).unit_filter("org_unit__", roles=MANAGE_ROLES)
    if user.is_authenticated:
        q |= Q(volunteer__user_id=user.pk)
    return ServiceRecord.objects.filter(q).select_related("volunteer", "org_unit", "submitted_by", "decided_by")


def teams_visible(user: User | AnonymousUser) -> QuerySet[VolunteerTeam]:
    return VolunteerTeam.objects.filter(scope_for(user).unit_filter("org_unit__", roles=MANAGE_ROLES)).select_related(
        "org_unit")


def certificates_visible(user: User | AnonymousUser) -> QuerySet[Certificate]:
    q = scope_for(user).unit_filter("volunteer__org_unit__", roles=MANAGE_ROLES)
    if user.is_authenticated:
        q |= Q(volunteer__user_id=user.pk)
    return Certificate.objects.filter(q).select_related("volunteer")


def volunteer_of(user: User | AnonymousUser) -> Volunteer | None:
    if not user.is_authenticated:
        return None
    return Volunteer.objects.filter(user_id=user.pk).select_related("org_unit", "team").first()


def volunteer_search(qs: QuerySet[Volunteer], text: str) -> QuerySet[Volunteer]:
    text = text.strip()
    if not text:
        return qs
    return qs.filter(Q(name__icontains=text) | Q(skills__icontains=text) | Q(team__name__icontains=text)
                     | Q(org_unit__name_zh__icontains=text))


# -- people ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Validated personal data of one volunteer: normalised values and their keys."""

    phone: str
    phone_key: str
    id_number: str
    id_key: str


def person_check(
    *, phone: str, id_number: str, where: str = "", exclude: int | None = None
) -> tuple[Person, list[str]]:
    """Normalise and check a phone and an ID number; errors name the field (prefixed by `where`, e.g.
    "第 3 行 ") and a person already registered (same normalised phone or ID number)."""
    errors: list[str] = []
    norm_phone = norm_id = ""
    if phone.strip():
        try:
            norm_phone = pii.normalise_phone(phone)
        except InputError:
            errors.append(where + _("手机号：应为 11 位手机号（13–19 开头）或带区号的固定电话。"))
    if id_number.strip():
        try:
            norm_id = pii.normalise_id_number(id_number)
        except InputError:
            errors.append(where + _("身份证号：应为 18 位（17 位数字加 1 位数字或 X），且校验位正确。"))
    pk = pii.match_key("phone", norm_phone) if norm_phone else ""
    ik = pii.match_key("id", norm_id) if norm_id else ""
    others = Volunteer.objects.exclude(pk=exclude) if exclude else Volunteer.objects.all()
    if pk and others.filter(phone_key=pk).exists():
        errors.append(where + _("手机号 %(phone)s 已登记为志愿者：同一人不能重复登记。") % {
            "phone": pii.mask_phone(norm_phone)})
    if ik and others.filter(id_key=ik).exists():
        errors.append(where + _("身份证号 %(id)s 已登记为志愿者：同一人不能重复登记。") % {
            "id": pii.mask_id_number(norm_id)})
    return Person(norm_phone, pk, norm_id, ik), errors


def _publish_volunteers(unit: OrgUnit, year: int) -> None:
    indicators.volunteers_publish(unit=unit, year=year)
    today = timezone.localdate().year
    if year != today:
        indicators.volunteers_publish(unit=unit, year=today)


@transaction.atomic
def team_create(*, actor: User, name: str, kind: str, org_unit: OrgUnit, leader: str = "") -> VolunteerTeam:
    if not can_manage(actor, org_unit):
        raise PermissionDenied(_("您无权管理该单位的志愿服务队。"))
    errors = []
    if not name.strip():
        errors.append(_("队伍名称：必填。"))
    if kind not in TeamKind.values:
        errors.append(_("队伍类型：无法识别。"))
    if errors:
        raise InputError(errors[0], errors=errors)
    team = VolunteerTeam.objects.create(name=name.strip()[:100], kind=kind, org_unit=org_unit,
                                        leader=leader.strip()[:60])
    audit_record(actor=actor, action="volunteer_team.create", obj=team, org_unit=org_unit,
                 changes={"name": (None, team.name), "kind": (None, kind)})
    return team


@transaction.atomic
def volunteer_register(
    *,
    actor: User,
    name: str,
    org_unit: OrgUnit,
    phone: str = "",
    id_number: str = "",
    team: VolunteerTeam | None = None,
    is_info_officer: bool = False,
    skills: str = "",
    user: User | None = None,
    registered_on: dt.date | None = None,
    publish: bool = True,
) -> Volunteer:
    """Register a volunteer. An officer registers anyone in their units; a citizen registers
    themself (`user` is the actor, or None). A person already registered (same normalised phone or ID
    number, or the same account) is refused."""
    self_registration = not can_manage(actor, org_unit)
    if self_registration:
        if getattr(actor, "citizen", None) is None or (user is not None and user.pk != actor.pk):
            raise PermissionDenied(_("您无权为该单位登记志愿者。"))
        user = actor
        if org_unit.level not in (OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN):
            raise InputError(_("所在辖市（区）：请选择一个辖市（区）或镇（街道）。"))
    errors = []
    if not name.strip():
        errors.append(_("姓名：必填。"))
    if not phone.strip() and not id_number.strip():
        errors.append(_("手机号和身份证号：至少填写一项，用来确认是同一个人。"))
    person, problems = person_check(phone=phone, id_number=id_number)
    errors += problems
    if user is not None and Volunteer.objects.filter(user=user).exists():
        errors.append(_("该账号已登记为志愿者。"))
    if team is not None and team.org_unit.path and not org_unit.path.startswith(team.org_unit.path) \
            and not team.org_unit.path.startswith(org_unit.path):
        errors.append(_("志愿服务队：须是本辖市（区）的队伍。"))
    if errors:
        raise InputError(errors[0], errors=errors)
    v = Volunteer.objects.create(
        name=name.strip()[:60], org_unit=org_unit, team=team, is_info_officer=is_info_officer, skills=skills[:200],
        phone_enc=pii.encrypt(person.phone), phone_key=person.phone_key,
        phone_masked=pii.mask_phone(person.phone) if person.phone else "",
        id_enc=pii.encrypt(person.id_number), id_key=person.id_key,
        id_masked=pii.mask_id_number(person.id_number) if person.id_number else "",
        user=user, registered_on=registered_on or timezone.localdate(), registered_by=actor,
    )
    audit_record(actor=actor, action="volunteer.register", obj=v, org_unit=org_unit, label=v.masked_name,
                 changes={"name": (None, v.masked_name), "org_unit": (None, org_unit.code),
                          "is_info_officer": (None, is_info_officer)},
                 comment=_("本人登记") if self_registration else "")
    if publish:
        _publish_volunteers(org_unit, v.registered_on.year)
    return v


@transaction.atomic
def volunteer_update(*, actor: User, volunteer: Volunteer, data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Change team, info-officer flag, skills or active (officers of the volunteer's unit)."""
    if not can_manage(actor, volunteer.org_unit):
        raise PermissionDenied(_("您无权管理该志愿者。"))
    changes: dict[str, tuple[Any, Any]] = {}
    for name in ("team", "is_info_officer", "skills", "active"):
        if name in data and getattr(volunteer, name) != data[name]:
            old = getattr(volunteer, name)
            changes[name] = (str(old) if name == "team" else old, str(data[name]) if name == "team" else data[name])
            setattr(volunteer, name, data[name])
    if changes:
        volunteer.save()
        audit_record(actor=actor, action="volunteer.update", obj=volunteer, org_unit=volunteer.org_unit,
                     label=volunteer.masked_name, changes=changes)
        _publish_volunteers(volunteer.org_unit, volunteer.registered_on.year)
    return changes


# -- service records ---------------------------------------------------------------------------------


def _hours(value: Any, start: dt.datetime, end: dt.datetime) -> tuple[Decimal | None, str | None]:
    span = Decimal((end - start).total_seconds()) / Decimal(3600)
    if value in (None, ""):
        return (span * 2).quantize(Decimal("1"), ROUND_HALF_UP) / 2, None  # to the half hour
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return None, _("服务时长：应为数字（小时）。")
    if hours <= 0:
        return None, _("服务时长：应大于 0。")
    if hours > span + Decimal("0.05"):
        return None, _("服务时长：%(h)s 小时超过了开始到结束的时间（%(span)s 小时）。") % {
            "h": hours, "span": span.quantize(Decimal("0.1"))}
    return hours, None


def overlapping(
    volunteer: Volunteer, start: dt.datetime, end: dt.datetime, exclude: int | None = None
) -> ServiceRecord | None:
    qs = ServiceRecord.objects.filter(
        volunteer=volunteer, status__in=(ServiceRecord.Status.PENDING, ServiceRecord.Status.APPROVED),
        start__lt=end, end__gt=start)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("start").first()


def record_errors(*, volunteer: Volunteer, start: Any, end: Any, hours: Any, content: str, place: str,
                  organiser: str, evaluation: str = "", where: str = "") -> tuple[Decimal | None, list[str]]:
    errors = []
    if not content.strip():
        errors.append(where + _("服务内容：必填。"))
    if not place.strip():
        errors.append(where + _("服务地点：必填。"))
    if not organiser.strip():
        errors.append(where + _("组织单位：必填。"))
    if evaluation and evaluation not in Evaluation.values:
        errors.append(where + _("服务评价：应为 优秀、良好、合格 或 不合格。"))
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        errors.append(where + _("开始和结束时间：必填，格式如 2026-05-20 09:00。"))
        return None, errors
    if end <= start:
        errors.append(where + _("结束时间：应晚于开始时间。"))
        return None, errors
    if start > timezone.now():
        errors.append(where + _("开始时间：不能是将来的时间。"))
    value, problem = _hours(hours, start, end)
    if problem:
        errors.append(where + problem)
    elif value is not None and value > MAX_RECORD_HOURS:
        errors.append(where + _("服务时长：一条记录最多 24 小时，请分天记录。"))
    other = overlapping(volunteer, start, end)
    if other is not None:
        errors.append(where + _("时间与该志愿者已有的服务记录重叠（%(when)s %(what)s），同一时间不能记两次。") % {
            "when": timezone.localtime(other.start).strftime("%Y-%m-%d %H:%M"), "what": other.content})
    return value, errors


def _aware(value: Any) -> Any:
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@transaction.atomic
def record_create(
    *,
    actor: User,
    volunteer: Volunteer,
    org_unit: OrgUnit,
    organiser: str,
    content: str,
    place: str,
    start: dt.datetime,
    end: dt.datetime,
    hours: Any = None,
    training: str = "",
    awards: str = "",
    evaluation: str = "",
) -> ServiceRecord:
    """Record a service (pending). The organiser (an officer of `org_unit` who also manages the
    volunteer) records anyone's; a volunteer submits their own."""
    own = volunteer.user_id is not None and volunteer.user_id == actor.pk
    if not own and not (can_manage(actor, org_unit) and can_manage(actor, volunteer.org_unit)):
        raise PermissionDenied(_("您无权为该志愿者记录服务。"))
    if not volunteer.active:
        raise InputError(_("该志愿者已停用，不能记录服务。"))
    start, end = _aware(start), _aware(end)
    value, errors = record_errors(volunteer=volunteer, start=start, end=end, hours=hours, content=content,
                                  place=place, organiser=organiser, evaluation=evaluation)
    if errors:
        raise InputError(errors[0], errors=errors)
    assert value is not None
    r = ServiceRecord.objects.create(
        volunteer=volunteer, org_unit=org_unit, organiser=organiser.strip()[:200], content=content.strip()[:300],
        place=place.strip()[:200], start=start, end=end, hours=value, training=training[:300], awards=awards[:300],
        evaluation=evaluation, submitted_by=actor)
    audit_record(actor=actor, action="service_record.create", obj=r, org_unit=org_unit,
                 label=f"{volunteer.masked_name} {timezone.localtime(start):%Y-%m-%d} {r.content}"[:300],
                 changes={"hours": (None, str(value)), "status": (None, r.status)})
    return r


def _decide_errors(actor: User, record: ServiceRecord, allowed: Iterable[str]) -> list[str]:
    label = f"{record.volunteer.masked_name} {timezone.localtime(record.start):%Y-%m-%d}"
    if not can_manage(actor, record.org_unit):
        raise PermissionDenied(_("您无权审核该单位的服务记录。"))
    if record.submitted_by_id == actor.pk or record.volunteer.user_id == actor.pk:
        return [_("%(r)s：不能审核自己提交的或自己的服务时长，请由另一位管理员审核。") % {"r": label}]
    if record.status not in allowed:
        return [_("%(r)s：当前状态为“%(s)s”，不能这样处理。") % {"r": label, "s": record.get_status_display()}]
    return []


def _republish(records: Sequence[ServiceRecord]) -> None:
    for unit, year in {(r.org_unit, timezone.localtime(r.start).year) for r in records}:
        indicators.hours_publish(unit=unit, year=year)


@transaction.atomic
def records_approve(*, actor: User, records: Sequence[ServiceRecord], comment: str = "") -> int:
    """Approve pending records (one or many, all or nothing: every refused record is named)."""
    if not records:
        raise InputError(_("请至少选择一条服务记录。"))
    errors = [e for r in records for e in _decide_errors(actor, r, (ServiceRecord.Status.PENDING,))]
    if errors:
        raise InputError(errors[0], errors=errors)
    now = timezone.now()
    for r in records:
        r.status, r.decided_by, r.decided_at, r.reason = ServiceRecord.Status.APPROVED, actor, now, comment[:300]
        r.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit_record(actor=actor, action="service_record.approve", obj=r, org_unit=r.org_unit,
                     label=f"{r.volunteer.masked_name} {r.content}"[:300],
                     changes={"status": ("pending", "approved")}, comment=comment)
    _republish(records)
    return len(records)


@transaction.atomic
def records_reject(*, actor: User, records: Sequence[ServiceRecord], reason: str) -> int:
    """Return pending records to the volunteer with a reason."""
    return _close(actor, records, reason, (ServiceRecord.Status.PENDING,), ServiceRecord.Status.REJECTED, "reject")


@transaction.atomic
def records_revoke(*, actor: User, records: Sequence[ServiceRecord], reason: str) -> int:
    """Withdraw approved hours (found wrong later); certificates that counted them stop verifying."""
    return _close(actor, records, reason, (ServiceRecord.Status.APPROVED,), ServiceRecord.Status.REVOKED, "revoke")


def _close(actor: User, records: Sequence[ServiceRecord], reason: str, allowed: tuple[str, ...], new: str,
           verb: str) -> int:
    if not records:
        raise InputError(_("请至少选择一条服务记录。"))
    errors = [] if reason.strip() else [_("原因：必填，会告诉志愿者为什么。")]
    errors += [e for r in records for e in _decide_errors(actor, r, allowed)]
    if errors:
        raise InputError(errors[0], errors=errors)
    now = timezone.now()
    for r in records:
        old = r.status
        r.status, r.decided_by, r.decided_at, r.reason = new, actor, now, reason.strip()[:300]
        r.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit_record(actor=actor, action=f"service_record.{verb}", obj=r, org_unit=r.org_unit,
                     label=f"{r.volunteer.masked_name} {r.content}"[:300], changes={"status": (old, new)},
                     comment=reason)
    _republish(records)
    return len(records)


# -- certificates ------------------------------------------------------------------------------------


def _payload(cert: Certificate) -> dict[str, Any]:
    return {"c": cert.pk, "v": cert.volunteer_id, "h": str(cert.hours),
            "p": f"{cert.period_start:%Y%m%d}-{cert.period_end:%Y%m%d}"}


@transaction.atomic
def certificate_issue(*, actor: User, volunteer: Volunteer, year: int) -> Certificate:
    """A certificate of the volunteer's approved hours in `year` (the volunteer themself or an officer
    of their unit). The figures are stored as issued; the code signs them."""
    if volunteer.user_id != actor.pk and not can_manage(actor, volunteer.org_unit):
        raise PermissionDenied(_("您无权为该志愿者出具证明。"))
    records = list(ServiceRecord.objects.filter(
        volunteer=volunteer, status=ServiceRecord.Status.APPROVED,
        start__date__gte=dt.date(year, 1, 1), start__date__lte=dt.date(year, 12, 31)).order_by("start"))
    if not records:
        raise InputError(_("%(year)s 年没有已认定的服务时长，无法出具证明。") % {"year": year})
    organisers = sorted({r.organiser for r in records})
    cert = Certificate.objects.create(
        volunteer=volunteer, masked_name=volunteer.masked_name, hours=sum((r.hours for r in records), Decimal(0)),
        period_start=timezone.localtime(records[0].start).date(), period_end=timezone.localtime(records[-1].end).date(),
        organiser="、".join(organisers)[:300], issued_by=actor)
    cert.records.set(records)
    cert.code = signing.dumps(_payload(cert), salt=CERT_SALT, compress=True)
    cert.save(update_fields=["code"])
    audit_record(actor=actor, action="certificate.issue", obj=cert, org_unit=volunteer.org_unit,
                 label=f"{cert.masked_name} {cert.hours} h", changes={"hours": (None, str(cert.hours))})
    return cert


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    certificate: Certificate | None = None


def certificate_verify(code: str) -> Verification:
    """Check a certificate's code: the signature over its figures, the stored certificate with the
    same figures, and every record it counted still approved."""
    try:
        payload = signing.loads(code, salt=CERT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return Verification(False, _("验证码无效：证明可能是伪造的或被改动过。"))
    if not isinstance(payload, dict):
        return Verification(False, _("验证码无效：证明可能是伪造的或被改动过。"))
    cert_id = payload.get("c")
    if not isinstance(cert_id, int):
        return Verification(False, _("验证码无效：证明可能是伪造的或被改动过。"))
    cert = Certificate.objects.select_related("volunteer").filter(pk=cert_id).first()
    if cert is None or cert.code != code or _payload(cert) != payload:
        return Verification(False, _("验证码无效：证明可能是伪造的或被改动过。"))
    if cert.records.exclude(status=ServiceRecord.Status.APPROVED).exists():
        return Verification(False, _("该证明已失效：其中的服务时长已被撤销。"), cert)
    return Verification(True, _("该证明真实有效。"), cert)


def certificate_pdf(cert: Certificate, *, verify_url: str) -> bytes:
    """An A4 certificate (志愿服务证明) with a QR code of the public verification page."""
    import io

    import segno
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    from kepu.core.pdf import register_cjk_font

    font = register_cjk_font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    w, h = A4
    c.setTitle(_("志愿服务证明"))
    c.setLineWidth(2)
    c.rect(36, 36, w - 72, h - 72)
    c.setFont(font, 28)
    c.drawCentredString(w / 2, h - 130, _("志愿服务证明"))
    c.setFont(font, 13)
    rows = [
        (_("志愿者"), cert.masked_name),
        (_("服务期间"), f"{cert.period_start:%Y-%m-%d} — {cert.period_end:%Y-%m-%d}"),
        (_("认定服务时长"), _("%(h)s 小时") % {"h": cert.hours}),
        (_("组织单位"), cert.organiser),
        (_("出具日期"), f"{timezone.localtime(cert.issued_at):%Y-%m-%d}"),
        (_("证明编号"), f"KP-{cert.pk:06d}"),
    ]
    y = h - 200
    for label, value in rows:
        c.drawString(90, y, f"{label}：")
        text = str(value)
        while text:  # wrap long organiser lists
            c.drawString(200, y, text[:26])
            text = text[26:]
            y -= 20 if text else 0
        y -= 32
    c.setFont(font, 11)
    c.drawString(90, y - 10, _("兹证明上述志愿者参加志愿服务，服务时长经组织单位记录并认定。"))
    c.drawString(90, y - 30, _("依据《志愿服务记录与证明出具办法》（民政部令第67号）出具。"))
    qr = segno.make(verify_url, error="m")
    img = io.BytesIO()
    qr.save(img, kind="png", scale=6, border=2)
    img.seek(0)
    size = 150
    c.drawImage(ImageReader(img), w - 90 - size, 80, size, size)
    c.setFont(font, 10)
    c.drawRightString(w - 90, 66, _("扫码核验真伪"))
    c.drawString(90, 90, _("核验网址："))
    c.setFont("Helvetica", 6)
    url = verify_url
    yy = 78
    while url:
        c.drawString(90, yy, url[:90])
        url = url[90:]
        yy -= 8
    c.showPage()
    c.save()
    return buf.getvalue()
