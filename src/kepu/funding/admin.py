"""Read-only admin for the funding registries: every change goes through kepu.funding.services (audited)."""

from typing import Any

from django.contrib import admin

from kepu.funding.models import Budget, CompletionReport, FundApplication, FundAward, FundCall, SpendingReport


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Budget)
class BudgetAdmin(ReadOnly):
    list_display = ("org_unit", "department", "year", "amount_fen", "status")
    list_filter = ("year", "status")


for model in (SpendingReport, FundCall, FundApplication, FundAward, CompletionReport):
    admin.site.register(model, ReadOnly)
