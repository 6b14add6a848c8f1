"""Two-parameter logistic (2PL) item response model for the science-literacy tests.

Pure numpy/scipy (no Django). Everything a respondent sees as an ``irt_scaled`` score comes from the
functions below, so the method is spelled out here.

Model
-----
Respondent ``i`` answers item ``j`` correctly with probability

    P_j(theta_i) = 1 / (1 + exp(-a_j * (theta_i - b_j)))

(no 1.7 scaling constant). ``a`` is the discrimination, ``b`` the difficulty, ``theta`` the ability.
Internally the slope-intercept form ``logit P = a * theta + c`` with ``c = -a * b`` is used.

Responses are an ``n x J`` array of 0, 1 and NaN. NaN means *not administered* (test forms differ per
respondent), so a respondent's likelihood only involves the items they saw; this is ignorable
missingness by design. Respondents who saw no item are left out of the calibration.

Calibration: marginal maximum likelihood
----------------------------------------
Abilities are integrated out against a normal population distribution ``N(mean, sd^2)``:

    loglik = sum_i log integral prod_j P_j(theta)^x_ij (1 - P_j(theta))^(1 - x_ij) dN(theta)

The integral uses Gauss-Hermite quadrature (41 nodes by default) for ``N(0, 1)``, moved to
``mean + sd * z``. The maximum is found by the Bock-Aitkin EM algorithm:

* E-step: the posterior weight of each respondent on each node, and from it the expected number of
  respondents (``N_jq``) and of correct answers (``R_jq``) at node ``q`` for item ``j``.
* M-step: for each free item a weighted logistic regression of ``R_jq / N_jq`` on the node (Newton's
  method run to convergence, vectorised over items); the population mean and SD, when estimated, are
  the mean and SD of the pooled posterior.
* The EM map is accelerated with SQUAREM (Varadhan and Roland 2008, scheme S3) with a likelihood
  safeguard: an extrapolated step is kept only if the log-likelihood does not fall, otherwise the
  plain EM step is used.
* Convergence: the largest change of one EM step in any free parameter (``a``, ``c``, population mean
  and ``log sd``) is below ``tol``. ``iterations`` counts EM steps (E-steps).
* Honesty checks: a fit is reported as *not* converged (``converged=False``) also when a free item has
  a runaway slope (``|a| > MAX_SLOPE`` = 10, or a non-finite estimate) or a non-finite standard
  error. A separated item (its answers perfectly ordered along the ability, e.g. a Guttman item)
  has no finite maximum likelihood estimate: its slope keeps growing, so it is caught by the slope
  check. ``problem_items`` names the offending items (indices) and ``problem`` says what is wrong;
  ``require_converged`` raises ``FitNotConvergedError`` with that text, so no score is published
  from such a fit.

Identification. Without fixed items the population is ``N(0, 1)`` (the reference scale). With fixed
items (``fixed`` = item -> (a, b) on the reference scale) the anchors carry the scale, so the
population mean and SD of the new wave are estimated along with the free items ("fixed parameter
calibration" with an updated prior, Kim 2006). This is how a new wave or form is put on the scale of
the reference wave: its abilities, item parameters and scores are then directly comparable.

Standard errors (Louis' method)
-------------------------------
The observed information of the (quadrature) marginal likelihood is computed by Louis' (1982) formula

    I = sum_i E[-H_i(theta)] - sum_i Cov[s_i(theta)]

where ``s_i`` and ``H_i`` are the complete-data score and Hessian for respondent ``i`` (item parameters
and, when estimated, the population mean and SD) and the expectation and covariance are over the
respondent's posterior at the quadrature nodes. All free parameters enter one joint matrix, so the
covariance of the items and of the population parameters is accounted for. The inverse gives the
covariance of ``(a, c)``; ``se_b`` follows by the delta method for ``b = -c / a``. Fixed items have
standard error 0 (they carry no sampling error in this calibration). If the information matrix is not
positive definite (e.g. the fit did not converge) the standard errors are NaN.

Abilities (EAP)
---------------
``abilities`` returns the expected a posteriori ability and the posterior SD under the fitted
population distribution. Because the posterior of a long test is much narrower than the prior, the
integral uses a fine equally spaced grid (161 nodes over mean +/- 6 SD, step 0.075 SD) instead of the
41 Gauss-Hermite nodes; the trapezoid rule on such a grid is accurate to many digits for any posterior
SD above ~0.1. EAP estimates are shrunk toward the population mean, the more so the fewer items a
respondent answered.

Linking
-------
The recommended path is fixed parameter calibration (``fit_2pl(..., fixed=...)``) with the anchor
items' reference parameters. For checks of separate calibrations (e.g. anchor drift) two classical
linking methods give the transformation ``theta_ref = A * theta_new + B`` (so ``b_ref = A * b + B``,
``a_ref = a / A``) from the anchors' two sets of parameters:

* ``mean_sigma``: ``A = sd(b_ref) / sd(b_new)``, ``B = mean(b_ref) - A * mean(b_new)``.
* ``stocking_lord``: ``A, B`` minimise the squared difference between the anchors' test
  characteristic curves (expected number correct) on the reference scale, integrated over
  ``N(0, 1)`` with 41 Gauss-Hermite nodes; started from mean-sigma.

Reporting scale (0-100)
-----------------------
``scale_scores`` is a linear map of the ability on the reference scale, ``score = mean + sd * theta``,
clipped to ``[0, 100]``. The defaults ``mean = 60``, ``sd = 10`` put the average respondent of the
reference wave at 60 and a respondent one reference SD above the mean at 70 (the default cut of the
``irt_scaled`` profile): about 16 % of the reference population, close to the national rate (15.37 %
in 2024). Because ``theta`` is fixed by the anchors' reference parameters, the same score means the
same ability on any form and in any year. The constants are a convention, not an official standard:
a cut must come from standard setting. ``scale_from_points`` derives ``mean`` and ``sd`` from two
``(theta, score)`` points, and ``anchor_theta`` gives the ability at which the expected share correct
on the anchor set (under its reference parameters) reaches a given value, so a scale can also be
fixed by statements like "a score of 70 = expected 70 % correct on the anchor items".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from kepu.stats.arrays import BoolArray, FloatArray

__all__ = [
    "EAP_NODES",
    "MAX_SLOPE",
    "N_NODES",
    "SCALE_MEAN",
    "SCALE_SD",
    "FitNotConvergedError",
    "Link",
    "TwoPLFit",
    "anchor_theta",
    "eap",
    "fit_2pl",
    "gauss_hermite_normal",
    "mean_sigma",
    "probability",
    "scale_from_points",
    "scale_scores",
    "simulate_2pl",
    "stocking_lord",
]


#: Gauss-Hermite nodes of the EM quadrature.
N_NODES: Final = 41
#: Equally spaced nodes (over +/- 6 SD) of the EAP integral.
EAP_NODES: Final = 161
#: Default reporting scale: score = SCALE_MEAN + SCALE_SD * theta (reference scale), clipped to [0, 100].
SCALE_MEAN: Final = 60.0
SCALE_SD: Final = 10.0
#: A free item whose fitted slope exceeds this in absolute value is a runaway (separated) item.
MAX_SLOPE: Final = 10.0

_MAX_NEWTON: Final = 50
_MAX_STEP: Final = 1.0  # largest Newton change of a or c in one step
_SQUAREM_STEP_MAX0: Final = 4.0
_ROWS_PER_CHUNK: Final = 50_000


# --------------------------------------------------------------------------------------------------
# Basic pieces
# --------------------------------------------------------------------------------------------------


def gauss_hermite_normal(n_nodes: int = N_NODES) -> tuple[FloatArray, FloatArray]:
    """Gauss-Hermite nodes and weights for the standard normal distribution (weights sum to 1)."""
    if n_nodes < 2:
        raise ValueError("n_nodes must be at least 2")
    z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return z.astype(np.float64), (w / w.sum()).astype(np.float64)


def probability(theta: ArrayLike, a: ArrayLike, b: ArrayLike) -> FloatArray:
    """``P(correct)`` for every ability (rows) and item (columns): an ``len(theta) x len(a)`` array."""
    t = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    a_ = np.atleast_1d(np.asarray(a, dtype=np.float64))
    b_ = np.atleast_1d(np.asarray(b, dtype=np.float64))
    z = a_[None, :] * (t[:, None] - b_[None, :])
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _softplus(z: FloatArray) -> FloatArray:
    return np.asarray(np.logaddexp(0.0, z), dtype=np.float64)


def _expit(z: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


@dataclass(frozen=True)
class _Data:
    x: FloatArray  # n x J, 1 = correct, 0 = wrong or missing
    m: FloatArray  # n x J, 1 = administered
    complete: bool  # no missing responses


def _prepare(responses: ArrayLike) -> _Data:
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError("responses must be a 2-D array (respondents x items)")
    seen = ~np.isnan(r)
    if not np.all((r[seen] == 0.0) | (r[seen] == 1.0)):
        raise ValueError("responses must be 0, 1 or NaN (not administered)")
    x = np.where(seen, r, 0.0)
    m = seen.astype(np.float64)
    return _Data(x=np.ascontiguousarray(x), m=np.ascontiguousarray(m), complete=bool(seen.all()))


def _log_likelihood_nodes(data: _Data, x: FloatArray, m: FloatArray, z: FloatArray) -> FloatArray:
    """``log P(responses | theta_q)`` for rows ``x``/``m`` (n x Q); ``z`` is the J x Q logit table."""
    log_q = -_softplus(z)  # log(1 - P)
    out = x @ z  # x * log P + (1 - x) * log(1 - P) = x * z + log(1 - P) on administered items
    if data.complete:
        out += log_q.sum(axis=0)[None, :]
    else:
        out += m @ log_q
    return np.asarray(out, dtype=np.float64)


@dataclass
class _EStep:
    loglik: float
    w: FloatArray  # n x Q posterior weights
    r: FloatArray  # J x Q expected correct answers
    nn: FloatArray  # J x Q expected respondents
    nq: FloatArray  # Q expected respondents per node
    theta: FloatArray  # Q nodes


def _estep(data: _Data, a: FloatArray, c: FloatArray, theta: FloatArray, log_v: FloatArray) -> _EStep:
    z = a[:, None] * theta[None, :] + c[:, None]
    ll = _log_likelihood_nodes(data, data.x, data.m, z)
    ll += log_v[None, :]
    mx = ll.max(axis=1, keepdims=True)
    ll -= mx
    np.exp(ll, out=ll)
    s = ll.sum(axis=1, keepdims=True)
    ll /= s
    loglik = float(np.sum(mx) + np.sum(np.log(s)))
    w = ll
    r = data.x.T @ w
    nq = w.sum(axis=0)
    nn = np.broadcast_to(nq, r.shape).copy() if data.complete else data.m.T @ w
    return _EStep(loglik=loglik, w=w, r=r, nn=nn, nq=nq, theta=theta)


def _mstep_items(
    r: FloatArray, nn: FloatArray, theta: FloatArray, a: FloatArray, c: FloatArray, free: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Maximise sum_q R log P + (N - R) log(1 - P) for each free item (Newton with step halving)."""
    a = a.copy()
    c = c.copy()
    idx = np.flatnonzero(free)
    if idx.size == 0:
        return a, c
    rr, nj = r[idx], nn[idx]
    aa, cc = a[idx], c[idx]
    t = theta[None, :]

    def objective(av: FloatArray, cv: FloatArray) -> FloatArray:
        zz = av[:, None] * t + cv[:, None]
        return np.asarray(np.sum(rr * zz - nj * _softplus(zz), axis=1), dtype=np.float64)

    obj = objective(aa, cc)
    for _ in range(_MAX_NEWTON):
        zz = aa[:, None] * t + cc[:, None]
        p = _expit(zz)
        res = rr - nj * p
        g_a = np.sum(res * t, axis=1)
        g_c = np.sum(res, axis=1)
        wq = nj * p * (1.0 - p)
        h_aa = np.sum(wq * t * t, axis=1)
        h_ac = np.sum(wq * t, axis=1)
        h_cc = np.sum(wq, axis=1)
        det = h_aa * h_cc - h_ac * h_ac
        ok = det > 1e-12 * np.maximum(h_aa * h_cc, 1e-300)
        safe_det = np.where(ok, det, 1.0)
        da = np.where(ok, (h_cc * g_a - h_ac * g_c) / safe_det, 0.0)
        dc = np.where(ok, (h_aa * g_c - h_ac * g_a) / safe_det, 0.0)
        big = np.maximum(np.abs(da), np.abs(dc))
        shrink = np.where(big > _MAX_STEP, _MAX_STEP / np.maximum(big, 1e-300), 1.0)
        da *= shrink
        dc *= shrink
        step = np.ones_like(aa)
        new_a, new_c = aa + da, cc + dc
        new_obj = objective(new_a, new_c)
        for _ in range(30):
            worse = new_obj < obj - 1e-12 * np.abs(obj)
            if not worse.any():
                break
            step = np.where(worse, step * 0.5, step)
            new_a = np.where(worse, aa + step * da, new_a)
            new_c = np.where(worse, cc + step * dc, new_c)
            new_obj = np.where(worse, objective(new_a, new_c), new_obj)
        worse = new_obj < obj - 1e-12 * np.abs(obj)
        new_a = np.where(worse, aa, new_a)
        new_c = np.where(worse, cc, new_c)
        change = float(np.max(np.maximum(np.abs(new_a - aa), np.abs(new_c - cc))))
        aa, cc, obj = new_a, new_c, np.where(worse, obj, new_obj)
        if change < 1e-10:
            break
    a[idx] = aa
    c[idx] = cc
    return a, c


