from django.urls import path

from kepu.literacy import online_views, views

app_name = "literacy"

urlpatterns = [
    # The test's token travels in a cookie, never in these addresses (they end up in access logs).
    path("test/", online_views.test_start, name="test_start"),
    path("test/question/", online_views.test_question, name="test_question"),
    path("test/result/", online_views.test_result, name="test_result"),
    path("literacy/", views.waves, name="waves"),
    path("literacy/items/", views.item_bank, name="item_bank"),
    path("literacy/items/<str:code>/", views.item_detail, name="item_detail"),
    path("literacy/items/<str:code>/status/", views.item_status, name="item_status"),
    path("literacy/items/<str:code>/revisions/<int:number>/", views.item_revision_status, name="item_revision_status"),
    path("literacy/waves/<str:code>/", views.wave_detail, name="wave_detail"),
    path("literacy/waves/<str:code>/export.<str:fmt>", views.wave_export, name="wave_export"),
    path("literacy/waves/<str:code>/variance/", views.wave_variance, name="wave_variance"),
]
