"""Issue 8, point 7: several cities and the province on one install.

Responsible units are scoped to a region (both cities have 市教育局), a second city's plan loads
beside Changzhou's, a region file whose codes clash with another region's is refused, a province
plan rolls up its cities' indicators (population-weighted where the aggregation says so), a
province user sees every city and a city user only theirs (pages, API, exports), and the
dashboard's plan picker remembers the choice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from conftest import PASSWORD, REPO
from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, Department, OrgUnit
from kepu.core.regions import department_by_name
from kepu.core.services import region_import
from kepu.plans.models import Observation, Plan, TaskResponsibility
from kepu.plans.plan_import import plan_import
from kepu.plans.province import province_rollup

pytestmark = pytest.mark.usefixtures("english")

LAKESIDE_REGION = REPO / "data/regions/lakeside.yaml"
LAKESIDE_PLAN = REPO / "data/plans/example-lakeside-2022-2030.yaml"
PROVINCE_REGION = REPO / "data/regions/example-province.yaml"
PROVINCE_PLAN = REPO / "data/plans/example-province-2022-2030.yaml"
CZ_PLAN = "changzhou-2021-2035"
LK_PLAN = "lakeside-2022-2030"
PROV_PLAN = "example-province-2022-2030"


@pytest.fixture
def two_cities(plan: Plan, django_capture_on_commit_callbacks: Any) -> dict[str, Plan]:
    """Changzhou (the `plan` fixture), then Lakeside and the province loaded beside it."""
    with django_capture_on_commit_callbacks(execute=True):
        region_import(path=LAKESIDE_REGION)
        lakeside, _ = plan_import(path=LAKESIDE_PLAN)
        region_import(path=PROVINCE_REGION)
        province, _ = plan_import(path=PROVINCE_PLAN)
    return {"cz": plan, "lk": lakeside, "prov": province}


def _client(make_user: Any, name: str, *roles: tuple[str, str | None, str | None]) -> Client:
    make_user(name, *roles)
    c = Client(headers={"Accept-Language": "en"})
    assert c.login(username=name, password=PASSWORD)
    return c


# -- responsible units scoped to a region --------------------------------------------------------

def test_second_city_imports_beside_changzhou_each_with_its_own_education_bureau(two_cities: dict[str, Plan]) -> None:
    cz, lk = two_cities["cz"], two_cities["lk"]
    # Both plans are there, each in its own region
    assert (cz.region.code, lk.region.code) == ("320400", "990100")
    # And each city has its own 市教育局 (and its own 'districts' code), resolved through the region
    cz_edu, lk_edu = department_by_name(cz.region, "市教育局"), department_by_name(lk.region, "市教育局")
    assert cz_edu is not None and lk_edu is not None and cz_edu.pk != lk_edu.pk
    assert (cz_edu.code, lk_edu.code) == ("cz-edu", "lk-edu")
    assert Department.objects.filter(code="districts").count() == 2
    # And Lakeside's tasks name Lakeside's units, never Changzhou's
    lk_units = set(TaskResponsibility.objects.filter(task__section__programme__plan=lk)
                   .values_list("department__region__code", flat=True))
    assert lk_units == {"990100"}
    # And re-importing Changzhou's plan afterwards still works and changes nothing
    _plan, summary = plan_import(path=REPO / "data/plans/changzhou-2021-2035.yaml")
    assert summary.get("unchanged") or summary["created"] == summary["updated"] == 0


def test_demo_database_takes_lakeside_region_and_plan_from_the_command_line(
    plan: Plan, django_capture_on_commit_callbacks: Any,
) -> None:
    from io import StringIO

    from kepu.plans.demo import demo_generate

    demo_generate(plan=plan)
    out = StringIO()
    # When the documented commands run on the demo database
    with django_capture_on_commit_callbacks(execute=True):
        call_command("region", "import", str(LAKESIDE_REGION), stdout=out)
        call_command("plan", "import", str(LAKESIDE_PLAN), stdout=out)
    # Then both plans work side by side
    assert set(Plan.objects.values_list("code", flat=True)) >= {CZ_PLAN, LK_PLAN}
    assert Plan.objects.get(code=LK_PLAN).targets.count() >= 5
    assert Plan.objects.get(code=CZ_PLAN).indicators.get(code="LIT_RATE").observations.exists()


def test_region_file_whose_codes_clash_with_another_city_is_refused_and_nothing_written(
    plan: Plan, tmp_path: Path,
) -> None:
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        'region: {code: "990200", name_zh: 山城市, name_en: Shancheng}\n'
        "units:\n"
        '  - {code: "990200", name_zh: 山城市, name_en: Shancheng, level: city, parent: null}\n'
        '  - {code: "320412", name_zh: 北区, name_en: North, level: district, parent: "990200"}\n',
        encoding="utf-8",
    )
    before = (OrgUnit.objects.count(), AuditEntry.objects.count(), OrgUnit.objects.get(code="320412").path)
    with pytest.raises(InputError) as exc:
        region_import(path=clash)
    # The message names the place and the clashing code, and the region it belongs to
    assert "units[1].code" in str(exc.value) and "'320412'" in str(exc.value) and "320400" in str(exc.value)
    assert (OrgUnit.objects.count(), AuditEntry.objects.count(), OrgUnit.objects.get(code="320412").path) == before
    assert not OrgUnit.objects.filter(code="990200").exists()
    # And the command says so too
    with pytest.raises(CommandError, match="320412"):
        call_command("region", "import", str(clash))


def test_province_file_places_its_cities_under_it_and_a_city_reimport_keeps_them_there(
    two_cities: dict[str, Plan],
) -> None:
    assert OrgUnit.objects.get(code="990000").level == OrgUnit.Level.PROVINCE
    assert OrgUnit.objects.get(code="320400").path == "/990000/320400/"
    assert OrgUnit.objects.get(code="320412").path == "/990000/320400/320412/"
    assert OrgUnit.objects.get(code="990101").path == "/990000/990100/990101/"
    region_import(path=REPO / "data/regions/changzhou.yaml")
    region_import(path=LAKESIDE_REGION)
    assert OrgUnit.objects.get(code="320412").path == "/990000/320400/320412/"
    assert OrgUnit.objects.get(code="990100").parent.code == "990000"  # type: ignore[union-attr]


# -- province roll-up ----------------------------------------------------------------------------

def _approved(plan: Plan, unit: str, value: float, year: int = 2024, indicator: str = "LIT_RATE") -> Observation:
    return Observation.objects.create(
        indicator=plan.indicators.get(code=indicator), org_unit=OrgUnit.objects.get(code=unit), year=year,
        value=value, status=Observation.Status.APPROVED,
    )


def test_province_plan_rolls_up_its_cities_weighted_by_population(two_cities: dict[str, Plan]) -> None:
    cz, lk, prov = two_cities["cz"], two_cities["lk"], two_cities["prov"]
    _approved(cz, "320400", 20.0)
    # Only one city has a value: no province figure yet
    (row,) = province_rollup(prov, 2024)
    assert row.value is None and row.reported == 1 and len(row.cities) == 2
    _approved(lk, "990100", 10.0)
    (row,) = province_rollup(prov)
    cz_pop, lk_pop = OrgUnit.objects.get(code="320400").population, OrgUnit.objects.get(code="990100").population
    assert (cz_pop, lk_pop) == (5278121, 1000000)
    assert row.year == 2024
    assert row.value == pytest.approx((20 * cz_pop + 10 * lk_pop) / (cz_pop + lk_pop))
    assert row.value != pytest.approx(15.0)  # not the plain mean of the two cities


def test_province_rollup_takes_a_city_value_rolled_up_from_all_its_districts(two_cities: dict[str, Plan]) -> None:
    lk, prov = two_cities["lk"], two_cities["prov"]
    _approved(two_cities["cz"], "320400", 20.0)
    _approved(lk, "990101", 10.0)
    _approved(lk, "990102", 20.0)
    (row,) = province_rollup(prov, 2024)
    lakeside = next(c for c in row.cities if c.unit.code == "990100")
    assert lakeside.value == pytest.approx((10 * 600000 + 20 * 400000) / 1000000)
    assert row.value is not None


# -- who sees what: pages, API, exports -----------------------------------------------------------

def test_city_user_sees_only_their_city_province_user_sees_all(two_cities: dict[str, Plan], make_user: Any,
                                                               api_client: Any) -> None:
    cz_user = _client(make_user, "cz_viewer", ("viewer", "320400", None))
    lk_user = _client(make_user, "lk_office", ("office_admin", "990100", None))
    prov_user = _client(make_user, "prov_viewer", ("viewer", "990000", None))
    district_user = _client(make_user, "wujin_rep", ("district_reporter", "320412", None))
    # Pages: a city user cannot open the other city's plan (nor the province's)
    assert cz_user.get("/", {"plan": LK_PLAN}).status_code == 404
    assert cz_user.get("/", {"plan": PROV_PLAN}).status_code == 404
    assert lk_user.get("/", {"plan": CZ_PLAN}).status_code == 404
    assert lk_user.get("/plan/", {"plan": CZ_PLAN}).status_code == 404
    assert district_user.get("/", {"plan": CZ_PLAN}).status_code == 200
    assert district_user.get("/", {"plan": LK_PLAN}).status_code == 404
    # The province user opens every plan
    for code in (CZ_PLAN, LK_PLAN, PROV_PLAN):
        assert prov_user.get("/", {"plan": code}).status_code == 200, code
    # A city user's dashboard is their own city's plan, without a picker
    page = lk_user.get("/").content.decode()
    assert "<h1>Lakeside City Action Plan" in page and 'data-testid="plan-picker"' not in page
    # Exports: the reporting template of another city's plan is refused
    assert lk_user.get("/report/template.xlsx", {"plan": CZ_PLAN}).status_code == 404
    assert lk_user.get("/report/template.xlsx", {"plan": LK_PLAN}).status_code == 200
    # API: the plan list and a plan's targets follow the same rule
    from django.contrib.auth.models import User

    def api(name: str) -> Client:
        client: Client = api_client(User.objects.get(username=name))
        return client

    assert {p["code"] for p in api("cz_viewer").get("/api/plans").json()} == {CZ_PLAN}
    assert {p["code"] for p in api("prov_viewer").get("/api/plans").json()} == {CZ_PLAN, LK_PLAN, PROV_PLAN}
    assert api("lk_office").get(f"/api/plans/{CZ_PLAN}/targets").status_code == 404
    assert api("lk_office").get(f"/api/plans/{LK_PLAN}/targets").status_code == 200
    assert api("prov_viewer").get(f"/api/plans/{LK_PLAN}/targets").status_code == 200
    assert api("cz_viewer").get("/api/observations", {"plan": LK_PLAN}).status_code == 404


def test_dashboard_plan_picker_lists_the_users_plans_and_remembers_the_choice(
    two_cities: dict[str, Plan], make_user: Any,
) -> None:
    prov_user = _client(make_user, "prov_office", ("office_admin", "990000", None))
    page = prov_user.get("/").content.decode()
    assert 'data-testid="plan-picker"' in page
    for code in (CZ_PLAN, LK_PLAN, PROV_PLAN):
        assert f'value="{code}"' in page
    # When the user picks Lakeside
    assert prov_user.get("/", {"plan": LK_PLAN}).status_code == 200
    # Then the next pages without ?plan= show Lakeside's plan
    page = prov_user.get("/").content.decode()
    assert "<h1>Lakeside City Action Plan" in page
    assert f'<option value="{LK_PLAN}" selected' in page
    assert "Lakeside City Action Plan" in prov_user.get("/plan/").content.decode()
    # And the province plan's dashboard shows the cities' roll-up
    page = prov_user.get("/", {"plan": PROV_PLAN}).content.decode()
    assert 'data-testid="province-rollup"' in page


# -- the migration keeps existing data ------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_migration_puts_existing_departments_in_changzhous_region() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("core", "0003_denominators"), ("plans", "0001_initial")]
    after = [("core", "0004_region_scoped_units")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old_unit, old_dept = old.get_model("core", "OrgUnit"), old.get_model("core", "Department")
    old_unit.objects.create(code="320400", name_zh="常州市", name_en="Changzhou", level="city", path="/320400/")
    old_dept.objects.create(code="cz-edu", name_zh="市教育局", name_en="Education Bureau")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    dept = new.get_model("core", "Department").objects.get(code="cz-edu")
    assert (dept.name_zh, dept.region.code) == ("市教育局", "320400")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_province_rollup_defaults_to_the_latest_year_every_city_has(two_cities: dict[str, Plan]) -> None:
    _approved(two_cities["cz"], "320400", 20.0, year=2024)
    _approved(two_cities["lk"], "990100", 10.0, year=2024)
    _approved(two_cities["cz"], "320400", 21.0, year=2025)
    (row,) = province_rollup(two_cities["prov"])
    assert row.year == 2024 and row.value is not None
