"""Tests for kepu.stats.sae (Fay–Herriot small-area estimation).

The simulations use fixed seeds, so every assertion is deterministic; tolerances are nevertheless
set several Monte Carlo standard errors wide so that a correct implementation passes for any seed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, optimize
from scipy import stats as sps

from kepu.stats import sae as sae_module
from kepu.stats.sae import (
    CHECKS,
    AdequacyRule,
    FayHerriotFit,
    fay_herriot,
    fay_herriot_proportion,
    proportion_sampling_variance,
)

SRC = Path(sae_module.__file__).resolve().parents[2]  # the directory holding the kepu package
hsettings = settings(database=None, max_examples=60, deadline=None)

# --------------------------------------------------------------------------------------------------
# A fixed simulated "city": 60 towns in 4 districts, covariates like urban share and college share
# --------------------------------------------------------------------------------------------------

M = 60
_city = np.random.default_rng(20240601)
DISTRICT = np.arange(M) % 4
X_CITY = np.column_stack(
    [np.ones(M), _city.uniform(0.0, 1.0, M), _city.uniform(0.1, 0.6, M)]
    + [np.equal(DISTRICT, k).astype(float) for k in (1, 2, 3)]
)
BETA = np.array([0.3, 0.15, 0.5, 0.03, -0.02, 0.05])
SIGMA2_U = 0.0025
D_CITY = np.exp(_city.uniform(np.log(0.0005), np.log(0.01), M))  # direct SEs from 0.022 to 0.1
MISSING = np.array([5, 17, 33, 48, 55])  # towns without a direct estimate


def _simulate(rng: np.random.Generator, sigma2_u: float = SIGMA2_U) -> tuple[np.ndarray, np.ndarray]:  # (theta, y)
    theta = X_CITY @ BETA + rng.normal(0.0, np.sqrt(sigma2_u), M)
    y = theta + rng.normal(0.0, np.sqrt(D_CITY))
    return theta, y


def _replicate(method: str, reps: int = 200, seed: int = 7, sigma2_u: float = SIGMA2_U) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    A, err_eblup, err_direct, mse = [], [], [], []
    for _ in range(reps):
        theta, y = _simulate(rng, sigma2_u)
        y_obs = y.copy()
        y_obs[MISSING] = np.nan
        fit = fay_herriot(y_obs, D_CITY, X_CITY, method=method)  # type: ignore[arg-type]
        A.append(fit.sigma2_u)
        err_eblup.append((fit.estimate - theta) ** 2)
        err_direct.append((y - theta) ** 2)
        mse.append(fit.mse)
    return {
        "A": np.array(A),
        "emp_mse": np.mean(err_eblup, axis=0),
        "emp_mse_direct": np.mean(err_direct, axis=0),
        "mse": np.mean(mse, axis=0),
    }


@pytest.fixture(scope="module")
def reml_reps() -> dict[str, np.ndarray]:
    return _replicate("REML")


SAMPLED = np.setdiff1d(np.arange(M), MISSING)

# --------------------------------------------------------------------------------------------------
# Recovery of sigma2_u and precision gains (REML and the other estimators)
# --------------------------------------------------------------------------------------------------


def test_reml_recovers_sigma2_u(reml_reps: dict[str, np.ndarray]) -> None:
    A = reml_reps["A"]
    se_mean = A.std() / np.sqrt(A.size)
    assert abs(A.mean() - SIGMA2_U) < max(0.1 * SIGMA2_U, 3 * se_mean)
    assert abs(np.median(A) - SIGMA2_U) < 0.15 * SIGMA2_U
    assert np.all(A >= 0)


def test_eblup_beats_direct(reml_reps: dict[str, np.ndarray]) -> None:
    emp, direct = reml_reps["emp_mse"][SAMPLED], reml_reps["emp_mse_direct"][SAMPLED]
    assert emp.mean() < 0.7 * direct.mean()
    # per area too, for the areas where the direct estimate is noisy (D above the median)
    noisy = SAMPLED[D_CITY[SAMPLED] > np.median(D_CITY)]
    assert np.all(reml_reps["emp_mse"][noisy] < reml_reps["emp_mse_direct"][noisy])


def test_prasad_rao_mse_matches_empirical_mse(reml_reps: dict[str, np.ndarray]) -> None:
    """Mean estimated MSE vs the Monte Carlo MSE over 200 replications, pooled within thirds of D
    (per area, 200 replications leave ~10 % Monte Carlo error) and over the non-sampled towns."""
    est, emp = reml_reps["mse"], reml_reps["emp_mse"]
    for third in np.array_split(SAMPLED[np.argsort(D_CITY[SAMPLED])], 3):
        assert est[third].mean() == pytest.approx(emp[third].mean(), rel=0.2)
    assert est[MISSING].mean() == pytest.approx(emp[MISSING].mean(), rel=0.2)


@pytest.mark.parametrize("method", ["ML", "FH", "PR"])
def test_other_estimators_recover_sigma2_u_and_mse(method: str) -> None:
    reps = _replicate(method, reps=120, seed=99)
    # ML is biased downwards by O(p/m): with p = 6 and m = 55 by about 20 %
    lo = 0.65 if method == "ML" else 0.85
    assert lo * SIGMA2_U < reps["A"].mean() < 1.15 * SIGMA2_U
    assert reps["mse"][SAMPLED].mean() == pytest.approx(reps["emp_mse"][SAMPLED].mean(), rel=0.2)
    assert reps["emp_mse"][SAMPLED].mean() < 0.7 * reps["emp_mse_direct"][SAMPLED].mean()


# --------------------------------------------------------------------------------------------------
# Cross-checks of the estimators against brute-force / independent formulas
# --------------------------------------------------------------------------------------------------


def _reml_loglik_contrasts(A: float, y: np.ndarray, D: np.ndarray, X: np.ndarray) -> float:
    """Restricted log-likelihood written independently: the likelihood of the error contrasts K'y
    with K an orthonormal basis of the null space of X' (Harville 1974)."""
    K = linalg.null_space(X.T)
    V = K.T @ np.diag(A + D) @ K
    z = K.T @ y
    return float(sps.multivariate_normal(mean=np.zeros(z.size), cov=V).logpdf(z))


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_reml_matches_brute_force_maximisation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    _, y = _simulate(rng, sigma2_u=SIGMA2_U * (0.3 + seed / 2))
    fit = fay_herriot(y, D_CITY, X_CITY, method="REML")

    def neg(a: float) -> float:
        return -_reml_loglik_contrasts(a, y, D_CITY, X_CITY)

    grid = np.linspace(0.0, 0.05, 101)
    a0 = grid[np.argmin([neg(a) for a in grid])]
    res = optimize.minimize_scalar(
        neg, bounds=(max(0.0, a0 - 0.001), a0 + 0.001), method="bounded", options={"xatol": 1e-12}
    )
    assert fit.converged
    assert fit.sigma2_u == pytest.approx(res.x, rel=1e-5, abs=1e-9)
    assert neg(fit.sigma2_u) <= neg(res.x) + 1e-9


