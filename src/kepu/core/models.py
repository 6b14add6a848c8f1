"""Org units, departments (responsible units), role assignments, API tokens and the audit log."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    """A node of the administrative tree: (province →) city → district → town/street → village/community.

    Units are effective-dated: a merged or renamed unit keeps its row (and so its data) with
    `valid_to` set and points at its `successors`, so earlier observations stay attached."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        DISTRICT = "district", _("辖市(区)")
        TOWN = "town", _("镇(街道)")
        VILLAGE = "village", _("村(社区)")

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    level = models.CharField(max_length=10, choices=Level.choices)
    kind = models.CharField(max_length=20, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path ("/320400/320412/…/") so "this unit and its descendants" is one indexed query.
    path = models.CharField(max_length=400, db_index=True)
    official_code = models.BooleanField(default=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    successors = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="predecessors")
    population = models.PositiveIntegerField(null=True, blank=True)
    population_note = models.CharField(max_length=300, blank=True)
    population_is_estimate = models.BooleanField(default=False)
    urban_share = models.FloatField(null=True, blank=True)
    sort = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="orgunit_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_zh

    def is_active_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def active_in_year(self, year: int) -> bool:
        return self.is_active_on(dt.date(year, 12, 31)) or self.is_active_on(dt.date(year, 1, 1))


class PopulationCell(models.Model):
    """Resident population of a unit by sex × age band × urban/rural (weighting margins)."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="population_cells")
    sex = models.CharField(max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    age_band = models.CharField(max_length=10)
    area = models.CharField(max_length=5, choices=[("urban", _("城镇")), ("rural", _("乡村"))])
    value = models.PositiveIntegerField()
    is_estimate = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "sex", "age_band", "area"], name="population_cell_unique"),
        ]


class Denominator(models.Model):
    """A base a city target is split by (rural population, students, …) for one unit, from the region
    file with its source. `value` None means the figure is known to be missing (no published source)."""

    class Key(models.TextChoices):
        TOTAL = "total", _("常住人口")
        RURAL = "rural", _("乡村常住人口")
        FARM_HOUSEHOLDS = "farm_households", _("农业户数")
        STUDENTS = "students", _("在校学生数")
        SCHOOLS = "schools", _("学校数")
        EMPLOYED = "employed", _("就业人数")
        AGE_60_PLUS = "age_60_plus", _("60岁及以上人口")

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="denominators")
    key = models.CharField(max_length=20, choices=Key.choices)
    value = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)
    is_estimate = models.BooleanField(default=False)
    method = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "key"], name="denominator_unique")]


class Department(models.Model):
    """A responsible unit (责任单位) named in a plan, e.g. 市教育局.

    Units belong to a region (the top org unit of the plans that name them: a city or the province):
    every city has its own 市教育局, so names and codes are unique per region, not globally. Resolve
    them with `kepu.core.regions.department_by_name/department_by_code`."""

    region = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="departments"
    )
    code = models.CharField(max_length=40)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="department_code_per_region"),
            models.UniqueConstraint(fields=["region", "name_zh"], name="department_name_per_region"),
        ]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_zh


class Role(models.TextChoices):
    OFFICE_ADMIN = "office_admin", _("领导小组办公室管理员")
    DEPARTMENT_REPORTER = "department_reporter", _("部门填报员")
    DISTRICT_REPORTER = "district_reporter", _("辖市(区)填报员")
    REVIEWER = "reviewer", _("审核员")
    VIEWER = "viewer", _("查看者")
    EDITOR = "editor", _("科普内容编辑")
    CAMPAIGNER = "campaigner", _("精准推送运营")


class RoleAssignment(models.Model):
    """A user's role, scoped to an org unit (and its descendants) and/or a department."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    org_unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(org_unit__isnull=False) | Q(department__isnull=False), name="role_has_scope"
            ),
            models.UniqueConstraint(fields=["user", "role", "org_unit", "department"], name="role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.org_unit or ''}{self.department or ''}"


class ApiToken(models.Model):
    """A bearer token for scripts. Only a hash is stored; the token is shown once when created.

    A token works until it expires or is revoked, and only while the user's password is the one it
    was made under: `password_mark` is the user's session auth hash at creation (the same HMAC of
    the password hash that ends Django sessions on a password change)."""

    class State(models.TextChoices):
        ACTIVE = "active", _("有效")
        EXPIRED = "expired", _("已过期")
        REVOKED = "revoked", _("已撤销")
        PASSWORD_CHANGED = "password_changed", _("密码已修改,已失效")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    password_mark = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    def state(self, now: dt.datetime) -> ApiToken.State:
        from django.utils.crypto import constant_time_compare

        if self.revoked:
            return self.State.REVOKED
        if not constant_time_compare(self.password_mark, self.user.get_session_auth_hash()):
            return self.State.PASSWORD_CHANGED
        if self.expires_at <= now:
            return self.State.EXPIRED
        return self.State.ACTIVE


class AuditEntry(models.Model):
    """Who changed what, when, from which value to which (append-only)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=300, blank=True)
    org_unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL)
    changes = models.JSONField(default=dict)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]


class EvidenceFile(models.Model):
    """A file someone attached as evidence (a deliverable's or a progress report's), checked and stored once per
    content: `sha256` names the stored bytes, so the same file uploaded twice is kept on disk once. Services in
    `kepu.core.evidence`."""

    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    original_name = models.CharField(max_length=255)
    file = models.FileField(max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
