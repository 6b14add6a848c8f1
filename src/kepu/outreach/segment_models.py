"""Saved audience segments (rules: kepu.outreach.segments)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Segment(models.Model):
    code = models.SlugField(max_length=60, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    rules = models.JSONField()
    # The unit that owns it: a district's segment only ever selects citizens of that district.
    org_unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "code"]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh
