"""Benchmark: how often Kepu's 95 % confidence intervals cover the true value (simulation).

Builds one finite population (fixed seed) and draws --samples independent stratified two-stage samples from it:
  population  36 strata, 25–70 PSUs each (~1,800 PSUs, ~300,000 people); every PSU lies in one of 7 districts,
              and districts cut across strata (a stratum holds PSUs of several districts); the small district
              has 20 % of the PSUs of every third stratum, so it is a domain spread over about 10 sampled PSUs
              in about 7 strata (median), with few design degrees of freedom;
              each person has an age band (5, mix varying by PSU) and a sex; the 0/1 outcome (~20 %)
              depends on age band, sex and district and has a PSU random effect (logit scale, SD 0.5);
  sampling    stage 1: 2–6 PSUs per stratum (fixed per stratum), simple random sampling without replacement;
              stage 2: 20 people per sampled PSU, simple random sampling. Weights = (N_h / n_h) × (M_c / 20),
              unequal through the strata's sampling fractions and the PSU sizes;
  raking      to the population counts by district, age band and sex (three margins; kepu.stats.raking.rake,
              its default variance="calibrate").
For every sample it estimates the overall proportion and that of the small district, unraked and raked, with
variance `taylor` (linearisation, kepu.stats.survey) and `jkn` (delete-one-PSU jackknife within strata, every
replicate re-raked; kepu.stats.replicate), and records whether the Wald, logit and Korn–Graubard 95 % CIs
contain the true finite-population proportion, whether the NCHS presentation standard
(kepu.stats.presentation.assess) suppresses the estimate or flags review_df, and the design degrees of freedom.
It prints the coverage with its Monte-Carlo error (binomial SE, sqrt(c (1 - c) / samples)) beside each figure.
Goal (issue 7): 95 ± 1.5 % for the overall raked estimate with jkn.
Run: .venv/bin/python bench/bench_coverage.py [--samples 1000] [--seed 7] [--workers 2]"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from kepu.stats import presentation, replicate, survey
from kepu.stats.raking import Margin, rake

LEVEL = 0.95
CIS = ("wald", "logit", "kg")
CI_LABELS = {"wald": "Wald", "logit": "logit", "kg": "Korn–Graubard"}
CI_FIELDS = {
    "wald": ("ci_low", "ci_high"),
    "logit": ("ci_logit_low", "ci_logit_high"),
    "kg": ("ci_kg_low", "ci_kg_high"),
}
VARIANCES = ("taylor", "jkn")
WEIGHTINGS = ("unraked", "raked")
DOMAINS = ("overall", "district")
RAKE_MARGINS = ("district", "age_band", "sex")
AGE_SHARES = (0.20, 0.22, 0.22, 0.20, 0.16)
DISTRICT_SHARES = (0.12, 0.14, 0.16, 0.17, 0.19, 0.22)  # of the PSUs of districts 2..7
SMALL_DISTRICT = 1  # the small domain: 20 % of the PSUs of every third stratum, none elsewhere
SMALL_SHARE, SMALL_EVERY = 0.20, 3


@dataclass(frozen=True)
class Config:
    strata: int = 36
    pop_psus: tuple[int, int] = (25, 70)  # PSUs per stratum in the population (inclusive range)
    sample_psus: tuple[int, int] = (2, 6)  # PSUs drawn per stratum
    psu_size: float = 150.0  # median PSU size (people); sizes are log-normal, at least `take`
    take: int = 20  # people drawn per sampled PSU
    psu_sd: float = 0.5  # SD of the PSU random effect on the logit scale
    prevalence: float = 0.20


@dataclass(frozen=True, eq=False)
class Population:
    """People sorted by PSU (PSU ``c`` holds rows ``start[c]:start[c] + size[c]``) and the design facts."""

    psu_stratum: NDArray[np.int64]
    psu_district: NDArray[np.int64]
    start: NDArray[np.int64]
    size: NDArray[np.int64]
    stratum_psus: tuple[NDArray[np.int64], ...]  # the PSUs of each stratum
    n_draw: NDArray[np.int64]  # PSUs drawn per stratum
    age_band: NDArray[np.int64]
    sex: NDArray[np.int64]
    y: NDArray[np.int64]
    margins: dict[str, dict[str, float]]
    truth: dict[str, float]  # finite-population proportion, overall and in the small district
    take: int


def _logit_intercept(lp: NDArray[np.float64], target: float) -> float:
    """The intercept ``a`` with ``mean(expit(a + lp)) == target`` (bisection)."""
    lo, hi = -12.0, 12.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(np.mean(1 / (1 + np.exp(-(mid + lp))))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def make_population(cfg: Config, seed: int) -> Population:
    rng = np.random.default_rng([seed, 0])
    n_psu_h = rng.integers(cfg.pop_psus[0], cfg.pop_psus[1] + 1, cfg.strata)
    n_draw = rng.integers(cfg.sample_psus[0], cfg.sample_psus[1] + 1, cfg.strata)
    psu_stratum = np.repeat(np.arange(1, cfg.strata + 1), n_psu_h)
    n_psu = psu_stratum.size
    psu_district = rng.choice(np.arange(2, len(DISTRICT_SHARES) + 2), size=n_psu, p=DISTRICT_SHARES)
    home = (psu_stratum % SMALL_EVERY == 1) & (rng.random(n_psu) < SMALL_SHARE)
    psu_district[home] = SMALL_DISTRICT
    size = np.maximum(np.rint(cfg.psu_size * rng.lognormal(0, 0.5, n_psu)), cfg.take).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(size)[:-1])).astype(np.int64)
    psu_of = np.repeat(np.arange(n_psu), size)
    n = psu_of.size
    # The age mix varies by PSU (older and younger neighbourhoods), so raking to age moves the weights.
    age_mix = rng.dirichlet(np.array(AGE_SHARES) * 20, n_psu)
    u = rng.random(n)
    age_band = (u[:, None] > np.cumsum(age_mix, axis=1)[psu_of][:, :-1]).sum(axis=1).astype(np.int64) + 1
    sex = rng.integers(1, 3, n)
    district_effect = np.linspace(-0.45, 0.45, len(DISTRICT_SHARES) + 1)[psu_district - 1]
    lp = (
        -0.35 * (age_band - 3)
        + 0.15 * (sex == 1)
        + district_effect[psu_of]
        + rng.normal(0, cfg.psu_sd, n_psu)[psu_of]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(_logit_intercept(lp, cfg.prevalence) + lp)))).astype(np.int64)
    district = psu_district[psu_of]
    margins = {
        name: {str(k): float(np.sum(values == k)) for k in np.unique(values)}
        for name, values in (("district", district), ("age_band", age_band), ("sex", sex))
    }
    return Population(
        psu_stratum=psu_stratum,
        psu_district=psu_district,
        start=start,
        size=size,
        stratum_psus=tuple(np.flatnonzero(psu_stratum == h) for h in range(1, cfg.strata + 1)),
        n_draw=n_draw,
        age_band=age_band,
        sex=sex,
        y=y,
        margins=margins,
        truth={"overall": float(y.mean()), "district": float(y[district == SMALL_DISTRICT].mean())},
        take=cfg.take,
    )


def draw_sample(pop: Population, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
    """One stratified two-stage sample: SRS of PSUs within strata, then SRS of ``take`` people per PSU."""
    rows: list[NDArray[np.int64]] = []
    psus: list[int] = []
    weights: list[float] = []
    for psus_h, n_h in zip(pop.stratum_psus, pop.n_draw, strict=True):
        for c in rng.choice(psus_h, size=int(n_h), replace=False):
            rows.append(pop.start[c] + rng.choice(pop.size[c], size=pop.take, replace=False))
            psus.append(int(c))
            weights.append(psus_h.size / n_h * pop.size[c] / pop.take)
    idx = np.concatenate(rows)
    psu = np.repeat(np.array(psus), pop.take)
    return {
        "stratum": pop.psu_stratum[psu],
        "psu": psu,
        "w": np.repeat(np.array(weights), pop.take),
        "y": pop.y[idx],
        "district": pop.psu_district[psu],
        "age_band": pop.age_band[idx],
        "sex": pop.sex[idx],
    }


# ---------------------------------------------------------------------------------------------------------------
# Estimation: (overall, small district) estimates for one sample, one variance method and weighting


def _margins(sample: dict[str, NDArray[Any]], pop: Population) -> list[Margin]:
    return [Margin(m, sample[m], pop.margins[m]) for m in RAKE_MARGINS]


class Estimator(Protocol):
    def mean(self, y: NDArray[Any], *, domain: NDArray[np.bool_] | None = None) -> survey.Estimate: ...


def _taylor(sample: dict[str, NDArray[Any]], pop: Population, raked: bool) -> Estimator:
    design = survey.Design.from_arrays(strata=sample["stratum"], psu=sample["psu"], weights=sample["w"])
    return rake(design, _margins(sample, pop)).design if raked else design


def _jkn(sample: dict[str, NDArray[Any]], pop: Population, raked: bool) -> Estimator:
    design = survey.Design.from_arrays(strata=sample["stratum"], psu=sample["psu"], weights=sample["w"])
    return replicate.jackknife(design, _margins(sample, pop) if raked else ())


ESTIMATORS: dict[str, Callable[[dict[str, NDArray[Any]], Population, bool], Estimator]]
ESTIMATORS = {"taylor": _taylor, "jkn": _jkn}


def _assess(e: survey.Estimate) -> tuple[bool, bool, tuple[str, ...]]:
    """(suppressed, review_df, flags) by the NCHS presentation standard."""
    p = presentation.assess(e)
    return not p.presentable, presentation.REVIEW_DF in p.flags, p.flags


# ---------------------------------------------------------------------------------------------------------------
# One sample → records; many samples → summary


@dataclass
class Tally:
    """Results of one (variance, weighting, domain) cell over the samples."""

    covered: dict[str, list[bool]] = field(default_factory=lambda: {c: [] for c in CIS})
    undefined: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CIS, 0))
    estimates: list[float] = field(default_factory=list)
    ses: list[float] = field(default_factory=list)
    dfs: list[int] = field(default_factory=list)
    suppressed: list[bool] = field(default_factory=list)
    review_df: list[bool] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)  # how often each suppress_* flag was set
    covered_shown: list[bool] = field(default_factory=list)  # Korn–Graubard coverage of the estimates shown
    failed: int = 0
    first_error: str = ""


Key = tuple[str, str, str]  # (variance, weighting, domain)
Record = tuple[Key, dict[str, Any]]


def evaluate(pop: Population, seed: int, index: int, variances: tuple[str, ...]) -> list[Record]:
    """Draw sample ``index`` (its own random stream, so results do not depend on the number of workers) and
    score every estimate of it against the population's true values."""
    sample = draw_sample(pop, np.random.default_rng([seed, 1, index]))
    in_domain = sample["district"] == SMALL_DISTRICT
    out: list[Record] = []
    for variance in variances:
        for weighting in WEIGHTINGS:
            try:
                estimator = ESTIMATORS[variance](sample, pop, weighting == "raked")
            except survey.SurveyError as exc:  # e.g. raking that cannot converge: counted, not fatal
                out.extend(((variance, weighting, d), {"error": str(exc)}) for d in DOMAINS)
                continue
            for domain in DOMAINS:
                try:
                    e = estimator.mean(sample["y"], domain=None if domain == "overall" else in_domain)
                except survey.SurveyError as exc:  # e.g. no respondent of the small district in this sample
                    out.append(((variance, weighting, domain), {"error": str(exc)}))
                    continue
                truth = pop.truth[domain]
                covered: dict[str, bool | None] = {}
                for ci, (lo_name, hi_name) in CI_FIELDS.items():
                    lo, hi = getattr(e, lo_name, math.nan), getattr(e, hi_name, math.nan)
                    covered[ci] = bool(lo <= truth <= hi) if math.isfinite(lo) and math.isfinite(hi) else None
                suppressed, review, flags = _assess(e)
                out.append(
                    (
                        (variance, weighting, domain),
                        {
                            "covered": covered,
                            "estimate": e.estimate,
                            "se": e.se,
                            "df": e.df,
                            "suppressed": suppressed,
                            "review_df": review,
                            "reasons": [f for f in flags if f.startswith("suppress_")],
                        },
                    )
                )
    return out


