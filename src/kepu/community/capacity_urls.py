"""URLs of the capacity index pages; the root URLconf includes this module at ""."""

from django.urls import path

from kepu.community import capacity_views

app_name = "capacity"

urlpatterns = [
    path("capacity/", capacity_views.capacity_page, name="page"),
    path("capacity/weights/", capacity_views.capacity_weights, name="weights"),
    path("capacity/<str:code>/", capacity_views.capacity_district, name="district"),
]
