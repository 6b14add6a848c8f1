"""What emergency science publishes into the plan (kepu.emergency.indicators), in the same
transaction as the change: EMERGENCY_RESPONSES (events declared per district and year) and
EMERGENCY_GUIDANCE (published guidance items, city). The plan file does not carry these indicators
yet, so the test adds them to a copy of it (the YAML block proposed in the report)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests import test_emergency_kb as kb

pytestmark = pytest.mark.django_db

BLOCK = [
    {"code": "EMERGENCY_RESPONSES", "section": "P4.3", "name_zh": "应急科普响应次数",
     "name_en": "Emergency science responses (emergency mode declared)", "unit": "次", "aggregation": "sum",
     "integer": True, "min": 0, "frequency": "year"},
    {"code": "EMERGENCY_GUIDANCE", "section": "P4.3", "name_zh": "应急科普知识库已发布指引条数",
     "name_en": "Published guidance items in the emergency science knowledge base", "unit": "条",
     "aggregation": "sum", "integer": True, "min": 0, "frequency": "year"},
]


@pytest.fixture
def eplan(region: Any, edited_plan: Any, django_capture_on_commit_callbacks: Any) -> Any:
    from kepu.plans.plan_import import plan_import

    def add(doc: dict[str, Any]) -> None:
        codes = {i["code"] for i in doc["indicators"]}
        doc["indicators"] += [b for b in BLOCK if b["code"] not in codes]

    with django_capture_on_commit_callbacks(execute=True):
        p, _ = plan_import(path=edited_plan(add))
    return p


def value(code: str, unit: str, year: int) -> float | None:
    from kepu.plans.models import Observation

    o = Observation.objects.filter(indicator__code=code, org_unit__code=unit, year=year, quarter=0).first()
    return None if o is None else o.value


def test_declaring_publishes_responses_per_district_and_city(eplan: Any, make_user: Any) -> None:
    from tests.test_emergency_mode import declare

    office = make_user("office", ("office_admin", "320400", None))
    wujin = make_user("wujin", ("district_reporter", "320412", None))
    kb.load_small(office)
    declare(office, ["320412", "320411"])
    declare(wujin, ["320412-L02"])
    year = timezone.localdate().year
    assert value("EMERGENCY_RESPONSES", "320412", year) == 2
    assert value("EMERGENCY_RESPONSES", "320411", year) == 1
    assert value("EMERGENCY_RESPONSES", "320400", year) == 2  # two events in the city
    last = timezone.make_aware(dt.datetime(year - 1, 7, 1, 9))
    declare(office, ["320402"], starts_at=last, planned_end=last + dt.timedelta(days=2))
    assert value("EMERGENCY_RESPONSES", "320402", year - 1) == 1
    assert value("EMERGENCY_RESPONSES", "320400", year) == 2


def test_publishing_and_withdrawing_guidance_moves_the_city_count(eplan: Any, make_user: Any) -> None:
    from kepu.emergency.models import Guidance
    from kepu.emergency.services import guidance_unpublish

    office = make_user("office", ("office_admin", "320400", None))
    kb.load_small(office)
    year = timezone.localdate().year
    kb.publish_all(kb.make_expert(make_user, office), office)
    assert value("EMERGENCY_GUIDANCE", "320400", year) == 4
    guidance_unpublish(actor=office, guidance=Guidance.objects.get(key="during-all-1"), reason="内容需更新")
    assert value("EMERGENCY_GUIDANCE", "320400", year) == 3


def test_without_the_indicators_in_the_plan_nothing_is_published(region: Any, edited_plan: Any, users: Any,
                                                                  django_capture_on_commit_callbacks: Any) -> None:
    """Another city's plan file that does not measure them: declaring and publishing still work."""
    from kepu.plans.models import Observation
    from kepu.plans.plan_import import plan_import
    from tests.test_emergency_mode import declare

    def drop(doc: dict[str, Any]) -> None:
        doc["indicators"] = [i for i in doc["indicators"] if not i["code"].startswith("EMERGENCY_")]

    with django_capture_on_commit_callbacks(execute=True):
        plan_import(path=edited_plan(drop))
    kb.load_small(users["office"])
    declare(users["office"], ["320412"])
    assert not Observation.objects.filter(indicator__code__startswith="EMERGENCY_").exists()
