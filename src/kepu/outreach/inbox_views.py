"""The citizen's inbox (/me/inbox/) and the tracked link of every push (/me/inbox/<delivery id>/):
opening it marks the delivery opened and records an "open" event with the campaign id."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, path, resolve
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache

from kepu.citizens.access import citizen_required
from kepu.outreach import campaigns
from kepu.outreach.campaign_models import Delivery, InboxMessage
from kepu.outreach.models import Resource

RESOURCE_PATH = "/me/r/{code}/"


def _en() -> bool:
    return (get_language() or "").startswith("en")


def resource_link(resource: Resource) -> str:
    """The citizen page of a resource (the catalogue's /me/r/<code>/) where it exists, else its own address."""
    page = RESOURCE_PATH.format(code=resource.code)
    try:
        resolve(page)
    except Resolver404:
        return resource.url
    return page


@never_cache
@citizen_required
def inbox(request: HttpRequest) -> HttpResponse:
    citizen = request.citizen  # type: ignore[attr-defined]
    messages = list(InboxMessage.objects.filter(citizen=citizen).order_by("-created_at", "-pk")[:100])
    unread = sum(m.read_at is None for m in messages)
    return render(request, "outreach/inbox.html", {"items": messages, "unread": unread})


@never_cache
@citizen_required
def inbox_open(request: HttpRequest, delivery_id: int) -> HttpResponse:
    citizen = request.citizen  # type: ignore[attr-defined]
    delivery = (Delivery.objects.select_related("campaign").filter(pk=delivery_id, citizen=citizen, holdout=False)
                .exclude(status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING, Delivery.Status.FAILED]).first())
    if delivery is None:
        raise Http404
    campaigns.delivery_open(delivery=delivery)
    en = _en()
    items: list[dict[str, Any]] = [
        {"title": (r.title_en if en and r.title_en else r.title_zh),
         "summary": (r.summary_en if en and r.summary_en else r.summary_zh), "url": resource_link(r)}
        for r in delivery.campaign.resources.filter(status="published").order_by("pk")
    ]
    return render(request, "outreach/inbox_message.html", {"campaign": delivery.campaign, "resources": items})


@never_cache
@citizen_required
def inbox_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """A message another app posted (no campaign behind it): mark it read and open its page."""
    citizen = request.citizen  # type: ignore[attr-defined]
    message = InboxMessage.objects.filter(pk=message_id, citizen=citizen, delivery__isnull=True).first()
    if message is None or not message.link.startswith("/") or message.link.startswith("//"):
        raise Http404
    if message.read_at is None:
        InboxMessage.objects.filter(pk=message.pk).update(read_at=timezone.now())
    return redirect(message.link)


app_name = "outreach_inbox"
urlpatterns = [
    path("me/inbox/", inbox, name="list"),
    path("me/inbox/<int:delivery_id>/", inbox_open, name="open"),
    path("me/inbox/m/<int:message_id>/", inbox_message, name="message"),
]