def test_ml_matches_joint_brute_force_maximisation() -> None:
    rng = np.random.default_rng(42)
    _, y = _simulate(rng)
    fit = fay_herriot(y, D_CITY, X_CITY, method="ML")
    p = X_CITY.shape[1]

    def negll(par: np.ndarray) -> float:
        beta, A = par[:p], par[p] ** 2
        return -float(np.sum(sps.norm.logpdf(y, X_CITY @ beta, np.sqrt(A + D_CITY))))

    ols = np.linalg.lstsq(X_CITY, y, rcond=None)[0]
    res = optimize.minimize(negll, np.r_[ols, 0.03], method="BFGS", options={"gtol": 1e-10})
    assert fit.sigma2_u == pytest.approx(res.x[p] ** 2, rel=1e-3)
    np.testing.assert_allclose(fit.beta, res.x[:p], atol=1e-5)
    assert fit.loglik == pytest.approx(-res.fun, abs=1e-7)
    assert fit.loglik >= -res.fun - 1e-9


def test_moment_estimators_solve_their_equations() -> None:
    rng = np.random.default_rng(3)
    _, y = _simulate(rng)
    m, p = X_CITY.shape
    fh = fay_herriot(y, D_CITY, X_CITY, method="FH")
    r = y - X_CITY @ fh.beta
    assert np.sum(r**2 / (fh.sigma2_u + D_CITY)) == pytest.approx(m - p, rel=1e-9)

    pr = fay_herriot(y, D_CITY, X_CITY, method="PR")
    hat = X_CITY @ np.linalg.pinv(X_CITY)
    r_ols = y - hat @ y
    expected = (r_ols @ r_ols - np.sum(D_CITY * (1 - np.diag(hat)))) / (m - p)
    assert pr.sigma2_u == pytest.approx(max(expected, 0.0), rel=1e-9)


