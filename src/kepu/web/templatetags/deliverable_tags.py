"""The dashboard's deliverables card: counts by status beside the numeric targets."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from kepu.plans import deliverables as svc
from kepu.web.deliverable_views import BADGE

register = template.Library()


@register.inclusion_tag("web/_deliverable_summary.html", takes_context=True)
def deliverable_summary(context: Any, plan: Any) -> dict[str, Any]:
    request = context["request"]
    items = list(svc.deliverables_for(plan, request.user))
    counts = svc.deliverable_counts(items, timezone.localdate())
    return {
        "plan": plan,
        "total": len(items),
        "statuses": [(k, label, BADGE[k], counts[k]) for k, label in svc.DISPLAY_STATUSES.items()],
    }
