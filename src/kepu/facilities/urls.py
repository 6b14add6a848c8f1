from django.urls import path

from kepu.facilities import views

app_name = "facilities"

urlpatterns = [
    path("facilities/", views.base_list, name="bases"),
    path("facilities/bases/<int:pk>/", views.base_detail, name="base"),
    path("facilities/applications/", views.application_list, name="applications"),
    path("facilities/applications/new/", views.application_new, name="application_new"),
    path("facilities/applications/<int:pk>/", views.application_detail, name="application"),
    path("facilities/applications/<int:pk>/evidence/", views.application_evidence, name="application_evidence"),
    path("facilities/venues/", views.venue_list, name="venues"),
    path("facilities/venues/<int:pk>/", views.venue_detail, name="venue"),
    path("facilities/open/", views.public_venues, name="public_venues"),
    path("facilities/open/<int:pk>/", views.public_venue, name="public_venue"),
    path("facilities/map/", views.coverage_map, name="map"),
    path("facilities/export/bases.xlsx", views.export_bases, name="export_bases"),
    path("facilities/export/venues.xlsx", views.export_venues, name="export_venues"),
    path("facilities/import/", views.import_file, name="import"),
    path("facilities/export/visits.xlsx", views.export_visits, name="export_visits"),
    path("facilities/import/visits/", views.import_visits, name="import_visits"),
]
