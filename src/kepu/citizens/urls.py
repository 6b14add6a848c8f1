from django.urls import path

from kepu.citizens import views

app_name = "citizens"

urlpatterns = [
    path("me/signup/", views.signup, name="signup"),
    path("me/login/", views.CitizenLogin.as_view(), name="login"),
    path("me/logout/", views.citizen_logout, name="logout"),
    path("me/profile/", views.profile, name="profile"),
    path("me/elder/", views.elder_switch, name="elder"),
    path("me/data/", views.my_data, name="data"),
    path("me/data/download/", views.my_data_download, name="data_download"),
    path("me/delete/", views.delete_account, name="delete"),
]
