"""Design-based estimation for stratified cluster samples (pure numpy/scipy, no Django).

The results are those of R's ``survey`` package for the design
``svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE)``, and the tests check them against R.

Design
    Strata, primary sampling units (PSUs) nested in strata (a PSU is the pair stratum + PSU label, so
    labels may repeat across strata) and positive sampling weights. PSUs are taken as drawn with
    replacement and no finite population correction is applied.

Variance (Taylor linearisation)
    An estimate is linearised to one value per respondent ``z_i``; its variance is
    ``sum_h n_h/(n_h-1) * sum_c (t_hc - mean_h t)^2`` where ``t_hc`` is the total of ``z`` in PSU ``c`` of
    stratum ``h`` and ``n_h`` the stratum's number of PSUs. For the weighted mean
    ``ybar = sum w y / sum w`` it is ``z_i = w_i (y_i - ybar) / sum w``.

Domains (subpopulations)
    Estimated as R's ``svyby``/``subset`` do: the full design is kept and respondents outside the domain
    count with weight zero, so PSUs without domain members still count in their stratum.

Lonely PSUs (a stratum with a single PSU), as ``options(survey.lonely.psu=)``
    ``fail`` raises :class:`LonelyPSUError`; ``remove`` and ``certainty`` let the stratum add nothing
    (for a one-stage design without fpc R treats them identically); ``adjust`` centres the stratum's PSU
    total at zero, i.e. adds ``t_h^2``; ``average`` leaves the stratum out and scales the sum by
    (strata present) / (strata with two or more PSUs). For a domain of an uncalibrated design, "present"
    means the stratum has domain members (R drops the other rows); for a raked design all strata are
    present (R keeps every row with weight zero).

Design effect
    As R's ``svymean(..., deff=TRUE)``: the variance divided by that of simple random sampling *without*
    replacement of the same size, ``s^2 (1 - n/N) / n`` with ``s^2`` the weighted variance (divisor
    ``n - 1``) and ``N`` the sum of the weights. It needs weights that sum to a population (``N > n``):
    otherwise it is NaN, as in R.

Confidence intervals
    ``ci_low``/``ci_high``: Wald, ``estimate -/+ z * SE`` (normal quantile, as ``confint(svymean())``).
    ``ci_logit_low``/``ci_logit_high`` (0/1 outcomes only): as ``svyciprop(method="logit")``, the Wald interval
    of ``logit(p)`` with ``SE(p) / (p (1 - p))`` and Student's t on the design degrees of freedom (number of
    PSUs minus number of strata among the respondents of the domain), transformed back. It collapses to
    ``p`` when ``p`` is 0 or 1 (the limit of R's value) and is NaN without degrees of freedom.
    ``ci_kg_low``/``ci_kg_high`` (0/1 outcomes only): the Korn–Graubard interval, as ``svyciprop(method="beta")``
    (:func:`korn_graubard_ci`), on the same degrees of freedom; ``n_eff`` is R's effective sample size
    ``p (1 - p) / var`` (:func:`effective_sample_size`; ``n`` where ``p`` is 0 or 1, NCHS).

Raked (calibrated) designs
    A design produced by :func:`kepu.stats.raking.rake` carries what its variance needs; before the PSU totals
    are formed the linearised values ``z`` are residualised on the margin categories, in one of two ways
    (``rake(..., variance=)``):

    :class:`GregCalibration` (``variance="calibrate"``, the default), as R's
    ``calibrate(design, ~m1 + m2 + ..., population, calfun="raking")``: with ``ww`` the weights before
    raking, ``w`` the weights after, ``g = w / ww`` and ``X`` the indicators of the margin categories (the
    same space as R's model matrix, intercept + dummies), ``z <- z - w * X B`` with
    ``B = (X' diag(ww) X)^- X' (z / g)``: the weighted least-squares residual of ``z / w`` on ``X`` with the
    weights ``ww``, which is R's ``qr.resid(qr(X sqrt(ww)), z / (g sqrt(ww))) * g sqrt(ww)`` in ``svyrecvar``.
    ``X' diag(ww) X`` (category sums and cross-tabulations of ``ww``) is formed once per design; collinear
    margins (beyond the intercept) are handled by a pseudo-inverse, as ``qr()`` drops aliased columns.

    :class:`CalibrationInfo` (``variance="rake"``), as R's ``rake()``:
    ``z <- z - w_m * ave(z / w_m, margin m)`` (unweighted category means), cycling through the margins ten
    times, where ``w_m`` are the weights right after margin ``m`` was matched in the last raking pass.

    Either is done exactly in terms of category sums, without a pass over the rows per cycle. A design
    calibrated more than once (raking a raked design) keeps every calibration and applies them in order, as
    R's ``svyrecvar`` does with ``design$postStrata``; the two kinds may be mixed (``calibrate()`` then
    ``rake()`` in R).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special as spsp  # not scipy.stats: its import (~0.5 s) would dominate `kepu literacy estimate`

from kepu.stats.arrays import BoolArray, FloatArray

LONELY_PSU_OPTIONS = ("fail", "remove", "adjust", "certainty", "average")
RAKING_VARIANCE_CYCLES = 10  # R's svyrecvar: `for (iterations in 1:10)`
GREG_RANK_TOL = 1e-12  # eigenvalues of the scaled X'diag(ww)X below this (relative) count as collinearity

IntArray = NDArray[np.intp]


class SurveyError(ValueError):
    """Invalid survey input (bad weights, missing values, wrong outcome, empty domain ...)."""


class WeightError(SurveyError):
    """Weights that are missing, infinite, zero or negative."""


class MissingValueError(SurveyError):
    """A missing value (NaN/None) where a value is needed."""


class NonBinaryOutcomeError(SurveyError):
    """A proportion was requested for an outcome that is not 0/1."""


class LonelyPSUError(SurveyError):
    """A stratum with a single PSU under ``lonely_psu="fail"``."""

    def __init__(self, stratum: str, others: int = 0) -> None:
        more = f" (and {others} more such strata)" if others else ""
        super().__init__(
            f"stratum {stratum!r} has only one PSU{more}; its variance cannot be estimated. "
            "Choose lonely_psu='remove', 'certainty', 'adjust' or 'average', or merge strata."
        )
        self.stratum = stratum


class EmptyDomainError(SurveyError):
    """A domain without respondents."""


@dataclass(frozen=True)
class Estimate:
    """One design-based estimate (see the module docstring for the methods)."""

    n: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_logit_low: float
    ci_logit_high: float
    deff: float
    df: int
    weight_sum: float = math.nan  # estimated population size of the domain (sum of its weights)
    ci_kg_low: float = math.nan  # Korn–Graubard interval (0/1 outcomes), as svyciprop(method="beta")
    ci_kg_high: float = math.nan
    n_eff: float = math.nan  # effective sample size p (1 - p) / var (0/1 outcomes; not capped at n)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ci_logit_low": self.ci_logit_low,
            "ci_logit_high": self.ci_logit_high,
            "deff": self.deff,
        }


@dataclass(frozen=True, eq=False)
class CalibrationInfo:
    """What a design raked with ``variance="rake"`` keeps for its variance (R: the ``"raking"`` element that
    ``rake()`` appends to ``design$postStrata``).

    ``codes[m]``: category code (0 .. ``n_categories[m]``-1) of each respondent on margin ``m``;
    ``weights[m]``: the weights right after margin ``m`` was matched in the last raking pass."""

    codes: tuple[IntArray, ...]
    n_categories: tuple[int, ...]
    weights: tuple[FloatArray, ...]
    names: tuple[str, ...] = ()
    cycles: int = RAKING_VARIANCE_CYCLES

    def __post_init__(self) -> None:
        if not (len(self.codes) == len(self.n_categories) == len(self.weights)) or not self.codes:
            raise SurveyError("calibration needs one code array, category count and weight array per margin")

    def _arrays(self) -> tuple[NDArray[Any], ...]:
        return (*self.codes, *self.weights)


@dataclass(frozen=True, eq=False)
class GregCalibration:
    """What a design raked with ``variance="calibrate"`` keeps for its variance (R: the ``"greg_calibration"``
    element that ``calibrate()`` appends to ``design$postStrata``).

    ``codes[m]``/``n_categories[m]``: the categories of margin ``m`` (the model ``~ m1 + m2 + ...``);
    ``base_weights``: the weights before this calibration (R's ``ww``); ``weights``: the weights after it
    (``g * ww``)."""

    codes: tuple[IntArray, ...]
    n_categories: tuple[int, ...]
    base_weights: FloatArray
    weights: FloatArray
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.codes) != len(self.n_categories) or not self.codes:
            raise SurveyError("calibration needs one code array and category count per margin")

    def _arrays(self) -> tuple[NDArray[Any], ...]:
        return (*self.codes, self.base_weights, self.weights)


Calibration = CalibrationInfo | GregCalibration


# ---------------------------------------------------------------------------------------------------------------
# Input helpers


@dataclass(frozen=True)
class Factor:
    """Labels already factorized in bulk (e.g. by a columnar file reader): the sorted distinct labels and the
    code (index into ``labels``) of each value. Accepted wherever a label array is, without a second sort."""

    labels: NDArray[Any]
    codes: IntArray


def factorize(values: ArrayLike | Factor, what: str, n: int | None = None) -> tuple[NDArray[Any], IntArray]:
    """Sorted distinct labels and the code of each value (``np.unique(return_inverse=True)``).

    Raises :class:`MissingValueError` for None/NaN and :class:`SurveyError` for a wrong length."""
    if isinstance(values, Factor):
        if n is not None and values.codes.shape[0] != n:
            raise SurveyError(f"{what} has {values.codes.shape[0]} values; expected {n}")
        return values.labels, values.codes
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise SurveyError(f"{what} must be one-dimensional")
    if n is not None and arr.shape[0] != n:
        raise SurveyError(f"{what} has {arr.shape[0]} values; expected {n}")
    if arr.dtype.kind == "f":
        bad = np.isnan(arr)
    elif arr.dtype.kind == "O":
        bad = np.asarray(cast(Any, np.equal)(arr, None) | (arr != arr), dtype=bool)
    else:
        bad = np.zeros(arr.shape[0], dtype=bool)
    if bad.any():
        raise MissingValueError(f"{what} has {int(bad.sum())} missing values (first at row {int(np.argmax(bad))})")
    if arr.dtype.kind in "iu" and arr.size:
        return _factorize_ints(arr.astype(np.int64, copy=False))
    try:
        labels, codes = np.unique(arr, return_inverse=True)
    except TypeError:  # mixed label types in an object array
        labels, codes = np.unique(arr.astype(str), return_inverse=True)
    return labels, codes.astype(np.intp, copy=False)


def _factorize_ints(arr: NDArray[np.int64]) -> tuple[NDArray[np.int64], IntArray]:
    """``np.unique(arr, return_inverse=True)`` in linear time when the range of the integers is small."""
    lo, hi = int(arr.min()), int(arr.max())
    if hi - lo > 4 * arr.size + 1024:
        labels, codes = np.unique(arr, return_inverse=True)
        return labels, codes.astype(np.intp, copy=False)
    shifted = arr - lo
    seen = np.bincount(shifted, minlength=hi - lo + 1) > 0
    lookup = np.cumsum(seen) - 1
    return np.flatnonzero(seen).astype(np.int64) + lo, lookup[shifted].astype(np.intp, copy=False)


def check_weights(weights: ArrayLike, n: int | None = None, what: str = "weights") -> FloatArray:
    """Weights as a float array; all must be finite and > 0."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise WeightError(f"{what} must be one-dimensional")
    if n is not None and w.shape[0] != n:
        raise WeightError(f"{what} has {w.shape[0]} values; expected {n}")
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.argmax(bad))
        raise WeightError(f"{what} must be finite: {int(bad.sum())} missing or infinite (first at row {i}: {w[i]})")
    bad = w <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise WeightError(f"{what} must be positive: {int(bad.sum())} are zero or negative (first at row {i}: {w[i]})")
    return w