def tally(records: Iterator[Record]) -> dict[Key, Tally]:
    cells: dict[Key, Tally] = {}
    for key, rec in records:
        t = cells.setdefault(key, Tally())
        if "error" in rec:
            t.failed += 1
            t.first_error = t.first_error or rec["error"]
            continue
        for ci, ok in rec["covered"].items():
            if ok is None:
                t.undefined[ci] += 1
            else:
                t.covered[ci].append(ok)
        t.estimates.append(rec["estimate"])
        t.ses.append(rec["se"])
        t.dfs.append(rec["df"])
        t.suppressed.append(rec["suppressed"])
        t.review_df.append(rec["review_df"])
        if not rec["suppressed"] and rec["covered"]["kg"] is not None:
            t.covered_shown.append(rec["covered"]["kg"])
        for reason in rec["reasons"]:
            t.reasons[reason] = t.reasons.get(reason, 0) + 1
    return cells


def share(flags: list[bool]) -> tuple[float, float]:
    """The share of True and its Monte-Carlo (binomial) standard error."""
    if not flags:
        return math.nan, math.nan
    c = sum(flags) / len(flags)
    return c, math.sqrt(c * (1 - c) / len(flags))


def fmt_share(flags: list[bool]) -> str:
    c, se = share(flags)
    return "n/a" if math.isnan(c) else f"{100 * c:5.1f} ±{100 * se:4.1f}"


