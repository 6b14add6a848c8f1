"""Science funding (科普经费): budgets per org unit (and optionally per responsible department) per year,
spending reports against them, and the project fund (科普基金): calls → applications → expert reviews →
awards → completion reports.

Money is stored as integer fen (分, 1/100 元) in BigIntegerFields: exact, and summing never rounds.
Entry and import take an explicit unit (元 or 万元) and convert (`kepu.funding.money`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import Department, OrgUnit


class Budget(models.Model):
    """A unit's budgeted science funding for one year (列入同级财政预算)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已批准")
        RETURNED = "returned", _("已退回")

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="science_budgets")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    amount_fen = models.BigIntegerField()
    entered_unit = models.CharField(max_length=4, default="yuan")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(max_length=300, blank=True)
    review_comment = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "org_unit__path", "department__code"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year"], condition=Q(department__isnull=True),
                                    name="budget_unit_year"),
            models.UniqueConstraint(fields=["org_unit", "department", "year"],
                                    condition=Q(department__isnull=False), name="budget_unit_dept_year"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="budget_amount_nonneg"),
        ]

    def __str__(self) -> str:
        dept = f" {self.department.name_zh}" if self.department is not None else ""
        return f"{self.org_unit.name_zh}{dept} {self.year} 年科普经费"


class SpendingCategory(models.TextChoices):
    ACTIVITIES = "activities", _("科普活动")
    FACILITIES = "facilities", _("科普设施建设与运行")
    TALENT = "talent", _("科普人才培养")
    RESOURCES = "resources", _("科普资源开发")
    MEDIA = "media", _("科普宣传与信息化")
    OTHER = "other", _("其他")


class SpendingReport(models.Model):
    """Actual spending against a budget, by category; reviewed by someone other than the submitter."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        ACCEPTED = "accepted", _("已通过")
        RETURNED = "returned", _("已退回")

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="spending_reports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    note = models.CharField(max_length=300, blank=True)
    review_comment = models.CharField(max_length=300, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-submitted_at", "-id"]

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines.all())


class SpendingLine(models.Model):
    report = models.ForeignKey(SpendingReport, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(max_length=20, choices=SpendingCategory.choices)
    amount_fen = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "category"], name="spending_line_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="spending_amount_nonneg"),
        ]


class FundCall(models.Model):
    """A call for projects of the science fund (科普基金)."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    budget_fen = models.BigIntegerField()
    opens = models.DateField()
    closes = models.DateField()
    eligible_units = models.ManyToManyField(OrgUnit, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gte=models.F("opens")), name="fundcall_window"),
            models.CheckConstraint(condition=Q(budget_fen__gt=0), name="fundcall_budget_pos"),
        ]

    def __str__(self) -> str:
        return self.title


class FundApplication(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已申报")
        AWARDED = "awarded", _("已资助")
        DECLINED = "declined", _("未资助")

    call = models.ForeignKey(FundCall, on_delete=models.PROTECT, related_name="applications")
    title = models.CharField(max_length=200)
    applicant_organisation = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    amount_asked_fen = models.BigIntegerField()
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_asked_fen__gt=0), name="fundapp_amount_pos")]

    def __str__(self) -> str:
        return self.title


class FundReview(models.Model):
    """An expert's review of one application: assigned by the office, scored by the expert."""

    application = models.ForeignKey(FundApplication, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    recommend = models.BooleanField(null=True, blank=True)
    comment = models.TextField(blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="fundreview_unique"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="fundreview_score"),
        ]


class FundAward(models.Model):
    application = models.OneToOneField(FundApplication, on_delete=models.PROTECT, related_name="award")
    amount_fen = models.BigIntegerField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="fundaward_amount_pos")]


class CompletionReport(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待验收")
        ACCEPTED = "accepted", _("已验收")
        RETURNED = "returned", _("已退回")

    award = models.ForeignKey(FundAward, on_delete=models.PROTECT, related_name="completion_reports")
    summary = models.TextField()
    spent_fen = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    review_comment = models.CharField(max_length=300, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-submitted_at", "-id"]