def test_gls_and_mse_pieces() -> None:
    rng = np.random.default_rng(8)
    _, y = _simulate(rng)
    fit = fay_herriot(y, D_CITY, X_CITY)
    A = fit.sigma2_u
    W = np.diag(1 / (A + D_CITY))
    cov = np.linalg.inv(X_CITY.T @ W @ X_CITY)
    np.testing.assert_allclose(fit.beta, cov @ X_CITY.T @ W @ y, rtol=1e-10)
    np.testing.assert_allclose(fit.beta_cov, cov, rtol=1e-10)
    np.testing.assert_allclose(fit.beta_se, np.sqrt(np.diag(cov)), rtol=1e-10)
    gamma = A / (A + D_CITY)
    np.testing.assert_allclose(fit.gamma, gamma, rtol=1e-12)
    np.testing.assert_allclose(fit.estimate, gamma * y + (1 - gamma) * (X_CITY @ fit.beta), rtol=1e-12)
    h = np.einsum("ij,jk,ik->i", X_CITY, cov, X_CITY)
    var_a = 2 / np.sum((A + D_CITY) ** -2.0)
    mse = gamma * D_CITY + (1 - gamma) ** 2 * h + 2 * D_CITY**2 / (A + D_CITY) ** 3 * var_a
    np.testing.assert_allclose(fit.mse, mse, rtol=1e-10)
    np.testing.assert_allclose(fit.rmse, np.sqrt(mse), rtol=1e-10)
    np.testing.assert_allclose(fit.cv, np.sqrt(mse) / np.abs(fit.estimate), rtol=1e-10)
    np.testing.assert_allclose(fit.std_residuals, (y - X_CITY @ fit.beta) / np.sqrt(A + D_CITY), rtol=1e-10)
    assert fit.shapiro_p == pytest.approx(sps.shapiro(fit.std_residuals).pvalue)
    assert fit.loglik == pytest.approx(np.sum(sps.norm.logpdf(y, X_CITY @ fit.beta, np.sqrt(A + D_CITY))))
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * 7)


def test_fallback_when_fisher_scoring_does_not_converge() -> None:
    rng = np.random.default_rng(12)
    _, y = _simulate(rng)
    ref = fay_herriot(y, D_CITY, X_CITY)
    fit = fay_herriot(y, D_CITY, X_CITY, max_iter=1)
    assert fit.converged
    assert fit.sigma2_u == pytest.approx(ref.sigma2_u, rel=1e-6)


# Milk expenditure data of Arora & Lahiri (1997), as shipped with R's sae package (43 small areas in 4
# major areas): area, direct estimate yi, its standard error SD, major area.
MILK = """\
1,1.099,0.163,1;2,1.075,0.08,1;3,1.105,0.083,1;4,0.628,0.109,1;5,0.753,0.119,1;6,0.981,0.141,1;
7,1.257,0.202,1;8,1.095,0.127,2;9,1.405,0.168,2;10,1.356,0.178,2;11,0.615,0.1,2;12,1.46,0.201,2;
13,1.338,0.148,2;14,0.854,0.143,2;15,1.176,0.149,3;16,1.111,0.145,3;17,1.257,0.135,3;18,1.43,0.172,3;
19,1.278,0.137,3;20,1.292,0.163,3;21,1.002,0.125,3;22,1.183,0.247,3;23,1.044,0.14,3;24,1.267,0.171,3;
25,1.193,0.106,3;26,0.791,0.121,4;27,0.795,0.121,4;28,0.759,0.259,4;29,0.796,0.106,4;30,0.565,0.089,4;
31,0.886,0.225,4;32,0.952,0.205,4;33,0.807,0.119,4;34,0.582,0.067,4;35,0.684,0.106,4;36,0.787,0.126,4;
37,0.44,0.092,4;38,0.759,0.132,4;39,0.77,0.1,4;40,0.8,0.113,4;41,0.756,0.083,4;42,0.865,0.121,4;
43,0.64,0.129,4"""

