"""The plan as data: the shipped plan file, the `kepu plan` command, and (re-)importing plans."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from conftest import PLAN_FILE, REPO
from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, Department, OrgUnit
from kepu.core.services import region_import
from kepu.plans.models import (
    Indicator,
    Observation,
    Plan,
    PlanImport,
    Programme,
    Section,
    Target,
    TargetAllocation,
    TargetStatus,
)
from kepu.plans.plan_file import read_plan
from kepu.plans.plan_import import plan_import
from tests.conftest import target_of

pytestmark = pytest.mark.usefixtures("english")

EXAMPLE_PLAN = REPO / "data/plans/example-lakeside-2022-2030.yaml"

LAKESIDE_REGION = """\
region: {code: "990100", name_zh: 湖滨市, name_en: Lakeside}
units:
  - {code: "990100", name_zh: 湖滨市, name_en: Lakeside, level: city, parent: null}
  - {code: "990101", name_zh: 东湖区, name_en: Donghu, level: district, kind: district, parent: "990100"}
  - {code: "990102", name_zh: 西山县, name_en: Xishan, level: district, kind: county, parent: "990100"}
population:
  totals:
    - {unit: "990100", value: 1000000}
    - {unit: "990101", value: 600000}
    - {unit: "990102", value: 400000}
