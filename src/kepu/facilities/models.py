"""Science-education bases (科普教育基地) and the designations the plan counts, their applications,
expert reviews against a scoring rubric, certifications and annual reviews; venues open to the
public with their visit slots, school bookings (馆校结合) and monthly visitor counts.

Workflows live in services.py; this module holds tables and their invariants only."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import EvidenceFile, OrgUnit


class BaseKind(models.TextChoices):
    GENERAL = "general", _("科普教育基地")
    STEM = "stem", _("STEM 创新实践基地")
    SCHOOL = "school", _("科学教育综合示范学校")
    ELDERLY = "elderly", _("老年科技大学")


class BaseLevel(models.TextChoices):
    MUNICIPAL = "municipal", _("市级")
    PROVINCIAL = "provincial", _("省级")
    NATIONAL = "national", _("国家级")


class Application(models.Model):
    """A unit's application for a designation (new, or again after its base expired or was revoked)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        REVIEWING = "reviewing", _("专家评审中")
        CERTIFIED = "certified", _("已认定")
        REJECTED = "rejected", _("未通过")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=BaseKind.choices)
    level = models.CharField(max_length=12, choices=BaseLevel.choices, default=BaseLevel.MUNICIPAL)
    organisation = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    description = models.TextField()
    evidence = models.TextField(blank=True)
    evidence_file = models.ForeignKey(EvidenceFile, null=True, blank=True, on_delete=models.SET_NULL)
    base = models.ForeignKey("Base", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return self.name


class RubricCriterion(models.Model):
    """One line of the scoring rubric experts score applications against (data, not code)."""

    code = models.CharField(max_length=30, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    max_points = models.PositiveSmallIntegerField()
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort", "code"]
        constraints = [models.CheckConstraint(condition=Q(max_points__gt=0), name="rubric_max_positive")]

    def __str__(self) -> str:
        return self.name_zh


class ReviewAssignment(models.Model):
    """An expert (by user account) assigned to score one application; `scores` maps criterion code to
    points once they submit."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    scores = models.JSONField(default=dict, blank=True)
    total = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "reviewer"], name="review_once_per_expert")]


class Base(models.Model):
    """A designated base (or school / elderly university). `first_certified_on` is the designation the
    plan's "newly recognised" targets count; the validity window is renewed in place."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=BaseKind.choices)
    level = models.CharField(max_length=12, choices=BaseLevel.choices)
    organisation = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    first_certified_on = models.DateField()
    valid_from = models.DateField()
    valid_until = models.DateField()
    certified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    revoked_on = models.DateField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    # Set once the expiry has been recorded (audited, indicators republished) by `bases_expire`.
    expiry_recorded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["district__sort", "district__code", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")), name="base_valid_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def in_force_on(self, day: dt.date) -> bool:
        if self.revoked_on is not None and self.revoked_on <= day:
            return False
        return self.valid_from <= day <= self.valid_until

    def state_on(self, day: dt.date) -> str:
        if self.revoked_on is not None and self.revoked_on <= day:
            return "revoked"
        if day > self.valid_until:
            return "expired"
        return "active"


class AnnualReview(models.Model):
    class Result(models.TextChoices):
        PASS = "pass", _("合格")
        IMPROVE = "improve", _("限期整改")
        FAIL = "fail", _("不合格")

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="annual_reviews")
    year = models.PositiveSmallIntegerField()
    result = models.CharField(max_length=8, choices=Result.choices)
    comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["base", "year"], name="annual_review_once_a_year")]


class VenueKind(models.TextChoices):
    MUSEUM = "museum", _("科技馆")
    SPECIALIST = "specialist", _("专业科普场馆")
    LAB = "lab", _("开放实验室")
    SCHOOL = "school", _("学校科技场馆")
    OTHER = "other", _("其他开放设施")


class Venue(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=VenueKind.choices)
    organisation = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=300, blank=True)
    opening_hours = models.CharField(max_length=200, blank=True)
    # ISO weekdays (1 = Monday) the venue opens to the public.
    open_days = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["district__sort", "district__code", "name"]

    def __str__(self) -> str:
        return self.name


class VisitSlot(models.Model):
    """A time a venue offers to school groups; bookings (pending or confirmed) may not exceed capacity."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="slot_capacity_positive"),
        ]


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DECLINED = "declined", _("未接受")

    slot = models.ForeignKey(VisitSlot, on_delete=models.CASCADE, related_name="bookings")
    school = models.CharField(max_length=200)
    class_name = models.CharField(max_length=100, blank=True)
    class_size = models.PositiveIntegerField()
    contact_name = models.CharField(max_length=60)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slot__starts_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(class_size__gt=0), name="booking_size_positive")]


class VisitCount(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="visit_counts")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    visitors = models.PositiveIntegerField()

    class Meta:
        ordering = ["year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["venue", "year", "month"], name="visit_count_once_a_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="visit_count_month_range"),
        ]
