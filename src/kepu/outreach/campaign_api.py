"""Push campaigns in the API: list and read (delivery stats, effect against the holdout) and the
workflow steps, with the console's rules (kepu.outreach.campaigns): campaigners and office admins,
within their org unit; nobody approves their own campaign."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kepu.core.errors import PermissionDenied
from kepu.core.scope import actor
from kepu.outreach import campaigns as svc
from kepu.outreach.campaign_models import Campaign
from kepu.outreach.effects import campaign_effect

router = Router(tags=["outreach"])

Step = Literal["approve", "start", "resume", "cancel"]
CampaignId = Annotated[int, Field(ge=1, le=2**63 - 1, examples=[1])]


class EffectOut(Schema):
    measure: str
    treated: list[int] = Field(description="[successes, trials] in the treated arm")
    holdout: list[int] = Field(description="[successes, trials] in the holdout arm")
    difference: float = Field(description="treated share minus holdout share")
    ci95: list[float] = Field(description="Newcombe hybrid score interval (1998, method 10)")
    significant: bool = Field(description="the interval excludes 0")


class CampaignOut(Schema):
    id: int
    name: str
    org_unit: str
    segment: str
    resources: list[str]
    channel: Literal["inbox", "sms", "wechat"]
    status: Literal["draft", "approved", "running", "done", "cancelled"]
    send_at: dt.datetime
    rate_per_minute: int
    holdout_share: float
    measure: Literal["completion", "quiz_accuracy"]
    dimension: str
    created_by: str | None
    approved_by: str | None
    stats: dict[str, int]
    effect: EffectOut | None


class CampaignPage(Schema):
    count: int
    items: list[CampaignOut]


class CampaignListPage(Schema):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


def _out(c: Campaign, *, effect: bool) -> dict[str, Any]:
    found = campaign_effect(c) if effect else None
    return {
        "id": c.pk, "name": c.name, "org_unit": c.org_unit.code, "segment": c.segment.code,
        "resources": [r.code for r in c.resources.all()], "channel": c.channel, "status": c.status,
        "send_at": c.send_at, "rate_per_minute": c.rate_per_minute, "holdout_share": c.holdout_share,
        "measure": c.measure, "dimension": c.dimension,
        "created_by": c.created_by.username if c.created_by else None,
        "approved_by": c.approved_by.username if c.approved_by else None,
        "stats": svc.campaign_stats(c), "effect": found.as_dict() if found else None,
    }


def _user(request: HttpRequest) -> Any:
    user = actor(request)
    if not svc.campaign_units(user).exists():
        raise PermissionDenied("Only campaigners and office admins see push campaigns.")
    return user


def _get(user: Any, campaign_id: int) -> Campaign:
    campaign = svc.campaigns_visible(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(f"No campaign {campaign_id} in your scope.")
    return campaign


@router.get("/outreach/campaigns", response=CampaignPage, summary="Push campaigns in your scope")
def campaign_list(request: HttpRequest, page: Query[CampaignListPage]) -> dict[str, Any]:
    qs = svc.campaigns_visible(_user(request)).prefetch_related("resources")
    items = qs[page.offset:page.offset + page.limit]
    return {"count": qs.count(), "items": [_out(c, effect=False) for c in items]}


@router.get("/outreach/campaigns/{campaign_id}", response=CampaignOut, summary="One push campaign")
def campaign_get(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    """With its delivery counts by state and, when it has a holdout, the effect on its target measure."""
    return _out(_get(_user(request), campaign_id), effect=True)


@router.post("/outreach/campaigns/{campaign_id}/{step}", response=CampaignOut, summary="Approve, start or cancel")
def campaign_step(request: HttpRequest, campaign_id: CampaignId, step: Step) -> dict[str, Any]:
    """approve (someone other than the author), start (queues the sending for its time), resume
    (the next step of a rate-limited campaign), cancel."""
    user = _user(request)
    campaign = _get(user, campaign_id)
    run = {"approve": svc.campaign_approve, "start": svc.campaign_start, "resume": svc.campaign_resume,
           "cancel": svc.campaign_cancel}[step]
    run(campaign=campaign, user=user)
    campaign.refresh_from_db()
    return _out(campaign, effect=True)
