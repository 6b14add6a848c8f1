from __future__ import annotations

from typing import Any

from django import template

from kepu.plans.selectors import format_number

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
