"""Expert assignments, volunteers (科技志愿者, 科普信息员), their teams, service records (志愿服务记录,
the fields of MCA Order 67) and the certificates of approved hours. Imported by models.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit


class AssignmentKind(models.TextChoices):
    REVIEW = "review", _("评审")
    EVENT = "event", _("活动")
    DEBUNK = "debunk", _("辟谣")
    OTHER = "other", _("其他")


class ExpertAssignment(models.Model):
    """One piece of work given to an expert (a review, an event, a debunk …) by another app or an officer.
    The expert sees only their own (我的任务)."""

    expert = models.ForeignKey("community.Expert", on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=10, choices=AssignmentKind.choices)
    title = models.CharField(max_length=200)
    ref = models.CharField(max_length=300, blank=True)  # a URL path or an object label in the assigning app
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]


class TeamKind(models.TextChoices):
    GENERAL = "general", _("科技志愿服务队")
    SILVER = "silver", _("银龄科普志愿服务队")
    WULAO = "wulao", _("五老科普志愿服务队")
    INFO = "info", _("科普信息员队伍")
    STUDENT = "student", _("青年学生志愿服务队")
    EXPERT = "expert", _("专家志愿服务队")


class VolunteerTeam(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=TeamKind.choices, default=TeamKind.GENERAL)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    leader = models.CharField(max_length=60, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org_unit__code", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    """A registered science volunteer. Personal data is minimised: name, phone and ID number (stored
    encrypted + keyed hash + masked, kepu.core.pii)."""

    name = models.CharField(max_length=60)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(VolunteerTeam, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="members")
    is_info_officer = models.BooleanField(default=False)  # 科普信息员
    skills = models.CharField(max_length=200, blank=True)
    phone_enc = models.TextField(blank=True)
    phone_key = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    id_enc = models.TextField(blank=True)
    id_key = models.CharField(max_length=64, blank=True, db_index=True)
    id_masked = models.CharField(max_length=24, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="volunteer")
    registered_on = models.DateField()
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["org_unit__code", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["phone_key"], condition=~models.Q(phone_key=""),
                                    name="volunteer_phone_unique"),
            models.UniqueConstraint(fields=["id_key"], condition=~models.Q(id_key=""), name="volunteer_id_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧**明: recognisable on a certificate, not a full identity."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class Evaluation(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    FAIR = "fair", _("合格")
    POOR = "poor", _("不合格")


class ServiceRecord(models.Model):
    """志愿服务记录 (民政部令第67号《志愿服务记录与证明出具办法》): who (the volunteer), what (content),
    when (start/end), where (place), hours, training, awards and evaluation, recorded by the organiser.
    Hours count only once approved by someone other than the person who submitted them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已认定")
        REJECTED = "rejected", _("已退回")
        REVOKED = "revoked", _("已撤销")

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="records")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")  # the organiser's unit
    organiser = models.CharField(max_length=200)
    content = models.CharField(max_length=300)
    place = models.CharField(max_length=200)
    start = models.DateTimeField()
    end = models.DateTimeField()
    hours = models.DecimalField(max_digits=6, decimal_places=1)
    training = models.CharField(max_length=300, blank=True)
    awards = models.CharField(max_length=300, blank=True)
    evaluation = models.CharField(max_length=10, choices=Evaluation.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.CharField(max_length=300, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["volunteer", "start"])]

    def __str__(self) -> str:
        return f"{self.volunteer.name} {self.start:%Y-%m-%d} {self.content}"


class Certificate(models.Model):
    """A certificate of approved hours (志愿服务证明) as issued: verification compares the signed code
    with these figures, and with the records still being approved."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    records = models.ManyToManyField(ServiceRecord, related_name="certificates")
    masked_name = models.CharField(max_length=60)
    hours = models.DecimalField(max_digits=8, decimal_places=1)
    period_start = models.DateField()
    period_end = models.DateField()
    organiser = models.CharField(max_length=300)
    code = models.CharField(max_length=300, blank=True, db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
