"""Pages of the facilities app (/facilities/…). Thin: parse the form, call a service or selector,
render. The rules (scope, conflicts, pass mark, expiry) live in services.py and selectors.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.community.selectors import expert_profile
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.facilities import selectors as sel
from kepu.facilities import services as svc
from kepu.facilities import transfer
from kepu.facilities.models import AnnualReview, Application, Base, BaseKind, BaseLevel, VenueKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def _errors(request: HttpRequest, exc: InputError) -> None:
    for e in exc.errors:
        messages.error(request, e)


def _run(request: HttpRequest, fn: Any, ok: str, **kw: Any) -> Any:
    """Call a service; show its input errors on the page; turn scope refusals into 403."""
    try:
        result = fn(**kw)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except InputError as exc:
        _errors(request, exc)
        return None
    messages.success(request, ok)
    return result


def _manage_units(user: Any) -> list[OrgUnit]:
    """Districts and towns the user may register records for."""
    s = scope_for(user)
    units = OrgUnit.objects.filter(s.unit_filter("", svc.MANAGE_ROLES),
                                   level__in=(OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN)).order_by("path")
    return list(units)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# -- bases -------------------------------------------------------------------------------------


@login_required
def base_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    today = timezone.localdate()
    kind, state = request.GET.get("kind", ""), request.GET.get("state", "")
    bases = sel.bases_visible(user)
    if kind in BaseKind.values:
        bases = bases.filter(kind=kind)
    rows = [{"base": b, "state": b.state_on(today)} for b in bases[:2000]]
    if state in ("active", "expired", "revoked"):
        rows = [r for r in rows if r["state"] == state]
    return render(request, "facilities/base_list.html", {
        "kinds": BaseKind.choices, "kind": kind, "state": state,
        "rows": rows, "can_manage": sel.can_manage_any(user), "is_office": sel.is_office(user),
        "is_expert": expert_profile(user) is not None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def base_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    base = sel.bases_visible(user).filter(pk=pk).first()
    if base is None:
        raise Http404(_("没有这个基地，或您无权查看。"))
    if request.method == "POST":
        if not sel.base_manageable(user, base):
            raise DjangoPermissionDenied(_("只有科普办(办公室管理员)可以处理基地认定。"))
        action = request.POST.get("action")
        if action == "review":
            year = int(request.POST.get("year") or 0) if (request.POST.get("year") or "").isdigit() else 0
            _run(request, svc.base_annual_review, _("年度复核已录入。"), actor=user, base=base, year=year,
                 result=request.POST.get("result", ""), comment=request.POST.get("comment", ""))
        elif action == "renew":
            until = _date(request.POST.get("valid_until", ""))
            if until is None:
                messages.error(request, _("有效期至：需要日期(如 2029-12-31)。"))
            else:
                _run(request, svc.base_renew, _("已续期。"), actor=user, base=base, valid_until=until)
        elif action == "revoke":
            _run(request, svc.base_revoke, _("认定已撤销。"), actor=user, base=base,
                 reason=request.POST.get("reason", ""))
        return redirect("facilities:base", base.pk)
    return render(request, "facilities/base_detail.html", {
        "base": base, "state": base.state_on(timezone.localdate()), "can_manage": sel.base_manageable(user, base),
        "reviews": base.annual_reviews.all(), "results": AnnualReview.Result.choices,
        "this_year": timezone.localdate().year,
        "can_reapply": scope_for(user).covers(base.org_unit, svc.MANAGE_ROLES),
    })


# -- applications ------------------------------------------------------------------------------


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    apps = list(sel.applications_visible(user)[:500])
    return render(request, "facilities/application_list.html", {
        "apps": [{"app": a, "mean": sel.application_mean_score(a)} for a in apps],
        "can_manage": sel.can_manage_any(user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    units = _manage_units(user)
    if not units:
        raise DjangoPermissionDenied(_("只有科普办和辖市(区)管理员可以提交认定申请。"))
    again = _reapply_base(user, request.POST.get("base") or request.GET.get("base") or "")
    data: Any = request.POST if request.method == "POST" else _base_data(again)
    if request.method == "POST":
        unit = OrgUnit.objects.filter(pk=request.POST.get("org_unit") or 0).first()
        if unit is None:
            messages.error(request, _("所在单位：请选择。"))
        else:
            evidence_file = None
            if request.FILES.get("evidence_file"):
                from kepu.core.evidence import evidence_store

                try:
                    evidence_file = evidence_store(request.FILES["evidence_file"], user)
                except InputError as exc:
                    _errors(request, exc)
                    return render(request, "facilities/application_form.html", _form_ctx(units, data, again))
            app = _run(request, svc.application_submit, _("认定申请已提交。"), actor=user,
                       name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                       level=request.POST.get("level", "municipal"),
                       organisation=request.POST.get("organisation", ""), org_unit=unit,
                       description=request.POST.get("description", ""), evidence=request.POST.get("evidence", ""),
                       evidence_file=evidence_file, base=again)
            if app is not None:
                return redirect("facilities:application", app.pk)
    return render(request, "facilities/application_form.html", _form_ctx(units, data, again))


def _reapply_base(user: Any, raw: str) -> Base | None:
    """The expired or revoked base a new application is for (?base=<id>), within the user's scope."""
    if not raw.isdigit():
        return None
    return sel.bases_visible(user).filter(pk=int(raw)).first()


