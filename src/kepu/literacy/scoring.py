"""Scoring respondents with their wave's profile (the maths is in kepu.stats.scoring)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.literacy.items import item_points
from kepu.literacy.models import DIMENSIONS, Item, Respondent, ScoringProfile
from kepu.stats import irt
from kepu.stats import scoring as stats_scoring


def profile_of(profile: ScoringProfile) -> stats_scoring.ScoringProfile:
    # The stored config also carries the IRT anchors' reference parameters, which are not part of the rule.
    return stats_scoring.ScoringProfile.from_dict({k: v for k, v in profile.config.items() if k != "anchor_params"})


def profiles_ensure() -> dict[str, ScoringProfile]:
    """Store the built-in profiles (idempotent; a stored profile edited by the office is kept)."""
    out = {}
    for code, prof in stats_scoring.builtin_profiles().items():
        obj, _ = ScoringProfile.objects.get_or_create(
            code=code, defaults={"name_zh": prof.label_zh, "name_en": prof.label_en, "config": prof.to_dict()}
        )
        out[code] = obj
    return out


def points_by_dimension(
    responses: dict[str, object], items: dict[str, Item]
) -> tuple[dict[str, float], dict[str, float]]:
    """Points earned and possible per dimension over the items a respondent was given
    (a blank response to an administered item counts as wrong; items not given are skipped)."""
    earned = dict.fromkeys(DIMENSIONS, 0.0)
    possible = dict.fromkeys(DIMENSIONS, 0.0)
    for code, response in responses.items():
        item = items.get(code)
        if item is None:
            continue
        possible[item.dimension] += item.points
        if response is not None:
            earned[item.dimension] += item_points(item, response)[0]
    return earned, possible


def score_arrays(
    profile: ScoringProfile,
    earned: Sequence[dict[str, float]],
    possible: Sequence[dict[str, float]],
    theta: np.ndarray | None = None,
) -> stats_scoring.ScoreResult:
    e = np.array([[row.get(d, 0.0) for d in DIMENSIONS] for row in earned], dtype=float).reshape(-1, len(DIMENSIONS))
    p = np.array([[row.get(d, 0.0) for d in DIMENSIONS] for row in possible], dtype=float).reshape(-1, len(DIMENSIONS))
    return stats_scoring.score(
        profile_of(profile), earned=e, possible=p, dimensions=list(DIMENSIONS), theta_scores=theta
    )


def irt_abilities(respondents: Sequence[Respondent], profile: ScoringProfile) -> np.ndarray:
    """2PL abilities on the profile's reference scale. The first wave scored with the profile sets
    the scale (population N(0, 1)) and stores its anchor items' parameters in the profile; later
    waves hold those anchors fixed, which puts them on the same scale. A fit that did not converge
    (runaway or separated items, non-finite SEs) is refused with an InputError naming the items."""
    codes = sorted({c for r in respondents for c in r.responses})
    items = {i.code: i for i in Item.objects.filter(code__in=codes)}
    codes = [c for c in codes if c in items]
    x = np.full((len(respondents), len(codes)), np.nan)
    for row, r in enumerate(respondents):
        for j, c in enumerate(codes):
            if c in r.responses and r.responses[c] is not None:
                x[row, j] = 1.0 if item_points(items[c], r.responses[c])[1] else 0.0
    seen = ~np.isnan(x).all(axis=0)
    varies = np.array([np.nanmin(x[:, j]) != np.nanmax(x[:, j]) if seen[j] else False for j in range(len(codes))])
    keep = [j for j in range(len(codes)) if varies[j]]
    x, codes = x[:, keep], [codes[j] for j in keep]
    anchors: dict[str, list[float]] = profile.config.get("anchor_params") or {}
    fixed = {j: (anchors[c][0], anchors[c][1]) for j, c in enumerate(codes) if c in anchors}
    fit = irt.fit_2pl(x, fixed=fixed or None)
    try:
        fit.require_converged(codes)
    except irt.FitNotConvergedError as exc:
        # No score is published (and no anchor stored) from a fit that did not converge.
        raise InputError(
            _("IRT 标定未收敛，未发布任何得分。有问题的题目：%(items)s。请检查、删除或固定这些题目后重新评分。")
            % {"items": "、".join(exc.names) or _("未能定位到具体题目")}
        ) from exc
    if not anchors:
        profile.config = {
            **profile.config,
            "anchor_params": {c: [float(fit.a[j]), float(fit.b[j])] for j, c in enumerate(codes) if items[c].anchor},
        }
        profile.save(update_fields=["config"])
    theta, _psd = fit.abilities(x)
    return np.asarray(theta, dtype=float)


def respondents_score_set(respondents: Sequence[Respondent], profile: ScoringProfile) -> None:
    """Set score, passed and tier on respondents from their answers and the profile, without saving (an
    import scores its new respondents before inserting them, so they are written once)."""
    if not respondents:
        return
    theta = irt_abilities(respondents, profile) if profile.config.get("rule") == "irt" else None
    result = score_arrays(profile, [r.earned for r in respondents], [r.possible for r in respondents], theta)
    tiers = profile_of(profile).tiers
    for i, r in enumerate(respondents):
        r.score = float(result.total[i])
        r.passed = bool(result.passed[i])
        r.tier = tiers[int(result.tier[i])].label_zh


@transaction.atomic
def respondents_score(respondents: Sequence[Respondent], profile: ScoringProfile) -> None:
    """(Re-)score stored respondents reproducibly from their stored answers and the profile."""
    respondents_score_set(respondents, profile)
    Respondent.objects.bulk_update(list(respondents), ["score", "passed", "tier"], batch_size=2000)
