from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def name(obj: Any, lang: str) -> str:
    """The object's name in the page language (plan data keeps Chinese, with English beside)."""
    return obj.name(lang or "zh-hans") if obj is not None else ""


@register.filter
def num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"
