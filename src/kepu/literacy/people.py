"""Classifying respondents: age bands, key groups (重点人群) and the answers the forms offer."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

AGE_BANDS = [("18-29", 18, 29), ("30-39", 30, 39), ("40-49", 40, 49), ("50-59", 50, 59), ("60-69", 60, 69)]
SEXES = [("M", _("男")), ("F", _("女"))]
AREAS = [("urban", _("城镇")), ("rural", _("乡村"))]
EDUCATION = [
    ("primary", _("小学及以下")),
    ("junior", _("初中")),
    ("senior", _("高中(含中专)")),
    ("college", _("大专")),
    ("bachelor", _("本科及以上")),
]
OCCUPATIONS = [
    ("student", _("在校学生")),
    ("farmer", _("农业生产人员")),
    ("worker", _("产业工人(生产制造、建筑、运输等)")),
    ("official", _("机关干部、公务员")),
    ("professional", _("专业技术人员")),
    ("service", _("商业、服务业人员")),
    ("retired", _("离退休人员")),
    ("other", _("其他")),
]
KEY_GROUPS = [
    ("youth", _("青少年")),
    ("farmers", _("农民")),
    ("workers", _("产业工人")),
    ("elderly", _("老年人")),
    ("officials", _("领导干部和公务员")),
    ("other", _("其他居民")),
]


def age_band(age: int | None) -> str:
    if age is None:
        return ""
    if age < 18:
        return "<18"
    if age >= 70:
        return "70+"
    return next(code for code, lo, hi in AGE_BANDS if lo <= age <= hi)


def key_group(age: int | None, occupation: str) -> str:
    """The plan's key group a respondent belongs to; age comes first (students under 18 are youth,
    60+ are older people), then occupation."""
    if (age is not None and age < 18) or occupation == "student":
        return "youth"
    if age is not None and age >= 60:
        return "elderly"
    return {"farmer": "farmers", "worker": "workers", "official": "officials"}.get(occupation, "other")
