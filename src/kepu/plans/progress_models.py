"""Narrative progress reports on tasks, their reporting deadlines and the reminders about them.

Imported at the end of kepu.plans.models so the models belong to the plans app."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import Department, OrgUnit


class ProgressSchedule(models.Model):
    """When a plan's progress reports are due: the half-year report for January–June by a day of the
    same year, the annual report by a day of the next year; reminders start some days before."""

    plan = models.OneToOneField("plans.Plan", on_delete=models.CASCADE, related_name="progress_schedule")
    half_year_due_month = models.PositiveSmallIntegerField(default=7)
    half_year_due_day = models.PositiveSmallIntegerField(default=15)
    annual_due_month = models.PositiveSmallIntegerField(default=1)
    annual_due_day = models.PositiveSmallIntegerField(default=15)
    remind_days_before = models.PositiveSmallIntegerField(default=14)

    def due_date(self, year: int, half: int) -> dt.date:
        if half == 1:
            return dt.date(year, self.half_year_due_month, self.half_year_due_day)
        return dt.date(year + 1, self.annual_due_month, self.annual_due_day)


class ProgressReport(models.Model):
    """What was done on a task in a half-year (half=1) or a whole year (half=0), the problems met and
    the next steps, filed by a department (for the city) or by a district for its own part."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        APPROVED = "approved", _("已审核通过")
        RETURNED = "returned", _("已退回")

    task = models.ForeignKey("plans.Task", on_delete=models.CASCADE, related_name="progress_reports")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    # The reporting department; empty for a district's report on its own part.
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    half = models.PositiveSmallIntegerField(default=0, help_text="1 = January–June; 0 = the whole year")
    done = models.TextField(blank=True)
    problems = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    observations = models.ManyToManyField("plans.Observation", blank=True, related_name="progress_reports")
    evidence = models.ManyToManyField("core.EvidenceFile", blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    review_comment = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-half", "task__order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "org_unit", "department", "year", "half"], name="progress_report_unique"
            ),
            models.UniqueConstraint(
                fields=["task", "org_unit", "year", "half"],
                condition=Q(department__isnull=True),
                name="progress_report_unique_district",
            ),
            models.CheckConstraint(condition=Q(half__in=[0, 1]), name="progress_report_half"),
        ]

    @property
    def period_label(self) -> str:
        return period_label(self.year, self.half)

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)


def period_label(year: int, half: int) -> str:
    from django.utils.translation import gettext as gt

    if half == 1:
        return gt("%(year)s年上半年") % {"year": year}
    return gt("%(year)s年全年") % {"year": year}


class ProgressReminder(models.Model):
    """An in-app reminder (and e-mail) to one user about one reporting period; one per user, period
    and kind, so sending the day's reminders twice sends nothing new."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("即将到期")
        OVERDUE = "overdue", _("已逾期")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress_reminders")
    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    half = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    due = models.DateField()
    missing = models.PositiveIntegerField(default=0)
    emailed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "plan", "year", "half", "kind"], name="progress_reminder_unique"),
        ]
