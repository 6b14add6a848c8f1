"""Org-unit and department scope: a district reporter can neither read nor change another district's
data, through services, pages or the API; department reporters report only their indicators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import PASSWORD
from kepu.core.errors import PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.plans import excel
from kepu.plans.models import Observation, Plan
from kepu.plans.selectors import responsible_codes
from kepu.plans.services import observation_approve
from tests.conftest import fill, template_of, xlsx

pytestmark = pytest.mark.usefixtures("english")

PLAN = "changzhou-2021-2035"


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def xinbei_obs(users: dict[str, Any], report: Any) -> Observation:
    """新北区's submitted count of counsellors for 2024."""
    obs: Observation = report(users["xinbei"], "SCI_COUNSELLORS_TRAINED", "320411", 2024, 25)
    return obs


def test_reporter_cannot_save_for_another_district(users: dict[str, Any], report: Any, counts: Any) -> None:
    before = counts()
    # When 武进区's reporter saves a value for 新北区
    with pytest.raises(PermissionDenied, match="You may not report SCI_COUNSELLORS_TRAINED for 新北区"):
        report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320411", 2024, 25)
    # Then nothing was written
    assert counts() == before


def test_report_page_for_another_district_is_forbidden(users: dict[str, Any]) -> None:
    client = _login("wujin")
    # When 武进区's reporter opens the reporting page for 新北区
    r = client.get("/report/?unit=320411")
    # Then it is forbidden, while its own district's page opens
    assert r.status_code == 403
    assert client.get("/report/?unit=320412").status_code == 200


def test_status_grid_shows_only_the_visible_districts(users: dict[str, Any]) -> None:
    # When 武进区's reporter and the office open the dashboard
    wujin_page = _login("wujin").get("/").content.decode()
    office_page = _login("office").get("/").content.decode()

    def grid_header(html: str) -> str:
        start = html.index('data-testid="status-grid"')
        return html[start:html.index("</thead>", start)]

    # Then 武进区 sees its own column only, and no 新北区 anywhere on the page
    assert "武进区" in grid_header(wujin_page)
    assert "新北区" not in grid_header(wujin_page)
    assert "新北区" not in wujin_page
    # And the office sees a 新北区 column
    assert "新北区" in grid_header(office_page)
    assert "武进区" in grid_header(office_page)


def test_observation_of_another_district_is_not_found(xinbei_obs: Observation) -> None:
    # When 武进区's reporter opens 新北区's observation
    r = _login("wujin").get(f"/observations/{xinbei_obs.pk}/")
    # Then it does not exist for them, while 新北区's reporter can open it
    assert r.status_code == 404
    assert _login("xinbei").get(f"/observations/{xinbei_obs.pk}/").status_code == 200


def test_api_lists_no_observations_of_another_district(users: dict[str, Any], xinbei_obs: Observation,
                                                       api_client: Any) -> None:
    url = f"/api/observations?plan={PLAN}&org_unit=320411"
    # When 武进区's token lists 新北区's observations
    r = api_client(users["wujin"]).get(url)
    # Then there are none, while the office's token sees the one there is
    assert r.status_code == 200
    assert r.json() == {"count": 0, "items": []}
    assert api_client(users["office"]).get(url).json()["count"] == 1


def test_api_post_for_another_district_is_forbidden(users: dict[str, Any], api_client: Any,
                                                    counts: Any) -> None:
    client = api_client(users["wujin"])
    before = counts()
    # When 武进区's token posts a value for 新北区
    body = {"plan": PLAN, "indicator": "SCI_COUNSELLORS_TRAINED", "org_unit": "320411", "year": 2024,
            "value": 25}
    r = client.post("/api/observations", data=json.dumps(body), content_type="application/json")
    # Then it is forbidden as a problem, in the data-entry page's words, and nothing was written
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["detail"] == "You may not report for this unit."
    assert counts() == before


def test_reporter_cannot_approve_through_the_inbox(users: dict[str, Any], xinbei_obs: Observation,
                                                   report: Any) -> None:
    own = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    audit_before = AuditEntry.objects.count()
    client = _login("wujin")
    # When 武进区's reporter approves 新北区's value, and its own, through the review page
    other = client.post(f"/inbox/{xinbei_obs.pk}/", {"action": "approve"})
    mine = client.post(f"/inbox/{own.pk}/", {"action": "approve"})
    # Then the first does not exist for them, the second is forbidden
    assert other.status_code == 404
    assert mine.status_code == 403
    # And both values are still waiting for review, with nothing audited
    assert Observation.objects.get(pk=xinbei_obs.pk).status == "submitted"
    assert Observation.objects.get(pk=own.pk).status == "submitted"
    assert AuditEntry.objects.count() == audit_before


