"""Deliverables: the plan's one-off commitments (draw up a plan, build a museum, found an association …).

Imported at the end of kepu.plans.models so the models belong to the plans app. Services and selectors
are in kepu.plans.deliverables."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepu.core.models import Department, EvidenceFile


class Deliverable(models.Model):
    """A one-off commitment with an owner (the lead unit), a due date (none: during the plan period),
    milestones, evidence and a reviewer's sign-off. "Late" is never stored: it follows from the due date."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未启动")
        IN_PROGRESS = "in_progress", _("推进中")
        SUBMITTED = "submitted", _("待验收")
        DONE = "done", _("已完成")

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="deliverables")
    code = models.CharField(max_length=64)
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)
    section = models.ForeignKey(
        "plans.Section", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliverables"
    )
    owner = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="deliverables")
    supporting = models.ManyToManyField(Department, blank=True, related_name="supported_deliverables")
    due_date = models.DateField(null=True, blank=True)
    quote = models.TextField()
    note_zh = models.TextField(blank=True)
    note_en = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    progress_note = models.TextField(blank=True)
    evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="deliverables")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="deliverable_code_unique")]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_zh

    @property
    def due(self) -> dt.date:
        """The due date; without one, the end of the plan period."""
        return self.due_date or dt.date(self.plan.end_year, 12, 31)

    def display_status(self, today: dt.date) -> str:
        """not_started / in_progress / done / late (submitted counts as in progress until signed off)."""
        if self.status == self.Status.DONE:
            return "done"
        if today > self.due:
            return "late"
        return "not_started" if self.status == self.Status.NOT_STARTED else "in_progress"


class Milestone(models.Model):
    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="milestones")
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    due_date = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    from_plan = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["deliverable", "order", "id"]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh
