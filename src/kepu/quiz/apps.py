from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuizConfig(AppConfig):
    name = "kepu.quiz"
    label = "quiz"
    verbose_name = _("每日一题与竞赛")

    def ready(self) -> None:
        # A citizen who deletes their account leaves the leaderboards inside the delete transaction;
        # their quiz rows are part of their data download.
        from kepu.citizens.deletion import on_delete
        from kepu.citizens.export import on_export
        from kepu.quiz.services import citizen_export, citizen_forget

        on_delete(citizen_forget)
        on_export(citizen_export)
