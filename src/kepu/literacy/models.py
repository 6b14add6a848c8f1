"""Item bank, scoring profiles, online tests, survey waves, respondents and their estimates.

Respondents are stored pseudonymously: no names, phone numbers or ID numbers; a respondent key is
a keyed hash of the survey's own respondent id, and ages are kept only as needed for age bands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit


class Dimension(models.TextChoices):
    KNOWLEDGE = "knowledge", _("科学知识")
    METHOD = "method", _("科学方法")
    SPIRIT = "spirit", _("科学精神与思维")
    APPLICATION = "application", _("应用科学能力")


DIMENSIONS = [d.value for d in Dimension]


class Item(models.Model):
    class Type(models.TextChoices):
        TRUE_FALSE = "true_false", _("判断题")
        SINGLE = "single", _("单选题")
        MULTIPLE = "multiple", _("多选题")
        SCENARIO = "scenario", _("情境题")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEWED = "reviewed", _("已审核")
        LIVE = "live", _("已上线")
        RETIRED = "retired", _("已停用")

    code = models.CharField(max_length=20, unique=True)
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    jizhun = models.PositiveSmallIntegerField(null=True, blank=True, help_text="基准 1–26")
    type = models.CharField(max_length=12, choices=Type.choices)
    stem_zh = models.TextField()
    stem_en = models.TextField()
    options = models.JSONField(default=list)  # [{"key": "A", "zh": …, "en": …}]
    key = models.JSONField()  # true/false, "B", or ["A", "C"]
    points = models.PositiveSmallIntegerField(default=1)
    difficulty = models.FloatField(null=True, blank=True)
    anchor = models.BooleanField(default=False)
    topics = models.JSONField(default=list)
    groups = models.JSONField(default=list)
    explanation_zh = models.TextField(blank=True)
    explanation_en = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveSmallIntegerField(default=1)  # the ItemRevision number now in force
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.stem_zh[:30]}"

    def stem(self, language: str) -> str:
        return self.stem_en if language.startswith("en") else self.stem_zh


class ScoringProfile(models.Model):
    """A scoring rule as data (see kepu.stats.scoring); a wave picks one."""

    code = models.CharField(max_length=30, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    config = models.JSONField()

    def __str__(self) -> str:
        return self.code


class Wave(models.Model):
    """A survey wave: its design, fieldwork, respondents, weights and estimates."""

    class Mode(models.TextChoices):
        FACE_TO_FACE = "face_to_face", _("入户面访")
        ONLINE_INVITED = "online_invited", _("短信邀请在线作答")
        MIXED = "mixed", _("混合方式")
        OPT_IN = "opt_in", _("自愿在线测试")

    class Variance(models.TextChoices):
        """How standard errors are estimated (kepu.stats.survey / kepu.stats.replicate)."""

        TAYLOR = "taylor", _("泰勒线性化")
        JKN = "jkn", _("刀切法(JKn，逐一删除PSU并重新加权)")

    code = models.CharField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField()
    fieldwork_start = models.DateField(null=True, blank=True)
    fieldwork_end = models.DateField(null=True, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.FACE_TO_FACE)
    design = models.JSONField(default=dict)  # description of strata, PSUs, base weights, sampling
    profile = models.ForeignKey(ScoringProfile, on_delete=models.PROTECT)
    region = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    age_min = models.PositiveSmallIntegerField(default=18)
    age_max = models.PositiveSmallIntegerField(default=69)
    lonely_psu = models.CharField(max_length=12, default="adjust")
    variance = models.CharField(max_length=8, choices=Variance.choices, default=Variance.TAYLOR)
    weighting = models.JSONField(default=dict)  # last raking report
    town_model = models.JSONField(default=dict)  # Fay–Herriot fit summary and adequacy
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "code"]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_zh


class Respondent(models.Model):
    class Sample(models.TextChoices):
        PROBABILITY = "probability", _("概率样本")
        OPT_IN = "opt_in", _("非概率样本(自愿在线测试)")

    wave = models.ForeignKey(Wave, null=True, blank=True, on_delete=models.CASCADE, related_name="respondents")
    sample = models.CharField(max_length=12, choices=Sample.choices, default=Sample.PROBABILITY)
    key = models.CharField(max_length=64, db_index=True)  # keyed hash; never the raw id
    stratum = models.CharField(max_length=40, blank=True)
    psu = models.CharField(max_length=40, blank=True)
    base_weight = models.FloatField(default=1.0)
    weight = models.FloatField(null=True, blank=True)
    district = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sex = models.CharField(max_length=1, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_band = models.CharField(max_length=8, blank=True)
    area = models.CharField(max_length=5, blank=True)
    education = models.CharField(max_length=20, blank=True)
    occupation = models.CharField(max_length=20, blank=True)
    key_group = models.CharField(max_length=20, blank=True)
    responses = models.JSONField(default=dict)  # item code → response as given
    earned = models.JSONField(default=dict)  # dimension → points earned
    possible = models.JSONField(default=dict)  # dimension → points possible
    score = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    tier = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave", "key"], name="respondent_unique_in_wave")]
        indexes = [models.Index(fields=["wave", "sample"])]


class TestSession(models.Model):
    """One citizen taking the online test. The browser holds a random token in a signed cookie;
    only its SHA-256 is stored, so the database never holds the token beside the respondent's key
    (a keyed hash of it) and no page address carries it."""

    token_hash = models.CharField(max_length=64, unique=True)
    respondent = models.OneToOneField(Respondent, on_delete=models.CASCADE, related_name="session")
    item_codes = models.JSONField()
    position = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField(null=True, blank=True)  # answers after it are refused
    review = models.BooleanField(default=True)  # the result shows each item's key and explanation
    shown_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    consent_at = models.DateTimeField()
    language = models.CharField(max_length=10, default="zh-hans")


class Answer(models.Model):
    session = models.ForeignKey(TestSession, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    response = models.JSONField()
    points = models.FloatField()
    correct = models.BooleanField()
    seconds = models.FloatField()  # measured on the server: shown → answered

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "item"], name="answer_once")]


# Presentation flags of shown estimates (kepu.stats.presentation) and the mark each gets beside its figure.
REVIEW_MARKS = {"review_df": "*", "review_complement": "†", "review_p_0_or_1": "‡"}
# Why an estimate is suppressed, in words (several flags may name the same reason).
SUPPRESS_REASONS = {
    "suppress_n": _("样本量不足 30"),
    "suppress_n_eff": _("有效样本量不足 30"),
    "suppress_width": _("置信区间过宽"),
    "suppress_relative_width": _("置信区间过宽"),
    "suppress_ci_undefined": _("无法计算置信区间"),
}


class WaveEstimate(models.Model):
    """A stored estimate of the literacy rate for a wave and domain (overall, or one level of a
    breakdown such as district or age band). Model-based small-area estimates are labelled."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="estimates")
    sample = models.CharField(max_length=12, default=Respondent.Sample.PROBABILITY)
    variable = models.CharField(max_length=20)  # "overall", "district", "age_band", "town", …
    level = models.CharField(max_length=40)
    # "" for city-wide domains; a district code for that district's own breakdowns (what a district
    # user sees: nothing computed from other districts' answers).
    unit = models.CharField(max_length=40, blank=True, default="")
    n = models.PositiveIntegerField()
    estimate = models.FloatField()
    se = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    ci_logit_low = models.FloatField(null=True)
    ci_logit_high = models.FloatField(null=True)
    deff = models.FloatField(null=True)
    method = models.CharField(max_length=20, default="direct")  # direct | fay_herriot
    # Not presentable under the NCHS standard for proportions (kepu.stats.presentation.assess).
    suppressed = models.BooleanField(default=False)
    # Korn–Graubard (Clopper–Pearson with effective sample size) interval: the published CI.
    ci_kg_low = models.FloatField(null=True)
    ci_kg_high = models.FloatField(null=True)
    df = models.IntegerField(null=True)  # design degrees of freedom of the domain
    n_eff = models.FloatField(null=True)  # effective sample size
    flags = models.JSONField(default=list)  # presentation flags ("review_df", "suppress_n", …)

    class Meta:
        ordering = ["variable", "level"]

    @property
    def ci_published(self) -> tuple[float, float]:
        """The 95% interval shown on pages, exports and the plan: Korn–Graubard for direct estimates
        (logit, then Wald, for rows stored before it existed); ±1.96·RMSE for model-based ones."""
        for lo, hi in ((self.ci_kg_low, self.ci_kg_high), (self.ci_logit_low, self.ci_logit_high)):
            if lo is not None and hi is not None:
                return lo, hi
        return self.ci_low, self.ci_high

    @property
    def ci_published_low(self) -> float:
        return self.ci_published[0]

    @property
    def ci_published_high(self) -> float:
        return self.ci_published[1]

    @property
    def effective_n(self) -> float | None:
        """The effective sample size as the NCHS standard uses and exports show it: capped at n."""
        return None if self.n_eff is None else min(self.n_eff, float(self.n))

    @property
    def suppressed_because(self) -> str:
        """Why the NCHS standard suppresses this estimate, e.g. "有效样本量不足 30、置信区间过宽"."""
        reasons = dict.fromkeys(str(SUPPRESS_REASONS[f]) for f in self.flags or [] if f in SUPPRESS_REASONS)
        return ("、" if (get_language() or "zh-hans").startswith("zh") else ", ").join(reasons)

    @property
    def marks(self) -> str:
        """The marks of a shown estimate that needs care (the NCHS standard's review flags), each
        explained by a footnote (kepu.literacy.selectors.footnotes)."""
        if self.suppressed:
            return ""
        return "".join(mark for flag, mark in REVIEW_MARKS.items() if flag in (self.flags or []))


class ItemRevision(models.Model):
    """A proposed change to an item that has been on forms (live or retired). The item itself is
    never edited in place: the change waits here, is reviewed, and replaces the item's content
    only when put live (the earlier content stays here as history)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待审核")
        REVIEWED = "reviewed", _("已审核")
        APPLIED = "applied", _("已生效")
        REJECTED = "rejected", _("已驳回")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveSmallIntegerField()
    data = models.JSONField()  # the item's content fields (kepu.literacy.items.CONTENT_FIELDS)
    previous = models.JSONField(default=dict)  # the content it replaced, kept when applied
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="item_revision_number_unique")]

    def __str__(self) -> str:
        return f"{self.item.code} r{self.number}"