# sae::eblupFH(yi ~ as.factor(MajorArea), SD^2, method=...) and sae::mseFH: coefficients, and the
# EBLUP and MSE of areas 1, 2, 30 and 43.
MILK_REFERENCE = {
    "REML": (
        [0.9681890, 0.1327801, 0.2269462, -0.2413011],
        [1.0219703, 1.0476018, 0.6134418, 0.6810870],
        [0.013460220, 0.005372876, 0.006098668, 0.009903626],
    ),
    "ML": (
        [0.9677986, 0.1278756, 0.2266909, -0.2425804],
        [1.0161733, 1.0436968, 0.6191454, 0.6840976],
        [0.013579953, 0.005512868, 0.006222263, 0.010037140],
    ),
    "FH": (
        None,
        [1.017975, 1.044963, 0.617310, 0.683160],
        [0.012757016, 0.005314467, 0.005975211, 0.009484220],
    ),
}


@pytest.mark.parametrize("method", ["REML", "ML", "FH"])
def test_matches_r_sae_on_milk_data(method: str) -> None:
    rows = np.array([[float(v) for v in r.split(",")] for r in MILK.replace("\n", "").split(";")])
    y, sd, major = rows[:, 1], rows[:, 2], rows[:, 3]
    X = np.column_stack([np.ones(len(y))] + [(major == k).astype(float) for k in (2, 3, 4)])
    fit = fay_herriot(y, sd**2, X, method=method)  # type: ignore[arg-type]
    beta, est, mse = MILK_REFERENCE[method]
    idx = [0, 1, 29, 42]
    if beta is not None:
        np.testing.assert_allclose(fit.beta, beta, atol=2e-6)
    np.testing.assert_allclose(fit.estimate[idx], est, atol=2e-6)
    np.testing.assert_allclose(fit.mse[idx], mse, rtol=1e-4)
    if method == "REML":
        assert fit.sigma2_u == pytest.approx(0.01855, abs=1e-5)


# --------------------------------------------------------------------------------------------------
# sigma2_u = 0, gamma, non-sampled areas
# --------------------------------------------------------------------------------------------------


def test_zero_variance_collapses_to_synthetic() -> None:
    # The direct estimates sit on the regression plane much closer than their sampling error:
    # the restricted likelihood is maximal at sigma2_u = 0.
    rng = np.random.default_rng(5)
    y = X_CITY @ BETA + rng.normal(0.0, 0.2 * np.sqrt(D_CITY))
    for method in ("REML", "ML", "FH", "PR"):
        fit = fay_herriot(y, D_CITY, X_CITY, method=method)
        assert fit.sigma2_u == 0.0 and fit.sigma2_u_at_zero
        assert "sigma2_u_zero" in fit.notes
        assert "sigma2_u_zero" in CHECKS
        assert np.all(fit.gamma == 0.0)
        np.testing.assert_array_equal(fit.estimate, fit.synthetic)
        np.testing.assert_allclose(fit.g1, 0.0)
    reml = fay_herriot(y, D_CITY, X_CITY)
    np.testing.assert_allclose(reml.mse, reml.g2 + 2 * reml.g3, rtol=1e-12)
    assert reml.adequate  # sigma2_u = 0 alone does not make the model inadequate


def test_zero_variance_over_replications() -> None:
    rng = np.random.default_rng(21)
    at_zero, gap_direct, gap_synth = 0, [], []
    for _ in range(100):
        _, y = _simulate(rng, sigma2_u=0.0)
        fit = fay_herriot(y, D_CITY, X_CITY)
        if fit.sigma2_u_at_zero:
            at_zero += 1
            np.testing.assert_array_equal(fit.estimate, fit.synthetic)
        gap_synth.append(np.mean(np.abs(fit.estimate - fit.synthetic)))
        gap_direct.append(np.mean(np.abs(y - fit.synthetic)))
    assert at_zero >= 30  # the boundary is hit often (about half the time)
    assert np.mean(gap_synth) < 0.1 * np.mean(gap_direct)  # and otherwise the EBLUP is nearly synthetic


