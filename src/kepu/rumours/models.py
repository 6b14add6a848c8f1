"""Rumour intake and debunks (科学辟谣).

A Claim is one wording of a rumour in one district: the same normalised text arriving again in the
same district is counted on it (a ClaimReport per arrival, `dup_count`), never stored twice. Claims
whose wordings differ only a little share a `cluster_key`, so one answer serves all of them. A Debunk
goes triage → assigned (to a talent-pool expert) → draft → in_review → published; once published its
verdict changes only through a correction (DebunkRevision, shown publicly as 更正).

Personal data is kept to a minimum: a public-form claim keeps no name or phone number, only the
citizen account when a logged-in citizen reported it (so the answer can reach their inbox), and a
day's opaque client key (kepu.core.ratelimit.client_key) for the flood window."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit

MAX_CLAIM_CHARS = 2000

# Hazard / topic codes (the emergency app's hazards plus general health and science topics).
TOPICS = [
    ("epidemic", _("传染病疫情")),
    ("flood", _("洪涝")),
    ("typhoon", _("台风")),
    ("heat", _("高温")),
    ("cold_wave", _("寒潮")),
    ("earthquake", _("地震")),
    ("fire", _("火灾")),
    ("chemical", _("危险化学品")),
    ("food_safety", _("食品安全")),
    ("telecom_fraud", _("电信诈骗")),
    ("health", _("卫生健康")),
    ("environment", _("生态环境")),
    ("technology", _("科技应用")),
    ("other", _("其他")),
]
TOPIC_LABELS = dict(TOPICS)
MEDIA_SUGGESTIONS = [_("微信群转发"), _("朋友圈"), _("抖音视频文案"), _("微博"), _("短信"), _("口头传言"), _("其他")]


class Partner(models.Model):
    """A partner platform that forwards claims through the API. Its bearer token is stored only as a
    keyed hash (kepu.core.pii.match_key), shown once when created."""

    name = models.CharField(max_length=100)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    token_key = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=8, blank=True)  # last characters, to tell tokens apart
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Verdict(models.TextChoices):
    FALSE = "false", _("谣言")
    MISLEADING = "misleading", _("误导")
    PARTLY = "partly", _("部分属实")
    UNPROVEN = "unproven", _("尚无定论")
    TRUE = "true", _("属实")


# schema.org ClaimReview rating (1 = false … 5 = true) for each verdict.
VERDICT_RATING = {"false": 1, "misleading": 2, "partly": 3, "unproven": 3, "true": 5}


class Debunk(models.Model):
    class Status(models.TextChoices):
        TRIAGE = "triage", _("待分派")
        ASSIGNED = "assigned", _("已分派专家")
        DRAFT = "draft", _("撰写中")
        IN_REVIEW = "in_review", _("待审核")
        PUBLISHED = "published", _("已发布")
        CORRECTED = "corrected", _("已更正")

    title = models.CharField(max_length=200)
    claim_text = models.TextField()  # the claim as answered, what new claims are matched against
    verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    explanation = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    sources = models.JSONField(default=list, blank=True)  # [{"url": ..., "title": ...}]
    topic = models.CharField(max_length=20, blank=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TRIAGE)
    review_comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status in (self.Status.PUBLISHED, self.Status.CORRECTED)


class DebunkRevision(models.Model):
    """A change to a published debunk: old → new of each changed field and the public 更正 note."""

    debunk = models.ForeignKey(Debunk, on_delete=models.CASCADE, related_name="revisions")
    changes = models.JSONField(default=dict)  # {field: [old, new]}
    note = models.CharField(max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]


class Claim(models.Model):
    class Source(models.TextChoices):
        PUBLIC_FORM = "public_form", _("公众举报")
        EDITOR = "editor", _("编辑录入")
        PARTNER = "partner", _("合作平台")
        CITIZEN = "citizen", _("市民账户举报")

    class Status(models.TextChoices):
        NEW = "new", _("新线索")
        TRIAGED = "triaged", _("已分派辟谣")
        ANSWERED = "answered", _("已答复")
        DISMISSED = "dismissed", _("不予处理")

    text = models.TextField()  # as submitted, sanitised (plain text, no zero-width characters)
    normalised = models.TextField()
    text_key = models.CharField(max_length=64)  # sha256 of `normalised`: the duplicate key
    source = models.CharField(max_length=12, choices=Source.choices)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    media = models.CharField(max_length=60, blank=True)
    topic = models.CharField(max_length=20, blank=True)
    cluster_key = models.CharField(max_length=40, blank=True, db_index=True)
    debunk = models.ForeignKey(Debunk, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims")
    confidence = models.FloatField(null=True, blank=True)
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    dup_count = models.PositiveIntegerField(default=1)  # arrivals counted (reports)
    absorbed_count = models.PositiveIntegerField(default=0)  # repeats from the same sender in the flood window
    answered_at = models.DateTimeField(null=True, blank=True)
    processed = models.BooleanField(default=False)  # clustered and matched by the task

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["district", "text_key"], name="rumours_claim_once")]
        indexes = [models.Index(fields=["received_at"]), models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return self.text[:60]


class ClaimReport(models.Model):
    """One arrival of a claim's wording (the first one included): when, from where, from whom."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="reports")
    received_at = models.DateTimeField()
    source = models.CharField(max_length=12, choices=Claim.Source.choices)
    citizen = models.ForeignKey("citizens.Citizen", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    client = models.CharField(max_length=40, blank=True)  # the day's opaque client key, for the flood window

    class Meta:
        indexes = [models.Index(fields=["received_at"]), models.Index(fields=["claim", "received_at"])]


class DebunkNotice(models.Model):
    """A debunk's answer sent to a citizen's inbox: at most once per citizen and debunk."""

    debunk = models.ForeignKey(Debunk, on_delete=models.CASCADE, related_name="+")
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["debunk", "citizen"], name="rumours_notice_once")]
