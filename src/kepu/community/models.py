"""The science talent pool (科普人才库) and its expert committee. Other apps (facilities, funding,
recognition, emergency) assign experts by their user account and ask `kepu.community.selectors`
for their profile and conflicts of interest; they never read these tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit


class ExpertRole(models.TextChoices):
    COMMITTEE = "committee", _("科普专家指导委员会委员")
    CHIEF = "chief", _("首席科学传播专家")
    REVIEWER = "reviewer", _("评审专家")
    EMERGENCY = "emergency", _("应急科普专家")


class Expert(models.Model):
    name = models.CharField(max_length=60)
    organisation = models.CharField(max_length=200)
    title = models.CharField(max_length=100, blank=True)  # 职称/职务
    fields = models.JSONField(default=list, blank=True)  # subject fields, Chinese words (医学, 气象 …)
    specialities = models.TextField(blank=True)
    languages = models.JSONField(default=list, blank=True)  # e.g. ["普通话", "English", "常州话"]
    availability = models.CharField(max_length=200, blank=True)
    roles = models.JSONField(default=list, blank=True)  # ExpertRole values
    # The org unit that manages the record (a district's officers manage their district's experts).
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    # Personal data: matched by keyed hash, stored encrypted, shown masked (kepu.core.pii).
    phone_enc = models.TextField(blank=True)
    phone_key = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    # The account the expert logs in with to see and do what they are assigned.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="expert"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone_key"], condition=~models.Q(phone_key=""), name="expert_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation}）"


class CapacityWeights(models.Model):
    """The office's weights of the capacity index (科学素质建设能力指数) for a city: {component: weight}.
    Changed only through `kepu.community.capacity` services, which audit old → new."""

    region = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="+")
    weights = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


from kepu.community.volunteer_models import (  # noqa: E402,F401  (registered with the app's models)
    AssignmentKind,
    Certificate,
    Evaluation,
    ExpertAssignment,
    ServiceRecord,
    TeamKind,
    Volunteer,
    VolunteerTeam,
)
