from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "kepu.events"
    label = "events"
    verbose_name = _("科普活动与培训")
