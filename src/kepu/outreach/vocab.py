"""The codes a resource is tagged with. They mirror the literacy dimensions, the plan's key groups and the
citizen age bands (msgids shared with those apps), kept here so outreach does not import their models."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

DIMENSIONS = [
    ("knowledge", _("科学知识")),
    ("method", _("科学方法")),
    ("spirit", _("科学精神与思维")),
    ("application", _("应用科学能力")),
]
KEY_GROUPS = [
    ("youth", _("青少年")),
    ("farmers", _("农民")),
    ("workers", _("产业工人")),
    ("elderly", _("老年人")),
    ("officials", _("领导干部和公务员")),
]
AGE_BANDS = [
    ("18-29", _("18–29 岁")),
    ("30-39", _("30–39 岁")),
    ("40-49", _("40–49 岁")),
    ("50-59", _("50–59 岁")),
    ("60-69", _("60–69 岁")),
    ("70+", _("70 岁及以上")),
]
# 《全民科学素质基准》 has 26 基准 (numbered 1–26).
BENCHMARKS = range(1, 27)
