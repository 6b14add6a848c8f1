"""Whether an estimated proportion may be shown: the NCHS presentation standard for proportions.

Reference: Parker JD, Talih M, Malec DJ, et al. *National Center for Health Statistics Data Presentation
Standards for Proportions.* Vital Health Stat 2(175), 2017 (https://www.cdc.gov/nchs/data/series/sr_02/sr02_175.pdf).
The steps below are the standard's, applied to a :class:`kepu.stats.survey.Estimate` of a 0/1 outcome whose
Korn–Graubard interval (``ci_kg_low``/``ci_kg_high``, 95 %) is R's ``svyciprop(method="beta")``:

1. Sample size: suppress when the domain's sample size ``n`` is under 30 (``suppress_n``) or its effective sample
   size is under 30 (``suppress_n_eff``). The effective sample size is the design-based ``p (1 - p) / var``,
   capped at ``n`` (the standard sets it to ``n`` when the design effect is below 1) and equal to ``n`` when
   ``p`` is 0 or 1 (no variance to divide by).
2. Absolute width ``w = ci_kg_high - ci_kg_low``: suppress when ``w >= 0.30`` (``suppress_width``); an interval
   of width ``<= 0.05`` is shown without the relative check.
3. Relative width: when ``w > 0.05``, suppress when ``w / p > 1.30`` (``suppress_relative_width``). A shown
   estimate whose complement has a relative width ``w / (1 - p)`` over 1.30 is flagged ``review_complement``.
4. Degrees of freedom: flag ``review_df`` when the design df are under 8.
5. A proportion of exactly 0 or 1 has no sampling variance; the width steps (2, 3) do not apply, it is shown
   when step 1 passes and flagged ``review_p_0_or_1``.

Kepu adds one rule: an estimate without a Korn–Graubard interval (no degrees of freedom, an undefined variance,
or not a proportion) cannot be judged and is suppressed (``suppress_ci_undefined``).

``flags`` lists every rule the estimate trips, in the order above; ``presentable`` is False exactly when one of
them is a ``suppress_*`` flag. ``review_*`` flags mark an estimate that is shown but deserves a footnote. The
steps follow the standard as implemented by NCHS's own R package ``surveytable`` (``.lpe_percents``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kepu.stats.survey import Estimate

MIN_N = 30
MIN_N_EFF = 30.0
MAX_WIDTH = 0.30  # suppress at or above
SMALL_WIDTH = 0.05  # at or below: shown without the relative-width check
MAX_RELATIVE_WIDTH = 1.30  # suppress above (when the width exceeds SMALL_WIDTH)
MIN_DF = 8  # review below

SUPPRESS_N = "suppress_n"
SUPPRESS_N_EFF = "suppress_n_eff"
SUPPRESS_WIDTH = "suppress_width"
SUPPRESS_RELATIVE_WIDTH = "suppress_relative_width"
SUPPRESS_CI_UNDEFINED = "suppress_ci_undefined"
REVIEW_COMPLEMENT = "review_complement"
REVIEW_DF = "review_df"
REVIEW_P_0_OR_1 = "review_p_0_or_1"


@dataclass(frozen=True)
class Presentation:
    presentable: bool
    flags: tuple[str, ...]

    @property
    def suppressed(self) -> bool:
        return not self.presentable


def effective_n(e: Estimate) -> float:
    """The standard's effective sample size: ``e.n_eff`` capped at ``e.n`` (NaN when undefined)."""
    return min(e.n_eff, float(e.n)) if math.isfinite(e.n_eff) else math.nan


def assess(e: Estimate) -> Presentation:
    """Apply the NCHS standard (see the module docstring) to one estimated proportion."""
    flags: list[str] = []
    n_eff = effective_n(e)
    if e.n < MIN_N:
        flags.append(SUPPRESS_N)
    if n_eff < MIN_N_EFF:
        flags.append(SUPPRESS_N_EFF)
    p, low, high = e.estimate, e.ci_kg_low, e.ci_kg_high
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(n_eff)):
        flags.append(SUPPRESS_CI_UNDEFINED)
    elif p in (0.0, 1.0):
        flags.append(REVIEW_P_0_OR_1)
    else:
        width = high - low
        if width >= MAX_WIDTH:
            flags.append(SUPPRESS_WIDTH)
        if width > SMALL_WIDTH and width / p > MAX_RELATIVE_WIDTH:
            flags.append(SUPPRESS_RELATIVE_WIDTH)
        shown = not any(f.startswith("suppress_") for f in flags)
        if shown and width > SMALL_WIDTH and width / (1.0 - p) > MAX_RELATIVE_WIDTH:
            flags.append(REVIEW_COMPLEMENT)
    if e.df < MIN_DF:
        flags.append(REVIEW_DF)
    presentable = not any(f.startswith("suppress_") for f in flags)
    return Presentation(presentable=presentable, flags=tuple(flags))