@hsettings
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(4, 40),
    p=st.integers(1, 3),
    log_a=st.floats(-6, 2),
    log_scale=st.floats(-3, 3),
    method=st.sampled_from(["REML", "ML", "FH", "PR"]),
)
def test_properties(seed: int, m: int, p: int, log_a: float, log_scale: float, method: str) -> None:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(m), rng.normal(size=(m, p - 1))])
    D = rng.uniform(0.1, 2.0, m)
    y = X @ rng.normal(size=p) + rng.normal(0, np.sqrt(10**log_a), m) + rng.normal(0, np.sqrt(D))
    y[rng.random(m) < 0.15] = np.nan
    if np.sum(np.isfinite(y)) <= p + 1 or np.linalg.matrix_rank(X[np.isfinite(y)]) < p:
        return
    fit = fay_herriot(y, D, X, method=method)  # type: ignore[arg-type]
    s = fit.sampled
    assert fit.sigma2_u >= 0.0
    assert np.all((fit.gamma >= 0.0) & (fit.gamma <= 1.0))
    assert np.all(fit.gamma[~s] == 0.0)
    assert np.all(np.isfinite(fit.estimate)) and np.all(fit.mse >= 0.0)
    np.testing.assert_array_equal(fit.estimate[~s], fit.synthetic[~s])
    lo = np.minimum(fit.direct[s], fit.synthetic[s])
    hi = np.maximum(fit.direct[s], fit.synthetic[s])
    tol = 1e-9 * (1 + np.abs(fit.estimate[s]))
    assert np.all((fit.estimate[s] >= lo - tol) & (fit.estimate[s] <= hi + tol))
    assert np.all(fit.g1[s] <= D[s] * (1 + 1e-12))
    assert fit.area_adequate.shape == (m,) and len(fit.area_reasons) == m
    assert fit.adequate == (not fit.reasons) and len(fit.reasons) == len(fit.messages)
    assert set(fit.reasons) <= set(CHECKS) and all(set(r) <= set(CHECKS) for r in fit.area_reasons)
    assert not np.any(fit.area_adequate & ~fit.adequate)

    # equivariance: shifting y by c (there is an intercept) and scaling by k
    c, k = 3.7, 10**log_scale
    shifted = fay_herriot(y + c, D, X, method=method)  # type: ignore[arg-type]
    assert shifted.sigma2_u == pytest.approx(fit.sigma2_u, rel=1e-5, abs=1e-8 * np.median(D))
    np.testing.assert_allclose(shifted.estimate, fit.estimate + c, rtol=1e-6, atol=1e-6)
    scaled = fay_herriot(k * y, k**2 * D, X, method=method)  # type: ignore[arg-type]
    assert scaled.sigma2_u == pytest.approx(k**2 * fit.sigma2_u, rel=1e-5, abs=1e-8 * k**2 * np.median(D))
    np.testing.assert_allclose(scaled.estimate, k * fit.estimate, rtol=1e-6, atol=1e-6 * k)
    np.testing.assert_allclose(scaled.mse, k**2 * fit.mse, rtol=1e-5, atol=1e-8 * k**2)


def test_missing_direct_gets_synthetic_with_larger_mse() -> None:
    rng = np.random.default_rng(17)
    _, y = _simulate(rng)
    full = fay_herriot(y, D_CITY, X_CITY)
    y_obs, D_obs = y.copy(), D_CITY.copy()
    y_obs[MISSING] = np.nan
    D_obs[MISSING] = np.nan
    fit = fay_herriot(y_obs, D_obs, X_CITY)
    assert fit.n_areas == M and fit.n_sampled == M - MISSING.size
    assert not fit.sampled[MISSING].any()
    np.testing.assert_array_equal(fit.estimate[MISSING], fit.synthetic[MISSING])
    np.testing.assert_allclose(fit.synthetic, X_CITY @ fit.beta)
    assert np.all(fit.gamma[MISSING] == 0.0)
    assert np.all(np.isnan(fit.direct[MISSING]) & np.isnan(fit.D[MISSING]) & np.isnan(fit.std_residuals[MISSING]))
    # without its own data an area is estimated less precisely than with it ...
    assert np.all(fit.mse[MISSING] > full.mse[MISSING])
    # ... and the synthetic MSE is sigma2_u plus the regression uncertainty
    h = np.einsum("ij,jk,ik->i", X_CITY[MISSING], fit.beta_cov, X_CITY[MISSING])
    np.testing.assert_allclose(fit.mse[MISSING], fit.sigma2_u + h, rtol=1e-12)
    # a D given for an area without a direct estimate is ignored
    D_given = D_CITY.copy()
    same = fay_herriot(y_obs, D_given, X_CITY)
    np.testing.assert_array_equal(same.estimate, fit.estimate)


# --------------------------------------------------------------------------------------------------
# Adequacy diagnostics
# --------------------------------------------------------------------------------------------------


