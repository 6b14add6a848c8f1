from django.urls import URLPattern

app_name = "rumours"
urlpatterns: list[URLPattern] = []
