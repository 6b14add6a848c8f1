"""Everything that writes in the facilities app: the base lifecycle (application → expert review
against the rubric → certification → annual review → renewal or revocation, and expiry), venues,
visit slots, school bookings (馆校结合) and visitor counts. Each function is one use case, runs in
one transaction, checks the actor's scope, is audited, and republishes the plan indicators it moves
(kepu.facilities.indicators) in the same transaction.

Who may do what:
* the office (office_admin) assigns reviewers, certifies or rejects, annually reviews, renews and
  revokes — never for an application they submitted themselves;
* a district officer (district_reporter) submits applications and manages venues, slots, bookings
  and visitor counts inside their district only;
* a talent-pool expert scores only the applications assigned to them, never one from their own
  organisation (kepu.community.selectors.expert_conflict)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.community.selectors import expert_conflict, expert_profile
from kepu.core import pii
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.facilities import indicators
from kepu.facilities.models import (
    AnnualReview,
    Application,
    Base,
    BaseKind,
    BaseLevel,
    Booking,
    ReviewAssignment,
    RubricCriterion,
    Venue,
    VenueKind,
    VisitCount,
    VisitSlot,
)
from kepu.facilities.selectors import PASS_SHARE, application_mean_score, rubric_max_total
from kepu.plans.derived import ancestor_at

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)
OFFICE_ROLES = (Role.OFFICE_ADMIN,)
DEFAULT_VALID_YEARS = 3

DEFAULT_RUBRIC = [
    ("facilities", "场地与设施", "Premises and facilities", 25),
    ("content", "科普内容与展教资源", "Content and exhibits", 25),
    ("staff", "专兼职科普队伍", "Science-communication staff", 20),
    ("openness", "对公众开放与服务人次", "Openness and visitors served", 20),
    ("management", "管理制度与安全保障", "Management and safety", 10),
]


# -- helpers -----------------------------------------------------------------------------------


def _district(unit: OrgUnit) -> OrgUnit:
    district = ancestor_at(unit, OrgUnit.Level.DISTRICT)
    if district is None:
        raise InputError(_("所在单位：须为辖市(区)或其下的镇(街道)、村(社区)，得到 %(unit)s。") % {
            "unit": unit.name_zh})
    return district


def _require(actor: User, unit: OrgUnit, roles: tuple[str, ...], message: str) -> None:
    if not scope_for(actor).covers(unit, roles):
        raise PermissionDenied(message)


def _text(errors: list[str], label: str, value: str, max_length: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.append(_("%(field)s：必填。") % {"field": label})
    elif len(value) > max_length:
        errors.append(_("%(field)s：最长 %(n)s 个字符，现在有 %(len)s 个。") % {
            "field": label, "n": max_length, "len": len(value)})
    return value


def _choice(errors: list[str], label: str, value: str, choices: Any) -> str:
    if value not in choices.values:
        errors.append(_("%(field)s：无法识别“%(value)s”，应为 %(allowed)s 之一。") % {
            "field": label, "value": value, "allowed": "、".join(str(c) for c in choices.labels)})
    return value


def _publish_bases(unit: OrgUnit, since_year: int = indicators.FIRST_YEAR) -> None:
    indicators.bases_publish(city=indicators.city_of(unit), since_year=since_year)


def base_state(base: Base, day: dt.date | None = None) -> str:
    return base.state_on(day or timezone.localdate())


def _refuse_unless_in_force(base: Base, doing: str) -> None:
    state = base_state(base)
    if state == "expired":
        raise InputError(_("%(name)s 的认定已于 %(date)s 到期，不能%(doing)s；请重新提交认定申请。") % {
            "name": base.name, "date": base.valid_until.isoformat(), "doing": doing})
    if state == "revoked":
        raise InputError(_("%(name)s 的认定已于 %(date)s 撤销，不能%(doing)s；请重新提交认定申请。") % {
            "name": base.name, "date": base.revoked_on.isoformat() if base.revoked_on else "", "doing": doing})


# -- applications and reviews ------------------------------------------------------------------


@transaction.atomic
def application_submit(
    *,
    actor: User,
    name: str,
    kind: str,
    organisation: str,
    org_unit: OrgUnit,
    description: str,
    level: str = BaseLevel.MUNICIPAL,
    evidence: str = "",
    evidence_file: Any = None,
    base: Base | None = None,
) -> Application:
    """A unit applies for a designation, through the officer of its district (or the office). An
    application for a base that exists (expired or revoked) re-certifies that base when it passes."""
    _require(actor, org_unit, MANAGE_ROLES, _("您无权为该单位提交认定申请。"))
    errors: list[str] = []
    name = _text(errors, _("基地名称"), name, 200)
    organisation = _text(errors, _("申报单位"), organisation, 200)
    description = _text(errors, _("基本情况"), description, 5000)
    evidence = _text(errors, _("佐证材料"), evidence, 5000, required=False)
    _choice(errors, _("类型"), kind, BaseKind)
    _choice(errors, _("申报级别"), level, BaseLevel)
    district = _district(org_unit)
    if base is not None and base_state(base) == "active":
        errors.append(_("%(name)s 的认定仍在有效期内，无需重新申请；到期前请办理续期。") % {"name": base.name})
    if errors:
        raise InputError(errors[0], errors=errors)
    app = Application.objects.create(
        name=name, kind=kind, level=level, organisation=organisation, org_unit=org_unit, district=district,
        description=description, evidence=evidence, evidence_file=evidence_file, base=base, submitted_by=actor,
    )
    audit_record(actor=actor, action="facilities.apply", obj=app, org_unit=org_unit,
                 changes={"status": (None, app.status)}, comment=_("提交认定申请：%(name)s") % {"name": name})
    return app


@transaction.atomic
def rubric_ensure() -> list[RubricCriterion]:
    """The active rubric; a fresh installation gets the default five criteria (100 points)."""
    if not RubricCriterion.objects.exists():
        for i, (code, zh, en, points) in enumerate(DEFAULT_RUBRIC):
            RubricCriterion.objects.create(code=code, name_zh=zh, name_en=en, max_points=points, sort=i)
    return list(RubricCriterion.objects.filter(active=True))


def _office_for(actor: User, app: Application, doing: str) -> None:
    _require(actor, app.org_unit, OFFICE_ROLES, _("只有科普办(办公室管理员)可以%(doing)s。") % {"doing": doing})


@transaction.atomic
def review_assign(*, actor: User, application: Application, reviewer: User) -> ReviewAssignment:
    """Assign a talent-pool expert to score an application. An expert working for the applicant's
    organisation is refused (conflict of interest), as is one already assigned."""
    app = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    _office_for(actor, app, _("分配评审专家"))
    if app.status not in (Application.Status.SUBMITTED, Application.Status.REVIEWING):
        raise InputError(_("该申请已有结论(%(status)s)，不能再分配评审专家。") % {"status": app.get_status_display()})
    profile = expert_profile(reviewer)
    if profile is None:
        raise InputError(_("%(user)s 不是科普人才库中的专家，不能评审。") % {"user": reviewer.get_username()})
    if expert_conflict(reviewer, app.organisation):
        raise InputError(_(
            "利益冲突：专家 %(name)s 的工作单位(%(org)s)与申报单位“%(applicant)s”相同，不能评审该申请。") % {
            "name": profile.name, "org": profile.organisation, "applicant": app.organisation})
    if app.reviews.filter(reviewer=reviewer).exists():
        raise InputError(_("专家 %(name)s 已分配评审该申请。") % {"name": profile.name})
    rubric_ensure()
    assignment = ReviewAssignment.objects.create(application=app, reviewer=reviewer, assigned_by=actor)
    old = app.status
    app.status = Application.Status.REVIEWING
    app.save(update_fields=["status"])
    audit_record(actor=actor, action="facilities.review_assign", obj=app, org_unit=app.org_unit,
                 changes={"reviewer": (None, reviewer.get_username()), "status": (old, app.status)},
                 comment=_("分配评审专家：%(name)s") % {"name": profile.name})
    return assignment


@transaction.atomic
def review_submit(
    *, actor: User, assignment: ReviewAssignment, scores: dict[str, Any], comment: str = ""
) -> ReviewAssignment:
    """The assigned expert scores every criterion of the rubric, each between 0 and its maximum."""
    a = ReviewAssignment.objects.select_for_update(of=("self",)).select_related("application").get(pk=assignment.pk)
    if a.reviewer_id != actor.pk:
        raise PermissionDenied(_("只有被分配的专家本人可以评分。"))
    if a.application.status != Application.Status.REVIEWING:
        raise InputError(_("该申请已有结论，不能再评分。"))
    errors: list[str] = []
    clean: dict[str, float] = {}
    for c in rubric_ensure():
        raw = scores.get(c.code)
        if raw is None or raw == "":
            errors.append(_("%(name)s：必须评分(0–%(max)s 分)。") % {"name": c.name_zh, "max": c.max_points})
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors.append(_("%(name)s：需要数字，得到“%(v)s”。") % {"name": c.name_zh, "v": raw})
            continue
        if not 0 <= value <= c.max_points:
            errors.append(_("%(name)s：得分须在 0 到 %(max)s 分之间，得到 %(v)s。") % {
                "name": c.name_zh, "max": c.max_points, "v": f"{value:g}"})
            continue
        clean[c.code] = value
    unknown = sorted(set(scores) - {c.code for c in rubric_ensure()})
    if unknown:
        errors.append(_("评分表中没有这些评分项：%(codes)s。") % {"codes": "、".join(unknown)})
    if errors:
        raise InputError(errors[0], errors=errors)
    old = a.total
    a.scores, a.total, a.comment, a.submitted_at = clean, sum(clean.values()), comment.strip(), timezone.now()
    a.save(update_fields=["scores", "total", "comment", "submitted_at"])
    audit_record(actor=actor, action="facilities.review_submit", obj=a.application, org_unit=a.application.org_unit,
                 changes={"total": (old, a.total)}, comment=_("专家评分：%(total)s 分") % {"total": f"{a.total:g}"})
    return a


@transaction.atomic
def application_certify(
    *,
    actor: User,
    application: Application,
    level: str | None = None,
    valid_until: dt.date | None = None,
    on: dt.date | None = None,
) -> Base:
    """The office certifies an application whose experts' mean score reaches the pass mark (60% of
    the rubric's total). Creates the base (or re-certifies the base it re-applies for) and moves
    the plan's base, school and STEM targets in the same transaction."""
    app = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    _office_for(actor, app, _("认定基地"))
    if app.submitted_by_id == actor.pk:
        raise PermissionDenied(_("不能认定自己提交的申请，请由另一位管理员认定。"))
    if app.status != Application.Status.REVIEWING:
        raise InputError(_("只有专家评审中的申请可以认定，该申请为“%(status)s”。") % {
            "status": app.get_status_display()})
    mean = application_mean_score(app)
    if mean is None:
        raise InputError(_("还没有专家提交评分，不能认定。"))
    pending = app.reviews.filter(submitted_at__isnull=True).count()
    if pending:
        raise InputError(_("还有 %(n)s 位专家未提交评分。") % {"n": pending})
    pass_mark = PASS_SHARE * rubric_max_total()
    if mean < pass_mark:
        raise InputError(_("专家平均分 %(mean)s 低于合格线 %(mark)s 分，不能认定。") % {
            "mean": f"{mean:.1f}", "mark": f"{pass_mark:g}"})
    level = level or app.level
    if level not in BaseLevel.values:
        raise InputError(_("级别：无法识别“%(v)s”。") % {"v": level})
    day = on or timezone.localdate()
    until = valid_until or day.replace(year=day.year + DEFAULT_VALID_YEARS) - dt.timedelta(days=1)
    if until <= day:
        raise InputError(_("有效期至：须晚于认定日期 %(day)s。") % {"day": day.isoformat()})
    base = app.base
    if base is None:
        base = Base.objects.create(
            name=app.name, kind=app.kind, level=level, organisation=app.organisation, org_unit=app.org_unit,
            district=app.district, first_certified_on=day, valid_from=day, valid_until=until, certified_by=actor,
        )
        changes: dict[str, tuple[Any, Any]] = {"state": (None, "active")}
    else:
        changes = {"state": (base_state(base, day), "active"), "valid_until": (base.valid_until, until)}
        base.level, base.valid_from, base.valid_until, base.certified_by = level, day, until, actor
        base.revoked_on, base.revoke_reason, base.expiry_recorded_on = None, "", None
        base.save()
    app.status, app.base, app.decided_by, app.decided_at = Application.Status.CERTIFIED, base, actor, timezone.now()
    app.save(update_fields=["status", "base", "decided_by", "decided_at"])
    audit_record(actor=actor, action="facilities.certify", obj=base, org_unit=base.org_unit,
                 changes={**changes, "level": (None, level)},
                 comment=_("认定为%(level)s%(kind)s，有效期至 %(until)s，专家平均分 %(mean)s") % {
                     "level": base.get_level_display(), "kind": base.get_kind_display(),
                     "until": until.isoformat(), "mean": f"{mean:.1f}"})
    _publish_bases(base.district, since_year=min(base.first_certified_on.year, day.year))
    return base