def _as_outcome(y: ArrayLike, n: int, name: str) -> FloatArray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise SurveyError(f"outcome {name!r} must be one-dimensional with {n} values")
    try:
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise SurveyError(f"outcome {name!r} must be numeric") from None


def _as_mask(domain: ArrayLike, n: int) -> BoolArray:
    arr = np.asarray(domain)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise SurveyError(f"domain must be a one-dimensional boolean mask with {n} values")
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise SurveyError("domain must be a boolean mask (True for respondents in the domain)")


def _group_sums(codes: IntArray, n_groups: int, values: FloatArray, col: IntArray | None, n_cols: int) -> FloatArray:
    """``out[k, g] = sum of values over rows with codes == k and col == g`` (shape ``(n_groups, n_cols)``)."""
    if col is None or n_cols == 1:
        return np.asarray(np.bincount(codes, weights=values, minlength=n_groups), dtype=np.float64).reshape(n_groups, 1)
    flat = np.asarray(
        np.bincount(col * n_groups + codes, weights=values, minlength=n_cols * n_groups), dtype=np.float64
    )
    return np.ascontiguousarray(flat.reshape(n_cols, n_groups).T)


# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _RakePrep:
    """Per-design constants for the raking residualisation (category counts and cross sums)."""

    counts: tuple[FloatArray, ...]  # n_j[k]: respondents in category k of margin j
    cross: tuple[tuple[FloatArray, ...], ...]  # cross[j][m][k, l] = sum over (k_j=k, k_m=l) of w_m / w_j
    psu_sums: tuple[FloatArray, ...]  # (C x K_m): sum of w_m over the PSU's respondents in category l


