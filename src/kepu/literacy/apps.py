from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiteracyConfig(AppConfig):
    name = "kepu.literacy"
    label = "literacy"
    verbose_name = _("科学素质测评")