def _base_data(base: Base | None) -> dict[str, Any]:
    if base is None:
        return {}
    return {"name": base.name, "kind": base.kind, "level": base.level, "organisation": base.organisation,
            "org_unit": str(base.org_unit_id)}


def _reviewer_name(user: User) -> str:
    p = expert_profile(user)
    return p.name if p is not None else user.get_full_name() or user.get_username()


def _form_ctx(units: list[OrgUnit], data: Any, again: Base | None = None) -> dict[str, Any]:
    return {"units": units, "kinds": BaseKind.choices, "levels": BaseLevel.choices, "data": data, "again": again}


@login_required
@require_http_methods(["GET", "POST"])
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    app = sel.applications_visible(user).filter(pk=pk).first()
    if app is None:
        raise Http404(_("没有这个申请，或您无权查看。"))
    mine = sel.assignment_for(user, app)
    is_office = scope_for(user).covers(app.org_unit, svc.OFFICE_ROLES)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign":
            reviewer = User.objects.filter(pk=request.POST.get("reviewer") or 0).first()
            if reviewer is None:
                messages.error(request, _("评审专家：请选择。"))
            else:
                _run(request, svc.review_assign, _("已分配评审专家。"), actor=user, application=app, reviewer=reviewer)
        elif action == "score" and mine is not None:
            scores = {c.code: request.POST.get(f"score_{c.code}", "") for c in sel.rubric()}
            _run(request, svc.review_submit, _("评分已提交。"), actor=user, assignment=mine, scores=scores,
                 comment=request.POST.get("comment", ""))
        elif action == "certify":
            _run(request, svc.application_certify, _("已认定。"), actor=user, application=app,
                 level=request.POST.get("level") or None, valid_until=_date(request.POST.get("valid_until", "")))
        elif action == "reject":
            _run(request, svc.application_reject, _("已作出未通过结论。"), actor=user, application=app,
                 note=request.POST.get("note", ""))
        else:
            raise DjangoPermissionDenied(_("无法执行该操作。"))
        return redirect("facilities:application", app.pk)
    experts: list[dict[str, Any]] = []
    if is_office:
        from kepu.community.selectors import expert_conflict

        assigned = {r.reviewer_id for r in app.reviews.all()}
        candidates = User.objects.filter(is_active=True).exclude(pk__in=assigned).order_by("username")
        for u in candidates[:500]:
            p = expert_profile(u)
            if p is not None and "reviewer" in p.roles:
                experts.append({"user": u, "profile": p, "conflict": expert_conflict(u, app.organisation)})
        experts.sort(key=lambda e: (e["conflict"], e["profile"].name))
    return render(request, "facilities/application_detail.html", {
        "app": app, "mine": mine, "is_office": is_office, "rubric": sel.rubric(),
        "reviews": [{"r": r, "name": _reviewer_name(r.reviewer)}
                    for r in (list(app.reviews.all()) if is_office or not mine else [mine])],
        "mean": sel.application_mean_score(app), "pass_mark": sel.PASS_SHARE * sel.rubric_max_total(),
        "experts": experts, "levels": BaseLevel.choices, "own": app.submitted_by_id == user.pk,
        "open": app.status in (Application.Status.SUBMITTED, Application.Status.REVIEWING),
    })


@login_required
def application_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """The evidence file of an application the user may see (manager in scope or assigned expert)."""
    app = sel.applications_visible(actor(request)).filter(pk=pk).select_related("evidence_file").first()
    if app is None or app.evidence_file is None:
        raise Http404(_("没有这个申请，或您无权查看。"))
    f = app.evidence_file
    return FileResponse(f.file.open("rb"), as_attachment=True, filename=f.original_name, content_type=f.content_type)


# -- venues ------------------------------------------------------------------------------------


