"""Small-area estimation with the area-level Fay–Herriot model.

This module is pure numpy/scipy (no Django). It turns *direct* survey estimates for small areas
(towns/streets with tiny samples) into model-based estimates that borrow strength from area
covariates, and it decides whether the model is good enough to show those estimates.

Model
-----
For area ``i`` the direct estimate ``y_i`` has a *known* sampling variance ``D_i`` (from the
design-based estimator, possibly smoothed, see :func:`proportion_sampling_variance`) and

    y_i = x_i' beta + u_i + e_i,     u_i ~ N(0, sigma2_u),   e_i ~ N(0, D_i)   (independent).

``X`` must hold every covariate column, *including an intercept column when one is wanted* (nothing
is added silently). District dummies are fine as long as the sampled areas leave ``X`` of full column
rank (every district needs at least one sampled area; drop one dummy when there is an intercept).

Areas without a direct estimate (``y_i`` NaN; ``D_i`` is then ignored and may be NaN) but with known
``x_i`` get the *synthetic* estimate ``x_i' beta_hat``.

Estimation (what :func:`fay_herriot` does)
------------------------------------------
``sigma2_u`` (``A`` below, ``V_i = A + D_i``) is estimated from the sampled areas (``m`` of them,
``p`` covariates) by one of

``"REML"`` (default)
    Restricted maximum likelihood by Fisher scoring, as R's ``sae::eblupFH``: the score is
    ``-tr(P)/2 + y'P P y/2`` and the expected information ``tr(P P)/2`` with
    ``P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1``. It starts at ``median(D)``; a step that would leave
    ``[0, inf)`` is cut back to 0 and a step that lowers the restricted likelihood is halved. The
    maximum is on the boundary (``A = 0``) when the score at 0 is not positive.
``"ML"``
    Maximum likelihood by Fisher scoring (score ``-sum(1/V)/2 + sum(r^2/V^2)/2``, information
    ``sum(1/V^2)/2``, ``r`` the GLS residuals).
``"FH"``
    The Fay–Herriot (1979) moment estimator: the root of ``sum(r_i^2 / V_i) = m - p`` (``r`` the GLS
    residuals at ``A``), found by bracketing and Brent's method; 0 when the left side is already
    below ``m - p`` at ``A = 0``. Same as ``sae::eblupFH(method="FH")``.
``"PR"``
    The Prasad–Rao (1990) closed-form moment estimator
    ``max(0, [sum(r_ols^2) - sum(D_i (1 - h_ii))] / (m - p))`` with OLS residuals and leverages.

Then ``beta_hat = (X'V^-1 X)^-1 X'V^-1 y`` (GLS) with covariance ``(X'V^-1 X)^-1`` (which ignores the
uncertainty of ``A``), ``gamma_i = A / (A + D_i)`` in ``[0, 1]`` and the EBLUP

    theta_i = gamma_i y_i + (1 - gamma_i) x_i' beta_hat.

When ``A = 0`` every ``gamma_i`` is 0 and the EBLUPs *are* the synthetic estimates.

MSE (second-order approximations, evaluated at ``A_hat``)
    ``g1_i = gamma_i D_i``, ``g2_i = (1 - gamma_i)^2 x_i'(X'V^-1 X)^-1 x_i``,
    ``g3_i = (1 - gamma_i)^2 var(A_hat) / V_i`` and

        mse_i = g1_i + g2_i + 2 g3_i - b(A_hat) (1 - gamma_i)^2.

    * REML (Prasad–Rao/Datta–Lahiri): ``var(A_hat) = 2 / sum(1/V^2)``, ``b = 0``.
    * ML (Datta–Lahiri 2000): same variance, ``b`` is the ML bias
      ``-tr[(X'V^-1 X)^-1 X'V^-2 X] / sum(1/V^2)`` (negative, so it *adds* to the MSE).
    * FH (Datta, Rao & Smith 2005): ``var(A_hat) = 2 m / sum(1/V)^2`` and
      ``b = 2 [m sum(1/V^2) - sum(1/V)^2] / sum(1/V)^3``.
    * PR (Prasad–Rao 1990): ``var(A_hat) = 2 sum(V^2) / m^2``, ``b = 0``.

    A non-sampled area is the limit ``D_i -> inf``: ``gamma_i = 0`` and
    ``mse_i = A_hat + x_i'(X'V^-1 X)^-1 x_i - b``. ``rmse = sqrt(mse)`` and ``cv = rmse / |estimate|``
    (``inf`` when the estimate is 0; the CV is meant for positive quantities such as proportions and
    means).

Model adequacy ("show model-based estimates only where the model is adequate")
------------------------------------------------------------------------------
The standardised residuals are ``z_i = (y_i - x_i' beta_hat) / sqrt(A_hat + D_i)`` for the sampled
areas. The fit is **adequate** (``FayHerriotFit.adequate``) when *all* global checks pass; the ids of
the failed ones are in ``reasons`` (explained in :data:`CHECKS`), with numbers in ``messages``:

``too_few_areas``
    At least ``min_areas`` (10) areas have a direct estimate.
``not_converged``
    The estimator of ``sigma2_u`` converged.
``outliers``
    No ``|z_i|`` exceeds ``max(outlier_z, z_Bonferroni)`` where ``outlier_z = 3`` and
    ``z_Bonferroni = Phi^-1(1 - 0.025 / m)``: with 60 correct-model areas a plain ``|z| > 3`` rule
    fires in about 15 % of surveys, the Bonferroni bound in about 5 % (3.34 for m = 60; the floor
    of 3 applies for m <= 14). Areas with ``|z_i| > 3`` are flagged individually in any case.
``non_normal``
    The Shapiro–Wilk test on the ``z_i`` has ``p > shapiro_alpha`` (0.01).
``mse_above_direct``
    ``mse_i <= D_i`` (the EBLUP is at least as precise as the direct estimate) for all but at most
    ``max_mse_excess_share`` (10 %) of the sampled areas. Single areas may legitimately fail this (an
    area that alone determines a coefficient, e.g. the only sampled town of a district, has
    ``mse_i = D_i + 2 g3_i``); they are flagged per area instead.

``sigma2_u = 0`` is **not** a failure: it means the covariates explain the between-area variation
within sampling error. The fallback is explicit: the estimates are then the synthetic regression
estimates with ``mse = g2 + 2 g3`` (no ``g1``), which rests entirely on the regression model; the
residual checks above still apply (with ``A = 0`` they test ``r_i / sqrt(D_i)``). The note id
``sigma2_u_zero`` is added to ``notes`` (``sigma2_u_at_zero`` is True).

Per area, ``area_adequate[i]`` is True when the fit is adequate **and** the area's ``cv < max_cv``
(0.3) **and**, for sampled areas, ``|z_i| <= outlier_z`` (``area_outlier``) and ``mse_i <= D_i``
(``area_mse_above_direct``); the failing ids per area are in ``area_reasons[i]`` (``model_inadequate``
when the global fit failed, ``area_cv`` for the CV). The thresholds live in :class:`AdequacyRule`.

Proportions
-----------
:func:`fay_herriot_proportion` fits the model on the proportion scale itself (the default; the
linear model is then an approximation that is good away from 0 and 1) and clips the estimates to
``[0, 1]`` (``clipped`` marks them; the CV is computed from the clipped value). Clipping can only move
an estimate closer to the true proportion, so the reported (unclipped) MSE stays a conservative
bound. An arcsine-square-root (``D_i ~= deff / (4 n_i)``) or logit transform is possible but not the
default: the back-transformed EBLUP is biased and its MSE needs a separate derivation (e.g. a
bootstrap), which this module does not provide. :func:`proportion_sampling_variance` gives (smoothed)
binomial sampling variances ``deff * p (1 - p) / n``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from kepu.stats.arrays import BoolArray, FloatArray

__all__ = [
    "CHECKS",
    "AdequacyRule",
    "FayHerriotFit",
    "Method",
    "fay_herriot",
    "fay_herriot_proportion",
    "proportion_sampling_variance",
]

Method = Literal["REML", "ML", "FH", "PR"]

METHODS: Final[tuple[str, ...]] = ("REML", "ML", "FH", "PR")

#: Machine ids of the adequacy checks, notes and per-area flags, with a user-facing explanation.
CHECKS: Final[Mapping[str, str]] = {
    "too_few_areas": "Too few areas have a direct estimate to fit the model reliably.",
    "not_converged": "The estimate of the between-area variance did not converge.",
    "outliers": "Some areas lie far from the model (large standardised residuals).",
    "non_normal": "The standardised residuals are not plausibly normal (Shapiro–Wilk test).",
    "mse_above_direct": "For too many areas the model-based estimate is less precise than the direct one.",
    "sigma2_u_zero": (
        "The between-area variance was estimated as 0: the covariates explain the differences between "
        "areas within sampling error, so the estimates are the regression (synthetic) estimates."
    ),
    "model_inadequate": "The model as a whole is not adequate.",
    "area_cv": "The estimate for this area is too imprecise (coefficient of variation too large).",
    "area_outlier": "This area's direct estimate lies far from the model.",
    "area_mse_above_direct": "For this area the model-based estimate is less precise than the direct one.",
}


@dataclass(frozen=True)
class AdequacyRule:
    """Thresholds of the adequacy rule (see the module docstring)."""

    min_areas: int = 10
    outlier_z: float = 3.0
    outlier_family_alpha: float = 0.05
    shapiro_alpha: float = 0.01
    max_mse_excess_share: float = 0.1
    max_cv: float = 0.3


@dataclass(frozen=True)
class FayHerriotFit:
    """A fitted Fay–Herriot model. Arrays are per area, in input order (sampled and not).

    ``direct``, ``D`` and ``std_residuals`` are NaN for areas without a direct estimate, whose
    ``gamma`` is 0 and whose ``estimate`` is the synthetic one.
    """

    method: Method
    sigma2_u: float
    sigma2_u_at_zero: bool
    sigma2_u_var: float  # asymptotic variance of the estimator of sigma2_u used in g3
    converged: bool
    iterations: int
    beta: FloatArray
    beta_cov: FloatArray
    loglik: float  # Gaussian log-likelihood of the sampled y at (beta_hat, sigma2_u), as sae's goodness
    sampled: BoolArray
    direct: FloatArray
    D: FloatArray
    synthetic: FloatArray  # x_i' beta_hat (not clipped)
    gamma: FloatArray
    estimate: FloatArray  # EBLUP for sampled areas, synthetic otherwise (clipped when bounds are given)
    clipped: BoolArray
    g1: FloatArray
    g2: FloatArray
    g3: FloatArray
    mse: FloatArray
    std_residuals: FloatArray
    shapiro_p: float
    adequate: bool
    reasons: list[str]  # ids (keys of CHECKS) of the failed global checks
    messages: list[str]  # the same, with the numbers, in English
    notes: list[str]  # ids of remarks that do not make the model inadequate (e.g. "sigma2_u_zero")
    area_adequate: BoolArray
    area_reasons: list[list[str]]
    rule: AdequacyRule = field(default_factory=AdequacyRule)

    @property
    def n_areas(self) -> int:
        return int(self.sampled.size)

    @property
    def n_sampled(self) -> int:
        return int(self.sampled.sum())

    @property
    def n_params(self) -> int:
        return int(self.beta.size)

    @property
    def beta_se(self) -> FloatArray:
        return np.sqrt(np.diag(self.beta_cov))

    @property
    def rmse(self) -> FloatArray:
        return np.sqrt(self.mse)

    @property
    def cv(self) -> FloatArray:
        """``rmse / |estimate|`` (``inf`` where the estimate is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.rmse / np.abs(self.estimate)
        return np.where(self.estimate == 0.0, np.inf, out)

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * (self.n_params + 1)

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + math.log(self.n_sampled) * (self.n_params + 1)


# --------------------------------------------------------------------------------------------------
# Likelihood pieces for the sampled areas
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Gls:
    """GLS quantities at a given A for the sampled areas."""

    w: FloatArray  # 1 / V
    q: FloatArray  # (X'WX)^-1
    beta: FloatArray
    resid: FloatArray  # y - X beta
    logdet_xwx: float


def _gls(A: float, y: FloatArray, D: FloatArray, X: FloatArray) -> _Gls:
    w = 1.0 / (A + D)
    xwx = X.T @ (X * w[:, None])
    q = np.linalg.inv(xwx)
    q = 0.5 * (q + q.T)
    beta = q @ (X.T @ (w * y))
    resid = y - X @ beta
    sign, logdet = np.linalg.slogdet(xwx)
    return _Gls(w=w, q=q, beta=beta, resid=resid, logdet_xwx=float(logdet) if sign > 0 else -math.inf)


def _reml_loglik(A: float, y: FloatArray, D: FloatArray, X: FloatArray) -> float:
    """Restricted log-likelihood up to a constant: ``-(log|V| + log|X'V^-1X| + y'Py) / 2``."""
    g = _gls(A, y, D, X)
    return -0.5 * float(np.sum(np.log(A + D)) + g.logdet_xwx + np.sum(g.w * g.resid**2))


def _ml_loglik(A: float, y: FloatArray, D: FloatArray, X: FloatArray) -> float:
    """Profile log-likelihood up to a constant: ``-(log|V| + r'V^-1 r) / 2``."""
    g = _gls(A, y, D, X)
    return -0.5 * float(np.sum(np.log(A + D)) + np.sum(g.w * g.resid**2))


def _reml_score_info(A: float, y: FloatArray, D: FloatArray, X: FloatArray) -> tuple[float, float]:
    g = _gls(A, y, D, X)
    w = g.w
    xw2x = X.T @ (X * (w**2)[:, None])
    xw3x = X.T @ (X * (w**3)[:, None])
    qm = g.q @ xw2x
    tr_p = float(np.sum(w) - np.trace(qm))
    tr_pp = float(np.sum(w**2) - 2.0 * np.trace(g.q @ xw3x) + np.trace(qm @ qm))
    py = w * g.resid
    return -0.5 * tr_p + 0.5 * float(py @ py), 0.5 * tr_pp


def _ml_score_info(A: float, y: FloatArray, D: FloatArray, X: FloatArray) -> tuple[float, float]:
    g = _gls(A, y, D, X)
    w = g.w
    return -0.5 * float(np.sum(w)) + 0.5 * float(np.sum(w**2 * g.resid**2)), 0.5 * float(np.sum(w**2))


def _fisher_scoring(
    loglik: Callable[[float], float],
    score_info: Callable[[float], tuple[float, float]],
    start: float,
    scale: float,
    tol: float,
    max_iter: int,
) -> tuple[float, bool, int]:
    """Maximise ``loglik`` over ``A >= 0`` by Fisher scoring with step halving; (A, converged, iterations)."""
    A = max(start, 0.0)
    ll = loglik(A)
    for it in range(1, max_iter + 1):
        score, info = score_info(A)
        if A == 0.0 and score <= 0.0:
            return 0.0, True, it
        step = score / info if info > 0 else 0.0
        A_new = max(A + step, 0.0)
        ll_new = loglik(A_new)
        halvings = 0
        while ll_new < ll - 1e-12 * (1.0 + abs(ll)) and halvings < 50:
            A_new = A + 0.5 * (A_new - A)
            ll_new = loglik(A_new)
            halvings += 1
        if abs(A_new - A) <= tol * (A_new + scale):
            return A_new, True, it
        A, ll = A_new, ll_new
    return A, False, max_iter


def _bounded_max(loglik: Callable[[float], float], upper: float) -> tuple[float, bool]:
    """Maximise ``loglik`` on ``[0, upper]`` by Brent's bounded method; (A, success)."""
    res = optimize.minimize_scalar(
        lambda a: -loglik(a), bounds=(0.0, upper), method="bounded", options={"xatol": 1e-12 * max(upper, 1.0)}
    )
    a = float(res.x)
    return (0.0 if loglik(0.0) >= loglik(a) else a), bool(res.success)


def _fh_moment(y: FloatArray, D: FloatArray, X: FloatArray, scale: float) -> tuple[float, bool, int]:
    m, p = X.shape

    def f(A: float) -> float:
        g = _gls(A, y, D, X)
        return float(np.sum(g.w * g.resid**2)) - (m - p)

    if f(0.0) <= 0.0:
        return 0.0, True, 1
    hi = max(scale, 1e-300)
    n = 0
    while f(hi) > 0.0:
        hi *= 4.0
        n += 1
        if n > 200:
            return hi, False, n
    root, res = optimize.brentq(f, 0.0, hi, xtol=1e-14 * hi, rtol=1e-13, full_output=True)
    return float(root), bool(res.converged), n + int(res.iterations)


def _pr_moment(y: FloatArray, D: FloatArray, X: FloatArray) -> float:
    m, p = X.shape
    xtx_inv = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, xtx_inv, X)
    r = y - X @ (xtx_inv @ (X.T @ y))
    return max(0.0, (float(r @ r) - float(np.sum(D * (1.0 - h)))) / (m - p))


