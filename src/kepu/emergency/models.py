"""Emergency science: the hazard knowledge base (hazards and their guidance per phase and key group,
reviewed by an expert before publishing) and emergency events declared by an officer for a set of
affected districts or towns. Catalogue content (outreach Resources) and the push campaign prepared
for an event are referenced by code and id, never by a foreign key into the outreach app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit

TITLE_MAX = 100
BODY_MAX = 600


class Hazard(models.Model):
    class Category(models.TextChoices):
        NATURAL = "natural", _("自然灾害")
        ACCIDENT = "accident", _("事故灾难")
        PUBLIC_HEALTH = "public_health", _("公共卫生事件")
        SOCIAL = "social", _("社会安全事件")

    code = models.SlugField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=60)
    name_en = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    # Chinese words that signal this hazard in rumours and content.
    keywords = models.JSONField(default=list, blank=True)
    # Codes of outreach Resources (the science-content catalogue) about this hazard.
    resource_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh


class Guidance(models.Model):
    class Phase(models.TextChoices):
        PREPARE = "prepare", _("事前准备")
        DURING = "during", _("事中应对")
        RECOVER = "recover", _("事后恢复")

    class Group(models.TextChoices):
        ALL = "all", _("所有人")
        YOUTH = "youth", _("青少年")
        FARMERS = "farmers", _("农民")
        WORKERS = "workers", _("产业工人")
        ELDERLY = "elderly", _("老年人")
        OFFICIALS = "officials", _("领导干部和公务员")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEWED = "reviewed", _("已审核")
        PUBLISHED = "published", _("已发布")

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="guidance")
    # Stable key within the hazard ("during-all-1"), so the starter file reloads idempotently.
    key = models.SlugField(max_length=60)
    phase = models.CharField(max_length=10, choices=Phase.choices)
    group = models.CharField(max_length=10, choices=Group.choices, default=Group.ALL)
    title_zh = models.CharField(max_length=TITLE_MAX)
    body_zh = models.TextField()
    title_en = models.CharField(max_length=TITLE_MAX, blank=True)
    body_en = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hazard", "phase", "group", "key"]
        constraints = [
            models.UniqueConstraint(fields=["hazard", "key"], name="emergency_guidance_key"),
            models.CheckConstraint(condition=~Q(reviewed_by=models.F("author")) | Q(reviewed_by__isnull=True)
                                   | Q(author__isnull=True), name="emergency_guidance_four_eyes"),
        ]

    def __str__(self) -> str:
        return self.title_zh

    def title(self, language: str) -> str:
        return self.title_en if language.startswith("en") and self.title_en else self.title_zh

    def body(self, language: str) -> str:
        return self.body_en if language.startswith("en") and self.body_en else self.body_zh


class EmergencyEvent(models.Model):
    """Emergency mode for some districts or towns. It stays on until an officer ends it (the planned
    end is a reminder, not a switch); the record is kept after it ends."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="events")
    # The unit whose officers own the event: the one district all affected units lie in, else the city.
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    affected = models.ManyToManyField(OrgUnit, related_name="+")
    starts_at = models.DateTimeField()
    planned_end = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    end_note = models.CharField(max_length=500, blank=True)
    # The outreach push campaign prepared for it (kepu.outreach.campaigns), by id.
    campaign_id = models.PositiveIntegerField(null=True, blank=True)
    # Why no campaign was prepared on declaring (no push rights, no published content …).
    campaign_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(planned_end__gt=models.F("starts_at")),
                                   name="emergency_event_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.hazard.name_zh} {self.starts_at:%Y-%m-%d}"

    @property
    def active(self) -> bool:
        return self.ended_at is None
