"""Everything that writes recognition records: honours, nominations, reviews, award decisions and
revocations. Transactional and audited; nobody reviews or awards a nomination they made or one of
themselves. Awarding and revoking republish SCI_HONOURS in the same transaction."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.community.selectors import expert_conflict
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import code_problem
from kepu.plans.derived import ancestor_at
from kepu.recognition import indicators
from kepu.recognition.models import Honour, HonourAward, Nomination, NominationReview
from kepu.recognition.selectors import can_nominate, can_review

# The honours the plan names or implies: 市长奖 is named ("持续开展‘常州市青少年科技创新市长奖’评选"),
# the others are the 表扬激励机制 for individuals and collectives.
PLAN_HONOURS = [
    ("CZ-MAYOR-YOUTH", "常州市青少年科技创新市长奖",
     "Changzhou Mayor's Award for Youth Science and Technology Innovation",
     Honour.Level.CITY, Honour.For.INDIVIDUAL),
    ("CZ-SCI-COLLECTIVE", "常州市科普工作先进集体", "Changzhou Outstanding Collective in Science Popularisation",
     Honour.Level.CITY, Honour.For.COLLECTIVE),
    ("CZ-SCI-INDIVIDUAL", "常州市科普工作先进个人", "Changzhou Outstanding Individual in Science Popularisation",
     Honour.Level.CITY, Honour.For.INDIVIDUAL),
    ("CZ-SCI-VOLUNTEER", "常州市优秀科普志愿者", "Changzhou Outstanding Science Volunteer",
     Honour.Level.CITY, Honour.For.INDIVIDUAL),
]


def _publish(unit: OrgUnit, year: int) -> None:
    city = ancestor_at(unit, "city")
    if city is not None:
        indicators.honours_publish(city=city, year=year)


@transaction.atomic
def honour_save(
    *, actor: User, code: str, name_zh: str, level: str, awarded_to: str, org_unit: OrgUnit,
    name_en: str = "", description: str = "", active: bool = True,
) -> Honour:
    """Create or update an honour (office admins only)."""
    scope = scope_for(actor)
    if not (scope.is_office_admin and scope.covers(org_unit)):
        raise PermissionDenied(_("只有领导小组办公室可以设置表彰项目。"))
    errors = []
    if (p := code_problem(code, max_length=40)) is not None:
        errors.append(_("代码：%(p)s") % {"p": p})
    if not name_zh.strip():
        errors.append(_("名称：必填。"))
    if level not in Honour.Level.values:
        errors.append(_("级别：无法识别“%(v)s”。") % {"v": level})
    if awarded_to not in Honour.For.values:
        errors.append(_("授予对象：无法识别“%(v)s”。") % {"v": awarded_to})
    if errors:
        raise InputError(errors[0], errors=errors)
    data = {"name_zh": name_zh.strip(), "name_en": name_en, "level": level, "awarded_to": awarded_to,
            "org_unit": org_unit, "description": description, "active": active}
    honour = Honour.objects.filter(code=code).first()
    if honour is None:
        honour = Honour.objects.create(code=code, **data)
        audit_record(actor=actor, action="recognition.honour_create", obj=honour, org_unit=org_unit,
                     changes={"name_zh": (None, honour.name_zh)})
        return honour
    changes = {}
    for k, v in data.items():
        if getattr(honour, k) != v:
            changes[k] = (str(getattr(honour, k)), str(v))
            setattr(honour, k, v)
    honour.save()
    if changes:
        audit_record(actor=actor, action="recognition.honour_update", obj=honour, org_unit=org_unit, changes=changes)
    return honour


def plan_honours_ensure(*, actor: User, city: OrgUnit) -> list[Honour]:
    """The plan's honours, created once (kept as they are if present)."""
    out = []
    for code, zh, en, level, to in PLAN_HONOURS:
        found = Honour.objects.filter(code=code).first()
        out.append(found or honour_save(actor=actor, code=code, name_zh=zh, name_en=en, level=level,
                                        awarded_to=to, org_unit=city))
    return out


