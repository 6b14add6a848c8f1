"""Pages for plan versions (list, one version's file, a diff) and district implementation plans.

Plan versions are the plan's editors' tool: the leading-group office for the city plan, and for a
district's implementation plan also that district's reporters. A district's page is for whoever may
see the district; only its reporters and the office may attach a plan there."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.scope import actor
from kepu.core.uploads import max_size_label, read_upload
from kepu.plans import district_plans, versions
from kepu.plans.models import Plan, PlanImport
from kepu.web.views import _plan


def _lang() -> str:
    return get_language() or "zh-hans"


def _city_plan(request: HttpRequest) -> Plan:
    """The city plan of the page: the chosen plan, or the city plan a chosen district plan implements."""
    plan = _plan(request)
    return plan.parent if plan.parent is not None else plan


def _versions_plan(request: HttpRequest) -> Plan:
    plan = _plan(request)
    if not versions.can_see_versions(request.user, plan):
        raise DjangoPermissionDenied
    return plan


def _version(plan: Plan, number: int) -> PlanImport:
    try:
        return versions.version_get(plan, number)
    except InputError as exc:
        raise Http404(str(exc)) from exc


def _query(plan: Plan) -> str:
    return f"?plan={plan.code}" if plan.parent_id else ""


@login_required
def plan_versions(request: HttpRequest) -> HttpResponse:
    plan = _versions_plan(request)
    rows = list(versions.plan_versions(plan))
    return render(
        request,
        "web/plan_versions.html",
        {"plan": plan, "rows": rows, "lang": _lang(), "q": _query(plan)},
    )


@login_required
def plan_version(request: HttpRequest, number: int) -> HttpResponse:
    plan = _versions_plan(request)
    version = _version(plan, number)
    return render(
        request,
        "web/plan_version.html",
        {"plan": plan, "v": version, "lang": _lang(), "q": _query(plan)},
    )


@login_required
def plan_version_file(request: HttpRequest, number: int) -> HttpResponse:
    plan = _versions_plan(request)
    version = _version(plan, number)
    if version.document is None:
        raise Http404(_("这个版本导入时尚未保存文件。"))
    response = HttpResponse(version.content.encode("utf-8"), content_type="text/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="v{version.version}-{version.file_name}"'
    return response


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def plan_version_diff(request: HttpRequest) -> HttpResponse:
    plan = _versions_plan(request)
    old, new = _int(request.GET.get("a")), _int(request.GET.get("b"))
    if old is None or new is None:
        raise Http404(_("请选择要比较的两个版本。"))
    try:
        diffs = versions.version_diff(plan, old, new)
    except InputError as exc:
        raise Http404(str(exc)) from exc
    groups: dict[str, list[versions.EntityDiff]] = {}
    for d in diffs:
        groups.setdefault(d.kind, []).append(d)
    return render(
        request,
        "web/plan_version_diff.html",
        {
            "plan": plan,
            "old": old,
            "new": new,
            "groups": [(versions.kind_label(k), groups[k]) for k in versions.KINDS if k in groups],
            "numbers": [v.version for v in versions.plan_versions(plan)],
            "lang": _lang(),
            "q": _query(plan),
        },
    )


@login_required
def district_plan_list(request: HttpRequest) -> HttpResponse:
    city = _city_plan(request)
    rows = district_plans.districts_with_plans(city, request.user)
    if not rows:
        raise DjangoPermissionDenied
    if len(rows) == 1:
        return redirect(reverse("web:district_plan", args=[rows[0][0].code]))
    return render(request, "web/district_plans.html", {"plan": city, "rows": rows, "lang": _lang()})


@login_required
@require_http_methods(["GET", "POST"])
def district_plan(request: HttpRequest, code: str) -> HttpResponse:
    city = _city_plan(request)
    district = district_plans.district_get(city, code)
    if district is None:
        raise Http404
    if not district_plans.can_view(request.user, district):
        raise DjangoPermissionDenied
    can_manage = district_plans.can_manage(request.user, district)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if not can_manage:
                raise PermissionDenied(_("只有本辖市(区)的填报员和领导小组办公室可以上传实施方案。"))
            if upload is None:
                raise InputError(_("请选择实施方案文件(YAML)。"))
            content = read_upload(upload, kind="plan")
            plan, summary = district_plans.district_plan_attach(
                city_plan=city, district=district, name=upload.name or "plan.yaml", content=content,
                actor=actor(request),
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except InputError as exc:
            errors = exc.errors or [str(exc)]
        else:
            if summary.get("unchanged"):
                messages.info(request, _("文件与当前版本相同，未作修改。"))
            else:
                messages.success(request, _("已导入实施方案，版本 %(v)s。") % {"v": plan.version})
            return redirect(request.path)
    ctx: dict[str, Any] = {
        "plan": city,
        "district": district,
        "own_plans": list(district_plans.district_plans_for(city, district)),
        "extra": district_plans.extra_targets(city, district),
        "cascade": district_plans.city_cascade(city, district),
        "can_manage": can_manage,
        "errors": errors,
        "plan_max": max_size_label("plan"),
        "lang": _lang(),
    }
    return render(request, "web/district_plan.html", ctx, status=422 if errors else 200)

