from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    name = "kepu.citizens"
    label = "citizens"
    verbose_name = _("市民账户")

    def ready(self) -> None:
        from kepu.citizens.services import selftest_result_hook
        from kepu.literacy import online

        online.on_result(selftest_result_hook)
