from __future__ import annotations

from typing import Any

from django import template

from kepu.plans.selectors import format_number, format_value
from kepu.plans.status import interval_note as _interval_note
from kepu.plans.status import rule_label as _rule_label
from kepu.plans.status import uncertainty as _uncertainty

register = template.Library()


@register.filter
def name(obj: Any, lang: str) -> str:
    """The object's name in the page language (plan data keeps Chinese, with English beside)."""
    return obj.name(lang or "zh-hans") if obj is not None else ""


@register.filter
def num(value: float | None, digits: int = 1) -> str:
    return format_number(value, digits) if value is not None else "—"


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


@register.filter
def pct1(share: float | None) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    return "—" if share is None else f"{100 * share:.1f}%"


@register.filter
def getkey(mapping: Any, key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def note(target: Any, lang: str) -> str:
    """A target's plan-file note in the page language."""
    return str(target.note(lang or "zh-hans")) if target is not None else ""


@register.filter
def val(value: float | None, indicator: Any) -> str:
    """A value at its indicator's precision (counts whole, everything else one decimal); "—" if none.
    Takes the indicator, or a target (its indicator is used)."""
    if value is None:
        return "—"
    ind = getattr(indicator, "indicator", indicator)
    return format_value(value, bool(getattr(ind, "integer", False)))


@register.filter
def rule_label(status: Any) -> str:
    return _rule_label(status.target.kind, status.rule) if status is not None else ""


@register.filter
def interval_note(status: Any) -> str:
    return _interval_note(status) if status is not None else ""


@register.filter
def uncertainty(status: Any, target: Any) -> str:
    """The probability with its forecast interval, or a survey estimate's 95 % CI (kepu.plans.status)."""
    return _uncertainty(target, status) if status is not None else ""
