"""Staff pages: trending needs and gaps (/outreach/demand/) and reach (/outreach/reach/). Thin: the rules
are in kepu.outreach.demand and kepu.outreach.engagement; the scope is computed once here."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kepu.citizens.models import KEY_GROUPS
from kepu.core.models import OrgUnit
from kepu.core.scope import Scope, scope_for
from kepu.outreach import engagement
from kepu.outreach.demand import demand

WINDOWS = (7, 14, 28, 56)
RESOURCE_NEW_FALLBACK = "/outreach/resources/new/"


def _scope(request: HttpRequest) -> Scope:
    scope = scope_for(request.user)
    if not engagement.can_read(scope):
        raise DjangoPermissionDenied(_("只有领导小组办公室、科普内容编辑和精准推送运营人员可以查看。"))
    return scope


def _districts(scope: Scope) -> list[OrgUnit]:
    units = OrgUnit.objects.filter(level=OrgUnit.Level.DISTRICT)
    if not scope.superuser:
        units = units.filter(scope.unit_filter(roles=engagement.STAFF_ROLES))
    return list(units.order_by("code"))


def _name(unit: OrgUnit) -> str:
    return unit.name_en if (get_language() or "").startswith("en") and unit.name_en else unit.name_zh


def _new_resource_url(term: str) -> str:
    """The catalogue's create page, with the term as the draft's title."""
    try:
        base = reverse("outreach:new")
    except NoReverseMatch:
        base = RESOURCE_NEW_FALLBACK
    return f"{base}?{urlencode({'title_zh': term, 'q': term})}"


def _filters(request: HttpRequest, scope: Scope) -> dict[str, Any]:
    districts = _districts(scope)
    by_code = {d.code: d for d in districts}
    district = by_code.get(request.GET.get("district", ""))
    if district is None and len(districts) == 1 and not engagement.covers_city(scope):
        district = districts[0]  # a district's staff always look at their district
    group = request.GET.get("group", "")
    if group not in dict(KEY_GROUPS):
        group = ""
    return {
        "districts": [(d.code, _name(d)) for d in districts], "district": district,
        "groups": KEY_GROUPS, "group": group,
    }


@login_required
def demand_page(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    f = _filters(request, scope)
    try:
        days = int(request.GET.get("days", 28))
    except ValueError:
        days = 28
    days = days if days in WINDOWS else 28
    result = demand(scope=scope, days=days, district=f["district"], group=f["group"])
    gaps = [{"trend": t, "new_url": _new_resource_url(t.key)} for t in result.gaps]
    return render(request, "outreach/demand.html", {
        **f, "result": result, "gaps": gaps, "days": days, "windows": WINDOWS,
        "district_code": f["district"].code if f["district"] else "",
    })


@login_required
def reach_page(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    year = min(max(year, 2000), today.year)
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today)
    tables = [
        (_("按辖市(区)"), "district", engagement.reach(scope=scope, by="district", start=start, end=end)),
        (_("按重点人群"), "key_group", engagement.reach(scope=scope, by="key_group", start=start, end=end)),
        (_("按主题"), "topic", engagement.reach(scope=scope, by="topic", start=start, end=end)),
        (_("按月份"), "month", engagement.reach(scope=scope, by="month", start=start, end=end)),
    ]
    return render(request, "outreach/demand_reach.html", {
        "tables": tables, "year": year, "years": list(range(today.year, today.year - 5, -1)),
        "start": start, "end": end, "districts": [_name(d) for d in _districts(scope)],
        "whole_city": engagement.covers_city(scope) or scope.superuser,
    })


app_name = "demand"

urlpatterns = [
    path("outreach/demand/", demand_page, name="demand"),
    path("outreach/reach/", reach_page, name="reach"),
]
