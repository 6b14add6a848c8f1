"""Which plan a page shows: one of the plans the user's scope reaches (several cities and the
province share one install), chosen with `?plan=CODE` and remembered in the session."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from kepu.core.scope import scope_for
from kepu.plans.models import Plan

SESSION_KEY = "kepu_plan"


def plans_for(user: User | AnonymousUser) -> list[Plan]:
    """Plans the user may open, in import order (a province user: the province's and every city's)."""
    scope = scope_for(user)
    plans = Plan.objects.select_related("region").order_by("id")
    return [p for p in plans if scope.sees_plan_region(p.region)]


def plan_visible(user: User | AnonymousUser, code: str) -> Plan:
    """The plan with this code if the user may open it; otherwise 404 (another city's plan is not
    shown to exist)."""
    plan = next((p for p in plans_for(user) if p.code == code), None)
    if plan is None:
        raise Http404(_("没有这个规划,或您无权查看。"))
    return plan


def plan_for_request(request: HttpRequest) -> Plan:
    """`?plan=CODE` (remembered for the next pages), else the remembered plan, else the user's first."""
    code = request.GET.get("plan")
    if code:
        plan = plan_visible(request.user, code)
        if request.session.get(SESSION_KEY) != plan.code:
            request.session[SESSION_KEY] = plan.code
        return plan
    plans = plans_for(request.user)
    remembered = request.session.get(SESSION_KEY)
    for plan in plans:
        if plan.code == remembered:
            return plan
    if plans:
        return plans[0]
    fallback = Plan.objects.select_related("region").order_by("id").first()
    if fallback is None:
        raise Http404(_("No plan has been imported yet. Run: kepu plan import FILE"))
    if scope_for(request.user).paths:
        raise Http404(_("没有这个规划,或您无权查看。"))
    # A user without an org-unit role sees the first plan's structure and no unit's data.
    return fallback
