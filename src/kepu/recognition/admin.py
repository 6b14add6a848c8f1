"""Read-only admin for honours, nominations and awards: changes go through kepu.recognition.services."""

from typing import Any

from django.contrib import admin

from kepu.recognition.models import Honour, HonourAward, Nomination


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Honour)
class HonourAdmin(ReadOnly):
    list_display = ("code", "name_zh", "level", "awarded_to", "active")


admin.site.register(Nomination, ReadOnly)
admin.site.register(HonourAward, ReadOnly)