@transaction.atomic
def application_reject(*, actor: User, application: Application, note: str) -> Application:
    app = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    _office_for(actor, app, _("作出评审结论"))
    if app.submitted_by_id == actor.pk:
        raise PermissionDenied(_("不能对自己提交的申请作出结论，请由另一位管理员处理。"))
    if app.status in (Application.Status.CERTIFIED, Application.Status.REJECTED):
        raise InputError(_("该申请已有结论(%(status)s)。") % {"status": app.get_status_display()})
    if not note.strip():
        raise InputError(_("未通过原因：必填。"))
    old = app.status
    app.status, app.decided_by, app.decided_at, app.decision_note = (
        Application.Status.REJECTED, actor, timezone.now(), note.strip())
    app.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(actor=actor, action="facilities.reject", obj=app, org_unit=app.org_unit,
                 changes={"status": (old, app.status)}, comment=note.strip())
    return app


# -- certified bases ---------------------------------------------------------------------------


def _office_for_base(actor: User, base: Base, doing: str) -> None:
    _require(actor, base.org_unit, OFFICE_ROLES, _("只有科普办(办公室管理员)可以%(doing)s。") % {"doing": doing})


@transaction.atomic
def base_annual_review(*, actor: User, base: Base, year: int, result: str, comment: str = "") -> AnnualReview:
    """Record the year's review of a base in force. A fail revokes the designation (and moves the
    targets back); an expired or revoked base cannot be reviewed without a new application."""
    base = Base.objects.select_for_update(of=("self",)).get(pk=base.pk)
    _office_for_base(actor, base, _("年度复核"))
    _refuse_unless_in_force(base, _("年度复核"))
    if result not in AnnualReview.Result.values:
        raise InputError(_("复核结论：应为 合格、限期整改 或 不合格。"))
    if not base.first_certified_on.year <= year <= timezone.localdate().year:
        raise InputError(_("复核年度：须在 %(a)s 到 %(b)s 之间。") % {
            "a": base.first_certified_on.year, "b": timezone.localdate().year})
    if base.annual_reviews.filter(year=year).exists():
        raise InputError(_("%(name)s 的 %(year)s 年度复核已经录入。") % {"name": base.name, "year": year})
    if result == AnnualReview.Result.FAIL and not comment.strip():
        raise InputError(_("复核不合格时须写明原因。"))
    review = AnnualReview.objects.create(base=base, year=year, result=result, comment=comment.strip(),
                                         reviewed_by=actor)
    audit_record(actor=actor, action="facilities.annual_review", obj=base, org_unit=base.org_unit,
                 changes={f"review_{year}": (None, result)}, comment=comment.strip())
    if result == AnnualReview.Result.FAIL:
        _revoke(actor, base, _("%(year)s 年度复核不合格：%(why)s") % {"year": year, "why": comment.strip()})
    return review


