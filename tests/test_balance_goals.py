"""Issue 8, point 4: balance and 2035 goals as indicators. The measures (kepu.stats.balance) against
hand-computed cases and an independent numpy simulation; a published wave writes them as
observations of the plan's balance indicators (suppressed districts left out and named); targets
where lower is better ("direction: down": a gap, the province rank) and "significant" targets are
judged as the plan file's notes say; the plan file holds the indicators, targets and readings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kepu.stats.balance import Z95, Domain, change, gap, spread, weighted_cv

# --- the pure computation ---------------------------------------------------------------------------


def test_gap_by_hand() -> None:
    m = gap(Domain("urban", 30.0, 3.0), Domain("rural", 20.0, 4.0))
    assert m is not None
    assert m.value == pytest.approx(10.0)
    assert m.se == pytest.approx(5.0)  # sqrt(3² + 4²)
    assert (m.ci_low, m.ci_high) == pytest.approx((10 - 1.959964 * 5, 10 + 1.959964 * 5))


def test_gap_with_a_suppressed_side_is_not_computed() -> None:
    assert gap(Domain("urban", 30.0, 3.0), Domain("rural", 20.0, 4.0, suppressed=True)) is None


def test_weighted_cv_by_hand() -> None:
    # Two districts, equal populations: mean 0.3, weighted SD 0.1, CV 1/3. Gradient:
    # dCV/dp1 = w1(p1-m)/(s m) - s w1/m² = 0.5(-0.1)/(0.03) - 0.1·0.5/0.09 = -5/3 - 5/9 = -20/9
    # dCV/dp2 = 0.5(0.1)/0.03 - 5/9 = 5/3 - 5/9 = 10/9; SE = sqrt((20/9·0.01)² + (10/9·0.02)²)
    m = weighted_cv([Domain("a", 0.2, 0.01, population=100), Domain("b", 0.4, 0.02, population=100)])
    assert m is not None
    assert m.value == pytest.approx(1 / 3)
    assert m.se == pytest.approx(math.hypot(20 / 9 * 0.01, 10 / 9 * 0.02))
    assert m.method == "delta"


def test_weighted_cv_delta_method_agrees_with_a_simulation() -> None:
    """The delta-method SE against an independent Monte Carlo of the same model (districts drawn
    independently from N(p_i, se_i²)), computed here with plain numpy."""
    p = np.array([0.12, 0.15, 0.18, 0.14, 0.21, 0.16, 0.17])
    se = np.array([0.010, 0.012, 0.008, 0.015, 0.011, 0.009, 0.013])
    pop = np.array([700, 1100, 1500, 1800, 550, 780, 400], dtype=float)
    m = weighted_cv([Domain(str(i), p[i], se[i], population=pop[i]) for i in range(p.size)])
    assert m is not None
    rng = np.random.default_rng(7)
    sims = p + rng.standard_normal((200_000, p.size)) * se
    w = pop / pop.sum()
    mean = sims @ w
    cv = np.sqrt(((sims - mean[:, None]) ** 2) @ w) / mean
    assert m.value == pytest.approx(math.sqrt(float(w @ (p - w @ p) ** 2)) / float(w @ p))
    assert m.se == pytest.approx(float(cv.std()), rel=0.05)


def test_spread_bootstrap_agrees_with_the_analytic_case() -> None:
    """Two domains far apart: max − min is their difference, SE sqrt(se1² + se2²), normal interval."""
    m = spread([Domain("a", 60.0, 1.0), Domain("b", 20.0, 1.0)])
    assert m is not None
    assert m.value == pytest.approx(40.0)
    assert m.se == pytest.approx(math.sqrt(2), rel=0.03)
    assert m.ci_low == pytest.approx(40 - Z95 * math.sqrt(2), abs=0.1)
    assert m.ci_high == pytest.approx(40 + Z95 * math.sqrt(2), abs=0.1)
    assert spread([Domain("a", 60.0, 1.0), Domain("b", 20.0, 1.0)]) == m  # seeded: reproducible


def test_spread_of_close_domains_shows_the_upward_bias() -> None:
    """Equal true rates: the bootstrap's interval lies above 0 and its draws exceed the point."""
    m = spread([Domain(str(i), 20.0, 2.0) for i in range(7)])
    assert m is not None
    assert m.value == 0.0
    assert m.ci_low > 0 and m.se > 0


