"""Literacy pages for staff: wave results and the item bank (the public online test is in
online_views). Thin: parse input, call services/selectors, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.scope import actor, scope_for
from kepu.core.uploads import read_upload
from kepu.literacy import selectors, services
from kepu.literacy.charts import breakdown_chart, tier_chart
from kepu.literacy.exports import wave_pdf, wave_xlsx
from kepu.literacy.items import item_revision_diff, item_revision_transition, item_transition
from kepu.literacy.models import Dimension, Item, ItemRevision, Wave


def _lang() -> str:
    return get_language() or "zh-hans"


@login_required
def waves(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    errors: list[str] = []
    if request.method == "POST":
        if not scope.is_office_admin:
            raise DjangoPermissionDenied(_("Only the office imports survey waves."))
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InputError(_("Choose a respondent file (CSV or XLSX)."))
            if not request.POST.get("year", "").isdigit():
                raise InputError(_("Give the survey year, e.g. 2026."))
            year = int(request.POST["year"])
            code = request.POST.get("code", "").strip()
            services.wave_upload(
                code=code,
                year=year,
                name=request.POST.get("name", ""),
                mode=request.POST.get("mode", "face_to_face"),
                fieldwork=(request.POST.get("start") or None, request.POST.get("end") or None),
                content=read_upload(upload, kind="respondents"),
                file_name=upload.name or "upload.csv",
                actor=actor(request),
            )
            messages.success(request, _("调查 %(code)s 已导入、加权并完成估计。") % {"code": code})
            return redirect("literacy:wave_detail", code)
        except ValueError as exc:
            errors = getattr(exc, "errors", None) or [str(exc)]
    context = {
        "waves": selectors.waves_readable(request.user),
        "lang": _lang(),
        "can_import": scope.is_office_admin,
        "errors": errors,
        "modes": Wave.Mode.choices,
        "data": request.POST,
    }
    return render(request, "literacy/waves.html", context, status=422 if errors else 200)


def _wave(request: HttpRequest, code: str) -> Wave:
    wave = get_object_or_404(Wave.objects.select_related("profile", "region"), code=code)
    if wave not in selectors.waves_readable(request.user):  # unpublished waves: the office only, as the API
        raise DjangoPermissionDenied(_("This wave is outside your scope."))
    return wave


@login_required
def wave_detail(request: HttpRequest, code: str) -> HttpResponse:
    wave = _wave(request, code)
    try:
        results = selectors.wave_results(wave, request.user, request.GET.get("unit", ""))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    labels = selectors.level_labels(_lang())
    analysis = selectors.item_analysis(wave) if results.is_region else None
    return render(
        request,
        "literacy/wave_detail.html",
        {
            "wave": wave,
            "r": results,
            "units": selectors.wave_result_units(wave, request.user),
            "breakdowns": [(b, json.dumps(breakdown_chart(b, labels, _lang()))) for b in results.breakdowns],
            "tier_chart": json.dumps(tier_chart(results.tiers)),
            "analysis": analysis,
            "margins": selectors.margins_label(wave.weighting.get("margins") or []) if wave.weighting else "",
            "official": selectors.OFFICIAL,
            "can_set_variance": scope_for(request.user).is_office_admin,
            "variances": Wave.Variance.choices,
            "labels": labels,
            "lang": _lang(),
        },
    )


@login_required
@require_POST
def wave_variance(request: HttpRequest, code: str) -> HttpResponse:
    """The wave's weighting setting for standard errors (office only): Taylor or the re-raked jackknife."""
    wave = _wave(request, code)
    if not scope_for(request.user).is_office_admin:
        raise DjangoPermissionDenied(_("只有领导小组办公室可以更改估计方法。"))
    try:
        services.wave_variance_set(wave=wave, variance=request.POST.get("variance", ""), actor=actor(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已按“%(method)s”重新估计。") % {"method": wave.get_variance_display()})
    return redirect("literacy:wave_detail", code)


@login_required
def wave_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    wave = _wave(request, code)
    try:
        results = selectors.wave_results(wave, request.user, request.GET.get("unit", ""))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    analysis = selectors.item_analysis(wave) if results.is_region else None
    if fmt == "xlsx":
        response = HttpResponse(
            wave_xlsx(wave, results, analysis),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        response = HttpResponse(wave_pdf(wave, results, analysis), content_type="application/pdf")
    else:
        raise Http404(_("Unknown format."))
    suffix = "" if results.is_region else f"-{results.unit.code}"
    response["Content-Disposition"] = f'attachment; filename="kepu-literacy-{wave.code}{suffix}.{fmt}"'
    return response


def _can_review_items(request: HttpRequest) -> bool:
    scope = scope_for(request.user)
    return scope.is_office_admin or scope.can_review_anything


@login_required
def item_bank(request: HttpRequest) -> HttpResponse:
    filters = {f: request.GET.get(f, "").strip() for f in ("q", "dimension", "status", "type", "topic")}
    items = selectors.items_search(**filters)
    return render(
        request,
        "literacy/items.html",
        {
            "items": [(i, [selectors.topic_label(t) for t in i.topics]) for i in items],
            "lang": _lang(),
            "can_review": _can_review_items(request),
            "dimensions": Dimension.choices,
            "statuses": Item.Status.choices,
            "types": Item.Type.choices,
            "topics": selectors.item_topics(),
            "filters": filters,
            "total": Item.objects.count(),
        },
    )


def _item_page(request: HttpRequest, item: Item, confirm: str = "") -> HttpResponse:
    revisions = list(item.revisions.all())
    return render(
        request,
        "literacy/item_detail.html",
        {
            "item": item,
            "lang": _lang(),
            "topics": [selectors.topic_label(t) for t in item.topics],
            "groups": [selectors.group_label(g) for g in item.groups],
            "key": item.key if isinstance(item.key, list) else [item.key],
            "revisions": [(r, item_revision_diff(r)) for r in revisions],
            "history": selectors.item_history(item),
            "can_review": _can_review_items(request),
            "confirm": confirm,
        },
    )


@login_required
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _item_page(request, get_object_or_404(Item, code=code))


@login_required
@require_POST
def item_status(request: HttpRequest, code: str) -> HttpResponse:
    if not _can_review_items(request):
        raise DjangoPermissionDenied(_("Only reviewers change an item's status."))
    item = get_object_or_404(Item, code=code)
    to = request.POST.get("to", "")
    if to == Item.Status.RETIRED and request.POST.get("confirm") != "yes":
        return _item_page(request, item, confirm=to)  # retiring takes a second, deliberate click
    try:
        item_transition(item=item, to=to, actor=actor(request))
        messages.success(request, f"{item.code}: {item.get_status_display()}")
    except InputError as exc:
        messages.error(request, str(exc))
    if request.POST.get("next") == "detail":
        return redirect("literacy:item_detail", item.code)
    return redirect("literacy:item_bank")


@login_required
@require_POST
def item_revision_status(request: HttpRequest, code: str, number: int) -> HttpResponse:
    if not _can_review_items(request):
        raise DjangoPermissionDenied(_("Only reviewers change an item's status."))
    revision = get_object_or_404(ItemRevision, item__code=code, number=number)
    try:
        revision = item_revision_transition(revision=revision, to=request.POST.get("to", ""), actor=actor(request))
        messages.success(
            request,
            _("%(code)s 修订 %(n)s：%(s)s")
            % {"code": code, "n": revision.number, "s": revision.get_status_display()},
        )
    except InputError as exc:
        messages.error(request, str(exc))
    return redirect("literacy:item_detail", code)
