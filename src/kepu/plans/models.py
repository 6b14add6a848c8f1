"""The plan as data: programmes → sections → tasks, indicators, targets, and observations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import Department, OrgUnit


class Named(models.Model):
    code = models.CharField(max_length=64)
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_zh


class Plan(Named):
    region = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="plans")
    start_year = models.PositiveSmallIntegerField()
    end_year = models.PositiveSmallIntegerField()
    source = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    imported_at = models.DateTimeField(auto_now=True)
    # The office that runs the plan: it issues the annual assessment reports.
    office_zh = models.CharField(max_length=300, blank=True)
    office_en = models.CharField(max_length=300, blank=True)
    # How the plan says it is run (四、组织实施): the body that leads it (市政府统一领导) and the
    # office's part (综合协调, 牵头沟通联络); tasks name the units that carry out each measure.
    office_role_zh = models.TextField(blank=True)
    office_role_en = models.TextField(blank=True)
    leading_body_zh = models.CharField(max_length=300, blank=True)
    leading_body_en = models.CharField(max_length=300, blank=True)
    leading_role_zh = models.TextField(blank=True)
    leading_role_en = models.TextField(blank=True)
    # The plan's own texts (plan.texts in the file): guiding ideas, principles, 2025/2035 goals.
    texts = models.JSONField(default=dict, blank=True)
    # A district's implementation plan (辖市(区)实施方案) names the city plan it implements; its
    # region is the district. Its own targets sit beside the city's and never change them.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="district_plans"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code"], name="plan_code_unique")]


class PlanImport(models.Model):
    """One import of a plan file: what changed (the detail is in the audit log)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="imports")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    file_name = models.CharField(max_length=300)
    content_hash = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    summary = models.JSONField(default=dict)
    # The imported file as it was (text) and as read (the normalised document), so every earlier
    # version can be shown and compared (kepu.plans.versions); blank for imports made before.
    content = models.TextField(blank=True)
    document = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]


class KeyGroup(Named):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="key_groups")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="keygroup_unique")]


class Programme(Named):
    class Kind(models.TextChoices):
        PROGRAMME = "programme", _("工程")
        IMPLEMENTATION = "implementation", _("组织实施")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="programmes")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PROGRAMME)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="programme_unique")]


class Section(Named):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="sections")
    key_group = models.ForeignKey(KeyGroup, null=True, blank=True, on_delete=models.SET_NULL)
    responsible_units: models.ManyToManyField[Department, SectionResponsibility] = models.ManyToManyField(
        Department, through="SectionResponsibility", related_name="+"
    )
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="section_unique")]


class SectionResponsibility(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.PROTECT)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["order"]


class Task(Named):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="tasks")
    summary_zh = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    # The plan's own words for the measure; verbatim=False marks a paraphrase.
    text_zh = models.TextField(blank=True)
    text_en = models.TextField(blank=True)
    verbatim = models.BooleanField(default=False)
    # The plan's unit list ends in "等": other units may join.
    open_list = models.BooleanField(default=False)
    note_zh = models.TextField(blank=True)
    note_en = models.TextField(blank=True)
    # What the task measures: reporting rights on an indicator follow the task's units.
    indicators: models.ManyToManyField[Indicator, models.Model] = models.ManyToManyField(
        "Indicator", blank=True, related_name="tasks"
    )
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]

    def units(self, role: str) -> list[Department]:
        return [r.department for r in self.responsibilities.all() if r.role == role and r.department is not None]


class TaskResponsibility(models.Model):
    """A unit on a task: the lead (牵头) or a supporting (配合) unit, in the plan's order."""

    class Role(models.TextChoices):
        LEAD = "lead", _("牵头")
        SUPPORT = "support", _("配合")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="responsibilities")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    org_unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT)
    role = models.CharField(max_length=10, choices=Role.choices)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["task", "role", "order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(org_unit__isnull=False), name="task_resp_unit"
            )
        ]


class Aggregation(models.TextChoices):
    SUM = "sum", _("求和")
    POPULATION_WEIGHTED_MEAN = "population_weighted_mean", _("按人口加权平均")
    UNIT_MEAN = "unit_mean", _("按单位平均")
    # "Every district at least N": the city meets it when its lowest district does.
    UNIT_MIN = "unit_min", _("取各单位最小值")


class Indicator(Named):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="indicators")
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="indicators")
    unit = models.CharField(max_length=20)
    aggregation = models.CharField(max_length=30, choices=Aggregation.choices)
    integer = models.BooleanField(default=False)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    district_not_above_city = models.BooleanField(default=False)
    jump_pct = models.FloatField(null=True, blank=True)
    frequency = models.CharField(max_length=10, default="year")
    # Which app derives it (e.g. "literacy"); empty = reported by people.
    derived_by = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["plan", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="indicator_unique")]


class TargetKind(models.TextChoices):
    RATE = "rate", _("比率")
    STOCK = "stock", _("累计")
    FLOW = "flow", _("年度流量")
    COVERAGE = "coverage", _("覆盖")


