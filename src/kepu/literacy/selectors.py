"""Reads for literacy pages and exports (scope: results are aggregates; respondent rows are never
shown; district users see their own district's breakdowns and the city overall)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.literacy.models import Item, Respondent, Wave, WaveEstimate

# Published official figures to compare with (percent), from public CAST/NBS releases.
OFFICIAL = [
    ("常州市", "Changzhou", 2016, 10.3),
    ("常州市", "Changzhou", 2020, 15.2),
    ("常州市", "Changzhou", 2022, 17.0),
    ("江苏省", "Jiangsu", 2020, 13.84),
    ("江苏省", "Jiangsu", 2022, 15.89),
    ("全国", "China", 2020, 10.56),
    ("全国", "China", 2022, 12.93),
    ("全国", "China", 2023, 14.14),
    ("全国", "China", 2024, 15.37),
]
VARIABLES = ["district", "age_band", "sex", "area", "education", "key_group"]
VARIABLE_LABELS = {
    "district": _("辖市(区)"),
    "age_band": _("年龄组"),
    "sex": _("性别"),
    "area": _("城乡"),
    "education": _("文化程度"),
    "key_group": _("重点人群"),
    "town": _("镇(街道)"),
}


def waves_visible(user: User | AnonymousUser) -> list[Wave]:
    scope = scope_for(user)
    return [
        w
        for w in Wave.objects.select_related("profile", "region")
        if scope.can_view(w.region) or any(scope.can_view(u) for u in OrgUnit.objects.filter(parent=w.region))
    ]


@dataclass
class Breakdown:
    variable: str
    rows: list[WaveEstimate]

    @property
    def label(self) -> str:
        return str(VARIABLE_LABELS.get(self.variable, self.variable))


def wave_estimates(
    wave: Wave, user: User | AnonymousUser
) -> tuple[WaveEstimate | None, list[Breakdown], list[WaveEstimate]]:
    """Overall, the breakdowns, and model-based town estimates the user may see."""
    scope = scope_for(user)
    units = {u.code: u for u in OrgUnit.objects.filter(path__startswith=wave.region.path)}
    overall = None
    by: dict[str, list[WaveEstimate]] = defaultdict(list)
    towns: list[WaveEstimate] = []
    for e in wave.estimates.all():
        if e.variable == "overall":
            overall = e if scope.can_view(wave.region) else None
        elif e.variable in ("district", "town"):
            unit = units.get(e.level)
            if unit is None or not scope.can_view(unit):
                continue
            (towns if e.variable == "town" else by["district"]).append(e)
        elif scope.can_view(wave.region):
            by[e.variable].append(e)
    return overall, [Breakdown(v, by[v]) for v in VARIABLES if by.get(v)], towns


def tier_distribution(wave: Wave) -> list[tuple[str, float, int]]:
    """Weighted share of respondents (in scope) per tier."""
    rows = wave.respondents.filter(
        sample=Respondent.Sample.PROBABILITY, age__gte=wave.age_min, age__lte=wave.age_max
    ).values_list("tier", "weight", "base_weight")
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for tier, w, bw in rows:
        totals[tier] += w if w is not None else bw
        counts[tier] += 1
    grand = sum(totals.values()) or 1.0
    order = [t["label_zh"] for t in wave.profile.config.get("tiers", [])]
    keys = sorted(totals, key=lambda t: order.index(t) if t in order else 99)
    return [(t, totals[t] / grand, counts[t]) for t in keys]


@dataclass
class ItemStat:
    item: Item
    n: int
    difficulty: float  # weighted share answering correctly
    discrimination: float  # corrected item–total (point-biserial) correlation


def item_analysis(wave: Wave) -> tuple[list[ItemStat], dict[str, float]]:
    """Classical item analysis on the wave's probability sample: p-values, corrected item–total
    correlations, and Cronbach's alpha per dimension (over respondents given all its items)."""
    rs = list(
        wave.respondents.filter(sample=Respondent.Sample.PROBABILITY).values_list("responses", "weight", "base_weight")
    )
    codes = sorted({c for resp, _w, _b in rs for c in resp})
    items = {i.code: i for i in Item.objects.filter(code__in=codes)}
    codes = [c for c in codes if c in items]
    if not rs or not codes:
        return [], {}
    from kepu.literacy.items import item_points

    x = np.full((len(rs), len(codes)), np.nan)
    for r, (resp, _w, _b) in enumerate(rs):
        for j, c in enumerate(codes):
            if c in resp:
                x[r, j] = 1.0 if item_points(items[c], resp[c])[1] else 0.0
    w = np.array([wt if wt is not None else b for _r, wt, b in rs])
    total = np.nansum(x, axis=1)
    stats = []
    for j, c in enumerate(codes):
        m = ~np.isnan(x[:, j])
        if m.sum() < 2:
            continue
        xi = x[m, j]
        p = float(np.average(xi, weights=w[m]))
        rest = total[m] - xi
        disc = float(np.corrcoef(xi, rest)[0, 1]) if xi.std() > 0 and rest.std() > 0 else float("nan")
        stats.append(ItemStat(items[c], int(m.sum()), p, disc))
    alpha = {}
    for dim in sorted({i.dimension for i in items.values()}):
        cols = [j for j, c in enumerate(codes) if items[c].dimension == dim]
        sub = x[:, cols]
        complete = sub[~np.isnan(sub).any(axis=1)]
        k = complete.shape[1]
        if k >= 2 and len(complete) >= 30:
            var_sum = complete.var(axis=0, ddof=1).sum()
            var_tot = complete.sum(axis=1).var(ddof=1)
            alpha[dim] = float(k / (k - 1) * (1 - var_sum / var_tot)) if var_tot > 0 else float("nan")
    return stats, alpha


def earlier_waves(wave: Wave) -> list[tuple[Wave, WaveEstimate]]:
    out = []
    for w in Wave.objects.filter(region=wave.region).exclude(pk=wave.pk).order_by("year"):
        e = w.estimates.filter(variable="overall").first()
        if e is not None:
            out.append((w, e))
    return out


def level_labels(lang: str) -> dict[str, dict[str, str]]:
    """Display names for the levels of each breakdown variable."""
    from kepu.literacy.people import AREAS, EDUCATION, KEY_GROUPS, SEXES

    en = lang.startswith("en")
    units = {u.code: (u.name_en if en else u.name_zh) for u in OrgUnit.objects.filter(level__in=["district", "town"])}
    return {
        "district": units,
        "town": units,
        "sex": {k: str(v) for k, v in SEXES},
        "area": {k: str(v) for k, v in AREAS},
        "education": {k: str(v) for k, v in EDUCATION},
        "key_group": {k: str(v) for k, v in KEY_GROUPS},
        "age_band": {},
        "overall": {"all": "全市" if not en else "City"},
    }
