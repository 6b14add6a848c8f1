"""Citizen accounts: a Django user without any role assignment, plus the few facts the citizen
chose to tell us (no real name, no ID number), their consents per purpose, and their linked
self-test results.

Analytics never use the user id or phone number: other apps key their rows by `pseudonym`, a
keyed hash of the user id (kepu.literacy.online.pseudonym, keyed with KEPU_PSEUDONYM_KEY)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit

AGE_BANDS = [
    ("18-29", _("18–29 岁")),
    ("30-39", _("30–39 岁")),
    ("40-49", _("40–49 岁")),
    ("50-59", _("50–59 岁")),
    ("60-69", _("60–69 岁")),
    ("70+", _("70 岁及以上")),
]
# The plan's five key groups (重点人群).
KEY_GROUPS = [
    ("youth", _("青少年")),
    ("farmers", _("农民")),
    ("workers", _("产业工人")),
    ("elderly", _("老年人")),
    ("officials", _("领导干部和公务员")),
]


class Purpose(models.TextChoices):
    """What a consent is for; each is asked for separately and can be withdrawn at any time (PIPL)."""

    PERSONALISE = "personalise", _("个性化推荐")
    PUSH = "push", _("消息推送")
    ANALYTICS = "analytics", _("匿名统计分析")
    SELFTEST_LINK = "selftest_link", _("关联科学素质自测结果")


class Citizen(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen")
    pseudonym = models.CharField(max_length=64, unique=True)
    phone = models.CharField(max_length=20, blank=True)
    age_band = models.CharField(max_length=8, choices=AGE_BANDS, blank=True)
    district = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    town = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occupation = models.CharField(max_length=20, blank=True)  # codes of kepu.literacy.people.OCCUPATIONS
    industry = models.CharField(max_length=60, blank=True)
    key_groups = models.JSONField(default=list, blank=True)  # codes of KEY_GROUPS
    interests = models.JSONField(default=list, blank=True)  # outreach Topic codes
    elder_mode = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["district", "age_band"])]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~models.Q(phone=""), name="citizen_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"citizen {self.pseudonym[:8]}"


class Consent(models.Model):
    """One decision about one purpose; the latest row per purpose counts (history is kept)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    granted = models.BooleanField()
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    version = models.CharField(max_length=20, default="2026-1")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["citizen", "purpose", "-at"])]


class SelfTestResult(models.Model):
    """A finished online self-test linked to the citizen (only with consent "selftest_link"):
    per literacy dimension, the share of points earned."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="selftests")
    finished_at = models.DateTimeField(db_index=True)
    dims = models.JSONField(default=dict)
    session_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-finished_at", "-id"]


# What each consent does, in plain words (shown beside each separate, unticked checkbox).
PURPOSE_TEXT = {
    Purpose.PERSONALISE: _(
        "根据您填写的年龄段、地区、职业和兴趣，以及您看过的内容，为您挑选科普内容。"
        "不同意也能浏览和搜索全部内容，只是推荐不分人。"
    ),
    Purpose.PUSH: _(
        "通过站内消息(以及您留了手机号时的短信)给您发送科普内容、每日一题和竞赛提醒。不同意就不会收到推送。"
    ),
    Purpose.ANALYTICS: _("把您的浏览、答题记录以随机编号(不含用户名和手机号)计入全市科普工作的统计。"),
    Purpose.SELFTEST_LINK: _(
        "登录后做“科学素质自测”时，把各方面的得分保存到您的账户，用来推荐您较弱方面的内容。"
        "不同意则自测结果不与账户关联。"
    ),
}
