"""Forecasts and status assessments for action-plan targets.

This module is pure numpy/scipy (no Django) and is the single place where Kepu decides whether a
target is *met*, *on track*, *at risk* or *off track*. The methods below are what the platform shows
to users, so they are described here in plain terms.

Kinds of target
---------------
``rate`` and ``coverage`` (a level, e.g. "share of trips by bike >= 30 % in 2030")
    A straight line ``value = a + b * year`` is fitted to the observations by (weighted) least
    squares. A baseline ``(year, value)`` is added as an extra point when it is earlier than the first
    observation. The line is evaluated at the deadline year.

    * Without standard errors the fit is ordinary least squares. With at least three points the
      residual variance ``s^2 = RSS / (n - 2)`` is estimated and the predictive interval for the value
      at the deadline is the classical one, ``yhat +- t(n-2) * s * sqrt(1 + 1/n + d^2 / Sxx)`` with
      ``d`` the distance of the deadline from the mean year; it describes the value that will be
      reported for the deadline year.
    * With standard errors (survey estimates) each point is weighted by ``1 / se^2``. The spread of
      the points around the line that is *not* explained by their sampling error (the between-year
      variance ``tau^2``) is estimated by the method of moments (DerSimonian-Laird for a regression,
      truncated at 0; it needs at least three points). The variance of the projected value is the
      exact variance of the weighted fit when each point has variance ``se_i^2 + tau^2``, plus
      ``tau^2`` for the deadline year itself. The interval therefore describes the true level in the
      deadline year; the sampling error of a future survey is not added. Points whose standard error
      is missing (``None``, not finite or <= 0), and the baseline, get the largest supplied standard
      error (a conservative choice).
    * With three or more points, intervals and probabilities use Student's t with ``n - 2`` degrees of
      freedom; with two points (two observations, or a baseline and one observation) the line goes
      through both points and a normal distribution is used: with standard errors its variance is
      the propagated sampling variance, without them the central ``band`` interval is set to
      ``projection +- 0.5 * |slope| * horizon`` (horizon = years from the latest observation to the
      deadline), i.e. "the pace could be half as fast or half again as fast".
    * A single observation without a baseline gives no trend: the projection is the observed value
      and no probability is given (status ``no_data``, rule ``insufficient_data``).
    * Met when the latest observed value is >= the target.

``stock`` (a cumulative total, e.g. "1 000 new homes 2021-2030")
    ``values`` are the new units of each year, counted from ``period_start``. Observations before
    ``period_start`` are ignored. The current total is the sum of the increments. Years without a
    report between the first and the latest report count as 0; years before the first report are left
    out (unknown). The pace is the mean increment ``m`` over that span of ``k`` years, and the
    projection is ``total + m * R`` with ``R`` = deadline year - latest reported year. The predictive
    standard deviation of the ``R`` future increments is ``s * sqrt(R + R^2 / k)``: ``R`` years of
    year-to-year variation plus the uncertainty of the estimated pace itself; ``s`` is the sample
    standard deviation of the increments (Student t with ``k - 1`` degrees of freedom) when ``k >= 3``,
    otherwise Poisson variation ``s^2 = m`` (normal distribution), which suits counts. If no increment
    is negative, the lower bound is not allowed below the current total. Met when the total is >= the
    target.

``flow`` (a yearly amount, e.g. "at least 500 trees planted every year")
    Judged on the ``evaluation_year``. If that year is observed the target is met when its value is
    >= the target and otherwise missed (probability 0, rule ``deadline_passed``). Otherwise the value
    of the evaluation year is projected: with three or more years by the OLS trend and its t(n-2)
    predictive interval, with two years by their mean (``sd = s * sqrt(1 + 1/2)``, t with 1 degree of
    freedom); one year gives no probability. ``deadline_year`` is not used for flows.

Status
------
Met targets are ``met`` (rule ``met_already``, probability 1). For rate, coverage and stock targets
the deadline has passed when the evaluation year is after the deadline year or the data already
reach the deadline year; the projection is then the value observed for the deadline year (else the
latest one; for stocks the total up to the deadline year). A level target is met when either its
latest value or its deadline-year value reaches the target (reached late still counts, and a dip
after reaching it on time does not undo it); an unmet target is ``off_track`` with probability 0
(rule ``deadline_passed``), unless the value it is judged on is a survey estimate whose 95 % confidence
interval (``cis``, else ``value +- 1.96 * se``) contains the target: the shortfall is then within
sampling error and the status is ``not_distinguishable`` (rule ``ci_contains_target``, no probability;
the interval is returned as ``ci_low``/``ci_high``). The value judged is ``projected``: the
deadline-year value, else the latest. Before the deadline ``probability`` = P(value at deadline >= target)
under the predictive distribution (whose variance includes the standard errors, see above) and the
status is ``on_track`` if it is >= ``on_track_p`` (0.6), ``at_risk`` if it is >= ``at_risk_p`` (0.2)
and ``off_track`` below. No observations at all give ``no_data``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from kepu.stats.arrays import FloatArray

__all__ = [
    "RULES",
    "Assessment",
    "Kind",
    "LinearFit",
    "Predictive",
    "Status",
    "assess",
    "classify",
    "fit_line",
    "interpolate_milestones",
    "judge_final",
    "population_weighted_mean",
    "split_by_share",
    "stock_milestones",
    "survey_ci",
]

IntArray = NDArray[np.int64]

Kind = Literal["rate", "stock", "flow", "coverage"]
Status = Literal["met", "not_distinguishable", "on_track", "at_risk", "off_track", "no_data"]

KINDS: Final[tuple[str, ...]] = ("rate", "stock", "flow", "coverage")

#: Machine ids of the rules that decide a status, with a user-facing explanation.
RULES: Final[Mapping[str, str]] = {
    "met_already": "The latest observed value already meets the target.",
    "prob_ge_on": "The probability of reaching the target is at least the on-track threshold.",
    "prob_between": "The probability of reaching the target is between the at-risk and on-track thresholds.",
    "prob_lt_risk": "The probability of reaching the target is below the at-risk threshold.",
    "deadline_passed": "The deadline (or evaluation year) has passed and the target was not met.",
    "ci_contains_target": (
        "The deadline has passed; the survey estimate is below the target but its 95% confidence interval "
        "contains it, so the two are not significantly different."
    ),
    "insufficient_data": "A single observation does not show a trend, so no forecast is made.",
    "no_data": "There are no observations.",
}

# Standard deviations this small relative to the projected value are treated as exactly zero, so that
# an exact series that lands on the target counts as reaching it despite rounding noise.
_REL_TOL: Final = 1e-9


# --------------------------------------------------------------------------------------------------
# Predictive distributions and the status rule
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictive:
    """A predictive distribution ``mean + sd * T``: ``T`` is Student t with ``df`` degrees of freedom,
    or standard normal when ``df`` is None. ``sd == 0`` is a point mass."""

    mean: float
    sd: float
    df: float | None = None

    def _scale(self) -> float:
        tol = _REL_TOL * max(1.0, abs(self.mean))
        return 0.0 if self.sd <= tol else self.sd

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0 < q < 1)."""
        sd = self._scale()
        if sd == 0.0:
            return self.mean
        z = float(sps.norm.ppf(q)) if self.df is None else float(sps.t.ppf(q, self.df))
        return self.mean + z * sd

    def interval(self, band: float) -> tuple[float, float]:
        """The central interval holding probability ``band``."""
        return self.quantile((1.0 - band) / 2.0), self.quantile((1.0 + band) / 2.0)

    def prob_at_least(self, x: float) -> float:
        """P(value >= x)."""
        sd = self._scale()
        if sd == 0.0:
            return 1.0 if self.mean >= x - _REL_TOL * max(1.0, abs(x)) else 0.0
        z = (x - self.mean) / sd
        p = float(sps.norm.sf(z)) if self.df is None else float(sps.t.sf(z, self.df))
        return min(1.0, max(0.0, p))


