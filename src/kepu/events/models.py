"""Science events and trainings: brand series, the city campaign calendar, events with their
registrations (citizen accounts or walk-ins), QR check-ins, feedback and evidence photos, the
certification of training attendees, and 科技特派员 assignments with their village visits.

Phones of walk-ins are kept only as ciphertext + keyed match hash + masked form (kepu.core.pii)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kepu.citizens.models import KEY_GROUPS
from kepu.core.models import EvidenceFile, OrgUnit


class Series(models.Model):
    """A brand activity series (龙城科普大讲堂, 百场科普进基层 …)."""

    code = models.CharField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class CampaignDay(models.Model):
    """One entry of the city campaign calendar for one year (科技活动周 2026: 5/16–5/23 …), edited by the office."""

    year = models.PositiveSmallIntegerField(db_index=True)
    code = models.CharField(max_length=40)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    start = models.DateField()
    end = models.DateField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["start", "code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "code"], name="events_campaign_year_code"),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="events_campaign_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} {self.year}"


class TrainingKind(models.TextChoices):
    COUNSELLORS = "counsellors", _("科技辅导员培训")
    HQ_FARMERS = "hq_farmers", _("高素质农民培育")
    AGRI_LEADERS = "agri_leaders", _("现代农业经营主体带头人培育")
    RURAL_TALENT = "rural_talent", _("农村科技人才培育")
    SKILLED_WORKERS = "skilled_workers", _("技能劳动者培训")
    HIGH_SKILLED = "high_skilled", _("高技能人才培训")
    CHIEF_TECHNICIANS = "chief_technicians", _("企业首席技师培训")
    ELDERLY_SMARTPHONE = "elderly_smartphone", _("老年人智能手机培训")
    OFFICIALS = "officials", _("领导干部和公务员科学素质培训")


class Event(models.Model):
    class Kind(models.TextChoices):
        EVENT = "event", _("科普活动")
        TRAINING = "training", _("培训")

    class Status(models.TextChoices):
        PLANNED = "planned", _("已计划")
        CANCELLED = "cancelled", _("已取消")

    class Setting(models.TextChoices):
        """Where the event takes science: the 五进 settings of emergency-science outreach."""

        ENTERPRISE = "enterprise", _("进企业")
        VILLAGE = "village", _("进农村")
        COMMUNITY = "community", _("进社区")
        SCHOOL = "school", _("进学校")
        FAMILY = "family", _("进家庭")

    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EVENT)
    training_kind = models.CharField(max_length=20, choices=TrainingKind.choices, blank=True)
    organiser = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    # The district (or the city itself) of org_unit, kept so scope and counts need no tree walk.
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    venue = models.CharField(max_length=200)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(default=0)  # 0: no limit
    key_groups = models.JSONField(default=list, blank=True)
    # The 五进 setting, as recorded by the organiser; "" when not recorded.
    setting = models.CharField(max_length=12, blank=True, default="", choices=Setting.choices)
    task = models.ForeignKey("plans.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="events_event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="training") & ~models.Q(training_kind=""))
                | (models.Q(kind="event") & models.Q(training_kind="")),
                name="events_event_training_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.title


KEY_GROUP_CODES = [c for c, _label in KEY_GROUPS]


class Registration(models.Model):
    """One person registered for one event: a citizen account (who registered themselves) or a walk-in
    registered at the door by the organiser with name and phone."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    citizen_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="event_registrations"
    )
    name = models.CharField(max_length=60)
    phone_enc = models.TextField(blank=True)
    phone_key = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    key_group = models.CharField(max_length=10, choices=KEY_GROUPS, blank=True)
    code = models.CharField(max_length=16, unique=True)  # in the QR code; typed by hand when a scan fails
    walk_in = models.BooleanField(default=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    certified_at = models.DateTimeField(null=True, blank=True)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "phone_key"], condition=~models.Q(phone_key=""), name="events_registration_phone_once"
            ),
            models.UniqueConstraint(
                fields=["event", "citizen_user"],
                condition=models.Q(citizen_user__isnull=False),
                name="events_registration_citizen_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.code}"

    @property
    def identity(self) -> str:
        """Who this is for de-duplication across events: the citizen account, else the phone match key."""
        return f"u:{self.citizen_user_id}" if self.citizen_user_id else f"p:{self.phone_key}"


class CheckIn(models.Model):
    """One attendance. `client_id` is generated by the check-in page (or API client) per scan, so a
    queued scan replayed after a dropped connection finds its first copy instead of adding one."""

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="checkin")
    client_id = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()  # when it was scanned (the device's clock, checked against the server's)
    received_at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "id"]


class Feedback(models.Model):
    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="events_feedback_rating_1_5"),
        ]


class EventPhoto(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    evidence = models.ForeignKey(EvidenceFile, on_delete=models.PROTECT, related_name="+")
    caption = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)


class Assignment(models.Model):
    """A 科技特派员 (talent-pool expert, by user account) or another agricultural technician (by name)
    assigned to a village or town and a number of households (包村联户) for a period."""

    expert_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    technician_name = models.CharField(max_length=60, blank=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    households = models.PositiveIntegerField(default=0)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    speciality = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(expert_user__isnull=False) & models.Q(technician_name=""))
                | (models.Q(expert_user__isnull=True) & ~models.Q(technician_name="")),
                name="events_assignment_expert_or_name",
            ),
        ]

    @property
    def technician_key(self) -> str:
        return f"u:{self.expert_user_id}" if self.expert_user_id else f"n:{self.technician_name.strip()}"


class Visit(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="visits")
    date = models.DateField(db_index=True)
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    households_visited = models.PositiveIntegerField(default=0)
    content = models.CharField(max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
