"""Cascades by the right denominator, office overrides of district shares, subset targets (issue 8 point 5)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from conftest import PASSWORD, REGION_FILE
from kepu.core.errors import InputError, PermissionDenied
from tests.conftest import target_of

pytestmark = pytest.mark.django_db


def _alloc(plan: Any, code: str) -> dict[str, float]:
    return {a.org_unit.code: a.value for a in plan.targets.get(code=code).allocations.select_related("org_unit")}


def test_farmer_targets_split_by_rural_population(plan: Any) -> None:
    # 天宁区 is 91 % urban: by total population it got about 570 of 4,500 farmers a year.
    t07 = plan.targets.get(code="T07")
    assert (t07.cascade, t07.denominator, t07.value) == ("share", "rural", 4500)
    alloc = _alloc(plan, "T07")
    assert sum(alloc.values()) == 4500
    # rural population from the region file: 59,176 of 1,341,956 in the seven district-level units
    rural = {"320402": 59176, "320404": 151002, "320411": 205222, "320412": 380478, "320413": 131435,
             "320481": 289585, "changzhou_edz": 125058}
    assert alloc["320402"] == pytest.approx(4500 * 59176 / sum(rural.values()), abs=1)
    assert alloc["320402"] < 200
    assert alloc["320481"] > alloc["320402"] * 4
    for code in ("T08", "T09", "T10", "T11"):
        assert plan.targets.get(code=code).denominator == "rural"
    # a target still split by total population names `total`
    assert plan.targets.get(code="T12").cascade == "population"


def test_denominators_keep_their_sources(region: Any) -> None:
    from kepu.core.models import Denominator

    tianning = Denominator.objects.get(unit__code="320402", key="rural")
    assert (tianning.value, tianning.is_estimate) == (59176, False)
    # the source's title, not its key (the file also keeps its address)
    assert tianning.source.startswith("第七次全国人口普查天宁区")
    zhonglou = Denominator.objects.get(unit__code="320404", key="rural")
    assert zhonglou.is_estimate and "中文维基百科“常州”词条" in zhonglou.source and zhonglou.method
    assert Denominator.objects.get(unit__code="320402", key="total").value == 668906
    # never invented: no district figure for students was found, so it is stored as missing
    assert Denominator.objects.get(unit__code="320402", key="students").value is None


def test_missing_denominator_names_district_and_denominator(plan: Any, edited_plan: Any, counts: Any) -> None:
    from kepu.plans.plan_import import plan_import

    def mutate(doc: dict[str, Any]) -> None:
        target_of(doc, "T03")["cascade"] = {"method": "share", "denominator": "students"}

    path = edited_plan(mutate)
    before = counts()
    with pytest.raises(InputError) as exc:
        plan_import(path=path)
    assert "T03" in str(exc.value) and "students" in str(exc.value) and "天宁区" in str(exc.value)
    assert counts() == before
    assert plan.targets.get(code="T03").cascade == "population"


def test_share_cascade_needs_a_denominator(edited_plan: Any) -> None:
    from kepu.plans.plan_file import read_plan

    path = edited_plan(lambda doc: target_of(doc, "T03").update(cascade={"method": "share"}))
    _, errors = read_plan(path)
    assert any("denominator" in e for e in errors)


def test_subset_above_parent_refused_at_import(plan: Any, edited_plan: Any, counts: Any) -> None:
    from kepu.plans.plan_import import plan_import

    path = edited_plan(lambda doc: target_of(doc, "T08").update(value=5000))
    before = counts()
    with pytest.raises(InputError) as exc:
        plan_import(path=path)
    assert any("T08" in e and "T07" in e for e in exc.value.errors)
    assert counts() == before
    assert plan.targets.get(code="T08").value == 100


def test_subset_of_unknown_target_refused(region: Any, edited_plan: Any) -> None:
    from kepu.plans.plan_import import plan_import

    path = edited_plan(lambda doc: target_of(doc, "T08").update(subset_of="T99"))
    with pytest.raises(InputError) as exc:
        plan_import(path=path)
    assert any("T99" in e for e in exc.value.errors)


def test_subset_link_imported(plan: Any) -> None:
    assert plan.targets.get(code="T08").subset_of.code == "T07"
    t08, t07 = _alloc(plan, "T08"), _alloc(plan, "T07")
    assert all(t08[c] <= t07[c] for c in t08)


def test_subset_above_parent_refused_on_entry(users: dict[str, Any], report: Any, english: None) -> None:
    from kepu.plans.models import Observation

    report(users["wujin"], "HQ_FARMERS", "320412", 2024, 300)
    with pytest.raises(InputError) as exc:
        report(users["wujin"], "AGRI_BUSINESS_LEADERS", "320412", 2024, 301)
    assert "320412" not in str(exc.value) and "武进区" in str(exc.value)
    assert not Observation.objects.filter(indicator__code="AGRI_BUSINESS_LEADERS").exists()
    report(users["wujin"], "AGRI_BUSINESS_LEADERS", "320412", 2024, 300)  # equal is fine


def test_parent_below_subset_refused_on_entry(users: dict[str, Any], report: Any) -> None:
    from kepu.plans.models import Observation

    report(users["wujin"], "AGRI_BUSINESS_LEADERS", "320412", 2024, 50)
    with pytest.raises(InputError):
        report(users["wujin"], "HQ_FARMERS", "320412", 2024, 40)
    assert not Observation.objects.filter(indicator__code="HQ_FARMERS").exists()


def _shares(plan: Any, code: str) -> dict[str, float]:
    return {a.org_unit.code: round(a.share * 100, 4) for a in plan.targets.get(code=code).allocations.all()}


def test_office_override_is_audited_and_survives_reimport(
    plan: Any, users: dict[str, Any], edited_plan: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kepu.core.models import AuditEntry
    from kepu.plans.plan_import import plan_import
    from kepu.plans.services import allocation_shares_set

    t07 = plan.targets.get(code="T07")
    shares = _shares(plan, "T07")
    old_tianning = shares["320402"]
    shares["320402"], shares["320481"] = 10.0, shares["320481"] - (10.0 - old_tianning)
    with django_capture_on_commit_callbacks(execute=True):
        allocation_shares_set(user=users["office"], target=t07, shares_pct=shares, comment="区里协商")
    assert _alloc(plan, "T07")["320402"] == 450
    entry = AuditEntry.objects.get(action="allocation.override", object_label__contains="天宁区")
    assert entry.actor == users["office"] and entry.at is not None and entry.comment == "区里协商"
    assert entry.changes["share"][0] == pytest.approx(old_tianning / 100, abs=1e-6)
    assert entry.changes["share"][1] == pytest.approx(0.10)
    assert entry.changes["value"][1] == 450
    # a re-import (here with a new city value) keeps the office's shares
    with django_capture_on_commit_callbacks(execute=True):
        plan_import(path=edited_plan(lambda doc: target_of(doc, "T07").update(value=5000)))
    assert _alloc(plan, "T07")["320402"] == 500


def test_override_shares_must_sum_to_100(plan: Any, users: dict[str, Any]) -> None:
    from kepu.core.models import AuditEntry
    from kepu.plans.services import allocation_shares_set

    t07 = plan.targets.get(code="T07")
    shares = _shares(plan, "T07")
    before = _alloc(plan, "T07")
    shares["320402"] += 5
    with pytest.raises(InputError) as exc:
        allocation_shares_set(user=users["office"], target=t07, shares_pct=shares)
    assert "100%" in str(exc.value)
    del shares["320402"]
    with pytest.raises(InputError) as exc:
        allocation_shares_set(user=users["office"], target=t07, shares_pct=shares)
    assert "天宁区" in str(exc.value)
    assert _alloc(plan, "T07") == before
    assert not AuditEntry.objects.filter(action="allocation.override").exists()


def test_only_the_office_overrides(plan: Any, users: dict[str, Any]) -> None:
    from kepu.plans.services import allocation_shares_set

    with pytest.raises(PermissionDenied):
        allocation_shares_set(user=users["wujin"], target=plan.targets.get(code="T07"), shares_pct=_shares(plan, "T07"))
    assert not plan.targets.get(code="T07").allocations.filter(overridden=True).exists()


def test_override_through_api(plan: Any, users: dict[str, Any], api_client: Any) -> None:
    shares = _shares(plan, "T07")
    url = f"/api/plans/{plan.code}/targets/T07/shares"
    refused = api_client(users["wujin"]).post(url, {"shares": shares}, content_type="application/json")
    assert refused.status_code == 403
    bad = api_client(users["office"]).post(
        url, {"shares": {**shares, "320402": shares["320402"] + 1}}, content_type="application/json"
    )
    assert bad.status_code == 422 and "100%" in bad.json()["detail"]
    shares["320402"], shares["320481"] = shares["320402"] + 1, shares["320481"] - 1
    ok = api_client(users["office"]).post(url, {"shares": shares}, content_type="application/json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["allocations"]["320402"] == _alloc(plan, "T07")["320402"]
    assert plan.targets.get(code="T07").allocations.get(org_unit__code="320402").overridden


def test_override_page(plan: Any, users: dict[str, Any], client: Any) -> None:
    shares = _shares(plan, "T07")
    client.login(username="wujin", password=PASSWORD)
    page = client.get("/targets/T07/").content.decode()
    assert "乡村常住人口" in page and "第七次全国人口普查天宁区" in page and 'name="share_320402"' not in page
    assert "tianning_en" not in page
    assert client.post("/targets/T07/shares/", {}).status_code == 403
    client.login(username="office", password=PASSWORD)
    assert 'name="share_320402"' in client.get("/targets/T07/").content.decode()
    form = {f"share_{c}": v for c, v in shares.items()}
    form["share_320402"] = shares["320402"] + 3
    refused = client.post("/targets/T07/shares/", form, follow=True)
    assert "100%" in refused.content.decode()
    assert not plan.targets.get(code="T07").allocations.filter(overridden=True).exists()
    form["share_320481"] = shares["320481"] - 3
    done = client.post("/targets/T07/shares/", form)
    assert done.status_code == 302
    assert plan.targets.get(code="T07").allocations.get(org_unit__code="320402").overridden


def test_targets_json_adds_denominator_and_allocations(plan: Any) -> None:
    out = StringIO()
    call_command("plan", "targets", "--json", stdout=out)
    rows = {r["code"]: r for r in json.loads(out.getvalue())}
    for key in ("code", "name_zh", "kind", "value", "unit", "cascade", "quote", "responsible_units", "period"):
        assert key in rows["T07"]
    assert rows["T07"]["denominator"] == "rural"
    assert rows["T12"]["denominator"] == "total"
    assert rows["T02"]["denominator"] is None and rows["T02"]["allocations"] == {}
    assert sum(rows["T07"]["allocations"].values()) == 4500
    assert set(rows["T07"]["allocations"]) == {"320402", "320404", "320411", "320412", "320413", "320481",
                                               "changzhou_edz"}
    assert rows["T01"]["denominator"] is None and rows["T01"]["allocations"]["320402"] == rows["T01"]["value"]


def test_region_file_denominator_needs_a_source(db: Any, tmp_path: Path) -> None:
    from kepu.core.models import Denominator
    from kepu.core.services import region_import

    doc = yaml.safe_load(REGION_FILE.read_text(encoding="utf-8"))
    del doc["denominators"]["rural"][0]["source"]
    path = tmp_path / "changzhou.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        region_import(path=path)
    assert "denominators.rural[0].source" in str(exc.value)
    assert not Denominator.objects.exists()