@transaction.atomic
def base_renew(*, actor: User, base: Base, valid_until: dt.date) -> Base:
    """Extend a designation still in force; once expired or revoked a new application is needed."""
    base = Base.objects.select_for_update(of=("self",)).get(pk=base.pk)
    _office_for_base(actor, base, _("办理续期"))
    _refuse_unless_in_force(base, _("续期"))
    if valid_until <= base.valid_until:
        raise InputError(_("续期后的有效期须晚于现有期限 %(d)s。") % {"d": base.valid_until.isoformat()})
    old = base.valid_until
    base.valid_until = valid_until
    base.save(update_fields=["valid_until"])
    audit_record(actor=actor, action="facilities.renew", obj=base, org_unit=base.org_unit,
                 changes={"valid_until": (old, valid_until)})
    _publish_bases(base.district, since_year=timezone.localdate().year)
    return base


def _revoke(actor: User, base: Base, reason: str, on: dt.date | None = None) -> Base:
    day = on or timezone.localdate()
    base.revoked_on, base.revoke_reason = day, reason
    base.save(update_fields=["revoked_on", "revoke_reason"])
    audit_record(actor=actor, action="facilities.revoke", obj=base, org_unit=base.org_unit,
                 changes={"state": ("active", "revoked")}, comment=reason)
    _publish_bases(base.district, since_year=base.first_certified_on.year)
    return base