def classify(probability: float, on_track_p: float = 0.6, at_risk_p: float = 0.2) -> tuple[Status, str]:
    """Map a probability of reaching the target to ``(status, rule)``.

    ``p >= on_track_p`` -> on_track; ``at_risk_p <= p < on_track_p`` -> at_risk; else off_track.
    """
    if probability >= on_track_p:
        return "on_track", "prob_ge_on"
    if probability >= at_risk_p:
        return "at_risk", "prob_between"
    return "off_track", "prob_lt_risk"


def judge_final(value: float, target: float, ci: tuple[float, float] | None) -> tuple[Status, str]:
    """The status of a value that is final (the deadline has passed): ``met`` when it reaches the
    target; ``not_distinguishable`` when it is a survey estimate whose confidence interval ``ci``
    contains the target; otherwise ``off_track``."""
    if value >= target:
        return "met", "met_already"
    if ci is not None and ci[0] <= target <= ci[1]:
        return "not_distinguishable", "ci_contains_target"
    return "off_track", "deadline_passed"


# --------------------------------------------------------------------------------------------------
# Weighted straight-line fit
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearFit:
    """A fitted line ``value = level + slope * (year - center)``.

    ``weights`` are 1 (ordinary least squares) or ``1 / se^2``. ``point_var`` is the variance assumed
    for each observation when propagating uncertainty (``s^2`` for OLS, ``se_i^2 + tau^2`` with
    standard errors) and ``future_var`` the variance of the predicted quantity around the line
    (``s^2`` resp. ``tau^2``); both are None when they cannot be estimated (OLS through two points).
    ``df`` is the t degrees of freedom (None: normal).
    """

    years: FloatArray
    values: FloatArray
    weights: FloatArray
    center: float
    level: float
    slope: float
    sxx: float
    point_var: FloatArray | None
    future_var: float | None
    tau2: float | None
    df: int | None

    @property
    def n(self) -> int:
        return int(self.years.size)

    def value(self, year: float) -> float:
        """The fitted line at ``year``."""
        return self.level + self.slope * (year - self.center)

    def coefficients(self, year: float) -> FloatArray:
        """Weights ``c`` with ``value(year) == c @ values`` (the fit is linear in the data)."""
        d = self.years - self.center
        sum_w = float(self.weights.sum())
        return self.weights * (1.0 / sum_w + d * (year - self.center) / self.sxx)

    def predict(self, year: float) -> Predictive | None:
        """Predictive distribution at ``year`` (None when the variance is not estimable)."""
        if self.point_var is None or self.future_var is None:
            return None
        c = self.coefficients(year)
        var = float(np.sum(c * c * self.point_var)) + self.future_var
        df = None if self.df is None else float(self.df)
        return Predictive(self.value(year), math.sqrt(max(var, 0.0)), df)