def test_suppressed_domains_are_left_out_and_named() -> None:
    doms = [Domain("a", 30.0, 1.0), Domain("b", 10.0, 1.0, suppressed=True), Domain("c", 20.0, 1.0)]
    m = spread(doms)
    assert m is not None
    assert m.value == pytest.approx(10.0)  # b (the lowest) is not used
    assert m.excluded == ("b",) and m.used == ("a", "c")
    cv = weighted_cv([Domain("a", 0.3, 0.01, population=1), Domain("b", 0.1, 0.01, suppressed=True, population=1),
                      Domain("c", 0.2, 0.01)])  # c: no population
    assert cv is None  # only one usable district
    assert spread([Domain("a", 30.0, 1.0), Domain("b", 10.0, 1.0, suppressed=True)]) is None


def test_change_between_independent_waves() -> None:
    a = gap(Domain("u", 30.0, 3.0), Domain("r", 20.0, 4.0))
    b = gap(Domain("u", 28.0, 3.0), Domain("r", 24.0, 4.0))
    assert a is not None and b is not None
    c = change(b, a)
    assert c.value == pytest.approx(-6.0)
    assert c.se == pytest.approx(math.hypot(5.0, 5.0))


# --- status where lower is better -----------------------------------------------------------------


def _target(**kw: Any) -> Any:
    from kepu.plans.models import Target

    base = {"kind": "rate", "value": 4.0, "deadline_year": 2025, "period_start": 2021, "period_end": 2025,
            "direction": "down"}
    return Target(**{**base, **kw})


def test_direction_down_rank() -> None:
    from kepu.plans.series import Point
    from kepu.plans.status import assess_target

    t = _target()
    better = assess_target(t, None, 4.0, {2023: Point(5.0), 2025: Point(3.0)}, 2026, (2020, 4.0))  # type: ignore[arg-type]
    assert (better.status, better.current) == ("met", 3.0)
    worse = assess_target(t, None, 4.0, {2023: Point(4.0), 2025: Point(6.0)}, 2026, (2020, 4.0))  # type: ignore[arg-type]
    assert (worse.status, worse.rule, worse.current) == ("off_track", "deadline_passed", 6.0)
    # Before the deadline a rising rank (getting worse) is forecast to miss; a falling one to make it.
    rising = assess_target(t, None, 4.0, {2021: Point(4.0), 2022: Point(5.0), 2023: Point(6.0)}, 2023, (2020, 4.0))  # type: ignore[arg-type]
    falling = assess_target(t, None, 4.0, {2021: Point(8.0), 2022: Point(6.0), 2023: Point(4.5)}, 2023, None)  # type: ignore[arg-type]
    assert rising.probability is not None and falling.probability is not None
    assert rising.probability < 0.2 < 0.6 <= falling.probability
    assert rising.low is not None and rising.high is not None and rising.low <= rising.projected <= rising.high
    # The same numbers with the default direction read the other way round.
    up = assess_target(_target(direction="up"), None, 4.0, {2023: Point(5.0), 2025: Point(3.0)}, 2026, None)  # type: ignore[arg-type]
    assert up.status == "off_track"


def test_significant_target_needs_the_interval_below_the_ceiling() -> None:
    from kepu.plans.series import Point
    from kepu.plans.status import assess_target

    t = _target(value=0.0, deadline_year=2035, period_end=2035, significant=True)
    blurred = assess_target(t, None, 0.0, {2035: Point(-2.0, se=3.0)}, 2036, None)  # type: ignore[arg-type]
    assert (blurred.status, blurred.rule) == ("not_distinguishable", "not_significant")
    clear = assess_target(t, None, 0.0, {2035: Point(-8.0, se=3.0)}, 2036, None)  # type: ignore[arg-type]
    assert clear.status == "met"
    grew = assess_target(t, None, 0.0, {2035: Point(8.0, se=3.0)}, 2036, None)  # type: ignore[arg-type]
    assert grew.status == "off_track"
    plain = assess_target(_target(value=0.0, deadline_year=2035, period_end=2035), None, 0.0,  # type: ignore[arg-type]
                          {2035: Point(-2.0, se=3.0)}, 2036, None)
    assert plain.status == "met"  # without "significant" the point estimate decides