# --------------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------------


class FitNotConvergedError(ValueError):
    """A 2PL fit that did not converge (or has runaway items) was used where a valid fit is needed."""

    def __init__(self, message: str, items: tuple[int, ...] = (), names: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.items = items
        self.names = names


@dataclass(frozen=True)
class TwoPLFit:
    """A calibrated 2PL model. Arrays are per item; ``fixed[j]`` marks items held at given values.

    ``mean`` and ``sd`` describe the calibrated population on the reference scale (0 and 1 unless
    anchors were fixed); ``se_mean`` and ``se_sd`` are their standard errors (0 when not estimated).
    ``cov`` is the covariance matrix of the free parameters in the order ``a_free, b_free, mean, sd``
    (the population entries only when estimated), or None when it could not be computed.
    ``converged`` is False when EM stopped at ``max_iter`` or the honesty checks failed;
    ``problem_items`` then lists the offending items (indices) and ``problem`` explains (empty when
    converged).
    """

    a: FloatArray
    b: FloatArray
    se_a: FloatArray
    se_b: FloatArray
    loglik: float
    iterations: int
    converged: bool
    mean: float
    sd: float
    se_mean: float
    se_sd: float
    fixed: BoolArray
    n_respondents: int
    n_nodes: int
    cov: FloatArray | None
    problem_items: tuple[int, ...] = ()
    problem: str = ""

    @property
    def c(self) -> FloatArray:
        """Intercepts ``c = -a * b`` of the slope-intercept form."""
        return np.asarray(-self.a * self.b, dtype=np.float64)

    def require_converged(self, names: Sequence[str] | None = None) -> None:
        """Raise ``FitNotConvergedError`` naming the offending items (by ``names`` when given)."""
        if self.converged:
            return
        labels = tuple(names[j] if names is not None else str(j) for j in self.problem_items)
        message = self.problem or "the 2PL fit did not converge"
        if labels:
            message = f"{message}; items: {', '.join(labels)}"
        raise FitNotConvergedError(message, self.problem_items, labels)

    def abilities(self, responses: ArrayLike, *, n_nodes: int = EAP_NODES) -> tuple[FloatArray, FloatArray]:
        """EAP abilities and posterior SDs under the fitted population ``N(mean, sd^2)``."""
        return eap(responses, self.a, self.b, mean=self.mean, sd=self.sd, n_nodes=n_nodes)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-friendly values (lists and floats) of the item and population parameters."""
        return {
            "a": self.a.tolist(),
            "b": self.b.tolist(),
            "se_a": self.se_a.tolist(),
            "se_b": self.se_b.tolist(),
            "fixed": self.fixed.tolist(),
            "mean": self.mean,
            "sd": self.sd,
            "se_mean": self.se_mean,
            "se_sd": self.se_sd,
            "loglik": self.loglik,
            "iterations": self.iterations,
            "converged": self.converged,
            "problem_items": list(self.problem_items),
            "problem": self.problem,
            "n_respondents": self.n_respondents,
            "n_nodes": self.n_nodes,
        }


def fit_2pl(
    responses: ArrayLike,
    *,
    max_iter: int = 500,
    tol: float = 1e-6,
    fixed: Mapping[int, tuple[float, float]] | None = None,
    estimate_population: bool | None = None,
    n_nodes: int = N_NODES,
    start: tuple[ArrayLike, ArrayLike] | None = None,
) -> TwoPLFit:
    """Fit a 2PL model by marginal maximum likelihood (Bock-Aitkin EM, see the module docstring).

    ``responses``: ``n x J`` array of 0/1, NaN = not administered. ``fixed`` maps item index ->
    ``(a, b)`` held at those values (anchor items on the reference scale). ``estimate_population``:
    estimate the population mean and SD (default: only when items are fixed; otherwise ``N(0, 1)``
    defines the scale). ``start``: optional starting ``(a, b)``.
    """
    data = _prepare(responses)
    keep = data.m.any(axis=1)
    if not keep.all():
        data = _Data(x=np.ascontiguousarray(data.x[keep]), m=np.ascontiguousarray(data.m[keep]), complete=False)
    n, n_items = data.x.shape
    if n == 0 or n_items == 0:
        raise ValueError("responses must contain at least one administered response")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    if not tol > 0:
        raise ValueError("tol must be positive")

    fixed = dict(fixed or {})
    is_fixed = np.zeros(n_items, dtype=bool)
    a = np.ones(n_items)
    c = np.zeros(n_items)
    for j, (aj, bj) in fixed.items():
        if not 0 <= int(j) < n_items:
            raise ValueError(f"fixed item index {j} is out of range 0..{n_items - 1}")
        if not (np.isfinite(aj) and np.isfinite(bj)):
            raise ValueError(f"fixed parameters of item {j} must be finite")
        is_fixed[int(j)] = True
        a[int(j)] = float(aj)
        c[int(j)] = -float(aj) * float(bj)
    free = ~is_fixed
    est_pop = bool(is_fixed.any()) if estimate_population is None else bool(estimate_population)
    if est_pop and not is_fixed.any():
        raise ValueError("estimating the population mean and SD needs at least one fixed (anchor) item")

    n_seen = data.m.sum(axis=0)
    n_right = data.x.sum(axis=0)
    bad = free & ((n_seen == 0) | (n_right == 0) | (n_right == n_seen))
    if bad.any():
        raise ValueError(
            f"items {np.flatnonzero(bad).tolist()} were not administered or every answer is the same; "
            "drop them or fix their parameters"
        )

    # Starting values: marginal proportion correct under N(0, 1) with a = 1.
    if start is not None:
        a0 = np.asarray(start[0], dtype=np.float64).reshape(-1)
        b0 = np.asarray(start[1], dtype=np.float64).reshape(-1)
        if a0.size != n_items or b0.size != n_items or not (np.all(np.isfinite(a0)) and np.all(np.isfinite(b0))):
            raise ValueError("start must be finite (a, b) with one value per item")
        a[free] = a0[free]
        c[free] = -a0[free] * b0[free]
    else:
        p = np.clip(n_right / np.maximum(n_seen, 1.0), 0.5 / np.maximum(n_seen, 1.0), 1 - 0.5 / np.maximum(n_seen, 1.0))
        c0 = np.log(p / (1.0 - p)) * np.sqrt(1.0 + np.pi / 8.0)
        c[free] = c0[free]

    z_nodes, v = gauss_hermite_normal(n_nodes)
    log_v = np.log(v)
    n_free = int(free.sum())

    def pack(a_: FloatArray, c_: FloatArray, mu_: float, sd_: float) -> FloatArray:
        parts = [a_[free], c_[free]]
        if est_pop:
            parts.append(np.array([mu_, np.log(sd_)]))
        return np.concatenate(parts)

    def unpack(phi: FloatArray) -> tuple[FloatArray, FloatArray, float, float]:
        a_ = a.copy()
        c_ = c.copy()
        a_[free] = phi[:n_free]
        c_[free] = phi[n_free : 2 * n_free]
        if est_pop:
            return a_, c_, float(phi[2 * n_free]), float(np.exp(phi[2 * n_free + 1]))
        return a_, c_, 0.0, 1.0

    def em_map(phi: FloatArray) -> tuple[FloatArray, _EStep]:
        a_, c_, mu_, sd_ = unpack(phi)
        es = _estep(data, a_, c_, mu_ + sd_ * z_nodes, log_v)
        a_new, c_new = _mstep_items(es.r, es.nn, es.theta, a_, c_, free)
        if est_pop:
            tot = es.nq.sum()
            mu_new = float(es.nq @ es.theta / tot)
            sd_new = float(np.sqrt(es.nq @ (es.theta - mu_new) ** 2 / tot))
        else:
            mu_new, sd_new = 0.0, 1.0
        return pack(a_new, c_new, mu_new, sd_new), es

    phi0 = pack(a, c, 0.0, 1.0)
    evals = 0
    converged = False
    step_max = _SQUAREM_STEP_MAX0
    last: _EStep | None = None
    if phi0.size == 0:
        _, last = em_map(phi0)
        evals = 1
        converged = True
    while not converged and evals < max_iter:
        phi1, es0 = em_map(phi0)
        evals += 1
        last = es0
        r_vec = phi1 - phi0
        if float(np.max(np.abs(r_vec))) < tol:
            converged = True
            break
        if evals >= max_iter:
            phi0 = phi1
            last = None
            break
        phi2, es1 = em_map(phi1)
        evals += 1
        v_vec = phi2 - phi1 - r_vec
        sr = float(np.sqrt(r_vec @ r_vec))
        sv = float(np.sqrt(v_vec @ v_vec))
        alpha = -sr / sv if sv > 0 else -1.0
        alpha = min(-1.0, max(alpha, -step_max))
        if alpha == -1.0 or evals >= max_iter:
            phi0 = phi2
            last = None
            continue
        phi_p = phi0 - 2.0 * alpha * r_vec + alpha * alpha * v_vec
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a wild step is rejected below
            phi_new, es_p = em_map(phi_p)
        evals += 1
        if (
            np.all(np.isfinite(phi_new))
            and np.isfinite(es_p.loglik)
            and es_p.loglik >= es1.loglik - 1e-8 * abs(es1.loglik)
        ):
            phi0 = phi_new
            if alpha == -step_max:
                step_max *= 4.0
        else:
            phi0 = phi2
            step_max = max(1.0, step_max / 4.0)
        last = None

    a_hat, c_hat, mu_hat, sd_hat = unpack(phi0)
    if last is None:
        last = _estep(data, a_hat, c_hat, mu_hat + sd_hat * z_nodes, log_v)
    b_hat = -c_hat / a_hat

    cov = _louis_covariance(data, a_hat, c_hat, mu_hat, sd_hat, last, free, est_pop)
    se_a = np.zeros(n_items)
    se_b = np.zeros(n_items)
    se_mu = se_sd = 0.0
    cov_ab: FloatArray | None = None
    if cov is None:
        se_a[free] = np.nan
        se_b[free] = np.nan
        if est_pop:
            se_mu = se_sd = float("nan")
    else:
        af = a_hat[free]
        bf = b_hat[free]
        # Jacobian of (a, b, mean, sd) w.r.t. (a, c, mean, sd).
        k = cov.shape[0]
        jac = np.zeros((k, k))
        ia = np.arange(n_free)
        jac[ia, ia] = 1.0
        jac[n_free + ia, ia] = -bf / af  # db/da = c / a^2 = -b / a
        jac[n_free + ia, n_free + ia] = -1.0 / af
        if est_pop:
            jac[2 * n_free, 2 * n_free] = 1.0
            jac[2 * n_free + 1, 2 * n_free + 1] = 1.0
        cov_ab = jac @ cov @ jac.T
        var = np.diag(cov_ab)
        se_a[free] = np.sqrt(var[:n_free])
        se_b[free] = np.sqrt(var[n_free : 2 * n_free])
        if est_pop:
            se_mu = float(np.sqrt(var[2 * n_free]))
            se_sd = float(np.sqrt(var[2 * n_free + 1]))

    problem_items, problem = _honesty(a_hat, b_hat, se_a, se_b, free, cov is None)
    if problem:
        converged = False
    elif not converged:
        problem = f"EM did not converge in {evals} steps (max_iter={max_iter}, tol={tol:g})"

    return TwoPLFit(
        a=a_hat,
        b=b_hat,
        se_a=se_a,
        se_b=se_b,
        loglik=last.loglik,
        iterations=evals,
        converged=converged,
        mean=mu_hat,
        sd=sd_hat,
        se_mean=se_mu,
        se_sd=se_sd,
        fixed=is_fixed,
        n_respondents=n,
        n_nodes=n_nodes,
        cov=cov_ab,
        problem_items=problem_items,
        problem=problem,
    )


def _honesty(
    a: FloatArray, b: FloatArray, se_a: FloatArray, se_b: FloatArray, free: BoolArray, no_cov: bool
) -> tuple[tuple[int, ...], str]:
    """Offending free items (runaway or non-finite slopes first, else non-finite SEs) and why."""
    with np.errstate(invalid="ignore"):
        runaway = free & ~((np.abs(a) <= MAX_SLOPE) & np.isfinite(b))
    if runaway.any():
        return tuple(int(j) for j in np.flatnonzero(runaway)), (
            f"runaway slopes (|a| > {MAX_SLOPE:g} or not finite): separated items have no finite estimate"
        )
    bad_se = free & ~(np.isfinite(se_a) & np.isfinite(se_b))
    if bad_se.any():
        why = "the information matrix is not positive definite" if no_cov else "non-finite standard errors"
        return tuple(int(j) for j in np.flatnonzero(bad_se)), f"standard errors are not finite ({why})"
    if no_cov:
        return (), "the information matrix is not positive definite (no standard errors)"
    return (), ""


def _pattern_weights(m: FloatArray, w: FloatArray, complete: bool) -> tuple[FloatArray, FloatArray]:
    """Distinct rows of the administered-item mask ``m`` and the summed posterior weights per row."""
    if complete:
        return np.ones((1, m.shape[1])), w.sum(axis=0)[None, :]
    packed = np.ascontiguousarray(np.packbits(m.astype(bool), axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = np.empty((first.size, w.shape[1]))
    for q in range(w.shape[1]):
        sums[:, q] = np.bincount(inverse, weights=w[:, q], minlength=first.size)
    return m[first], sums


def _louis_covariance(
    data: _Data,
    a: FloatArray,
    c: FloatArray,
    mu: float,
    sd: float,
    es: _EStep,
    free: BoolArray,
    est_pop: bool,
) -> FloatArray | None:
    """Covariance of the free parameters ``(a_free, c_free[, mean, sd])`` from Louis' formula."""
    x, m, w, theta = data.x, data.m, es.w, es.theta
    p = _expit(a[:, None] * theta[None, :] + c[:, None])  # J x Q
    idx = np.flatnonzero(free)
    nf = idx.size
    k = 2 * nf + (2 if est_pop else 0)
    if k == 0:
        return np.zeros((0, 0))

    # E[complete-data information] (block diagonal for items).
    info = np.zeros((k, k))
    wq = es.nn * p * (1.0 - p)  # J x Q
    h2, h1, h0 = wq @ theta**2, wq @ theta, wq.sum(axis=1)
    ia = np.arange(nf)
    info[ia, ia] = h2[idx]
    info[ia, nf + ia] = info[nf + ia, ia] = h1[idx]
    info[nf + ia, nf + ia] = h0[idx]
    dev = theta - mu
    if est_pop:
        tot = es.nq.sum()
        i_mm = tot / sd**2
        i_ms = 2.0 * float(es.nq @ dev) / sd**3
        i_ss = -tot / sd**2 + 3.0 * float(es.nq @ dev**2) / sd**4
        info[2 * nf : 2 * nf + 2, 2 * nf : 2 * nf + 2] = [[i_mm, i_ms], [i_ms, i_ss]]

    # sum_i E[s s^T] over the posterior. For items j, k and power p of theta this is
    # T_p[j, k] = sum_i sum_q w_iq theta_q^p m_ij m_ik (x_ij - P_jq)(x_ik - P_kq), expanded into
    # sum x x - sum x P - sum P x + sum P P; the last term needs sum_i w_iq m_ij m_ik, taken per
    # pattern of administered items (one pattern when nothing is missing).
    xf = x[:, idx]
    mf = m[:, idx]
    pf = p[idx]
    e2 = np.zeros((k, k))
    pats, a_pat = _pattern_weights(mf, w, data.complete)
    ewp = [w @ ((theta**pw)[:, None] * pf.T) for pw in range(3)]  # n x F: sum_q w_iq theta^p P_jq
    t_mats = []
    for pw in range(3):
        tp = theta**pw
        u = w @ tp
        half = 0.5 * u[:, None] * xf - (ewp[pw] if data.complete else mf * ewp[pw])
        s_half = xf.T @ half  # 0.5 sum x x - sum x P
        term4 = np.zeros((nf, nf))
        chunk = max(1, 2_000_000 // max(1, nf * theta.size))
        for s0 in range(0, pats.shape[0] if nf else 0, chunk):
            pk = pats[s0 : s0 + chunk]  # K x F
            bk = pk[:, :, None] * pf[None, :, :]  # K x F x Q
            zk = a_pat[s0 : s0 + chunk] * tp[None, :]  # K x Q
            lhs = (bk * zk[:, None, :]).transpose(1, 0, 2).reshape(nf, -1)
            rhs = bk.transpose(1, 0, 2).reshape(nf, -1)
            term4 += lhs @ rhs.T
        t_mats.append(s_half + s_half.T + term4)
    t0, t1, t2 = t_mats
    e2[:nf, :nf] = t2
    e2[:nf, nf : 2 * nf] = t1
    e2[nf : 2 * nf, :nf] = t1.T
    e2[nf : 2 * nf, nf : 2 * nf] = t0
    if est_pop:
        f_mu = dev / sd**2
        f_sd = -1.0 / sd + dev**2 / sd**3
        resid = (es.r - p * es.nn)[idx]  # F x Q: sum_i w_iq m_ij (x_ij - P_jq)
        for col, f in ((2 * nf, f_mu), (2 * nf + 1, f_sd)):
            e2[:nf, col] = e2[col, :nf] = resid @ (theta * f)
            e2[nf : 2 * nf, col] = e2[col, nf : 2 * nf] = resid @ f
        e2[2 * nf, 2 * nf] = es.nq @ (f_mu * f_mu)
        e2[2 * nf, 2 * nf + 1] = e2[2 * nf + 1, 2 * nf] = es.nq @ (f_mu * f_sd)
        e2[2 * nf + 1, 2 * nf + 1] = es.nq @ (f_sd * f_sd)

    # sum_i s_bar s_bar^T with s_bar the posterior mean score.
    s_bar = np.empty((x.shape[0], k))
    e_theta = w @ theta
    if data.complete:
        s_bar[:, :nf] = xf * e_theta[:, None] - ewp[1]
        s_bar[:, nf : 2 * nf] = xf - ewp[0]
    else:
        s_bar[:, :nf] = xf * e_theta[:, None] - mf * ewp[1]
        s_bar[:, nf : 2 * nf] = xf - mf * ewp[0]
    if est_pop:
        s_bar[:, 2 * nf] = w @ (dev / sd**2)
        s_bar[:, 2 * nf + 1] = w @ (-1.0 / sd + dev**2 / sd**3)
    outer = s_bar.T @ s_bar

    observed = info - e2 + outer
    observed = 0.5 * (observed + observed.T)
    try:
        chol = np.linalg.cholesky(observed)
    except np.linalg.LinAlgError:
        return None
    inv_chol = np.linalg.solve(chol, np.eye(k))
    return np.asarray(inv_chol.T @ inv_chol, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# Abilities
# --------------------------------------------------------------------------------------------------


def eap(
    responses: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    *,
    mean: float = 0.0,
    sd: float = 1.0,
    n_nodes: int = EAP_NODES,
) -> tuple[FloatArray, FloatArray]:
    """EAP abilities and posterior SDs for a ``n x J`` 0/1/NaN array under the prior ``N(mean, sd^2)``.

    A respondent who answered nothing gets the prior (``mean``, ``sd``).
    """
    data = _prepare(responses)
    a_ = np.asarray(a, dtype=np.float64).reshape(-1)
    b_ = np.asarray(b, dtype=np.float64).reshape(-1)
    if a_.size != data.x.shape[1] or b_.size != data.x.shape[1]:
        raise ValueError("a and b must have one value per item (column of responses)")
    if not sd > 0:
        raise ValueError("sd must be positive")
    if n_nodes < 3:
        raise ValueError("n_nodes must be at least 3")
    z = np.linspace(-6.0, 6.0, n_nodes)
    log_v = -0.5 * z * z
    theta = mean + sd * z
    logit = a_[:, None] * (theta[None, :] - b_[:, None])
    n = data.x.shape[0]
    out_mean = np.empty(n)
    out_sd = np.empty(n)
    for s0 in range(0, n, _ROWS_PER_CHUNK):
        sl = slice(s0, s0 + _ROWS_PER_CHUNK)
        ll = _log_likelihood_nodes(data, data.x[sl], data.m[sl], logit)
        ll += log_v[None, :]
        ll -= ll.max(axis=1, keepdims=True)
        np.exp(ll, out=ll)
        ll /= ll.sum(axis=1, keepdims=True)
        mu_i = ll @ z
        var_i = ll @ (z * z) - mu_i * mu_i
        out_mean[sl] = mean + sd * mu_i
        out_sd[sl] = sd * np.sqrt(np.maximum(var_i, 0.0))
    none = ~data.m.any(axis=1)
    out_mean[none] = mean  # exactly the prior
    out_sd[none] = sd
    return out_mean, out_sd


# --------------------------------------------------------------------------------------------------
# Linking
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """The linear transformation ``theta_ref = A * theta_new + B`` between two calibrations."""

    A: float
    B: float

    def theta(self, theta: ArrayLike) -> FloatArray:
        """Abilities of the new calibration on the reference scale."""
        return np.asarray(self.A * np.asarray(theta, dtype=np.float64) + self.B, dtype=np.float64)

    def items(self, a: ArrayLike, b: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Item parameters of the new calibration on the reference scale."""
        a_ = np.asarray(a, dtype=np.float64)
        b_ = np.asarray(b, dtype=np.float64)
        return np.asarray(a_ / self.A, dtype=np.float64), np.asarray(self.A * b_ + self.B, dtype=np.float64)


def _anchor_arrays(*arrays: ArrayLike) -> list[FloatArray]:
    out = [np.asarray(x, dtype=np.float64).reshape(-1) for x in arrays]
    if len({x.size for x in out}) != 1 or out[0].size < 2:
        raise ValueError("anchor parameter arrays must have the same length, at least 2")
    return out


def mean_sigma(a_new: ArrayLike, b_new: ArrayLike, a_ref: ArrayLike, b_ref: ArrayLike) -> Link:
    """Mean-sigma linking of the anchors' difficulties (``a`` only checked for shape)."""
    _, bn, _, br = _anchor_arrays(a_new, b_new, a_ref, b_ref)
    sd_new = float(np.std(bn))
    if sd_new == 0:
        raise ValueError("the anchors' difficulties must not all be equal")
    big_a = float(np.std(br)) / sd_new
    return Link(A=big_a, B=float(np.mean(br) - big_a * np.mean(bn)))


def stocking_lord(
    a_new: ArrayLike, b_new: ArrayLike, a_ref: ArrayLike, b_ref: ArrayLike, *, n_nodes: int = N_NODES
) -> Link:
    """Stocking-Lord linking: match the anchors' test characteristic curves on the reference scale."""
    an, bn, ar, br = _anchor_arrays(a_new, b_new, a_ref, b_ref)
    z, v = gauss_hermite_normal(n_nodes)
    tcc_ref = probability(z, ar, br).sum(axis=1)
    start = mean_sigma(an, bn, ar, br)

    def loss(par: FloatArray) -> float:
        big_a = float(np.exp(par[0]))
        tcc = probability(z, an / big_a, big_a * bn + par[1]).sum(axis=1)
        return float(v @ (tcc_ref - tcc) ** 2)

    res = optimize.minimize(
        loss, np.array([np.log(start.A), start.B]), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14}
    )
    return Link(A=float(np.exp(res.x[0])), B=float(res.x[1]))


# --------------------------------------------------------------------------------------------------
# Reporting scale
# --------------------------------------------------------------------------------------------------


def scale_scores(theta: ArrayLike, *, mean: float = SCALE_MEAN, sd: float = SCALE_SD) -> FloatArray:
    """Reporting scores ``mean + sd * theta`` clipped to ``[0, 100]`` (``theta`` on the reference scale).

    NaN abilities stay NaN.
    """
    if not sd > 0:
        raise ValueError("sd must be positive (the scale must increase with ability)")
    t = np.asarray(theta, dtype=np.float64)
    return np.asarray(np.clip(mean + sd * t, 0.0, 100.0), dtype=np.float64)


def scale_from_points(point1: tuple[float, float], point2: tuple[float, float]) -> tuple[float, float]:
    """``(mean, sd)`` of the linear scale through two ``(theta, score)`` points (increasing)."""
    (t1, s1), (t2, s2) = point1, point2
    if t1 == t2:
        raise ValueError("the two points need different abilities")
    sd = (s2 - s1) / (t2 - t1)
    if not sd > 0:
        raise ValueError("the score must increase with ability")
    return float(s1 - sd * t1), float(sd)


def anchor_theta(a_ref: ArrayLike, b_ref: ArrayLike, share_correct: float) -> float:
    """The ability at which the expected share correct on the anchor items equals ``share_correct``."""
    a_ = np.asarray(a_ref, dtype=np.float64).reshape(-1)
    b_ = np.asarray(b_ref, dtype=np.float64).reshape(-1)
    if a_.size == 0 or a_.size != b_.size or np.any(a_ <= 0):
        raise ValueError("anchors need matching a and b with positive discriminations")
    if not 0.0 < share_correct < 1.0:
        raise ValueError("share_correct must be strictly between 0 and 1")

    def gap(t: float) -> float:
        return float(probability(t, a_, b_).mean() - share_correct)

    lo, hi = -1.0, 1.0
    while gap(lo) > 0:
        lo *= 2.0
        if lo < -1e6:
            raise ValueError("share_correct is not reached")
    while gap(hi) < 0:
        hi *= 2.0
        if hi > 1e6:
            raise ValueError("share_correct is not reached")
    return float(optimize.brentq(gap, lo, hi, xtol=1e-12))


# --------------------------------------------------------------------------------------------------
# Simulation (tests, demo data)
# --------------------------------------------------------------------------------------------------


def simulate_2pl(theta: ArrayLike, a: ArrayLike, b: ArrayLike, rng: np.random.Generator) -> FloatArray:
    """Simulated 0/1 responses (float array) of abilities ``theta`` to items ``(a, b)``."""
    p = probability(theta, a, b)
    return (rng.random(p.shape) < p).astype(np.float64)
