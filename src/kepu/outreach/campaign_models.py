"""Push campaigns: a saved segment is sent content over one channel, at a time and a pace, with an
optional randomised holdout; one Delivery per (campaign, citizen) records what happened."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit


class Campaign(models.Model):
    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内消息")
        SMS = "sms", _("短信")
        WECHAT = "wechat", _("微信模板消息")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        APPROVED = "approved", _("已批准")
        RUNNING = "running", _("发送中")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    class Measure(models.TextChoices):
        COMPLETION = "completion", _("推送内容完成率")
        QUIZ_ACCURACY = "quiz_accuracy", _("目标维度每日一题正确率")

    name = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    segment = models.ForeignKey("outreach.Segment", on_delete=models.PROTECT, related_name="campaigns")
    resources = models.ManyToManyField("outreach.Resource", related_name="campaigns")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.INBOX)
    title = models.CharField(max_length=100)
    message = models.CharField(max_length=500)
    send_at = models.DateTimeField()
    rate_per_minute = models.PositiveIntegerField(default=0, help_text="0: as fast as the workers go")
    holdout_share = models.FloatField(default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(0.5)])
    holdout_seed = models.BigIntegerField(default=0)
    measure = models.CharField(max_length=20, choices=Measure.choices, default=Measure.COMPLETION)
    dimension = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set once every targeted citizen has a Delivery row (fan-out done); sending may still go on.
    fanned_out = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_share__gte=0) & Q(holdout_share__lte=0.5),
                                   name="campaign_holdout_share_range"),
            models.CheckConstraint(condition=~Q(approved_by=models.F("created_by")) | Q(approved_by__isnull=True),
                                   name="campaign_four_eyes"),
        ]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One citizen of one campaign. Holdout citizens get a row too (status "held", never sent), so the
    random assignment is stored and the effect can be measured against them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        OPENED = "opened", _("已打开")
        HELD = "held", _("对照组（不发送）")

    # No index of its own: the unique key and delivery_campaign_status both start with it, and every
    # index costs each of a campaign's millions of row writes.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="deliveries")
    holdout = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    claim = models.CharField(max_length=80, blank=True)  # worker and batch that took it to "sending"
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "citizen"], name="delivery_once_per_citizen")]
        # With the id last, a worker's "next n queued rows in id order" reads n index entries and
        # stops, however many rows older campaigns have.
        indexes = [models.Index(fields=["campaign", "status", "id"], name="delivery_campaign_status_id")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.citizen_id}"


class InboxMessage(models.Model):
    """A message in a citizen's in-app inbox; at most one per delivery."""

    # Indexed by inbox_citizen_recent, which starts with it (see Delivery.campaign).
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="inbox", db_index=False)
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="inbox_message")
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500)
    # A message posted by another app (inbox_post) has no delivery; it opens this page of the site.
    link = models.CharField(max_length=300, blank=True, default="", db_default="")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["citizen", "-created_at"], name="inbox_citizen_recent")]

    def __str__(self) -> str:
        return self.title
