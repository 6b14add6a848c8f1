"""The citizen feed: the portal home /me/ (and /me/feed/), cards ranked by kepu.outreach.recommend.
A visitor who is not logged in gets the popular feed; a staff account is refused (citizen page)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from kepu.citizens.selectors import citizen_of, has_consent
from kepu.emergency.selectors import pinned_for_unit
from kepu.outreach.recommend import feed

# Why a card is shown, by the signal that contributed most (kepu.outreach.recommend.signals).
REASONS = {
    "fit": gettext_lazy("适合您"),
    "interest": gettext_lazy("您关注的主题"),
    "weak": gettext_lazy("帮您补短板"),
    "fresh": gettext_lazy("最新"),
    "popular": gettext_lazy("热门"),
    "collaborative": gettext_lazy("看过相似内容的人也在看"),
}


def feed_page(request: HttpRequest) -> HttpResponse:
    citizen = None
    if request.user.is_authenticated:
        citizen = citizen_of(request.user)
        if citizen is None:
            raise DjangoPermissionDenied(_("这是市民页面，工作人员账户不能使用。"))
    en = (get_language() or "").startswith("en")
    cards = [
        {
            "r": item.resource,
            "title": item.resource.title_en if en and item.resource.title_en else item.resource.title_zh,
            "summary": item.resource.summary_en if en and item.resource.summary_en else item.resource.summary_zh,
            "topics": [t.name_en if en and t.name_en else t.name_zh for t in item.resource.topics.all()][:3],
            "reasons": [REASONS[r] for r in item.reasons if r in REASONS],
        }
        for item in feed(citizen, limit=20)
    ]
    personal = citizen is not None and has_consent(citizen, "personalise")
    pinned = pinned_for_unit(citizen.town or citizen.district, key_groups=citizen.key_groups) if citizen else []
    return render(request, "outreach/feed.html", {"cards": cards, "citizen": citizen, "personal": personal,
                                                  "pinned": pinned})


app_name = "feed"

urlpatterns = [
    path("me/", feed_page, name="home"),
    path("me/feed/", feed_page, name="feed"),
]