def test_excel_template_for_another_district_is_forbidden(users: dict[str, Any]) -> None:
    client = _login("wujin")
    # When 武进区's reporter downloads 新北区's template
    r = client.get("/report/template.xlsx?unit=320411&year=2024")
    # Then it is forbidden, while its own template downloads
    assert r.status_code == 403
    own = client.get("/report/template.xlsx?unit=320412&year=2024")
    assert own.status_code == 200
    assert own["Content-Disposition"] == 'attachment; filename="kepu-320412-2024.xlsx"'


def test_reporter_cannot_upload_another_districts_template(users: dict[str, Any], plan: Plan,
                                                           counts: Any) -> None:
    # Given 新北区's template for 2024, filled in
    wb = template_of(plan, users["xinbei"], unit="320411")
    fill(wb, {"HQ_FARMERS": 700})
    before = counts()
    # When 武进区's reporter uploads it
    with pytest.raises(PermissionDenied, match="You may not report HQ_FARMERS for 新北区"):
        excel.template_upload(user=users["wujin"], content=xlsx(wb))
    # Then nothing was written
    assert counts() == before


def test_audit_log_hides_other_districts(users: dict[str, Any], xinbei_obs: Observation, report: Any) -> None:
    report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    # When 武进区's reporter and the office open the audit log
    wujin_page = _login("wujin").get("/audit/").content.decode()
    office_page = _login("office").get("/audit/").content.decode()
    # Then 武进区 sees its own entries and none of 新北区's; the office sees both
    assert "培训科技辅导员人数 · 武进区 · 2024" in wujin_page
    assert "新北区" not in wujin_page
    assert "培训科技辅导员人数 · 新北区 · 2024" in office_page
    assert "培训科技辅导员人数 · 武进区 · 2024" in office_page


def test_department_reporter_reports_only_its_indicators(users: dict[str, Any], report: Any, plan: Plan,
                                                         counts: Any) -> None:
    # Given one indicator 市教育局 is responsible for, and one it is not (both with responsible units)
    indicators = list(plan.indicators.filter(active=True).order_by("id"))
    ours = next(i for i in indicators if "cz-edu" in responsible_codes(i))
    theirs = next(i for i in indicators if responsible_codes(i) and "cz-edu" not in responsible_codes(i))
    # When 市教育局's reporter reports the first for the city
    obs = report(users["edu"], ours.code, "320400", 2024, 3)
    # Then it is saved and submitted
    assert (obs.indicator, obs.org_unit.code, obs.status) == (ours, "320400", "submitted")
    before = counts()
    # But reporting the other is denied, and nothing is written
    with pytest.raises(PermissionDenied):
        report(users["edu"], theirs.code, "320400", 2024, 1)
    assert counts() == before


def test_viewer_cannot_save(users: dict[str, Any], report: Any, counts: Any) -> None:
    before = counts()
    # When the 武进区 viewer saves a value for 武进区
    with pytest.raises(PermissionDenied):
        report(users["viewer_wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40, submit=False)
    # Then nothing was written
    assert counts() == before


def test_viewer_cannot_approve(users: dict[str, Any], report: Any) -> None:
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    with pytest.raises(PermissionDenied):
        observation_approve(user=users["viewer_wujin"], observation=obs)
    assert Observation.objects.get(pk=obs.pk).status == "submitted"


def test_reviewer_approves_a_district_value(users: dict[str, Any], report: Any) -> None:
    # Given 武进区's submitted value
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    # When the city's reviewer approves it on the review page
    r = _login("reviewer").post(f"/inbox/{obs.pk}/", {"action": "approve", "comment": "同意"})
    # Then it is approved by them
    assert r.status_code == 302
    stored = Observation.objects.get(pk=obs.pk)
    assert (stored.status, stored.reviewed_by, stored.review_comment) == (
        "approved", users["reviewer"], "同意")
    wujin = OrgUnit.objects.get(code="320412")
    assert AuditEntry.objects.filter(action="observation.approve", object_id=str(obs.pk),
                                     actor=users["reviewer"], org_unit=wujin).exists()
