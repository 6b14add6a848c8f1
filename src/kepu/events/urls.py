from django.urls import path

from kepu.events import views

app_name = "events"

urlpatterns = [
    path("events/", views.event_list, name="list"),
    path("events/new/", views.event_new, name="new"),
    path("events/import/", views.events_import, name="import"),
    path("events/calendar/", views.calendar_page, name="calendar"),
    path("events/calendar/edit/", views.calendar_edit, name="calendar_edit"),
    path("events/technicians/", views.technicians, name="technicians"),
    path("events/technicians/export.xlsx", views.technicians_export, name="technicians_export"),
    path("events/technicians/import/", views.visits_import, name="technicians_import"),
    path("events/technicians/<int:pk>/", views.assignment_detail, name="assignment"),
    path("events/photos/<int:pk>/", views.photo, name="photo"),
    path("events/<int:pk>/", views.event_detail, name="detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="edit"),
    path("events/<int:pk>/checkin/", views.checkin_page, name="checkin"),
    path("events/<int:pk>/walk-in/", views.walk_in, name="walk_in"),
    path("events/<int:pk>/certify/", views.certify, name="certify"),
    path("events/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("events/<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("events/<int:pk>/attendees.xlsx", views.attendees_export, name="attendees_export"),
    path("events/<int:pk>/attendees/import/", views.attendees_import, name="attendees_import"),
    # Citizen pages live under /me/ (the only paths a citizen's session may use).
    path("me/events/", views.my_events, name="me"),
    path("me/events/<int:pk>/register/", views.my_register, name="me_register"),
    path("me/events/r/<str:code>/", views.my_registration, name="me_registration"),
]
