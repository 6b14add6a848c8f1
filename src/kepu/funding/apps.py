from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "kepu.funding"
    label = "funding"
    verbose_name = _("科普经费")