"""

P1_1_UNITS = ["市委宣传部", "市教育局", "市科技局", "市人社局", "团市委", "市妇联", "市科协",
              "各辖市(区)政府"]

CONTRACT_KEYS = {"code", "name_zh", "name_en", "kind", "value", "unit", "deadline_year", "per", "org_unit",
                 "responsible_units", "baseline"}


def _targets_json() -> list[dict[str, Any]]:
    out = StringIO()
    call_command("plan", "targets", "--json", stdout=out)
    rows: list[dict[str, Any]] = json.loads(out.getvalue())
    return rows


# -- the shipped Changzhou plan ------------------------------------------------------------------

def test_shipped_plan_file_validates() -> None:
    # Given the Changzhou plan file as shipped
    # When it is read and validated
    doc, errors = read_plan(PLAN_FILE)
    # Then there is no error and the document comes back
    assert errors == []
    assert doc is not None
    assert doc["plan"]["code"] == "changzhou-2021-2035"


def test_validate_command_prints_valid() -> None:
    # Given the shipped plan file
    out = StringIO()
    # When `kepu plan validate FILE` runs
    call_command("plan", "validate", str(PLAN_FILE), stdout=out)
    # Then it says the file is valid and what it holds
    assert out.getvalue().strip() == (
        "changzhou-2021-2035.yaml: valid — 5 programmes, 49 indicators, 25 targets.")


def test_imported_plan_has_key_groups_and_programmes(plan: Plan) -> None:
    # Given the imported plan
    # Then it has the plan's five key groups
    assert sorted(plan.key_groups.values_list("code", flat=True)) == [
        "elderly", "farmers", "officials", "workers", "youth"]
    # And P1..P4 are programmes (工程) while P5 is the implementation chapter
    assert list(plan.programmes.order_by("order").values_list("code", "kind")) == [
        ("P1", "programme"), ("P2", "programme"), ("P3", "programme"), ("P4", "programme"),
        ("P5", "implementation")]


def test_section_responsible_units_keep_the_plan_order(plan: Plan) -> None:
    # Given section P1.1 of the imported plan
    section = Section.objects.get(programme__plan=plan, code="P1.1")
    # When its responsible units are read in their stored order
    names = [d.name_zh for d in section.responsible_units.order_by("sectionresponsibility__order")]
    # Then they are in the order the plan text lists them
    assert names == P1_1_UNITS


def test_targets_and_the_headline_rate(plan: Plan) -> None:
    # Given the imported plan
    # Then it has at least 20 targets
    assert plan.targets.count() >= 20
    # And T01 is the science-literacy rate of 21.5 % by 2025, from 15.2 % in 2020 (10.3 % in 2016)
    t01 = plan.targets.get(code="T01")
    assert (t01.kind, t01.value, t01.unit, t01.deadline_year) == ("rate", 21.5, "%", 2025)
    assert (t01.baseline_year, t01.baseline_value) == (2020, 15.2)
    assert t01.baseline_history == [{"year": 2016, "value": 10.3}]
    assert t01.indicator.code == "LIT_RATE"


def test_every_target_quotes_the_plan_with_its_figure(plan: Plan) -> None:
    # Given the imported targets
    targets = list(plan.targets.all())
    # Then every quote is non-empty text from the plan
    assert all(t.quote.strip() for t in targets)
    # And states the target's figure: in digits, except where the plan writes it in words
    in_words = {"T13": "10万", "T14": "1万", "T17": "全覆盖", "T21": "一次",
                # rank ≤ 4 (baseline 全省第四) and "no larger than the baseline": the plan says it in words
                "T22": "全省前列", "T23": "显著缩小", "T24": "显著缩小", "T25": "显著缩小"}
    for t in targets:
        if t.code in in_words:
            assert in_words[t.code] in t.quote, t.code
        else:
            assert re.search(r"\d", t.quote), t.code
            assert f"{t.value:g}" in t.quote, t.code
    assert {t.code for t in targets if not re.search(r"\d", t.quote)} == {"T17", "T21"}


# -- another city's plan -------------------------------------------------------------------------

def test_example_plan_of_another_city_validates_and_imports(db: Any, tmp_path: Path,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    # Given a tiny region (a city and two districts with population) loaded from a region file
    region_file = tmp_path / "lakeside.yaml"
    region_file.write_text(LAKESIDE_REGION, encoding="utf-8")
    region_import(path=region_file)
    assert OrgUnit.objects.get(code="990100").path == "/990100/"
    # And the example plan for that city, which validates
    doc, errors = read_plan(EXAMPLE_PLAN)
    assert errors == [] and doc is not None
    # When it is imported
    with django_capture_on_commit_callbacks(execute=True):
        plan, summary = plan_import(path=EXAMPLE_PLAN)
    # Then the plan belongs to that city with all its targets
    assert (plan.code, plan.region.code, plan.start_year, plan.end_year, plan.version) == (
        "lakeside-2022-2030", "990100", 2022, 2030, 1)
    assert list(plan.targets.values_list("code", "kind")) == [
        ("T01", "rate"), ("T02", "rate"), ("T03", "flow"), ("T04", "coverage"), ("T05", "stock")]
    assert summary["deactivated"] == 0 and summary["version"] == 1
    # And the cascades reach both districts: by population (60 % / 40 %) or the same value
    alloc = {(a.target.code, a.org_unit.code): a.value
             for a in TargetAllocation.objects.filter(target__plan=plan)}
    assert alloc == {
        ("T01", "990101"): 16, ("T01", "990102"): 16, ("T02", "990101"): 20, ("T02", "990102"): 20,
        ("T03", "990101"): 300, ("T03", "990102"): 200, ("T04", "990101"): 100, ("T04", "990102"): 100,
        ("T05", "990101"): 18, ("T05", "990102"): 12,
    }
    # And every target has a stored status for the city and each district
    assert TargetStatus.objects.filter(target__plan=plan).count() == 5 * 3


# -- re-importing --------------------------------------------------------------------------------

def test_reimporting_the_same_file_changes_nothing(plan: Plan) -> None:
    # Given the imported plan and the audit log as it stands
    audit_before = AuditEntry.objects.count()
    imports_before = PlanImport.objects.count()
    # When the same file is imported again
    again, summary = plan_import(path=PLAN_FILE)
    # Then it reports the plan unchanged at version 1, and nothing was written
    assert again.pk == plan.pk
    assert summary == {"unchanged": True, "version": 1}
    assert AuditEntry.objects.count() == audit_before
    assert PlanImport.objects.count() == imports_before
    assert Plan.objects.get(pk=plan.pk).version == 1


def test_reimporting_an_edited_file_updates_in_place(plan: Plan, edited_plan: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    # Given the imported plan, an observation on T03's indicator, and T03's allocations
    t03 = plan.targets.get(code="T03")
    section = Section.objects.get(programme__plan=plan, code="P1.1")
    wujin = OrgUnit.objects.get(code="320412")
    obs = Observation.objects.create(indicator=t03.indicator, org_unit=wujin, year=2023, value=4,
                                     status=Observation.Status.APPROVED)
    old_alloc = {a.org_unit.code: a.value for a in t03.allocations.select_related("org_unit")}
    assert sum(old_alloc.values()) == 50
    last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()

    # And a copy of the plan file where T03 rises from 50 to 60 and section P1.1 is renamed
    def edit(doc: dict[str, Any]) -> None:
        target_of(doc, "T03")["value"] = 60
        doc["programmes"][0]["sections"][0]["name_zh"] = "提升青少年科学素质(修订)"

    path = edited_plan(edit)
    # When the edited copy is imported
    with django_capture_on_commit_callbacks(execute=True):
        updated, summary = plan_import(path=path)

    # Then the plan's version is bumped and the rows are updated in place
    assert updated.pk == plan.pk and updated.version == 2
    assert summary == {"created": 0, "updated": 2, "deactivated": 0, "version": 2}
    t03_after = Target.objects.get(plan=plan, code="T03")
    assert (t03_after.pk, t03_after.value) == (t03.pk, 60)
    section_after = Section.objects.get(pk=section.pk)
    assert section_after.name_zh == "提升青少年科学素质(修订)"
    # And the audit log records every change old → new
    new = AuditEntry.objects.filter(pk__gt=last_audit).order_by("id")
    by_action: dict[str, list[AuditEntry]] = {}
    for e in new:
        by_action.setdefault(e.action, []).append(e)
    assert [e.changes for e in by_action["target.update"]] == [{"value": [50.0, 60.0]}]
    assert [e.object_id for e in by_action["target.update"]] == [str(t03.pk)]
    assert [e.changes for e in by_action["section.update"]] == [
        {"name_zh": ["提升青少年科学素质", "提升青少年科学素质(修订)"]}]
    assert [e.changes for e in by_action["plan.update"]] == [{"version": [1, 2]}]
    # And T03's population allocations are recomputed for 60 and audited
    new_alloc = {a.org_unit.code: a.value for a in t03_after.allocations.select_related("org_unit")}
    assert set(new_alloc) == set(old_alloc)
    assert sum(new_alloc.values()) == 60
    districts = {u.code: u.population for u in OrgUnit.objects.filter(code__in=new_alloc)}
    total = sum(districts.values())
    assert all(abs(v - 60 * districts[c] / total) < 1 for c, v in new_alloc.items())
    changed = {c for c in new_alloc if new_alloc[c] != old_alloc[c]}
    assert changed
    assert {e.changes["value"][1] for e in by_action["allocation.update"]} <= set(new_alloc.values())
    assert len(by_action["allocation.update"]) == len(changed)
    # And the observation stays attached to the same indicator
    assert Observation.objects.get(pk=obs.pk).indicator_id == t03.indicator_id == t03_after.indicator_id
    assert Indicator.objects.filter(plan=plan).count() == 49
    assert set(by_action) == {"plan.update", "target.update", "section.update", "allocation.update"}


def test_a_target_removed_from_the_file_is_deactivated(plan: Plan, edited_plan: Any,
                                                       django_capture_on_commit_callbacks: Any) -> None:
    # Given the imported plan, and a copy of the file without target T20
    t20 = plan.targets.get(code="T20")
    targets_before = Target.objects.count()
    path = edited_plan(lambda doc: doc["targets"].remove(target_of(doc, "T20")))
    # When the copy is imported
    with django_capture_on_commit_callbacks(execute=True):
        _, summary = plan_import(path=path)
    # Then T20 is kept but inactive, and audited as such
    assert summary["deactivated"] == 1
    assert Target.objects.count() == targets_before
    assert Target.objects.get(pk=t20.pk).active is False
    entry = AuditEntry.objects.get(action="target.deactivate")
    assert (entry.object_id, entry.changes) == (str(t20.pk), {"active": [True, False]})
    # And it no longer appears among the plan's targets or statuses
    assert "T20" not in [r["code"] for r in _targets_json()]
    assert not TargetStatus.objects.filter(target=t20).exists()
    # And the programmes are untouched
    assert Programme.objects.filter(plan=plan, active=True).count() == 5


def test_changed_target_responsible_units_are_audited(plan: Plan, edited_plan: Any) -> None:
    # Given a copy of the plan where 团市委 is no longer responsible for T02
    t02 = plan.targets.get(code="T02")
    path = edited_plan(lambda doc: target_of(doc, "T02")["responsible_units"].remove("团市委"))
    # When it is imported
    plan_import(path=path)
    # Then T02's responsible units follow the file, in order, and the change is audited old → new
    wanted = [n for n in P1_1_UNITS if n != "团市委"]
    assert [d.name_zh for d in t02.responsible_units.order_by("targetresponsibility__order")] == wanted
    entries = AuditEntry.objects.filter(action="target.responsible_units", object_id=str(t02.pk)).order_by("id")
    assert [e.changes for e in entries] == [
        {"responsible_units": [[], P1_1_UNITS]},  # the first import
        {"responsible_units": [P1_1_UNITS, wanted]},
    ]


def test_a_department_renamed_in_its_own_plan_is_updated(plan: Plan, edited_plan: Any) -> None:
    # Given a copy of the plan where 市财政局 is renamed everywhere it appears
    def rename(doc: dict[str, Any]) -> None:
        new = "市财政局(更名)"
        for d in doc["departments"]:
            if d["name_zh"] == "市财政局":
                d["name_zh"] = new
        tasks = [t for p in doc["programmes"] for s in p["sections"] for t in s.get("tasks", [])]
        for h in [*(s for p in doc["programmes"] for s in p["sections"]), *doc["targets"], *tasks]:
            for key in ("responsible_units", "lead_units", "supporting_units"):
                if key in h:
                    h[key] = [new if n == "市财政局" else n for n in h[key]]
        for d in doc.get("deliverables", []):
            d["owner"] = new if d["owner"] == "市财政局" else d["owner"]
            d["supporting_units"] = [new if n == "市财政局" else n for n in d.get("supporting_units", [])]

    path = edited_plan(rename)
    # When it is imported
    plan_import(path=path)
    # Then the department keeps its code and row, with the new name, audited old → new
    dept = Department.objects.get(code="cz-finance")
    assert dept.name_zh == "市财政局(更名)"
    entry = AuditEntry.objects.get(action="department.update", object_id=str(dept.pk))
    assert entry.changes == {"name_zh": ["市财政局", "市财政局(更名)"]}


def test_another_city_plan_has_its_own_departments_of_the_same_name(plan: Plan, tmp_path: Path) -> None:
    # Given the Changzhou plan, and the Lakeside region in the same database
    region_file = tmp_path / "lakeside.yaml"
    region_file.write_text(LAKESIDE_REGION, encoding="utf-8")
    region_import(path=region_file)
    # When the Lakeside plan, whose departments reuse Changzhou's names and the code "districts", is imported
    lakeside, _ = plan_import(path=EXAMPLE_PLAN)
    # Then each city has its own units (issue 8: responsible units are scoped to the plan's region)
    assert set(Department.objects.filter(name_zh="市教育局").values_list("code", "region__code")) == {
        ("cz-edu", "320400"), ("lk-edu", "990100")}
    assert Department.objects.get(code="districts", region=plan.region).name_zh == "各辖市(区)政府"
    assert Department.objects.get(code="districts", region=lakeside.region).name_zh == "各区县政府"


def test_a_second_plan_of_the_same_region_cannot_take_its_departments_names(
    plan: Plan, edited_plan: Any, counts: Any,
) -> None:
    # Given a second plan for Changzhou whose 市教育局 has another code
    def second(doc: dict[str, Any]) -> None:
        doc["plan"]["code"] = "changzhou-second"
        for d in doc["departments"]:
            if d["code"] == "cz-edu":
                d["code"] = "cz-edu-2"

    path = edited_plan(second)
    before = counts()
    # When it is imported, it is refused naming the clash within the region, and nothing is written
    with pytest.raises(InputError) as info:
        plan_import(path=path)
    assert any("'市教育局' is already the name of department 'cz-edu'" in e for e in info.value.errors)
    assert counts() == before


# -- `kepu plan targets --json` ------------------------------------------------------------------

def test_targets_json_follows_the_contract(plan: Plan) -> None:
    # Given the imported plan
    # When `kepu plan targets --json` runs
    rows = _targets_json()
    # Then it prints a JSON array with one object per target, each with the contract keys
    assert isinstance(rows, list)
    assert [r["code"] for r in rows] == [f"T{i:02d}" for i in range(1, 26)]
    for r in rows:
        assert set(r) >= CONTRACT_KEYS, r["code"]
        assert r["kind"] in {"rate", "stock", "flow", "coverage"}
        assert isinstance(r["value"], int | float) and not isinstance(r["value"], bool)
        assert isinstance(r["unit"], str) and r["unit"]
        assert r["deadline_year"] is None or isinstance(r["deadline_year"], int)
        assert r["per"] == ("year" if r["kind"] == "flow" else None)
        assert (r["kind"] == "flow") == (r["deadline_year"] is None)
        assert r["org_unit"] == "320400"
        assert isinstance(r["responsible_units"], list)
        assert all(isinstance(n, str) and re.search(r"[\u4e00-\u9fff]", n) for n in r["responsible_units"])
        assert r["baseline"] is None or set(r["baseline"]) >= {"year", "value"}
    by_code = {r["code"]: r for r in rows}
    # And the headline rate and a flow look exactly as the plan says
    t01 = by_code["T01"]
    assert {k: t01[k] for k in CONTRACT_KEYS} == {
        "code": "T01", "name_zh": "公民具备科学素质比例",
        "name_en": "Share of citizens with basic science literacy", "kind": "rate", "value": 21.5,
        "unit": "%", "deadline_year": 2025, "per": None, "org_unit": "320400",
        "responsible_units": ["市全民科学素质工作领导小组各成员单位", "各辖市(区)政府"],
        "baseline": {"year": 2020, "value": 15.2, "history": [{"year": 2016, "value": 10.3}]},
    }
    t06 = by_code["T06"]
    assert (t06["kind"], t06["value"], t06["unit"], t06["deadline_year"], t06["per"], t06["baseline"]) == (
        "flow", 300, "人", None, "year", None)
    assert t06["responsible_units"] == P1_1_UNITS


def test_targets_on_a_database_never_set_up_is_a_clear_error(tmp_path: Path) -> None:
    """A partner script run on a fresh checkout gets one line saying what to do, not a traceback."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPU_")}
    env["KEPU_DATA_DIR"] = str(tmp_path / "var")  # not even the folder exists
    run = subprocess.run([sys.executable, "-m", "kepu.cli", "plan", "targets", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and run.stdout == ""
    assert "The database is not set up" in run.stderr and "Traceback" not in run.stderr
