from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "kepu.facilities"
    label = "facilities"
    verbose_name = _("科普基地与场馆")
