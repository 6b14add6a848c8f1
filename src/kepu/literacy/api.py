"""The literacy router, read-only: survey waves (design, fieldwork, status), their estimates and item
statistics. What a user gets is what the wave page shows them, decided by the same selectors: a
district user sees only their own district's figures, suppressed cells keep their figures withheld,
and item statistics (never item content or answer keys) go only to those who see the region's results."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router

from kepu.literacy import selectors
from kepu.literacy.models import Wave, WaveEstimate
from kepu.literacy.schemas import ItemStatsOut, WaveCode, WaveEstimatesOut, WaveOut, WavePage
from kepu.plans.schemas import UnitCode, Year

router = Router(tags=["literacy"])

# Figures a suppressed cell withholds: with them, a reader could print what the page shows as "—".
WITHHELD = ("estimate", "se", "ci_low", "ci_high", "ci_logit_low", "ci_logit_high", "deff", "ci_kg_low", "ci_kg_high")
WEIGHTING_FIELDS = ("margins", "converged", "iterations", "kish_deff", "trimmed")


def _wave(request: HttpRequest, code: str) -> Wave:
    wave = next((w for w in selectors.waves_readable(request.user) if w.code == code), None)
    if wave is None:
        raise Http404(f"No survey wave {code!r} in your scope.")
    return wave


def _status(wave: Wave) -> str:
    if wave.published_at is not None:
        return "published"
    return "estimated" if wave.estimates.exists() else "imported"


def _wave_out(wave: Wave) -> dict[str, Any]:
    weighting = wave.weighting or {}
    return {
        "code": wave.code,
        "name_zh": wave.name_zh,
        "name_en": wave.name_en,
        "year": wave.year,
        "region": wave.region.code,
        "mode": wave.mode,
        "fieldwork_start": wave.fieldwork_start,
        "fieldwork_end": wave.fieldwork_end,
        "design": wave.design or {},
        "profile": wave.profile.code,
        "age_min": wave.age_min,
        "age_max": wave.age_max,
        "lonely_psu": wave.lonely_psu,
        "variance": wave.variance,
        "weighting": {f: weighting.get(f) for f in WEIGHTING_FIELDS} if weighting else None,
        "status": _status(wave),
        "published_at": wave.published_at,
    }


def _estimate_out(e: WaveEstimate) -> dict[str, Any]:
    out = {
        "variable": e.variable,
        "level": e.level,
        "unit": e.unit or None,
        "method": e.method,
        "n": e.n,
        **{f: getattr(e, f) for f in WITHHELD},
        "ci_kg_low": e.ci_kg_low,
        "ci_kg_high": e.ci_kg_high,
        "df": e.df,
        "n_eff": e.n_eff,
        "flags": list(e.flags or []),
        "presentable": not e.suppressed,
    }
    if e.suppressed:
        out.update(dict.fromkeys(WITHHELD))
    return out


@router.get("/literacy/waves", response=WavePage)
def waves_list(
    request: HttpRequest,
    year: Year | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
) -> dict[str, Any]:
    waves = [w for w in selectors.waves_readable(request.user) if year is None or w.year == year]
    return {"count": len(waves), "items": [_wave_out(w) for w in waves[offset : offset + limit]]}


@router.get("/literacy/waves/{code}", response=WaveOut)
def wave_get(request: HttpRequest, code: WaveCode) -> dict[str, Any]:
    return _wave_out(_wave(request, code))


@router.get("/literacy/waves/{code}/estimates", response=WaveEstimatesOut)
def wave_estimates(request: HttpRequest, code: WaveCode, unit: UnitCode | None = None) -> dict[str, Any]:
    """The region's estimates, or (for a district user, or with `unit`) one district's own: the
    headline first, then each breakdown in its natural order, then town model estimates."""
    wave = _wave(request, code)
    if unit and unit not in {u.code for u in selectors.wave_result_units(wave, request.user)}:
        raise Http404(f"No results of wave {code!r} for org unit {unit!r} in your scope.")
    results = selectors.wave_results(wave, request.user, unit or "")
    rows = ([results.headline] if results.headline else []) + [e for b in results.breakdowns for e in b.rows]
    rows += results.towns
    return {"wave": wave.code, "unit": results.unit.code, "count": len(rows), "items": [_estimate_out(e) for e in rows]}


@router.get("/literacy/waves/{code}/items", response=ItemStatsOut)
def wave_item_stats(request: HttpRequest, code: WaveCode) -> dict[str, Any]:
    """Classical item statistics of the wave's respondents; item codes and numbers only."""
    analysis = selectors.item_analysis_for(_wave(request, code), request.user)
    items = [
        {"item": s.item.code, "dimension": s.item.dimension, "n": s.n, "difficulty": s.difficulty,
         "discrimination": s.discrimination}
        for s in analysis.items
    ]
    return {"wave": code, "sample_n": analysis.sample_n, "count": len(items), "items": items}
