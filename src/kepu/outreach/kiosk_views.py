"""Big-screen pages: the public kiosk page (no login; rotates content and a contest leaderboard by static
JS) and the editors' set-up console /outreach/kiosks/. Thin: kepu.outreach.kiosk holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, path, resolve
from django.utils.html import strip_tags
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor
from kepu.emergency.selectors import pinned_for_unit
from kepu.outreach import kiosk as svc
from kepu.outreach.kiosk_models import INTERVAL_MAX, INTERVAL_MIN, Kiosk
from kepu.outreach.models import Resource, Topic

PHONE_PATH = "/me/r/{code}/"
LEADERBOARD_PATH = "/api/quiz/contests/{id}/leaderboard"


def _en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def _leaderboard_url(kiosk: Kiosk) -> str:
    """The quiz API's public leaderboard for the kiosk's contest, when that API is installed."""
    if kiosk.contest_id is None:
        return ""
    url = LEADERBOARD_PATH.format(id=kiosk.contest_id)
    try:
        resolve(url)
    except Resolver404:
        return ""
    return url


def _slide(request: HttpRequest, r: Resource) -> dict[str, Any]:
    en = _en()
    phone = request.build_absolute_uri(PHONE_PATH.format(code=r.code))
    body = strip_tags((r.body_en if en and r.body_en else r.body_zh) or "").strip()
    return {
        "code": r.code,
        "kind": r.get_kind_display(),
        "title": r.title_en if en and r.title_en else r.title_zh,
        "summary": (r.summary_en if en and r.summary_en else r.summary_zh) or body,
        "qr": svc.qr_svg(phone),
        "phone": phone,
    }


def _kiosk_context(request: HttpRequest, code: str) -> dict[str, Any]:
    kiosk = svc.kiosk_public(code)
    if kiosk is None:
        raise Http404(_("没有这块大屏。"))
    slides = [_slide(request, r) for r in svc.kiosk_items(kiosk)]
    return {"kiosk": kiosk, "slides": slides, "leaderboard_url": _leaderboard_url(kiosk),
            "pinned": pinned_for_unit(kiosk.org_unit)}


def kiosk_page(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "outreach/kiosk.html", _kiosk_context(request, code))


def kiosk_slides(request: HttpRequest, code: str) -> HttpResponse:
    """The slides alone: the screen's script reloads them now and then, and keeps the old ones on failure."""
    response = render(request, "outreach/kiosk_slides.html", _kiosk_context(request, code))
    response["Cache-Control"] = "no-store"
    return response


class KioskForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("代码"), max_length=40,
                           help_text=gettext_lazy("用于大屏地址 /kiosk/代码/,只能用字母、数字、连字符。"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    org_unit = forms.ModelChoiceField(label=gettext_lazy("所在地区"), queryset=OrgUnit.objects.none())
    venue = forms.CharField(label=gettext_lazy("场所"), max_length=200, required=False)
    resources = forms.ModelMultipleChoiceField(
        label=gettext_lazy("轮播内容"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Resource.objects.filter(status=Resource.Status.PUBLISHED).order_by("code"))
    topics = forms.ModelMultipleChoiceField(
        label=gettext_lazy("轮播主题"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Topic.objects.all(), help_text=gettext_lazy("所选主题下的已发布内容也会轮播。"))
    contest_id = forms.IntegerField(
        label=gettext_lazy("显示竞赛排行榜(竞赛编号)"), required=False, min_value=1,
        help_text=gettext_lazy("竞赛编号是竞赛管理页地址 /quiz/contests/编号/ 中的数字；不填则只轮播内容。"))
    interval = forms.IntegerField(label=gettext_lazy("轮播间隔(秒)"), min_value=INTERVAL_MIN,
                                  max_value=INTERVAL_MAX, initial=20)
    active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = svc.units_for(user)  # type: ignore[attr-defined]
        en = _en()
        self.fields["org_unit"].label_from_instance = lambda u: u.name("en" if en else "zh")  # type: ignore[attr-defined]
        self.fields["resources"].label_from_instance = (  # type: ignore[attr-defined]
            lambda r: r.title_en if en and r.title_en else r.title_zh)
        self.fields["topics"].label_from_instance = (  # type: ignore[attr-defined]
            lambda t: t.name_en if en and t.name_en else t.name_zh)

    def to_input(self) -> svc.KioskInput:
        d = self.cleaned_data
        return svc.KioskInput(code=d["code"], name=d["name"], org_unit=d["org_unit"], venue=d["venue"],
                              resources=tuple(d["resources"]), topics=tuple(d["topics"]),
                              contest_id=d["contest_id"], interval=d["interval"], active=d["active"])


def _require_editor(request: HttpRequest) -> None:
    if not svc.can_configure(request.user):
        raise DjangoPermissionDenied(_("只有科普内容编辑或领导小组办公室可以设置大屏。"))


@login_required
def kiosk_list(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return render(request, "outreach/kiosk_list.html", {"kiosks": svc.kiosks_for(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def kiosk_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    _require_editor(request)
    kiosk = None
    if code is not None:
        kiosk = svc.kiosks_for(request.user).filter(code=code).first()
        if kiosk is None:
            raise Http404(_("没有这块大屏,或您无权设置。"))
    initial: dict[str, Any] = {}
    if kiosk is not None:
        initial = {"code": kiosk.code, "name": kiosk.name, "org_unit": kiosk.org_unit, "venue": kiosk.venue,
                   "resources": list(kiosk.resources.all()), "topics": list(kiosk.topics.all()),
                   "contest_id": kiosk.contest_id, "interval": kiosk.interval, "active": kiosk.active}
    form = KioskForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = svc.kiosk_save(user=actor(request), data=form.to_input(), kiosk=kiosk)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except InputError as exc:
            for e in exc.errors:
                form.add_error(None, e)
        else:
            messages.success(request, _("大屏设置已保存。"))
            return redirect("kiosk:edit", code=saved.code)
    return render(request, "outreach/kiosk_form.html", {"form": form, "kiosk": kiosk})


app_name = "kiosk"

urlpatterns = [
    path("kiosk/<slug:code>/", kiosk_page, name="page"),
    path("kiosk/<slug:code>/slides/", kiosk_slides, name="slides"),
    path("outreach/kiosks/", kiosk_list, name="list"),
    path("outreach/kiosks/new/", kiosk_edit, name="new"),
    path("outreach/kiosks/<slug:code>/", kiosk_edit, name="edit"),
]
