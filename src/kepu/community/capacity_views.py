"""Pages of the capacity index (科学素质建设能力监测评估): the overview beside literacy with the
correlation (/capacity/), one district's breakdown over the years (/capacity/<code>/) and the
office's weights (POST /capacity/weights/). Thin: the method is kepu.community.capacity; the scope is
computed once here and passed down."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepu.community import capacity
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import Scope, actor, scope_for
from kepu.plans.models import Plan
from kepu.plans.selectors import plan_default


def _context(request: HttpRequest) -> tuple[Plan, Scope, bool, set[str]]:
    plan = plan_default()
    if plan is None:
        raise Http404(_("尚未导入规划。"))
    scope = scope_for(request.user)
    sees_all, codes = capacity.visible_units(scope, plan)
    if not codes:
        raise DjangoPermissionDenied(_("只有市科学素质办和各辖市(区)的工作人员可以查看能力监测评估。"))
    return plan, scope, sees_all, codes


def _name(unit: OrgUnit) -> str:
    return unit.name_en if (get_language() or "").startswith("en") and unit.name_en else unit.name_zh


def _year(request: HttpRequest, years: list[int], rows_by_year: dict[int, list[capacity.Row]],
          codes: set[str]) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = 0
    if year in years:
        return year
    with_index = [y for y in years if any(r.index is not None for r in capacity.units_rows(rows_by_year[y], codes))]
    return (with_index or years)[-1]


def _components(goal: dict[str, float], weights: dict[str, float]) -> list[dict[str, Any]]:
    total = sum(weights.values()) or 1.0
    return [
        {"code": c.code, "label": c.label, "unit": c.unit, "benchmark": goal[c.code], "basis": c.basis,
         "weight": weights[c.code], "share": weights[c.code] / total}
        for c in capacity.COMPONENTS
    ]


def _missing_labels(row: capacity.Row) -> list[str]:
    return [str(capacity.BY_CODE[m].label) for m in row.missing]


def _chart(points: list[tuple[str, int, float, float]], names: dict[str, str], fit: bool) -> str:
    return json.dumps({
        "points": [{"name": f"{names.get(code, code)} {year}", "value": [round(i, 2), round(lit, 2)]}
                   for code, year, i, lit in points],
        "fit": fit,
        "xName": _("能力指数"), "yName": _("公民具备科学素质比例(%)"),
    }, ensure_ascii=False)


@login_required
def capacity_page(request: HttpRequest) -> HttpResponse:
    plan, scope, sees_all, codes = _context(request)
    years = capacity.plan_years(plan)
    rows_by_year = capacity.capacity_compute(plan=plan, years=years)
    year = _year(request, years, rows_by_year, codes)
    rows = rows_by_year[year]
    shown = capacity.units_rows(rows, codes)
    city_row = rows[-1]
    # The correlation is an aggregate over every district-year; a district officer sees the
    # statistic but only their own district's points.
    corr = capacity.correlation(rows_by_year)
    by_year = [(y, c) for y, c in capacity.correlation_by_year(rows_by_year).items() if c.n]
    names = {r.unit.code: _name(r.unit) for r in rows}
    points = [p for p in corr.points if p[0] in codes]
    weights = capacity.weights_for(plan.region)
    goal = capacity.benchmarks(plan)
    context = {
        "plan": plan, "year": year, "years": years, "sees_all": sees_all,
        "rows": [{"row": r, "name": names[r.unit.code], "missing": _missing_labels(r)}
                 for r in shown],
        "city": {"row": city_row, "name": _name(city_row.unit),
                 "missing": _missing_labels(city_row)},
        "components": _components(goal, weights),
        "matrix": [
            {"code": c.code, "label": c.label, "unit": c.unit,
             "cells": [{"value": r.values.get(c.code), "score": r.scores.get(c.code)} for r in [*shown, city_row]]}
            for c in capacity.COMPONENTS
        ],
        "corr": corr, "corr_by_year": by_year, "chart": _chart(points, names, sees_all and not corr.too_small),
        "shown_points": len(points),
        "can_set": capacity.can_set_weights(scope, plan.region),
        "min_n": capacity.MIN_N_CORRELATION, "complete_share": capacity.COMPLETE_SHARE,
    }
    return render(request, "community/capacity.html", context)


@login_required
def capacity_district(request: HttpRequest, code: str) -> HttpResponse:
    plan, _scope, _sees_all, codes = _context(request)
    unit = OrgUnit.objects.filter(code=code, parent=plan.region, level=OrgUnit.Level.DISTRICT).first()
    if unit is None:
        raise Http404(_("没有这个辖市(区)。"))
    if code not in codes:
        raise DjangoPermissionDenied(_("您只能查看本辖市(区)的能力分项。"))
    years = capacity.plan_years(plan)
    rows_by_year = capacity.capacity_compute(plan=plan, years=years)
    rows = [r for y in years for r in rows_by_year[y][:-1] if r.unit.code == code]
    weights = capacity.weights_for(plan.region)
    english = (get_language() or "").startswith("en")
    indicator_names = {
        code: (en if english and en else zh)
        for code, zh, en in plan.indicators.filter(code__in=capacity.SOURCE_CODES).values_list(
            "code", "name_zh", "name_en")
    }
    context = {
        "plan": plan, "unit": unit, "name": _name(unit),
        "rows": [{"row": r, "missing": _missing_labels(r),
                  "partial": [indicator_names.get(c, c) for c in r.partial_sources],
                  "zero": [indicator_names.get(c, c) for c in r.zero_filled]} for r in reversed(rows)],
        "components": _components(capacity.benchmarks(plan), weights),
        "matrix": [
            {"code": c.code, "label": c.label, "unit": c.unit,
             "cells": [{"value": r.values.get(c.code), "score": r.scores.get(c.code)} for r in reversed(rows)]}
            for c in capacity.COMPONENTS
        ],
        "complete_share": capacity.COMPLETE_SHARE,
    }
    return render(request, "community/capacity_district.html", context)


@login_required
@require_POST
def capacity_weights(request: HttpRequest) -> HttpResponse:
    plan, scope, _sees_all, _codes = _context(request)
    if not capacity.can_set_weights(scope, plan.region):
        raise DjangoPermissionDenied(_("只有市科学素质办可以修改能力指数的权重。"))
    raw = {c.code: request.POST.get(f"w_{c.code}", "") for c in capacity.COMPONENTS}
    extra = {k[2:]: v for k, v in request.POST.items() if k.startswith("w_") and k[2:] not in raw}
    try:
        capacity.capacity_weights_set(actor=actor(request), scope=scope, plan=plan, weights={**raw, **extra},
                                      comment=request.POST.get("comment", "").strip()[:500])
    except InputError as e:
        for line in e.errors:
            messages.error(request, line)
    except PermissionDenied as e:
        raise DjangoPermissionDenied(str(e)) from e
    else:
        messages.success(request, _("权重已保存，各年度的能力指数已按新权重重新计算并发布。"))
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        return redirect("capacity:page")
    return redirect(f"{reverse('capacity:page')}?year={year}#weights")
