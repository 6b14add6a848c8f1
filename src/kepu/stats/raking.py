"""Raking (iterative proportional fitting) of survey weights to population margins, with optional trimming.

Raking
    Each pass matches the margins in turn: every respondent's weight in category ``k`` of margin ``m`` is
    multiplied by ``T_mk / (sum of the current weights in k)`` (R's ``rake()``: one ``postStratify`` per
    margin). Passes repeat until the largest relative margin error ``|sum_k w - T_mk| / T_mk`` after a pass is
    at most ``tol``. The limit does not depend on the stopping rule, so fully converged weights equal R's.

Trimming (optional, ``trim=(lower, upper)`` as multiples of the mean weight)
    After the margins of a pass are matched, weights outside ``[lower, upper] * mean`` are set to the bound and
    the difference is spread over the other weights in proportion to their size (keeping the total), repeated
    until none is outside. Raking and trimming alternate until the margins are met again within ``tol``.
    ``trimmed`` counts the final weights lying on a bound. Standard errors then treat the weights as raked.

Variance after raking (``variance=``)
    The weights are those of raking either way (IPF converges to the raking-ratio calibration estimator, the
    weights of R's ``calibrate(..., calfun="raking")`` too); the choice is how the standard errors account for
    the calibration. The raked design carries what its variance needs (see :mod:`kepu.stats.survey`).

    ``"calibrate"`` (default)
        As R's ``calibrate(design, ~m1 + m2 + ..., population, calfun="raking")``: the linearised values are
        replaced by the residuals of a weighted least-squares regression on the margin indicators, with the
        weights *before* raking (R's ``greg_calibration``). The design carries
        :class:`kepu.stats.survey.GregCalibration` (margin categories, weights before and after).
    ``"rake"``
        As R's ``rake()``: the linearised values are residualised on one margin after the other
        (unweighted category means of ``z / w_m``), ten cycles. The design carries
        :class:`kepu.stats.survey.CalibrationInfo` (margin categories and the weights after each margin's step
        in the last pass). For a single margin this is the same as ``"calibrate"`` only when the weights before
        raking are constant within the margin's categories (R's ``postStratify`` and ``calibrate`` agree for one
        margin; ``rake`` uses unweighted means).

    Raking a raked design again appends another calibration of the chosen kind, and the variance applies them
    in order, as R does for ``rake``/``calibrate`` on an already calibrated design (the two kinds may be mixed).
    With trimming, ``"calibrate"`` takes the final (trimmed) weights as ``g * ww``, as R's
    ``calibrate(..., trim=)`` does.

Kish design effect of weighting
    ``1 + CV^2 = n * sum(w^2) / (sum w)^2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from kepu.stats.survey import (
    Calibration,
    CalibrationInfo,
    Design,
    FloatArray,
    GregCalibration,
    IntArray,
    SurveyError,
    factorize,
)

VarianceMethod = Literal["calibrate", "rake"]
VARIANCE_METHODS: tuple[VarianceMethod, ...] = ("calibrate", "rake")


class MarginError(SurveyError):
    """Margins that do not fit the data (unknown or missing categories, bad or inconsistent totals)."""


class RakingError(SurveyError):
    """Raking did not converge; ``margin`` is the margin with the largest remaining relative error."""

    def __init__(self, message: str, *, margin: str, error: float, iterations: int) -> None:
        super().__init__(message)
        self.margin = margin
        self.error = error
        self.iterations = iterations


@dataclass(frozen=True, eq=False)
class Margin:
    """Population totals for one variable: ``categories`` holds each respondent's label (or code), ``totals``
    the population count of each label (as ``str(label)``)."""

    column: str
    categories: np.ndarray
    totals: Mapping[str, float]


@dataclass(frozen=True, eq=False)
class RakeResult:
    """The raked design (carrying its calibration), its weights and the convergence report."""

    design: Design
    weights: FloatArray
    converged: bool
    iterations: int
    max_error: float  # largest relative margin error after the last pass
    kish_deff: float
    trimmed: int
    max_change: float = math.nan  # largest relative change of a weight in the last pass
    variance: VarianceMethod = "calibrate"  # how the design's standard errors account for the raking


def kish_deff(weights: ArrayLike) -> float:
    """Kish's design effect of unequal weighting, ``n * sum(w^2) / (sum w)^2`` (= 1 + CV^2)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0:
        return math.nan
    return float(w.size * np.dot(w, w) / w.sum() ** 2)


@dataclass(frozen=True)
class _Prepared:
    name: str
    codes: IntArray
    targets: FloatArray
    labels: list[str]


def _prepare(margin: Margin, n: int) -> _Prepared:
    name = margin.column
    labels_raw, codes = factorize(margin.categories, f"margin {name!r} categories", n)
    labels = [str(v) for v in labels_raw]
    if len(set(labels)) != len(labels):
        raise MarginError(f"margin {name!r}: distinct categories have the same text label")
    totals: dict[str, float] = {}
    for key, value in margin.totals.items():
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise MarginError(
                f"margin {name!r}: the total for {key!r} must be a finite non-negative number, got {value!r}"
            )
        totals[str(key)] = v
    unknown = [lab for lab in labels if lab not in totals]
    if unknown:
        raise MarginError(
            f"margin {name!r}: categories present in the data but missing from the population totals: "
            + ", ".join(repr(u) for u in unknown)
        )
    present = set(labels)
    absent = [k for k, v in totals.items() if k not in present and v > 0]
    if absent:
        raise MarginError(
            f"margin {name!r}: categories in the population totals but absent from the data: "
            + ", ".join(repr(a) for a in absent)
        )
    zero = [lab for lab in labels if totals[lab] == 0]
    if zero:
        raise MarginError(
            f"margin {name!r}: categories with respondents but a population total of zero: "
            + ", ".join(repr(z) for z in zero)
        )
    targets = np.array([totals[lab] for lab in labels], dtype=np.float64)
    return _Prepared(name, codes, targets, labels)


