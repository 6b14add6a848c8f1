"""The capacity index (kepu.community.capacity): components from plan observations and population,
goalpost scaling, re-weighting of missing components, the city's population-weighted mean,
publication as CAPACITY_INDEX, the office's audited weights, scope on the pages and the CLI contract."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import include, path

import kepu.urls
from kepu.community import capacity
from kepu.community.models import CapacityWeights
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, Denominator, OrgUnit
from kepu.core.scope import scope_for
from kepu.plans.models import Observation
from kepu.plans.selectors import indicator_get
from kepu.plans.services import observation_publish

# The root URLconf does not include the capacity pages yet (a shared file); the tests add them.
urlpatterns = [*kepu.urls.urlpatterns, path("", include("kepu.community.capacity_urls"))]
pytestmark = pytest.mark.urls(__name__)

SEVEN = ("320402", "320404", "320411", "320412", "320413", "320481", "changzhou_edz")
PASSWORD = "test-pass-123"


def _publish(plan: Any, code: str, unit: str, year: int, value: float) -> None:
    indicator = indicator_get(plan, code)
    assert indicator is not None, code
    observation_publish(indicator=indicator, org_unit=OrgUnit.objects.get(code=unit), year=year, value=value,
                        source="test")


def _pop(code: str) -> int:
    return int(OrgUnit.objects.get(code=code).population)


def _full_registry(plan: Any, year: int, factor: float = 1.0) -> None:
    """What the registries would publish for every district: counts scaled by population."""
    for i, code in enumerate(SEVEN):
        p = _pop(code) / 1e4 * factor * (1 + 0.1 * i)
        for ind, per_10k in (("SCI_BASES_ACTIVE", 0.4), ("SCI_VOLUNTEERS", 80), ("VOLUNTEER_HOURS", 1500),
                             ("SCI_EVENTS_HELD", 3), ("SCI_EVENT_ATTENDANCE", 4000), ("SCI_HONOURS", 0.1),
                             ("SCI_COUNSELLORS_TRAINED", 0.6), ("HQ_FARMERS", 8), ("SKILLED_WORKERS_TRAINED", 150)):
            _publish(plan, ind, code, year, round(p * per_10k))
        _publish(plan, "SCI_FUNDING_PER_CAPITA", code, year, round(3.0 * factor + 0.2 * i, 2))
        _publish(plan, "ELDERLY_TECH_UNIV_COVERAGE", code, year, 100 if i % 2 == 0 else 0)


def _row(plan: Any, year: int, code: str) -> capacity.Row:
    rows = capacity.capacity_compute(plan=plan, years=[year])[year]
    return next(r for r in rows if r.unit.code == code)


# ----------------------------------------------------------------------------------- computation
def test_components_are_rates_of_the_published_observations_over_population(plan: Any) -> None:
    # Given Wujin's registries published these counts for 2025
    for code, value in (("SCI_BASES_ACTIVE", 64), ("SCI_VOLUNTEERS", 12000), ("VOLUNTEER_HOURS", 150000),
                        ("SCI_EVENTS_HELD", 700), ("SCI_EVENT_ATTENDANCE", 300000), ("SCI_HONOURS", 20),
                        ("SCI_FUNDING_PER_CAPITA", 4.2), ("ELDERLY_TECH_UNIV_COVERAGE", 100)):
        _publish(plan, code, "320412", 2025, value)
    pop = _pop("320412")
    # When the index is computed
    row = _row(plan, 2025, "320412")
    # Then each component is the count per its base of residents
    v = row.values
    assert v["bases_per_100k"] == pytest.approx(64 / pop * 1e5)
    assert v["volunteers_per_1000"] == pytest.approx(12000 / pop * 1e3)
    assert v["volunteer_hours_per_1000"] == pytest.approx(150000 / pop * 1e3)
    assert v["events_per_10k"] == pytest.approx(700 / pop * 1e4)
    assert v["attendance_per_capita"] == pytest.approx(300000 / pop)
    assert v["honours_per_100k"] == pytest.approx(20 / pop * 1e5)
    assert v["funding_per_capita"] == 4.2
    assert v["elderly_univ_coverage"] == 100
    # And nothing was trained or counted per school, so those two are missing, not 0
    assert v["trainings_per_10k"] is None and v["counsellors_per_school"] is None
    assert row.missing == ["trainings_per_10k", "counsellors_per_school"]
    # And another district, for which those registries have no record, scores 0 on them (said so),
    # while the components no registry published stay missing
    xinbei = _row(plan, 2025, "320411")
    assert xinbei.index == 0 and xinbei.values["bases_per_100k"] == 0
    assert "SCI_BASES_ACTIVE" in xinbei.zero_filled and xinbei.values["trainings_per_10k"] is None


def test_trainings_sum_the_six_training_indicators_and_say_which_are_missing(plan: Any) -> None:
    for code, value in (("SCI_COUNSELLORS_TRAINED", 40), ("HQ_FARMERS", 900), ("RURAL_TECH_TALENT", 30),
                        ("SKILLED_WORKERS_TRAINED", 20000), ("HIGH_SKILLED_TALENT", 2000)):
        _publish(plan, code, "320412", 2025, value)
    row = _row(plan, 2025, "320412")
    assert row.values["trainings_per_10k"] == pytest.approx((40 + 900 + 30 + 20000 + 2000) / _pop("320412") * 1e4)
    assert row.partial_sources == ["CHIEF_TECHNICIANS"]


def test_counsellors_per_school_needs_the_schools_denominator(plan: Any) -> None:
    _publish(plan, "SCI_COUNSELLORS_TRAINED", "320412", 2025, 45)
    # The region file has no school counts (published as missing): unavailable, not divided by 0
    assert _row(plan, 2025, "320412").values["counsellors_per_school"] is None
    Denominator.objects.update_or_create(unit=OrgUnit.objects.get(code="320412"), key="schools",
                                         defaults={"value": 90, "source": "test"})
    row = _row(plan, 2025, "320412")
    assert row.values["counsellors_per_school"] == pytest.approx(0.5)
    assert row.scores["counsellors_per_school"] == pytest.approx(50.0)


def test_only_approved_whole_year_observations_count(plan: Any, users: dict[str, Any]) -> None:
    indicator = indicator_get(plan, "SCI_VOLUNTEERS")
    Observation.objects.create(indicator=indicator, org_unit=OrgUnit.objects.get(code="320412"), year=2025,
                               value=5000, status=Observation.Status.SUBMITTED, created_by=users["wujin"])
    assert _row(plan, 2025, "320412").values["volunteers_per_1000"] is None


def test_a_registry_in_use_counts_a_district_without_records_as_zero(plan: Any, users: dict[str, Any],
                                                                     report: Any) -> None:
    # Given the recognition registry published honours for Wujin only (no other district had one)
    _publish(plan, "SCI_HONOURS", "320412", 2025, 3)
    # and Xinbei reported its volunteers by hand, approved, while no registry published volunteers
    obs = report(users["xinbei"], "SCI_VOLUNTEERS", "320411", 2025, 800)
    obs.status = Observation.Status.APPROVED
    obs.save()
    xinbei, wujin = _row(plan, 2025, "320411"), _row(plan, 2025, "320412")
    # Then Xinbei's honours count as 0 (a score of 0, said so), not as missing
    assert xinbei.values["honours_per_100k"] == 0 and xinbei.scores["honours_per_100k"] == 0
    assert xinbei.zero_filled == ["SCI_HONOURS"]
    # But a hand report does not make the other districts' volunteers 0: they stay missing
    assert xinbei.values["volunteers_per_1000"] == pytest.approx(800 / _pop("320411") * 1e3)
    assert wujin.values["volunteers_per_1000"] is None and "volunteers_per_1000" in wujin.missing


def test_scores_are_zero_at_zero_100_at_the_goalpost_and_capped_above() -> None:
    assert capacity.score(0, 5) == 0
    assert capacity.score(2.5, 5) == 50
    assert capacity.score(5, 5) == 100
    assert capacity.score(50, 5) == 100
    assert capacity.score(-1, 5) == 0


def test_trainings_goalpost_is_the_plans_yearly_targets_per_10k_residents(plan: Any) -> None:
    # T06 300 + T07 4,500 + T09 200 + T13 100,000 + T14 10,000 + T15 10 a year, over 5,278,121 residents
    assert capacity.benchmarks(plan)["trainings_per_10k"] == pytest.approx(115010 / 5278121 * 1e4)


def test_missing_components_are_reweighted_over_the_others_and_flagged(plan: Any) -> None:
    # Given Wujin has only funding (4 元/人 → 80 points) and coverage (100 → 100 points)
    _publish(plan, "SCI_FUNDING_PER_CAPITA", "320412", 2025, 4.0)
    _publish(plan, "ELDERLY_TECH_UNIV_COVERAGE", "320412", 2025, 100)
    row = _row(plan, 2025, "320412")
    # Then the index is their weighted mean over their own weights (0.15 and 0.05), not over all ten
    assert row.scores["funding_per_capita"] == pytest.approx(80.0)
    assert row.index == pytest.approx((0.15 * 80 + 0.05 * 100) / 0.20)
    assert row.weight_share == pytest.approx(0.20)
    assert not row.complete
    assert set(row.missing) == set(capacity.BY_CODE) - {"funding_per_capita", "elderly_univ_coverage"}


def test_index_with_every_component_is_the_weighted_sum_and_the_city_the_population_weighted_mean(
        plan: Any, region: Any) -> None:
    _full_registry(plan, 2025)
    Denominator.objects.filter(key="schools").update(value=100)
    rows = capacity.capacity_compute(plan=plan, years=[2025])[2025]
    districts, city = rows[:-1], rows[-1]
    assert [r.unit.code for r in districts] == list(SEVEN) and city.unit == region
    w = capacity.DEFAULT_WEIGHTS
    for r in districts:
        assert r.missing == [] and r.weight_share == pytest.approx(1.0) and r.complete
        assert r.index == pytest.approx(sum(w[k] * r.scores[k] for k in w) / sum(w.values()))
    pops = np.array([r.population for r in districts], dtype=float)
    idx = np.array([r.index for r in districts])
    assert city.index == pytest.approx(float((pops * idx).sum() / pops.sum()))


# ------------------------------------------------------------------------------------ publication
def test_capacity_index_is_published_for_every_district_and_the_city(plan: Any, region: Any) -> None:
    _full_registry(plan, 2025)
    capacity.capacity_publish(plan=plan, year=2025)
    rows = capacity.capacity_compute(plan=plan, years=[2025])[2025]
    published = dict(Observation.objects.filter(indicator__code="CAPACITY_INDEX", year=2025)
                     .values_list("org_unit__code", "value"))
    assert set(published) == {*SEVEN, region.code}
    for r in rows:
        assert published[r.unit.code] == pytest.approx(round(r.index, 2))
    # The future is not published
    assert capacity.capacity_publish(plan=plan, year=2031) == []


# ---------------------------------------------------------------------------------------- weights
def _weights(**override: float) -> dict[str, Any]:
    return {**capacity.DEFAULT_WEIGHTS, **override}


def test_the_office_changes_weights_audited_old_to_new_and_the_index_moves(plan: Any, region: Any,
                                                                            users: dict[str, Any]) -> None:
    _full_registry(plan, 2025)
    capacity.capacity_publish(plan=plan, year=2025)
    before = Observation.objects.get(indicator__code="CAPACITY_INDEX", org_unit__code="320412", year=2025).value
    office = users["office"]
    # When the office puts all the weight on funding per capita
    new = {k: 0 for k in capacity.DEFAULT_WEIGHTS} | {"funding_per_capita": 2}
    capacity.capacity_weights_set(actor=office, scope=scope_for(office), plan=plan, weights=new, comment="只看经费")
    # Then the weights are stored, and the change audited per component old → new
    assert capacity.weights_for(region)["funding_per_capita"] == 2.0
    entry = AuditEntry.objects.get(action="capacity.weights")
    assert entry.changes["funding_per_capita"] == [0.15, 2.0]
    assert entry.changes["bases_per_100k"] == [0.15, 0.0]
    assert entry.comment == "只看经费" and entry.actor == office
    # And the published index is now funding's score alone
    wujin = _row(plan, 2025, "320412")
    after = Observation.objects.get(indicator__code="CAPACITY_INDEX", org_unit__code="320412", year=2025).value
    assert after == pytest.approx(round(wujin.scores["funding_per_capita"], 2))
    assert after != pytest.approx(before)


@pytest.mark.parametrize(("weights", "message"), [
    (_weights(funding_per_capita=-0.1), "不能为负数"),
    (_weights(wifi_per_capita=1), "未知的分项"),
    ({k: v for k, v in capacity.DEFAULT_WEIGHTS.items() if k != "honours_per_100k"}, "缺少分项"),
    ({k: 0 for k in capacity.DEFAULT_WEIGHTS}, "权重之和必须大于 0"),
    (_weights(funding_per_capita="abc"), "应为数字"),
    (_weights(funding_per_capita="nan"), "应为数字"),
])
def test_bad_weights_are_refused_and_nothing_changes(plan: Any, region: Any, users: dict[str, Any],
                                                     weights: dict[str, Any], message: str) -> None:
    office = users["office"]
    with pytest.raises(InputError) as exc:
        capacity.capacity_weights_set(actor=office, scope=scope_for(office), plan=plan, weights=weights)
    assert any(message in e for e in exc.value.errors)
    assert not CapacityWeights.objects.exists()
    assert not AuditEntry.objects.filter(action="capacity.weights").exists()
    assert capacity.weights_for(region) == capacity.DEFAULT_WEIGHTS


def test_a_district_officer_cannot_change_weights(plan: Any, region: Any, users: dict[str, Any]) -> None:
    wujin = users["wujin"]
    with pytest.raises(PermissionDenied):
        capacity.capacity_weights_set(actor=wujin, scope=scope_for(wujin), plan=plan,
                                      weights=_weights(funding_per_capita=1))
    client = Client()
    client.login(username="wujin", password=PASSWORD)
    data = {f"w_{k}": v for k, v in _weights(funding_per_capita=1).items()} | {"year": 2025}
    assert client.post("/capacity/weights/", data).status_code == 403
    assert not CapacityWeights.objects.exists()
    assert not AuditEntry.objects.filter(action="capacity.weights").exists()


def test_the_weights_form_saves_and_shows_every_error(plan: Any, region: Any, users: dict[str, Any]) -> None:
    client = Client()
    client.login(username="office", password=PASSWORD)
    bad = {f"w_{k}": v for k, v in _weights(funding_per_capita=-1).items()} | {"w_nope": "1", "year": "2025"}
    page = client.post("/capacity/weights/", bad, follow=True)
    text = page.content.decode()
    assert "不能为负数" in text and "未知的分项“nope”" in text
    assert not CapacityWeights.objects.exists()
    good = {f"w_{k}": v for k, v in _weights(funding_per_capita=0.3).items()} | {"year": "2025", "comment": "加重经费"}
    page = client.post("/capacity/weights/", good, follow=True)
    assert page.status_code == 200 and "权重已保存" in page.content.decode()
    assert capacity.weights_for(region)["funding_per_capita"] == 0.3


# ------------------------------------------------------------------------------------------ pages
def test_office_sees_every_district_beside_literacy_with_the_correlation(plan: Any, users: dict[str, Any]) -> None:
    for year, factor in ((2023, 0.6), (2024, 0.8), (2025, 1.0)):
        _full_registry(plan, year, factor)
        for i, code in enumerate(SEVEN):
            _publish(plan, "LIT_RATE", code, year, 14 + 3 * factor + 0.5 * i)
    client = Client()
    client.login(username="office", password=PASSWORD)
    text = client.get("/capacity/?year=2025").content.decode()
    for code in SEVEN:
        assert f'data-unit="{code}"' in text
    assert 'data-testid="corr-r"' in text and 'data-testid="weights-form"' in text
    corr = capacity.correlation(capacity.capacity_compute(plan=plan, years=[2023, 2024, 2025]))
    assert corr.n == 21 and not corr.too_small
    assert f"{corr.r:.2f}" in text


def test_a_district_officer_sees_their_district_and_the_city_only(plan: Any, users: dict[str, Any]) -> None:
    _full_registry(plan, 2025)
    client = Client()
    client.login(username="wujin", password=PASSWORD)
    page = client.get("/capacity/?year=2025")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-unit="320412"' in text and 'data-unit="320400"' in text
    assert 'data-unit="320411"' not in text and "新北区" not in text
    assert 'data-testid="weights-form"' not in text
    assert client.get("/capacity/320412/").status_code == 200
    assert client.get("/capacity/320411/").status_code == 403
    assert client.get("/capacity/999999/").status_code == 404


def test_someone_without_a_staff_role_is_refused(plan: Any, region: Any, make_user: Any) -> None:
    make_user("nobody")
    client = Client()
    client.login(username="nobody", password=PASSWORD)
    assert client.get("/capacity/").status_code == 403


# ------------------------------------------------------------------------------------ correlation
def test_correlation_matches_an_independent_computation(plan: Any) -> None:
    rows = {2025: [], 2024: []}  # type: dict[int, list[capacity.Row]]
    rng = np.random.default_rng(3)
    units = list(OrgUnit.objects.filter(code__in=SEVEN))
    xs, ys = [], []
    for year in rows:
        for u in units:
            x = float(rng.uniform(20, 90))
            y = 10 + 0.1 * x + float(rng.normal(0, 1.5))
            xs.append(x)
            ys.append(y)
            rows[year].append(capacity.Row(unit=u, year=year, population=1, index=x, literacy=y, weight_share=1.0))
        rows[year].append(capacity.Row(unit=units[0], year=year, population=1))  # the city row is skipped
    corr = capacity.correlation(rows)
    r = float(np.corrcoef(xs, ys)[0, 1])
    z, se = 0.5 * math.log((1 + r) / (1 - r)), 1 / math.sqrt(len(xs) - 3)
    assert corr.n == 14
    assert corr.r == pytest.approx(r)
    assert corr.ci_low == pytest.approx(math.tanh(z - 1.959964 * se), abs=1e-6)
    assert corr.ci_high == pytest.approx(math.tanh(z + 1.959964 * se), abs=1e-6)
    # And within each year, across the seven districts only
    by_year = capacity.correlation_by_year(rows)
    assert by_year[2025].n == 7 and by_year[2025].r == pytest.approx(float(np.corrcoef(xs[:7], ys[:7])[0, 1]))


def test_correlation_is_withheld_when_there_are_too_few_pairs(plan: Any) -> None:
    u = OrgUnit.objects.get(code="320412")
    rows = {2025: [capacity.Row(unit=u, year=2025, population=1, index=50 + i, literacy=20 + i, weight_share=1.0)
                   for i in range(4)] + [capacity.Row(unit=u, year=2025, population=1)]}
    corr = capacity.correlation(rows)
    assert corr.n == 4 and corr.too_small and corr.r is None
    # An index resting on under half the weight is left out of the correlation
    rows[2025][:4] = [capacity.Row(unit=u, year=2025, population=1, index=50 + i, literacy=20 + i, weight_share=0.4)
                      for i in range(4)] + [capacity.Row(unit=u, year=2025, population=1, index=60, literacy=30,
                                                          weight_share=0.6)]
    assert capacity.correlation(rows).n == 1


# -------------------------------------------------------------------------------------------- CLI
def test_cli_json_covers_the_seven_districts_with_the_contract_shape(plan: Any) -> None:
    _full_registry(plan, 2025)
    out = io.StringIO()
    call_command("community", "capacity", "--year", "2025", "--json", stdout=out)
    data = json.loads(out.getvalue(), parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert set(data) == set(SEVEN)
    rows = {r.unit.code: r for r in capacity.capacity_compute(plan=plan, years=[2025])[2025]}
    for code, v in data.items():
        assert set(v) == {"index", "components", "population"}
        assert isinstance(v["index"], float) and v["index"] == pytest.approx(rows[code].index, abs=0.01)
        assert isinstance(v["population"], int) and v["population"] == _pop(code)
        assert set(v["components"]) == set(capacity.BY_CODE)
        assert v["components"]["funding_per_capita"] == pytest.approx(rows[code].values["funding_per_capita"])


def test_cli_refuses_a_year_outside_the_plan(plan: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="outside the plan"):
        call_command("community", "capacity", "--year", "2040", "--json", stdout=io.StringIO())


def test_cli_publish_writes_the_index(plan: Any, region: Any) -> None:
    _full_registry(plan, 2025)
    call_command("community", "capacity", "--year", "2025", "--publish", stdout=io.StringIO())
    assert Observation.objects.filter(indicator__code="CAPACITY_INDEX", year=2025, org_unit=region).exists()


def test_the_breakdown_page_names_zero_filled_and_unreported_inputs(plan: Any, users: dict[str, Any]) -> None:
    # Given the registries published honours for Wujin only, and two of the six training counts for Xinbei
    _publish(plan, "SCI_HONOURS", "320412", 2025, 2)
    _publish(plan, "HQ_FARMERS", "320411", 2025, 700)
    _publish(plan, "SCI_FUNDING_PER_CAPITA", "320411", 2025, 3.1)
    client = Client()
    client.login(username="xinbei", password=PASSWORD)
    text = client.get("/capacity/320411/").content.decode()
    # Then Xinbei's page says its honours count as 0 and which training counts are still missing
    assert "2025 年登记系统已发布获科普表彰奖励的个人和集体数，本辖市(区)没有登记记录，按 0 计。" in text
    assert "培训科技辅导员人数" in text and "尚无数据" in text
    assert 'data-component="funding_per_capita"' in text and "3.10" in text
    # And no developer codes leak onto the Chinese page
    assert "SCI_HONOURS" not in text and "HQ_FARMERS" not in text
