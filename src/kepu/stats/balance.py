"""Balance measures of a literacy survey wave: how far apart districts, urban and rural residents and
population groups are, each with a standard error and a 95 % interval. Pure numpy; no Django.

Inputs are domain estimates (proportions or percentages) with their standard errors. Districts are
independent samples (the survey's strata lie within districts), so their estimates are treated as
independent normals ``p_i ~ N(true_i, se_i^2)``.

* ``spread`` (max − min over domains): not a smooth function of the estimates (which domain is
  highest or lowest can change), so its uncertainty comes from a **parametric bootstrap**: draw
  every domain from ``N(p_i, se_i^2)`` ``draws`` times (seeded: the same input gives the same
  output), take max − min of each draw; the SE is the draws' standard deviation and the interval their
  2.5 % and 97.5 % quantiles. The point estimate is max − min of the estimates themselves. (With
  sampling noise the observed range is biased upward when domains are close; the bootstrap shows it.)
* ``weighted_cv`` (population-weighted coefficient of variation ``sqrt(sum w_i (p_i − m)^2) / m``
  with ``m = sum w_i p_i`` and ``w`` the population shares): SE by the **delta method** with the
  gradient ``dCV/dp_i = w_i (p_i − m) / (s m) − s w_i / m^2`` (``s`` the weighted SD); 95 % interval
  ``CV ± 1.96 SE`` (floored at 0).
* ``gap`` (a − b): SE ``sqrt(se_a^2 + se_b^2)``, exact for independent estimates. For two domains of
  one sample (urban and rural residents share PSUs) the covariance is not stored; it is usually
  positive, so ignoring it overstates the SE (conservative).

Domains whose estimate is suppressed (NCHS presentation standard) must be left out by the caller and
named beside the result (:class:`Domain` carries the flag; the functions here skip and report them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Domain:
    code: str
    estimate: float
    se: float
    suppressed: bool = False
    population: float | None = None


@dataclass(frozen=True)
class Measure:
    """A balance measure: value, SE and 95 % interval; ``used`` and ``excluded`` name the domains it
    was computed from and those left out (suppressed estimates, missing population)."""

    value: float
    se: float
    ci_low: float
    ci_high: float
    method: str  # "bootstrap" | "delta" | "exact"
    used: tuple[str, ...] = ()
    excluded: tuple[str, ...] = field(default=())


def _split(domains: Sequence[Domain], need_population: bool = False) -> tuple[list[Domain], tuple[str, ...]]:
    used: list[Domain] = []
    excluded: list[Domain] = []
    for d in domains:
        bad = d.suppressed or not (math.isfinite(d.estimate) and math.isfinite(d.se) and d.se >= 0)
        if need_population and not (d.population and d.population > 0):
            bad = True
        (excluded if bad else used).append(d)
    return used, tuple(d.code for d in excluded)


def spread(domains: Sequence[Domain], *, draws: int = 20000, seed: int = 20210) -> Measure | None:
    """max − min of the domains' estimates with a parametric-bootstrap SE and 95 % interval; None
    when fewer than two domains are usable."""
    used, excluded = _split(domains)
    if len(used) < 2:
        return None
    p = np.array([d.estimate for d in used])
    se = np.array([d.se for d in used])
    rng = np.random.default_rng(seed)
    sims = p + rng.standard_normal((draws, p.size)) * se
    ranges = sims.max(axis=1) - sims.min(axis=1)
    low, high = np.quantile(ranges, [0.025, 0.975])
    return Measure(float(p.max() - p.min()), float(ranges.std(ddof=1)), float(low), float(high), "bootstrap",
                   tuple(d.code for d in used), excluded)


def weighted_cv(domains: Sequence[Domain]) -> Measure | None:
    """Population-weighted coefficient of variation across domains, delta-method SE; None when fewer
    than two domains have an estimate and a population, or the weighted mean is not positive."""
    used, excluded = _split(domains, need_population=True)
    if len(used) < 2:
        return None
    p = np.array([d.estimate for d in used])
    se = np.array([d.se for d in used])
    w = np.array([float(d.population or 0) for d in used])
    w = w / w.sum()
    m = float(w @ p)
    if m <= 0:
        return None
    s = math.sqrt(float(w @ (p - m) ** 2))
    cv = s / m
    if s == 0:
        sd = 0.0  # all domains equal: the CV's gradient is undefined at its floor
    else:
        grad = w * (p - m) / (s * m) - s * w / m**2
        sd = math.sqrt(float(np.sum((grad * se) ** 2)))
    return Measure(cv, sd, max(0.0, cv - Z95 * sd), cv + Z95 * sd, "delta", tuple(d.code for d in used), excluded)


def gap(a: Domain, b: Domain) -> Measure | None:
    """a − b with the SE of a difference of independent estimates; None when either is suppressed."""
    used, excluded = _split([a, b])
    if len(used) < 2:
        return None
    d = a.estimate - b.estimate
    sd = math.hypot(a.se, b.se)
    return Measure(d, sd, d - Z95 * sd, d + Z95 * sd, "exact", (a.code, b.code), excluded)


def change(current: Measure, baseline: Measure) -> Measure:
    """current − baseline for a measure from two independent waves (independent samples), with a
    normal interval from the two SEs."""
    d = current.value - baseline.value
    sd = math.hypot(current.se, baseline.se)
    return Measure(d, sd, d - Z95 * sd, d + Z95 * sd, "exact", current.used, current.excluded)
