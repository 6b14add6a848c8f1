"""Recognition (表扬激励): honours as data (市长奖 and the plan's other honours), nominations of
individuals and collectives, reviews, and award decisions whose record is kept and shown publicly."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit


class Honour(models.Model):
    class Level(models.TextChoices):
        NATIONAL = "national", _("国家级")
        PROVINCE = "province", _("省级")
        CITY = "city", _("市级")
        DISTRICT = "district", _("区级")

    class For(models.TextChoices):
        INDIVIDUAL = "individual", _("个人")
        COLLECTIVE = "collective", _("集体")
        BOTH = "both", _("个人和集体")

    code = models.CharField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices)
    awarded_to = models.CharField(max_length=10, choices=For.choices)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name_zh


class Nomination(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("个人")
        COLLECTIVE = "collective", _("集体")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已推荐")
        AWARDED = "awarded", _("已授予")
        DECLINED = "declined", _("未获授予")
        REVOKED = "revoked", _("已撤销")

    honour = models.ForeignKey(Honour, on_delete=models.PROTECT, related_name="nominations")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # individual: a person's name and organisation (and user account if they have one)
    person_name = models.CharField(max_length=100, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    nominee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # collective: a named organisation / team, or an org unit itself
    collective_name = models.CharField(max_length=200, blank=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                 help_text="the nominee's org unit (its district counts the honour)")
    reason = models.TextField()
    evidence = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    nominated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "honour", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="individual") & ~Q(person_name="")) | (Q(kind="collective") & ~Q(collective_name="")),
                name="nomination_has_nominee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.honour.name_zh}：{self.nominee}"

    @property
    def nominee(self) -> str:
        return self.person_name if self.kind == self.Kind.INDIVIDUAL else self.collective_name


class NominationReview(models.Model):
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    recommend = models.BooleanField()
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["nomination", "reviewer"], name="nomination_review_unique"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="nomination_score"),
        ]


class HonourAward(models.Model):
    """The office's decision to confer an honour for a year; revoked awards keep their row."""

    nomination = models.OneToOneField(Nomination, on_delete=models.PROTECT, related_name="award")
    year = models.PositiveSmallIntegerField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    certificate_no = models.CharField(max_length=40, blank=True)
    revoked = models.BooleanField(default=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-year", "nomination__honour", "id"]
