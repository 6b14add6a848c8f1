from __future__ import annotations

from typing import Any

from django import template

from kepu.citizens.access import elder_mode

register = template.Library()


@register.simple_tag(takes_context=True)
def is_elder(context: dict[str, Any]) -> bool:
    request = context.get("request")
    return bool(request is not None and elder_mode(request))


@register.simple_tag(takes_context=True)
def nav_current(context: dict[str, Any], *prefixes: str, exact: bool = False) -> str:
    """'page' when the request path is one of `prefixes` (exact) or under one (for aria-current)."""
    request = context.get("request")
    path = request.path if request is not None else ""
    hit = path in prefixes if exact else path.startswith(prefixes)
    return "page" if hit else ""
