"""The science-content catalogue: a topic taxonomy, resources under editorial review, and the partner
feeds drafts are imported from. Other outreach modules keep their models in their own files and are
imported at the bottom so Django finds them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=60)
    name_en = models.CharField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name_zh


class FeedSource(models.Model):
    """A partner that sends content (e.g. a provincial science cloud); its imports become drafts."""

    class Format(models.TextChoices):
        RSS = "rss", _("RSS/Atom")
        JSON = "json", _("JSON")

    code = models.SlugField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.RSS)
    licence = models.CharField(max_length=100, blank=True)
    homepage = models.URLField(blank=True)
    last_imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class Resource(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", _("图文")
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")
        COURSE = "course", _("课程")
        EVENT_LINK = "event_link", _("活动链接")
        VENUE_PAGE = "venue_page", _("场馆页面")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEWED = "reviewed", _("已审核")
        PUBLISHED = "published", _("已发布")
        ARCHIVED = "archived", _("已归档")

    code = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ARTICLE)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200, blank=True)
    summary_zh = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    # Sanitised HTML (kepu.outreach.sanitize): every write path cleans it before it is stored.
    body_zh = models.TextField(blank=True)
    body_en = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="resources")
    dimensions = models.JSONField(default=list, blank=True)
    benchmarks = models.JSONField(default=list, blank=True)
    key_groups = models.JSONField(default=list, blank=True)
    age_bands = models.JSONField(default=list, blank=True)
    # Empty: the whole city.
    regions = models.ManyToManyField("core.OrgUnit", blank=True, related_name="outreach_resources")
    source = models.CharField(max_length=200, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    licence = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    feed_source = models.ForeignKey(
        FeedSource, null=True, blank=True, on_delete=models.PROTECT, related_name="resources"
    )
    external_id = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-updated_at", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["feed_source", "external_id"],
                condition=~models.Q(external_id=""),
                name="resource_feed_external_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title_zh
from kepu.outreach.campaign_models import Campaign, Delivery, InboxMessage  # noqa: E402,F401
from kepu.outreach.engagement_models import Interaction  # noqa: E402,F401
from kepu.outreach.kiosk_models import Kiosk  # noqa: E402,F401
from kepu.outreach.segment_models import Segment  # noqa: E402,F401
