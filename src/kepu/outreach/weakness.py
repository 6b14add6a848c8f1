"""Measured weak spots: which literacy dimensions a citizen (or a group) is weakest in.

The evidence, best first:
1. the citizen's own latest self-test, only with their consent "selftest_link"
   (`kepu.citizens.selectors.selftest_dimensions`);
2. their group in the latest published survey wave: the weighted share of points earned per
   dimension among respondents of the citizen's key group and district, widened to the key group,
   then the district, while a cell has fewer than `MIN_RESPONDENTS` respondents;
3. the city as a whole in that wave.

A wave stores its published estimates by domain but not per dimension, so the per-dimension shares
are computed here from the respondents' earned/possible points and their final weights. The sums
per (key group, district, age band) cell are cached per wave; any wider group is a sum of cells.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache

from kepu.literacy.models import DIMENSIONS, Respondent, Wave

if TYPE_CHECKING:
    from kepu.citizens.models import Citizen

# A group estimate from fewer respondents than this is too noisy to steer content: widen the group.
MIN_RESPONDENTS = 30
_CACHE_SECONDS = 24 * 3600

Cell = tuple[str, str, str]  # (key group, district code, age band)


@dataclass(frozen=True)
class CellSums:
    n: int
    earned: dict[str, float]  # dimension -> weighted points earned
    possible: dict[str, float]  # dimension -> weighted points possible


def latest_wave() -> Wave | None:
    return Wave.objects.filter(published_at__isnull=False).order_by("-published_at", "-pk").first()


def _compute_cells(wave: Wave) -> dict[Cell, CellSums]:
    n: dict[Cell, int] = defaultdict(int)
    earned: dict[Cell, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    possible: dict[Cell, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = (
        Respondent.objects.filter(wave=wave, sample=Respondent.Sample.PROBABILITY)
        .values_list("key_group", "district__code", "age_band", "weight", "base_weight", "earned", "possible")
        .iterator(chunk_size=2000)
    )
    for key_group, district, band, weight, base_weight, got, of in rows:
        w = weight if weight is not None else base_weight
        cell = (key_group or "", district or "", band or "")
        n[cell] += 1
        for dim in DIMENSIONS:
            if (of or {}).get(dim):
                earned[cell][dim] += w * float((got or {}).get(dim, 0.0))
                possible[cell][dim] += w * float(of[dim])
    return {c: CellSums(n[c], dict(earned[c]), dict(possible[c])) for c in n}


def wave_cells(wave: Wave) -> dict[Cell, CellSums]:
    """The wave's weighted sums per cell, cached per wave and publication (a re-weighted,
    re-published wave gets a new key)."""
    stamp = wave.published_at.timestamp() if wave.published_at else 0
    key = f"outreach:weak-cells:{wave.pk}:{stamp}"
    cells: dict[Cell, CellSums] | None = cache.get(key)
    if cells is None:
        cells = _compute_cells(wave)
        cache.set(key, cells, _CACHE_SECONDS)
    return cells


def group_shares(
    cells: dict[Cell, CellSums],
    *,
    key_groups: Iterable[str] = (),
    districts: Iterable[str] = (),
    age_bands: Iterable[str] = (),
) -> tuple[int, dict[str, float]]:
    """(respondents, dimension -> weighted share of points earned) for the group; an empty filter
    means "any"."""
    kgs, ds, bands = set(key_groups), set(districts), set(age_bands)
    n = 0
    earned: dict[str, float] = defaultdict(float)
    possible: dict[str, float] = defaultdict(float)
    for (kg, d, band), s in cells.items():
        if (kgs and kg not in kgs) or (ds and d not in ds) or (bands and band not in bands):
            continue
        n += s.n
        for dim, v in s.earned.items():
            earned[dim] += v
        for dim, v in s.possible.items():
            possible[dim] += v
    return n, {dim: earned[dim] / possible[dim] for dim in DIMENSIONS if possible.get(dim)}


def order_weakest(shares: dict[str, float]) -> list[str]:
    """Dimensions weakest first; ties keep the dimensions' canonical order."""
    return sorted(shares, key=lambda d: (shares[d], DIMENSIONS.index(d) if d in DIMENSIONS else 99))


def _group_candidates(citizen: Citizen | None) -> list[dict[str, Any]]:
    if citizen is None:
        return [{}]
    kgs = [g for g in (citizen.key_groups or []) if g]
    district = citizen.district.code if citizen.district_id else ""  # type: ignore[union-attr]
    out: list[dict[str, Any]] = []
    if kgs and district:
        out.append({"key_groups": kgs, "districts": [district]})
    if kgs:
        out.append({"key_groups": kgs})
    if district:
        out.append({"districts": [district]})
    out.append({})
    return out


def group_weak_dimensions(citizen: Citizen | None, wave: Wave | None = None) -> list[str]:
    """Weakest dimensions of the citizen's group (or the city's, for None) in the latest wave."""
    wave = wave or latest_wave()
    if wave is None:
        return []
    cells = wave_cells(wave)
    for filters in _group_candidates(citizen):
        n, shares = group_shares(cells, **filters)
        if shares and (n >= MIN_RESPONDENTS or not filters):
            return order_weakest(shares)
    return []


def weak_dimensions(citizen: Citizen | None) -> list[str]:
    """Literacy dimension codes, weakest first; [] when there is no evidence at all (no consented
    self-test and no published wave)."""
    if citizen is not None:
        from kepu.citizens.selectors import selftest_dimensions

        own = selftest_dimensions(citizen)
        if own:
            return order_weakest(own)
    return group_weak_dimensions(citizen)
