"""kepu.stats.raking: weights against R's rake() and calibrate(calfun="raking") (reference/survey_reference.json),
margin checks, convergence reporting, the variance choice, trimming and the Kish design effect. (The standard
errors of raked designs against R are in test_survey.py.)"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kepu.stats.raking import Margin, MarginError, RakeResult, RakingError, kish_deff, rake
from kepu.stats.survey import CalibrationInfo, Design, GregCalibration, MissingValueError, SurveyError
from kepu.stats.tests.test_survey import columns, reference


def raked(dataset: str, lonely: str = "fail", **kw: Any) -> RakeResult:
    c = columns(dataset)
    d = Design.from_arrays(strata=c["stratum"], psu=c["psu"], weights=c["w"], lonely_psu=lonely)
    margins = [Margin(v, c[v], t) for v, t in reference()["datasets"][dataset]["margins"].items()]
    return rake(d, margins, **{"max_iter": 2000, "tol": 1e-14, **kw})


@pytest.mark.parametrize("variance", ["calibrate", "rake"])
@pytest.mark.parametrize("dataset", ["d1", "d2", "d3"])
def test_weights_match_r(dataset: str, variance: str) -> None:
    """The weights are R's rake() weights and R's calibrate(calfun="raking") weights whatever the variance."""
    block = reference()["datasets"][dataset]
    lonely = next(iter(block["rake"]))
    r = raked(dataset, lonely, variance=variance)
    assert r.converged and r.max_error <= 1e-14 and r.variance == variance
    for key in ("rake", "calibrate"):
        expected = block[key][lonely]
        np.testing.assert_allclose(r.weights, np.array(expected["weights"]), rtol=1e-9)
        summary = expected["weights_summary"]
        assert r.weights.sum() == pytest.approx(summary["sum"], rel=1e-12)
        assert r.weights.min() == pytest.approx(summary["min"], rel=1e-9)
        assert r.weights.max() == pytest.approx(summary["max"], rel=1e-9)
        assert r.kish_deff == pytest.approx(kish_deff(np.array(expected["weights"])), rel=1e-9)
    cal = r.design.calibrations[-1]
    assert r.design.is_calibrated and cal.names == tuple(block["margins"])
    assert isinstance(cal, GregCalibration if variance == "calibrate" else CalibrationInfo)


def test_variance_choice() -> None:
    c = columns("d1")
    default = raked("d1")
    assert default.variance == "calibrate" and isinstance(default.design.calibrations[-1], GregCalibration)
    cal = default.design.calibrations[-1]
    assert isinstance(cal, GregCalibration)
    np.testing.assert_array_equal(cal.base_weights, c["w"])
    np.testing.assert_array_equal(cal.weights, default.weights)
    by_rake = raked("d1", variance="rake")
    np.testing.assert_array_equal(by_rake.weights, default.weights)
    assert default.design.mean(c["y"]).se != by_rake.design.mean(c["y"]).se
    with pytest.raises(SurveyError, match="variance must be one of 'calibrate', 'rake'; got 'greg'"):
        raked("d1", variance="greg")


def test_default_tolerance_is_close_to_r() -> None:
    """The defaults (50 passes, 1e-10) give weights within ~1e-10 of fully converged ones."""
    r = raked("d1", max_iter=50, tol=1e-10)
    assert r.converged and r.iterations < 50 and r.max_error <= 1e-10
    expected = np.array(reference()["datasets"]["d1"]["rake"]["fail"]["weights"])
    np.testing.assert_allclose(r.weights, expected, rtol=1e-8)
    assert 0 <= r.max_change < 1e-8


def test_margins_are_hit() -> None:
    c = columns("d2")
    r = raked("d2")
    for v, totals in reference()["datasets"]["d2"]["margins"].items():
        for label, total in totals.items():
            assert r.weights[c[v] == label].sum() == pytest.approx(total, rel=1e-13)


def test_not_converged_raises_with_margin_and_error() -> None:
    with pytest.raises(RakingError) as info:
        raked("d1", max_iter=1, tol=1e-12)
    err = info.value
    assert err.margin == "sex" and err.error > 1e-12 and err.iterations == 1
    assert "'sex'" in str(err) and "did not converge after 1 iterations" in str(err)
    r = raked("d1", max_iter=1, tol=1e-12, require_convergence=False)
    assert not r.converged and r.iterations == 1 and r.max_error == pytest.approx(err.error)
    assert r.design.mean(columns("d1")["y"]).se > 0


def small() -> tuple[Design, np.ndarray, np.ndarray]:
    d = Design.from_arrays(
        strata=[1, 1, 1, 1, 2, 2, 2, 2], psu=[1, 1, 2, 2, 1, 1, 2, 2], weights=[10.0, 12, 9, 11, 20, 22, 18, 25]
    )
    sex = np.array(list("FMFMFMFM"))
    area = np.array([1, 1, 2, 2, 1, 2, 1, 2])  # integer codes, totals keyed by str(code)
    return d, sex, area


def test_margin_category_errors_name_column_and_categories() -> None:
    d, sex, area = small()
    with pytest.raises(MarginError, match=r"margin 'sex': categories present in the data but missing .*'M'"):
        rake(d, [Margin("sex", sex, {"F": 100.0})])
    with pytest.raises(MarginError, match=r"margin 'sex': categories in the population totals but absent .*'X'"):
        rake(d, [Margin("sex", sex, {"F": 100.0, "M": 100.0, "X": 5.0})])
    with pytest.raises(MarginError, match=r"population total of zero: 'M'"):
        rake(d, [Margin("sex", sex, {"F": 100.0, "M": 0.0})])
    with pytest.raises(MarginError, match="finite non-negative"):
        rake(d, [Margin("sex", sex, {"F": 100.0, "M": -3.0})])
    with pytest.raises(
        MarginError, match=r"margin totals differ.*cannot converge: 'sex' sums to 200 but 'area' sums to 210"
    ):
        rake(d, [Margin("sex", sex, {"F": 100.0, "M": 100.0}), Margin("area", area, {"1": 100.0, "2": 110.0})])
    with pytest.raises(MissingValueError, match="margin 'sex'"):
        rake(d, [Margin("sex", np.array(["F", None] * 4, dtype=object), {"F": 1.0})])
    with pytest.raises(MarginError, match="at least one margin"):
        rake(d, [])
    with pytest.raises(SurveyError, match="trim bounds"):
        rake(d, [Margin("sex", sex, {"F": 100.0, "M": 100.0})], trim=(1.5, 3.0))
    assert issubclass(MarginError, ValueError) and issubclass(RakingError, ValueError)


def test_zero_total_for_a_category_without_respondents_is_ignored() -> None:
    d, sex, area = small()
    r = rake(d, [Margin("sex", sex, {"F": 120.0, "M": 80.0, "X": 0.0}), Margin("area", area, {"1": 90, "2": 110})])
    assert r.converged
    assert r.weights[sex == "F"].sum() == pytest.approx(120) and r.weights[area == 2].sum() == pytest.approx(110)


def test_already_calibrated_weights_stay() -> None:
    d, sex, _ = small()
    totals = {"F": float(d.weights[sex == "F"].sum()), "M": float(d.weights[sex == "M"].sum())}
    r = rake(d, [Margin("sex", sex, totals)])
    assert r.converged and r.iterations == 1
    np.testing.assert_allclose(r.weights, d.weights, rtol=1e-15)
    assert not d.is_calibrated and r.design.is_calibrated
    assert not r.design.with_weights(r.weights).is_calibrated


def test_trimming_keeps_bounds_total_and_margins() -> None:
    c = columns("d2")
    plain = raked("d2")
    mean_w = plain.weights.mean()
    assert plain.weights.max() > 2.0 * mean_w  # the bound below is binding
    r = raked("d2", trim=(0.3, 2.0), tol=1e-10)
    assert r.converged and r.trimmed > 0
    assert r.weights.max() <= 2.0 * mean_w * (1 + 1e-8)
    assert r.weights.min() >= 0.3 * mean_w * (1 - 1e-8)
    assert r.weights.sum() == pytest.approx(plain.weights.sum(), rel=1e-12)
    for v, totals in reference()["datasets"]["d2"]["margins"].items():
        for label, total in totals.items():
            assert r.weights[c[v] == label].sum() == pytest.approx(total, rel=1e-9)
    assert r.kish_deff < plain.kish_deff
    assert r.design.mean(c["y"]).se > 0
    untouched = raked("d2", trim=(0.0, 1000.0))
    assert untouched.trimmed == 0
    np.testing.assert_allclose(untouched.weights, plain.weights, rtol=1e-12)


def test_infeasible_trimming_reports_non_convergence() -> None:
    d, sex, _ = small()
    with pytest.raises(RakingError):
        rake(d, [Margin("sex", sex, {"F": 190.0, "M": 10.0})], trim=(0.9, 1.1))


def test_kish_deff() -> None:
    assert kish_deff(np.full(10, 3.0)) == pytest.approx(1.0)
    w = np.array([1.0, 1, 1, 4])
    assert kish_deff(w) == pytest.approx(4 * 19 / 49)
    assert kish_deff(w) == pytest.approx(1 + (w.std() / w.mean()) ** 2)
    assert math.isnan(kish_deff(np.array([])))


@st.composite
def raking_problems(draw: st.DrawFn) -> tuple[Design, list[Margin]]:
    n = draw(st.integers(6, 40))
    strata = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    psu = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.floats(0.5, 20), min_size=n, max_size=n)))
    d = Design.from_arrays(strata=strata, psu=psu, weights=w, lonely_psu="remove")
    total = draw(st.floats(50, 5000))
    margins = []
    for name in ("a", "b"):
        cats = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
        present = np.unique(cats)
        shares = np.array(draw(st.lists(st.floats(0.2, 1), min_size=present.size, max_size=present.size)))
        shares = shares / shares.sum()
        margins.append(Margin(name, cats, {str(k): float(total * s) for k, s in zip(present, shares, strict=True)}))
    return d, margins


@settings(max_examples=60, deadline=None)
@given(raking_problems())
def test_raking_hits_the_margins(problem: tuple[Design, list[Margin]]) -> None:
    d, margins = problem
    try:
        r = rake(d, margins, max_iter=500, tol=1e-10)
    except RakingError:
        # IPF has no solution when cells force incompatible totals (e.g. a category of `a` that only
        # contains one category of `b`); then convergence is not claimed.
        try:
            r = rake(d, margins, max_iter=500, tol=1e-10, require_convergence=False)
        except RakingError as exc:
            assert "cannot be met together" in str(exc)
        else:
            assert not r.converged and (r.weights > 0).all()
        return
    assert r.converged
    for m in margins:
        for label, total in m.totals.items():
            assert r.weights[m.categories.astype(str) == label].sum() == pytest.approx(total, rel=1e-9)
    assert (r.weights > 0).all()
    assert r.kish_deff >= 1 - 1e-12
