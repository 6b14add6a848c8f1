"""Reporting rights follow the plan's tasks: a department reporter reports an indicator only if their
department is a lead (牵头) or supporting (配合) unit of a task that measures it, through the page,
the Excel template and the API alike. The target page and `kepu plan targets --json` name those
units; the plan's leading body (市政府) and office (综合协调, 牵头沟通联络) are kept as the plan says."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from conftest import PASSWORD
from kepu.core.errors import PermissionDenied
from kepu.core.models import OrgUnit
from kepu.plans import excel
from kepu.plans.models import Observation, Plan
from kepu.plans.selectors import reportable_indicators
from tests.conftest import fill, template_of, xlsx

FARMERS = "HQ_FARMERS"


@pytest.fixture
def reporters(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    return {
        **users,
        "agri": make_user("agri", ("department_reporter", "320400", "cz-agri")),
        "meteo": make_user("meteo", ("department_reporter", "320400", "cz-meteo")),
    }


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def _offered(plan: Plan, user: Any, unit: str = "320400") -> set[str]:
    return {i.code for i in reportable_indicators(plan, user, OrgUnit.objects.get(code=unit))}


def test_education_bureau_cannot_report_farmers_but_agriculture_can(
    plan: Plan, reporters: dict[str, Any], report: Any, counts: Any
) -> None:
    before = counts()
    # When 市教育局's reporter reports high-quality farmers for the city
    with pytest.raises(PermissionDenied) as refused:
        report(reporters["edu"], FARMERS, "320400", 2024, 4600)
    # Then it is refused, naming the department, the indicator and why, and nothing is written
    assert str(refused.value) == (
        "市教育局不是衡量“培育高素质农民人数”(HQ_FARMERS)的任何任务的牵头或配合单位，不能填报该指标。"
    )
    assert counts() == before
    # While 市农业农村局's reporter (lead unit of the farmer-training task) reports it
    obs = report(reporters["agri"], FARMERS, "320400", 2024, 4600)
    assert (obs.indicator.code, obs.org_unit.code, obs.status, obs.value) == (FARMERS, "320400", "submitted", 4600)


def test_meteorological_bureau_cannot_report_farmers(plan: Plan, reporters: dict[str, Any], report: Any,
                                                      counts: Any) -> None:
    # 市气象局 is a responsible unit of the farmers' section, but on no task that counts farmers
    before = counts()
    with pytest.raises(PermissionDenied, match="市气象局不是衡量"):
        report(reporters["meteo"], FARMERS, "320400", 2024, 4600)
    assert counts() == before
    assert FARMERS not in _offered(plan, reporters["meteo"])


def test_forms_offer_only_what_the_task_units_may_report(plan: Plan, reporters: dict[str, Any]) -> None:
    edu, agri = _offered(plan, reporters["edu"]), _offered(plan, reporters["agri"])
    # 市教育局 gets its own school indicators, never farmers; 市农业农村局 gets farmers, never schools
    assert "SCI_COUNSELLORS_TRAINED" in edu and FARMERS not in edu
    assert FARMERS in agri and "SCI_COUNSELLORS_TRAINED" not in agri
    # The reporting page lists the same
    edu_page = _login("edu").get("/report/?unit=320400").content.decode()
    agri_page = _login("agri").get("/report/?unit=320400").content.decode()
    assert f'name="v_{FARMERS}"' not in edu_page and 'name="v_SCI_COUNSELLORS_TRAINED"' in edu_page
    assert f'name="v_{FARMERS}"' in agri_page


def test_report_page_refuses_a_value_the_form_does_not_offer(plan: Plan, reporters: dict[str, Any],
                                                             counts: Any) -> None:
    before = counts()
    # When 市教育局's reporter posts farmers (with a value they may report) to the page
    r = _login("edu").post("/report/?unit=320400", {
        "unit": "320400", "year": "2024", f"v_{FARMERS}": "4600", "v_SCI_COUNSELLORS_TRAINED": "320", "submit": "1",
    })
    # Then the page says why, and saves nothing at all
    assert r.status_code == 200
    assert "市教育局不是衡量“培育高素质农民人数”(HQ_FARMERS)的任何任务的牵头或配合单位" in r.content.decode()
    assert counts() == before


def test_excel_template_follows_tasks(plan: Plan, reporters: dict[str, Any], counts: Any) -> None:
    # 市教育局's template has no farmers row
    edu_rows = {c.value for c in template_of(plan, reporters["edu"], unit="320400")[excel.SHEET]["A"]}
    assert FARMERS not in edu_rows and "SCI_COUNSELLORS_TRAINED" in edu_rows
    # When 市教育局's reporter uploads the office's template with farmers filled in
    wb = template_of(plan, reporters["office"], unit="320400")
    fill(wb, {FARMERS: 4600})
    before = counts()
    with pytest.raises(PermissionDenied, match=r"市教育局不是衡量“培育高素质农民人数”\(HQ_FARMERS\)"):
        excel.template_upload(user=reporters["edu"], content=xlsx(wb))
    # Then nothing is written; 市农业农村局's reporter uploads the same file
    assert counts() == before
    saved = excel.template_upload(user=reporters["agri"], content=xlsx(wb))
    assert [(o.indicator.code, o.value, o.source) for o in saved] == [(FARMERS, 4600, "excel")]


def test_api_follows_tasks(plan: Plan, reporters: dict[str, Any], api_client: Any, counts: Any) -> None:
    body = {"plan": plan.code, "indicator": FARMERS, "org_unit": "320400", "year": 2024, "value": 4600}
    edu, agri = api_client(reporters["edu"]), api_client(reporters["agri"])
    before = counts()
    r = edu.post("/api/observations", body, content_type="application/json")
    assert r.status_code == 403
    assert r["Content-Type"].startswith("application/problem+json")
    assert "is not a lead or supporting unit of any task that measures" in r.json()["detail"]
    assert "HQ_FARMERS" in r.json()["detail"]
    assert counts() == before
    ok = agri.post("/api/observations", body, content_type="application/json")
    assert ok.status_code == 201
    assert Observation.objects.get(pk=ok.json()["id"]).created_by == reporters["agri"]


def test_district_reporters_keep_reporting_their_district(plan: Plan, reporters: dict[str, Any],
                                                          report: Any) -> None:
    # 各辖市(区)政府 is on the farmer-training task: 武进区's reporter reports its own farmers
    assert FARMERS in _offered(plan, reporters["wujin"], "320412")
    obs = report(reporters["wujin"], FARMERS, "320412", 2024, 600)
    assert (obs.org_unit.code, obs.status) == ("320412", "submitted")
    # but never another district's
    with pytest.raises(PermissionDenied, match="HQ_FARMERS") as refused:
        report(reporters["wujin"], FARMERS, "320411", 2024, 600)
    assert "新北区" in str(refused.value)


def test_target_page_shows_lead_and_supporting_units(plan: Plan, reporters: dict[str, Any]) -> None:
    target = plan.targets.get(indicator__code=FARMERS, code="T07")
    page = _login("edu").get(f"/targets/{target.code}/").content.decode()
    lead = page.split('data-testid="lead-units">')[1].split("</dd>")[0]
    support = page.split('data-testid="supporting-units">')[1].split("</dd>")[0]
    assert "市农业农村局" in lead and "市教育局" not in lead
    assert "市科协" in support and "市农业农村局" not in support and "市教育局" not in support
    # The plan's list ends in "等": marked as open
    assert ">等</span>" in support


def test_targets_json_names_lead_and_supporting_units(plan: Plan) -> None:
    out = StringIO()
    call_command("plan", "targets", "--json", stdout=out)
    rows = {r["code"]: r for r in json.loads(out.getvalue())}
    t07 = rows["T07"]
    assert t07["lead_units"] == ["市农业农村局"]
    assert "市科协" in t07["supporting_units"] and "市教育局" not in t07["supporting_units"]
    # every target keeps its other fields and gets both lists
    wanted = {"responsible_units", "quote", "cascade", "lead_units", "supporting_units"}
    assert all(wanted <= set(r) for r in rows.values())


def test_leading_body_and_office_as_the_plan_says(plan: Plan, reporters: dict[str, Any]) -> None:
    # 四、组织实施: 市政府统一领导本规划实施工作; the office 发挥综合协调作用,牵头沟通联络
    assert plan.leading_body_zh == "常州市人民政府"
    assert plan.leading_role_zh.startswith("市政府统一领导本规划实施工作")
    assert plan.office_zh == "常州市全民科学素质工作领导小组办公室"
    assert "牵头沟通联络" in plan.office_role_zh
    page = _login("office").get("/targets/T07/").content.decode()
    governance = page.split('data-testid="governance">')[1].split("</dd>")[0]
    assert "统一领导</strong> · 常州市人民政府" in governance
    assert "综合协调</strong> · 常州市全民科学素质工作领导小组办公室" in governance
    assert "牵头沟通联络" in governance
