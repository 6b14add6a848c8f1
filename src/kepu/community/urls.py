from django.urls import path

from kepu.community import views

app_name = "community"

urlpatterns = [
    path("community/experts/", views.expert_list, name="experts"),
    path("community/experts/new/", views.expert_new, name="expert_new"),
    path("community/experts/<int:pk>/", views.expert_detail, name="expert_detail"),
    path("community/experts/<int:pk>/edit/", views.expert_edit, name="expert_edit"),
    path("community/experts/<int:pk>/deactivate/", views.expert_deactivate, name="expert_deactivate"),
    path("community/tasks/", views.my_tasks, name="my_tasks"),
    path("community/volunteers/", views.volunteer_list, name="volunteers"),
    path("community/volunteers/new/", views.volunteer_new, name="volunteer_new"),
    path("community/volunteers/<int:pk>/", views.volunteer_detail, name="volunteer_detail"),
    path("community/volunteers/<int:pk>/edit/", views.volunteer_edit, name="volunteer_edit"),
    path("community/volunteers/<int:pk>/certificate/", views.certificate_issue, name="certificate_issue"),
    path("community/teams/", views.team_list, name="teams"),
    path("community/records/", views.record_list, name="records"),
    path("community/records/new/", views.record_new, name="record_new"),
    path("community/records/decide/", views.record_decide, name="record_decide"),
    # A volunteer's own pages live under /me/ (citizen sessions are confined to the citizen side).
    path("me/volunteer/", views.me, name="me"),
    path("me/volunteer/certificate/", views.my_certificate_issue, name="my_certificate_issue"),
    path("me/volunteer/certificates/<int:pk>.pdf", views.certificate_pdf, name="my_certificate_pdf"),
    path("community/certificates/<int:pk>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("community/verify/<str:code>/", views.verify, name="verify"),
    path("community/<str:kind>/export.xlsx", views.export, name="export"),
    path("community/<str:kind>/import/", views.import_, name="import"),
]
