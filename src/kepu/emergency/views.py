"""Pages of the emergency app. Staff: /emergency/ (emergency events: declare, detail, campaign, end),
/emergency/hazards/ (knowledge base: hazards, guidance, editing), /emergency/review/ (expert review
and publishing), /emergency/coverage/ (五进). Citizens: /me/hazards/ (published guidance).
Thin: rules live in services and selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.emergency import coverage as cov
from kepu.emergency import selectors, services
from kepu.emergency.models import BODY_MAX, TITLE_MAX, Guidance, Hazard


def _en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def staff(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Staff pages: a logged-in user with some role; scope refusals become a 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scope = scope_for(request.user)
        if not scope.paths and not scope.superuser and not services.can_review(request.user):
            raise DjangoPermissionDenied(_("这是工作人员页面。"))
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc

    return login_required(wrapped)


def _errors(request: HttpRequest, exc: InputError) -> None:
    for e in exc.errors[:30]:
        messages.error(request, e)


# --- emergency events ------------------------------------------------------------------------------


@staff
def event_list(request: HttpRequest) -> HttpResponse:
    events = list(selectors.events_visible(request.user)[:200])
    return render(request, "emergency/event_list.html", {
        "active": [e for e in events if e.active], "ended": [e for e in events if not e.active],
        "can_declare": selectors.units_declarable(request.user).exists(), "now": timezone.now()})


class DeclareForm(forms.Form):
    hazard = forms.ModelChoiceField(label=gettext_lazy("灾种"), queryset=Hazard.objects.none())
    affected = forms.ModelMultipleChoiceField(label=gettext_lazy("影响地区"), queryset=OrgUnit.objects.none(),
                                              widget=forms.SelectMultiple(attrs={"size": 10}))
    starts_at = forms.DateTimeField(label=gettext_lazy("开始时间"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    planned_end = forms.DateTimeField(label=gettext_lazy("计划结束时间"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    note = forms.CharField(label=gettext_lazy("说明（将推送给居民）"), required=False, max_length=services.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        en = _en()
        self.fields["hazard"].queryset = selectors.hazards()  # type: ignore[attr-defined]
        self.fields["hazard"].label_from_instance = lambda h: h.name("en" if en else "zh")  # type: ignore[attr-defined]
        self.fields["affected"].queryset = selectors.units_declarable(user)  # type: ignore[attr-defined]
        self.fields["affected"].label_from_instance = (  # type: ignore[attr-defined]
            lambda u: ("" if u.level == OrgUnit.Level.DISTRICT else "　") + u.name("en" if en else "zh"))
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["starts_at"].initial = now
        self.fields["planned_end"].initial = now + dt.timedelta(days=3)


@staff
@require_http_methods(["GET", "POST"])
def event_declare(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if not selectors.units_declarable(user).exists():
        raise DjangoPermissionDenied(_("只有领导小组办公室管理员和辖市(区)填报员可以宣布应急状态。"))
    form = DeclareForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            event = services.event_declare(actor=user, hazard=d["hazard"], affected=list(d["affected"]),
                                           starts_at=d["starts_at"], planned_end=d["planned_end"], note=d["note"])
        except InputError as exc:
            for e in exc.errors:
                form.add_error(None, e)
        else:
            messages.success(request, _("已宣布应急状态，相关地区的市民页面和大屏将置顶应急指引。"))
            return redirect("emergency:event", event.pk)
    return render(request, "emergency/declare.html", {"form": form})


@staff
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_get(request.user, pk)
    campaign = selectors.event_campaign(request.user, event)
    from kepu.outreach import campaigns

    can_campaign = campaigns.can_manage(scope_for(request.user), event.org_unit)
    return render(request, "emergency/event_detail.html", {
        "event": event, "affected": list(event.affected.all().order_by("path")),
        "guidance": list(selectors.guidance_for(event.hazard, phase=Guidance.Phase.DURING)),
        "resources": selectors.hazard_resources(event.hazard),
        "campaign": campaign, "campaign_stats": campaigns.campaign_stats(campaign) if campaign else None,
        "can_end": event.active and services.can_declare(request.user, event.org_unit),
        "can_prepare": event.active and event.campaign_id is None and can_campaign,
        "can_send": event.active and campaign is not None and campaign.status == "draft" and can_campaign
        and campaign.created_by_id != request.user.pk,
        "overdue": event.active and event.planned_end < timezone.now(),
    })


def _event_action(request: HttpRequest, pk: int, act: Callable[[Any], Any], done: str) -> HttpResponse:
    """One POST on an emergency event: the service call, its errors or a success message, back to the event."""
    event = selectors.event_get(request.user, pk)
    try:
        act(event)
    except InputError as exc:
        _errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("emergency:event", pk)


@staff
@require_POST
def event_end(request: HttpRequest, pk: int) -> HttpResponse:
    return _event_action(request, pk, lambda e: services.event_end(actor=actor(request), event=e,
                                                                   note=request.POST.get("note", "")),
                         _("应急状态已结束，置顶指引已撤下；记录保留。"))


@staff
@require_POST
def campaign_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    return _event_action(request, pk, lambda e: services.event_campaign_prepare(actor=actor(request), event=e),
                         _("推送活动已准备好，等待另一位运营人员批准。"))


@staff
@require_POST
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _event_action(request, pk, lambda e: services.event_campaign_send(actor=actor(request), event=e),
                         _("推送活动已批准并开始发送。"))


# --- knowledge base --------------------------------------------------------------------------------


def _phases(hazard: Hazard, *, published: bool) -> list[tuple[str, Any, list[Guidance]]]:
    items = list(selectors.guidance_for(hazard, published=published))
    return [(code, label, [g for g in items if g.phase == code]) for code, label in Guidance.Phase.choices]


@staff
def hazard_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.hazard_rows()
    return render(request, "emergency/hazard_list.html", {
        "rows": rows, "can_author": services.can_author(request.user),
        "can_review": services.can_review(request.user)})


class HazardForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("代码"), max_length=40)
    name_zh = forms.CharField(label=gettext_lazy("中文名称"), max_length=60)
    name_en = forms.CharField(label=gettext_lazy("英文名称"), max_length=80, required=False)
    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=Hazard.Category.choices)
    keywords = forms.CharField(label=gettext_lazy("关键词（逗号分隔）"), required=False, max_length=800)
    resource_codes = forms.CharField(label=gettext_lazy("关联科普内容代码（逗号分隔）"), required=False,
                                     max_length=1200)


@staff
@require_http_methods(["GET", "POST"])
def hazard_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    hazard = selectors.hazard_get(code) if code else None
    if not services.can_author(request.user):
        raise DjangoPermissionDenied(_("只有科普内容编辑或领导小组办公室可以编辑灾种和应急指引。"))
    initial = {}
    if hazard is not None:
        initial = {"code": hazard.code, "name_zh": hazard.name_zh, "name_en": hazard.name_en,
                   "category": hazard.category, "keywords": ", ".join(hazard.keywords),
                   "resource_codes": ", ".join(hazard.resource_codes)}
    form = HazardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            saved = services.hazard_save(actor=actor(request), hazard=hazard, data=services.HazardInput(
                code=d["code"], name_zh=d["name_zh"], name_en=d["name_en"], category=d["category"],
                keywords=d["keywords"], resource_codes=d["resource_codes"]))
        except InputError as exc:
            for e in exc.errors:
                form.add_error(None, e)
        else:
            messages.success(request, _("灾种已保存。"))
            return redirect("emergency:hazard", saved.code)
    return render(request, "emergency/hazard_form.html", {"form": form, "hazard": hazard})


@staff
def hazard_detail(request: HttpRequest, code: str) -> HttpResponse:
    hazard = selectors.hazard_get(code)
    return render(request, "emergency/hazard_detail.html", {
        "hazard": hazard, "phases": _phases(hazard, published=False),
        "resources": selectors.hazard_resources(hazard), "can_author": services.can_author(request.user)})


class GuidanceForm(forms.Form):
    phase = forms.ChoiceField(label=gettext_lazy("阶段"), choices=Guidance.Phase.choices)
    group = forms.ChoiceField(label=gettext_lazy("人群"), choices=Guidance.Group.choices)
    title_zh = forms.CharField(label=gettext_lazy("中文标题"), max_length=TITLE_MAX * 4)
    body_zh = forms.CharField(label=gettext_lazy("中文正文"), widget=forms.Textarea(attrs={"rows": 5}),
                              max_length=BODY_MAX * 4)
    title_en = forms.CharField(label=gettext_lazy("英文标题"), max_length=TITLE_MAX * 4, required=False)
    body_en = forms.CharField(label=gettext_lazy("英文正文"), widget=forms.Textarea(attrs={"rows": 5}),
                              max_length=BODY_MAX * 12, required=False)
    reason = forms.CharField(label=gettext_lazy("修改原因（修改已发布指引时必填）"), required=False, max_length=300)

    def to_input(self) -> services.GuidanceInput:
        d = self.cleaned_data
        return services.GuidanceInput(phase=d["phase"], group=d["group"], title_zh=d["title_zh"],
                                      body_zh=d["body_zh"], title_en=d["title_en"], body_en=d["body_en"])


@staff
@require_http_methods(["GET", "POST"])
def guidance_edit(request: HttpRequest, code: str | None = None, pk: int | None = None) -> HttpResponse:
    if not services.can_author(request.user):
        raise DjangoPermissionDenied(_("只有科普内容编辑或领导小组办公室可以编辑灾种和应急指引。"))
    guidance = selectors.guidance_get(pk) if pk else None
    hazard = guidance.hazard if guidance else selectors.hazard_get(code or "")
    initial = {}
    if guidance is not None:
        initial = {f: getattr(guidance, f) for f in ("phase", "group", "title_zh", "body_zh", "title_en", "body_en")}
    form = GuidanceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if guidance is None:
                services.guidance_create(actor=actor(request), hazard=hazard, data=form.to_input())
            else:
                services.guidance_update(actor=actor(request), guidance=guidance, data=form.to_input(),
                                         reason=form.cleaned_data["reason"])
        except InputError as exc:
            for e in exc.errors:
                form.add_error(None, e)
        else:
            messages.success(request, _("指引已保存。"))
            return redirect("emergency:hazard", hazard.code)
    return render(request, "emergency/guidance_form.html", {"form": form, "hazard": hazard, "guidance": guidance})


@staff
def review_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "emergency/review.html", {
        "items": list(selectors.review_queue(request.user)[:300]),
        "can_review": services.can_review(request.user), "can_author": services.can_author(request.user)})


@staff
@require_POST
def guidance_review(request: HttpRequest, pk: int) -> HttpResponse:
    g = selectors.guidance_get(pk)
    try:
        services.guidance_review(actor=actor(request), guidance=g, comment=request.POST.get("comment", ""))
    except InputError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已审核：%(title)s") % {"title": g.title_zh})
    return redirect("emergency:review")


@staff
@require_POST
def guidance_publish(request: HttpRequest, pk: int) -> HttpResponse:
    g = selectors.guidance_get(pk)
    try:
        services.guidance_publish(actor=actor(request), guidance=g)
    except InputError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已发布：%(title)s") % {"title": g.title_zh})
    if request.POST.get("next") == "hazard":
        return redirect("emergency:hazard", g.hazard.code)
    return redirect("emergency:review")


# --- 五进 coverage ----------------------------------------------------------------------------------


@staff
def coverage_page(request: HttpRequest) -> HttpResponse:
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except ValueError:
        year = this_year
    year = min(max(year, 2021), this_year)
    rows = cov.coverage(request.user, year=year)
    return render(request, "emergency/coverage.html", {
        "rows": rows, "totals": cov.totals(rows), "settings": list(cov.SETTINGS.items()), "year": year,
        "campaigns": cov.campaigns_readable(request.user),
        "years": list(range(this_year, 2020, -1))})


# --- citizens ----------------------------------------------------------------------------------------


def me_hazards(request: HttpRequest) -> HttpResponse:
    """Public knowledge: the hazards with published guidance, and what is pinned for the citizen's area."""
    from kepu.citizens.selectors import citizen_of

    citizen = citizen_of(request.user) if request.user.is_authenticated else None
    pinned = []
    if citizen is not None:
        pinned = selectors.pinned_for_unit(citizen.town or citizen.district, key_groups=citizen.key_groups or [])
    return render(request, "emergency/me_hazards.html", {
        "hazards": list(selectors.hazards_published()), "pinned": pinned})


def me_hazard(request: HttpRequest, code: str) -> HttpResponse:
    hazard = selectors.hazard_get(code)
    return render(request, "emergency/me_hazard.html", {
        "hazard": hazard, "phases": [p for p in _phases(hazard, published=True) if p[2]],
        "resources": selectors.hazard_resources(hazard)})
