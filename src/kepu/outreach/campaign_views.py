"""The campaign console (/outreach/campaigns/): list, create from a saved segment, approve (by
someone else), start, follow delivery stats and the effect against the holdout. Thin: the rules
live in kepu.outreach.campaigns and kepu.outreach.effects."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.outreach import campaigns as svc
from kepu.outreach.campaign_models import Campaign, Delivery
from kepu.outreach.effects import campaign_effect, quiz_accuracy_available
from kepu.outreach.models import Resource
from kepu.outreach.segment_models import Segment

DIMENSION_NAMES = {
    "knowledge": gettext_lazy("科学知识"), "method": gettext_lazy("科学方法"),
    "spirit": gettext_lazy("科学精神"), "application": gettext_lazy("应用能力"),
}


def _en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def _console_user(request: HttpRequest) -> Any:
    user = actor(request)
    if not svc.campaign_units(user).exists():
        raise DjangoPermissionDenied(_("只有精准推送运营人员和办公室管理员可以使用推送活动。"))
    return user


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("活动名称"), max_length=200)
    org_unit: forms.ModelChoiceField[OrgUnit] = forms.ModelChoiceField(label=gettext_lazy("所属单位"),
                                                                       queryset=OrgUnit.objects.none())
    segment: forms.ModelChoiceField[Segment] = forms.ModelChoiceField(label=gettext_lazy("目标人群"),
                                                                      queryset=Segment.objects.none())
    resources: forms.ModelMultipleChoiceField[Resource] = forms.ModelMultipleChoiceField(
        label=gettext_lazy("推送内容"), queryset=Resource.objects.none(),
                                               widget=forms.SelectMultiple(attrs={"size": 8}))
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), choices=Campaign.Channel.choices)
    title = forms.CharField(label=gettext_lazy("消息标题"), max_length=100)
    message = forms.CharField(label=gettext_lazy("消息正文"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    send_at = forms.DateTimeField(label=gettext_lazy("发送时间"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    rate_per_minute = forms.IntegerField(label=gettext_lazy("每分钟最多发送（0 为不限）"), min_value=0, initial=0)
    holdout_percent = forms.IntegerField(label=gettext_lazy("对照组比例（%）"), min_value=0, max_value=50, initial=10,
                                         help_text=gettext_lazy("随机留出这部分人不发送，用来衡量推送的效果。"))
    measure = forms.ChoiceField(label=gettext_lazy("效果指标"), choices=Campaign.Measure.choices)
    dimension = forms.ChoiceField(label=gettext_lazy("目标素质维度"), required=False,
                                  choices=[("", "—"), *DIMENSION_NAMES.items()])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        en = _en()
        units = svc.campaign_units(user)
        self.fields["org_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["org_unit"].label_from_instance = lambda u: u.name_en if en else u.name_zh  # type: ignore[attr-defined]
        self.fields["segment"].queryset = svc.segments_for(user)  # type: ignore[attr-defined]
        self.fields["segment"].label_from_instance = lambda s: s.name("en" if en else "zh")  # type: ignore[attr-defined]
        self.fields["resources"].queryset = Resource.objects.filter(status="published").order_by("title_zh")  # type: ignore[attr-defined]
        self.fields["resources"].label_from_instance = (  # type: ignore[attr-defined]
            lambda r: r.title_en if en and r.title_en else r.title_zh)
        self.fields["org_unit"].initial = units.first()
        self.fields["send_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = _console_user(request)
    rows = []
    for c in svc.campaigns_visible(user)[:200]:
        rows.append({"campaign": c, "stats": svc.campaign_stats(c)})
    return render(request, "outreach/campaign_list.html", {"rows": rows, "en": _en()})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    user = _console_user(request)
    form = CampaignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            campaign = svc.campaign_create(
                user=user, name=d["name"], org_unit=d["org_unit"], segment=d["segment"],
                resources=list(d["resources"]), channel=d["channel"], title=d["title"], message=d["message"],
                send_at=d["send_at"], rate_per_minute=d["rate_per_minute"],
                holdout_share=d["holdout_percent"] / 100, measure=d["measure"], dimension=d["dimension"] or "",
            )
        except PermissionDenied as e:
            raise DjangoPermissionDenied(str(e)) from e
        except InputError as e:
            for err in e.errors:
                form.add_error(None, err)
        else:
            messages.success(request, _("推送活动已保存为草稿，请另一位运营人员批准后发送。"))
            return redirect("outreach_campaigns:detail", campaign.pk)
    return render(request, "outreach/campaign_form.html", {"form": form})


def _campaign(user: Any, campaign_id: int) -> Campaign:
    campaign = svc.campaigns_visible(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(_("没有这个推送活动，或您无权查看。"))
    return campaign


def _points(effect: Any) -> dict[str, str]:
    """Differences in percentage points, signed, one decimal."""
    return {k: f"{getattr(effect, k) * 100:+.1f}" for k in ("difference", "low", "high")}


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _console_user(request)
    campaign = _campaign(user, campaign_id)
    stats = svc.campaign_stats(campaign)
    D = Delivery.Status
    treated = stats["treated"]
    stat_rows = [(label, stats[code], (stats[code] / treated) if treated else None)
                 for code, label in D.choices if code != D.HELD]
    effect = campaign_effect(campaign)
    context = {
        "campaign": campaign,
        "stats": stats,
        "stat_rows": stat_rows,
        "effect": effect,
        "effect_text": _points(effect) if effect else None,
        "en": _en(),
        "resources": campaign.resources.order_by("title_zh"),
        "dimension_name": DIMENSION_NAMES.get(campaign.dimension, ""),
        "quiz_missing": campaign.measure == Campaign.Measure.QUIZ_ACCURACY and not quiz_accuracy_available(),
        "can_approve": campaign.status == Campaign.Status.DRAFT and campaign.created_by_id != user.pk,
        "own_draft": campaign.status == Campaign.Status.DRAFT and campaign.created_by_id == user.pk,
        "can_start": campaign.status == Campaign.Status.APPROVED,
        "can_resume": campaign.status == Campaign.Status.RUNNING and stats[D.QUEUED] > 0,
        "can_cancel": campaign.status in (Campaign.Status.DRAFT, Campaign.Status.APPROVED, Campaign.Status.RUNNING),
        "scope_ok": svc.can_manage(scope_for(user), campaign.org_unit),
    }
    return render(request, "outreach/campaign_detail.html", context)


ACTIONS = {
    "approve": (svc.campaign_approve, gettext_lazy("已批准。")),
    "start": (svc.campaign_start, gettext_lazy("已开始发送。")),
    "resume": (svc.campaign_resume, gettext_lazy("已继续发送。")),
    "cancel": (svc.campaign_cancel, gettext_lazy("已取消。")),
}


@login_required
@require_POST
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    user = _console_user(request)
    campaign = _campaign(user, campaign_id)
    if action not in ACTIONS:
        raise Http404
    run, done = ACTIONS[action]
    try:
        run(campaign=campaign, user=user)
    except PermissionDenied as e:
        raise DjangoPermissionDenied(str(e)) from e
    except InputError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, str(done))
    return redirect("outreach_campaigns:detail", campaign.pk)


app_name = "outreach_campaigns"
urlpatterns = [
    path("outreach/campaigns/", campaign_list, name="list"),
    path("outreach/campaigns/new/", campaign_new, name="new"),
    path("outreach/campaigns/<int:campaign_id>/", campaign_detail, name="detail"),
    path("outreach/campaigns/<int:campaign_id>/<slug:action>/", campaign_action, name="action"),
]
