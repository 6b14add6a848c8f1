from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "kepu.community"
    label = "community"
    verbose_name = _("科普人才与志愿服务")
