from django.urls import path

from kepu.emergency import views

app_name = "emergency"

urlpatterns = [
    path("emergency/", views.event_list, name="events"),
    path("emergency/declare/", views.event_declare, name="declare"),
    path("emergency/<int:pk>/", views.event_detail, name="event"),
    path("emergency/<int:pk>/end/", views.event_end, name="end"),
    path("emergency/<int:pk>/campaign/prepare/", views.campaign_prepare, name="campaign_prepare"),
    path("emergency/<int:pk>/campaign/send/", views.campaign_send, name="campaign_send"),
    path("emergency/hazards/", views.hazard_list, name="hazards"),
    path("emergency/hazards/new/", views.hazard_edit, name="hazard_new"),
    path("emergency/hazards/<slug:code>/", views.hazard_detail, name="hazard"),
    path("emergency/hazards/<slug:code>/edit/", views.hazard_edit, name="hazard_edit"),
    path("emergency/hazards/<slug:code>/guidance/new/", views.guidance_edit, name="guidance_new"),
    path("emergency/guidance/<int:pk>/edit/", views.guidance_edit, name="guidance_edit"),
    path("emergency/guidance/<int:pk>/review/", views.guidance_review, name="guidance_review"),
    path("emergency/guidance/<int:pk>/publish/", views.guidance_publish, name="guidance_publish"),
    path("emergency/review/", views.review_queue, name="review"),
    path("emergency/coverage/", views.coverage_page, name="coverage"),
    # Citizen pages (public knowledge; /me/ is the citizen side).
    path("me/hazards/", views.me_hazards, name="me_hazards"),
    path("me/hazards/<slug:code>/", views.me_hazard, name="me_hazard"),
]