def _venue_data(post: Any) -> dict[str, Any]:
    return {
        "name": post.get("name", ""), "kind": post.get("kind", ""), "organisation": post.get("organisation", ""),
        "address": post.get("address", ""), "opening_hours": post.get("opening_hours", ""),
        "open_days": post.getlist("open_days"), "description": post.get("description", ""),
        "public": post.get("public") == "1",
    }


@login_required
@require_http_methods(["GET", "POST"])
def venue_list(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    units = _manage_units(user)
    if not units:
        raise DjangoPermissionDenied(_("只有科普办和辖市(区)管理员可以管理场馆。"))
    if request.method == "POST":
        unit = OrgUnit.objects.filter(pk=request.POST.get("org_unit") or 0).first()
        if unit is None:
            messages.error(request, _("所在单位：请选择。"))
        else:
            v = _run(request, svc.venue_save, _("场馆已登记。"), actor=user, org_unit=unit, **_venue_data(request.POST))
            if v is not None:
                return redirect("facilities:venue", v.pk)
    return render(request, "facilities/venue_list.html", {
        "venues": sel.venues_manageable(user), "units": units, "kinds": VenueKind.choices,
        "days": list(enumerate(transfer.DAY_NAMES, start=1)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def venue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = actor(request)
    venue = sel.venues_manageable(user).filter(pk=pk).first()
    if venue is None:
        raise Http404(_("没有这个场馆，或您无权管理。"))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "slot":
            try:
                start = dt.datetime.fromisoformat(request.POST.get("starts_at", ""))
                end = dt.datetime.fromisoformat(request.POST.get("ends_at", ""))
                cap = int(request.POST.get("capacity", ""))
            except ValueError:
                messages.error(request, _("开放时段：请填写开始、结束时间和容量。"))
            else:
                tz = timezone.get_current_timezone()
                _run(request, svc.slot_add, _("已添加开放时段。"), actor=user, venue=venue,
                     starts_at=timezone.make_aware(start, tz), ends_at=timezone.make_aware(end, tz), capacity=cap)
        elif action in ("confirm", "decline"):
            booking = sel.bookings_for(user, venue).filter(pk=request.POST.get("booking") or 0).first()
            if booking is None:
                raise Http404(_("没有这个预约。"))
            _run(request, svc.booking_decide, _("预约已处理。"), actor=user, booking=booking,
                 confirm=action == "confirm")
        elif action == "visits":
            try:
                year, month = (int(x) for x in request.POST.get("month", "").split("-"))
                visitors = int(request.POST.get("visitors", ""))
            except ValueError:
                messages.error(request, _("接待人次：请填写月份和人数。"))
            else:
                _run(request, svc.visits_record, _("接待人次已登记。"), actor=user, venue=venue, year=year,
                     month=month, visitors=visitors)
        return redirect("facilities:venue", venue.pk)
    return render(request, "facilities/venue_detail.html", {
        "venue": venue, "slots": sel.open_slots(venue), "bookings": sel.bookings_for(user, venue),
        "counts": venue.visit_counts.order_by("-year", "-month")[:24],
    })


# -- public venue pages and booking (no login) -------------------------------------------------


def public_venues(request: HttpRequest) -> HttpResponse:
    return render(request, "facilities/public_list.html", {"venues": sel.venues_public()})


@require_http_methods(["GET", "POST"])
def public_venue(request: HttpRequest, pk: int) -> HttpResponse:
    venue = sel.venues_public().filter(pk=pk).first()
    if venue is None:
        raise Http404(_("没有这个场馆。"))
    booked = None
    if request.method == "POST":
        raw_slot = request.POST.get("slot") or ""
        slot = sel.slot_public(int(raw_slot)) if raw_slot.isdigit() else None
        if slot is None or slot.venue_id != venue.pk:
            messages.error(request, _("请选择一个开放时段。"))
        else:
            size = request.POST.get("class_size", "")
            booked = _run(request, svc.booking_request, _("预约已提交，等待辖市(区)管理员确认。"), slot=slot,
                          school=request.POST.get("school", ""), class_name=request.POST.get("class_name", ""),
                          class_size=int(size) if size.isdigit() else 0,
                          contact_name=request.POST.get("contact_name", ""), phone=request.POST.get("phone", ""),
                          actor=request.user if request.user.is_authenticated else None)
            if booked is not None:
                return redirect("facilities:public_venue", venue.pk)
    days = [transfer.DAY_NAMES[d - 1] for d in venue.open_days if 1 <= d <= 7]
    return render(request, "facilities/public_venue.html", {
        "venue": venue, "slots": sel.open_slots(venue), "days": days, "data": request.POST,
    })


# -- map ---------------------------------------------------------------------------------------


def _colour(n: int) -> str:
    return "#d9d9d9" if n == 0 else "#9ecae1" if n == 1 else "#4292c6" if n <= 3 else "#08519c"


@login_required
def coverage_map(request: HttpRequest) -> HttpResponse:
    actor(request)
    city = OrgUnit.objects.filter(level=OrgUnit.Level.CITY, code="320400").first() or OrgUnit.objects.filter(
        level=OrgUnit.Level.CITY).first()
    if city is None:
        raise Http404(_("还没有导入行政区划。"))
    rows = sel.coverage(city)
    en = _en()
    tree = []
    for d in rows:
        children = [{
            "name": t.unit.name_en if en else t.unit.name_zh, "value": 1,
            "itemStyle": {"color": _colour(t.bases + t.venues)},
        } for t in d.towns]
        if d.district_level_bases or d.district_level_venues:
            n = d.district_level_bases + d.district_level_venues
            children.append({"name": _("区级"), "value": 1, "itemStyle": {"color": _colour(n)}})
        tree.append({"name": (d.unit.name_en if en else d.unit.name_zh) + (" ★" if d.elderly_university else ""),
                     "value": max(len(children), 1), "children": children})
    option = {
        "series": [{
            "type": "treemap", "data": tree, "roam": False, "nodeClick": False, "breadcrumb": {"show": False},
            "leafDepth": 2, "width": "100%", "height": "100%",
            "upperLabel": {"show": True, "height": 22, "color": "#fff", "fontWeight": "bold"},
            "label": {"show": True, "fontSize": 11},
            "levels": [
                {"itemStyle": {"borderColor": "#fff", "borderWidth": 3, "gapWidth": 3}},
                {"itemStyle": {"borderColor": "#0b3d75", "borderWidth": 2, "gapWidth": 1},
                 "upperLabel": {"show": True}},
                {"itemStyle": {"borderColor": "#fff", "borderWidth": 1}},
            ],
        }],
    }
    total_towns = sum(len(d.towns) for d in rows)
    covered = sum(d.towns_covered for d in rows)
    return render(request, "facilities/map.html", {
        "rows": rows, "option": json.dumps(option, ensure_ascii=False), "total_towns": total_towns,
        "covered": covered, "elderly": sum(1 for d in rows if d.elderly_university), "districts": len(rows),
        "city": city,
    })


# -- Excel -------------------------------------------------------------------------------------


@login_required
def export_bases(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    resp = HttpResponse(transfer.bases_export(user), content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="bases.xlsx"'
    return resp


@login_required
def export_venues(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not sel.can_manage_any(user):
        raise DjangoPermissionDenied(_("只有科普办和辖市(区)管理员可以导出场馆。"))
    resp = HttpResponse(transfer.venues_export(user), content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="venues.xlsx"'
    return resp


@login_required
@require_POST
def import_file(request: HttpRequest) -> HttpResponse:
    from kepu.core.uploads import read_upload

    user = actor(request)
    what = request.POST.get("what")
    upload = request.FILES.get("file")
    back = "facilities:bases" if what == "bases" else "facilities:venues"
    if upload is None:
        messages.error(request, _("请选择要导入的 Excel 文件。"))
        return redirect(back)
    try:
        content = read_upload(upload, kind="registry")
    except InputError as exc:
        _errors(request, exc)
        return redirect(back)
    fn = transfer.bases_import if what == "bases" else transfer.venues_import
    done = _run(request, fn, _("导入完成。"), actor=user, content=content, name=upload.name)
    if done is not None:
        messages.info(request, _("共导入 %(n)s 行。") % {"n": len(done)})
    return redirect(back)



@login_required
def export_visits(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not sel.can_manage_any(user):
        raise DjangoPermissionDenied(_("只有科普办和辖市(区)管理员可以导出场馆。"))
    resp = HttpResponse(transfer.visits_export(user), content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="venue-visits.xlsx"'
    return resp


@login_required
@require_POST
def import_visits(request: HttpRequest) -> HttpResponse:
    """Monthly visitor counts from Excel; back to the venue page the form was on (if the user manages it)."""
    from kepu.core.uploads import read_upload

    user = actor(request)
    venue = sel.venues_manageable(user).filter(pk=request.POST.get("venue") or 0).first()
    back = redirect("facilities:venue", venue.pk) if venue is not None else redirect("facilities:venues")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的 Excel 文件。"))
        return back
    try:
        content = read_upload(upload, kind="registry")
    except InputError as exc:
        _errors(request, exc)
        return back
    done = _run(request, transfer.visits_import, _("导入完成。"), actor=user, content=content, name=upload.name)
    if done is not None:
        messages.info(request, _("共导入 %(n)s 行。") % {"n": done})
    return back
