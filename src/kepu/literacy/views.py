"""Literacy pages: the public online test (mobile first) and, for staff, wave results and the
item bank. Thin: parse input, call services/selectors, render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.literacy import online, selectors, services
from kepu.literacy.charts import breakdown_chart, tier_chart
from kepu.literacy.exports import wave_pdf, wave_xlsx
from kepu.literacy.items import item_transition
from kepu.literacy.models import DIMENSIONS, Dimension, Item, Wave
from kepu.literacy.people import EDUCATION, OCCUPATIONS
from kepu.plans.selectors import plan_default


def _lang() -> str:
    return get_language() or "zh-hans"


def _units() -> tuple[list[OrgUnit], dict[str, OrgUnit], dict[str, OrgUnit]]:
    plan = plan_default()
    region = plan.region if plan else OrgUnit.objects.filter(level="city").first()
    districts = list(OrgUnit.objects.filter(parent=region, level="district", valid_to__isnull=True).order_by("sort"))
    towns = {u.code: u for u in OrgUnit.objects.filter(parent__in=districts, level="town", valid_to__isnull=True)}
    return districts, {d.code: d for d in districts}, towns


def test_start(request: HttpRequest) -> HttpResponse:
    districts, by_code, towns = _units()
    errors: dict[str, str] = {}
    if request.method == "POST":
        profile, errors = online.profile_errors(request.POST.dict(), by_code, towns)
        if profile is not None:
            try:
                session = online.test_start(profile=profile, language=_lang())
            except InputError as exc:
                errors["form"] = str(exc)
            else:
                return redirect("literacy:test_question", token=session.token)
    return render(
        request,
        "literacy/test_start.html",
        {
            "districts": districts,
            "towns": sorted(towns.values(), key=lambda u: u.path),
            "errors": errors,
            "education": EDUCATION,
            "occupations": OCCUPATIONS,
            "data": request.POST,
            "lang": _lang(),
        },
        status=422 if errors else 200,
    )


def test_question(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = online.session_get(token)
    except InputError:
        return redirect("literacy:test_start")
    error = ""
    if request.method == "POST":
        item_code = request.POST.get("item", "")
        raw: Any = request.POST.getlist("answer")
        if len(raw) == 1:
            raw = raw[0]
        try:
            session = online.test_answer(token=token, item_code=item_code, raw=raw if raw else "")
            return redirect("literacy:test_question", token=token)
        except InputError as exc:
            error = str(exc)
            session = online.session_get(token)
    if session.finished_at is not None:
        return redirect("literacy:test_result", token=token)
    item = online.current_item(session)
    assert item is not None
    online.question_shown(session)
    # Only what the page needs: never the key, never the explanation before answering.
    options = [{"key": o["key"], "text": o["en"] if _lang().startswith("en") else o["zh"]} for o in item.options]
    return render(
        request,
        "literacy/test_question.html",
        {
            "session": session,
            "item_code": item.code,
            "item_type": item.type,
            "stem": item.stem(_lang()),
            "multi": isinstance(item.key, list),
            "options": options,
            "number": session.position + 1,
            "total": len(session.item_codes),
            "error": error,
            "progress": round(100 * session.position / len(session.item_codes)),
            "lang": _lang(),
        },
        status=422 if error else 200,
    )


def test_result(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = online.session_get(token)
    except InputError:
        return redirect("literacy:test_start")
    if session.finished_at is None:
        return redirect("literacy:test_question", token=token)
    r = session.respondent
    lang = _lang()
    dims = [
        (
            Dimension(d).label,
            r.earned.get(d, 0),
            r.possible.get(d, 0),
            round(100 * r.earned.get(d, 0) / r.possible[d]) if r.possible.get(d) else None,
        )
        for d in DIMENSIONS
    ]
    answers = [
        (a, a.item.stem(lang), a.item.explanation_en if lang.startswith("en") else a.item.explanation_zh)
        for a in session.answers.select_related("item").order_by("pk")
    ]
    return render(request, "literacy/test_result.html", {"r": r, "dims": dims, "answers": answers, "lang": lang})


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
            text = services.wave_upload(
                code=request.POST.get("code", "").strip(),
                year=year,
                name=request.POST.get("name", ""),
                mode=request.POST.get("mode", "face_to_face"),
                fieldwork=(request.POST.get("start") or None, request.POST.get("end") or None),
                content=upload.read(),
                file_name=upload.name or "upload.csv",
                actor=actor(request),
            )
            messages.success(request, text)
            return redirect("literacy:waves")
        except ValueError as exc:
            errors = getattr(exc, "errors", None) or [str(exc)]
    context = {
        "waves": selectors.waves_visible(request.user),
        "lang": _lang(),
        "can_import": scope.is_office_admin,
        "errors": errors,
        "modes": Wave.Mode.choices,
        "data": request.POST,
    }
    return render(request, "literacy/waves.html", context, status=422 if errors else 200)


def _wave(request: HttpRequest, code: str) -> Wave:
    wave = get_object_or_404(Wave.objects.select_related("profile", "region"), code=code)
    if wave not in selectors.waves_visible(request.user):
        raise DjangoPermissionDenied(_("This wave is outside your scope."))
    return wave


@login_required
def wave_detail(request: HttpRequest, code: str) -> HttpResponse:
    wave = _wave(request, code)
    overall, breakdowns, towns = selectors.wave_estimates(wave, request.user)
    labels = selectors.level_labels(_lang())
    charts = {b.variable: json.dumps(breakdown_chart(b, labels, _lang())) for b in breakdowns}
    tiers = selectors.tier_distribution(wave)
    items, alpha = selectors.item_analysis(wave) if scope_for(request.user).can_view(wave.region) else ([], {})
    return render(
        request,
        "literacy/wave_detail.html",
        {
            "wave": wave,
            "overall": overall,
            "breakdowns": [(b, charts[b.variable]) for b in breakdowns],
            "towns": towns,
            "tiers": tiers,
            "tier_chart": json.dumps(tier_chart(tiers)),
            "items": items,
            "alpha": alpha,
            "earlier": selectors.earlier_waves(wave),
            "official": selectors.OFFICIAL,
            "labels": labels,
            "lang": _lang(),
            "min_cell": 50,
        },
    )


@login_required
def wave_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    wave = _wave(request, code)
    if fmt == "xlsx":
        response = HttpResponse(
            wave_xlsx(wave, request.user),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        response = HttpResponse(wave_pdf(wave, request.user), content_type="application/pdf")
    else:
        raise DjangoPermissionDenied(_("Unknown format."))
    response["Content-Disposition"] = f'attachment; filename="kepu-literacy-{wave.code}.{fmt}"'
    return response


@login_required
def item_bank(request: HttpRequest) -> HttpResponse:
    qs = Item.objects.all()
    for f in ("dimension", "status", "type"):
        if request.GET.get(f):
            qs = qs.filter(**{f: request.GET[f]})
    return render(
        request,
        "literacy/items.html",
        {
            "items": qs,
            "lang": _lang(),
            "can_review": scope_for(request.user).is_office_admin or scope_for(request.user).can_review_anything,
            "dimensions": Dimension.choices,
            "statuses": Item.Status.choices,
            "filters": request.GET,
        },
    )


@login_required
@require_POST
def item_status(request: HttpRequest, code: str) -> HttpResponse:
    scope = scope_for(request.user)
    if not (scope.is_office_admin or scope.can_review_anything):
        raise DjangoPermissionDenied(_("Only reviewers change an item's status."))
    item = get_object_or_404(Item, code=code)
    try:
        item_transition(item=item, to=request.POST.get("to", ""), actor=actor(request))
        messages.success(request, f"{item.code}: {item.get_status_display()}")
    except InputError as exc:
        messages.error(request, str(exc))
    return redirect("literacy:item_bank")
