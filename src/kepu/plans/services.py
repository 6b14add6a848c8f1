"""Writes for reporting: saving, submitting, approving and returning observations.

Every function is transactional, checks the user's scope, and audits old → new."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import number_problem
from kepu.plans import selectors
from kepu.plans.models import Indicator, Observation, Target
from kepu.plans.selectors import responsible_codes
from kepu.plans.tasks import enqueue_status_refresh
from kepu.plans.validation import parse_number, period_errors, value_errors
from kepu.stats.forecast import split_by_share

Status = Observation.Status


def _label(obs: Observation) -> str:
    return f"{obs.indicator.code} · {obs.org_unit.name_zh} · {obs.period_label}"


def _check_can_report(user: User, indicator: Indicator, unit: OrgUnit) -> None:
    if not scope_for(user).can_report(unit, responsible_codes(indicator)):
        raise PermissionDenied(selectors.report_refusal(user, unit, indicator.code, indicator))


@dataclass(frozen=True)
class Entry:
    """One value as a reporter entered it (raw value, parsed here)."""

    indicator: Indicator
    org_unit: OrgUnit
    year: int
    quarter: int
    raw_value: object
    comment: str = ""
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


def _entry_errors(entry: Entry, where: str, draft: Observation | None = None) -> tuple[float | None, list[str]]:
    value, err = parse_number(entry.raw_value, where)
    errors = period_errors(entry.indicator, entry.org_unit, entry.year, entry.quarter)
    if "\x00" in entry.comment:  # PostgreSQL cannot store it; the page, template and API refuse it alike
        errors.append(_("%(where)s：说明中有一个不可见的空字符（NUL），请删去后再提交。") % {"where": where})
    if err:
        return None, [*errors, err]
    assert value is not None
    for name in ("se", "ci_low", "ci_high"):
        problem = number_problem(getattr(entry, name))
        if problem:
            errors.append(f"{where}.{name}: {problem}")
    # A draft submitted as it stands (page or template shown pre-filled) is not a new change:
    # the jump rule applied when it was saved.
    unchanged_draft = draft is not None and draft.status == Status.DRAFT and draft.value == value
    errors += value_errors(entry.indicator, entry.org_unit, entry.year, entry.quarter, value, entry.comment,
                           check_jump=not unchanged_draft)
    return value, errors


@transaction.atomic
def observation_save(
    *,
    user: User,
    entry: Entry,
    submit: bool = False,
    source: str = "manual",
    create_only: bool = False,
) -> Observation:
    """Create or update a draft (or returned) value; with `submit`, also submit it for review.
    `create_only` makes an existing value for the same unit and period an error (API POST)."""
    _check_can_report(user, entry.indicator, entry.org_unit)
    obs = (
        Observation.objects.select_for_update()
        .filter(indicator=entry.indicator, org_unit=entry.org_unit, year=entry.year, quarter=entry.quarter)
        .first()
    )
    value, errors = _entry_errors(entry, f"{entry.indicator.code}", obs)
    if errors:
        raise InputError(errors[0], errors=errors)
    assert value is not None
    fields = {
        "value": value,
        "comment": entry.comment,
        "se": entry.se,
        "ci_low": entry.ci_low,
        "ci_high": entry.ci_high,
    }
    if obs is None:
        obs = Observation.objects.create(
            indicator=entry.indicator,
            org_unit=entry.org_unit,
            year=entry.year,
            quarter=entry.quarter,
            created_by=user,
            source=source,
            **fields,
        )
        audit_record(
            actor=user,
            action="observation.create",
            obj=obs,
            org_unit=obs.org_unit,
            label=_label(obs),
            changes={"value": (None, value), "status": (None, obs.status)},
            comment=entry.comment,
        )
    else:
        if create_only or obs.status in (Status.SUBMITTED, Status.APPROVED):
            raise InputError(
                _(
                    "%(label)s was already %(status)s; a value can be submitted once — ask a reviewer "
                    "to return it to change it."
                )
                % {"label": _label(obs), "status": obs.get_status_display()}
            )
        changes = {k: (getattr(obs, k), v) for k, v in fields.items() if getattr(obs, k) != v}
        for k, v in fields.items():
            setattr(obs, k, v)
        obs.source = source
        obs.save()
        if changes:
            audit_record(
                actor=user,
                action="observation.update",
                obj=obs,
                org_unit=obs.org_unit,
                label=_label(obs),
                changes=changes,
                comment=entry.comment,
            )
    if submit:
        obs = observation_submit(user=user, observation=obs)
    return obs


@transaction.atomic
def observation_submit(*, user: User, observation: Observation) -> Observation:
    obs = Observation.objects.select_for_update().select_related("indicator", "org_unit").get(pk=observation.pk)
    _check_can_report(user, obs.indicator, obs.org_unit)
    if obs.status not in (Status.DRAFT, Status.RETURNED):
        raise InputError(
            _("%(label)s is %(status)s and cannot be submitted again.")
            % {"label": _label(obs), "status": obs.get_status_display()}
        )
    old = obs.status
    obs.status, obs.submitted_by, obs.submitted_at = Status.SUBMITTED, user, timezone.now()
    obs.save()
    audit_record(
        actor=user,
        action="observation.submit",
        obj=obs,
        org_unit=obs.org_unit,
        label=_label(obs),
        changes={"status": (old, obs.status)},
    )
    return obs


def _check_review(user: User, obs: Observation) -> None:
    if not scope_for(user).can_review(obs.org_unit):
        raise PermissionDenied(_("You may not review %(label)s.") % {"label": _label(obs)})
    if obs.status != Status.SUBMITTED:
        raise InputError(
            _("%(label)s is %(status)s; only submitted values can be reviewed.")
            % {"label": _label(obs), "status": obs.get_status_display()}
        )


def pending_children(obs: Observation) -> list[OrgUnit]:
    """Districts under a city-level value whose own value for the period is not approved yet."""
    children = [
        u
        for u in OrgUnit.objects.filter(parent=obs.org_unit, level=OrgUnit.Level.DISTRICT)
        if u.active_in_year(obs.year)
    ]
    approved = set(
        Observation.objects.filter(
            indicator=obs.indicator, org_unit__in=children, year=obs.year, quarter=obs.quarter, status=Status.APPROVED
        ).values_list("org_unit_id", flat=True)
    )
    expected = {a.org_unit_id for t in obs.indicator.targets.all() for a in t.allocations.all()}
    return [u for u in children if u.pk in expected and u.pk not in approved]


def _record_review(user: User, obs: Observation, status: str, comment: str) -> None:
    """Stamp a review decision on a submitted value and audit it."""
    obs.status, obs.reviewed_by, obs.reviewed_at, obs.review_comment = status, user, timezone.now(), comment
    obs.save()
    audit_record(
        actor=user,
        action=f"observation.{'approve' if status == Status.APPROVED else 'return'}",
        obj=obs,
        org_unit=obs.org_unit,
        label=_label(obs),
        changes={"status": (Status.SUBMITTED, status)},
        comment=comment,
    )


@transaction.atomic
def observation_approve(*, user: User, observation: Observation, comment: str = "") -> Observation:
    """Approve and lock a value. A city value is approved only after all its districts' values, and
    never by the person who entered or submitted it."""
    obs = Observation.objects.select_for_update().select_related("indicator", "org_unit").get(pk=observation.pk)
    _check_review(user, obs)
    if selectors.is_own_submission(user, obs):
        # Four eyes: nobody approves their own figures, an office admin included (returning them is allowed).
        raise PermissionDenied(
            _("%(label)s 是您本人填报或提交的，不能由您批准；请另一位审核人处理（四眼原则）。") % {"label": _label(obs)}
        )
    if obs.org_unit.level == "city":
        waiting = pending_children(obs)
        if waiting:
            raise InputError(
                _("Approve the districts first: %(units)s have no approved value for %(p)s.")
                % {"units": "、".join(u.name_zh for u in waiting), "p": obs.period_label}
            )
    _record_review(user, obs, Status.APPROVED, comment)
    enqueue_status_refresh(obs.indicator.plan_id)
    return obs


LEVEL_ORDER = {"village": 0, "town": 1, "district": 2, "city": 3}


@transaction.atomic
def observations_approve(*, user: User, observations: list[Observation], comment: str = "") -> list[Observation]:
    """Approve several values at once (the inbox's batch approve): lower levels before the city,
    and all or nothing, so one refusal (e.g. the user's own submission) approves none."""
    done: list[Observation] = []
    errors: list[str] = []
    for obs in sorted(observations, key=lambda o: (LEVEL_ORDER.get(o.org_unit.level, 9), o.pk)):
        try:
            done.append(observation_approve(user=user, observation=obs, comment=comment))
        except (InputError, PermissionDenied) as exc:
            errors.append(str(exc))
    if errors:
        transaction.set_rollback(True)
        summary = _("所选 %(n)s 项均未批准，原因如下：") % {"n": len(observations)}
        raise InputError(summary, errors=[summary, *errors])
    return done


@transaction.atomic
def observation_return(*, user: User, observation: Observation, comment: str) -> Observation:
    obs = Observation.objects.select_for_update().select_related("indicator", "org_unit").get(pk=observation.pk)
    _check_review(user, obs)
    if not comment.strip():
        raise InputError(_("Say why the value is returned: a comment is required."))
    _record_review(user, obs, Status.RETURNED, comment)
    return obs


@transaction.atomic
def observation_publish(
    *,
    indicator: Indicator,
    org_unit: OrgUnit,
    year: int,
    value: float,
    source: str,
    se: float | None = None,
    ci_low: float | None = None,
    ci_high: float | None = None,
    note: str = "",
) -> Observation:
    """For domain apps (through their indicators.py): record a value derived from platform data.
    Derived values arrive approved; replacing one is audited like any other change."""
    errors = period_errors(indicator, org_unit, year, 0)
    if errors:
        raise InputError(errors[0], errors=errors)
    obs, created = Observation.objects.select_for_update().get_or_create(
        indicator=indicator,
        org_unit=org_unit,
        year=year,
        quarter=0,
        defaults={
            "value": value,
            "se": se,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "source": source,
            "status": Status.APPROVED,
            "comment": note,
        },
    )
    old = None if created else obs.value
    if not created:
        obs.value, obs.se, obs.ci_low, obs.ci_high, obs.source, obs.status = (
            value,
            se,
            ci_low,
            ci_high,
            source,
            Status.APPROVED,
        )
        obs.save()
    if created or old != value:
        audit_record(
            actor=None,
            action="observation.derive",
            obj=obs,
            org_unit=org_unit,
            label=_label(obs),
            changes={"value": (old, value)},
            comment=note,
        )
        enqueue_status_refresh(indicator.plan_id)
    return obs


SHARE_TOLERANCE_PCT = 0.01


@transaction.atomic
def allocation_shares_set(*, user: User, target: Target, shares_pct: dict[str, float], comment: str = "") -> None:
    """The office sets the districts' shares (in %) of a split target by hand. Every district of the
    cascade must be given and the shares must sum to 100 % (no remainder is spread silently); each
    changed share is audited old → new with the district's new value. Re-imports keep these shares."""
    if not scope_for(user).is_office_admin:
        raise PermissionDenied(_("只有领导小组办公室可以调整各区分解份额。"))
    allocations = {a.org_unit.code: a for a in target.allocations.select_related("org_unit")}
    if target.cascade not in (Target.Cascade.POPULATION, Target.Cascade.SHARE) or not allocations:
        raise InputError(_("%(code)s 不按基数分解，没有可调整的份额。") % {"code": target.code})
    errors = [
        _("%(unit)s：份额须在 0 到 100 之间。") % {"unit": allocations[c].org_unit.name_zh}
        for c, v in shares_pct.items()
        if c in allocations and not (math.isfinite(v) and 0 <= v <= 100)
    ]
    unknown = sorted(set(shares_pct) - set(allocations))
    missing = [a.org_unit.name_zh for c, a in allocations.items() if c not in shares_pct]
    if unknown:
        errors.append(_("不属于本目标分解的单位：%(codes)s。") % {"codes": "、".join(unknown)})
    if missing:
        errors.append(_("缺少以下单位的份额：%(units)s。") % {"units": "、".join(missing)})
    total = sum(v for v in shares_pct.values() if math.isfinite(v))
    if not errors and abs(total - 100) > SHARE_TOLERANCE_PCT:
        errors.append(
            _("各单位份额合计为 %(total)s%%，应为 100%%；请调整后再保存（余数不会自动分配）。")
            % {"total": f"{total:.2f}"}
        )
    if errors:
        raise InputError(errors[0], errors=errors)
    shares = {c: shares_pct[c] / 100 for c in allocations}
    values = split_by_share(target.value, shares, integer=target.indicator.integer)
    for code, alloc in allocations.items():
        old_share, old_value = alloc.share, alloc.value
        if old_share is not None and abs(old_share - shares[code]) < 1e-9 and old_value == values[code]:
            continue
        alloc.share, alloc.value, alloc.overridden = shares[code], values[code], True
        alloc.save(update_fields=["share", "value", "overridden"])
        audit_record(
            actor=user,
            action="allocation.override",
            obj=alloc,
            org_unit=alloc.org_unit,
            label=f"{target.code} · {alloc.org_unit.name_zh}",
            changes={"share": (old_share, shares[code]), "value": (old_value, values[code])},
            comment=comment,
        )
    enqueue_status_refresh(target.plan_id)
