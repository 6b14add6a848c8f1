from django.contrib import admin

from kepu.facilities.models import RubricCriterion


@admin.register(RubricCriterion)
class RubricCriterionAdmin(admin.ModelAdmin):
    """The scoring rubric is data the office maintains; the lifecycle records change only through
    the services (audited), so they are not editable here."""

    list_display = ("code", "name_zh", "name_en", "max_points", "sort", "active")
    list_editable = ("max_points", "sort", "active")