@transaction.atomic
def base_revoke(*, actor: User, base: Base, reason: str) -> Base:
    base = Base.objects.select_for_update(of=("self",)).get(pk=base.pk)
    _office_for_base(actor, base, _("撤销认定"))
    if base.revoked_on is not None:
        raise InputError(_("%(name)s 的认定已经撤销。") % {"name": base.name})
    if not reason.strip():
        raise InputError(_("撤销原因：必填。"))
    return _revoke(actor, base, reason.strip())


@transaction.atomic
def bases_expire(*, city: OrgUnit, actor: User | None = None, today: dt.date | None = None) -> list[Base]:
    """Record the certifications that have run out (audited once each) and republish this year's
    in-force counts, so an expired base stops counting. Idempotent; run daily (`kepu facilities expire`)."""
    day = today or timezone.localdate()
    due = list(Base.objects.select_for_update(of=("self",)).filter(
        district__parent=city, valid_until__lt=day, revoked_on__isnull=True, expiry_recorded_on__isnull=True))
    for base in due:
        base.expiry_recorded_on = day
        base.save(update_fields=["expiry_recorded_on"])
        audit_record(actor=actor, action="facilities.expire", obj=base, org_unit=base.org_unit,
                     changes={"state": ("active", "expired")},
                     comment=_("认定于 %(d)s 到期") % {"d": base.valid_until.isoformat()})
    if due:
        indicators.bases_publish(city=city, since_year=min(b.valid_until.year for b in due))
    return due