@dataclass(frozen=True, eq=False)
class _GregPrep:
    """Per-design constants for the calibration residualisation (weighted least squares on the margins)."""

    inv_g: FloatArray  # ww / w: the calibration's inverse g-weights
    basis: IntArray  # columns of the stacked margin indicators kept (first category of margins 2.. dropped)
    offsets: IntArray  # start of each margin's categories among the stacked indicators
    solve: FloatArray  # (pseudo-)inverse of X'diag(ww)X on the basis columns
    psu_sums: tuple[FloatArray, ...]  # (C x K_m): sum of the final weights over the PSU's respondents in category l


class Design:
    """A stratified cluster sample: strata, PSUs nested in strata, weights (see the module docstring)."""

    def __init__(
        self,
        *,
        strata_codes: IntArray,
        strata_labels: NDArray[Any],
        psu_codes: IntArray,
        psu_stratum: IntArray,
        weights: FloatArray,
        lonely_psu: str,
        calibrations: tuple[Calibration, ...] = (),
    ) -> None:
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise SurveyError(f"lonely_psu must be one of {', '.join(LONELY_PSU_OPTIONS)}; got {lonely_psu!r}")
        self._strata = strata_codes
        self.strata_labels = strata_labels
        self._psu = psu_codes
        self._psu_stratum = psu_stratum
        self._weights = weights
        self._weights.setflags(write=False)
        self.lonely_psu = lonely_psu
        self.calibrations = calibrations
        self.n = int(weights.shape[0])
        self.n_strata = int(strata_labels.shape[0])
        self.n_psu = int(psu_stratum.shape[0])
        self._psu_per_stratum = np.bincount(psu_stratum, minlength=self.n_strata)
        self._stratum_starts = np.concatenate(([0], np.cumsum(self._psu_per_stratum)[:-1])).astype(np.intp)
        self.df = self.n_psu - self.n_strata  # R: degf(design)
        self._cal_prep: list[_RakePrep | _GregPrep | None] = [None] * len(calibrations)
        for cal in calibrations:
            if any(a.shape != (self.n,) for a in cal._arrays()):
                raise SurveyError("calibration arrays must have one value per respondent")

    @classmethod
    def from_arrays(
        cls, *, strata: ArrayLike | Factor, psu: ArrayLike | Factor, weights: ArrayLike, lonely_psu: str = "fail"
    ) -> Design:
        """Build a design from per-respondent stratum labels, PSU labels (nested in strata) and weights."""
        w = check_weights(weights)
        n = w.shape[0]
        if n == 0:
            raise SurveyError("the design has no respondents")
        strata_labels, h = factorize(strata, "strata", n)
        psu_labels, p = factorize(psu, "psu", n)
        key = h.astype(np.int64) * np.int64(psu_labels.shape[0]) + p
        psu_keys, psu_codes = _factorize_ints(key)
        psu_stratum = (psu_keys // np.int64(psu_labels.shape[0])).astype(np.intp)
        return cls(
            strata_codes=h,
            strata_labels=strata_labels,
            psu_codes=psu_codes.astype(np.intp, copy=False),
            psu_stratum=psu_stratum,
            weights=w.copy(),
            lonely_psu=lonely_psu,
        )

    # -- properties -------------------------------------------------------------------------------------------

    @property
    def weights(self) -> FloatArray:
        """The (final) weights, read-only."""
        return self._weights

    @property
    def is_calibrated(self) -> bool:
        return bool(self.calibrations)

    @property
    def lonely_strata(self) -> list[str]:
        """Labels of strata with a single PSU."""
        return [str(s) for s in self.strata_labels[self._psu_per_stratum == 1]]

    def with_weights(
        self, weights: ArrayLike, calibration: Calibration | Sequence[Calibration] | None = None
    ) -> Design:
        """The same strata and PSUs with new weights; ``calibration`` (one or a chain, applied in order, as R keeps
        for a design calibrated more than once) is what the variance uses, ``None`` for a plain design."""
        w = check_weights(weights, self.n)
        if calibration is None:
            cals: tuple[Calibration, ...] = ()
        elif isinstance(calibration, CalibrationInfo | GregCalibration):
            cals = (calibration,)
        else:
            cals = tuple(calibration)
        return Design(
            strata_codes=self._strata,
            strata_labels=self.strata_labels,
            psu_codes=self._psu,
            psu_stratum=self._psu_stratum,
            weights=w.copy(),
            lonely_psu=self.lonely_psu,
            calibrations=cals,
        )

    # -- public estimators ------------------------------------------------------------------------------------

    def mean(
        self,
        y: ArrayLike,
        *,
        domain: ArrayLike | None = None,
        level: float = 0.95,
        require_binary: bool = False,
        name: str = "y",
        domain_label: str | None = None,
        na_rm: bool = False,
    ) -> Estimate:
        """Weighted mean (a proportion for a 0/1 outcome), optionally in a domain (boolean mask).

        As ``svymean(~y, design, deff=TRUE)`` on ``subset(design, domain)``, with ``confint`` and
        ``svyciprop(method="logit")``. ``na_rm=True`` drops missing outcomes as R's ``na.rm=TRUE`` does
        (they count as outside the domain); otherwise a missing outcome raises."""
        yy = _as_outcome(y, self.n, name)
        member = np.ones(self.n, dtype=bool) if domain is None else _as_mask(domain, self.n)
        label = "(all respondents)" if domain is None else (domain_label or "(mask)")
        member = self._drop_missing(yy, member, na_rm, name)
        if not member.any():
            raise EmptyDomainError(f"domain {label} is empty")
        binary = self._check_binary(yy, member, require_binary, name)
        return self._means(yy, None, 1, member, level, binary)[0]

    def by(
        self,
        y: ArrayLike,
        groups: ArrayLike | Factor,
        *,
        level: float = 0.95,
        require_binary: bool = False,
        name: str = "y",
        group_name: str = "groups",
        na_rm: bool = False,
    ) -> dict[str, Estimate]:
        """Weighted means in each group (domain), as ``svyby(~y, ~g, design, svymean, deff=TRUE)`` and
        ``svyciprop`` on ``subset(design, g == level)``. Keys are ``str(level)``, in sorted order of levels;
        ``name`` and ``group_name`` (the outcome's and the grouping variable's names) are used in messages."""
        yy = _as_outcome(y, self.n, name)
        labels, col = factorize(groups, group_name, self.n)
        member = self._drop_missing(yy, np.ones(self.n, dtype=bool), na_rm, name)
        counts = np.bincount(col[member], minlength=labels.shape[0])
        if (counts == 0).any():
            raise EmptyDomainError(f"domain {group_name}={labels[int(np.argmax(counts == 0))]!s} is empty")
        binary = self._check_binary(yy, member, require_binary, name)
        ests = self._means(yy, col, int(labels.shape[0]), member, level, binary)
        return {str(lab): e for lab, e in zip(labels, ests, strict=True)}

    def total(
        self,
        y: ArrayLike,
        *,
        domain: ArrayLike | None = None,
        level: float = 0.95,
        name: str = "y",
        domain_label: str | None = None,
        na_rm: bool = False,
    ) -> Estimate:
        """Weighted total ``sum w y`` (in a domain), as ``svytotal(~y, design, deff=TRUE)`` and ``confint``.

        The logit fields are NaN; deff is NaN when the domain's weights sum to less than its size."""
        yy = _as_outcome(y, self.n, name)
        member = np.ones(self.n, dtype=bool) if domain is None else _as_mask(domain, self.n)
        label = "(all respondents)" if domain is None else (domain_label or "(mask)")
        member = self._drop_missing(yy, member, na_rm, name)
        if not member.any():
            raise EmptyDomainError(f"domain {label} is empty")
        wm = np.where(member, self._weights, 0.0)
        ym = np.where(member, yy, 0.0)
        n_d = int(member.sum())
        wsum = float(wm.sum())
        est = float(np.dot(wm, ym))
        var = float(self._variance(wm * ym, None, 1, member)[0])
        se = math.sqrt(var)
        resid = ym - est / wsum
        s2 = float(np.dot(wm, resid * resid)) / wsum * (n_d / (n_d - 1) if n_d > 1 else math.nan)
        deff = _deff(var, s2 * wsum * wsum, wsum, n_d)
        z = float(spsp.ndtri(0.5 + check_level(level) / 2))
        return Estimate(
            n=n_d,
            estimate=est,
            se=se,
            ci_low=est - z * se,
            ci_high=est + z * se,
            ci_logit_low=math.nan,
            ci_logit_high=math.nan,
            deff=deff,
            df=int(self._domain_df(None, 1, member)[0]),
            weight_sum=wsum,
        )

    # -- internals --------------------------------------------------------------------------------------------

    def _drop_missing(self, y: FloatArray, member: BoolArray, na_rm: bool, name: str) -> BoolArray:
        missing = np.isnan(y) & member
        if missing.any():
            if not na_rm:
                i = int(np.argmax(missing))
                raise MissingValueError(
                    f"outcome {name!r} has {int(missing.sum())} missing values (first at row {i}); "
                    "pass na_rm=True to leave them out"
                )
            member = member & ~missing
        if np.isinf(y[member]).any():
            raise SurveyError(f"outcome {name!r} has infinite values")
        return member

    @staticmethod
    def _check_binary(y: FloatArray, member: BoolArray, require: bool, name: str) -> bool:
        ym = y[member]
        bad = (ym != 0) & (ym != 1)
        if require and bad.any():
            raise NonBinaryOutcomeError(
                f"outcome {name!r} must be 0/1 for a proportion; found {ym[np.argmax(bad)]!r} "
                f"({int(bad.sum())} values are neither 0 nor 1)"
            )
        return not bad.any()

    def _means(
        self, y: FloatArray, col: IntArray | None, n_cols: int, member: BoolArray, level: float, binary: bool
    ) -> list[Estimate]:
        """Means of ``y`` in ``n_cols`` disjoint domains (``col``; ``None`` = one domain), vectorised."""
        c = np.zeros(self.n, dtype=np.intp) if col is None else col
        everyone = bool(member.all())  # the usual case: no masking passes over a million rows (same numbers)
        wm = self._weights if everyone else np.where(member, self._weights, 0.0)
        ym = y if everyone else np.where(member, y, 0.0)
        wsum = np.bincount(c, weights=wm, minlength=n_cols)
        nobs = np.bincount(c, minlength=n_cols) if everyone else np.bincount(c, weights=member, minlength=n_cols)
        nobs = nobs.astype(np.int64)
        est = np.bincount(c, weights=wm * ym, minlength=n_cols) / wsum
        resid = ym - est[c] if everyone else np.where(member, ym - est[c], 0.0)
        z = wm * resid / wsum[c]
        var = self._variance(z, col, n_cols, member)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.bincount(c, weights=wm * resid * resid, minlength=n_cols) / wsum * (nobs / (nobs - 1.0))
        # R's nrow(design): a subset of a calibrated design keeps every row (weight zero), others drop them.
        rows = np.full(n_cols, self.n) if self.calibrations else nobs
        df = self._domain_df(col, n_cols, member)
        return domain_estimates(
            est=est, var=var, s2=s2, wsum=wsum, nobs=nobs, df=df, level=level, binary=binary, n_rows=rows
        )

    def _domain_df(self, col: IntArray | None, n_cols: int, member: BoolArray) -> NDArray[np.int64]:
        """R's ``degf(subset(design, domain))``: PSUs minus strata among the domain's respondents."""
        if (col is None or n_cols == 1) and member.all():
            return np.full(n_cols, self.df, dtype=np.int64)  # every PSU and stratum: the design's df
        psu_has = _group_sums(self._psu, self.n_psu, member.astype(np.float64), col, n_cols) > 0  # (C, G)
        strata_has = np.add.reduceat(psu_has, self._stratum_starts, axis=0) > 0  # (H, G)
        return (psu_has.sum(axis=0) - strata_has.sum(axis=0)).astype(np.int64)

    def _variance(self, z: FloatArray, col: IntArray | None, n_cols: int, member: BoolArray) -> FloatArray:
        """Linearisation variance of ``n_cols`` estimates whose linearised values are ``z`` (row ``i`` belongs
        to column ``col[i]``; zero outside ``member``): residualise on raking margins, then stratified
        with-replacement variance of PSU totals, with lonely PSU handling."""
        totals = self._psu_totals(z, col, n_cols)  # (C, G)
        if self.calibrations or ((col is None or n_cols == 1) and member.all()):
            present = np.ones((self.n_strata, n_cols), dtype=bool)
        else:
            present = _group_sums(self._strata, self.n_strata, member.astype(np.float64), col, n_cols) > 0
        return self._stratified_variance(totals, present)

    def _psu_totals(self, z: FloatArray, col: IntArray | None, n_cols: int) -> FloatArray:
        """PSU totals (C x G) of the linearised values after residualising them on each calibration in turn."""
        if not self.calibrations:
            return _group_sums(self._psu, self.n_psu, z, col, n_cols)
        # Row-level values are needed only between chained calibrations (a design calibrated more than once);
        # for the last (usually the only) one, the residualisation is applied to the PSU totals directly.
        x: FloatArray = z
        last = len(self.calibrations) - 1
        for idx, cal in enumerate(self.calibrations):
            prep = self._prep(idx)
            if isinstance(cal, CalibrationInfo):
                assert isinstance(prep, _RakePrep)
                sums = [
                    _column_sums(k, nk, x / (wj if x.ndim == 1 else wj[:, None]), col, n_cols)
                    for k, nk, wj in zip(cal.codes, cal.n_categories, cal.weights, strict=True)
                ]
                coef = _raking_coefficients(prep, sums, cal.cycles)
                multipliers: Sequence[FloatArray] = cal.weights
            else:
                assert isinstance(prep, _GregPrep)
                coef = _greg_coefficients(prep, cal, x, col, n_cols)
                multipliers = [cal.weights] * len(coef)
            psu_sums = prep.psu_sums
            if idx == last:
                out = _column_sums(self._psu, self.n_psu, x, col, n_cols)
                for b, a in zip(psu_sums, coef, strict=True):
                    out = out - b @ a
                return np.asarray(out, dtype=np.float64)
            if x.ndim == 1:
                dense = np.zeros((self.n, n_cols))
                dense[np.arange(self.n), np.zeros(self.n, dtype=np.intp) if col is None else col] = x
                x = dense
            for k, mult, a in zip(cal.codes, multipliers, coef, strict=True):
                x = x - mult[:, None] * a[k]
        raise AssertionError("unreachable")  # pragma: no cover

    def _prep(self, idx: int) -> _RakePrep | _GregPrep:
        prep = self._cal_prep[idx]
        if prep is None:
            cal = self.calibrations[idx]
            prep = self._rake_prep(cal) if isinstance(cal, CalibrationInfo) else self._greg_prep(cal)
            self._cal_prep[idx] = prep
        return prep

    def _psu_category_sums(self, codes: IntArray, n_categories: int, weights: FloatArray) -> FloatArray:
        """(C x K) sums of ``weights`` by PSU and category; dense, since margins have few categories."""
        return np.asarray(
            np.bincount(self._psu * n_categories + codes, weights=weights, minlength=self.n_psu * n_categories),
            dtype=np.float64,
        ).reshape(self.n_psu, n_categories)

    def _rake_prep(self, cal: CalibrationInfo) -> _RakePrep:
        m_count = len(cal.codes)
        counts = tuple(
            np.bincount(k, minlength=nk).astype(np.float64) for k, nk in zip(cal.codes, cal.n_categories, strict=True)
        )
        # cross[j][j] is never used (the diagonal update uses the counts), so it is left empty.
        cross = tuple(
            tuple(
                _cross_sums(
                    cal.codes[j],
                    cal.n_categories[j],
                    cal.codes[m],
                    cal.n_categories[m],
                    cal.weights[m] / cal.weights[j],
                )
                if m != j
                else np.zeros((0, 0))
                for m in range(m_count)
            )
            for j in range(m_count)
        )
        psu_sums = tuple(
            self._psu_category_sums(k, nk, wm)
            for k, nk, wm in zip(cal.codes, cal.n_categories, cal.weights, strict=True)
        )
        return _RakePrep(counts=counts, cross=cross, psu_sums=psu_sums)

    def _greg_prep(self, cal: GregCalibration) -> _GregPrep:
        sizes = np.array(cal.n_categories, dtype=np.intp)
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        total = int(sizes.sum())
        ww = cal.base_weights
        gram = np.zeros((total, total))
        for j, (kj, nj) in enumerate(zip(cal.codes, cal.n_categories, strict=True)):
            oj = int(offsets[j])
            gram[oj : oj + nj, oj : oj + nj] = np.diag(np.bincount(kj, weights=ww, minlength=nj))
            for m in range(j + 1, len(cal.codes)):
                om, nm = int(offsets[m]), cal.n_categories[m]
                block = _cross_sums(kj, nj, cal.codes[m], nm, ww)
                gram[oj : oj + nj, om : om + nm] = block
                gram[om : om + nm, oj : oj + nj] = block.T
        # The indicators of all margins span the same space as R's model matrix (intercept + dummies); keep all
        # categories of the first margin and drop the first category of each other one (always collinear).
        basis = np.setdiff1d(np.arange(total), offsets[1:]).astype(np.intp)
        sub = gram[np.ix_(basis, basis)]
        scale = 1.0 / np.sqrt(np.diag(sub))
        vals, vecs = np.linalg.eigh(sub * scale[:, None] * scale[None, :])
        keep = vals > vals.max() * GREG_RANK_TOL  # further collinearity (confounded margins), as qr() drops it
        inv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
        solve = np.asarray(inv * scale[:, None] * scale[None, :], dtype=np.float64)
        psu_sums = tuple(
            self._psu_category_sums(k, nk, cal.weights) for k, nk in zip(cal.codes, cal.n_categories, strict=True)
        )
        return _GregPrep(inv_g=ww / cal.weights, basis=basis, offsets=offsets, solve=solve, psu_sums=psu_sums)

    def _stratified_variance(self, totals: FloatArray, present: BoolArray) -> FloatArray:
        """``sum_h n_h/(n_h-1) sum_c (t_hc - tbar_h)^2`` per column, PSUs being contiguous within strata."""
        nh = self._psu_per_stratum.astype(np.float64)[:, None]
        sums = np.add.reduceat(totals, self._stratum_starts, axis=0)  # (H, G)
        dev = totals - (sums / nh)[self._psu_stratum]
        ss = np.add.reduceat(dev * dev, self._stratum_starts, axis=0)
        lonely = self._psu_per_stratum == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            vh = np.where(lonely[:, None], 0.0, ss * nh / (nh - 1.0))
        if lonely.any():
            lonely_present = lonely[:, None] & present
            if self.lonely_psu == "fail" and lonely_present.any():
                hits = np.flatnonzero(lonely_present.any(axis=1))
                raise LonelyPSUError(str(self.strata_labels[hits[0]]), len(hits) - 1)
            if self.lonely_psu == "adjust":
                vh = np.where(lonely[:, None], sums * sums, vh)
            elif self.lonely_psu == "average":
                nstrat = present.sum(axis=0).astype(np.float64)
                nok = (present & ~lonely[:, None]).sum(axis=0).astype(np.float64)
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.asarray(vh.sum(axis=0) * nstrat / nok, dtype=np.float64)
        return np.asarray(vh.sum(axis=0), dtype=np.float64)


def domain_estimates(
    *,
    est: FloatArray,
    var: FloatArray,
    s2: FloatArray,
    wsum: NDArray[Any],
    nobs: NDArray[np.int64],
    df: NDArray[np.int64],
    level: float,
    binary: bool,
    n_rows: ArrayLike | None = None,
) -> list[Estimate]:
    """One :class:`Estimate` per domain from per-domain arrays (whatever the variance method): the means ``est``,
    their variances ``var``, the weighted variances ``s2`` of the outcome (for deff), the weight sums, respondent
    counts and design df. Wald, logit and (0/1 outcomes) Korn–Graubard intervals; ``n_rows`` as in
    :func:`korn_graubard_ci`; ``s2`` of a one-respondent domain is taken as undefined."""
    se = np.sqrt(var)
    s2 = np.where(nobs > 1, s2, np.nan)
    q = float(spsp.ndtri(0.5 + check_level(level) / 2))
    lo_l = hi_l = lo_kg = hi_kg = n_eff = np.full(est.shape[0], np.nan)
    if binary:
        lo_l, hi_l = logit_ci(est, se, df, level)
        n_eff = effective_sample_size(est, se, nobs)
        lo_kg, hi_kg = korn_graubard_ci(est, se, nobs, df, level, n_rows=n_rows)
    return [
        Estimate(
            n=int(nobs[g]),
            estimate=float(est[g]),
            se=float(se[g]),
            ci_low=float(est[g] - q * se[g]),
            ci_high=float(est[g] + q * se[g]),
            ci_logit_low=float(lo_l[g]),
            ci_logit_high=float(hi_l[g]),
            deff=_deff(float(var[g]), float(s2[g]), float(wsum[g]), int(nobs[g])),
            df=int(df[g]),
            weight_sum=float(wsum[g]),
            ci_kg_low=float(lo_kg[g]),
            ci_kg_high=float(hi_kg[g]),
            n_eff=float(n_eff[g]),
        )
        for g in range(est.shape[0])
    ]


def _raking_coefficients(prep: _RakePrep, sums: list[FloatArray], cycles: int) -> list[FloatArray]:
    """R's ``for (i in 1:10) for (m in margins) x <- x - w_m * ave(x / w_m, m)`` in coefficient form.

    With ``x = x0 - sum_m w_m * a_m[k_m]``, the sum of ``x / w_j`` over category ``k`` of margin ``j`` is
    ``S_j[k] - sum_m cross[j][m] @ a_m``; one update adds that sum divided by the category count to ``a_j``."""
    coef = [np.zeros_like(s) for s in sums]
    for _ in range(cycles):
        for j, s_j in enumerate(sums):
            r = s_j.copy()
            for m, a_m in enumerate(coef):
                if m == j:
                    r -= prep.counts[j][:, None] * a_m
                else:
                    r -= prep.cross[j][m] @ a_m
            coef[j] = coef[j] + r / prep.counts[j][:, None]
    return coef


def _greg_coefficients(
    prep: _GregPrep, cal: GregCalibration, x: FloatArray, col: IntArray | None, n_cols: int
) -> list[FloatArray]:
    """R's ``qr.resid(qr(X sqrt(ww)), x / (g sqrt(ww))) * g sqrt(ww)`` in coefficient form: ``x - w * X B`` with
    ``B = (X' diag(ww) X)^- X' (x / g)`` (weighted least squares of ``x / w`` on the margin indicators with the
    weights before calibration). Returns ``B`` split by margin, each ``(K_m, G)``."""
    xg = x * (prep.inv_g if x.ndim == 1 else prep.inv_g[:, None])
    stacked = np.concatenate(
        [_column_sums(k, nk, xg, col, n_cols) for k, nk in zip(cal.codes, cal.n_categories, strict=True)], axis=0
    )
    coef = np.zeros_like(stacked)
    coef[prep.basis] = prep.solve @ stacked[prep.basis]
    return [coef[o : o + nk] for o, nk in zip(prep.offsets, cal.n_categories, strict=True)]


def _column_sums(codes: IntArray, n_groups: int, x: FloatArray, col: IntArray | None, n_cols: int) -> FloatArray:
    """``_group_sums`` for a 1-D ``x`` (row ``i`` in column ``col[i]``) or a dense ``(n, n_cols)`` ``x``."""
    if x.ndim == 1:
        return _group_sums(codes, n_groups, x, col, n_cols)
    return np.stack([np.bincount(codes, weights=x[:, g], minlength=n_groups) for g in range(n_cols)], axis=1)


def _cross_sums(a: IntArray, na: int, b: IntArray, nb: int, weights: FloatArray) -> FloatArray:
    """``out[k, l]`` = sum of ``weights`` over rows with ``a == k`` and ``b == l``."""
    return np.asarray(np.bincount(a * nb + b, weights=weights, minlength=na * nb), dtype=np.float64).reshape(na, nb)


def _deff(var: float, s2: float, wsum: float, n: int) -> float:
    """``var / (s2 (N - n) / (N n))`` (R's svymean deff; NaN when the weights sum to less than n)."""
    if not (wsum >= n) or not math.isfinite(s2):
        return math.nan
    vsrs = s2 * (wsum - n) / (wsum * n)
    if vsrs == 0:
        return math.nan if var == 0 else math.inf
    return var / vsrs


def check_level(level: float) -> float:
    """The confidence level as a float; a clear ValueError unless ``0 < level < 1`` (e.g. 0.95, not 95)."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number strictly between 0 and 1 (e.g. 0.95), got {level!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95 for 95 %), got {level!r}")
    return value


def logit_ci(p: ArrayLike, se: ArrayLike, df: ArrayLike, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """``expit(logit(p) -/+ t_df * se / (p (1 - p)))`` (R's ``svyciprop(method="logit")``); NaN where
    ``df <= 0``. At ``p`` = 0 or 1 the interval collapses to ``p`` (the limit of R's glm-based value)."""
    level = check_level(level)
    pa = np.atleast_1d(np.asarray(p, dtype=np.float64))
    sa = np.atleast_1d(np.asarray(se, dtype=np.float64))
    da = np.atleast_1d(np.asarray(df, dtype=np.float64))
    inside = (pa > 0) & (pa < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(da > 0, spsp.stdtrit(np.where(da > 0, da, 1.0), 0.5 + level / 2), np.nan)
        center = spsp.logit(pa)
        half = t * sa / (pa * (1 - pa))
        lo = np.where(inside, spsp.expit(center - half), pa)
        hi = np.where(inside, spsp.expit(center + half), pa)
    bad = ~(da > 0) | np.isnan(pa)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def effective_sample_size(p: ArrayLike, se: ArrayLike, n: ArrayLike) -> FloatArray:
    """``p (1 - p) / se^2`` (R's ``n.eff`` in ``svyciprop(method="beta")``, before its df adjustment; not capped
    at ``n``). At ``p`` = 0 or 1 the variance is zero and R's value is 0/0; there it is ``n``, as the NCHS
    presentation standard (Vital Health Stat 2(175)) prescribes. NaN where the SE is undefined, or zero while
    ``0 < p < 1`` (the design cannot measure the variance)."""
    pa, sa, na = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (p, se, n))
    var = sa * sa
    inside = (pa > 0) & (pa < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = pa * (1 - pa) / var
    out = np.where(inside & (var > 0), raw, np.where((pa == 0) | (pa == 1), na, np.nan))
    return np.asarray(np.where(np.isfinite(var), out, np.nan), dtype=np.float64)


def korn_graubard_ci(
    p: ArrayLike, se: ArrayLike, n: ArrayLike, df: ArrayLike, level: float = 0.95, *, n_rows: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """Korn–Graubard (1998) interval: Clopper–Pearson with the df-adjusted effective sample size, exactly as R's
    ``svyciprop(method="beta")``::

        n* = n_eff * (qt(a/2, n_rows - 1) / qt(a/2, df))^2,   a = 1 - level
        low = qbeta(a/2, n* p, n* (1 - p) + 1),  high = qbeta(1 - a/2, n* p + 1, n* (1 - p))

    with ``n_eff`` from :func:`effective_sample_size` (``n`` = respondents in the domain) and ``n_rows`` R's
    ``nrow(design)`` (default ``n``; the whole design's rows for a domain of a calibrated or replicate design,
    whose subsets keep every row). At ``p`` = 0 the lower bound is 0, at ``p`` = 1 the upper is 1 (R's qbeta
    with a zero shape); there R itself returns NaN (``n_eff`` = 0/0) and Kepu uses ``n_eff = n`` (NCHS).
    NaN where ``df <= 0``, ``n_rows <= 1`` or the effective sample size is undefined. Vectorised."""
    level = check_level(level)
    alpha = 1.0 - level
    pa, da = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (p, df))
    ra = np.atleast_1d(np.asarray(n if n_rows is None else n_rows, dtype=np.float64))
    ok = (da > 0) & (ra > 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = spsp.stdtrit(np.where(ok, ra - 1, 1.0), alpha / 2) / spsp.stdtrit(np.where(ok, da, 1.0), alpha / 2)
        n_star = effective_sample_size(pa, se, n) * ratio * ratio
        low = np.where(pa == 0, 0.0, spsp.betaincinv(n_star * pa, n_star * (1 - pa) + 1, alpha / 2))
        high = np.where(pa == 1, 1.0, spsp.betaincinv(n_star * pa + 1, n_star * (1 - pa), 1 - alpha / 2))
    bad = ~ok | ~np.isfinite(n_star)
    return (
        np.asarray(np.where(bad, np.nan, low), dtype=np.float64),
        np.asarray(np.where(bad, np.nan, high), dtype=np.float64),
    )