def nomination_problems(
    *, honour: Honour, kind: str, year: int, person_name: str, organisation: str, collective_name: str, reason: str,
) -> list[str]:
    errors = []
    if kind not in Nomination.Kind.values:
        errors.append(_("类型须为“个人”或“集体”，得到“%(v)s”。") % {"v": kind})
    elif honour.awarded_to != Honour.For.BOTH and honour.awarded_to != kind:
        errors.append(_("“%(h)s”只授予%(to)s。") % {"h": honour.name_zh, "to": honour.get_awarded_to_display()})
    if kind == Nomination.Kind.INDIVIDUAL:
        if not person_name.strip():
            errors.append(_("姓名：推荐个人时必填。"))
        if not organisation.strip():
            errors.append(_("工作单位：推荐个人时必填。"))
    elif kind == Nomination.Kind.COLLECTIVE and not collective_name.strip():
        errors.append(_("集体名称：推荐集体时必填。"))
    if not reason.strip():
        errors.append(_("推荐理由：必填。"))
    if not 2000 <= year <= timezone.localdate().year + 1:
        errors.append(_("年度：须在 2000 年至明年之间，得到 %(y)s。") % {"y": year})
    for label, value, n in ((_("姓名"), person_name, 100), (_("工作单位"), organisation, 200),
                            (_("集体名称"), collective_name, 200)):
        if len(value) > n:
            errors.append(_("%(f)s：最长 %(n)s 个字符。") % {"f": label, "n": n})
    return errors


@transaction.atomic
def nomination_create(
    *, actor: User, honour: Honour, year: int, kind: str, org_unit: OrgUnit, reason: str,
    person_name: str = "", organisation: str = "", nominee_user: User | None = None,
    collective_name: str = "", evidence: str = "", where: str = "",
) -> Nomination:
    """Nominate a person (name, organisation, optional account) or a collective (an organisation's name,
    or the org unit itself) in the actor's scope. A collective without a name takes its unit's name."""
    if not can_nominate(scope_for(actor), org_unit):
        raise PermissionDenied(_("您只能推荐本辖区的个人和集体。"))
    if kind == Nomination.Kind.COLLECTIVE and not collective_name.strip():
        collective_name = org_unit.name_zh
    errors = nomination_problems(honour=honour, kind=kind, year=year, person_name=person_name,
                                 organisation=organisation, collective_name=collective_name, reason=reason)
    if not honour.active:
        errors.append(_("“%(h)s”已停止评选。") % {"h": honour.name_zh})
    if nominee_user is not None and nominee_user.pk == actor.pk:
        errors.append(_("不能推荐自己。"))
    if errors:
        prefix = f"{where} " if where else ""
        errors = [prefix + e for e in errors]
        raise InputError(errors[0], errors=errors)
    nomination = Nomination.objects.create(
        honour=honour, year=year, kind=kind, org_unit=org_unit, reason=reason.strip(), evidence=evidence.strip(),
        person_name=person_name.strip() if kind == "individual" else "",
        organisation=organisation.strip() if kind == "individual" else "",
        nominee_user=nominee_user if kind == "individual" else None,
        collective_name=collective_name.strip() if kind == "collective" else "", nominated_by=actor,
    )
    audit_record(actor=actor, action="recognition.nominate", obj=nomination, org_unit=org_unit,
                 changes={"status": (None, nomination.status), "nominee": (None, nomination.nominee)})
    return nomination


@transaction.atomic
def nomination_review(
    *, actor: User, nomination: Nomination, recommend: bool, score: int | None = None, comment: str = "",
) -> NominationReview:
    """A reviewer (office or 审核员 covering the nominee's unit) scores and/or recommends. Not the
    nominator, not the nominee, and not an expert from the nominee's organisation."""
    nomination = Nomination.objects.select_for_update(of=("self",)).get(pk=nomination.pk)
    if not can_review(scope_for(actor), nomination.org_unit):
        raise PermissionDenied(_("只有领导小组办公室或审核员可以评审推荐。"))
    if actor.pk in (nomination.nominated_by_id, nomination.nominee_user_id):
        raise PermissionDenied(_("不能评审自己推荐的或推荐自己的人选。"))
    org = nomination.organisation or nomination.collective_name
    if org and expert_conflict(actor, org):
        raise InputError(_("利益冲突：您与被推荐人“%(n)s”同属一个单位（%(o)s），不能评审。")
                         % {"n": nomination.nominee, "o": org})
    if nomination.status != Nomination.Status.SUBMITTED:
        raise InputError(_("该推荐已有决定，评审已结束。"))
    if score is not None and (isinstance(score, bool) or not 0 <= int(score) <= 100):
        raise InputError(_("评分须为 0–100 的整数，得到 %(s)s。") % {"s": score})
    review, created = NominationReview.objects.get_or_create(
        nomination=nomination, reviewer=actor, defaults={"recommend": recommend, "score": score, "comment": comment})
    old = (None, None) if created else (review.score, review.recommend)
    if not created:
        review.recommend, review.score, review.comment = recommend, score, comment
        review.save()
    audit_record(actor=actor, action="recognition.review", obj=nomination, org_unit=nomination.org_unit,
                 changes={"score": (old[0], score), "recommend": (old[1], recommend)}, comment=comment)
    return review