# ---------------------------------------------------------------------------------------------------------------
# Driver

_POP: Population | None = None


def _init_worker(pop: Population) -> None:
    global _POP
    _POP = pop


def _evaluate_in_worker(args: tuple[int, int, tuple[str, ...]]) -> list[Record]:
    assert _POP is not None
    seed, index, variances = args
    return evaluate(_POP, seed, index, variances)


def simulate(
    pop: Population, *, samples: int, seed: int, workers: int, variances: tuple[str, ...]
) -> dict[Key, Tally]:
    jobs = [(seed, i, variances) for i in range(samples)]
    if workers <= 1:
        return tally(rec for job in jobs for rec in evaluate(pop, *job))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("fork"), initializer=_init_worker, initargs=(pop,)
    ) as pool:
        results = pool.map(_evaluate_in_worker, jobs, chunksize=max(1, samples // (8 * workers)))
        return tally(rec for recs in results for rec in recs)


def describe(pop: Population, cfg: Config, seed: int) -> str:
    n_psu = pop.psu_stratum.size
    small = np.flatnonzero(pop.psu_district == SMALL_DISTRICT)
    per_stratum = np.array([p.size for p in pop.stratum_psus])
    expected_small = float(np.sum(pop.n_draw * np.bincount(pop.psu_stratum[small], minlength=cfg.strata + 1)[1:]
                                  / per_stratum))
    return (
        f"Population (seed {seed}): {pop.y.size:,} people in {n_psu:,} PSUs, {cfg.strata} strata, "
        f"{len(DISTRICT_SHARES) + 1} districts; true proportion {pop.truth['overall']:.4f} overall, "
        f"{pop.truth['district']:.4f} in district {SMALL_DISTRICT} ({small.size} PSUs, "
        f"{np.unique(pop.psu_stratum[small]).size} strata)\n"
        f"Sample: {int(pop.n_draw.sum())} PSUs ({cfg.sample_psus[0]}–{cfg.sample_psus[1]} per stratum) × {cfg.take} "
        f"people = {int(pop.n_draw.sum()) * cfg.take:,}; district {SMALL_DISTRICT} gets {expected_small:.1f} PSUs on "
        f"average; PSU effect SD {cfg.psu_sd} (logit); raking to {', '.join(RAKE_MARGINS)}"
    )


def _label(domain: str) -> str:
    return "overall" if domain == "overall" else f"district{SMALL_DISTRICT}"


def report(cells: dict[Key, Tally], samples: int) -> str:
    head = (
        f"{'variance':<8} {'weights':<8} {'domain':<9} "
        + " ".join(f"{CI_LABELS[c]:>13}" for c in CIS)
        + f" {'CI n/a':>7} {'SE/SD':>5} {'suppressed':>11} {'KG if shown':>13} {'review_df':>11} {'median df':>9}"
    )
    lines = [f"Coverage of the 95 % CIs, in % ± Monte-Carlo SE, over {samples} samples", head, "-" * len(head)]
    for key in sorted(cells, key=lambda k: (VARIANCES.index(k[0]), WEIGHTINGS.index(k[1]), DOMAINS.index(k[2]))):
        t = cells[key]
        variance, weighting, domain = key
        sd = statistics.stdev(t.estimates) if len(t.estimates) > 1 else math.nan
        ratio = math.sqrt(statistics.fmean(se * se for se in t.ses)) / sd if sd > 0 else math.nan
        lines.append(
            f"{variance:<8} {weighting:<8} {_label(domain):<9} "
            + " ".join(f"{fmt_share(t.covered[c]):>13}" for c in CIS)
            + f" {max(t.undefined.values()):7d} {ratio:5.2f} {fmt_share(t.suppressed):>11}"
            + f" {fmt_share(t.covered_shown):>13} {fmt_share(t.review_df):>11}"
            + f" {statistics.median(t.dfs) if t.dfs else math.nan:9.1f}"
            + (f"  ({t.failed} samples failed: {t.first_error})" if t.failed else "")
        )
    lines += [
        "CI n/a: samples whose logit / Korn–Graubard interval is undefined (no design degrees of freedom); they are",
        "left out of those shares. SE/SD: root mean square of the estimated SEs ÷ standard deviation of the estimates",
        "over the samples (1 = the variance estimator is right on average). suppressed / review_df: share of the",
        "estimates that the NCHS standard (kepu.stats.presentation) suppresses / flags with review_df (df < 8).",
        "KG if shown: Korn–Graubard coverage of the estimates the standard does not suppress.",
    ]
    for key in sorted(cells, key=lambda k: (VARIANCES.index(k[0]), WEIGHTINGS.index(k[1]), DOMAINS.index(k[2]))):
        t = cells[key]
        if t.reasons:
            n = len(t.suppressed)
            why = ", ".join(f"{r} {100 * c / n:.1f} %" for r, c in sorted(t.reasons.items(), key=lambda rc: -rc[1]))
            lines.append(f"Why suppressed ({key[0]}, {key[1]}, {_label(key[2])}; several reasons may apply): {why}")
    goal = cells.get(("jkn", "raked", "overall"))
    if goal is not None:
        for ci in CIS:
            c, se = share(goal.covered[ci])
            verdict = "met" if abs(c - LEVEL) <= 0.015 else "NOT met"
            lines.append(
                f"Goal 95 ± 1.5 % (jkn, raked, overall), {CI_LABELS[ci]}: {100 * c:.1f} ± {100 * se:.1f} % — {verdict}"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000, help="number of simulated samples (default 1000)")
    ap.add_argument("--seed", type=int, default=7, help="seed of the population and the samples (default 7)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes, at most 2 (default 2)")
    args = ap.parse_args()
    if args.samples < 2:
        raise SystemExit("--samples must be at least 2")
    workers = max(1, min(2, args.workers, os.cpu_count() or 1))
    cfg = Config()
    t0 = time.perf_counter()
    pop = make_population(cfg, args.seed)
    print(describe(pop, cfg, args.seed))
    cells = simulate(pop, samples=args.samples, seed=args.seed, workers=workers, variances=VARIANCES)
    print(report(cells, args.samples))
    print(f"Ran in {time.perf_counter() - t0:.0f} s on {workers} worker(s).")


if __name__ == "__main__":
    main()