# --- the plan file ---------------------------------------------------------------------------------


def test_plan_file_has_the_balance_and_rank_targets(plan: Any) -> None:
    t = {x.code: x for x in plan.targets.select_related("indicator")}
    rank = t["T22"]
    assert (rank.indicator.code, rank.direction, rank.value, rank.baseline_year, rank.baseline_value) == (
        "PROVINCE_RANK", "down", 4.0, 2020, 4.0)
    assert "继续保持全省前列" in rank.quote and "≤4" in rank.note_zh
    for code, indicator in (("T23", "BAL_DISTRICT_RANGE_CHANGE"), ("T24", "BAL_DISTRICT_CV_CHANGE"),
                            ("T25", "BAL_URBAN_RURAL_GAP_CHANGE")):
        assert (t[code].indicator.code, t[code].direction, t[code].significant) == (indicator, "down", True)
        assert (t[code].deadline_year, t[code].value) == (2035, 0.0)
        assert "显著缩小" in t[code].quote and "95%置信区间整体低于0" in t[code].note_zh
        assert t[code].note_en
    codes = set(plan.indicators.values_list("code", flat=True))
    assert {"BAL_DISTRICT_RANGE", "BAL_DISTRICT_CV", "BAL_URBAN_RURAL_GAP", "BAL_AGE_GAP", "BAL_KEY_GROUP_GAP",
            "PROVINCE_RANK"} <= codes


# --- publishing a wave -----------------------------------------------------------------------------


def _wave(region: Any, code: str, year: int, rates: dict[str, float], *, suppressed: tuple[str, ...] = (),
          urban: float = 0.25, rural: float = 0.15) -> Any:
    from kepu.literacy.models import Wave, WaveEstimate
    from kepu.literacy.services import wave_create
    from kepu.literacy.tests.factories import load_items

    if not Wave.objects.exists():
        load_items()
    wave = wave_create(code=code, year=year)

    def row(variable: str, level: str, p: float, se: float = 0.01, sup: bool = False) -> WaveEstimate:
        return WaveEstimate(wave=wave, variable=variable, level=level, n=400, estimate=p, se=se,
                            ci_low=p - 0.02, ci_high=p + 0.02, suppressed=sup)

    rows = [row("overall", "all", 0.2, 0.005), row("area", "urban", urban), row("area", "rural", rural)]
    rows += [row("district", c, p, sup=c in suppressed) for c, p in rates.items()]
    rows += [row("age_band", "18-29", 0.3), row("age_band", "60-69", 0.1)]
    rows += [row("key_group", "farmers", 0.12), row("key_group", "officials", 0.4), row("key_group", "other", 0.9)]
    WaveEstimate.objects.bulk_create(rows)
    return wave


