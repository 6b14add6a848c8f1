"""Pages. Thin: parse input, call a selector or service, render. Every view checks scope."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import max_size_label, read_upload
from kepu.plans import district_plans, excel, picker, province, selectors, services
from kepu.plans.models import Observation, Plan, ReportFile
from kepu.plans.reports import (
    CONTENT_TYPES,
    report_check,
    report_file_name,
    report_list,
    report_request,
    report_retry,
)
from kepu.plans.status import rule_text
from kepu.web import audit, charts
from kepu.web.grid import grid_rows


def _plan(request: HttpRequest) -> Plan:
    """The plan the page shows: one the user's scope reaches, picked with ?plan= and remembered."""
    return picker.plan_for_request(request)


def _lang() -> str:
    return get_language() or "zh-hans"


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    units, rows = selectors.status_grid(plan, request.user)
    home = selectors.home_units(plan, request.user)
    headline = rows[0] if rows else None
    year = timezone.localdate().year
    ctx: dict[str, Any] = {
        "plan": plan,
        "plans": picker.plans_for(request.user),
        "units": units,
        "rows": rows,
        "counts": selectors.status_counts(rows),
        "headline": headline,
        "headline_status": headline.home if headline else None,
        "home_unit": home[0] if home else None,
        "district_view": bool(home) and home[0].pk != plan.region_id,
        "year": year,
        "lang": _lang(),
        "grid_html": grid_rows(rows, _lang(), own_unit=home[0] if len(home) == 1 and home[0] in units else None),
        "completeness": selectors.completeness(plan, request.user, year - 1),
        "reports": ReportFile.objects.filter(plan=plan, requested_by=actor(request)).order_by("-created_at")[:3]
        if scope_for(request.user).is_office_admin
        else [],
        "can_assess": scope_for(request.user).is_office_admin,
    }
    if province.is_province_plan(plan):
        ctx["province_rows"] = province.province_rollup(plan)
    if headline is not None and home:
        series = selectors.target_series(headline.target, request.user)
        points = series.get(home[0], {})
        ctx["trend_chart"] = json.dumps(
            charts.trend(headline.target, home[0], points, _lang(), with_baseline=home[0].pk == plan.region_id)
        )
        if len(units) > 1:
            ctx["compare_chart"] = json.dumps(
                charts.district_compare(headline.target, headline.units, units, _lang())
            )
    ctx.update(district_plans.dashboard_extra(plan, request.user))
    return render(request, "web/dashboard.html", ctx)


