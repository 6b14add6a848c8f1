"""Statistics of rumour monitoring, as pure functions (numpy/scipy; no database).

Rising clusters (a stated rule, also in docs/rumours.md and on the monitoring page):
for each cluster of near-duplicate claims, take its daily report counts for the 28 days before
today. The baseline λ is their exponentially weighted moving average (EWMA, smoothing α = 0.2, the
most recent day weighted most), floored at 0.2 a day so that a cluster never seen before still has
a small expected rate. Today's count x is flagged as rising when x ≥ 5 and
P(X ≥ x | X ~ Poisson(λ)) < 0.001.

Response time: hours from a claim's first arrival to its published answer (median, 90th
percentile by linear interpolation, n)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

BASELINE_DAYS = 28
ALPHA = 0.2
BASELINE_FLOOR = 0.2
P_THRESHOLD = 0.001
MIN_COUNT = 5


def ewma(counts: Sequence[float], alpha: float = ALPHA) -> float:
    """EWMA of a series, oldest first; 0.0 for an empty series."""
    values = np.asarray(counts, dtype=float)
    if values.size == 0:
        return 0.0
    level = values[0]
    for v in values[1:]:
        level = alpha * v + (1 - alpha) * level
    return float(level)


@dataclass(frozen=True)
class RiseTest:
    observed: int
    baseline: float
    p_value: float
    rising: bool


def rise_test(history: Sequence[float], observed: int, *, alpha: float = ALPHA, floor: float = BASELINE_FLOOR,
              p_threshold: float = P_THRESHOLD, min_count: int = MIN_COUNT) -> RiseTest:
    """Today's count against the EWMA baseline of `history` (the previous days, oldest first)."""
    baseline = max(ewma(history[-BASELINE_DAYS:], alpha), floor)
    p = float(stats.poisson.sf(observed - 1, baseline)) if observed > 0 else 1.0
    return RiseTest(observed=int(observed), baseline=baseline, p_value=p,
                    rising=bool(observed >= min_count and p < p_threshold))


def daily_counts(days: Iterable[dt.date], *, end: dt.date, length: int) -> np.ndarray:
    """Counts per day for the `length` days ending with `end` (oldest first); other days ignored."""
    start = end - dt.timedelta(days=length - 1)
    out = np.zeros(length, dtype=int)
    for d in days:
        if start <= d <= end:
            out[(d - start).days] += 1
    return out


@dataclass(frozen=True)
class ResponseStats:
    n: int
    median: float | None
    p90: float | None


def response_stats(hours: Sequence[float]) -> ResponseStats:
    values = np.asarray([h for h in hours if h is not None and h >= 0], dtype=float)
    if values.size == 0:
        return ResponseStats(n=0, median=None, p90=None)
    return ResponseStats(n=int(values.size), median=float(np.median(values)),
                         p90=float(np.percentile(values, 90)))
