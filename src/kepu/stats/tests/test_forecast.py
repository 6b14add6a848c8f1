"""Tests for kepu.stats.forecast on series whose right answer is known analytically."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from kepu.stats import forecast as forecast_module
from kepu.stats.forecast import (
    RULES,
    Assessment,
    Predictive,
    assess,
    classify,
    fit_line,
    interpolate_milestones,
    population_weighted_mean,
    split_by_share,
    stock_milestones,
)

SRC = Path(forecast_module.__file__).resolve().parents[2]  # the directory holding the kepu package
Z90 = float(sps.norm.ppf(0.9))

hsettings = settings(database=None, max_examples=150, deadline=None)


def _rate(values: list[float], years: list[int] | None = None, **kw: object) -> Assessment:
    years = list(range(2018, 2018 + len(values))) if years is None else years
    args: dict[str, object] = {"target": 100.0, "deadline_year": 2030, "evaluation_year": 2024}
    args.update(kw)
    return assess("rate", years=years, values=values, **args)  # type: ignore[arg-type]


def _sd_from_band(a: Assessment, q: float) -> float:
    assert a.low is not None and a.high is not None
    return (a.high - a.low) / (2 * q)


# ----------------------------------------------------------------------------- rate / coverage


@hsettings
@given(
    a=st.floats(-50, 50),
    b=st.floats(-5, 5),
    n=st.integers(3, 10),
    horizon=st.integers(1, 15),
)
def test_exact_linear_series_projects_exactly_with_zero_width_band(
    a: float, b: float, n: int, horizon: int
) -> None:
    years = list(range(2010, 2010 + n))
    values = [a + b * (y - 2010) for y in years]
    deadline = years[-1] + horizon
    truth = a + b * (deadline - 2010)
    res = _rate(values, years, target=1e6, deadline_year=deadline, evaluation_year=years[-1])
    assert res.projected == pytest.approx(truth, abs=1e-8)
    assert res.actual_pace == pytest.approx(b, abs=1e-9)
    assert res.low == pytest.approx(truth, abs=1e-6)
    assert res.high == pytest.approx(truth, abs=1e-6)
    # The distribution is a point mass: reaching just below the projection is certain when not yet met.
    below = assess(
        "coverage",
        target=max(truth, values[-1]) + 1.0,
        deadline_year=deadline,
        evaluation_year=years[-1],
        years=years,
        values=values,
    )
    assert below.probability == 0.0
    assert below.status == "off_track"


def test_exact_series_landing_on_target_counts_as_reaching_it() -> None:
    # 10, 12, ..., 18 in 2018..2022 -> 30 in 2028 exactly; rounding noise must not turn p into 0.
    res = _rate([10.0, 12.0, 14.0, 16.0, 18.0], target=30.0, deadline_year=2028)
    assert res.projected == pytest.approx(30.0)
    assert res.probability == 1.0
    assert res.status == "on_track"
    assert res.rule == "prob_ge_on"


def test_ols_interval_matches_closed_form_t_interval() -> None:
    years = np.arange(2015, 2022)
    values = np.array([3.0, 4.1, 4.9, 6.3, 6.8, 8.4, 8.9])
    res = _rate(list(values), list(years), target=20.0, deadline_year=2027)
    b, a = np.polyfit(years, values, 1)
    n = years.size
    resid = values - (a + b * years)
    s = math.sqrt(float(resid @ resid) / (n - 2))
    xbar = years.mean()
    se_pred = s * math.sqrt(1 + 1 / n + (2027 - xbar) ** 2 / float(((years - xbar) ** 2).sum()))
    proj = a + b * 2027
    q = float(sps.t.ppf(0.9, n - 2))
    assert res.projected == pytest.approx(proj, rel=1e-9)
    assert res.actual_pace == pytest.approx(b, rel=1e-9)
    assert res.low == pytest.approx(proj - q * se_pred, rel=1e-9)
    assert res.high == pytest.approx(proj + q * se_pred, rel=1e-9)
    assert res.probability == pytest.approx(float(sps.t.sf((20.0 - proj) / se_pred, n - 2)), rel=1e-9)
    assert res.n_points == 7


def test_noisy_series_band_contains_truth() -> None:
    rng = np.random.default_rng(2024)
    years = list(range(2014, 2024))
    truth_line = [20 + 1.2 * (y - 2014) for y in years]
    values = [v + e for v, e in zip(truth_line, rng.normal(0, 1.5, len(years)), strict=True)]
    res = _rate(values, years, target=60.0, deadline_year=2030, evaluation_year=2024)
    truth = 20 + 1.2 * 16
    assert res.low is not None and res.high is not None
    assert res.low < truth < res.high
    assert res.high - res.low > 1.0  # a real, non-degenerate band


def test_ols_predictive_interval_has_nominal_coverage() -> None:
    # The t(n-2) interval covers a future observation with probability exactly `band`.
    rng = np.random.default_rng(12345)
    years = list(range(2018, 2023))
    reps, hits = 3000, 0
    for _ in range(reps):
        y = 5 + 1.5 * np.arange(5) + rng.normal(0, 2, 5)
        res = _rate(list(y), years, target=1e6, deadline_year=2028)
        future = 5 + 1.5 * 10 + rng.normal(0, 2)
        assert res.low is not None and res.high is not None
        hits += res.low <= future <= res.high
    assert 0.77 <= hits / reps <= 0.83  # a normal instead of t(3) would give about 0.71


def test_se_weighted_fit_equals_closed_form() -> None:
    years = np.array([2016.0, 2018.0, 2019.0, 2021.0, 2022.0])
    values = np.array([40.0, 43.5, 44.0, 49.0, 50.5])
    ses = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    res = _rate(list(values), [int(y) for y in years], ses=list(ses), target=70.0, deadline_year=2030)

    # Closed-form weighted least squares.
    w = 1 / ses**2
    xw = (w * years).sum() / w.sum()
    yw = (w * values).sum() / w.sum()
    b = (w * (years - xw) * (values - yw)).sum() / (w * (years - xw) ** 2).sum()
    a = yw - b * xw
    assert res.actual_pace == pytest.approx(b, rel=1e-10)
    assert res.projected == pytest.approx(a + b * 2030, rel=1e-10)

    # Independent matrix version: DerSimonian-Laird tau^2 and the sandwich variance of the fit.
    X = np.column_stack([np.ones_like(years), years])
    W = np.diag(w)
    A = np.linalg.inv(X.T @ W @ X)
    beta = A @ X.T @ W @ values
    r = values - X @ beta
    Q = float(r @ W @ r)
    P = W - W @ X @ A @ X.T @ W
    tau2 = max(0.0, (Q - 3) / float(np.trace(P)))
    cov = A @ X.T @ W @ (np.diag(ses**2) + tau2 * np.eye(5)) @ W @ X @ A
    xs = np.array([1.0, 2030.0])
    sd = math.sqrt(float(xs @ cov @ xs) + tau2)
    fit = fit_line(years, values, ses)
    assert fit.tau2 == pytest.approx(tau2, rel=1e-6, abs=1e-12)
    q = float(sps.t.ppf(0.9, 3))
    assert _sd_from_band(res, q) == pytest.approx(sd, rel=1e-6)


def test_se_weighted_fit_with_excess_scatter_estimates_tau2() -> None:
    years = np.arange(2014.0, 2022.0)
    values = np.array([10.0, 14.0, 11.0, 17.0, 13.0, 20.0, 16.0, 22.0])
    ses = np.full(8, 0.5)
    fit = fit_line(years, values, ses)
    # With equal ses the DL estimate has the closed form tau2 = RSS/(n-2) - se^2.
    b, a = np.polyfit(years, values, 1)
    rss = float(((values - a - b * years) ** 2).sum())
    assert fit.tau2 is not None and fit.tau2 > 1.0
    assert fit.tau2 == pytest.approx(rss / 6 - 0.25, rel=1e-9)
    pred = fit.predict(2026.0)
    assert pred is not None
    c = fit.coefficients(2026.0)
    assert float(c @ values) == pytest.approx(a + b * 2026, rel=1e-10)
    assert pred.sd**2 == pytest.approx(float((c**2).sum()) * (0.25 + fit.tau2) + fit.tau2, rel=1e-10)


def test_se_exact_line_has_pure_sampling_variance() -> None:
    years = np.array([2018.0, 2019.0, 2020.0, 2021.0])
    values = 30 + 2 * (years - 2018)
    ses = np.array([1.0, 0.5, 2.0, 1.0])
    res = _rate(list(values), [int(y) for y in years], ses=list(ses), target=80.0, deadline_year=2025)
    w = 1 / ses**2
    xw = (w * years).sum() / w.sum()
    var = 1 / w.sum() + (2025 - xw) ** 2 / (w * (years - xw) ** 2).sum()
    assert res.projected == pytest.approx(44.0)
    assert _sd_from_band(res, float(sps.t.ppf(0.9, 2))) == pytest.approx(math.sqrt(var), rel=1e-9)


@pytest.mark.parametrize("tau", [0.0, 2.0])
def test_se_interval_covers_true_level(tau: float) -> None:
    rng = np.random.default_rng(99)
    years = list(range(2015, 2023))
    ses = np.array([1.0, 0.5, 1.5, 1.0, 0.7, 1.2, 0.8, 1.0])
    reps, hits = 2000, 0
    for _ in range(reps):
        y = 5 + 1.5 * np.arange(8) + rng.normal(0, tau, 8) * (tau > 0) + rng.normal(0, ses)
        res = _rate(list(y), years, ses=list(ses), target=1e6, deadline_year=2028)
        level = 5 + 1.5 * 13 + (rng.normal(0, tau) if tau > 0 else 0.0)
        assert res.low is not None and res.high is not None
        hits += res.low <= level <= res.high
    cover = hits / reps
    if tau == 0:
        assert 0.78 <= cover <= 0.97  # t(n-2) and a truncated tau^2 make it conservative
    else:
        assert 0.76 <= cover <= 0.85  # ignoring tau^2 would give about 0.36


def test_missing_ses_are_imputed_with_largest_se() -> None:
    years = [2018, 2019, 2020, 2021]
    values = [10.0, 12.5, 13.0, 16.0]
    partial = _rate(values, years, ses=[1.0, None, 3.0, float("nan")])
    full = _rate(values, years, ses=[1.0, 3.0, 3.0, 3.0])
    assert partial == full
    assert _rate(values, years, ses=[None, None, None, None]) == _rate(values, years)


def test_baseline_and_one_point_use_line_and_default_band() -> None:
    res = _rate([20.0], [2022], baseline=(2018, 12.0), target=40.0, deadline_year=2030)
    # slope 2/yr, projected 20 + 2*8 = 36, default 80 % band = +-0.5*2*8 = +-8.
    assert res.actual_pace == pytest.approx(2.0)
    assert res.projected == pytest.approx(36.0)
    assert res.low == pytest.approx(28.0)
    assert res.high == pytest.approx(44.0)
    sd = 8.0 / Z90
    assert res.probability == pytest.approx(float(sps.norm.sf((40 - 36) / sd)))
    assert res.status == "at_risk"
    assert res.n_points == 1
    assert res.required_pace == pytest.approx(20.0 / 8)


def test_baseline_ignored_when_not_before_first_observation() -> None:
    values = [10.0, 12.0, 14.0]
    years = [2020, 2021, 2022]
    assert _rate(values, years, baseline=(2020, 0.0)) == _rate(values, years)
    assert _rate(values, years, baseline=(2021, 50.0)) == _rate(values, years)
    assert _rate(values, years, baseline=(2019, 50.0)) != _rate(values, years)


def test_two_points_with_ses_use_propagated_sampling_variance() -> None:
    res = _rate([10.0, 14.0], [2020, 2022], ses=[1.0, 1.0], target=20.0, deadline_year=2026)
    # c = [-2, 3] so var = 4 + 9 = 13; normal distribution.
    assert res.projected == pytest.approx(22.0)
    assert _sd_from_band(res, Z90) == pytest.approx(math.sqrt(13.0))
    assert res.probability == pytest.approx(float(sps.norm.sf((20 - 22) / math.sqrt(13))))


def test_single_point_without_baseline_gives_no_forecast() -> None:
    res = _rate([20.0], [2022], target=40.0)
    assert res.status == "no_data"
    assert res.rule == "insufficient_data"
    assert res.probability is None
    assert res.projected == 20.0
    assert res.current == 20.0
    assert res.actual_pace is None
    assert res.achieved_pct == pytest.approx(50.0)


@pytest.mark.parametrize("kind", ["rate", "coverage"])
def test_met_when_latest_value_reaches_target(kind: str) -> None:
    res = assess(
        kind,  # type: ignore[arg-type]
        target=15.0,
        deadline_year=2030,
        evaluation_year=2024,
        years=[2020, 2021, 2022],
        values=[10.0, 16.0, 15.0],
    )
    assert res.status == "met"
    assert res.rule == "met_already"
    assert res.probability == 1.0
    assert res.required_pace is None
    assert res.achieved_pct == pytest.approx(100.0)


def test_deadline_passed_not_met() -> None:
    years = [2018, 2019, 2020, 2021]
    values = [10.0, 11.0, 12.0, 13.0]
    res = _rate(values, years, target=20.0, deadline_year=2020, evaluation_year=2024)
    assert res.status == "off_track"
    assert res.rule == "deadline_passed"
    assert res.probability == 0.0
    assert res.projected == 12.0  # value observed in the deadline year
    assert res.required_pace is None
    assert res.low is None and res.high is None
    # Deadline not observed -> latest value.
    late = _rate([10.0, 11.0], [2018, 2019], target=20.0, deadline_year=2021, evaluation_year=2023)
    assert late.rule == "deadline_passed" and late.projected == 11.0
    # Data already reach the deadline year -> final even if the evaluation year is earlier.
    reached = _rate(values, years, target=20.0, deadline_year=2021, evaluation_year=2021)
    assert reached.rule == "deadline_passed"


def test_met_late_after_deadline_counts_as_met() -> None:
    res = _rate([10.0, 15.0, 21.0], [2019, 2020, 2021], target=20.0, deadline_year=2020, evaluation_year=2024)
    assert res.status == "met"


@pytest.mark.parametrize("kind", ["rate", "coverage", "stock", "flow"])
def test_no_data(kind: str) -> None:
    for years, values in (([], []), ([2020, 2021], [float("nan"), float("nan")])):
        res = assess(
            kind,  # type: ignore[arg-type]
            target=10.0,
            deadline_year=2030,
            evaluation_year=2024,
            years=years,
            values=values,
        )
        assert res.status == "no_data"
        assert res.rule == "no_data"
        assert res.n_points == 0
        assert res.current is None and res.probability is None and res.projected is None


def test_required_pace_and_achievement() -> None:
    res = _rate([10.0, 11.0, 13.0, 14.0], target=40.0, deadline_year=2030)
    assert res.current == 14.0 and res.current_year == 2021
    assert res.required_pace == pytest.approx((40 - 14) / 9)
    assert res.achieved_pct == pytest.approx(35.0)


def test_input_order_does_not_matter() -> None:
    a = _rate([10.0, 11.5, 13.0, 13.4], [2018, 2019, 2020, 2021], ses=[1.0, 2.0, 1.0, 0.5])
    b = _rate([13.4, 10.0, 13.0, 11.5], [2021, 2018, 2020, 2019], ses=[0.5, 1.0, 1.0, 2.0])
    assert a == b


def test_band_width_follows_band() -> None:
    values = [3.0, 4.1, 4.9, 6.3, 6.8]
    res50 = _rate(values, band=0.5)
    res95 = _rate(values, band=0.95)
    assert res50.low is not None and res95.low is not None and res50.high is not None
    assert res95.high is not None
    assert res95.low < res50.low < res50.high < res95.high
    ratio = (res95.high - res95.low) / (res50.high - res50.low)
    assert ratio == pytest.approx(float(sps.t.ppf(0.975, 3) / sps.t.ppf(0.75, 3)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "bogus"},
        {"target": float("nan")},
        {"band": 1.0},
        {"on_track_p": 0.1, "at_risk_p": 0.5},
        {"deadline_year": None},
        {"years": [2020, 2020], "values": [1.0, 2.0]},
        {"years": [2020], "values": [1.0, 2.0]},
        {"ses": [1.0]},
        {"years": [2020.5, 2021], "values": [1.0, 2.0]},
    ],
)
def test_invalid_input_raises(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "kind": "rate",
        "target": 10.0,
        "deadline_year": 2030,
        "evaluation_year": 2024,
        "years": [2020, 2021],
        "values": [1.0, 2.0],
    }
    args.update(kwargs)
    kind = args.pop("kind")
    with pytest.raises(ValueError):
        assess(kind, **args)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- status


def test_classify_thresholds_are_inclusive_below() -> None:
    assert classify(0.6) == ("on_track", "prob_ge_on")
    assert classify(0.5999) == ("at_risk", "prob_between")
    assert classify(0.2) == ("at_risk", "prob_between")
    assert classify(0.1999) == ("off_track", "prob_lt_risk")
    assert classify(0.85, on_track_p=0.9, at_risk_p=0.5) == ("at_risk", "prob_between")
    assert set(RULES) >= {
        "met_already",
        "prob_ge_on",
        "prob_between",
        "prob_lt_risk",
        "no_data",
        "deadline_passed",
    }


@pytest.mark.parametrize(
    ("p", "status"),
    [(0.9, "on_track"), (0.61, "on_track"), (0.59, "at_risk"), (0.21, "at_risk"), (0.19, "off_track")],
)
def test_status_from_probability_end_to_end(p: float, status: str) -> None:
    # Two points with ses -> normal(22, sqrt(13)); choose the target giving probability p.
    target = 22.0 - math.sqrt(13.0) * float(sps.norm.ppf(p))
    res = _rate([10.0, 14.0], [2020, 2022], ses=[1.0, 1.0], target=target, deadline_year=2026)
    assert res.probability == pytest.approx(p)
    assert res.status == status


def test_custom_thresholds() -> None:
    target = 22.0 - math.sqrt(13.0) * float(sps.norm.ppf(0.7))
    kw: dict[str, object] = {"ses": [1.0, 1.0], "target": target, "deadline_year": 2026}
    assert _rate([10.0, 14.0], [2020, 2022], **kw).status == "on_track"
    assert _rate([10.0, 14.0], [2020, 2022], on_track_p=0.8, **kw).status == "at_risk"
    assert _rate([10.0, 14.0], [2020, 2022], on_track_p=0.9, at_risk_p=0.75, **kw).status == "off_track"


@st.composite
def _series(draw: st.DrawFn) -> tuple[str, list[int], list[float], list[float | None] | None]:
    kind = draw(st.sampled_from(["rate", "coverage", "stock", "flow"]))
    n = draw(st.integers(1, 8))
    years = sorted(draw(st.sets(st.integers(2012, 2024), min_size=n, max_size=n)))
    values = draw(st.lists(st.floats(0, 100), min_size=n, max_size=n))
    ses: list[float | None] | None = None
    if kind in ("rate", "coverage") and draw(st.booleans()):
        ses = draw(st.lists(st.none() | st.floats(0.1, 10), min_size=n, max_size=n))
    return kind, years, values, ses


@hsettings
@given(series=_series(), t1=st.floats(-50, 1000), t2=st.floats(-50, 1000), deadline=st.integers(2020, 2035))
def test_probability_is_monotone_in_target(
    series: tuple[str, list[int], list[float], list[float | None] | None], t1: float, t2: float, deadline: int
) -> None:
    kind, years, values, ses = series
    lo, hi = min(t1, t2), max(t1, t2)
    common: dict[str, object] = {
        "deadline_year": deadline,
        "evaluation_year": 2025,
        "years": years,
        "values": values,
        "ses": ses,
        "period_start": 2012,
    }
    a = assess(kind, target=lo, **common)  # type: ignore[arg-type]
    b = assess(kind, target=hi, **common)  # type: ignore[arg-type]
    assume(a.probability is not None and b.probability is not None)
    assert a.probability is not None and b.probability is not None
    assert a.probability >= b.probability - 1e-12
    for res in (a, b):
        assert res.probability is not None
        assert 0.0 <= res.probability <= 1.0
        if res.rule.startswith("prob_"):
            assert (res.status, res.rule) == classify(res.probability)
        if res.low is not None and res.high is not None and res.projected is not None:
            assert res.low <= res.high + 1e-9


# ----------------------------------------------------------------------------- stock


def test_stock_constant_increments() -> None:
    res = assess(
        "stock",
        target=100.0,
        deadline_year=2030,
        evaluation_year=2025,
        years=[2020, 2021, 2022, 2023, 2024],
        values=[10.0] * 5,
        period_start=2020,
    )
    assert res.current == 50.0
    assert res.current_year == 2024
    assert res.actual_pace == pytest.approx(10.0)
    assert res.projected == pytest.approx(110.0)  # 50 + 10 * 6 remaining years 2025..2030
    assert res.low == pytest.approx(110.0) and res.high == pytest.approx(110.0)
    assert res.probability == 1.0 and res.status == "on_track"
    assert res.required_pace == pytest.approx(50.0 / 6)
    assert res.achieved_pct == pytest.approx(50.0)


def test_stock_gaps_inside_observed_range_count_as_zero() -> None:
    res = assess(
        "stock",
        target=200.0,
        deadline_year=2030,
        evaluation_year=2025,
        years=[2021, 2023],
        values=[10.0, 20.0],
        period_start=2019,
    )
    # Window 2021..2023 (2019-2020 before the first report are unknown): increments 10, 0, 20.
    assert res.current == 30.0
    assert res.actual_pace == pytest.approx(10.0)
    r, k = 7, 3
    assert res.projected == pytest.approx(30.0 + 10.0 * r)
    sd = float(np.std([10.0, 0.0, 20.0], ddof=1)) * math.sqrt(r + r * r / k)
    assert res.high == pytest.approx(100.0 + float(sps.t.ppf(0.9, k - 1)) * sd)
    assert res.n_points == 2


def test_stock_poisson_variance_with_few_years() -> None:
    res = assess(
        "stock",
        target=150.0,
        deadline_year=2026,
        evaluation_year=2023,
        years=[2021, 2022],
        values=[12.0, 8.0],
        period_start=2021,
    )
    mean, r, k = 10.0, 4, 2
    sd = math.sqrt(mean * (r + r * r / k))
    assert res.projected == pytest.approx(60.0)
    assert res.high == pytest.approx(60.0 + Z90 * sd)
    assert res.low == pytest.approx(max(20.0, 60.0 - Z90 * sd))
    assert res.probability == pytest.approx(float(sps.norm.sf((150 - 60) / sd)))
    assert res.status == "off_track"


def test_stock_lower_bound_not_below_current_total() -> None:
    kw: dict[str, object] = {"target": 1000.0, "deadline_year": 2030, "evaluation_year": 2023}
    res = assess("stock", years=[2019, 2020, 2021, 2022], values=[0.0, 10.0, 0.0, 0.0], **kw)  # type: ignore[arg-type]
    # Unfloored: 10 + 2.5*8 - t(3)*5*sqrt(8 + 64/4) < 10.
    assert 30.0 - float(sps.t.ppf(0.9, 3)) * 5.0 * math.sqrt(24.0) < 10.0
    assert res.low == pytest.approx(10.0)
    # With a negative increment there is no floor.
    neg = assess("stock", years=[2019, 2020, 2021, 2022], values=[0.0, 11.0, 0.0, -1.0], **kw)  # type: ignore[arg-type]
    assert neg.low is not None and neg.low < 10.0


def test_stock_ignores_observations_before_period_start() -> None:
    kw: dict[str, object] = {
        "target": 100.0,
        "deadline_year": 2030,
        "evaluation_year": 2025,
        "period_start": 2020,
    }
    with_old = assess("stock", years=[2018, 2020, 2021, 2022], values=[500.0, 5.0, 6.0, 7.0], **kw)  # type: ignore[arg-type]
    without = assess("stock", years=[2020, 2021, 2022], values=[5.0, 6.0, 7.0], **kw)  # type: ignore[arg-type]
    assert with_old == without
    assert without.current == 18.0


def test_stock_met_and_deadline_passed() -> None:
    met = assess(
        "stock",
        target=30.0,
        deadline_year=2030,
        evaluation_year=2023,
        years=[2021, 2022],
        values=[20.0, 15.0],
        period_start=2021,
    )
    assert met.status == "met" and met.probability == 1.0 and met.required_pace is None
    passed = assess(
        "stock",
        target=100.0,
        deadline_year=2022,
        evaluation_year=2025,
        years=[2020, 2021, 2022, 2023],
        values=[10.0, 10.0, 10.0, 10.0],
        period_start=2020,
    )
    assert passed.rule == "deadline_passed" and passed.probability == 0.0
    assert passed.projected == 30.0  # total up to and including the deadline year
    assert passed.current == 40.0


@pytest.mark.parametrize("poisson", [False, True])
def test_stock_interval_coverage(poisson: bool) -> None:
    rng = np.random.default_rng(7)
    reps, hits = 2000, 0
    years = [2021, 2022] if poisson else [2018, 2019, 2020, 2021, 2022]
    for _ in range(reps):
        inc = rng.poisson(30, 2) if poisson else rng.normal(10, 3, 5)
        res = assess(
            "stock",
            target=1e9,
            deadline_year=2030,
            evaluation_year=2023,
            years=years,
            values=[float(v) for v in inc],
            period_start=years[0],
        )
        future = rng.poisson(30, 8).sum() if poisson else rng.normal(10, 3, 8).sum()
        assert res.low is not None and res.high is not None
        hits += res.low <= inc.sum() + future <= res.high
    # Without the pace-uncertainty term R^2/k the coverage would be about 0.43 (poisson) / 0.61.
    assert 0.76 <= hits / reps <= 0.84


# ----------------------------------------------------------------------------- flow


def _flow(values: list[float], years: list[int], **kw: object) -> Assessment:
    args: dict[str, object] = {"target": 500.0, "deadline_year": None, "evaluation_year": 2024}
    args.update(kw)
    return assess("flow", years=years, values=values, **args)  # type: ignore[arg-type]


def test_flow_evaluation_year_observed() -> None:
    met = _flow([400.0, 450.0, 520.0], [2022, 2023, 2024])
    assert met.status == "met" and met.projected == 520.0 and met.required_pace is None
    missed = _flow([600.0, 550.0, 480.0], [2022, 2023, 2024])
    assert missed.status == "off_track" and missed.probability == 0.0
    assert missed.rule == "deadline_passed"
    assert missed.achieved_pct == pytest.approx(96.0)
    # The evaluation year decides, not the latest year.
    earlier = _flow([520.0, 400.0], [2024, 2025])
    assert earlier.status == "met" and earlier.current == 400.0 and earlier.current_year == 2025


def test_flow_linear_trend_projects_exactly() -> None:
    res = _flow([300.0, 350.0, 400.0, 450.0], [2019, 2020, 2021, 2022], evaluation_year=2025)
    assert res.projected == pytest.approx(600.0)
    assert res.actual_pace == pytest.approx(50.0)
    assert res.low == pytest.approx(600.0) and res.high == pytest.approx(600.0)
    assert res.required_pace == 500.0
    assert res.status == "on_track" and res.probability == 1.0


def test_flow_two_years_use_mean_and_t1() -> None:
    res = _flow([400.0, 560.0], [2022, 2023])
    sd = float(np.std([400.0, 560.0], ddof=1)) * math.sqrt(1.5)
    assert res.projected == pytest.approx(480.0)
    assert res.actual_pace == pytest.approx(160.0)
    assert res.high == pytest.approx(480.0 + float(sps.t.ppf(0.9, 1)) * sd)
    assert res.probability == pytest.approx(float(sps.t.sf((500 - 480) / sd, 1)))
    assert res.status == "at_risk"


def test_flow_single_year_gives_no_forecast() -> None:
    res = _flow([480.0], [2023])
    assert res.rule == "insufficient_data" and res.probability is None and res.current == 480.0


# ----------------------------------------------------------------------------- predictive


def test_predictive_point_mass_and_t() -> None:
    assert Predictive(5.0, 0.0).prob_at_least(5.0) == 1.0
    assert Predictive(5.0, 0.0).prob_at_least(5.0001) == 0.0
    p = Predictive(10.0, 2.0, 4.0)
    assert p.prob_at_least(10.0) == pytest.approx(0.5)
    assert p.prob_at_least(12.0) == pytest.approx(float(sps.t.sf(1.0, 4)))
    lo, hi = p.interval(0.8)
    assert p.prob_at_least(hi) == pytest.approx(0.1) and p.prob_at_least(lo) == pytest.approx(0.9)


# ----------------------------------------------------------------------------- helpers


@hsettings
@given(
    by=st.integers(2000, 2030),
    span=st.integers(1, 30),
    bv=st.floats(-1e6, 1e6),
    tv=st.floats(-1e6, 1e6),
)
def test_interpolate_endpoints_and_linearity(by: int, span: int, bv: float, tv: float) -> None:
    dy = by + span
    years = list(range(by - 2, dy + 3))
    m = interpolate_milestones(by, bv, dy, tv, years)
    assert set(m) == set(years)
    assert m[by] == bv
    assert m[dy] == tv
    assert m[by - 2] == bv and m[dy + 2] == tv  # clamped outside the plan period
    for y in range(by, dy + 1):
        assert m[y] == pytest.approx(bv + (tv - bv) * (y - by) / span, abs=1e-6 * (1 + abs(bv) + abs(tv)))


def test_interpolate_errors_and_stock_milestones() -> None:
    with pytest.raises(ValueError):
        interpolate_milestones(2030, 0.0, 2030, 1.0, [2030])
    assert interpolate_milestones(2020, 0.0, 2030, 1.0, []) == {}
    m = stock_milestones(2021, 2030, 1000.0, [2020, 2021, 2025, 2030])
    assert m == {2020: 0.0, 2021: 100.0, 2025: 500.0, 2030: 1000.0}


def test_population_weighted_mean() -> None:
    assert population_weighted_mean([10.0, 20.0, 40.0], [1.0, 1.0, 2.0]) == pytest.approx(27.5)
    assert population_weighted_mean(np.array([3.0]), np.array([5.0])) == 3.0
    assert population_weighted_mean([1.0, 9.0], [0.0, 2.0]) == 9.0
    for values, weights in (
        ([], []),
        ([1.0, 2.0], [0.0, 0.0]),
        ([1.0], [1.0, 2.0]),
        ([1.0], [-1.0]),
        ([float("nan")], [1.0]),
    ):
        with pytest.raises(ValueError):
            population_weighted_mean(values, weights)


def test_split_by_share_examples() -> None:
    assert split_by_share(10, {"a": 1, "b": 1, "c": 1}, integer=True) == {"a": 4.0, "b": 3.0, "c": 3.0}
    assert split_by_share(100, {"a": 0.5, "b": 0.3, "c": 0.2}, integer=True) == {
        "a": 50.0,
        "b": 30.0,
        "c": 20.0,
    }
    assert split_by_share(7, {"a": 0.7, "b": 0.3}, integer=False) == pytest.approx({"a": 4.9, "b": 2.1})
    assert split_by_share(-10, {"a": 2, "b": 1}, integer=True) == {"a": -7.0, "b": -3.0}
    for shares in ({}, {"a": 0.0}, {"a": -1.0, "b": 2.0}, {"a": float("inf")}):
        with pytest.raises(ValueError):
            split_by_share(10, shares, integer=True)


@hsettings
@given(
    total=st.floats(-1e7, 1e7),
    shares=st.dictionaries(st.text(min_size=1, max_size=4), st.floats(0, 1e6), min_size=1, max_size=12),
)
def test_split_by_share_sums_exactly(total: float, shares: dict[str, float]) -> None:
    assume(sum(shares.values()) > 0)
    parts = split_by_share(total, shares, integer=True)
    assert list(parts) == list(shares)
    assert sum(int(v) for v in parts.values()) == round(total)
    assert all(v == int(v) for v in parts.values())
    s = sum(shares.values())
    for k, v in parts.items():
        quota = round(total) * shares[k] / s
        assert abs(v - quota) < 1 + 1e-6 * abs(quota)
        if shares[k] == 0:
            assert v == 0
    cont = split_by_share(total, shares, integer=False)
    assert sum(cont.values()) == pytest.approx(total, rel=1e-9, abs=1e-6)


def test_stats_does_not_import_django() -> None:
    code = (
        "import sys, kepu.stats.forecast\n"
        "sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)}, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