def fit_line(years: ArrayLike, values: ArrayLike, ses: ArrayLike | None = None) -> LinearFit:
    """Fit ``value = a + b * year`` by least squares; weighted by ``1 / se^2`` when ``ses`` is given.

    Needs at least two distinct years. See the module docstring for the variance model.
    """
    x = np.asarray(years, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError("years and values must be 1-d and of equal length")
    if n < 2:
        raise ValueError("a line needs at least two points")
    if np.unique(x).size != n:
        raise ValueError("years must be distinct")
    if ses is None:
        w = np.ones(n)
        se2 = None
    else:
        se = np.asarray(ses, dtype=np.float64)
        if se.shape != x.shape or not np.all(np.isfinite(se)) or np.any(se <= 0):
            raise ValueError("ses must be positive, finite and match values")
        se2 = se * se
        w = 1.0 / se2
    sum_w = float(w.sum())
    center = float(np.dot(w, x) / sum_w)
    d = x - center
    sxx = float(np.dot(w, d * d))
    level = float(np.dot(w, y) / sum_w)
    slope = float(np.dot(w, d * y) / sxx)
    resid = y - (level + slope * d)
    df = n - 2 if n >= 3 else None

    point_var: FloatArray | None
    future_var: float | None
    tau2: float | None = None
    if se2 is None:
        if n >= 3:
            s2 = float(np.dot(resid, resid)) / (n - 2)
            point_var = np.full(n, s2)
            future_var = s2
        else:
            point_var = None
            future_var = None
    else:
        tau2 = 0.0
        if n >= 3:
            q = float(np.dot(w, resid * resid))
            w2 = w * w
            denom = sum_w - (float(w2.sum()) / sum_w + float(np.dot(w2, d * d)) / sxx)
            if denom > 0:
                tau2 = max(0.0, (q - (n - 2)) / denom)
        point_var = se2 + tau2
        future_var = tau2
    return LinearFit(x, y, w, center, level, slope, sxx, point_var, future_var, tau2, df)


# --------------------------------------------------------------------------------------------------
# Assessment
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """The outcome of :func:`assess`; see the module docstring for the method.

    ``current``: latest level (rate/coverage), cumulative total so far (stock), latest year's value
    (flow). ``achieved_pct`` = current / target * 100. ``required_pace``: per year still needed from
    ``current_year`` to the deadline (flow: the target per year); None when met or final.
    ``actual_pace``: fitted slope per year (rate/coverage/flow) or mean annual increment (stock).
    ``projected``/``low``/``high``: projection at the deadline (flow: evaluation year) and the central
    ``band`` predictive interval. ``probability``: P(value >= target). ``n_points``: number of
    observations used (the baseline is not counted). ``ci_low``/``ci_high``: past the deadline, the 95 %
    confidence interval of the survey estimate the status was judged on (None otherwise).
    """

    kind: str
    target: float
    current: float | None
    current_year: int | None
    achieved_pct: float | None
    required_pace: float | None
    actual_pace: float | None
    projected: float | None
    low: float | None
    high: float | None
    probability: float | None
    status: Status
    rule: str
    n_points: int
    ci_low: float | None = None
    ci_high: float | None = None


# z for the two-sided 95 % interval a survey estimate is judged with (when only its SE is known).
_Z95: Final = float(sps.norm.ppf(0.975))


def survey_ci(
    value: float, se: float | None, ci_low: float | None = None, ci_high: float | None = None
) -> tuple[float, float] | None:
    """The 95 % confidence interval a survey value is judged with: its published one when both bounds
    are finite and ordered (e.g. an asymmetric logit interval), else ``value +- 1.96 se`` when the
    standard error is finite and positive, else None (the value is not a survey estimate)."""
    if ci_low is not None and ci_high is not None and math.isfinite(ci_low) and math.isfinite(ci_high) \
            and ci_low <= ci_high:
        return float(ci_low), float(ci_high)
    if se is not None and math.isfinite(se) and se > 0:
        return value - _Z95 * se, value + _Z95 * se
    return None


@dataclass(frozen=True)
class _Series:
    years: IntArray
    values: FloatArray
    ses: FloatArray | None  # NaN where missing; None when no standard error was supplied
    # 95 % CI bounds (n x 2), NaN where unknown; None when no point has a CI or an SE.
    cis: FloatArray | None = None

    def ci(self, i: int) -> tuple[float, float] | None:
        """The 95 % CI of point ``i`` (see :func:`survey_ci`)."""
        low, high = (None, None) if self.cis is None else (float(self.cis[i, 0]), float(self.cis[i, 1]))
        se = None if self.ses is None else float(self.ses[i])
        return survey_ci(float(self.values[i]), se, low, high)



def _clean(
    years: Sequence[int],
    values: Sequence[float],
    ses: Sequence[float | None] | None,
    cis: Sequence[tuple[float | None, float | None] | None] | None = None,
) -> _Series:
    """Validate, drop points with a missing (non-finite) value and sort by year."""
    if len(years) != len(values):
        raise ValueError("years and values must have equal length")
    if ses is not None and len(ses) != len(values):
        raise ValueError("ses must have the same length as values")
    if cis is not None and len(cis) != len(values):
        raise ValueError("cis must have the same length as values")
    yr_f = np.asarray(years, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(yr_f)) or np.any(yr_f != np.round(yr_f)):
        raise ValueError("years must be whole numbers")
    yr = yr_f.astype(np.int64)
    val = np.asarray(values, dtype=np.float64).reshape(-1)
    se: FloatArray | None = None
    if ses is not None:
        se = np.array([np.nan if s is None else float(s) for s in ses], dtype=np.float64)
        se[~np.isfinite(se) | (se <= 0)] = np.nan
    ci: FloatArray | None = None
    if cis is not None:
        ci = np.array([[np.nan, np.nan] if c is None else [np.nan if b is None else float(b) for b in c]
                       for c in cis], dtype=np.float64).reshape(-1, 2)
        ci[~np.all(np.isfinite(ci), axis=1) | (ci[:, 0] > ci[:, 1])] = np.nan
    keep = np.isfinite(val)
    yr, val = yr[keep], val[keep]
    if se is not None:
        se = se[keep]
    if ci is not None:
        ci = ci[keep]
    order = np.argsort(yr, kind="stable")
    yr, val = yr[order], val[order]
    if se is not None:
        se = se[order]
        if np.all(np.isnan(se)):
            se = None
    if ci is not None:
        ci = ci[order]
        if np.all(np.isnan(ci)):
            ci = None
    if yr.size != np.unique(yr).size:
        raise ValueError("duplicate years in observations")
    return _Series(yr, val, se, ci)


def _pct(current: float, target: float) -> float | None:
    return None if target == 0 else current / target * 100.0


def _empty(kind: str, target: float) -> Assessment:
    return Assessment(
        kind=kind,
        target=target,
        current=None,
        current_year=None,
        achieved_pct=None,
        required_pace=None,
        actual_pace=None,
        projected=None,
        low=None,
        high=None,
        probability=None,
        status="no_data",
        rule="no_data",
        n_points=0,
    )


def _finish(
    kind: str,
    target: float,
    *,
    current: float,
    current_year: int,
    required_pace: float | None,
    actual_pace: float | None,
    projected: float,
    pred: Predictive | None,
    met: bool,
    final: bool,
    band: float,
    on_track_p: float,
    at_risk_p: float,
    n_points: int,
    low_floor: float | None = None,
    final_ci: tuple[float, float] | None = None,
) -> Assessment:
    low: float | None = None
    high: float | None = None
    if pred is not None:
        low, high = pred.interval(band)
        if low_floor is not None:
            low = max(low, low_floor)
            high = max(high, low_floor)
    status: Status
    probability: float | None
    if met:
        status, rule, probability = "met", "met_already", 1.0
    elif final:
        status, rule = judge_final(projected, target, final_ci)
        probability = 0.0 if status == "off_track" else None
    elif pred is None:
        status, rule, probability = "no_data", "insufficient_data", None
    else:
        probability = pred.prob_at_least(target)
        status, rule = classify(probability, on_track_p, at_risk_p)
    return Assessment(
        kind=kind,
        target=target,
        current=current,
        current_year=current_year,
        achieved_pct=_pct(current, target),
        required_pace=None if (met or final) else required_pace,
        actual_pace=actual_pace,
        projected=projected,
        low=low,
        high=high,
        probability=probability,
        status=status,
        rule=rule,
        n_points=n_points,
        ci_low=None if final_ci is None else final_ci[0],
        ci_high=None if final_ci is None else final_ci[1],
    )


def _assess_level(
    kind: str,
    target: float,
    deadline: int,
    evaluation_year: int,
    s: _Series,
    baseline: tuple[int, float] | None,
    band: float,
    on_track_p: float,
    at_risk_p: float,
) -> Assessment:
    n = int(s.years.size)
    current = float(s.values[-1])
    current_year = int(s.years[-1])
    met = current >= target
    final = evaluation_year > deadline or current_year >= deadline

    fx = s.years.astype(np.float64)
    fy = s.values
    fse = s.ses
    if baseline is not None and math.isfinite(baseline[1]) and int(baseline[0]) < int(s.years[0]):
        fx = np.concatenate(([float(baseline[0])], fx))
        fy = np.concatenate(([float(baseline[1])], fy))
        if fse is not None:
            fse = np.concatenate(([np.nan], fse))
    if fse is not None:
        fse = np.where(np.isnan(fse), np.nanmax(fse), fse)
    fit = fit_line(fx, fy, fse) if fx.size >= 2 else None
    actual_pace = None if fit is None else fit.slope

    pred: Predictive | None = None
    final_ci: tuple[float, float] | None = None
    if final:
        at_deadline = np.flatnonzero(s.years == deadline)
        projected = float(s.values[at_deadline[0]]) if at_deadline.size else current
        # Reached in the deadline year counts even if a later value dipped (reached late counts too).
        met = met or projected >= target
        if not met:
            final_ci = s.ci(int(at_deadline[0]) if at_deadline.size else n - 1)
    elif fit is None:
        projected = current
    else:
        projected = fit.value(deadline)
        pred = fit.predict(deadline)
        if pred is None:  # two points, no standard errors: documented default band
            half = 0.5 * abs(fit.slope) * (deadline - current_year)
            z = float(sps.norm.ppf((1.0 + band) / 2.0))
            pred = Predictive(projected, half / z)
    required = (target - current) / (deadline - current_year) if deadline > current_year else None
    return _finish(
        kind,
        target,
        current=current,
        current_year=current_year,
        required_pace=required,
        actual_pace=actual_pace,
        projected=projected,
        pred=pred,
        met=met,
        final=final,
        band=band,
        on_track_p=on_track_p,
        at_risk_p=at_risk_p,
        n_points=n,
        final_ci=final_ci,
    )


def _assess_stock(
    target: float,
    deadline: int,
    evaluation_year: int,
    s: _Series,
    period_start: int | None,
    band: float,
    on_track_p: float,
    at_risk_p: float,
) -> Assessment:
    start = int(s.years[0]) if period_start is None else int(period_start)
    keep = s.years >= start
    yrs, inc_obs = s.years[keep], s.values[keep]
    if yrs.size == 0:
        return _empty("stock", target)
    current = float(inc_obs.sum())
    current_year = int(yrs[-1])
    first = int(yrs[0])
    increments = np.zeros(current_year - first + 1)
    increments[yrs - first] = inc_obs  # unreported years inside the observed span count as 0
    k = int(increments.size)
    mean = float(increments.mean())
    met = current >= target
    final = evaluation_year > deadline or current_year >= deadline

    pred: Predictive | None = None
    if final:
        projected = float(inc_obs[yrs <= deadline].sum())
    else:
        r = float(deadline - current_year)
        projected = current + mean * r
        factor = r + r * r / k
        if k >= 3:
            pred = Predictive(projected, float(increments.std(ddof=1)) * math.sqrt(factor), float(k - 1))
        else:
            pred = Predictive(projected, math.sqrt(max(mean, 0.0) * factor))
    floor = current if bool(np.all(increments >= 0)) else None
    required = (target - current) / (deadline - current_year) if deadline > current_year else None
    return _finish(
        "stock",
        target,
        current=current,
        current_year=current_year,
        required_pace=required,
        actual_pace=mean,
        projected=projected,
        pred=pred,
        met=met,
        final=final,
        band=band,
        on_track_p=on_track_p,
        at_risk_p=at_risk_p,
        n_points=int(yrs.size),
        low_floor=floor,
    )


def _assess_flow(
    target: float,
    evaluation_year: int,
    s: _Series,
    band: float,
    on_track_p: float,
    at_risk_p: float,
) -> Assessment:
    n = int(s.years.size)
    current = float(s.values[-1])
    current_year = int(s.years[-1])
    fit = fit_line(s.years, s.values) if n >= 2 else None
    actual_pace = None if fit is None else fit.slope
    observed = np.flatnonzero(s.years == evaluation_year)
    pred: Predictive | None = None
    final_ci: tuple[float, float] | None = None
    if observed.size:
        projected = float(s.values[observed[0]])
        met, final = projected >= target, True
        if not met:
            final_ci = s.ci(int(observed[0]))
    else:
        met, final = False, False
        if fit is not None and n >= 3:
            projected = fit.value(evaluation_year)
            pred = fit.predict(evaluation_year)
        elif n == 2:
            projected = float(s.values.mean())
            pred = Predictive(projected, float(s.values.std(ddof=1)) * math.sqrt(1.5), 1.0)
        else:
            projected = current
    return _finish(
        "flow",
        target,
        current=current,
        current_year=current_year,
        required_pace=target,
        actual_pace=actual_pace,
        projected=projected,
        pred=pred,
        met=met,
        final=final,
        band=band,
        on_track_p=on_track_p,
        at_risk_p=at_risk_p,
        n_points=n,
        final_ci=final_ci,
    )


def assess(
    kind: Kind,
    *,
    target: float,
    deadline_year: int | None,
    evaluation_year: int,
    years: Sequence[int],
    values: Sequence[float],
    ses: Sequence[float | None] | None = None,
    cis: Sequence[tuple[float | None, float | None] | None] | None = None,
    baseline: tuple[int, float] | None = None,
    period_start: int | None = None,
    band: float = 0.8,
    on_track_p: float = 0.6,
    at_risk_p: float = 0.2,
) -> Assessment:
    """Assess progress towards a target and forecast it (method in the module docstring).

    ``values`` are levels (rate, coverage), annual increments from ``period_start`` (stock) or yearly
    amounts (flow). Points with a non-finite value are dropped. ``ses`` (standard errors, optional per
    point) are used for rate and coverage only (trend weights), and with ``cis`` (95 % confidence
    intervals ``(low, high)`` per point, e.g. asymmetric logit intervals of a survey proportion) to judge
    a survey value past the deadline (rate, coverage, flow); ``baseline`` only for rate and coverage;
    ``period_start`` only for stock (default: the first observed year). ``deadline_year`` is required
    except for flow, which is judged on ``evaluation_year``.

    Raises ValueError on inconsistent input (unknown kind, lengths differ, duplicate years, missing
    deadline, non-finite target, ``band`` outside (0, 1), thresholds not ``0 <= at_risk_p <=
    on_track_p <= 1``).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    target = float(target)
    if not math.isfinite(target):
        raise ValueError("target must be finite")
    if not 0.0 < band < 1.0:
        raise ValueError("band must be in (0, 1)")
    if not 0.0 <= at_risk_p <= on_track_p <= 1.0:
        raise ValueError("need 0 <= at_risk_p <= on_track_p <= 1")
    if kind != "flow" and deadline_year is None:
        raise ValueError(f"a {kind} target needs a deadline_year")
    series = _clean(years, values, ses, cis)
    if series.years.size == 0:
        return _empty(kind, target)
    if kind == "flow":
        return _assess_flow(target, int(evaluation_year), series, band, on_track_p, at_risk_p)
    assert deadline_year is not None
    if kind == "stock":
        return _assess_stock(
            target,
            int(deadline_year),
            int(evaluation_year),
            series,
            period_start,
            band,
            on_track_p,
            at_risk_p,
        )
    return _assess_level(
        kind, target, int(deadline_year), int(evaluation_year), series, baseline, band, on_track_p, at_risk_p
    )


# --------------------------------------------------------------------------------------------------
# Milestones, aggregation, apportionment
# --------------------------------------------------------------------------------------------------


def interpolate_milestones(
    baseline_year: int, baseline_value: float, deadline_year: int, target: float, years: Iterable[int]
) -> dict[int, float]:
    """Milestones on the straight path from ``(baseline_year, baseline_value)`` to
    ``(deadline_year, target)``. Years before the baseline get the baseline value, years after the
    deadline the target. For stocks use :func:`stock_milestones` (0 at ``period_start - 1``)."""
    if deadline_year <= baseline_year:
        raise ValueError("deadline_year must be after baseline_year")
    ys = [int(y) for y in years]
    if not ys:
        return {}
    vals = np.interp(
        np.asarray(ys, dtype=np.float64),
        [float(baseline_year), float(deadline_year)],
        [float(baseline_value), float(target)],
    )
    return {y: float(v) for y, v in zip(ys, vals, strict=True)}


def stock_milestones(
    period_start: int, deadline_year: int, target: float, years: Iterable[int]
) -> dict[int, float]:
    """Cumulative milestones for a stock target: linear from 0 at ``period_start - 1`` to ``target``."""
    return interpolate_milestones(period_start - 1, 0.0, deadline_year, target, years)


def population_weighted_mean(values: ArrayLike, weights: ArrayLike) -> float:
    """``sum(w * v) / sum(w)``. Raises ValueError when empty, lengths differ, anything is not finite,
    a weight is negative or the weights sum to zero."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if v.ndim != 1 or v.shape != w.shape:
        raise ValueError("values and weights must be 1-d and of equal length")
    if v.size == 0:
        raise ValueError("no values")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(w))):
        raise ValueError("values and weights must be finite")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    total = float(w.sum())
    if total <= 0:
        raise ValueError("weights sum to zero")
    return float(np.dot(w, v) / total)


