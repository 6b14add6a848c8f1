"""Tests for kepu.stats.irt on simulated data whose true parameters are known."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from kepu.stats import irt
from kepu.stats.irt import TwoPLFit, fit_2pl

SRC = Path(irt.__file__).resolve().parents[2]
hsettings = settings(database=None, max_examples=100, deadline=None)

N_PERSONS = 3000
N_ITEMS = 30
N_ANCHORS = 10


def _items(rng: np.random.Generator, n_items: int = N_ITEMS) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0.6, 2.0, n_items), rng.uniform(-2.0, 2.0, n_items)


def _rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((x - y) ** 2)))


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


@pytest.fixture(scope="module")
def wave1() -> dict[str, object]:
    rng = np.random.default_rng(20240601)
    a, b = _items(rng)
    theta = rng.normal(size=N_PERSONS)
    x = irt.simulate_2pl(theta, a, b, rng)
    return {"a": a, "b": b, "theta": theta, "x": x, "fit": fit_2pl(x)}


# --------------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------------


def test_recovers_item_parameters(wave1: dict[str, object]) -> None:
    fit = wave1["fit"]
    assert isinstance(fit, TwoPLFit)
    a, b = np.asarray(wave1["a"]), np.asarray(wave1["b"])
    assert fit.converged and fit.iterations < 200
    assert _corr(fit.a, a) > 0.95
    assert _corr(fit.b, b) > 0.95
    assert _rmse(fit.b, b) < 0.15
    assert _rmse(fit.a, a) < 0.15
    # the reference scale is N(0, 1) and nothing is fixed
    assert (fit.mean, fit.sd, fit.se_mean, fit.se_sd) == (0.0, 1.0, 0.0, 0.0)
    assert not fit.fixed.any()
    assert np.all(fit.se_a > 0) and np.all(fit.se_b > 0)
    # the estimates are within a few standard errors of the truth
    assert np.mean(np.abs(fit.b - b) / fit.se_b) < 1.5
    assert np.mean(np.abs(fit.a - a) / fit.se_a) < 1.5
    assert np.isfinite(fit.loglik) and fit.loglik < 0


def test_fit_is_deterministic(wave1: dict[str, object]) -> None:
    fit = wave1["fit"]
    assert isinstance(fit, TwoPLFit)
    again = fit_2pl(np.asarray(wave1["x"]))
    assert np.array_equal(fit.a, again.a) and np.array_equal(fit.b, again.b)
    assert np.array_equal(fit.se_a, again.se_a) and fit.loglik == again.loglik


def test_looser_tolerance_stops_earlier_and_max_iter_is_respected(wave1: dict[str, object]) -> None:
    x = np.asarray(wave1["x"])
    fit = wave1["fit"]
    assert isinstance(fit, TwoPLFit)
    loose = fit_2pl(x, tol=1e-2)
    assert loose.converged and loose.iterations <= fit.iterations
    short = fit_2pl(x, max_iter=3)
    assert not short.converged and short.iterations <= 3
    assert short.loglik <= fit.loglik + 1e-6


def test_standard_errors_match_the_spread_over_replications() -> None:
    rng = np.random.default_rng(7)
    a, b = _items(rng)
    reps = [fit_2pl(irt.simulate_2pl(rng.normal(size=N_PERSONS), a, b, rng)) for _ in range(12)]
    est_a = np.array([f.a for f in reps])
    est_b = np.array([f.b for f in reps])
    ratio_a = est_a.std(axis=0, ddof=1) / np.mean([f.se_a for f in reps], axis=0)
    ratio_b = est_b.std(axis=0, ddof=1) / np.mean([f.se_b for f in reps], axis=0)
    # 12 replications: each ratio is noisy (~20 %), their mean over 30 items is not
    assert 0.8 < ratio_a.mean() < 1.25
    assert 0.8 < ratio_b.mean() < 1.25
    z_b = (est_b - b) / np.array([f.se_b for f in reps])
    assert 0.7 < z_b.var() < 1.4


def _quadrature_loglik(x: np.ndarray, a: np.ndarray, c: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> float:
    """Marginal log-likelihood with 41 Gauss-Hermite nodes, written independently of the module."""
    z, w = np.polynomial.hermite_e.hermegauss(41)
    w = w / w.sum()
    theta = mean + sd * z
    p = 1.0 / (1.0 + np.exp(-(a[None, :] * theta[:, None] + c[None, :])))  # Q x J
    total = 0.0
    for row in x:
        seen = ~np.isnan(row)
        lik = np.prod(np.where(row[seen] == 1.0, p[:, seen], 1.0 - p[:, seen]), axis=1)
        total += np.log(lik @ w)
    return float(total)


def _numerical_hessian(f: object, x0: np.ndarray, h: float = 1e-4) -> np.ndarray:
    assert callable(f)
    k = x0.size
    eye = np.eye(k) * h
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            out[i, j] = out[j, i] = (
                f(x0 + eye[i] + eye[j]) - f(x0 + eye[i] - eye[j]) - f(x0 - eye[i] + eye[j]) + f(x0 - eye[i] - eye[j])
            ) / (4 * h * h)
    return out


def test_louis_standard_errors_equal_the_inverse_numerical_hessian() -> None:
    rng = np.random.default_rng(3)
    n_items = 4
    a, b = _items(rng, n_items)
    x = irt.simulate_2pl(rng.normal(size=400), a, b, rng)
    x[rng.random(x.shape) < 0.2] = np.nan  # missing responses
    fit = fit_2pl(x, tol=1e-10)
    assert fit.converged
    par = np.concatenate([fit.a, fit.c])

    def loglik(p: np.ndarray) -> float:
        return _quadrature_loglik(x, p[:n_items], p[n_items:])

    assert loglik(par) == pytest.approx(fit.loglik, rel=1e-10)
    cov = np.linalg.inv(-_numerical_hessian(loglik, par))
    jac = np.eye(2 * n_items)  # (a, c) -> (a, b = -c / a)
    i = np.arange(n_items)
    jac[n_items + i, i] = -fit.b / fit.a
    jac[n_items + i, n_items + i] = -1.0 / fit.a
    se = np.sqrt(np.diag(jac @ cov @ jac.T))
    np.testing.assert_allclose(fit.se_a, se[:n_items], rtol=1e-3)
    np.testing.assert_allclose(fit.se_b, se[n_items:], rtol=1e-3)
    assert fit.cov is not None
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), se, rtol=1e-3)


def test_population_standard_errors_equal_the_inverse_numerical_hessian() -> None:
    rng = np.random.default_rng(4)
    n_items = 5
    a, b = _items(rng, n_items)
    x = irt.simulate_2pl(rng.normal(0.4, 1.2, size=600), a, b, rng)
    fit = fit_2pl(x, tol=1e-10, fixed={0: (a[0], b[0]), 1: (a[1], b[1])})
    free = ~fit.fixed
    nf = int(free.sum())
    par = np.concatenate([fit.a[free], fit.c[free], [fit.mean, fit.sd]])

    def loglik(p: np.ndarray) -> float:
        aa, cc = fit.a.copy(), fit.c.copy()
        aa[free], cc[free] = p[:nf], p[nf : 2 * nf]
        return _quadrature_loglik(x, aa, cc, p[-2], p[-1])

    cov = np.linalg.inv(-_numerical_hessian(loglik, par))
    se = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(fit.se_a[free], se[:nf], rtol=2e-3)
    np.testing.assert_allclose([fit.se_mean, fit.se_sd], se[-2:], rtol=2e-3)
    assert np.all(fit.se_a[~free] == 0) and np.all(fit.se_b[~free] == 0)


def test_missing_by_design_two_forms_sharing_anchors() -> None:
    rng = np.random.default_rng(20240602)
    a, b = _items(rng)
    x = irt.simulate_2pl(rng.normal(size=N_PERSONS), a, b, rng)
    form_a = np.arange(N_PERSONS) % 2 == 0
    # items 0-9 are the anchors on both forms; 10-19 only on form A, 20-29 only on form B
    x[form_a, 20:] = np.nan
    x[~form_a, N_ANCHORS:20] = np.nan
    fit = fit_2pl(x)
    assert fit.converged
    assert _corr(fit.a, a) > 0.9  # half the sample per form item
    assert _corr(fit.b, b) > 0.95
    assert _rmse(fit.b, b) < 0.15
    # items seen by half the sample are less precise than the anchors everybody saw
    assert fit.se_b[N_ANCHORS:].mean() > fit.se_b[:N_ANCHORS].mean()


def test_respondents_without_answers_do_not_change_the_fit(wave1: dict[str, object]) -> None:
    x = np.asarray(wave1["x"])[:600]
    padded = np.vstack([x, np.full((50, N_ITEMS), np.nan)])
    f1, f2 = fit_2pl(x), fit_2pl(padded)
    np.testing.assert_allclose(f1.a, f2.a, atol=1e-6)
    assert f2.n_respondents == 600


def test_fixed_anchors_put_a_second_wave_on_the_first_wave_scale(wave1: dict[str, object]) -> None:
    rng = np.random.default_rng(20240603)
    fit1 = wave1["fit"]
    assert isinstance(fit1, TwoPLFit)
    a1, b1 = np.asarray(wave1["a"]), np.asarray(wave1["b"])
    new_a, new_b = _items(rng, N_ITEMS - N_ANCHORS)
    a2 = np.concatenate([a1[:N_ANCHORS], new_a])
    b2 = np.concatenate([b1[:N_ANCHORS], new_b])
    theta2 = rng.normal(0.5, 1.0, size=N_PERSONS)  # the population improved by 0.5 SD
    x2 = irt.simulate_2pl(theta2, a2, b2, rng)
    anchors = {j: (float(fit1.a[j]), float(fit1.b[j])) for j in range(N_ANCHORS)}
    fit2 = fit_2pl(x2, fixed=anchors)
    assert fit2.converged
    assert abs(fit2.mean - 0.5) < 0.1
    assert abs(fit2.sd - 1.0) < 0.1
    assert 0 < fit2.se_mean < 0.05
    eap, psd = fit2.abilities(x2)
    assert abs(eap.mean() - 0.5) < 0.1
    assert np.all(psd > 0)
    # the anchors stay exactly at their reference values, the new items land on the reference scale
    np.testing.assert_array_equal(fit2.a[:N_ANCHORS], fit1.a[:N_ANCHORS])
    np.testing.assert_allclose(fit2.b[:N_ANCHORS], fit1.b[:N_ANCHORS], rtol=1e-12)
    assert fit2.fixed[:N_ANCHORS].all() and not fit2.fixed[N_ANCHORS:].any()
    assert np.all(fit2.se_b[:N_ANCHORS] == 0)
    assert _rmse(fit2.b[N_ANCHORS:], new_b) < 0.2
    # without linking (N(0, 1) in each wave) the improvement would be invisible
    assert abs(fit_2pl(x2).abilities(x2)[0].mean()) < 0.05


def test_separate_calibration_linked_by_stocking_lord_and_mean_sigma(wave1: dict[str, object]) -> None:
    rng = np.random.default_rng(20240604)
    fit1 = wave1["fit"]
    assert isinstance(fit1, TwoPLFit)
    a1, b1 = np.asarray(wave1["a"]), np.asarray(wave1["b"])
    a2 = np.concatenate([a1[:N_ANCHORS], _items(rng, 20)[0]])
    b2 = np.concatenate([b1[:N_ANCHORS], _items(rng, 20)[1]])
    x2 = irt.simulate_2pl(rng.normal(0.5, 1.0, size=N_PERSONS), a2, b2, rng)
    fit2 = fit_2pl(x2)  # its own N(0, 1) scale
    sl = irt.stocking_lord(fit2.a[:N_ANCHORS], fit2.b[:N_ANCHORS], fit1.a[:N_ANCHORS], fit1.b[:N_ANCHORS])
    ms = irt.mean_sigma(fit2.a[:N_ANCHORS], fit2.b[:N_ANCHORS], fit1.a[:N_ANCHORS], fit1.b[:N_ANCHORS])
    for link in (sl, ms):
        assert abs(link.B - 0.5) < 0.1  # the mean of wave 2 on the wave-1 scale
        assert abs(link.A - 1.0) < 0.15
    theta_on_ref = sl.theta(fit2.abilities(x2)[0])
    assert abs(theta_on_ref.mean() - 0.5) < 0.1


def test_linking_recovers_an_exact_transformation() -> None:
    rng = np.random.default_rng(5)
    a_ref, b_ref = _items(rng, 8)
    true = irt.Link(A=1.3, B=-0.4)
    # parameters of the same items on a scale where theta_new = (theta_ref - B) / A
    a_new, b_new = a_ref * true.A, (b_ref - true.B) / true.A
    for link in (irt.mean_sigma(a_new, b_new, a_ref, b_ref), irt.stocking_lord(a_new, b_new, a_ref, b_ref)):
        assert abs(link.A - 1.3) < 1e-6
        assert abs(link.B + 0.4) < 1e-6
        a_back, b_back = link.items(a_new, b_new)
        np.testing.assert_allclose(a_back, a_ref, rtol=1e-5)
        np.testing.assert_allclose(b_back, b_ref, atol=1e-5)


def test_invalid_input_is_rejected() -> None:
    x = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        fit_2pl(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        fit_2pl(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="every answer is the same"):
        fit_2pl(np.array([[1.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="out of range"):
        fit_2pl(x, fixed={5: (1.0, 0.0)})
    with pytest.raises(ValueError, match="anchor"):
        fit_2pl(x, estimate_population=True)
    with pytest.raises(ValueError, match="one value per item"):
        irt.eap(x, [1.0, 1.0], [0.0, 0.0])
    # an item nobody answered correctly is fine when its parameters are fixed
    fit = fit_2pl(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]] * 20), fixed={1: (1.0, 3.0)})
    assert fit.b[1] == 3.0


# --------------------------------------------------------------------------------------------------
# Honesty: no "converged" fit with runaway or separated items, no confidence level outside (0, 1)
# --------------------------------------------------------------------------------------------------


def test_good_fit_has_no_problem(wave1: dict[str, object]) -> None:
    fit = wave1["fit"]
    assert isinstance(fit, TwoPLFit)
    assert fit.converged and fit.problem_items == () and fit.problem == ""
    assert np.all(np.abs(fit.a) <= irt.MAX_SLOPE)
    fit.require_converged()  # does not raise
    assert fit.to_dict()["problem_items"] == []


def test_separated_item_is_reported_not_converged_and_named() -> None:
    rng = np.random.default_rng(7)
    theta = rng.normal(size=1000)
    a, b = _items(rng, 10)
    x = irt.simulate_2pl(theta, a, b, rng)
    rest = x.sum(axis=1)
    # item 10 is answered correctly exactly by the upper half of the sum score: perfectly separated
    x = np.column_stack([x, (rest >= np.median(rest)).astype(float)])
    fit = fit_2pl(x)
    assert fit.iterations < 500  # EM itself stopped by tol: only the honesty check catches it
    assert not fit.converged
    assert fit.problem_items == (10,)
    assert "runaway" in fit.problem and "separated" in fit.problem
    assert abs(fit.a[10]) > irt.MAX_SLOPE
    assert fit.to_dict()["converged"] is False and fit.to_dict()["problem_items"] == [10]
    names = [f"Q{j:02d}" for j in range(11)]
    with pytest.raises(irt.FitNotConvergedError, match=r"runaway slopes.*items: Q10$") as info:
        fit.require_converged(names)
    assert info.value.items == (10,) and info.value.names == ("Q10",)
    assert isinstance(info.value, ValueError)


def test_guttman_items_are_all_named() -> None:
    theta = np.random.default_rng(3).normal(size=800)
    x = np.column_stack([(theta > t).astype(float) for t in np.linspace(-1.0, 1.0, 5)])
    fit = fit_2pl(x)
    assert not fit.converged
    assert fit.problem_items == (0, 1, 2, 3, 4)
    with pytest.raises(irt.FitNotConvergedError, match="items: 0, 1, 2, 3, 4"):
        fit.require_converged()


def test_non_finite_standard_errors_mean_not_converged(
    wave1: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    x = np.asarray(wave1["x"])[:400, :5]
    assert fit_2pl(x).converged
    monkeypatch.setattr(irt, "_louis_covariance", lambda *args: None)  # information not positive definite
    fit = fit_2pl(x)
    assert np.all(np.isnan(fit.se_a))
    assert not fit.converged
    assert fit.problem_items == (0, 1, 2, 3, 4)
    assert "not positive definite" in fit.problem


def test_max_iter_reached_is_explained(wave1: dict[str, object]) -> None:
    fit = fit_2pl(np.asarray(wave1["x"]), max_iter=3)
    assert not fit.converged and fit.problem_items == ()
    assert "did not converge in" in fit.problem
    with pytest.raises(irt.FitNotConvergedError, match="did not converge"):
        fit.require_converged()


@pytest.mark.parametrize("level", [0.0, 1.0, 95, -0.5, float("nan"), "0.95x"])
def test_confidence_level_outside_zero_one_is_a_clear_error(level: object) -> None:
    from kepu.stats.survey import Design, check_level, logit_ci

    d = Design.from_arrays(strata=[1, 1, 2, 2], psu=[1, 2, 3, 4], weights=[1.0, 2.0, 1.0, 2.0])
    y = [1.0, 0.0, 1.0, 1.0]
    for call in (
        lambda: d.mean(y, level=level),  # type: ignore[arg-type]
        lambda: d.by(y, [1, 1, 2, 2], level=level),  # type: ignore[arg-type]
        lambda: d.total(y, level=level),  # type: ignore[arg-type]
        lambda: logit_ci([0.5], [0.1], [3], level),  # type: ignore[arg-type]
        lambda: check_level(level),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match=r"level must be .*strictly between 0 and 1"):
            call()
    assert check_level(0.9) == 0.9


def test_probability_is_the_2pl_curve() -> None:
    p = irt.probability([-1.0, 0.0, 2.0], [1.5, 0.8], [0.0, 1.0])
    expected = 1.0 / (1.0 + np.exp(-np.array([1.5, 0.8]) * (np.array([[-1.0], [0.0], [2.0]]) - [0.0, 1.0])))
    np.testing.assert_allclose(p, expected, rtol=1e-14)


# --------------------------------------------------------------------------------------------------
# Abilities
# --------------------------------------------------------------------------------------------------


def test_eap_matches_direct_integration() -> None:
    a = np.array([1.2, 0.7, 1.8, 1.0])
    b = np.array([-0.5, 0.3, 1.0, -1.5])
    rows = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], [1.0, np.nan, np.nan, 0.0]])
    eap, psd = irt.eap(rows, a, b, mean=0.2, sd=1.3)
    for row, m_hat, s_hat in zip(rows, eap, psd, strict=True):
        seen = ~np.isnan(row)

        def post(t: float, k: int, row: np.ndarray = row, seen: np.ndarray = seen) -> float:
            p = irt.probability(t, a[seen], b[seen])[0]
            lik = float(np.prod(np.where(row[seen] == 1.0, p, 1.0 - p)))
            return lik * np.exp(-0.5 * ((t - 0.2) / 1.3) ** 2) * t**k

        moments = [integrate.quad(post, -12, 12, args=(k,), epsabs=1e-13)[0] for k in range(3)]
        mean = moments[1] / moments[0]
        assert m_hat == pytest.approx(mean, abs=1e-8)
        assert s_hat == pytest.approx(np.sqrt(moments[2] / moments[0] - mean**2), abs=1e-8)


def test_eap_shrinks_toward_the_prior_for_short_tests() -> None:
    rng = np.random.default_rng(9)
    a, b = _items(rng)
    theta = rng.normal(size=20_000)
    x = irt.simulate_2pl(theta, a, b, rng)
    slopes, mean_psd = [], []
    for k in (3, 10, 30):
        eap, psd = irt.eap(x[:, :k], a[:k], b[:k])
        slopes.append(np.polyfit(theta, eap, 1)[0])
        mean_psd.append(psd.mean())
        # law of total variance under the true prior: var(EAP) + E[posterior variance] = 1
        assert eap.var() + np.mean(psd**2) == pytest.approx(1.0, abs=0.03)
        assert eap.var() < theta.var()
    assert slopes[0] < slopes[1] < slopes[2] < 1.0
    assert slopes[0] < 0.7
    assert mean_psd[0] > mean_psd[1] > mean_psd[2]
    # a perfect score on 3 items is far less extreme than on 30
    assert irt.eap(np.ones((1, 3)), a[:3], b[:3])[0][0] < irt.eap(np.ones((1, 30)), a, b)[0][0]


def test_respondent_without_answers_gets_the_prior() -> None:
    eap, psd = irt.eap(np.full((2, 3), np.nan), [1.0, 1.0, 1.0], [0.0, 1.0, -1.0], mean=0.3, sd=2.0)
    assert eap.tolist() == [0.3, 0.3] and psd.tolist() == [2.0, 2.0]


# --------------------------------------------------------------------------------------------------
# Reporting scale
# --------------------------------------------------------------------------------------------------


def test_scale_scores_linear_and_clipped() -> None:
    s = irt.scale_scores([-10.0, -1.0, 0.0, 1.0, 2.5, 10.0])
    np.testing.assert_allclose(s, [0.0, 50.0, 60.0, 70.0, 85.0, 100.0])
    assert irt.scale_scores(0.5, mean=50.0, sd=20.0) == pytest.approx(60.0)
    assert np.isnan(irt.scale_scores([np.nan])[0])
    with pytest.raises(ValueError):
        irt.scale_scores([0.0], sd=0.0)


@hsettings
@given(
    st.lists(st.floats(-20, 20, allow_nan=False), min_size=2, max_size=30),
    st.floats(0, 100),
    st.floats(0.1, 50),
)
def test_scale_scores_monotone_and_within_bounds(theta: list[float], mean: float, sd: float) -> None:
    t = np.sort(np.array(theta))
    s = irt.scale_scores(t, mean=mean, sd=sd)
    assert np.all(np.diff(s) >= 0)
    assert np.all((s >= 0) & (s <= 100))


def test_scale_from_two_anchor_defined_points() -> None:
    a = np.array([1.0, 1.4, 0.8, 1.2])
    b = np.array([-1.0, 0.0, 0.5, 1.2])
    t50 = irt.anchor_theta(a, b, 0.5)
    t70 = irt.anchor_theta(a, b, 0.7)
    assert irt.probability(t70, a, b).mean() == pytest.approx(0.7, abs=1e-10)
    assert t50 < t70
    mean, sd = irt.scale_from_points((t50, 50.0), (t70, 70.0))
    np.testing.assert_allclose(irt.scale_scores([t50, t70], mean=mean, sd=sd), [50.0, 70.0])
    assert irt.anchor_theta([1.0], [0.5], 0.5) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        irt.scale_from_points((1.0, 70.0), (0.0, 80.0))


def test_irt_module_does_not_import_django() -> None:
    code = (
        "import sys, kepu.stats.irt, kepu.stats.scoring\n"
        "sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)}, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