class Target(Named):
    class Cascade(models.TextChoices):
        NONE = "none", _("仅全市")
        ENTERED = "entered", _("逐区录入")
        POPULATION = "population", _("按人口分解")
        SAME = "same", _("各区同一目标")
        SHARE = "share", _("按基数分解")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="targets")
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="targets")
    kind = models.CharField(max_length=10, choices=TargetKind.choices)
    value = models.FloatField()
    unit = models.CharField(max_length=20)
    deadline_year = models.PositiveSmallIntegerField(null=True, blank=True)
    period_start = models.PositiveSmallIntegerField()
    period_end = models.PositiveSmallIntegerField()
    baseline_year = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_history = models.JSONField(default=list)
    milestones = models.JSONField(default=dict)
    cascade = models.CharField(max_length=12, choices=Cascade.choices, default=Cascade.NONE)
    # The core.Denominator key a `share` cascade splits by ("rural", …); blank otherwise.
    denominator = models.CharField(max_length=20, blank=True)
    # A target counting part of another ("其中 …"): its values may never exceed the parent's.
    subset_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subsets")
    # "down": lower is better (a gap, a rank); the target is a ceiling and status is judged mirrored.
    direction = models.CharField(max_length=4, choices=[("up", _("越高越好")), ("down", _("越低越好"))], default="up")
    # A survey value reaches the target only when its 95 % CI lies wholly on the target's side ("显著").
    significant = models.BooleanField(default=False)
    responsible_units: models.ManyToManyField[Department, TargetResponsibility] = models.ManyToManyField(
        Department, through="TargetResponsibility", related_name="+"
    )
    quote = models.TextField()
    # The plan file's explanation of how the target was read, in both languages.
    note_zh = models.TextField(blank=True)
    note_en = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="target_unique"),
            models.CheckConstraint(
                condition=~Q(kind="flow") | Q(deadline_year__isnull=True), name="flow_has_no_deadline"
            ),
        ]

    def note(self, language: str) -> str:
        """The note in the page language. English pages fall back to the Chinese note (plan content is
        Chinese first); Chinese pages never show the English one."""
        return (self.note_en or self.note_zh) if language.startswith("en") else self.note_zh

    @property
    def per(self) -> str | None:
        return "year" if self.kind == TargetKind.FLOW else None

    @property
    def evaluation_year(self) -> int:
        return self.deadline_year or self.period_end


class TargetResponsibility(models.Model):
    target = models.ForeignKey(Target, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.PROTECT)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["order"]


class TargetAllocation(models.Model):
    """A target's value for one org unit (a district's share of the city's target)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="allocations")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT)
    value = models.FloatField()
    method = models.CharField(max_length=12, choices=Target.Cascade.choices)
    # The district's share of the city value (0–1) for population/share cascades; `overridden` when the
    # office set it by hand (kept across re-imports).
    share = models.FloatField(null=True, blank=True)
    overridden = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "org_unit"], name="allocation_unique")]


class Observation(models.Model):
    """The value of an indicator for one org unit and period (a year, or a quarter of it)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        APPROVED = "approved", _("已批准")
        RETURNED = "returned", _("已退回")

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="observations")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="observations")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(default=0, help_text="0 = the whole year")
    value = models.FloatField()
    se = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    comment = models.TextField(blank=True)
    review_comment = models.TextField(blank=True)
    source = models.CharField(max_length=40, default="manual")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "org_unit", "year", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "org_unit", "year", "quarter"], name="observation_unique"),
            models.CheckConstraint(condition=Q(quarter__gte=0, quarter__lte=4), name="observation_quarter"),
        ]
        indexes = [models.Index(fields=["status", "year"]), models.Index(fields=["org_unit", "year"])]

    @property
    def period_label(self) -> str:
        return f"{self.year}" if self.quarter == 0 else f"{self.year}Q{self.quarter}"

    @property
    def locked(self) -> bool:
        return self.status == self.Status.APPROVED


class ReportFile(models.Model):
    """A generated annual-assessment report (PDF or XLSX), made by a background task."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    fmt = models.CharField(max_length=4)
    lang = models.CharField(max_length=8, default="zh-hans")  # the report's language: zh-hans or en

    class Failure(models.TextChoices):
        ERROR = "error", _("生成报告时出错。")
        INTERRUPTED = "interrupted", _("后台生成报告的进程中断，多次重试后仍未完成。")
        TIMEOUT = "timeout", _("等待过久仍未开始生成：后台任务进程可能没有运行。")

    status = models.CharField(max_length=10, default="pending")
    content = models.BinaryField(null=True, blank=True)
    failure = models.CharField(max_length=12, choices=Failure.choices, blank=True)
    error = models.TextField(blank=True)  # technical detail for operators; pages show `failure`
    task_id = models.CharField(max_length=64, blank=True)  # the build task, to follow it while pending
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class TargetStatus(models.Model):
    """The latest judgement of a target for one org unit, recomputed by a task whenever approved
    data or the plan change, so pages read it instead of fitting forecasts per request."""

    class Status(models.TextChoices):
        MET = "met", _("已达成")
        # Past the deadline, a survey estimate below the target whose 95 % CI contains it.
        NOT_DISTINGUISHABLE = "not_distinguishable", _("与目标无显著差异")
        ON_TRACK = "on_track", _("进展顺利")
        AT_RISK = "at_risk", _("存在风险")
        OFF_TRACK = "off_track", _("严重滞后")
        NO_DATA = "no_data", _("暂无数据")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="statuses")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    target_value = models.FloatField()
    evaluation_year = models.PositiveSmallIntegerField()
    current = models.FloatField(null=True)
    current_year = models.PositiveSmallIntegerField(null=True)
    achieved_pct = models.FloatField(null=True)
    required_pace = models.FloatField(null=True)
    actual_pace = models.FloatField(null=True)
    projected = models.FloatField(null=True)
    low = models.FloatField(null=True)
    high = models.FloatField(null=True)
    probability = models.FloatField(null=True)
    # Past the deadline, the 95 % confidence interval of the survey estimate the status was judged on.
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    # Judged on survey estimates (values with a standard error or confidence interval).
    survey = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices)
    rule = models.CharField(max_length=20)
    n_points = models.PositiveSmallIntegerField(default=0)
    rolled_up = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "org_unit"], name="status_unique")]


from kepu.plans.deliverable_models import Deliverable, Milestone  # noqa: E402,F401
from kepu.plans.progress_models import ProgressReminder, ProgressReport, ProgressSchedule  # noqa: E402,F401