def split_by_share(total: float, shares: Mapping[str, float], integer: bool) -> dict[str, float]:
    """Split ``total`` in proportion to ``shares`` (normalised; they need not sum to 1).

    With ``integer`` the parts are whole numbers summing exactly to ``round(total)`` (Python's round,
    half to even), apportioned by the largest-remainder (Hamilton) method: each part gets the floor of
    its exact quota and the leftover units go to the largest remainders (ties: larger share, then
    mapping order). Negative totals are split as ``-split(-total)``. Raises ValueError for empty,
    negative, non-finite or all-zero shares or a non-finite total.
    """
    if not shares:
        raise ValueError("no shares")
    if not math.isfinite(total):
        raise ValueError("total must be finite")
    keys = list(shares)
    raw = [float(shares[k]) for k in keys]
    if any(not math.isfinite(x) or x < 0 for x in raw):
        raise ValueError("shares must be finite and non-negative")
    if sum(raw) <= 0:
        raise ValueError("shares sum to zero")
    if not integer:
        arr = np.asarray(raw)
        arr = arr / arr.max()  # rescale first so tiny (subnormal) shares normalise exactly
        parts = total * (arr / arr.sum())
        return {k: float(p) for k, p in zip(keys, parts, strict=True)}
    units = round(total)
    sign = -1 if units < 0 else 1
    units = abs(units)
    fr = [Fraction(x) for x in raw]
    fsum = sum(fr, Fraction(0))
    quotas = [units * x / fsum for x in fr]
    floors = [math.floor(q) for q in quotas]
    left = units - sum(floors)
    order = sorted(range(len(keys)), key=lambda i: (-(quotas[i] - floors[i]), -fr[i], i))
    for i in order[:left]:
        floors[i] += 1
    return {k: float(sign * f) for k, f in zip(keys, floors, strict=True)}
