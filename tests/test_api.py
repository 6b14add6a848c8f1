"""The HTTP API: bearer-token auth, the read endpoints, submitting and reviewing, and an OpenAPI snapshot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kepu.core.models import ApiToken, AuditEntry
from kepu.core.services import api_token_create
from kepu.plans import selectors
from kepu.plans.models import Observation, Plan, TargetStatus

pytestmark = pytest.mark.usefixtures("english")

PLAN = "changzhou-2021-2035"
PROBLEM = "application/problem+json"
SNAPSHOT = Path(__file__).with_name("snapshots") / "openapi.json"
UNAUTHORIZED = {"type": "about:blank", "title": "Unauthorized", "status": 401,
                "detail": "Log in or send a valid token: Authorization: Bearer <token>."}


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _new_value(client: Client, **fields: Any) -> Any:
    body = {"plan": PLAN, "indicator": "SCI_COUNSELLORS_TRAINED", "org_unit": "320412", "year": 2024,
            "value": 40, **fields}
    return _post(client, "/api/observations", body)


# -- auth ----------------------------------------------------------------------------------------

def test_token_authenticates_and_is_stored_hashed(users: dict[str, Any]) -> None:
    # Given a token made for 武进区's reporter
    key = api_token_create(user=users["wujin"], name="nightly script")
    # When it is sent as a bearer token
    r = Client().get("/api/plans", headers={"Authorization": f"Bearer {key}"})
    # Then the request is served
    assert r.status_code == 200
    # And only a hash of the key is stored, with its use recorded
    token = ApiToken.objects.get(user=users["wujin"])
    assert key.startswith("kp_") and token.key_hash != key and key not in token.key_hash
    assert (token.name, token.prefix) == ("nightly script", key[:8])
    assert token.last_used_at is not None


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer kp_not-a-real-token"},
                                     {"Authorization": "Basic d3VqaW46eA=="}],
                         ids=["missing", "invalid", "not-bearer"])
def test_missing_or_invalid_token_is_401_problem(users: dict[str, Any], headers: dict[str, str]) -> None:
    # When the API is called without a valid token (and without a session)
    r = Client(headers={**headers, "Accept-Language": "en"}).get("/api/plans")
    # Then it answers 401 as a problem document
    assert r.status_code == 401
    assert r["Content-Type"] == PROBLEM
    assert r.json() == UNAUTHORIZED


def test_revoked_token_is_401(users: dict[str, Any]) -> None:
    # Given a token that was revoked
    key = api_token_create(user=users["wujin"], name="old")
    ApiToken.objects.filter(user=users["wujin"]).update(revoked=True)
    # When it is used
    r = Client(headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"}).get("/api/plans")
    # Then it is refused
    assert r.status_code == 401
    assert r.json() == UNAUTHORIZED


def test_unauthenticated_post_writes_nothing(users: dict[str, Any], counts: Any) -> None:
    before = counts()
    # When a value is posted without a token
    r = _new_value(Client(headers={"Accept-Language": "en"}))
    # Then it is refused and nothing was written
    assert r.status_code == 401
    assert counts() == before


# -- reading -------------------------------------------------------------------------------------

def test_list_plans(users: dict[str, Any], api_client: Any) -> None:
    r = api_client(users["viewer_wujin"]).get("/api/plans")
    assert r.status_code == 200
    assert r.json() == [{"code": PLAN, "name_zh": "常州市全民科学素质行动规划(2021-2035年)",
                         "name_en": "Changzhou Action Plan for Citizen Science Literacy (2021-2035)",
                         "region": "320400", "start_year": 2021, "end_year": 2035, "version": 1}]


def test_list_targets(users: dict[str, Any], api_client: Any) -> None:
    # When the targets of the plan are listed
    r = api_client(users["viewer_wujin"]).get(f"/api/plans/{PLAN}/targets")
    # Then all 25 (21 numeric, the rank goal and three balance goals) come in plan order, each as the
    # targets contract describes
    assert r.status_code == 200
    rows = r.json()
    assert [t["code"] for t in rows] == [f"T{i:02d}" for i in range(1, 26)]
    assert rows[0] == {
        "code": "T01", "name_zh": "公民具备科学素质比例",
        "name_en": "Share of citizens with basic science literacy", "kind": "rate", "value": 21.5,
        "unit": "%", "deadline_year": 2025, "per": None, "org_unit": "320400",
        "responsible_units": ["市全民科学素质工作领导小组各成员单位", "各辖市(区)政府"],
        "baseline": {"year": 2020, "value": 15.2, "history": [{"year": 2016, "value": 10.3}]},
        "indicator": "LIT_RATE",
        "denominator": None,  # T01 holds for every district as it is (cascade: same)
        "allocations": {code: 21.5 for code in ("320402", "320404", "320411", "320412", "320413", "320481",
                                                "changzhou_edz")},
    }
    # And years are whole numbers in the JSON, not 2016.0
    assert isinstance(rows[0]["baseline"]["history"][0]["year"], int)
    assert {(t["kind"], t["per"]) for t in rows} == {("rate", None), ("stock", None), ("coverage", None),
                                                     ("flow", "year")}
    # And an unknown plan is a 404 problem
    missing = api_client(users["viewer_wujin"]).get("/api/plans/no-such-plan/targets")
    assert missing.status_code == 404
    assert missing["Content-Type"] == PROBLEM
    assert missing.json()["detail"] == "No plan with code 'no-such-plan'."


def test_list_status_is_scoped(users: dict[str, Any], api_client: Any, plan: Plan) -> None:
    # When 武进区's reporter and the office list the stored statuses
    wujin = api_client(users["wujin"]).get(f"/api/plans/{PLAN}/status").json()
    office = api_client(users["office"]).get(f"/api/plans/{PLAN}/status").json()
    # Then 武进区 gets only its own 17 targets, the office every stored status
    assert {s["org_unit"] for s in wujin} == {"320412"}
    assert len(wujin) == TargetStatus.objects.filter(org_unit__code="320412").count() == 17
    assert len(office) == TargetStatus.objects.filter(target__plan=plan).count()
    t01 = next(s for s in wujin if s["target"] == "T01")
    assert (t01["target_value"], t01["evaluation_year"], t01["status"], t01["current"]) == (
        21.5, 2025, "no_data", None)
    # And the org_unit filter narrows the office's list to one unit
    city = api_client(users["office"]).get(f"/api/plans/{PLAN}/status?org_unit=320400").json()
    assert {s["org_unit"] for s in city} == {"320400"} and len(city) == 25


def test_list_observations_pages_with_count_and_items(users: dict[str, Any], api_client: Any,
                                                      report: Any) -> None:
    # Given three values from 武进区 and one from 新北区
    for code, value in (("SCI_COUNSELLORS_TRAINED", 40), ("HQ_FARMERS", 900), ("RURAL_TECH_TALENT", 30)):
        report(users["wujin"], code, "320412", 2024, value)
    report(users["xinbei"], "HQ_FARMERS", "320411", 2024, 700)
    client = api_client(users["office"])
    # When the office lists them, a page of two at a time
    first = client.get(f"/api/observations?plan={PLAN}&limit=2").json()
    second = client.get(f"/api/observations?plan={PLAN}&limit=2&offset=2").json()
    # Then each page has the total count and its items
    assert first["count"] == second["count"] == 4
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert {o["id"] for o in first["items"]}.isdisjoint({o["id"] for o in second["items"]})
    # And filters narrow the list
    farmers = client.get(f"/api/observations?plan={PLAN}&indicator=HQ_FARMERS&org_unit=320411").json()
    obs = Observation.objects.get(org_unit__code="320411")
    assert farmers == {"count": 1, "items": [{
        "id": obs.pk, "indicator": "HQ_FARMERS", "org_unit": "320411", "year": 2024, "quarter": 0,
        "value": 700.0, "se": None, "ci_low": None, "ci_high": None, "status": "submitted", "comment": "",
        "review_comment": "", "source": "manual"}]}
    assert client.get(f"/api/observations?plan={PLAN}&year=2023").json() == {"count": 0, "items": []}
    # And 武进区's reporter sees only its own three
    assert api_client(users["wujin"]).get(f"/api/observations?plan={PLAN}").json()["count"] == 3


# -- writing -------------------------------------------------------------------------------------

def test_post_creates_a_submitted_value(users: dict[str, Any], api_client: Any) -> None:
    client = api_client(users["wujin"])
    # When 武进区 posts 40 counsellors for 2024
    r = _new_value(client, comment="含两期线上培训")
    # Then the value is created and submitted for review
    assert r.status_code == 201
    obs = Observation.objects.get()
    assert r.json() == {
        "id": obs.pk, "indicator": "SCI_COUNSELLORS_TRAINED", "org_unit": "320412", "year": 2024,
        "quarter": 0, "value": 40.0, "se": None, "ci_low": None, "ci_high": None, "status": "submitted",
        "comment": "含两期线上培训", "review_comment": "", "source": "api"}
    assert (obs.status, obs.value, obs.source, obs.created_by, obs.submitted_by) == (
        "submitted", 40, "api", users["wujin"], users["wujin"])
    # And both steps are audited as the token's user
    assert list(AuditEntry.objects.filter(object_type="plans.observation").order_by("id")
                .values_list("actor__username", "action")) == [
        ("wujin", "observation.create"), ("wujin", "observation.submit")]


def test_post_with_submit_false_keeps_a_draft(users: dict[str, Any], api_client: Any) -> None:
    r = _new_value(api_client(users["wujin"]), submit=False)
    assert r.status_code == 201
    assert r.json()["status"] == "draft" == Observation.objects.get().status


def test_invalid_payload_is_422_problem(users: dict[str, Any], api_client: Any, counts: Any) -> None:
    client = api_client(users["wujin"])
    before = counts()
    # When the payload misses the year and has quarter 7
    r = _post(client, "/api/observations", {"plan": PLAN, "indicator": "HQ_FARMERS", "org_unit": "320412",
                                            "value": 1, "quarter": 7})
    # Then it is a 422 problem naming both fields, and nothing was written
    assert r.status_code == 422
    assert r["Content-Type"] == PROBLEM
    errors = r.json()["errors"]
    assert any(e.startswith("body.payload.year:") for e in errors), errors
    assert any(e.startswith("body.payload.quarter:") for e in errors), errors
    assert counts() == before


def test_approve_endpoint(users: dict[str, Any], api_client: Any, report: Any) -> None:
    # Given 武进区's submitted value
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    # When 武进区's own token tries to approve it
    denied = _post(api_client(users["wujin"]), f"/api/observations/{obs.pk}/approve", {})
    # Then that is forbidden and the value still waits
    assert denied.status_code == 403
    assert denied["Content-Type"] == PROBLEM
    assert Observation.objects.get(pk=obs.pk).status == "submitted"
    # When the reviewer's token approves it
    r = _post(api_client(users["reviewer"]), f"/api/observations/{obs.pk}/approve", {"comment": "同意"})
    # Then it is approved
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["review_comment"]) == ("approved", "同意")
    stored = Observation.objects.get(pk=obs.pk)
    assert (stored.status, stored.reviewed_by) == ("approved", users["reviewer"])
    # And approving it again is refused
    again = _post(api_client(users["reviewer"]), f"/api/observations/{obs.pk}/approve", {})
    assert again.status_code == 422
    assert "only submitted values can be reviewed" in again.json()["detail"]


def test_return_endpoint_needs_a_comment(users: dict[str, Any], api_client: Any, report: Any) -> None:
    # Given 武进区's submitted value and the reviewer's client
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    client = api_client(users["reviewer"])
    # When the reviewer returns it without a comment
    r = _post(client, f"/api/observations/{obs.pk}/return", {})
    # Then that is refused and the value still waits
    assert r.status_code == 422
    assert r.json()["detail"] == "Say why the value is returned: a comment is required."
    assert Observation.objects.get(pk=obs.pk).status == "submitted"
    # When it returns it with a comment
    r = _post(client, f"/api/observations/{obs.pk}/return", {"comment": "请附培训名单"})
    # Then it is back with the reporter
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["review_comment"]) == ("returned", "请附培训名单")
    # And the reporter can correct and resubmit it through the API
    wujin = api_client(users["wujin"])
    assert _post(wujin, f"/api/observations/{obs.pk}/submit", {}).json()["status"] == "submitted"


def test_review_of_an_unknown_observation_is_404(users: dict[str, Any], api_client: Any) -> None:
    r = _post(api_client(users["reviewer"]), "/api/observations/999999/approve", {})
    assert r.status_code == 404
    assert r.json()["detail"] == "No observation 999999 in your scope."


# -- the API offers what the data-entry page offers, refused in the page's words ------------------

def test_a_town_unit_is_refused_as_the_page_refuses_it(users: dict[str, Any], api_client: Any,
                                                       counts: Any) -> None:
    client = api_client(users["wujin"])
    before = counts()
    # When 武进区's reporter posts a value for one of its towns (南夏墅街道), which the page never offers
    r = _new_value(client, org_unit="320412-L01")
    # Then the API refuses it as a 403 problem, and nothing was written
    assert r.status_code == 403
    assert r["Content-Type"] == PROBLEM
    assert counts() == before
    # And in the very words of the data-entry page asked for that unit
    page = Client(headers={"Accept-Language": "en"})
    page.force_login(users["wujin"])
    refused = page.get("/report/?unit=320412-L01")
    assert refused.status_code == 403
    assert r.json()["detail"] == "You may not report for this unit."
    assert r.json()["detail"] in refused.content.decode()


def test_a_city_only_target_is_refused_for_a_district(users: dict[str, Any], api_client: Any,
                                                      counts: Any) -> None:
    client = api_client(users["wujin"])
    before = counts()
    # Given T02 (SCHOOLS_SCI_PROV) is a city-wide target with no district allocation
    # When 武进区's reporter posts a value for it for 武进区
    r = _new_value(client, indicator="SCHOOLS_SCI_PROV")
    # Then it is refused and nothing was written
    assert r.status_code == 403
    assert r["Content-Type"] == PROBLEM
    assert r.json()["detail"] == "You may not report SCHOOLS_SCI_PROV for 武进区."
    assert counts() == before
    # And the data-entry page does not offer it to them either, while the office gets it for the city
    page = Client()
    page.force_login(users["wujin"])
    assert 'name="v_SCHOOLS_SCI_PROV"' not in page.get("/report/?unit=320412").content.decode()
    assert 'name="v_SCI_COUNSELLORS_TRAINED"' in page.get("/report/?unit=320412").content.decode()
    office = _new_value(api_client(users["office"]), indicator="SCHOOLS_SCI_PROV", org_unit="320400", value=3)
    assert office.status_code == 201, office.json()


def test_a_department_reports_only_its_own_indicators(users: dict[str, Any], api_client: Any,
                                                      plan: Plan) -> None:
    # Given an indicator the data-entry page does not offer the education bureau's reporter
    offered = {i.code for i in selectors.reportable_indicators(plan, users["edu"], plan.region)}
    other = next(i.code for i in plan.indicators.order_by("code") if i.code not in offered)
    # When they post a value for it through the API
    r = _new_value(api_client(users["edu"]), indicator=other, org_unit="320400", value=5)
    # Then it is refused like any indicator the page would not offer, saying why (rights follow tasks)
    assert r.status_code == 403
    name = plan.indicators.get(code=other).name_en
    assert r.json()["detail"] == (
        f"Changzhou Municipal Education Bureau is not a lead or supporting unit of any task that measures "
        f"“{name}” ({other}), so it cannot report it."
    )


# -- absurd input is a 4xx problem, never a 500 ----------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ("offset=100000000000000000000", "query.offset"),
    ("offset=-1", "query.offset"),
    ("limit=0", "query.limit"),
    ("limit=1000000", "query.limit"),
    ("year=100000000000000000000", "query.year"),
    ("status=lost", "query.status"),
    ("indicator=A%00B", "query.indicator"),
    ("org_unit=" + "9" * 65, "query.org_unit"),
])
def test_absurd_list_parameters_are_422(users: dict[str, Any], api_client: Any, query: str, field: str) -> None:
    r = api_client(users["office"]).get(f"/api/observations?plan={PLAN}&{query}")
    assert r.status_code == 422
    assert r["Content-Type"] == PROBLEM
    assert any(e.startswith(f"{field}:") for e in r.json()["errors"]), r.json()


def test_a_year_outside_the_plan_is_422(users: dict[str, Any], api_client: Any) -> None:
    client = api_client(users["office"])
    # When values are listed for a year the plan (2021–2035) does not cover
    r = client.get(f"/api/observations?plan={PLAN}&year=2019")
    # Then the answer says so, in the words the page uses for such a period
    assert r.status_code == 422
    assert r.json()["detail"] == "Period 2019 is outside the plan years 2021–2035."
    # And the plan's own first and last years are fine
    for year in (2021, 2035):
        assert client.get(f"/api/observations?plan={PLAN}&year={year}").status_code == 200


@pytest.mark.parametrize("fields", [
    {"year": 100000000000000000000},
    {"year": 2019},
    {"quarter": 100000000000000000000},
    {"comment": "含\x00空字符"},
    {"value": "4\x000"},
    {"value": "1e400"},
    {"plan": "changzhou\x00"},
    {"org_unit": "../320412"},
    {"indicator": "X" * 65},
], ids=["huge-year", "year-before-plan", "huge-quarter", "nul-comment", "nul-value", "overflowing-value",
        "nul-plan", "slash-unit", "long-indicator"])
def test_absurd_values_are_422_and_write_nothing(users: dict[str, Any], api_client: Any, counts: Any,
                                                 fields: dict[str, Any]) -> None:
    client = api_client(users["wujin"])
    before = counts()
    r = _new_value(client, **fields)
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == PROBLEM
    assert counts() == before


def test_a_nul_in_a_comment_is_refused_by_page_and_api_alike(users: dict[str, Any], api_client: Any,
                                                              counts: Any) -> None:
    client = api_client(users["wujin"])
    page = Client(headers={"Accept-Language": "en"})
    page.force_login(users["wujin"])
    before = counts()
    # When a comment with a NUL byte (which PostgreSQL cannot store) is sent through the API and the page
    api = _new_value(client, comment="含\x00空字符")
    entry = page.post("/report/?unit=320412&year=2024", {"unit": "320412", "year": "2024",
                                                         "v_SCI_COUNSELLORS_TRAINED": "40",
                                                         "c_SCI_COUNSELLORS_TRAINED": "含\x00空字符"})
    # Then both refuse it as invalid input (not a 500), and nothing was written
    assert (api.status_code, api["Content-Type"]) == (422, PROBLEM)
    assert entry.status_code == 422
    assert "the comment contains an invisible NUL character" in entry.content.decode()
    assert counts() == before


def test_an_absurd_observation_id_is_a_problem(users: dict[str, Any], api_client: Any) -> None:
    client = api_client(users["reviewer"])
    for obs_id in ("0", "100000000000000000000", "abc"):
        r = _post(client, f"/api/observations/{obs_id}/approve", {})
        assert (r.status_code, r["Content-Type"]) == (422, PROBLEM), obs_id


def test_a_review_body_that_is_not_an_object_approves_nothing(users: dict[str, Any], api_client: Any,
                                                              report: Any) -> None:
    # Given 武进区's submitted value
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    # When the reviewer sends a JSON string instead of {"comment": …}
    r = api_client(users["reviewer"]).post(f"/api/observations/{obs.pk}/approve", data='"ok"',
                                           content_type="application/json")
    # Then it is a 400 problem and the value still waits
    assert (r.status_code, r["Content-Type"]) == (400, PROBLEM)
    assert Observation.objects.get(pk=obs.pk).status == "submitted"


def test_malformed_oversized_and_misdirected_requests_are_problems(users: dict[str, Any], api_client: Any,
                                                                   settings: Any) -> None:
    client = api_client(users["wujin"])
    # A body that is not JSON, or not a JSON object, is a 400 problem
    for body in ("{not json", '"a string"', "[]"):
        r = client.post("/api/observations", data=body, content_type="application/json")
        assert (r.status_code, r["Content-Type"]) == (400, PROBLEM), body
    # A body over Django's upload limit is a 413 problem
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = _new_value(client, comment="长" * 2000)
    assert (r.status_code, r["Content-Type"]) == (413, PROBLEM)
    # An unknown path under /api/ is a 404 problem, not the site's HTML page
    r = client.get("/api/no-such-thing")
    assert (r.status_code, r["Content-Type"]) == (404, PROBLEM)
    # A method an endpoint does not have is a 405 naming the allowed ones
    r = client.delete("/api/plans")
    assert r.status_code == 405
    assert r["Allow"] == "GET"


def test_session_requests_need_csrf_and_anonymous_ones_are_401(users: dict[str, Any], counts: Any) -> None:
    before = counts()
    # Given a browser logged in to the site, whose POST carries no CSRF token
    browser = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    browser.force_login(users["wujin"])
    r = _new_value(browser)
    # Then it is a 403 problem
    assert (r.status_code, r["Content-Type"]) == (403, PROBLEM)
    assert r.json()["detail"] == "CSRF check Failed"
    # And a POST with neither session nor token is simply unauthenticated
    r = _new_value(Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"}))
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    assert counts() == before


# -- OpenAPI -------------------------------------------------------------------------------------

def test_openapi_matches_the_snapshot(db: Any) -> None:
    # When the OpenAPI document is fetched
    r = Client().get("/api/openapi.json")
    assert r.status_code == 200
    document = r.json()
    # Then it equals the committed snapshot (KEPU_UPDATE_SNAPSHOTS=1 rewrites the snapshot instead)
    if os.environ.get("KEPU_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing; run the tests once with KEPU_UPDATE_SNAPSHOTS=1"
    assert document == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_operation_documents_its_problem_responses(db: Any) -> None:
    document = Client().get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "422"} | ({"413"} if "requestBody" in operation else set())
            assert expected <= set(operation["responses"]), (method, path)
            for status in expected:
                content = operation["responses"][status]["content"]
                assert content == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}, (method, path)


def test_no_two_api_schemas_share_a_name() -> None:
    """OpenAPI names a component after its class: two schema classes of one name (facilities' and
    funding's ApplicationIn, say) would be documented, and fuzzed, as one, and one endpoint's docs
    would describe the other's body."""
    from collections import defaultdict

    from ninja import Schema

    import kepu.api  # noqa: F401  (every router, so every schema, is imported)

    def subclasses(cls: type) -> list[type]:
        return [s for c in cls.__subclasses__() for s in (c, *subclasses(c))]

    modules: dict[str, set[str]] = defaultdict(set)
    for cls in subclasses(Schema):
        if cls.__module__.startswith("kepu."):
            modules[cls.__name__].add(cls.__module__)
    assert {name: sorted(mods) for name, mods in modules.items() if len(mods) > 1} == {}