def _trim(w: FloatArray, low: float, high: float, total: float) -> FloatArray:
    """Clip to ``[low, high]`` and rescale the unclipped weights to keep ``total``, until none is outside."""
    w = w.copy()
    for _ in range(1000):
        if not ((w < low) | (w > high)).any():
            break
        np.clip(w, low, high, out=w)
        fixed = (w <= low) | (w >= high)
        free_sum = float(w[~fixed].sum())
        if free_sum <= 0:
            break
        w[~fixed] *= (total - float(w[fixed].sum())) / free_sum
    return w


def _margin_errors(w: FloatArray, margins: list[_Prepared]) -> list[float]:
    return [
        float(np.max(np.abs(np.bincount(m.codes, weights=w, minlength=m.targets.size) - m.targets) / m.targets))
        for m in margins
    ]


def rake(
    design: Design,
    margins: Sequence[Margin],
    *,
    max_iter: int = 50,
    tol: float = 1e-10,
    trim: tuple[float, float] | None = None,
    require_convergence: bool = True,
    variance: VarianceMethod = "calibrate",
) -> RakeResult:
    """Rake ``design``'s weights to ``margins`` (IPF; see the module docstring), optionally trimming.

    ``variance`` chooses how the raked design's standard errors account for the raking: ``"calibrate"``
    (default) as R's ``calibrate(..., calfun="raking")``, ``"rake"`` as R's ``rake()``.

    Raises :class:`MarginError` when a margin does not fit the data and :class:`RakingError` when the
    margins are not met within ``tol`` after ``max_iter`` passes (unless ``require_convergence=False``)."""
    if variance not in VARIANCE_METHODS:
        raise SurveyError(f"variance must be one of {', '.join(map(repr, VARIANCE_METHODS))}; got {variance!r}")
    if not margins:
        raise MarginError("rake() needs at least one margin")
    if max_iter < 1:
        raise SurveyError("max_iter must be at least 1")
    prepared = [_prepare(m, design.n) for m in margins]
    sums = [float(p.targets.sum()) for p in prepared]
    for p, s in zip(prepared[1:], sums[1:], strict=True):
        if abs(s - sums[0]) > max(tol, 1e-12) * sums[0]:
            raise MarginError(
                f"margin totals differ, so raking cannot converge: {prepared[0].name!r} sums to {sums[0]:.10g} "
                f"but {p.name!r} sums to {s:.10g}"
            )
    bounds: tuple[float, float] | None = None
    if trim is not None:
        lower, upper = float(trim[0]), float(trim[1])
        if not (0 <= lower <= 1 <= upper) or lower == upper:
            raise SurveyError(f"trim bounds must satisfy 0 <= lower <= 1 <= upper (multiples of the mean); got {trim}")
        mean_w = sums[-1] / design.n
        bounds = (lower * mean_w, upper * mean_w)

    w = np.array(design.weights, dtype=np.float64)
    step_weights: list[FloatArray] = []
    errors: list[float] = []
    change = math.nan
    iterations = 0
    converged = False
    while iterations < max_iter:
        iterations += 1
        before = w
        step_weights = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for p in prepared:
                current = np.bincount(p.codes, weights=w, minlength=p.targets.size)
                w = w * (p.targets / current)[p.codes]
                step_weights.append(w)
        if bounds is not None:
            w = _trim(w, bounds[0], bounds[1], sums[-1])
        errors = _margin_errors(w, prepared)
        if not (np.isfinite(w).all() and (w > 0).all()):
            worst = int(np.argmax(errors))
            raise RakingError(
                f"raking failed after {iterations} iterations: the margins cannot be met together (some weights "
                f"went to zero); margin {prepared[worst].name!r} is off by {errors[worst]:.3g}",
                margin=prepared[worst].name,
                error=errors[worst],
                iterations=iterations,
            )
        change = float(np.max(np.abs(w / before - 1.0)))
        if max(errors) <= tol:
            converged = True
            break

    worst = int(np.argmax(errors))
    if not converged and require_convergence:
        raise RakingError(
            f"raking did not converge after {iterations} iterations: margin {prepared[worst].name!r} is still "
            f"off by {errors[worst]:.3g} (relative; tolerance {tol:g})",
            margin=prepared[worst].name,
            error=errors[worst],
            iterations=iterations,
        )
    codes = tuple(p.codes for p in prepared)
    n_categories = tuple(int(p.targets.size) for p in prepared)
    names = tuple(p.name for p in prepared)
    calibration: Calibration
    if variance == "rake":
        calibration = CalibrationInfo(codes=codes, n_categories=n_categories, weights=tuple(step_weights), names=names)
    else:
        calibration = GregCalibration(
            codes=codes, n_categories=n_categories, base_weights=design.weights, weights=w, names=names
        )
    raked = design.with_weights(w, (*design.calibrations, calibration))
    trimmed = 0
    if bounds is not None:
        eps = 1e-9
        trimmed = int(((w <= bounds[0] * (1 + eps)) | (w >= bounds[1] * (1 - eps))).sum())
    return RakeResult(
        design=raked,
        weights=raked.weights,
        converged=converged,
        iterations=iterations,
        max_error=max(errors),
        kish_deff=kish_deff(w),
        trimmed=trimmed,
        max_change=change,
        variance=variance,
    )
