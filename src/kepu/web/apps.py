from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kepu.web"
    label = "web"
