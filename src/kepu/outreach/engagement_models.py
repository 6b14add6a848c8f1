"""Engagement events: what citizens (and anonymous visitors) view, complete, like, share, search and
open. One row per event, keyed by a pseudonym; the profile fields (district, town, key groups, age
band) are copied at event time so reach and demand are counted without ever joining to a phone number
or user name, and so a deleted account leaves only anonymous counts behind (citizen set to null)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Interaction(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", _("浏览")
        COMPLETE = "complete", _("读完")
        LIKE = "like", _("点赞")
        SHARE = "share", _("分享")
        SEARCH = "search", _("搜索")
        OPEN = "open", _("打开推送")

    pseudonym = models.CharField(max_length=64, db_index=True)
    citizen = models.ForeignKey(
        "citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    resource = models.ForeignKey(
        "outreach.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    query = models.CharField(max_length=200, blank=True)
    district = models.ForeignKey("core.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    town = models.ForeignKey("core.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key_groups = models.JSONField(default=list, blank=True)
    age_band = models.CharField(max_length=8, blank=True)
    campaign_id = models.IntegerField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "at"], name="interaction_kind_at"),
            models.Index(fields=["pseudonym", "kind", "at"], name="interaction_pseud_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.resource_id or self.query} @ {self.at:%Y-%m-%d %H:%M}"