# --------------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------------


def _prepare(y: ArrayLike, D: ArrayLike, X: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    ya = np.asarray(y, dtype=np.float64).ravel()
    Da = np.asarray(D, dtype=np.float64).ravel()
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2:
        raise ValueError("X must be a 2-D array (areas x covariates)")
    n = ya.size
    if Da.size != n or Xa.shape[0] != n:
        raise ValueError(f"y, D and X must have the same number of areas (got {n}, {Da.size}, {Xa.shape[0]})")
    if not np.all(np.isfinite(Xa)):
        raise ValueError("X must be finite for every area (covariates are needed for synthetic estimates)")
    if np.any(np.isinf(ya)):
        raise ValueError("y must be finite or NaN (NaN marks an area without a direct estimate)")
    sampled = np.isfinite(ya)
    Ds = Da[sampled]
    if not np.all(np.isfinite(Ds) & (Ds > 0)):
        raise ValueError("D must be finite and > 0 for every area with a direct estimate")
    p = Xa.shape[1]
    m = int(sampled.sum())
    if m <= p:
        raise ValueError(f"need more areas with a direct estimate ({m}) than covariates ({p})")
    Xs = Xa[sampled]
    rank = int(np.linalg.matrix_rank(Xs))
    if rank < p:
        zero_cols = [j for j in range(p) if not np.any(Xs[:, j] != 0)]
        hint = f"; columns {zero_cols} are 0 in every sampled area" if zero_cols else ""
        raise ValueError(
            f"X restricted to the sampled areas has rank {rank} < {p} columns (collinear covariates, "
            f"or a dummy with an intercept for every level){hint}"
        )
    Dout = np.where(sampled, Da, np.nan)
    return ya, Dout, Xa, sampled


# --------------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------------


def fay_herriot(
    y: ArrayLike,
    D: ArrayLike,
    X: ArrayLike,
    *,
    method: Method = "REML",
    rule: AdequacyRule | None = None,
    bounds: tuple[float, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> FayHerriotFit:
    """Fit the Fay–Herriot model and return EBLUPs, their MSE and adequacy diagnostics.

    ``y``: direct estimates (NaN = no direct estimate); ``D``: their sampling variances (ignored where
    ``y`` is NaN); ``X``: covariates for every area, intercept column included if wanted. ``bounds``
    clips the final estimates (e.g. ``(0, 1)`` for proportions). See the module docstring.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    rule = AdequacyRule() if rule is None else rule
    ya, Da, Xa, sampled = _prepare(y, D, X)
    ys, Ds, Xs = ya[sampled], Da[sampled], Xa[sampled]
    m = Xs.shape[0]
    scale = float(np.median(Ds))

    notes: list[str] = []
    if method in ("REML", "ML"):
        loglik_of, score_info_of = (
            (_reml_loglik, _reml_score_info) if method == "REML" else (_ml_loglik, _ml_score_info)
        )

        def ll_fn(a: float) -> float:
            return loglik_of(a, ys, Ds, Xs)

        def si_fn(a: float) -> tuple[float, float]:
            return score_info_of(a, ys, Ds, Xs)

        A, converged, iterations = _fisher_scoring(ll_fn, si_fn, scale, scale, tol, max_iter)
        if not converged:
            # Fall back to a direct bounded maximisation of the same likelihood.
            r0 = _gls(0.0, ys, Ds, Xs).resid
            upper = 10.0 * (float(np.mean(r0**2)) + float(np.max(Ds))) + A
            A, converged = _bounded_max(ll_fn, upper)
    elif method == "FH":
        A, converged, iterations = _fh_moment(ys, Ds, Xs, scale)
    else:
        A, converged, iterations = _pr_moment(ys, Ds, Xs), True, 0
    A = float(A)
    at_zero = A <= 0.0
    if at_zero:
        A = 0.0
        notes.append("sigma2_u_zero")

    g = _gls(A, ys, Ds, Xs)
    w = g.w
    sum_w, sum_w2 = float(np.sum(w)), float(np.sum(w**2))
    if method in ("REML", "ML"):
        var_a = 2.0 / sum_w2
    elif method == "FH":
        var_a = 2.0 * m / sum_w**2
    else:
        var_a = 2.0 * float(np.sum((A + Ds) ** 2)) / m**2
    if method == "ML":
        b = -float(np.trace(g.q @ (Xs.T @ (Xs * (w**2)[:, None])))) / sum_w2
    elif method == "FH":
        b = 2.0 * (m * sum_w2 - sum_w**2) / sum_w**3
    else:
        b = 0.0

    n = ya.size
    synthetic = Xa @ g.beta
    h = np.einsum("ij,jk,ik->i", Xa, g.q, Xa)
    gamma = np.zeros(n)
    gamma[sampled] = A / (A + Ds)
    one_g2 = (1.0 - gamma) ** 2
    g1 = np.where(sampled, gamma * np.where(sampled, Da, 0.0), A)
    g2 = one_g2 * h
    g3 = np.zeros(n)
    g3[sampled] = one_g2[sampled] * var_a / (A + Ds)
    mse = np.maximum(g1 + g2 + 2.0 * g3 - b * one_g2, 0.0)

    estimate = synthetic.copy()
    estimate[sampled] = gamma[sampled] * ys + (1.0 - gamma[sampled]) * synthetic[sampled]
    clipped = np.zeros(n, dtype=bool)
    if bounds is not None:
        lo, hi = bounds
        clipped = (estimate < lo) | (estimate > hi)
        estimate = np.clip(estimate, lo, hi)

    std_res = np.full(n, np.nan)
    std_res[sampled] = g.resid / np.sqrt(A + Ds)
    loglik = -0.5 * float(np.sum(np.log(2.0 * math.pi * (A + Ds))) + np.sum(w * g.resid**2))

    zs = std_res[sampled]
    shapiro_p = math.nan
    if m >= 3 and float(np.ptp(zs)) > 0.0:
        shapiro_p = float(stats.shapiro(zs).pvalue)

    # ---- global adequacy -----------------------------------------------------------------------
    reasons: list[str] = []
    messages: list[str] = []

    def fail(code: str, msg: str) -> None:
        reasons.append(code)
        messages.append(f"{code}: {msg}")

    if m < rule.min_areas:
        fail("too_few_areas", f"{m} areas with a direct estimate (< {rule.min_areas})")
    if not converged:
        fail("not_converged", f"{method} estimation of sigma2_u did not converge in {iterations} iterations")
    z_crit = max(rule.outlier_z, float(stats.norm.isf(rule.outlier_family_alpha / (2.0 * m))))
    n_out = int(np.sum(np.abs(zs) > z_crit))
    if n_out:
        fail("outliers", f"{n_out} area(s) with |standardised residual| > {z_crit:.2f} (max {np.max(np.abs(zs)):.2f})")
    if math.isnan(shapiro_p):
        fail("non_normal", "Shapiro–Wilk test not computable (fewer than 3 areas or identical residuals)")
    elif shapiro_p <= rule.shapiro_alpha:
        fail("non_normal", f"Shapiro–Wilk p = {shapiro_p:.3g} (<= {rule.shapiro_alpha})")
    mse_excess = np.zeros(n, dtype=bool)
    mse_excess[sampled] = mse[sampled] > Ds * (1.0 + 1e-9)
    share = float(mse_excess.sum()) / m
    if share > rule.max_mse_excess_share:
        fail(
            "mse_above_direct",
            f"MSE of the EBLUP exceeds the direct variance in {int(mse_excess.sum())} of {m} areas "
            f"({share:.0%} > {rule.max_mse_excess_share:.0%})",
        )
    adequate = not reasons

    # ---- per area -------------------------------------------------------------------------------
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(estimate == 0.0, np.inf, np.sqrt(mse) / np.abs(estimate))
    area_reasons: list[list[str]] = []
    for i in range(n):
        r: list[str] = []
        if not adequate:
            r.append("model_inadequate")
        if not (cv[i] < rule.max_cv):
            r.append("area_cv")
        if sampled[i] and abs(std_res[i]) > rule.outlier_z:
            r.append("area_outlier")
        if mse_excess[i]:
            r.append("area_mse_above_direct")
        area_reasons.append(r)
    area_adequate = np.array([not r for r in area_reasons], dtype=bool)

    return FayHerriotFit(
        method=method,
        sigma2_u=A,
        sigma2_u_at_zero=at_zero,
        sigma2_u_var=var_a,
        converged=converged,
        iterations=iterations,
        beta=g.beta,
        beta_cov=g.q,
        loglik=loglik,
        sampled=sampled,
        direct=np.where(sampled, ya, np.nan),
        D=Da,
        synthetic=synthetic,
        gamma=gamma,
        estimate=estimate,
        clipped=clipped,
        g1=g1,
        g2=g2,
        g3=g3,
        mse=mse,
        std_residuals=std_res,
        shapiro_p=shapiro_p,
        adequate=adequate,
        reasons=reasons,
        messages=messages,
        notes=notes,
        area_adequate=area_adequate,
        area_reasons=area_reasons,
        rule=rule,
    )


# --------------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------------


def proportion_sampling_variance(
    p: ArrayLike, n_eff: ArrayLike, *, deff: ArrayLike = 1.0, smooth: bool = True
) -> FloatArray:
    """Sampling variances ``deff * q (1 - q) / n_eff`` of direct proportions.

    With ``smooth=True`` (default) ``q`` is the pooled proportion ``sum(n p) / sum(n)`` over the areas
    with a finite ``p`` (a simple generalised variance function: it avoids ``D = 0`` for areas whose
    sample proportion is 0 or 1 and the correlation between ``p_i`` and its own variance); with
    ``smooth=False`` it is each area's own ``p_i``. ``n_eff`` is the (effective) sample size; areas with
    NaN ``p`` get NaN.
    """
    pa = np.asarray(p, dtype=np.float64).ravel()
    na = np.asarray(n_eff, dtype=np.float64).ravel()
    da = np.broadcast_to(np.asarray(deff, dtype=np.float64), pa.shape)
    if na.shape != pa.shape:
        raise ValueError("p and n_eff must have the same length")
    ok = np.isfinite(pa)
    if np.any((pa[ok] < 0) | (pa[ok] > 1)):
        raise ValueError("proportions must lie in [0, 1]")
    if np.any(~(na[ok] > 0)):
        raise ValueError("n_eff must be > 0 where p is given")
    pooled = float(np.sum(na[ok] * pa[ok]) / np.sum(na[ok])) if ok.any() else math.nan
    q = np.full(pa.shape, pooled) if smooth else pa
    with np.errstate(divide="ignore", invalid="ignore"):
        out = da * q * (1.0 - q) / na
    return np.where(ok, out, np.nan)


def fay_herriot_proportion(
    p: ArrayLike,
    D: ArrayLike,
    X: ArrayLike,
    *,
    method: Method = "REML",
    rule: AdequacyRule | None = None,
) -> FayHerriotFit:
    """Fay–Herriot on the proportion scale with the estimates clipped to ``[0, 1]``.

    ``p`` are direct proportions in ``[0, 1]`` (NaN = no direct estimate), ``D`` their sampling
    variances (e.g. from :func:`proportion_sampling_variance`). No transform is applied; see the
    module docstring for why arcsine/logit are not the default.
    """
    pa = np.asarray(p, dtype=np.float64)
    ok = np.isfinite(pa)
    if np.any((pa[ok] < 0) | (pa[ok] > 1)):
        raise ValueError("proportions must lie in [0, 1]")
    return fay_herriot(pa, D, X, method=method, rule=rule, bounds=(0.0, 1.0))
