"""Writes of the emergency app: hazards and their guidance (draft → reviewed by an expert who is not
the author → published; edits of published guidance need a reason and are audited old → new), the
starter-set loader, and emergency events (declare, prepare and send the push campaign, end).

Refusals that matter for abuse (reviewing one's own guidance, publishing unreviewed guidance,
declaring or ending outside one's district) are audited before they are raised, so they leave a
trace even though nothing changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.emergency import indicators, selectors
from kepu.emergency.models import BODY_MAX, TITLE_MAX, EmergencyEvent, Guidance, Hazard
from kepu.emergency.text import checked
from kepu.plans.derived import ancestor_at

AUTHOR_ROLES = (Role.OFFICE_ADMIN, Role.EDITOR)
DECLARE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)
AFFECTED_LEVELS = (OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN)
NOTE_MAX = 500
KEYWORDS_MAX = 30
RESOURCES_MAX = 20

G = Guidance.Status


def _refuse(actor: User | None, action: str, obj: Any, message: str, *, org_unit: OrgUnit | None = None,
            exc: type[Exception] = PermissionDenied) -> NoReturn:
    """Audit a refused attempt (in its own transaction, so it stays) and raise."""
    with transaction.atomic():
        audit_record(actor=actor, action=action, obj=obj, org_unit=org_unit, comment=message)
    raise exc(message)


# --- who may ---------------------------------------------------------------------------------------


def can_author(user: User | Any) -> bool:
    scope = scope_for(user)
    return scope.superuser or bool(scope._paths_for(AUTHOR_ROLES))


def can_review(user: User | Any) -> bool:
    """Talent-pool experts and users with the reviewer role review guidance."""
    from kepu.community.selectors import expert_profile

    scope = scope_for(user)
    return scope.superuser or bool(scope._paths_for((Role.REVIEWER,))) or expert_profile(user) is not None


def can_declare(user: User | Any, unit: OrgUnit) -> bool:
    return scope_for(user).covers(unit, DECLARE_ROLES)


def _require_author(actor: User) -> None:
    if not can_author(actor):
        raise PermissionDenied(_("只有科普内容编辑或领导小组办公室可以编辑灾种和应急指引。"))


# --- hazards ---------------------------------------------------------------------------------------


def _words(value: Any, *, label: str, limit: int, errors: list[str], max_len: int = 40) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [w for w in value.replace("，", ",").replace("、", ",").split(",")]
    if not isinstance(value, list):
        errors.append(_("%(field)s：应为词语列表。") % {"field": label})
        return []
    out: list[str] = []
    for i, w in enumerate(value):
        if isinstance(w, int | float) and not isinstance(w, bool):
            w = str(w)  # YAML reads 119 and 12315 as numbers
        word = checked(w, label=f"{label}[{i + 1}]", max_len=max_len, required=False, errors=errors)
        if word and word not in out:
            out.append(word)
    if len(out) > limit:
        errors.append(_("%(field)s：最多 %(n)d 个。") % {"field": label, "n": limit})
    return out


@dataclass
class HazardInput:
    code: str
    name_zh: str
    name_en: str = ""
    category: str = ""
    keywords: Any = field(default_factory=list)
    resource_codes: Any = field(default_factory=list)


def hazard_clean(data: HazardInput, *, where: str = "") -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    p = f"{where} " if where else ""
    code = str(data.code or "").strip()
    if not code or len(code) > 40 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        errors.append(p + _("代码：应为 1–40 个字母、数字、连字符或下划线。"))
    clean = {
        "code": code.lower(),
        "name_zh": checked(data.name_zh, label=p + _("中文名称"), max_len=60, errors=errors),
        "name_en": checked(data.name_en, label=p + _("英文名称"), max_len=80, required=False, errors=errors),
        "category": str(data.category or ""),
        "keywords": _words(data.keywords, label=p + _("关键词"), limit=KEYWORDS_MAX, errors=errors),
        "resource_codes": _words(data.resource_codes, label=p + _("关联内容"), limit=RESOURCES_MAX, errors=errors,
                                 max_len=60),
    }
    if clean["category"] not in Hazard.Category.values:
        errors.append(p + _("类别：应为以下之一：%(choices)s") % {"choices": ", ".join(Hazard.Category.values)})
    return clean, errors


@transaction.atomic
def hazard_save(*, actor: User, data: HazardInput, hazard: Hazard | None = None) -> Hazard:
    _require_author(actor)
    clean, errors = hazard_clean(data)
    taken = Hazard.objects.filter(code=clean["code"])
    if hazard is not None:
        taken = taken.exclude(pk=hazard.pk)
    if not errors and taken.exists():
        errors.append(_("代码：该代码已被使用。"))
    unknown = selectors.unknown_resource_codes(clean["resource_codes"])
    if unknown:
        errors.append(_("关联内容：目录中没有这些内容：%(codes)s") % {"codes": ", ".join(unknown)})
    if errors:
        raise InputError(errors[0], errors=errors)
    if hazard is None:
        hazard = Hazard.objects.create(**clean)
        audit_record(actor=actor, action="hazard.create", obj=hazard, changes={k: (None, v) for k, v in clean.items()})
        return hazard
    changes = _assign(hazard, clean)
    if changes:
        hazard.save()
        audit_record(actor=actor, action="hazard.update", obj=hazard, changes=changes)
    return hazard


def _assign(obj: Any, data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for k, v in data.items():
        if getattr(obj, k) != v:
            changes[k] = (getattr(obj, k), v)
            setattr(obj, k, v)
    return changes


# --- guidance --------------------------------------------------------------------------------------


@dataclass
class GuidanceInput:
    phase: str
    group: str
    title_zh: str
    body_zh: str
    title_en: str = ""
    body_en: str = ""


def guidance_clean(data: GuidanceInput, *, where: str = "", body_min: int = 0) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    p = f"{where} " if where else ""
    if data.phase not in Guidance.Phase.values:
        errors.append(p + _("阶段：应为以下之一：%(choices)s") % {"choices": ", ".join(Guidance.Phase.values)})
    if data.group not in Guidance.Group.values:
        errors.append(p + _("人群：应为以下之一：%(choices)s") % {"choices": ", ".join(Guidance.Group.values)})
    clean = {
        "phase": data.phase,
        "group": data.group,
        "title_zh": checked(data.title_zh, label=p + _("中文标题"), max_len=TITLE_MAX, errors=errors),
        "body_zh": checked(data.body_zh, label=p + _("中文正文"), max_len=BODY_MAX, min_len=body_min, errors=errors),
        "title_en": checked(data.title_en, label=p + _("英文标题"), max_len=TITLE_MAX, required=False, errors=errors),
        "body_en": checked(data.body_en, label=p + _("英文正文"), max_len=BODY_MAX * 3, required=False,
                           errors=errors),
    }
    return clean, errors


def _next_key(hazard: Hazard, phase: str, group: str) -> str:
    taken = set(hazard.guidance.values_list("key", flat=True))
    n = 1
    while f"{phase}-{group}-{n}" in taken:
        n += 1
    return f"{phase}-{group}-{n}"


@transaction.atomic
def guidance_create(*, actor: User, hazard: Hazard, data: GuidanceInput) -> Guidance:
    _require_author(actor)
    clean, errors = guidance_clean(data)
    if errors:
        raise InputError(errors[0], errors=errors)
    g = Guidance.objects.create(hazard=hazard, key=_next_key(hazard, clean["phase"], clean["group"]),
                                author=actor, **clean)
    audit_record(actor=actor, action="guidance.create", obj=g, changes={k: (None, v) for k, v in clean.items()})
    return g


def guidance_update(*, actor: User, guidance: Guidance, data: GuidanceInput, reason: str = "") -> Guidance:
    """Edit guidance. A reviewed piece whose text changes goes back to draft (the review was of the old
    text). Published guidance stays published, so a pinned emergency notice does not vanish, but the
    edit needs a stated reason and is audited old → new; an edit without one is refused and audited."""
    _require_author(actor)
    clean, errors = guidance_clean(data)
    if errors:
        raise InputError(errors[0], errors=errors)
    guidance = Guidance.objects.get(pk=guidance.pk)
    published = guidance.status == G.PUBLISHED
    reason = (reason or "").strip()[:300]
    if published and not reason:
        _refuse(actor, "guidance.update_refused", guidance,
                _("已发布的指引不能悄悄修改：请填写修改原因，修改将记入审计日志。"), exc=InputError)
    with transaction.atomic():
        changes = _assign(guidance, clean)
        if not changes:
            return guidance
        if guidance.status == G.REVIEWED:
            changes["status"] = (G.REVIEWED, G.DRAFT)
            guidance.status, guidance.reviewed_by, guidance.reviewed_at = G.DRAFT, None, None
        if guidance.status == G.DRAFT and guidance.author_id is None:
            guidance.author = actor
        guidance.save()
        audit_record(actor=actor, action="guidance.update_published" if published else "guidance.update",
                     obj=guidance, changes=changes, comment=reason)
    return guidance


def guidance_review(*, actor: User, guidance: Guidance, comment: str = "") -> Guidance:
    """Draft → reviewed, by an expert (talent pool) or a reviewer who is not its author."""
    if not can_review(actor):
        raise PermissionDenied(_("只有人才库专家或审核员可以审核应急指引。"))
    if guidance.author_id == actor.pk:
        _refuse(actor, "guidance.review_refused", guidance, _("不能审核自己撰写的指引，请由另一位专家审核。"))
    with transaction.atomic():
        changed = Guidance.objects.filter(pk=guidance.pk, status=G.DRAFT).exclude(author=actor).update(
            status=G.REVIEWED, reviewed_by=actor, reviewed_at=timezone.now())
        if not changed:
            guidance.refresh_from_db()
            raise InputError(_("该指引当前状态为“%(s)s”，不能审核。") % {"s": guidance.get_status_display()})
        guidance.refresh_from_db()
        audit_record(actor=actor, action="guidance.review", obj=guidance, changes={"status": (G.DRAFT, G.REVIEWED)},
                     comment=comment[:300])
    return guidance


def guidance_publish(*, actor: User, guidance: Guidance, indicators_now: bool = True) -> Guidance:
    """Reviewed → published (editors and the office); unreviewed guidance is refused and audited.
    `indicators_now=False` lets a bulk caller republish the plan indicator once at the end."""
    _require_author(actor)
    guidance.refresh_from_db()
    if guidance.status != G.REVIEWED:
        _refuse(actor, "guidance.publish_refused", guidance,
                _("未经专家审核的指引不能发布。"), exc=InputError)
    with transaction.atomic():
        changed = Guidance.objects.filter(pk=guidance.pk, status=G.REVIEWED).update(
            status=G.PUBLISHED, published_at=timezone.now())
        if not changed:
            raise InputError(_("该指引已不在待发布状态。"))
        guidance.refresh_from_db()
        audit_record(actor=actor, action="guidance.publish", obj=guidance,
                     changes={"status": (G.REVIEWED, G.PUBLISHED)})
        if indicators_now:
            indicators.guidance_publish_count()
    return guidance


@transaction.atomic
def guidance_unpublish(*, actor: User, guidance: Guidance, reason: str) -> Guidance:
    """Take published guidance back to draft (it then needs a new review)."""
    _require_author(actor)
    if not (reason or "").strip():
        raise InputError(_("请填写撤回原因。"))
    if guidance.status != G.PUBLISHED:
        raise InputError(_("只有已发布的指引可以撤回。"))
    Guidance.objects.filter(pk=guidance.pk).update(status=G.DRAFT, reviewed_by=None, reviewed_at=None,
                                                   published_at=None)
    guidance.refresh_from_db()
    audit_record(actor=actor, action="guidance.unpublish", obj=guidance, changes={"status": (G.PUBLISHED, G.DRAFT)},
                 comment=reason.strip()[:300])
    indicators.guidance_publish_count()
    return guidance


# --- emergency events ------------------------------------------------------------------------------


def event_owner(units: Sequence[OrgUnit]) -> OrgUnit | None:
    """The one district every affected unit lies in, else their city."""
    districts = {ancestor_at(u, OrgUnit.Level.DISTRICT) for u in units}
    if len(districts) == 1 and None not in districts:
        return districts.pop()
    cities = {ancestor_at(u, OrgUnit.Level.CITY) for u in units}
    return cities.pop() if len(cities) == 1 else None


def _event_errors(hazard: Hazard | None, affected: Sequence[OrgUnit], starts_at: dt.datetime | None,
                  planned_end: dt.datetime | None) -> list[str]:
    errors = []
    if hazard is None:
        errors.append(_("灾种：请选择。"))
    if not affected:
        errors.append(_("影响地区：请至少选择一个辖市(区)或镇(街道)。"))
    elif any(u.level not in AFFECTED_LEVELS for u in affected):
        errors.append(_("影响地区：只能选择辖市(区)或镇(街道)。"))
    if starts_at is None or planned_end is None:
        errors.append(_("时间：请填写开始时间和计划结束时间。"))
    elif planned_end <= starts_at:
        errors.append(_("时间：计划结束时间应晚于开始时间。"))
    elif planned_end - starts_at > dt.timedelta(days=366):
        errors.append(_("时间：应急状态最长一年。"))
    return errors


def event_declare(*, actor: User, hazard: Hazard | None, affected: Sequence[OrgUnit],
                  starts_at: dt.datetime | None, planned_end: dt.datetime | None, note: str = "") -> EmergencyEvent:
    """Declare emergency mode. The city's office admin declares anywhere in the city, a district
    officer for units inside their own district only. When the declarer may run push campaigns, the
    campaign to the affected areas is prepared at once (as a draft awaiting someone else's approval);
    otherwise the event says so, and a campaigner prepares it from the event page."""
    errors = _event_errors(hazard, affected, starts_at, planned_end)
    note = checked(note, label=_("说明"), max_len=NOTE_MAX, required=False, errors=errors)
    if errors:
        raise InputError(errors[0], errors=errors)
    assert hazard is not None and starts_at is not None and planned_end is not None
    owner = event_owner(affected)
    if owner is None or not can_declare(actor, owner):
        outside = [u.name_zh for u in affected if not can_declare(actor, u)]
        _refuse(actor, "emergency.declare_refused", hazard,
                _("您无权为这些地区宣布应急状态：%(units)s。") % {"units": "、".join(outside) or owner},
                org_unit=owner)
    assert owner is not None
    with transaction.atomic():
        event = EmergencyEvent.objects.create(hazard=hazard, org_unit=owner, starts_at=starts_at,
                                              planned_end=planned_end, note=note, declared_by=actor)
        event.affected.set(affected)
        audit_record(actor=actor, action="emergency.declare", obj=event, org_unit=owner, changes={
            "hazard": (None, hazard.code), "affected": (None, sorted(u.code for u in affected)),
            "starts_at": (None, starts_at), "planned_end": (None, planned_end)}, comment=note)
        indicators.responses_publish(unit=owner, year=timezone.localtime(starts_at).year)
        from kepu.outreach import campaigns

        if campaigns.can_manage(scope_for(actor), owner):
            try:
                with transaction.atomic():
                    _campaign_prepare(actor, event)
            except (InputError, PermissionDenied) as exc:
                _campaign_skipped(event, str(exc).splitlines()[0])
        else:
            _campaign_skipped(event, _("宣布人没有推送权限，请精准推送运营人员或领导小组办公室在此准备推送活动。"))
    return event


def _campaign_skipped(event: EmergencyEvent, why: str) -> None:
    EmergencyEvent.objects.filter(pk=event.pk).update(campaign_note=why[:300])
    event.campaign_note = why[:300]


def _segment_rules(units: Sequence[OrgUnit]) -> dict[str, Any]:
    districts = sorted(u.code for u in units if u.level == OrgUnit.Level.DISTRICT)
    towns = sorted(u.code for u in units if u.level == OrgUnit.Level.TOWN)
    nodes: list[dict[str, Any]] = []
    if districts:
        nodes.append({"field": "district", "op": "in", "value": districts})
    if towns:
        nodes.append({"field": "town", "op": "in", "value": towns})
    return nodes[0] if len(nodes) == 1 else {"any": nodes}


def _campaign_prepare(actor: User, event: EmergencyEvent) -> None:
    from kepu.outreach import campaigns, segments

    units = list(event.affected.all())
    hazard = event.hazard
    resources = selectors.hazard_resources(hazard)
    if not resources:
        raise InputError(_("该灾种还没有关联已发布的科普内容，无法准备推送活动；请先在灾种页面关联内容。"))
    segment = segments.segment_save(
        actor=actor, code=f"emergency-{event.pk}",
        name_zh=(_("应急：%(hazard)s影响地区（%(units)s）") % {
            "hazard": hazard.name_zh, "units": "、".join(u.name_zh for u in units)})[:100],
        name_en=f"Emergency: {hazard.name_en or hazard.code} areas"[:100], rules=_segment_rules(units))
    tips = [g.title_zh for g in selectors.guidance_for(hazard, phase=Guidance.Phase.DURING)][:3]
    message = (event.note or _("%(hazard)s应急状态已启动，请查看防护指引。") % {"hazard": hazard.name_zh})
    if tips:
        message += " " + "；".join(tips)
    campaign = campaigns.campaign_create(
        user=actor, name=_("应急推送：%(hazard)s") % {"hazard": hazard.name_zh}, org_unit=event.org_unit,
        segment=segment, resources=resources, channel="inbox",
        title=(_("【应急提醒】%(hazard)s") % {"hazard": hazard.name_zh})[:100], message=message[:500],
        send_at=timezone.now())
    EmergencyEvent.objects.filter(pk=event.pk).update(campaign_id=campaign.pk, campaign_note="")
    event.campaign_id, event.campaign_note = campaign.pk, ""
    audit_record(actor=actor, action="emergency.campaign_prepare", obj=event, org_unit=event.org_unit,
                 changes={"campaign_id": (None, campaign.pk)})


def event_campaign_prepare(*, actor: User, event: EmergencyEvent) -> EmergencyEvent:
    """Prepare the push campaign of an event declared by someone without push rights."""
    from kepu.outreach import campaigns

    if event.campaign_id is not None:
        raise InputError(_("该应急事件已经准备了推送活动。"))
    if not event.active:
        raise InputError(_("应急状态已结束，不再准备推送。"))
    if not campaigns.can_manage(scope_for(actor), event.org_unit):
        raise PermissionDenied(_("您无权为该单位创建推送活动。"))
    with transaction.atomic():
        _campaign_prepare(actor, event)
    return event


def event_campaign_send(*, actor: User, event: EmergencyEvent) -> Any:
    """Approve (four eyes: not the campaign's author) and start the event's campaign through the
    outreach push; returns the campaign."""
    from kepu.outreach import campaigns

    if not event.active:
        raise InputError(_("应急状态已结束，不再发送推送。"))
    campaign = selectors.event_campaign(actor, event)
    if campaign is None:
        raise PermissionDenied(_("没有该应急事件的推送活动，或您无权批准。"))
    with transaction.atomic():
        campaign = campaigns.campaign_approve(campaign=campaign, user=actor)
        audit_record(actor=actor, action="emergency.campaign_approve", obj=event, org_unit=event.org_unit,
                     changes={"campaign_status": ("draft", "approved")})
    return campaigns.campaign_start(campaign=campaign, user=actor)


def event_end(*, actor: User, event: EmergencyEvent, note: str = "") -> EmergencyEvent:
    """End emergency mode explicitly; the record stays. A campaign still waiting for approval is
    cancelled (an alert sent after the end would mislead), when the officer may manage it."""
    if not can_declare(actor, event.org_unit):
        _refuse(actor, "emergency.end_refused", event, _("您无权结束该地区的应急状态。"), org_unit=event.org_unit)
    errors: list[str] = []
    note = checked(note, label=_("结束说明"), max_len=NOTE_MAX, required=False, errors=errors)
    if errors:
        raise InputError(errors[0], errors=errors)
    now = timezone.now()
    with transaction.atomic():
        if not EmergencyEvent.objects.filter(pk=event.pk, ended_at__isnull=True).update(
                ended_at=now, ended_by=actor, end_note=note):
            raise InputError(_("该应急状态已经结束。"))
        event.refresh_from_db()
        audit_record(actor=actor, action="emergency.end", obj=event, org_unit=event.org_unit,
                     changes={"ended_at": (None, now)}, comment=note)
        _cancel_waiting_campaign(actor, event)
    return event


def _cancel_waiting_campaign(actor: User, event: EmergencyEvent) -> None:
    from kepu.outreach import campaigns

    campaign = selectors.event_campaign(actor, event)
    if campaign is not None and campaign.status in ("draft", "approved"):
        campaigns.campaign_cancel(campaign=campaign, user=actor)
