from django.contrib import admin
from django.urls import include, path

from kepu.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kepu.literacy.urls")),
    path("", include("kepu.quiz.urls")),
    path("", include("kepu.citizens.urls")),
    path("", include("kepu.web.urls")),
    path("", include("kepu.outreach.demand_views")),
    path("", include("kepu.outreach.urls")),
    path("", include("kepu.outreach.kiosk_views")),
    path("", include("kepu.outreach.campaign_views")),
    path("", include("kepu.outreach.inbox_views")),
    path("", include("kepu.outreach.segment_views")),
    path("", include("kepu.outreach.feed_views")),
    path("", include("kepu.community.urls")),
    path("", include("kepu.community.capacity_urls")),
    path("", include("kepu.events.urls")),
    path("", include("kepu.facilities.urls")),
    path("", include("kepu.funding.urls")),
    path("", include("kepu.recognition.urls")),
    path("", include("kepu.emergency.urls")),
    path("", include("kepu.rumours.urls")),
]