@transaction.atomic
def award_decide(*, actor: User, nomination: Nomination, certificate_no: str = "") -> HonourAward:
    """The office confers the honour for the nomination's year; needs a recommending review. Nobody
    awards a nomination they made, or themselves. Publishes SCI_HONOURS."""
    nomination = Nomination.objects.select_for_update(of=("self",)).select_related("honour").get(pk=nomination.pk)
    scope = scope_for(actor)
    if not (scope.is_office_admin and scope.covers(nomination.honour.org_unit)):
        raise PermissionDenied(_("只有领导小组办公室可以决定授予表彰。"))
    if actor.pk in (nomination.nominated_by_id, nomination.nominee_user_id):
        raise PermissionDenied(_("不能对自己推荐的或推荐自己的人选作出授予决定。"))
    if nomination.status != Nomination.Status.SUBMITTED:
        raise InputError(_("该推荐已有决定（%(s)s）。") % {"s": nomination.get_status_display()})
    if not nomination.reviews.filter(recommend=True).exists():
        raise InputError(_("还没有评审人推荐该人选，不能授予。"))
    award = HonourAward.objects.create(nomination=nomination, year=nomination.year, decided_by=actor,
                                       certificate_no=certificate_no[:40])
    nomination.status = Nomination.Status.AWARDED
    nomination.save(update_fields=["status"])
    audit_record(actor=actor, action="recognition.award", obj=nomination, org_unit=nomination.org_unit,
                 changes={"status": (Nomination.Status.SUBMITTED, Nomination.Status.AWARDED)})
    _publish(nomination.org_unit, nomination.year)
    return award


@transaction.atomic
def nomination_decline(*, actor: User, nomination: Nomination, comment: str = "") -> Nomination:
    nomination = Nomination.objects.select_for_update(of=("self",)).select_related("honour").get(pk=nomination.pk)
    scope = scope_for(actor)
    if not (scope.is_office_admin and scope.covers(nomination.honour.org_unit)):
        raise PermissionDenied(_("只有领导小组办公室可以作出决定。"))
    if nomination.status != Nomination.Status.SUBMITTED:
        raise InputError(_("该推荐已有决定。"))
    nomination.status = Nomination.Status.DECLINED
    nomination.save(update_fields=["status"])
    audit_record(actor=actor, action="recognition.decline", obj=nomination, org_unit=nomination.org_unit,
                 changes={"status": (Nomination.Status.SUBMITTED, Nomination.Status.DECLINED)}, comment=comment)
    return nomination


@transaction.atomic
def award_revoke(*, actor: User, award: HonourAward, reason: str) -> HonourAward:
    """Revoke an award (the record stays, marked revoked); SCI_HONOURS moves back at once."""
    award = HonourAward.objects.select_for_update(of=("self",)).select_related("nomination__honour").get(pk=award.pk)
    nomination = award.nomination
    scope = scope_for(actor)
    if not (scope.is_office_admin and scope.covers(nomination.honour.org_unit)):
        raise PermissionDenied(_("只有领导小组办公室可以撤销表彰。"))
    if award.revoked:
        raise InputError(_("该表彰已撤销。"))
    if not reason.strip():
        raise InputError(_("撤销表彰时请写明原因。"))
    award.revoked, award.revoked_by, award.revoked_at = True, actor, timezone.now()
    award.revoke_reason = reason[:300]
    award.save()
    nomination.status = Nomination.Status.REVOKED
    nomination.save(update_fields=["status"])
    audit_record(actor=actor, action="recognition.revoke", obj=nomination, org_unit=nomination.org_unit,
                 changes={"status": (Nomination.Status.AWARDED, Nomination.Status.REVOKED)}, comment=reason)
    _publish(nomination.org_unit, award.year)
    return award