# -- venues, slots, bookings, visitor counts ---------------------------------------------------


def _venue_fields(errors: list[str], data: dict[str, Any]) -> dict[str, Any]:
    out = {
        "name": _text(errors, _("场馆名称"), data.get("name", ""), 200),
        "organisation": _text(errors, _("运营单位"), data.get("organisation", ""), 200),
        "address": _text(errors, _("地址"), data.get("address", ""), 300, required=False),
        "opening_hours": _text(errors, _("开放时间"), data.get("opening_hours", ""), 200, required=False),
        "description": _text(errors, _("简介"), data.get("description", ""), 5000, required=False),
        "kind": _choice(errors, _("类型"), data.get("kind", ""), VenueKind),
        "public": bool(data.get("public", True)),
    }
    days = data.get("open_days", [])
    try:
        days = sorted({int(d) for d in days})
    except (TypeError, ValueError):
        days = [0]
    if any(not 1 <= d <= 7 for d in days):
        errors.append(_("开放日：应为 1(周一)到 7(周日)的数字。"))
    out["open_days"] = days
    return out


@transaction.atomic
def venue_save(*, actor: User, org_unit: OrgUnit, venue: Venue | None = None, **data: Any) -> Venue:
    """Create or change a venue; a district officer only inside their district (both the venue's
    current and new place)."""
    _require(actor, org_unit, MANAGE_ROLES, _("您无权管理该单位的场馆。"))
    if venue is not None:
        _require(actor, venue.org_unit, MANAGE_ROLES, _("您无权管理该场馆。"))
    errors: list[str] = []
    fields = _venue_fields(errors, data)
    district = _district(org_unit)
    if errors:
        raise InputError(errors[0], errors=errors)
    fields.update(org_unit=org_unit, district=district)
    if venue is None:
        venue = Venue.objects.create(**fields)
        audit_record(actor=actor, action="facilities.venue_create", obj=venue, org_unit=org_unit,
                     changes={k: (None, v.code if isinstance(v, OrgUnit) else v) for k, v in fields.items()})
        return venue
    changes = {}
    for k, v in fields.items():
        old = getattr(venue, k)
        if old != v:
            changes[k] = (old.code if isinstance(old, OrgUnit) else old, v.code if isinstance(v, OrgUnit) else v)
            setattr(venue, k, v)
    if changes:
        venue.save()
        audit_record(actor=actor, action="facilities.venue_update", obj=venue, org_unit=org_unit, changes=changes)
    return venue


@transaction.atomic
def slot_add(*, actor: User, venue: Venue, starts_at: dt.datetime, ends_at: dt.datetime, capacity: int) -> VisitSlot:
    _require(actor, venue.org_unit, MANAGE_ROLES, _("您无权管理该场馆。"))
    if ends_at <= starts_at:
        raise InputError(_("结束时间须晚于开始时间。"))
    if capacity < 1 or capacity > 10000:
        raise InputError(_("容量：须在 1 到 10000 人之间。"))
    slot = VisitSlot.objects.create(venue=venue, starts_at=starts_at, ends_at=ends_at, capacity=capacity)
    audit_record(actor=actor, action="facilities.slot_add", obj=venue, org_unit=venue.org_unit,
                 changes={"slot": (None, f"{starts_at.isoformat()} ×{capacity}")})
    return slot


