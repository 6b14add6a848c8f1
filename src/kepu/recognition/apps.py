from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecognitionConfig(AppConfig):
    name = "kepu.recognition"
    label = "recognition"
    verbose_name = _("科普表彰")
