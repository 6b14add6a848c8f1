"""kepu.plans.derived.publish_by_district: the interface registries publish their counts through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kepu.core.models import AuditEntry, OrgUnit
from kepu.plans.derived import ancestor_at, publish_by_district
from kepu.plans.models import Observation
from kepu.plans.plan_import import plan_import

REPO = Path(__file__).resolve().parents[1]


def _value(code: str, unit: str, year: int = 2025, plan: Any = None) -> float | None:
    rows = Observation.objects.filter(indicator__code=code, org_unit__code=unit, year=year, quarter=0)
    if plan is not None:
        rows = rows.filter(indicator__plan=plan)
    obs = rows.first()
    return None if obs is None else obs.value


def test_named_districts_get_their_values_and_the_city_their_sum(plan: Any, region: Any, report: Any,
                                                                  users: dict[str, Any]) -> None:
    # Given Xinbei reported 7 volunteers by hand, approved (before it kept its records on Kepu)
    obs = report(users["xinbei"], "SCI_VOLUNTEERS", "320411", 2025, 7)
    obs.status = Observation.Status.APPROVED
    obs.save()
    # When the registry publishes Wujin and Tianning only
    publish_by_district(code="SCI_VOLUNTEERS", year=2025, city=region, by_district={"320412": 30, "320402": 0},
                        source="community", note="test")
    # Then those two carry the registry's values, Xinbei keeps its own, and the city is the sum of all
    assert (_value("SCI_VOLUNTEERS", "320412"), _value("SCI_VOLUNTEERS", "320402")) == (30, 0)
    assert _value("SCI_VOLUNTEERS", "320411") == 7
    assert _value("SCI_VOLUNTEERS", region.code) == 37
    # And a change is audited old → new, a republication of the same value is not
    publish_by_district(code="SCI_VOLUNTEERS", year=2025, city=region, by_district={"320412": 29},
                        source="community", note="test")
    publish_by_district(code="SCI_VOLUNTEERS", year=2025, city=region, by_district={"320412": 29},
                        source="community", note="test")
    wujin = Observation.objects.get(indicator__code="SCI_VOLUNTEERS", org_unit__code="320412", year=2025)
    entries = AuditEntry.objects.filter(action="observation.derive", object_id=str(wujin.pk)).order_by("pk")
    changes = [e.changes["value"] for e in entries]
    assert changes == [[None, 30.0], [30.0, 29.0]]
    assert _value("SCI_VOLUNTEERS", region.code) == 36


def test_an_explicit_city_value_is_kept_and_future_years_or_unknown_codes_publish_nothing(plan: Any,
                                                                                            region: Any) -> None:
    out = publish_by_district(code="SCI_FUNDING_PER_CAPITA", year=2025, city=region,
                              by_district={"320412": 3.5}, city_value=2.75, source="funding", note="t")
    assert {o.org_unit.code for o in out} == {"320412", region.code}
    assert _value("SCI_FUNDING_PER_CAPITA", region.code) == 2.75
    assert publish_by_district(code="SCI_VOLUNTEERS", year=2099, city=region, by_district={"320412": 1},
                               source="t", note="t") == []
    assert publish_by_district(code="NO_SUCH_CODE", year=2025, city=region, by_district={"320412": 1},
                               source="t", note="t") == []


def test_a_district_implementation_plan_measuring_the_indicator_gets_its_district_value(
    plan: Any, region: Any, tmp_path: Path
) -> None:
    doc = yaml.safe_load((REPO / "data/plans/example-wujin-implementation.yaml").read_text(encoding="utf-8"))
    doc["indicators"].append({"code": "VOLUNTEER_HOURS", "name_zh": "志愿服务时长", "name_en": "Volunteer hours",
                              "unit": "小时", "aggregation": "sum", "min": 0, "frequency": "year"})
    path = tmp_path / "wujin.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    district_plan, _ = plan_import(path=path)
    publish_by_district(code="VOLUNTEER_HOURS", year=2025, city=region, by_district={"320412": 120.5, "320411": 8},
                        source="community", note="t")
    assert _value("VOLUNTEER_HOURS", "320412", plan=district_plan) == 120.5
    assert _value("VOLUNTEER_HOURS", "320412", plan=plan) == 120.5
    assert not Observation.objects.filter(indicator__plan=district_plan, org_unit__code="320411").exists()


def test_ancestor_at_walks_up_to_the_level(region: Any) -> None:
    town = OrgUnit.objects.filter(level=OrgUnit.Level.TOWN, parent__code="320412").first()
    assert town is not None
    assert ancestor_at(town, OrgUnit.Level.DISTRICT).code == "320412"  # type: ignore[union-attr]
    assert ancestor_at(town, OrgUnit.Level.CITY) == region
    assert ancestor_at(region, OrgUnit.Level.DISTRICT) is None