def _booked(slot: VisitSlot, exclude: Booking | None = None) -> int:
    qs = slot.bookings.filter(status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return int(qs.aggregate(n=Sum("class_size"))["n"] or 0)


@transaction.atomic
def booking_request(
    *, slot: VisitSlot, school: str, class_size: int, contact_name: str, phone: str, class_name: str = "",
    actor: User | None = None,
) -> Booking:
    """A school books a slot for a class (no account needed). Pending and confirmed bookings together
    may not exceed the slot's capacity; the district officer then confirms."""
    slot = VisitSlot.objects.select_for_update(of=("self",)).select_related("venue").get(pk=slot.pk)
    errors: list[str] = []
    school = _text(errors, _("学校"), school, 200)
    class_name = _text(errors, _("班级"), class_name, 100, required=False)
    contact_name = _text(errors, _("联系人"), contact_name, 60)
    phone_norm = ""
    try:
        phone_norm = pii.normalise_phone(phone)
    except InputError:
        errors.append(_("联系电话：不是有效的手机号码。"))
    if not slot.venue.public:
        errors.append(_("该场馆暂不接受预约。"))
    if slot.starts_at <= timezone.now():
        errors.append(_("该时段已经开始或结束，不能预约。"))
    if class_size < 1:
        errors.append(_("人数：至少 1 人。"))
    else:
        left = slot.capacity - _booked(slot)
        if class_size > left:
            errors.append(_("人数：该时段还剩 %(left)s 个名额，不够 %(n)s 人。") % {
                "left": max(left, 0), "n": class_size})
    if errors:
        raise InputError(errors[0], errors=errors)
    booking = Booking.objects.create(
        slot=slot, school=school, class_name=class_name, class_size=class_size, contact_name=contact_name,
        phone_encrypted=pii.encrypt(phone_norm), phone_masked=pii.mask_phone(phone_norm),
    )
    audit_record(actor=actor, action="facilities.booking_request", obj=slot.venue, org_unit=slot.venue.org_unit,
                 changes={"booking": (None, f"{school} {class_size}")})
    return booking


@transaction.atomic
def booking_decide(*, actor: User, booking: Booking, confirm: bool) -> Booking:
    booking = Booking.objects.select_for_update(of=("self",)).select_related("slot__venue").get(pk=booking.pk)
    venue = booking.slot.venue
    _require(actor, venue.org_unit, MANAGE_ROLES, _("您无权处理该场馆的预约。"))
    if booking.status != Booking.Status.PENDING:
        raise InputError(_("该预约已处理(%(s)s)。") % {"s": booking.get_status_display()})
    old = booking.status
    booking.status = Booking.Status.CONFIRMED if confirm else Booking.Status.DECLINED
    booking.decided_by, booking.decided_at = actor, timezone.now()
    booking.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action="facilities.booking_decide", obj=venue, org_unit=venue.org_unit,
                 changes={f"booking_{booking.pk}": (old, booking.status)})
    return booking


@transaction.atomic
def visits_record(*, actor: User, venue: Venue, year: int, month: int, visitors: int) -> VisitCount:
    """Record (or correct) a month's visitor count; republishes the year's SCI_VENUE_VISITS."""
    _require(actor, venue.org_unit, MANAGE_ROLES, _("您无权管理该场馆。"))
    today = timezone.localdate()
    if not 1 <= month <= 12:
        raise InputError(_("月份：应为 1 到 12。"))
    if not 2000 <= year <= today.year or (year == today.year and month > today.month):
        raise InputError(_("%(y)s 年 %(m)s 月还没有到，不能登记接待人次。") % {"y": year, "m": month})
    if visitors < 0 or visitors > 10_000_000:
        raise InputError(_("接待人次：须在 0 到 10,000,000 之间。"))
    row, created = VisitCount.objects.get_or_create(venue=venue, year=year, month=month,
                                                    defaults={"visitors": visitors})
    old = None if created else row.visitors
    if not created and row.visitors != visitors:
        row.visitors = visitors
        row.save(update_fields=["visitors"])
    audit_record(actor=actor, action="facilities.visits", obj=venue, org_unit=venue.org_unit,
                 changes={f"{year}-{month:02d}": (old, visitors)})
    indicators.visits_publish(city=indicators.city_of(venue.district), year=year)
    return row
