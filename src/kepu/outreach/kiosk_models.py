"""Big screens (三屏融合): a kiosk is a TV or community screen that rotates published content and,
optionally, a contest's live leaderboard. Editors configure them; the public page needs no login."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kepu.outreach.models import Resource, Topic

INTERVAL_MIN, INTERVAL_MAX = 8, 300


class Kiosk(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    # The community, town or district the screen stands in: content for that region, and who may edit it.
    org_unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="kiosks")
    venue = models.CharField(max_length=200, blank=True)
    resources = models.ManyToManyField(Resource, blank=True, related_name="kiosks")
    topics = models.ManyToManyField(Topic, blank=True, related_name="kiosks")
    # A quiz contest id; the screen reads its leaderboard through the public quiz API (no model import).
    contest_id = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(INTERVAL_MIN), MaxValueValidator(INTERVAL_MAX)]
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
