"""Bad input, one case per test: each is refused with a message naming the place, and nothing is written."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import PLAN_FILE
from kepu.core.errors import InputError
from kepu.plans import excel
from kepu.plans.models import Observation, Plan
from kepu.plans.plan_import import plan_import
from tests.conftest import fill, row_of, target_of, template_of, xlsx

pytestmark = pytest.mark.usefixtures("english")

PLAN = "changzhou-2021-2035"
PROBLEM = "application/problem+json"


def _refused_import(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        plan_import(path=path)
    return info.value


# -- plan files ----------------------------------------------------------------------------------

def test_malformed_yaml_is_refused_with_its_line_number(plan: Plan, tmp_path: Path, counts: Any) -> None:
    # Given a plan file whose third line is indented with a tab (not YAML)
    path = tmp_path / "broken.yaml"
    path.write_text("plan:\n  code: broken\n\tname_zh: 坏文件\n", encoding="utf-8")
    before = counts()
    # When it is imported
    err = _refused_import(path)
    # Then the error names the file and the line, and nothing was written
    assert len(err.errors) == 1
    assert err.errors[0].startswith("broken.yaml: broken.yaml: not valid YAML at line 3, column 1:")
    assert counts() == before
    # And `kepu plan validate` refuses it the same way
    stderr = io.StringIO()
    with pytest.raises(CommandError, match=r"broken\.yaml: 1 error\(s\); nothing was imported"):
        call_command("plan", "validate", str(path), stderr=stderr)
    assert "line 3, column 1" in stderr.getvalue()


def test_schema_invalid_plan_names_the_field(plan: Plan, edited_plan: Any, counts: Any) -> None:
    # Given a copy of the plan whose first target has kind "ratio"
    path = edited_plan(lambda doc: doc["targets"][0].update(kind="ratio"))
    before = counts()
    # When it is imported
    err = _refused_import(path)
    # Then the error names targets[0].kind, and nothing was written (T01 is still a rate)
    assert err.errors == [
        f"{PLAN_FILE.name}: targets[0].kind: 'ratio' is not one of ['rate', 'stock', 'flow', 'coverage']"]
    assert counts() == before
    assert plan.targets.get(code="T01").kind == "rate"


def test_target_with_an_unknown_indicator_is_refused(plan: Plan, edited_plan: Any, counts: Any) -> None:
    # Given a copy of the plan whose T03 refers to an indicator the file does not define
    path = edited_plan(lambda doc: target_of(doc, "T03").update(indicator="NO_SUCH_INDICATOR"))
    before = counts()
    # When it is imported
    err = _refused_import(path)
    # Then the error names targets[2].indicator, and nothing was written
    assert err.errors == [f"{PLAN_FILE.name}: targets[2].indicator: unknown indicator 'NO_SUCH_INDICATOR'"]
    assert counts() == before
    assert plan.targets.get(code="T03").indicator.code == "SCHOOLS_SCI_CITY"


def test_responsible_unit_not_in_departments_is_refused(plan: Plan, edited_plan: Any, counts: Any) -> None:
    # Given a copy of the plan where section P1.1 names a unit missing from `departments`
    def edit(doc: dict[str, Any]) -> None:
        doc["programmes"][0]["sections"][0]["responsible_units"].append("市不存在局")

    path = edited_plan(edit)
    before = counts()
    # When it is imported
    err = _refused_import(path)
    # Then the error names the place, and nothing was written
    assert err.errors == [f"{PLAN_FILE.name}: programmes[0].sections[0].responsible_units[8]: "
                          "'市不存在局' is not listed under departments"]
    assert counts() == before


def test_flow_target_with_a_deadline_is_refused(plan: Plan, edited_plan: Any, counts: Any) -> None:
    # Given a copy of the plan where the yearly flow T06 also has a deadline
    path = edited_plan(lambda doc: target_of(doc, "T06").update(deadline_year=2025))
    before = counts()
    # When it is imported
    err = _refused_import(path)
    # Then the error names targets[5].deadline_year, and nothing was written
    assert err.errors == [f"{PLAN_FILE.name}: targets[5].deadline_year: a flow target (at least N per year) "
                          "has a period, not a deadline"]
    assert counts() == before
    assert plan.targets.get(code="T06").deadline_year is None


def test_plan_for_an_unknown_region_is_refused(db: Any, counts: Any) -> None:
    # Given an empty database: the plan's region 320400 was never loaded
    before = counts()
    # When the plan is imported
    err = _refused_import(PLAN_FILE)
    # Then the import is refused naming plan.region, and nothing was written
    assert str(err) == f"{PLAN_FILE.name}: plan.region: unknown org unit '320400'; load the region file first"
    assert counts() == before == {"Plan": 0, "Target": 0, "Observation": 0, "AuditEntry": 0}


# -- the API -------------------------------------------------------------------------------------

def _post(client: Any, **fields: Any) -> Any:
    body = {"plan": PLAN, "indicator": "SCI_COUNSELLORS_TRAINED", "org_unit": "320412", "year": 2024,
            "value": 40, **fields}
    return client.post("/api/observations", data=json.dumps(body), content_type="application/json")


def test_api_unknown_org_unit_is_refused(users: dict[str, Any], api_client: Any, counts: Any) -> None:
    # Given the office's API client
    client = api_client(users["office"])
    before = counts()
    # When it posts a value for an org unit code that does not exist
    r = _post(client, org_unit="999999")
    # Then the answer is a 422 problem naming org_unit, and nothing was written
    assert r.status_code == 422
    assert r["Content-Type"] == PROBLEM
    assert r.json() == {"type": "about:blank", "title": "Invalid input", "status": 422,
                        "detail": "org_unit: unknown org unit code '999999'",
                        "errors": ["org_unit: unknown org unit code '999999'"]}
    assert counts() == before


def test_api_unknown_indicator_is_refused(users: dict[str, Any], api_client: Any, counts: Any) -> None:
    # Given the office's API client
    client = api_client(users["office"])
    before = counts()
    # When it posts a value for an indicator code the plan does not have
    r = _post(client, indicator="NO_SUCH_INDICATOR")
    # Then the answer is a 422 problem naming the indicator, and nothing was written
    assert r.status_code == 422
    assert r["Content-Type"] == PROBLEM
    assert r.json()["detail"] == f"indicator: unknown indicator code 'NO_SUCH_INDICATOR' in plan {PLAN}"
    assert counts() == before


def test_api_duplicate_submission_is_refused(users: dict[str, Any], api_client: Any, counts: Any) -> None:
    # Given 武进区 has submitted 40 counsellors for 2024 through the API
    client = api_client(users["wujin"])
    assert _post(client, value=40).status_code == 201
    first = Observation.objects.get()
    before = counts()
    # When it posts a second value for the same indicator, unit and year
    r = _post(client, value=45)
    # Then it is refused saying the value was already submitted, and the first value is unchanged
    assert r.status_code == 422
    assert r["Content-Type"] == PROBLEM
    assert "SCI_COUNSELLORS_TRAINED · 武进区 · 2024 was already Submitted" in r.json()["detail"]
    assert counts() == before
    again = Observation.objects.get()
    assert (again.pk, again.value, again.status) == (first.pk, 40, "submitted")


# -- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize("year", [2019, 2036])
def test_period_outside_the_plan_years_is_refused(users: dict[str, Any], report: Any, counts: Any,
                                                  year: int) -> None:
    # Given the plan runs 2021–2035
    before = counts()
    # When 武进区 reports for a year outside it
    with pytest.raises(InputError) as info:
        report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", year, 40)
    # Then the period is named as outside the plan years, and nothing was written
    assert info.value.errors == [f"Period {year} is outside the plan years 2021–2035."]
    assert counts() == before


def test_future_year_is_refused(users: dict[str, Any], report: Any, counts: Any) -> None:
    # Given next year, which is inside the plan years
    year = timezone.localdate().year + 1
    assert year <= 2035
    before = counts()
    # When 武进区 reports for it
    with pytest.raises(InputError) as info:
        report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", year, 40)
    # Then it is refused as in the future, and nothing was written
    assert info.value.errors == [f"Period {year} is in the future."]
    assert counts() == before


def test_non_numeric_value_is_refused(users: dict[str, Any], report: Any, counts: Any) -> None:
    before = counts()
    # When 武进区 reports "abc" as a number of counsellors
    with pytest.raises(InputError) as info:
        report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, "abc")
    # Then the error names the indicator and the value, and nothing was written
    assert info.value.errors == ["SCI_COUNSELLORS_TRAINED: expected a number, got 'abc'."]
    assert counts() == before


def test_rate_above_100_percent_is_refused(users: dict[str, Any], report: Any, counts: Any) -> None:
    before = counts()
    # When 武进区 reports a literacy rate of 120 %
    with pytest.raises(InputError) as info:
        report(users["wujin"], "LIT_RATE", "320412", 2024, "120%")
    # Then it is refused as above the indicator's maximum, and nothing was written
    assert info.value.errors == ["LIT_RATE: the value must be at most 100.0, got 120.0."]
    assert counts() == before


def test_negative_count_is_refused(users: dict[str, Any], report: Any, counts: Any) -> None:
    before = counts()
    # When 武进区 reports a negative number of counsellors
    with pytest.raises(InputError) as info:
        report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, -5)
    # Then it is refused as below the minimum 0, and nothing was written
    assert info.value.errors == ["SCI_COUNSELLORS_TRAINED: the value must be at least 0.0, got -5.0."]
    assert counts() == before


def test_district_value_above_the_city_total_is_refused(users: dict[str, Any], report: Any,
                                                        counts: Any) -> None:
    # Given the city has submitted 10 municipal model schools for 2024 (district_not_above_city applies)
    report(users["office"], "SCHOOLS_SCI_CITY", "320400", 2024, 10)
    before = counts()
    # When 武进区 reports 12 for the same year
    with pytest.raises(InputError) as info:
        report(users["wujin"], "SCHOOLS_SCI_CITY", "320412", 2024, 12)
    # Then it is refused naming the city total, and nothing was written
    assert info.value.errors == [
        "SCHOOLS_SCI_CITY: 12.0 is above the total 10.0 already reported for 常州市."]
    assert counts() == before


def test_a_big_jump_needs_a_comment(users: dict[str, Any], report: Any, counts: Any) -> None:
    # Given 武进区 reported 40 counsellors in 2023 (the indicator allows a 50 % change without comment)
    report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2023, 40)
    before = counts()
    # When it reports 100 for 2024 without a comment
    with pytest.raises(InputError) as info:
        report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 100)
    # Then it is refused asking for an explanation, and nothing was written
    assert info.value.errors == [
        "SCI_COUNSELLORS_TRAINED: 100.0 differs from 40.0 in 2023 by 150% (more than 50.0%); "
        "explain the change in a comment."]
    assert counts() == before
    # But with a comment the same value is accepted
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 100, comment="新增两所培训基地")
    assert (obs.value, obs.status, obs.comment) == (100, "submitted", "新增两所培训基地")


# -- Excel ---------------------------------------------------------------------------------------

GOOD = {"SCI_COUNSELLORS_TRAINED": 40, "HQ_FARMERS": 900, "RURAL_TECH_TALENT": 35}


def test_non_numeric_value_in_excel_is_refused(users: dict[str, Any], plan: Plan, counts: Any) -> None:
    # Given 武进区's template with "abc" as the number of counsellors
    wb = template_of(plan, users["wujin"])
    fill(wb, {"SCI_COUNSELLORS_TRAINED": "abc"})
    row = row_of(wb, "SCI_COUNSELLORS_TRAINED")
    before = counts()
    # When it is uploaded
    with pytest.raises(InputError) as info:
        excel.template_upload(user=users["wujin"], content=xlsx(wb))
    # Then the error names the row and column, and nothing was written
    assert info.value.errors == [
        f"Row {row}, column E: SCI_COUNSELLORS_TRAINED: expected a number, got 'abc'."]
    assert counts() == before


def _tamper_meta(wb: Any) -> None:
    meta = json.loads(wb[excel.META]["A1"].value)
    meta["unit"] = "320411"
    wb[excel.META]["A1"] = json.dumps(meta, ensure_ascii=False)


def _tamper_code(wb: Any) -> None:
    wb[excel.SHEET].cell(row=row_of(wb, "HQ_FARMERS"), column=1, value="LIT_RATE")


def _tamper_add_row(wb: Any) -> None:
    ws = wb[excel.SHEET]
    row = ws.max_row + 1
    ws.cell(row=row, column=1, value="SCI_BASES_PROV")
    ws.cell(row=row, column=5, value=3)


@pytest.mark.parametrize(("tamper", "message"), [
    (_tamper_meta, "The template's control data was changed (signature mismatch). Download a new template."),
    (_tamper_code, "Row {row}, column A: expected indicator code HQ_FARMERS, found 'LIT_RATE'; the template "
                   "was edited outside the yellow columns."),
    (_tamper_add_row, "Row {end}: rows were added to the template; only the listed indicators can be "
                      "reported."),
], ids=["control-sheet", "indicator-code", "added-row"])
def test_tampered_excel_template_is_refused(users: dict[str, Any], plan: Plan, counts: Any,
                                            tamper: Callable[[Any], None], message: str) -> None:
    # Given 武进区's template with good values, then tampered with
    wb = template_of(plan, users["wujin"])
    fill(wb, GOOD)
    row, end = row_of(wb, "HQ_FARMERS"), wb[excel.SHEET].max_row + 1
    tamper(wb)
    before = counts()
    # When it is uploaded
    with pytest.raises(InputError) as info:
        excel.template_upload(user=users["wujin"], content=xlsx(wb))
    # Then it is refused as tampered, and no observation was saved
    assert info.value.errors[0] == message.format(row=row, end=end)
    assert counts() == before
    assert not Observation.objects.exists()


def test_upload_that_is_not_xlsx_is_refused(users: dict[str, Any], counts: Any) -> None:
    before = counts()
    # When a CSV file is uploaded as a template
    with pytest.raises(InputError) as info:
        excel.template_upload(user=users["wujin"], content="指标代码,本期值\nHQ_FARMERS,900\n".encode())
    # Then it is refused as not an .xlsx file, and nothing was written
    assert str(info.value) == "template.xlsx is not an Excel .xlsx file."
    assert counts() == before


def test_excel_upload_with_one_bad_row_saves_nothing(users: dict[str, Any], plan: Plan, counts: Any) -> None:
    # Given 武进区's template with three good rows and a literacy rate of 120 %
    wb = template_of(plan, users["wujin"])
    fill(wb, {**GOOD, "LIT_RATE": 120})
    row = row_of(wb, "LIT_RATE")
    before = counts()
    # When it is uploaded
    with pytest.raises(InputError) as info:
        excel.template_upload(user=users["wujin"], content=xlsx(wb))
    # Then only the bad row is reported, and none of the good rows was saved
    assert info.value.errors == [
        f"Row {row}, column E: LIT_RATE: the value must be at most 100.0, got 120.0."]
    assert counts() == before
    assert not Observation.objects.exists()
    # And the same template without the bad row is accepted whole
    fill(wb, {"LIT_RATE": None})
    saved = excel.template_upload(user=users["wujin"], content=xlsx(wb))
    assert sorted((o.indicator.code, o.value, o.status, o.source) for o in saved) == sorted(
        (code, value, "submitted", "excel") for code, value in GOOD.items())
