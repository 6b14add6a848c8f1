from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "kepu.outreach"
    label = "outreach"
    verbose_name = _("精准科普")

    def ready(self) -> None:
        from kepu.citizens.deletion import on_delete
        from kepu.outreach.campaigns import export_citizen as export_campaign_rows
        from kepu.outreach.campaigns import forget_citizen as forget_campaign_rows

        on_delete(forget_campaign_rows)
        from kepu.citizens.export import on_export
        from kepu.outreach import engagement

        on_delete(engagement.forget_citizen)
        on_export(engagement.export_citizen)
        on_export(export_campaign_rows, labels={"push_messages": _("推送消息")})