def test_publishing_a_wave_writes_the_balance_observations(plan: Any, region: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.literacy.indicators import wave_publish
    from kepu.plans.models import Observation

    districts = list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT).order_by("code"))
    rates = {d.code: 0.15 + 0.01 * i for i, d in enumerate(districts)}
    low = districts[0]  # the lowest district, suppressed: left out of the spread and named
    w1 = _wave(region, "b-2022", 2022, rates, suppressed=(low.code,))
    wave_publish(wave=w1, plan=plan)
    obs = {o.indicator.code: o for o in Observation.objects.filter(org_unit=region, year=2022)
           .select_related("indicator")}
    r = obs["BAL_DISTRICT_RANGE"]
    assert r.value == pytest.approx(100 * 0.01 * (len(districts) - 1) - 1.0)  # without the lowest district
    assert r.se is not None and r.ci_low is not None and r.ci_high is not None and r.ci_low < r.value < r.ci_high
    assert low.name_zh in r.comment and "未计入" in r.comment
    assert obs["BAL_URBAN_RURAL_GAP"].value == pytest.approx(10.0)
    assert obs["BAL_URBAN_RURAL_GAP"].se == pytest.approx(100 * math.hypot(0.01, 0.01), abs=1e-4)
    assert obs["BAL_AGE_GAP"].value == pytest.approx(20.0)
    assert obs["BAL_KEY_GROUP_GAP"].value == pytest.approx(28.0)  # "other" is not a key group of the plan
    assert obs["BAL_DISTRICT_CV"].value > 0 and obs["BAL_DISTRICT_CV"].se is not None
    assert "BAL_URBAN_RURAL_GAP_CHANGE" not in obs  # the first wave is the baseline
    w2 = _wave(region, "b-2024", 2024, rates, urban=0.22, rural=0.18)
    wave_publish(wave=w2, plan=plan)
    ch = Observation.objects.get(org_unit=region, year=2024, indicator__code="BAL_URBAN_RURAL_GAP_CHANGE")
    assert ch.value == pytest.approx(4.0 - 10.0)
    assert ch.se == pytest.approx(math.hypot(100 * math.hypot(0.01, 0.01), 100 * math.hypot(0.01, 0.01)), abs=1e-3)
    assert "b-2022" in ch.comment


def test_status_of_a_balance_target_follows_the_published_change(plan: Any, region: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.literacy.indicators import wave_publish
    from kepu.plans.models import TargetStatus
    from kepu.plans.status import compute_statuses

    districts = OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT)
    rates = {d.code: 0.2 for d in districts}
    wave_publish(wave=_wave(region, "s-2025", 2025, rates, urban=0.30, rural=0.10), plan=plan)
    wave_publish(wave=_wave(region, "s-2026", 2026, rates, urban=0.29, rural=0.11), plan=plan)
    rows = {(s.target.code, s.org_unit_id): s for s in compute_statuses(plan, today_year=2026)}
    s = rows[("T25", region.pk)]
    # The gap fell by 2 points, but the change's 95% interval (SE 2) holds 0: not a significant decrease.
    assert s.current == pytest.approx(-2.0)
    assert (s.status, s.rule) == (TargetStatus.Status.NOT_DISTINGUISHABLE, "not_significant")


def test_target_page_shows_the_change_with_its_interval_and_the_reading(
    plan: Any, region: Any, users: dict[str, Any]
) -> None:
    from django.test import Client

    from conftest import PASSWORD
    from kepu.core.models import OrgUnit
    from kepu.literacy.indicators import wave_publish
    from kepu.plans.status import status_refresh

    rates = {d.code: 0.2 for d in OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT)}
    wave_publish(wave=_wave(region, "p-2025", 2025, rates, urban=0.30, rural=0.10), plan=plan)
    wave_publish(wave=_wave(region, "p-2026", 2026, rates, urban=0.29, rural=0.11), plan=plan)
    status_refresh(plan, today_year=2026)
    c = Client()
    assert c.login(username="reviewer", password=PASSWORD)
    page = c.get("/targets/T25/").content.decode()
    assert "2026: -2.0 [-5.9–1.9]" in page  # the change −2 with its 95% interval
    assert "显著缩小" in page and "本目标越低越好" in page and "差异不显著" in page and "已有实际值，无需预测" in page


def test_the_office_reports_the_province_rank_and_it_is_judged_lower_is_better(
    plan: Any, users: dict[str, Any], report: Any
) -> None:
    from kepu.plans.models import Observation
    from kepu.plans.status import compute_statuses

    obs = report(users["office"], "PROVINCE_RANK", "320400", 2025, 3)
    assert obs.status == "submitted" and obs.se is None
    Observation.objects.filter(pk=obs.pk).update(status="approved")
    s = next(r for r in compute_statuses(plan, today_year=2026) if r.target.code == "T22" and r.org_unit == plan.region)
    assert (s.status, s.current) == ("met", 3.0)
    Observation.objects.filter(pk=obs.pk).update(value=6)
    s = next(r for r in compute_statuses(plan, today_year=2026) if r.target.code == "T22" and r.org_unit == plan.region)
    assert (s.status, s.current) == ("off_track", 6.0)  # fell behind 4th place
