from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "kepu.outreach"
    label = "outreach"
    verbose_name = _("精准科普")
