"""Daily questions, contests, attempts, answers and points.

Quiz answers are practice, not measurement: they feed item statistics (share correct per item and
dimension) and never the survey tables (Respondent, Wave, WaveEstimate) behind the official literacy
estimate. Items come from the literacy bank; answer keys stay on the server until an answer is in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit


class Contest(models.Model):
    """An online contest (科学素质网络竞赛, 老年人智能手机运用大赛 …) open to the citizens of an org unit,
    optionally only to some of the plan's key groups. Each attempt draws `question_count` live items;
    every question must be answered within `seconds_per_question` of being shown (timed on the server).
    A citizen makes at most `attempts_per_day` attempts a day and their best attempt counts."""

    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200, blank=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    key_groups = models.JSONField(default=list, blank=True)  # empty: everyone in the org unit
    question_count = models.PositiveSmallIntegerField(default=10)
    seconds_per_question = models.PositiveSmallIntegerField(default=30)
    attempts_per_day = models.PositiveSmallIntegerField(default=1)
    prizes = models.PositiveSmallIntegerField(default=10)  # how many top places win a prize
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="quiz_contest_period"),
            models.CheckConstraint(condition=Q(question_count__gte=1) & Q(question_count__lte=50),
                                   name="quiz_contest_questions"),
            models.CheckConstraint(condition=Q(seconds_per_question__gte=5) & Q(seconds_per_question__lte=600),
                                   name="quiz_contest_seconds"),
            models.CheckConstraint(condition=Q(attempts_per_day__gte=1), name="quiz_contest_attempts"),
        ]

    def __str__(self) -> str:
        return self.title_zh

    def title(self, language: str) -> str:
        return self.title_en if language.startswith("en") and self.title_en else self.title_zh


class Attempt(models.Model):
    """One run through a contest's questions by one citizen. `position` is the current question;
    `shown_at` is when the server first showed it (answers are timed from then)."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="attempts")
    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="quiz_attempts")
    day = models.DateField()
    number = models.PositiveSmallIntegerField(default=1)  # the citizen's n-th attempt that day
    item_codes = models.JSONField()
    position = models.PositiveSmallIntegerField(default=0)
    shown_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(default=0)
    seconds = models.FloatField(default=0.0)  # answer time on the server, a late question counts its full limit
    client = models.CharField(max_length=32, blank=True)  # kepu.core.ratelimit.client_key: today's opaque name
    # Refusals of this attempt's requests, for the staff's abuse signals: {"late": n, "replay": n, …}
    refusals = models.JSONField(default=dict)

    class Meta:
        ordering = ["-score", "seconds", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "citizen", "day", "number"], name="quiz_attempt_per_day"),
        ]
        indexes = [models.Index(fields=["contest", "day", "client"])]


class QuizAnswer(models.Model):
    """An answer to a daily question or a contest question. Kept (without the citizen) when the
    citizen deletes their account, so item statistics do not change under anyone's feet."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("每日一题")
        CONTEST = "contest", _("竞赛")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    citizen = models.ForeignKey("citizens.Citizen", null=True, on_delete=models.SET_NULL, related_name="+")
    attempt = models.ForeignKey(Attempt, null=True, on_delete=models.SET_NULL, related_name="answers")
    position = models.PositiveSmallIntegerField(null=True)
    item = models.ForeignKey("literacy.Item", on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(max_length=12)
    response = models.JSONField(null=True)
    correct = models.BooleanField()
    seconds = models.FloatField()
    at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            # one answer per question of an attempt, however many times the request is replayed
            models.UniqueConstraint(fields=["attempt", "position"], condition=Q(attempt__isnull=False),
                                    name="quiz_answer_once"),
        ]
        indexes = [models.Index(fields=["dimension", "at"])]


class DailyQuestion(models.Model):
    """The question a citizen gets on a day: drawn once, then the same all day."""

    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="daily_questions")
    day = models.DateField()
    item = models.ForeignKey("literacy.Item", on_delete=models.PROTECT, related_name="+")
    shown_at = models.DateTimeField(auto_now_add=True)
    answer = models.OneToOneField(QuizAnswer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["citizen", "day"], name="quiz_daily_once")]


class PointEntry(models.Model):
    """Points a citizen earned; the daily cap is applied when an entry is written."""

    citizen = models.ForeignKey("citizens.Citizen", on_delete=models.CASCADE, related_name="quiz_points")
    day = models.DateField()
    points = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=8, choices=QuizAnswer.Kind.choices)
    answer = models.OneToOneField(QuizAnswer, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["citizen", "day"])]
