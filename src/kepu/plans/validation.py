"""Rules a reported value must pass before it is saved. Each returns messages a reporter can act on."""

from __future__ import annotations

import math

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.models import OrgUnit
from kepu.core.uploads import number_problem
from kepu.plans.models import Indicator, Observation, Target


def parse_number(raw: object, where: str) -> tuple[float | None, str | None]:
    if isinstance(raw, bool):
        return None, _("%(where)s: expected a number, got %(raw)r.") % {"where": where, "raw": raw}
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw or "").strip().replace(",", "").replace("，", "")
        if text.endswith("%"):
            text = text[:-1]
        if not text:
            return None, _("%(where)s: a value is required.") % {"where": where}
        try:
            value = float(text)
        except ValueError:
            return None, _("%(where)s: expected a number, got %(raw)r.") % {"where": where, "raw": raw}
    if not math.isfinite(value):
        return None, _("%(where)s: expected a finite number, got %(raw)r.") % {"where": where, "raw": raw}
    problem = number_problem(value)
    if problem:
        return None, f"{where}: {problem}"
    return value, None


def period_errors(indicator: Indicator, unit: OrgUnit, year: int, quarter: int) -> list[str]:
    plan = indicator.plan
    errors = []
    label = f"{year}" if quarter == 0 else f"{year}Q{quarter}"
    if not plan.start_year <= year <= plan.end_year:
        errors.append(
            _("Period %(p)s is outside the plan years %(a)s–%(b)s.")
            % {"p": label, "a": plan.start_year, "b": plan.end_year}
        )
    elif year > timezone.localdate().year:
        errors.append(_("Period %(p)s is in the future.") % {"p": label})
    if not 0 <= quarter <= 4:
        errors.append(_("Quarter must be 1–4 (or 0 for the whole year), got %(q)s.") % {"q": quarter})
    elif quarter and indicator.frequency != "quarter":
        errors.append(_("Indicator %(code)s is reported for whole years, not quarters.") % {"code": indicator.code})
    if not unit.active_in_year(year):
        errors.append(
            _("%(unit)s did not exist in %(year)s; report for its successor.") % {"unit": unit.name_zh, "year": year}
        )
    return errors


def value_errors(
    indicator: Indicator, unit: OrgUnit, year: int, quarter: int, value: float, comment: str, *, check_jump: bool = True
) -> list[str]:
    """Type, range, sign, district ≤ city, and the jump rule (a big change needs a comment).
    `check_jump=False` for a value already stored as a draft: it is not a new change."""
    errors = []
    code = indicator.code
    if indicator.integer and value != int(value):
        errors.append(
            _("%(code)s: expected a whole number of %(unit)s, got %(v)s.")
            % {"code": code, "unit": indicator.unit, "v": value}
        )
    low = 0.0 if indicator.min_value is None else indicator.min_value
    if value < low:
        errors.append(
            _("%(code)s: the value must be at least %(min)s, got %(v)s.") % {"code": code, "min": low, "v": value}
        )
    if indicator.max_value is not None and value > indicator.max_value:
        errors.append(
            _("%(code)s: the value must be at most %(max)s, got %(v)s.")
            % {"code": code, "max": indicator.max_value, "v": value}
        )
    if indicator.district_not_above_city and unit.parent_id is not None:
        city = (
            Observation.objects.filter(indicator=indicator, org_unit_id=unit.parent_id, year=year, quarter=quarter)
            .exclude(status=Observation.Status.DRAFT)
            .first()
        )
        if city is not None and value > city.value:
            errors.append(
                _("%(code)s: %(v)s is above the total %(total)s already reported for %(parent)s.")
                % {"code": code, "v": value, "total": city.value, "parent": unit.parent.name_zh if unit.parent else ""}
            )
    errors += subset_errors(indicator, unit, year, quarter, value)
    previous = (
        Observation.objects.filter(indicator=indicator, org_unit=unit, quarter=quarter, year__lt=year)
        .order_by("-year")
        .first()
    )
    if check_jump and indicator.jump_pct and previous is not None and previous.value > 0 and not comment.strip():
        change = abs(value - previous.value) / previous.value * 100
        if change > indicator.jump_pct:
            errors.append(
                _(
                    "%(code)s: %(v)s differs from %(prev)s in %(py)s by %(chg).0f%% (more than %(lim)s%%); "
                    "explain the change in a comment."
                )
                % {
                    "code": code,
                    "v": value,
                    "prev": previous.value,
                    "py": previous.period_label,
                    "chg": change,
                    "lim": indicator.jump_pct,
                }
            )
    return errors


def subset_errors(indicator: Indicator, unit: OrgUnit, year: int, quarter: int, value: float) -> list[str]:
    """A part (T08 其中 …) may not exceed its whole (T07) for the same unit and period, whichever is
    entered first. The targets' `subset_of` links the two indicators."""
    errors = []
    links = Target.objects.filter(active=True, subset_of__active=True).filter(
        Q(indicator=indicator) | Q(subset_of__indicator=indicator)
    ).select_related("indicator", "subset_of__indicator")
    for child in links:
        part_ind, whole_ind = child.indicator, child.subset_of.indicator  # type: ignore[union-attr]
        other = whole_ind if part_ind.pk == indicator.pk else part_ind
        obs = (
            Observation.objects.filter(indicator=other, org_unit=unit, year=year, quarter=quarter)
            .exclude(status=Observation.Status.RETURNED)
            .first()
        )
        if obs is None:
            continue
        part, whole = (value, obs.value) if other == whole_ind else (obs.value, value)
        if part > whole:
            errors.append(
                _("%(part)s（%(pv)s）是%(whole)s（%(wv)s）的一部分，不能大于它：%(unit)s %(period)s。")
                % {"part": part_ind.name_zh, "pv": f"{part:g}", "whole": whole_ind.name_zh, "wv": f"{whole:g}",
                   "unit": unit.name_zh, "period": obs.period_label}
            )
    return errors
