"""The segment console /outreach/segments/: saved segments with their size, an editor with a live
count and a pseudonymous preview (static JS posting the rules to /outreach/segments/preview/), and a
button that builds a segment from the latest literacy wave. Thin: kepu.outreach.segments holds the
rules and the scope."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.citizens.models import AGE_BANDS, KEY_GROUPS
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor
from kepu.literacy.models import Dimension
from kepu.literacy.people import OCCUPATIONS
from kepu.outreach import segments as svc
from kepu.outreach.models import Topic
from kepu.outreach.segment_models import Segment

MAX_RULES_BYTES = 20_000
EXAMPLE_RULES = {
    "all": [
        {"field": "district", "op": "in", "value": ["320412"]},
        {"field": "key_groups", "op": "contains", "value": "farmers"},
        {"field": "age_band", "op": "in", "value": ["50-59", "60-69", "70+"]},
        {"not_engaged": {"topic": "health", "kind": "view", "days": 30}},
    ]
}


def _lang() -> str:
    return get_language() or "zh-hans"


def _unit(request: HttpRequest) -> OrgUnit:
    try:
        return svc.segment_require_unit(request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc


def _builder_choices(unit: OrgUnit) -> dict[str, Any]:
    """What the rule builder offers: the districts in the user's reach, groups, bands, topics."""
    en = _lang().startswith("en")
    districts = OrgUnit.objects.filter(level=OrgUnit.Level.DISTRICT, path__startswith=unit.path, valid_to__isnull=True)
    if unit.level == OrgUnit.Level.DISTRICT:
        districts = OrgUnit.objects.filter(pk=unit.pk)
    return {
        "districts": [(d.code, d.name(_lang())) for d in districts.order_by("sort", "code")],
        "key_groups": [(c, str(label)) for c, label in KEY_GROUPS],
        "age_bands": [(c, str(label)) for c, label in AGE_BANDS],
        "occupations": [(c, str(label)) for c, label in OCCUPATIONS],
        "topics": [(t.code, t.name_en if en and t.name_en else t.name_zh) for t in Topic.objects.all()],
        "dimensions": list(Dimension.choices),
    }


def _parse_rules(raw: str) -> Any:
    if len(raw.encode()) > MAX_RULES_BYTES:
        raise InputError(_("规则过长(最多 %(n)d 字节)。") % {"n": MAX_RULES_BYTES})
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            _("规则不是有效的 JSON(第 %(line)d 行第 %(col)d 列)。") % {"line": exc.lineno, "col": exc.colno}
        ) from exc


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    rows = [(s, svc.count(s, unit=unit)) for s in svc.segments_visible(request.user)[:100]]
    return render(request, "outreach/segment_list.html", {
        "rows": rows, "unit": unit, "unit_name": unit.name(_lang()), "dimensions": Dimension.choices,
    })


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    unit = _unit(request)
    segment: Segment | None = None
    if code is not None:
        segment = svc.segments_visible(request.user).filter(code=code).first()
        if segment is None:
            raise Http404(_("没有这个人群分组,或它不在您的管辖范围内。"))
    data = {
        "code": segment.code if segment else "",
        "name_zh": segment.name_zh if segment else "",
        "name_en": segment.name_en if segment else "",
        "rules": json.dumps(segment.rules if segment else EXAMPLE_RULES, ensure_ascii=False, indent=2),
    }
    errors: list[str] = []
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in data}
        try:
            rules = _parse_rules(data["rules"])
            saved = svc.segment_save(actor=actor(request), code=data["code"], name_zh=data["name_zh"],
                                     name_en=data["name_en"], rules=rules, segment=segment)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except InputError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("人群分组已保存。"))
            return redirect("segments:edit", code=saved.code)
    count, preview, rule_errors = None, [], []
    try:
        rules_now = json.loads(data["rules"])
        rule_errors = svc.rules_errors(rules_now)
        if not rule_errors:
            count = svc.count(rules_now, unit=unit)
            preview = svc.preview(rules_now, unit=unit, language=_lang())
    except json.JSONDecodeError:
        pass
    return render(request, "outreach/segment_form.html", {
        "segment": segment, "data": data, "errors": errors, "unit": unit, "count": count,
        "preview": preview, "rule_errors": rule_errors, "choices": _builder_choices(unit),
    })


@login_required
@require_POST
def segment_preview(request: HttpRequest) -> JsonResponse:
    """The live count and preview while editing: {count, preview} or {errors} (400)."""
    unit = _unit(request)
    try:
        rules = _parse_rules(request.POST.get("rules", ""))
        svc.rules_validate(rules)
    except InputError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    return JsonResponse({
        "count": svc.count(rules, unit=unit),
        "preview": svc.preview(rules, unit=unit, language=_lang()),
    })


@login_required
@require_POST
def segment_from_wave(request: HttpRequest) -> HttpResponse:
    _unit(request)
    try:
        k = int(request.POST.get("k", "3"))
    except ValueError:
        k = 0
    try:
        if not 1 <= k <= 20:
            raise InputError(_("人群数应为 1 到 20 之间的整数。"))
        segment = svc.segment_from_wave(actor=actor(request), dimension=request.POST.get("dimension", ""), k=k)
    except InputError as exc:
        for e in exc.errors:
            messages.error(request, e)
        return redirect("segments:list")
    messages.success(request, _("已按最新一期调查结果建立人群分组。"))
    return redirect("segments:edit", code=segment.code)


app_name = "segments"

urlpatterns = [
    path("outreach/segments/", segment_list, name="list"),
    path("outreach/segments/new/", segment_edit, name="new"),
    path("outreach/segments/preview/", segment_preview, name="preview"),
    path("outreach/segments/from-wave/", segment_from_wave, name="from_wave"),
    path("outreach/segments/<slug:code>/", segment_edit, name="edit"),
]
