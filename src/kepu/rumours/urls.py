from django.urls import path

from kepu.rumours import views

app_name = "rumours"
urlpatterns = [
    # public and citizen pages (CITIZEN_PATHS: /me/rumours/)
    path("me/rumours/", views.public_list, name="public_list"),
    path("me/rumours/report/", views.report, name="report"),
    path("me/rumours/report/done/", views.report_done, name="report_done"),
    path("me/rumours/monthly/", views.public_monthly, name="public_monthly"),
    path("me/rumours/<int:debunk_id>/", views.public_detail, name="public_detail"),
    # staff
    path("rumours/claims/", views.claims, name="claims"),
    path("rumours/claims/new/", views.claim_new, name="claim_new"),
    path("rumours/claims/triage/", views.claim_triage, name="claim_triage"),
    path("rumours/debunks/", views.debunks, name="debunks"),
    path("rumours/debunks/<int:debunk_id>/", views.debunk_detail, name="debunk"),
    path("rumours/debunks/<int:debunk_id>/edit/", views.debunk_edit, name="debunk_edit"),
    path("rumours/debunks/<int:debunk_id>/action/", views.debunk_action, name="debunk_action"),
    path("rumours/monitor/", views.monitor, name="monitor"),
    path("rumours/monthly/", views.staff_monthly, name="monthly"),
    path("rumours/partners/", views.partners, name="partners"),
]