def test_well_specified_model_is_adequate() -> None:
    rng = np.random.default_rng(2024)
    adequate = 0
    for _ in range(100):
        _, y = _simulate(rng)
        adequate += fay_herriot(y, D_CITY, X_CITY).adequate
    assert adequate >= 90  # false alarms: ~5 % (Bonferroni outlier bound) + ~1 % (Shapiro–Wilk)

    _, y = _simulate(np.random.default_rng(1))
    fit = fay_herriot(y, D_CITY, X_CITY)
    assert fit.adequate and fit.reasons == [] and fit.messages == []
    assert fit.shapiro_p > 0.01
    assert np.all(np.abs(fit.std_residuals) <= 3)
    # area flags: exactly the towns with CV < 0.3 (and MSE <= D) are shown
    expected = (fit.cv < 0.3) & (fit.mse <= D_CITY * (1 + 1e-9))
    np.testing.assert_array_equal(fit.area_adequate, expected)
    for i in np.flatnonzero(~fit.area_adequate):
        assert "area_cv" in fit.area_reasons[i] or "area_mse_above_direct" in fit.area_reasons[i]


def test_heavy_outliers_make_model_inadequate() -> None:
    rng = np.random.default_rng(3)
    bad = [3, 20, 41]
    for _ in range(20):
        _, y = _simulate(rng)
        y[bad] += 8 * np.sqrt(SIGMA2_U + D_CITY[bad])
        fit = fay_herriot(y, D_CITY, X_CITY)
        assert not fit.adequate
        assert "outliers" in fit.reasons
        assert not fit.area_adequate.any()
        assert all("model_inadequate" in r for r in fit.area_reasons)
        # the outliers inflate sigma2_u, which can hide one of them below |z| = 3, but not most
        assert sum("area_outlier" in fit.area_reasons[i] for i in bad) >= 2
        assert set(np.argsort(-np.abs(fit.std_residuals))[:2]) <= set(bad)


def test_heavy_tailed_area_effects_are_usually_flagged() -> None:
    rng = np.random.default_rng(4)
    flagged = 0
    for _ in range(40):
        u = np.sqrt(SIGMA2_U) * rng.standard_t(1, M)  # Cauchy area effects
        y = X_CITY @ BETA + u + rng.normal(0.0, np.sqrt(D_CITY))
        fit = fay_herriot(y, D_CITY, X_CITY)
        flagged += not fit.adequate
        if not fit.adequate:
            assert {"outliers", "non_normal"} & set(fit.reasons)
    assert flagged >= 30


def test_too_few_areas_and_custom_rule() -> None:
    rng = np.random.default_rng(9)
    _, y = _simulate(rng)
    few = fay_herriot(y[:9], D_CITY[:9], X_CITY[:9, :2])
    assert not few.adequate and "too_few_areas" in few.reasons
    assert few.messages[few.reasons.index("too_few_areas")].startswith("too_few_areas: 9 areas")
    relaxed = fay_herriot(y[:9], D_CITY[:9], X_CITY[:9, :2], rule=AdequacyRule(min_areas=5))
    assert "too_few_areas" not in relaxed.reasons
    strict = fay_herriot(y, D_CITY, X_CITY, rule=AdequacyRule(max_cv=1e-6))
    assert not strict.area_adequate.any()
    assert all("area_cv" in r for r in strict.area_reasons)


def test_mse_above_direct_rule() -> None:
    # one column per area group of size 1: a town alone in its district is fitted exactly and its
    # EBLUP MSE is D + 2 g3 > D; that flags the town, and flags the model once > 10 % of towns do so
    rng = np.random.default_rng(10)
    _, y = _simulate(rng)
    lonely = np.zeros((M, 1))
    lonely[0] = 1.0
    X = np.column_stack([X_CITY[:, :3], lonely])
    fit = fay_herriot(y, D_CITY, X)
    assert fit.sigma2_u > 0
    assert fit.mse[0] == pytest.approx(D_CITY[0] + 2 * fit.g3[0], rel=1e-9)
    assert fit.mse[0] > D_CITY[0]
    assert fit.area_reasons[0] == ["area_mse_above_direct"]
    assert "mse_above_direct" not in fit.reasons
    many = np.zeros((M, 8))
    many[np.arange(8), np.arange(8)] = 1.0
    fit2 = fay_herriot(y, D_CITY, np.column_stack([X_CITY[:, :3], many]))
    assert fit2.sigma2_u > 0
    assert "mse_above_direct" in fit2.reasons


