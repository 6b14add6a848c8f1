"""The NCHS presentation standard for proportions (kepu.stats.presentation.assess), each rule at its boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kepu.stats.presentation import Presentation, assess, effective_n
from kepu.stats.survey import Design, Estimate


def est(
    p: float = 0.4,
    low: float = 0.38,
    high: float = 0.42,
    *,
    n: int = 500,
    n_eff: float = 400.0,
    df: int = 30,
) -> Estimate:
    """A proportion with the fields the rule reads; by default it passes every rule (width 0.04)."""
    return Estimate(
        n=n,
        estimate=p,
        se=0.01,
        ci_low=math.nan,
        ci_high=math.nan,
        ci_logit_low=math.nan,
        ci_logit_high=math.nan,
        deff=math.nan,
        df=df,
        ci_kg_low=low,
        ci_kg_high=high,
        n_eff=n_eff,
    )


def test_a_precise_estimate_is_presentable_without_flags() -> None:
    assert assess(est()) == Presentation(presentable=True, flags=())


@pytest.mark.parametrize(("n", "flags"), [(29, ("suppress_n", "suppress_n_eff")), (30, ())])
def test_sample_size_boundary(n: int, flags: tuple[str, ...]) -> None:
    got = assess(est(n=n, n_eff=1000.0))  # n_eff is capped at n, so n = 29 is also n_eff = 29
    assert got.flags == flags
    assert got.presentable is (not flags)


@pytest.mark.parametrize(("n_eff", "presentable"), [(29.999, False), (30.0, True)])
def test_effective_sample_size_boundary(n_eff: float, presentable: bool) -> None:
    got = assess(est(n_eff=n_eff))
    assert got.presentable is presentable
    assert got.flags == (() if presentable else ("suppress_n_eff",))


def test_effective_n_is_capped_at_n() -> None:
    assert effective_n(est(n=40, n_eff=90.0)) == 40.0
    assert effective_n(est(n=40, n_eff=35.5)) == 35.5
    assert math.isnan(effective_n(est(n_eff=math.nan)))


@pytest.mark.parametrize(
    ("low", "high", "flags"),
    [
        (0.30, 0.60, ("suppress_width",)),  # width exactly 0.30: suppressed
        (0.30, 0.5999, ()),  # just under
    ],
)
def test_absolute_width_boundary(low: float, high: float, flags: tuple[str, ...]) -> None:
    got = assess(est(p=0.45, low=low, high=high))
    assert got.flags == flags
    assert got.presentable is (not flags)


@pytest.mark.parametrize(
    ("p", "high", "flags"),
    [
        (0.125, 0.1625, ()),  # relative width exactly 130 %: shown (the rule is "> 130 %")
        (0.125, 0.1626, ("suppress_relative_width",)),  # just over
        (0.03, 0.05, ()),  # width exactly 0.05: no relative check although 0.05 / 0.03 = 167 %
        (0.03, 0.0501, ("suppress_relative_width",)),  # width just over 0.05: checked, and fails
    ],
)
def test_relative_width_boundary(p: float, high: float, flags: tuple[str, ...]) -> None:
    got = assess(est(p=p, low=0.0, high=high))
    assert got.flags == flags
    assert got.presentable is (not flags)


def test_wide_and_relatively_wide_lists_both_reasons() -> None:
    got = assess(est(p=0.1, low=0.0, high=0.35))
    assert got.flags == ("suppress_width", "suppress_relative_width")
    assert got.suppressed


@pytest.mark.parametrize(
    ("p", "low", "high", "flags"),
    [
        (0.875, 0.8375, 1.0, ()),  # width 0.1625 = 130 % of the complement 0.125: not over
        (0.875, 0.8374, 1.0, ("review_complement",)),  # over: shown, flagged for review
        (0.99, 0.97, 1.0, ()),  # width 0.03 <= 0.05: no complement check
    ],
)
def test_complement_relative_width_is_a_review_flag(p: float, low: float, high: float, flags: tuple[str, ...]) -> None:
    got = assess(est(p=p, low=low, high=high))
    assert got.flags == flags
    assert got.presentable


@pytest.mark.parametrize(("df", "flags"), [(7, ("review_df",)), (8, ())])
def test_degrees_of_freedom_boundary(df: int, flags: tuple[str, ...]) -> None:
    got = assess(est(df=df))
    assert got.flags == flags
    assert got.presentable  # a review flag does not suppress


def test_review_df_is_reported_on_suppressed_estimates_too() -> None:
    got = assess(est(n=10, n_eff=10.0, df=2))
    assert got.flags == ("suppress_n", "suppress_n_eff", "review_df")
    assert not got.presentable


@pytest.mark.parametrize(("p", "low", "high"), [(0.0, 0.0, 0.07), (1.0, 0.93, 1.0)])
def test_zero_or_one_skips_the_width_rules_and_is_flagged(p: float, low: float, high: float) -> None:
    got = assess(est(p=p, low=low, high=high, n=50, n_eff=50.0))
    assert got == Presentation(presentable=True, flags=("review_p_0_or_1",))
    small = assess(est(p=p, low=low, high=high, n=20, n_eff=20.0))
    assert small.flags == ("suppress_n", "suppress_n_eff", "review_p_0_or_1")
    assert not small.presentable


def test_an_estimate_without_an_interval_is_suppressed() -> None:
    got = assess(est(low=math.nan, high=math.nan, n_eff=math.nan, df=0))
    assert got.flags == ("suppress_ci_undefined", "review_df")
    assert not got.presentable


def test_real_design_estimates() -> None:
    # 40 PSUs of 25 respondents in 20 strata, equal weights; a domain of 20 respondents is suppressed on n.
    rng = np.random.default_rng(7)
    n = 1000
    strata = np.repeat(np.arange(20), 50)
    psu = np.repeat(np.arange(40), 25)
    y = (rng.random(n) < 0.3).astype(float)
    small = np.zeros(n, dtype=bool)
    small[:20] = True
    design = Design.from_arrays(strata=strata, psu=psu, weights=np.full(n, 3.0))
    overall = design.mean(y)
    assert 0 < overall.ci_kg_low < overall.estimate < overall.ci_kg_high < 1
    assert assess(overall).presentable
    part = design.mean(y, domain=small)
    got = assess(part)
    assert not got.presentable and got.flags[0] == "suppress_n"
    assert "review_df" in got.flags  # the 20 respondents are in one stratum (one PSU): df 0