@login_required
def plan_tree(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    return render(
        request, "web/plan_tree.html", {"plan": plan, "programmes": selectors.plan_tree(plan), "lang": _lang()}
    )


@login_required
def target_detail(request: HttpRequest, code: str) -> HttpResponse:
    plan = _plan(request)
    target = get_object_or_404(selectors.targets_for(plan), code=code)
    statuses = selectors.target_statuses(target, request.user)
    series = selectors.target_series(target, request.user)
    home = selectors.home_units(plan, request.user)
    home_unit = home[0] if home else plan.region
    home_status = next((s for s in statuses if s.org_unit_id == home_unit.pk), None)
    return render(
        request,
        "web/target_detail.html",
        {
            "plan": plan,
            "target": target,
            "statuses": statuses,
            "home_status": home_status,
            "rule_text": rule_text(target, timezone.localdate().year),
            "allocations": selectors.target_allocations(target),
            "can_override": scope_for(request.user).is_office_admin
            and target.cascade in (target.Cascade.POPULATION, target.Cascade.SHARE),
            "units": selectors.indicator_task_units(target.indicator),
            "governance": selectors.plan_governance(plan, _lang()),
            "lang": _lang(),
            "chart": json.dumps(charts.target_chart(target, series, home_status, home_unit, plan.region, _lang())),
            "series": [(u, sorted(s.items())) for u, s in series.items()],
        },
    )


@login_required
@require_POST
def target_shares(request: HttpRequest, code: str) -> HttpResponse:
    """The office's form on the target page: each district's share (%) of a split target."""
    target = get_object_or_404(selectors.targets_for(_plan(request)), code=code)
    if not scope_for(request.user).is_office_admin:
        raise DjangoPermissionDenied(_("只有领导小组办公室可以调整各区分解份额。"))
    shares: dict[str, float] = {}
    for key in request.POST:
        if key.startswith("share_"):
            raw = request.POST.get(key, "")
            try:
                shares[key[6:]] = float(raw)
            except ValueError:
                messages.error(request, _("份额须是数字：%(value)s。") % {"value": raw[:20]})
                return redirect("web:target_detail", code=code)
    try:
        services.allocation_shares_set(user=actor(request), target=target, shares_pct=shares,
                                       comment=request.POST.get("comment", ""))
    except (InputError, PermissionDenied) as exc:
        for message in getattr(exc, "errors", None) or [str(exc)]:
            messages.error(request, message)
    else:
        messages.success(request, _("已保存各区分解份额。"))
    return redirect("web:target_detail", code=code)


def _entry_context(request: HttpRequest, plan: Plan) -> tuple[list[OrgUnit], OrgUnit | None, int]:
    units = selectors.reportable_units(plan, request.user)
    code = request.GET.get("unit") or request.POST.get("unit")
    try:
        unit = selectors.reportable_unit(plan, request.user, code, units)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return units, unit, year


@login_required
def data_entry(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    units, unit, year = _entry_context(request, plan)
    assert unit is not None
    indicators = selectors.reportable_indicators(plan, request.user, unit)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        submit = "submit" in request.POST
        done = 0
        # A value for an indicator the form does not offer (rights follow the plan's tasks) is refused
        # with the reason, and nothing in the form is saved.
        offered = {i.code for i in indicators}
        posted = [k[2:] for k in request.POST if k.startswith("v_") and request.POST.get(k, "").strip()]
        refused = [code for code in posted if code not in offered]
        for code in refused:
            ind_refused = plan.indicators.filter(code=code).first()
            messages.error(request, selectors.report_refusal(request.user, unit, code, ind_refused))
        for ind in [] if refused else indicators:
            raw = request.POST.get(f"v_{ind.code}", "").strip()
            if not raw:
                continue
            existing = Observation.objects.filter(indicator=ind, org_unit=unit, year=year, quarter=0).first()
            if existing is not None and existing.status in ("submitted", "approved"):
                continue
            entry = services.Entry(ind, unit, year, 0, raw, request.POST.get(f"c_{ind.code}", ""))
            try:
                services.observation_save(user=actor(request), entry=entry, submit=submit)
                done += 1
            except (InputError, PermissionDenied) as exc:
                errors[ind.code] = getattr(exc, "errors", [str(exc)])
        if not errors and not refused:
            if done:
                messages.success(
                    request,
                    _("%(n)d value(s) submitted for review.") % {"n": done}
                    if submit
                    else _("%(n)d value(s) saved as draft.") % {"n": done},
                )
            return redirect(f"{request.path}?unit={unit.code}&year={year}")
    current = {
        o.indicator_id: o
        for o in Observation.objects.filter(org_unit=unit, year=year, quarter=0, indicator__in=indicators)
    }
    previous = {
        o.indicator_id: o
        for o in Observation.objects.filter(org_unit=unit, year=year - 1, quarter=0, indicator__in=indicators)
    }
    rows = [
        {
            "ind": i,
            "obs": current.get(i.pk),
            "prev": previous.get(i.pk),
            "errors": errors.get(i.code, []),
            "posted": request.POST.get(f"v_{i.code}", ""),
            "posted_comment": request.POST.get(f"c_{i.code}", ""),
        }
        for i in indicators
    ]
    return render(
        request,
        "web/data_entry.html",
        {
            "plan": plan,
            "units": units,
            "unit": unit,
            "year": year,
            "rows": rows,
            "lang": _lang(),
            "years": list(range(plan.start_year, min(plan.end_year, timezone.localdate().year) + 1)),
            "has_errors": bool(errors),
            "template_max": max_size_label("template"),
        },
        status=422 if errors else 200,
    )


@login_required
def excel_template(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    _units, unit, year = _entry_context(request, plan)
    assert unit is not None
    content = excel.template_build(plan=plan, unit=unit, year=year, user=actor(request))
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="kepu-{unit.code}-{year}.xlsx"'
    return response


@login_required
@require_POST
def excel_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a filled-in template to upload."))
        return redirect("web:data_entry")
    try:
        content = read_upload(upload, kind="template")
        saved = excel.template_upload(user=actor(request), content=content, name=upload.name or "template.xlsx")
    except (InputError, PermissionDenied) as exc:
        for msg in getattr(exc, "errors", [str(exc)]):
            messages.error(request, msg)
        return redirect("web:data_entry")
    if not saved:
        messages.success(request, _("模板中的数值此前均已提交，没有需要保存的新数值。"))
        return redirect("web:data_entry")
    messages.success(request, _("%(n)d value(s) from the template submitted for review.") % {"n": len(saved)})
    first = saved[0]
    return redirect(f"{reverse('web:data_entry')}?unit={first.org_unit.code}&year={first.year}")


@login_required
def observation_detail(request: HttpRequest, obs_id: int) -> HttpResponse:
    obs = get_object_or_404(selectors.observations_visible(request.user), pk=obs_id)
    names = audit.indicator_names(_lang())
    history = [
        audit.describe(e, names, _lang())
        for e in selectors.audit_visible(request.user).filter(object_type="plans.observation", object_id=str(obs.pk))
    ]
    return render(
        request,
        "web/observation.html",
        {
            "obs": obs,
            "source": audit.source_label(obs.source),
            "history": history,
            "lang": _lang(),
            "can_review": scope_for(request.user).can_review(obs.org_unit),
        },
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    if not scope_for(request.user).can_review_anything:
        raise DjangoPermissionDenied(_("Only reviewers have an approval inbox."))
    return render(request, "web/inbox.html", {"rows": selectors.inbox_rows(request.user), "lang": _lang()})


@login_required
@require_POST
def inbox_approve(request: HttpRequest) -> HttpResponse:
    """Batch approve: the first post shows what was ticked for confirmation, the second approves."""
    if not scope_for(request.user).can_review_anything:
        raise DjangoPermissionDenied(_("Only reviewers have an approval inbox."))
    ids = {int(i) for i in request.POST.getlist("obs") if i.isdigit()}
    rows = selectors.inbox_rows(request.user)
    chosen = [r for r in rows if r.obs.pk in ids and not r.own]
    if not chosen:
        messages.error(request, _("请先勾选要批准的数据（本人提交的数据不能由本人批准）。"))
        return redirect("web:inbox")
    comment = request.POST.get("comment", "")
    if request.POST.get("confirm") != "yes":
        return render(request, "web/inbox.html", {"rows": rows, "confirm": chosen, "comment": comment, "lang": _lang()})
    try:
        done = services.observations_approve(
            user=actor(request), observations=[r.obs for r in chosen], comment=comment
        )
    except InputError as exc:
        for msg in exc.errors:
            messages.error(request, msg)
        return redirect("web:inbox")
    messages.success(request, _("已批准 %(n)s 项数据。") % {"n": len(done)})
    return redirect("web:inbox")


@login_required
@require_POST
def review(request: HttpRequest, obs_id: int) -> HttpResponse:
    obs = get_object_or_404(selectors.observations_visible(request.user), pk=obs_id)
    comment = request.POST.get("comment", "")
    try:
        if request.POST.get("action") == "approve":
            services.observation_approve(user=actor(request), observation=obs, comment=comment)
            messages.success(
                request,
                _("Approved: %(ind)s · %(unit)s · %(p)s.")
                % {"ind": obs.indicator.name_zh, "unit": obs.org_unit.name_zh, "p": obs.period_label},
            )
        else:
            services.observation_return(user=actor(request), observation=obs, comment=comment)
            messages.success(
                request,
                _("Returned to the reporter: %(ind)s · %(unit)s.")
                % {"ind": obs.indicator.name_zh, "unit": obs.org_unit.name_zh},
            )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except InputError as exc:
        messages.error(request, str(exc))
    return redirect("web:inbox")


@login_required
def completeness(request: HttpRequest) -> HttpResponse:
    plan = _plan(request)
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return render(
        request,
        "web/completeness.html",
        {
            "plan": plan,
            "year": year,
            "rows": selectors.completeness(plan, request.user, year),
            "lang": _lang(),
            "years": list(range(plan.start_year, min(plan.end_year, timezone.localdate().year) + 1)),
        },
    )


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    qs = selectors.audit_visible(request.user)
    names = audit.indicator_names(_lang())
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(audit.search_filter(q, names))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [audit.describe(e, names, _lang()) for e in page]
    return render(
        request, "web/audit.html", {"page": page, "rows": rows, "q": request.GET.get("q", ""), "lang": _lang()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_request(request: HttpRequest) -> HttpResponse:
    """The annual assessment page: request a report (year, format, language) and list those made."""
    if not scope_for(request.user).is_office_admin:
        raise DjangoPermissionDenied(_("Only the office runs the annual assessment."))
    plan = _plan(request)
    this_year = timezone.localdate().year
    if request.method == "GET":
        return render(request, "web/assessment.html", {
            "plan": plan, "reports": report_list(plan=plan), "lang": _lang(),
            "years": list(range(min(this_year, plan.end_year), plan.start_year - 1, -1)),
            "default_year": this_year - 1,
        })
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        year = this_year - 1
    try:
        report = report_request(plan=plan, year=year, fmt=request.POST.get("fmt", "pdf"),
                                lang=request.POST.get("lang", "zh-hans"), user=actor(request))
    except InputError as exc:
        messages.error(request, str(exc))
        return redirect("web:assessment_request")
    return redirect("web:assessment_download", report_id=report.pk)


@login_required
def assessment_download(request: HttpRequest, report_id: int) -> HttpResponse:
    if not scope_for(request.user).is_office_admin:
        raise DjangoPermissionDenied(_("Only the office runs the annual assessment."))
    report = report_check(get_object_or_404(ReportFile, pk=report_id))
    if report.status != "done":
        return render(request, "web/report_wait.html", {"report": report})
    response = HttpResponse(bytes(report.content or b""), content_type=CONTENT_TYPES[report.fmt])
    name = report_file_name(report.plan, report.year, report.fmt, report.lang)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def assessment_retry(request: HttpRequest, report_id: int) -> HttpResponse:
    if not scope_for(request.user).is_office_admin:
        raise DjangoPermissionDenied(_("Only the office runs the annual assessment."))
    try:
        report = report_retry(report=get_object_or_404(ReportFile, pk=report_id), user=actor(request))
    except InputError as exc:
        messages.error(request, str(exc))
        return redirect("web:assessment_download", report_id=report_id)
    return redirect("web:assessment_download", report_id=report.pk)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers (and the benchmark's bare-view baseline)."""
    return HttpResponse("ok", content_type="text/plain")
