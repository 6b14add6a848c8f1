"""The reporting workflow: draft → submitted → approved or returned; city after districts; audit;
status refresh; completeness; roll-up of district values to the city."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.plans import excel, selectors
from kepu.plans.models import Observation, Plan, TargetStatus
from kepu.plans.series import rollup_value
from kepu.plans.services import observation_approve, observation_return, observation_submit
from tests.conftest import fill, row_of, template_of, xlsx

pytestmark = pytest.mark.usefixtures("english")

Status = Observation.Status


def _history(obs: Observation) -> list[tuple[Any, str, str, dict[str, Any], str]]:
    return [(e.actor, e.actor_label, e.action, e.changes, e.comment) for e in
            AuditEntry.objects.filter(object_type="plans.observation", object_id=str(obs.pk)).order_by("id")]


def test_draft_submit_approve_locks_the_value(users: dict[str, Any], report: Any) -> None:
    wujin, reviewer = users["wujin"], users["reviewer"]
    # Given 武进区 saves 40 counsellors for 2024 as a draft
    obs = report(wujin, "SCI_COUNSELLORS_TRAINED", "320412", 2024, "40", submit=False)
    assert (obs.status, obs.value) == (Status.DRAFT, 40)
    # When it submits the draft
    obs = observation_submit(user=wujin, observation=obs)
    assert obs.status == Status.SUBMITTED and obs.submitted_by == wujin and obs.submitted_at is not None
    # And the reviewer approves it
    obs = observation_approve(user=reviewer, observation=obs, comment="核对无误")
    # Then the value is approved and locked
    stored = Observation.objects.get(pk=obs.pk)
    assert (stored.status, stored.locked, stored.reviewed_by, stored.review_comment) == (
        Status.APPROVED, True, reviewer, "核对无误")
    # And every step is in the audit log with its actor and old → new
    assert _history(obs) == [
        (wujin, "wujin", "observation.create", {"value": [None, 40.0], "status": [None, "draft"]}, ""),
        (wujin, "wujin", "observation.submit", {"status": ["draft", "submitted"]}, ""),
        (reviewer, "reviewer", "observation.approve", {"status": ["submitted", "approved"]}, "核对无误"),
    ]
    audit_before = AuditEntry.objects.count()
    # When 武进区 tries to save the approved value again
    with pytest.raises(InputError, match="was already Approved"):
        report(wujin, "SCI_COUNSELLORS_TRAINED", "320412", 2024, 55)
    # Then the value is unchanged and nothing was audited
    assert Observation.objects.get(pk=obs.pk).value == 40
    assert AuditEntry.objects.count() == audit_before
    # And it cannot be submitted or approved a second time
    with pytest.raises(InputError, match="cannot be submitted again"):
        observation_submit(user=wujin, observation=obs)
    with pytest.raises(InputError, match="only submitted values can be reviewed"):
        observation_approve(user=reviewer, observation=obs)


def test_returned_value_is_edited_and_resubmitted(users: dict[str, Any], report: Any) -> None:
    wujin, reviewer = users["wujin"], users["reviewer"]
    # Given 武进区 has submitted 40 counsellors for 2024
    obs = report(wujin, "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    audit_before = AuditEntry.objects.count()
    # When the reviewer tries to return it without a comment
    with pytest.raises(InputError, match="a comment is required"):
        observation_return(user=reviewer, observation=obs, comment="  ")
    # Then it stays submitted and nothing is audited
    assert Observation.objects.get(pk=obs.pk).status == Status.SUBMITTED
    assert AuditEntry.objects.count() == audit_before
    # When the reviewer returns it with a comment
    obs = observation_return(user=reviewer, observation=obs, comment="请核对培训名单")
    assert (obs.status, obs.review_comment) == (Status.RETURNED, "请核对培训名单")
    # And 武进区 corrects the value and submits it again
    obs = report(wujin, "SCI_COUNSELLORS_TRAINED", "320412", 2024, 45, comment="补录两期培训")
    # Then the corrected value is submitted for review
    stored = Observation.objects.get(pk=obs.pk)
    assert (stored.status, stored.value, stored.comment) == (Status.SUBMITTED, 45, "补录两期培训")
    assert obs.status == Status.SUBMITTED
    # And the audit log tells the whole story old → new
    assert _history(obs) == [
        (wujin, "wujin", "observation.create", {"value": [None, 40.0], "status": [None, "draft"]}, ""),
        (wujin, "wujin", "observation.submit", {"status": ["draft", "submitted"]}, ""),
        (reviewer, "reviewer", "observation.return", {"status": ["submitted", "returned"]}, "请核对培训名单"),
        (wujin, "wujin", "observation.update", {"value": [40.0, 45.0], "comment": ["", "补录两期培训"]},
         "补录两期培训"),
        (wujin, "wujin", "observation.submit", {"status": ["returned", "submitted"]}, ""),
    ]


def test_city_value_is_approved_only_after_all_districts(users: dict[str, Any], report: Any,
                                                         plan: Plan) -> None:
    office, reviewer = users["office"], users["reviewer"]
    # Given the city's submitted count of municipal model schools for 2024 (a target split over districts)
    districts = selectors.districts_of(plan)
    assert len(districts) == 7
    city = report(office, "SCHOOLS_SCI_CITY", "320400", 2024, 21)
    # And every district's value submitted, all approved except 武进区's
    by_unit = {d.code: report(office, "SCHOOLS_SCI_CITY", d.code, 2024, 3) for d in districts}
    for code, obs in by_unit.items():
        if code != "320412":
            observation_approve(user=reviewer, observation=obs)
    audit_before = AuditEntry.objects.count()
    # When the reviewer approves the city value
    with pytest.raises(InputError) as info:
        observation_approve(user=reviewer, observation=city)
    # Then it is refused naming the district still waiting, and the city value stays submitted
    assert str(info.value) == "Approve the districts first: 武进区 have no approved value for 2024."
    assert Observation.objects.get(pk=city.pk).status == Status.SUBMITTED
    assert AuditEntry.objects.count() == audit_before
    # When 武进区's value is approved too
    observation_approve(user=reviewer, observation=by_unit["320412"])
    # Then the city value can be approved
    assert observation_approve(user=reviewer, observation=city).status == Status.APPROVED


def test_approval_refreshes_the_stored_status(users: dict[str, Any], report: Any, plan: Plan,
                                              django_capture_on_commit_callbacks: Any) -> None:
    # Given 武进区 has no data yet for T06 (counsellors trained each year, judged on the current year)
    t06 = plan.targets.get(code="T06")
    wujin = OrgUnit.objects.get(code="320412")
    year = timezone.localdate().year
    before = TargetStatus.objects.get(target=t06, org_unit=wujin)
    assert (before.status, before.current, before.n_points, before.evaluation_year) == (
        "no_data", None, 0, year)
    # And has submitted 80 for this year, above its share of the 300
    obs = report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", year, 80)
    assert obs.value > before.target_value
    # When the reviewer approves it (the refresh runs once the transaction commits)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        observation_approve(user=users["reviewer"], observation=obs)
    assert len(callbacks) == 1
    # Then 武进区's stored status for T06 is met with the approved value
    after = TargetStatus.objects.get(target=t06, org_unit=wujin)
    assert (after.status, after.rule, after.current, after.current_year, after.n_points) == (
        "met", "met_already", 80, year, 1)
    # And 新北区, which reported nothing, still has no data
    xinbei = TargetStatus.objects.get(target=t06, org_unit__code="320411")
    assert (xinbei.status, xinbei.current) == ("no_data", None)


def test_completeness_counts_expected_received_and_approved(users: dict[str, Any], report: Any,
                                                            plan: Plan) -> None:
    wujin = users["wujin"]
    # Given 武进区 is expected to report every indicator with a target allocated to it
    expected = set(plan.targets.filter(active=True, allocations__org_unit__code="320412")
                   .values_list("indicator__code", flat=True))
    assert len(expected) == 17
    # And for 2025 it has one approved value, one submitted value and one draft
    approved = report(wujin, "SCI_COUNSELLORS_TRAINED", "320412", 2025, 80)
    observation_approve(user=users["reviewer"], observation=approved)
    report(wujin, "HQ_FARMERS", "320412", 2025, 900)
    report(wujin, "RURAL_TECH_TALENT", "320412", 2025, 30, submit=False)
    # When completeness is computed for 2025
    rows = {c.unit.code: c for c in selectors.completeness(plan, users["office"], 2025)}
    # Then 武进区 has 17 expected, 2 received (submitted or approved) and 1 approved
    wj = rows["320412"]
    assert (wj.expected, wj.received, wj.approved) == (17, 2, 1)
    # And 新北区 has received nothing
    assert (rows["320411"].expected, rows["320411"].received, rows["320411"].approved) == (17, 0, 0)
    # And 武进区's reporter sees only its own row
    assert [c.unit.code for c in selectors.completeness(plan, wujin, 2025)] == ["320412"]


def test_rollup_sums_counts_and_weights_rates_by_population(plan: Plan) -> None:
    wujin, xinbei = OrgUnit.objects.get(code="320412"), OrgUnit.objects.get(code="320411")
    assert (wujin.population, xinbei.population) == (1277487, 895000)
    # Given a sum indicator and the population-weighted literacy rate
    counsellors = plan.indicators.get(code="SCI_COUNSELLORS_TRAINED")
    rate = plan.indicators.get(code="LIT_RATE")
    # Then the city count is the sum of the districts
    assert rollup_value(counsellors, {wujin: 40, xinbei: 25}) == 65
    # And the city rate is the mean weighted by resident population
    expected = (20 * 1277487 + 10 * 895000) / (1277487 + 895000)
    assert rollup_value(rate, {wujin: 20, xinbei: 10}) == pytest.approx(expected, rel=1e-12)
    assert rollup_value(rate, {wujin: 20, xinbei: 10}) != 15  # not the plain mean
    # And nothing is rolled up from no values
    assert rollup_value(counsellors, {}) is None


def test_city_status_rolls_up_approved_district_values(users: dict[str, Any], report: Any, plan: Plan,
                                                       django_capture_on_commit_callbacks: Any) -> None:
    # Given every district has an approved count of municipal model schools for 2024 and the city none
    districts = selectors.districts_of(plan)
    values = {d.code: i + 1 for i, d in enumerate(districts)}
    with django_capture_on_commit_callbacks(execute=True):
        for code, value in values.items():
            obs = report(users["office"], "SCHOOLS_SCI_CITY", code, 2024, value)
            observation_approve(user=users["reviewer"], observation=obs)
    # Then the city's stored status for T03 is rolled up as the sum of the districts
    city = TargetStatus.objects.get(target__plan=plan, target__code="T03", org_unit=plan.region)
    assert (city.rolled_up, city.current, city.current_year) == (True, sum(values.values()), 2024)


def test_redownloaded_excel_template_saves_only_new_values(users: dict[str, Any], plan: Plan) -> None:
    wujin = users["wujin"]
    # Given 武进区 uploaded counsellors and farmers for 2024 through its Excel template
    wb = template_of(plan, wujin)
    fill(wb, {"SCI_COUNSELLORS_TRAINED": 40, "HQ_FARMERS": 900})
    first = excel.template_upload(user=wujin, content=xlsx(wb))
    assert sorted(o.status for o in first) == ["submitted", "submitted"]
    # And downloads the template again, which shows those submitted values
    wb = template_of(plan, wujin)
    assert wb[excel.SHEET].cell(row=row_of(wb, "HQ_FARMERS"), column=5).value == 900
    # When it adds rural talents and uploads it
    fill(wb, {"RURAL_TECH_TALENT": 30})
    saved = excel.template_upload(user=wujin, content=xlsx(wb))
    # Then only the new value is saved; the submitted ones are left as they are
    assert [(o.indicator.code, o.value, o.status) for o in saved] == [("RURAL_TECH_TALENT", 30, "submitted")]
    assert Observation.objects.filter(org_unit__code="320412", year=2024).count() == 3
    # And uploading it once more succeeds with nothing new to save
    assert excel.template_upload(user=wujin, content=xlsx(wb)) == []
    assert Observation.objects.filter(org_unit__code="320412", year=2024).count() == 3
    # But changing a submitted value in the template is refused, and nothing is saved
    fill(wb, {"HQ_FARMERS": 950, "AGRI_DEMO_ENTITIES": 150})
    with pytest.raises(InputError, match="HQ_FARMERS · 武进区 · 2024 was already Submitted"):
        excel.template_upload(user=wujin, content=xlsx(wb))
    assert Observation.objects.get(indicator__code="HQ_FARMERS", org_unit__code="320412").value == 900
    assert not Observation.objects.filter(indicator__code="AGRI_DEMO_ENTITIES").exists()


# -- the Excel round trip ------------------------------------------------------------------------------

def _demo_draft(plan: Plan, code: str, unit: str, year: int, value: float) -> Observation:
    """A draft written the way the demo writes one: directly, with no rule applied."""
    return Observation.objects.create(indicator=plan.indicators.get(code=code), org_unit=OrgUnit.objects.get(code=unit),
                                      year=year, quarter=0, value=value, source="demo")


def test_template_downloaded_and_uploaded_unchanged_succeeds(users: dict[str, Any], plan: Plan, report: Any) -> None:
    wujin, reviewer = users["wujin"], users["reviewer"]
    # Given 武进区 had 900 farmers trained in 2023 and a 2024 draft of 1,500 (a jump of 67 %, no comment)
    observation_approve(user=reviewer, observation=report(wujin, "HQ_FARMERS", "320412", 2023, 900))
    draft = _demo_draft(plan, "HQ_FARMERS", "320412", 2024, 1500)
    # When it downloads the 2024 template and uploads it unchanged
    saved = excel.template_upload(user=wujin, content=xlsx(template_of(plan, wujin)))
    # Then the pre-filled draft is submitted as it stood: it is not a new change, so no jump comment is asked for
    assert [(o.pk, o.value, o.status) for o in saved] == [(draft.pk, 1500, "submitted")]
    # But typing a new value with the same jump still needs a comment
    wb = template_of(plan, wujin, year=2024)
    fill(wb, {"RURAL_TECH_TALENT": 30})
    observation_approve(user=reviewer, observation=report(wujin, "RURAL_TECH_TALENT", "320412", 2023, 10))
    with pytest.raises(InputError, match=r"RURAL_TECH_TALENT: 30.0 differs from 10.0 in 2023 by 200%"):
        excel.template_upload(user=wujin, content=xlsx(wb))


def test_data_entry_page_submits_pre_filled_drafts(users: dict[str, Any], plan: Plan, report: Any,
                                                    client: Any) -> None:
    wujin = users["wujin"]
    observation_approve(user=users["reviewer"], observation=report(wujin, "HQ_FARMERS", "320412", 2023, 900))
    draft = _demo_draft(plan, "HQ_FARMERS", "320412", 2024, 1500)
    client.force_login(wujin)
    # When the page is submitted with the draft's value as the page shows it
    page = client.get("/report/?unit=320412&year=2024")
    assert 'name="v_HQ_FARMERS" value="1500.0"' in page.content.decode()
    r = client.post("/report/", {"unit": "320412", "year": "2024", "v_HQ_FARMERS": "1500.0", "submit": "1"})
    # Then it is submitted
    assert r.status_code == 302
    assert Observation.objects.get(pk=draft.pk).status == Status.SUBMITTED


# -- four eyes and the review queue -------------------------------------------------------------------

def test_nobody_approves_their_own_submission_office_included(users: dict[str, Any], report: Any,
                                                              make_user: Any) -> None:
    office = users["office"]
    # Given the office reports and submits a city value itself
    obs = report(office, "SCHOOLS_SCI_PROV", "320400", 2024, 4)
    audit_before = AuditEntry.objects.count()
    # When the same office admin tries to approve it
    with pytest.raises(PermissionDenied, match="was entered or submitted by you, so you may not approve it"):
        observation_approve(user=office, observation=obs)
    # Then it stays submitted and nothing was audited
    assert Observation.objects.get(pk=obs.pk).status == Status.SUBMITTED
    assert AuditEntry.objects.count() == audit_before
    # And a second office admin (the demo's office2) approves it
    office2 = make_user("office2", ("office_admin", "320400", None))
    assert observation_approve(user=office2, observation=obs).status == Status.APPROVED


def test_four_eyes_holds_in_the_api(users: dict[str, Any], report: Any, api_client: Any) -> None:
    obs = report(users["office"], "SCHOOLS_SCI_PROV", "320400", 2024, 4)
    r = api_client(users["office"]).post(f"/api/observations/{obs.pk}/approve", {"comment": ""},
                                         content_type="application/json")
    assert r.status_code == 403
    assert "may not approve it" in r.json()["detail"]
    assert Observation.objects.get(pk=obs.pk).status == Status.SUBMITTED


def test_demo_has_a_second_office_user() -> None:
    from kepu.plans.demo import DEMO_USERS

    office = [u for u, _n, roles in DEMO_USERS if ("office_admin", "320400", None) in roles]
    assert office == ["office", "office2"]


def test_review_queue_shows_reporter_last_year_and_change(users: dict[str, Any], report: Any, client: Any) -> None:
    wujin, office = users["wujin"], users["office"]
    wujin.first_name = "武进区 填报员"
    wujin.save()
    # Given 武进区's approved 2023 value and its submitted 2024 value with a comment
    observation_approve(user=users["reviewer"], observation=report(wujin, "HQ_FARMERS", "320412", 2023, 800))
    obs = report(wujin, "HQ_FARMERS", "320412", 2024, 1000, comment="新增两个培训点")
    own = report(office, "SCHOOLS_SCI_PROV", "320400", 2024, 4)
    client.force_login(office)
    # When the office opens its review queue
    html = client.get("/inbox/").content.decode()
    row = html[html.index(f'data-obs="{obs.pk}"'):]
    row = row[: row.index("</tr>")]
    # Then the row shows who reported it, last year's value and the change
    assert "武进区 填报员" in row
    assert re.search(r'data-testid="previous">800<', row)
    assert re.search(r'data-testid="change">\+200<div>\+25\.0%</div>', row)
    assert f'name="obs" value="{obs.pk}"' in row and 'value="approve"' in row
    # And its own submission can be returned but offers no approve button and no batch checkbox
    mine = html[html.index(f'data-obs="{own.pk}"'):]
    mine = mine[: mine.index("</tr>")]
    assert 'value="approve"' not in mine and 'name="obs"' not in mine
    assert "本人填报，需由另一位审核人批准" in mine


def test_batch_approve_asks_for_confirmation_first(users: dict[str, Any], report: Any, client: Any) -> None:
    wujin, xinbei = users["wujin"], users["xinbei"]
    a = report(wujin, "HQ_FARMERS", "320412", 2024, 1000)
    b = report(xinbei, "HQ_FARMERS", "320411", 2024, 900)
    client.force_login(users["reviewer"])
    # When the reviewer ticks both and presses 批准所选
    r = client.post("/inbox/approve/", {"obs": [a.pk, b.pk], "comment": "核对无误"})
    # Then a confirmation lists them, and nothing is approved yet
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="batch-confirm"' in html and "确认批准以下 2 项数据？" in html
    assert Observation.objects.filter(status=Status.SUBMITTED).count() == 2
    # When it confirms
    r = client.post("/inbox/approve/", {"obs": [a.pk, b.pk], "comment": "核对无误", "confirm": "yes"})
    # Then both are approved with the comment
    assert r.status_code == 302
    assert sorted(Observation.objects.values_list("status", "review_comment")) == [
        ("approved", "核对无误"), ("approved", "核对无误")]


def test_batch_approve_is_all_or_nothing(users: dict[str, Any], report: Any) -> None:
    from kepu.plans.services import observations_approve

    office = users["office"]
    theirs = report(users["wujin"], "HQ_FARMERS", "320412", 2024, 1000)
    mine = report(office, "SCHOOLS_SCI_PROV", "320400", 2024, 4)
    # When the office batch-approves a value it submitted itself along with another
    with pytest.raises(InputError) as info:
        observations_approve(user=office, observations=[theirs, mine])
    # Then neither is approved, and the reason is given
    assert info.value.errors[0] == "None of the 2 selected values was approved, because:"
    assert "may not approve it" in info.value.errors[1]
    assert set(Observation.objects.values_list("status", flat=True)) == {"submitted"}