# --------------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------------


def test_proportions_are_clipped_to_unit_interval() -> None:
    rng = np.random.default_rng(6)
    n = rng.integers(5, 40, M)
    urban = X_CITY[:, 1]
    X = np.column_stack([np.ones(M), urban])
    true_p = np.clip(-0.02 + 0.3 * urban + rng.normal(0, 0.03, M), 0.0, 1.0)
    p_hat = rng.binomial(n, true_p) / n
    p_hat[MISSING] = np.nan
    D = proportion_sampling_variance(p_hat, n)
    assert np.all(D[np.isfinite(p_hat)] > 0) and np.all(np.isnan(D[MISSING]))
    fit = fay_herriot_proportion(p_hat, D, X)
    assert np.all((fit.estimate >= 0.0) & (fit.estimate <= 1.0))
    raw = fay_herriot(p_hat, D, X)
    np.testing.assert_array_equal(fit.clipped, (raw.estimate < 0) | (raw.estimate > 1))
    assert fit.clipped.any()  # some towns with urban share ~0 get a negative EBLUP before clipping
    np.testing.assert_array_equal(fit.estimate, np.clip(raw.estimate, 0.0, 1.0))
    np.testing.assert_array_equal(fit.mse, raw.mse)
    assert not fit.area_adequate[fit.estimate == 0.0].any()  # CV is infinite at 0
    assert np.all(np.isinf(fit.cv[fit.estimate == 0.0]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fay_herriot_proportion(p_hat + 1.0, D, X)


def test_proportion_sampling_variance() -> None:
    p = np.array([0.0, 0.5, 1.0, np.nan, 0.25])
    n = np.array([10.0, 20.0, 10.0, 5.0, 40.0])
    pooled = (0 * 10 + 0.5 * 20 + 1.0 * 10 + 0.25 * 40) / 80
    np.testing.assert_allclose(
        proportion_sampling_variance(p, n, deff=1.5),
        [1.5 * pooled * (1 - pooled) / k for k in n[[0, 1, 2]]] + [np.nan] + [1.5 * pooled * (1 - pooled) / 40],
        equal_nan=True,
    )
    raw = proportion_sampling_variance(p, n, smooth=False)
    np.testing.assert_allclose(raw, [0.0, 0.25 / 20, 0.0, np.nan, 0.25 * 0.75 / 40], equal_nan=True)
    with pytest.raises(ValueError):
        proportion_sampling_variance([1.2], [10])
    with pytest.raises(ValueError):
        proportion_sampling_variance([0.2], [0])


# --------------------------------------------------------------------------------------------------
# Input validation and packaging
# --------------------------------------------------------------------------------------------------


def test_input_validation() -> None:
    y, D, X = np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), np.column_stack([np.ones(4), [0, 1, 0, 1]])
    with pytest.raises(ValueError, match="method"):
        fay_herriot(y, D, X, method="OLS")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same number"):
        fay_herriot(y, D[:3], X)
    with pytest.raises(ValueError, match="D must be finite"):
        fay_herriot(y, np.array([1.0, 0.0, 1.0, 1.0]), X)
    with pytest.raises(ValueError, match="D must be finite"):
        fay_herriot(y, np.array([1.0, np.nan, 1.0, 1.0]), X)
    with pytest.raises(ValueError, match="X must be finite"):
        fay_herriot(y, D, np.column_stack([np.ones(4), [0, np.nan, 0, 1]]))
    with pytest.raises(ValueError, match="more areas"):
        fay_herriot(np.array([1.0, 2.0, np.nan, np.nan]), D, X)
    # a district dummy whose towns are all unsampled cannot be estimated
    dummies = np.column_stack([np.ones(12), np.r_[np.zeros(9), np.ones(3)]])
    y12 = np.r_[np.arange(9.0), [np.nan] * 3]
    with pytest.raises(ValueError, match=r"columns \[1\] are 0"):
        fay_herriot(y12, np.ones(12), dummies)
    # a 1-D X is one covariate column
    fit = fay_herriot(np.arange(12.0), np.ones(12), np.ones(12))
    assert isinstance(fit, FayHerriotFit) and fit.beta.shape == (1,)


def test_sae_does_not_import_django() -> None:
    code = "import sys, kepu.stats.sae\nsys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    proc = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)}, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
