from django.urls import path

from kepu.recognition import views

app_name = "recognition"

urlpatterns = [
    path("recognition/honours/", views.honours_public, name="honours"),
    path("recognition/units/<str:code>/", views.unit_honours, name="unit"),
    path("recognition/people/<int:user_id>/", views.person_honours, name="person"),
    path("recognition/nominations/", views.nominations, name="nominations"),
    path("recognition/nominations.xlsx", views.nominations_export, name="export"),
    path("recognition/nominations/<int:nomination_id>/", views.nomination_detail, name="nomination"),
]
