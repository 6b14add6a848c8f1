"""Scoring profiles of the science-literacy test: how points earned become a score and a verdict.

Pure numpy/scipy (no Django). A profile is plain data (``ScoringProfile.to_dict`` /
``ScoringProfile.from_dict`` give a JSON-friendly mapping), so the application can store profiles per
survey wave and re-score answers at any time; scoring the same data with the same profile gives
bit-for-bit the same result.

Vocabulary
----------
*Item dimensions* are the columns of the ``earned`` / ``possible`` arrays, e.g. ``knowledge``,
``method``, ``spirit``, ``application``: the points a respondent earned and could have earned on the
items of each dimension of their form. A profile scores *profile dimensions*: each is an item
dimension, or several item dimensions pooled (``combine``, e.g. classic3dim's ``society`` = spirit +
application). The percentage of a profile dimension is ``100 * sum(earned) / sum(possible)`` over
its item dimensions.

Rules
-----
``weighted_sum``
    ``total = sum_d weight_d * earned_d / possible_d`` (the weights sum to 100), or, when ``weights``
    is empty, the pooled share of all points ``100 * sum(earned) / sum(possible)``. Passed when
    ``total >= cut``.
``all_dimensions_pass``
    Passed when every profile dimension's percentage is ``>= dimension_cuts[d]``. ``total`` is
    computed as for ``weighted_sum`` and is informative only.
``irt``
    ``total = irt.scale_scores(theta, mean=scale_mean, sd=scale_sd)`` where ``theta`` is the 2PL
    ability on the reference scale (``theta_scores`` argument of ``score``). Passed when
    ``total >= cut``.

All cuts are inclusive. Totals and percentages are rounded to 9 decimals before they are compared
with cuts, so a score that is exactly 70 in exact arithmetic (e.g. 2/3 of 60 points plus 1/3 of 90)
is not lost to floating-point noise; 69.99 stays below 70. Tiers are ``(min_score, label_zh,
label_en)`` in ascending order of ``min_score``; a respondent's tier is the last one whose
``min_score <= total`` (so the tier index grows with the score).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kepu.stats import irt
from kepu.stats.arrays import BoolArray, FloatArray

__all__ = [
    "DEFAULT_PROFILE",
    "DIMENSIONS",
    "RULES",
    "Rule",
    "ScoreResult",
    "ScoringProfile",
    "Tier",
    "builtin_profiles",
    "cast_newera",
    "classic3dim",
    "irt_scaled",
    "jizhun2016",
    "score",
]

IntArray = NDArray[np.int64]

Rule = Literal["weighted_sum", "all_dimensions_pass", "irt"]
RULES: Final[tuple[str, ...]] = ("weighted_sum", "all_dimensions_pass", "irt")
#: The item dimensions of the CAST framework (dimension codes).
DIMENSIONS: Final[tuple[str, ...]] = ("knowledge", "method", "spirit", "application")
DEFAULT_PROFILE: Final = "cast_newera"

_DECIMALS: Final = 9  # rounding of totals and percentages before comparisons
_WEIGHT_TOL: Final = 1e-9


class Tier(NamedTuple):
    """A score band: scores ``>= min_score`` (up to the next tier) get these labels."""

    min_score: float
    label_zh: str
    label_en: str


def _tier(value: object) -> Tier:
    if isinstance(value, Mapping):
        keys = set(value)
        if keys != {"min_score", "label_zh", "label_en"}:
            raise ValueError(f"a tier needs exactly min_score, label_zh and label_en, got {sorted(keys)}")
        return Tier(float(value["min_score"]), str(value["label_zh"]), str(value["label_en"]))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 3:
        return Tier(float(value[0]), str(value[1]), str(value[2]))
    raise ValueError(f"a tier is (min_score, label_zh, label_en), got {value!r}")


@dataclass(frozen=True)
class ScoringProfile:
    """A scoring profile (see the module docstring). Values are validated and normalised on creation.

    ``weights``: profile dimension -> weight (sum 100); empty = pooled share of all points.
    ``combine``: profile dimension -> the item dimensions pooled into it; a profile dimension not
    listed is the item dimension of the same code. ``dimension_cuts``: per profile dimension pass
    marks (rule ``all_dimensions_pass``). ``total_points``: when set, every respondent's possible
    points must add up to it (a fixed-length test). ``scale_mean``/``scale_sd``: the reporting scale
    of rule ``irt``.
    """

    code: str
    rule: Rule
    cut: float
    tiers: tuple[Tier, ...]
    weights: Mapping[str, float] = field(default_factory=dict)
    combine: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dimension_cuts: Mapping[str, float] = field(default_factory=dict)
    total_points: float | None = None
    scale_mean: float = irt.SCALE_MEAN
    scale_sd: float = irt.SCALE_SD
    label_zh: str = ""
    label_en: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.code, str) or not self.code:
            raise ValueError("a profile needs a code")
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")
        set_(self, "cut", _number(self.cut, "cut"))
        if not 0.0 <= self.cut <= 100.0:
            raise ValueError("cut must be between 0 and 100")

        weights = {str(k): _number(v, f"weight of {k}") for k, v in dict(self.weights).items()}
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must not be negative")
        if weights and abs(math.fsum(weights.values()) - 100.0) > _WEIGHT_TOL:
            raise ValueError(f"weights must sum to 100, got {math.fsum(weights.values())}")
        set_(self, "weights", weights)

        combine: dict[str, tuple[str, ...]] = {}
        for k, members in dict(self.combine).items():
            if isinstance(members, str):
                raise ValueError(f"combine[{k!r}] must be a list of item dimensions")
            tup = tuple(str(m) for m in members)
            if not tup or len(set(tup)) != len(tup):
                raise ValueError(f"combine[{k!r}] must list distinct item dimensions")
            combine[str(k)] = tup
        set_(self, "combine", combine)

        cuts = {str(k): _number(v, f"cut of {k}") for k, v in dict(self.dimension_cuts).items()}
        if any(not 0.0 <= c <= 100.0 for c in cuts.values()):
            raise ValueError("dimension cuts must be between 0 and 100")
        set_(self, "dimension_cuts", cuts)
        if self.rule == "all_dimensions_pass":
            if not cuts:
                raise ValueError("rule all_dimensions_pass needs dimension_cuts")
            if weights and set(weights) != set(cuts):
                raise ValueError("weights and dimension_cuts must name the same profile dimensions")
        used = [m for d in self.parts for m in combine.get(d, (d,))]
        if len(set(used)) != len(used):
            raise ValueError("an item dimension may count toward one profile dimension only")
        unused = set(combine) - set(self.parts)
        if unused:
            raise ValueError(f"combine names profile dimensions that are not scored: {sorted(unused)}")

        tiers = tuple(_tier(t) for t in self.tiers)
        if not tiers:
            raise ValueError("a profile needs at least one tier")
        mins = [t.min_score for t in tiers]
        if any(not math.isfinite(x) for x in mins) or any(b <= a for a, b in itertools.pairwise(mins)):
            raise ValueError("tier min_scores must be finite and strictly ascending")
        if mins[0] > 0.0:
            raise ValueError("the lowest tier must start at 0 (or below) so that every score has a tier")
        set_(self, "tiers", tiers)

        if self.total_points is not None:
            set_(self, "total_points", _number(self.total_points, "total_points"))
            if cast(float, self.total_points) <= 0:
                raise ValueError("total_points must be positive")
        set_(self, "scale_mean", _number(self.scale_mean, "scale_mean"))
        set_(self, "scale_sd", _number(self.scale_sd, "scale_sd"))
        if not self.scale_sd > 0:
            raise ValueError("scale_sd must be positive")

    @property
    def parts(self) -> tuple[str, ...]:
        """The profile dimensions, in order (weights first, then any dimension with only a cut)."""
        out = list(self.weights)
        out += [d for d in self.dimension_cuts if d not in self.weights]
        return tuple(out)

    def members(self, part: str) -> tuple[str, ...]:
        """The item dimensions pooled into profile dimension ``part``."""
        return self.combine.get(part, (part,))

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly mapping; ``ScoringProfile.from_dict`` restores an equal profile."""
        return {
            "code": self.code,
            "rule": self.rule,
            "cut": self.cut,
            "tiers": [{"min_score": t.min_score, "label_zh": t.label_zh, "label_en": t.label_en} for t in self.tiers],
            "weights": dict(self.weights),
            "combine": {k: list(v) for k, v in self.combine.items()},
            "dimension_cuts": dict(self.dimension_cuts),
            "total_points": self.total_points,
            "scale_mean": self.scale_mean,
            "scale_sd": self.scale_sd,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ScoringProfile:
        """Build a profile from a mapping such as ``to_dict`` returns (unknown keys are an error)."""
        known = {
            "code", "rule", "cut", "tiers", "weights", "combine", "dimension_cuts", "total_points",
            "scale_mean", "scale_sd", "label_zh", "label_en", "note",
        }  # fmt: skip
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown profile keys: {sorted(unknown)}")
        missing = {"code", "rule", "cut", "tiers"} - set(data)
        if missing:
            raise ValueError(f"missing profile keys: {sorted(missing)}")
        tiers = data["tiers"]
        if not isinstance(tiers, Sequence) or isinstance(tiers, str):
            raise ValueError("tiers must be a list")
        kwargs: dict[str, object] = {k: v for k, v in data.items() if k != "tiers"}
        kwargs["tiers"] = tuple(_tier(t) for t in tiers)
        for key in ("weights", "combine", "dimension_cuts"):
            value = kwargs.get(key, {})
            if not isinstance(value, Mapping):
                raise ValueError(f"{key} must be a mapping")
            kwargs[key] = dict(value)
        return cls(**kwargs)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> ScoringProfile:
        """A copy with some fields replaced (validated again)."""
        data = self.to_dict()
        data.update(changes)
        return ScoringProfile.from_dict(data)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{what} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{what} must be finite")
    return out


# --------------------------------------------------------------------------------------------------
# Built-in profiles
# --------------------------------------------------------------------------------------------------

_CAST_TIERS: Final[tuple[Tier, ...]] = (
    Tier(0.0, "较低", "low"),
    Tier(55.0, "基本具备", "basic"),
    Tier(70.0, "具备", "scientifically literate"),
    Tier(85.0, "高阶", "advanced"),
)


def cast_newera() -> ScoringProfile:
    """The default CAST profile (since 2024): knowledge 40, method 20, spirit 20, application 20.

    A dimension scores ``earned / possible * weight``; the total is out of 100; ``>= 70`` is
    具备科学素质. Tiers: ``>= 85`` 高阶, ``>= 70`` 具备, ``>= 55`` 基本具备, below 较低.
    """
    return ScoringProfile(
        code="cast_newera",
        rule="weighted_sum",
        cut=70.0,
        tiers=_CAST_TIERS,
        weights={"knowledge": 40.0, "method": 20.0, "spirit": 20.0, "application": 20.0},
        label_zh="新时代公民科学素质测评(百分制)",
        label_en="CAST new-era 100-point score",
        note="Dimension score = share of the dimension's points earned x weight; >= 70 = 具备科学素质.",
    )


def jizhun2016() -> ScoringProfile:
    """《中国公民科学素质基准》(2016): 50 items x 2 points; the share of points x 100; ``>= 60`` passes.

    Gives much higher rates than CAST's profile: a separate series, never to be mixed with it.
    """
    return ScoringProfile(
        code="jizhun2016",
        rule="weighted_sum",
        cut=60.0,
        tiers=(Tier(0.0, "未达标", "below the benchmark"), Tier(60.0, "达标", "meets the benchmark")),
        weights={},
        # The share of points scales to any form length; a wave that must match the 50 x 2 form
        # sets total_points=100 on its own copy.
        total_points=None,
        label_zh="公民科学素质基准(2016)测试",
        label_en="Science literacy benchmark (2016) test",
        note="50 items x 2 points; total = share of points x 100; >= 60 passes. A separate series.",
    )


def classic3dim(knowledge_cut: float = 70.0, method_cut: float = 70.0, society_cut: float = 70.0) -> ScoringProfile:
    """Miller-style three-part profile: knowledge, method and science-and-society must ALL pass.

    Science-and-society pools the ``spirit`` and ``application`` items. The per-part cut-offs of the
    official three-part method were never published, so they are parameters (70 % each by default:
    an assumption, not an official value). The total (informative only; the verdict is per part)
    uses the CAST weights collapsed onto the three parts: knowledge 40, method 20, society 40. No
    tiers were ever published: the profile has one catch-all tier and the verdict is ``passed``.
    """
    return ScoringProfile(
        code="classic3dim",
        rule="all_dimensions_pass",
        cut=70.0,
        tiers=(Tier(0.0, "未分级", "not tiered"),),
        weights={"knowledge": 40.0, "method": 20.0, "society": 40.0},
        combine={"society": ("spirit", "application")},
        dimension_cuts={"knowledge": knowledge_cut, "method": method_cut, "society": society_cut},
        label_zh="三维度(知识、方法、科学与社会)均达标",
        label_en="Three parts (knowledge, method, science and society) all pass",
        note="Official per-part cut-offs were never published; the cuts are parameters (default 70 each).",
    )


def irt_scaled(cut: float = 70.0, scale_mean: float = irt.SCALE_MEAN, scale_sd: float = irt.SCALE_SD) -> ScoringProfile:
    """2PL ability on the anchor-defined reference scale, mapped to 0-100 by ``irt.scale_scores``.

    ``score = scale_mean + scale_sd * theta`` clipped to [0, 100] (defaults 60 and 10: the reference
    population's mean at 60, one SD above it at 70). ``>= cut`` passes; tiers as ``cast_newera``
    (they stay at 55/70/85 when the cut is changed).
    """
    return ScoringProfile(
        code="irt_scaled",
        rule="irt",
        cut=cut,
        tiers=_CAST_TIERS,
        scale_mean=scale_mean,
        scale_sd=scale_sd,
        label_zh="项目反应理论(2PL)标定分",
        label_en="IRT (2PL) scaled score",
        note="Ability from a 2PL calibration linked through anchor items; score = mean + sd x theta.",
    )


def builtin_profiles() -> dict[str, ScoringProfile]:
    """The built-in profiles by code (new objects on every call); ``cast_newera`` is the default."""
    profiles = (cast_newera(), jizhun2016(), classic3dim(), irt_scaled())
    return {p.code: p for p in profiles}


# --------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    """Scores of ``n`` respondents under one profile.

    ``total`` (0-100), ``passed`` (具备科学素质 / passes the profile), ``tier`` (index into
    ``tiers``, ascending), ``dimension_pct`` (``n x D``, percentage of points earned per item
    dimension, NaN where nothing was possible) and ``part_pct`` (``n x P`` per profile dimension).
    """

    profile: str
    total: FloatArray
    passed: BoolArray
    tier: IntArray
    dimensions: tuple[str, ...]
    dimension_pct: FloatArray
    parts: tuple[str, ...]
    part_pct: FloatArray
    tiers: tuple[Tier, ...]

    def tier_labels(self, lang: Literal["zh", "en"] = "zh") -> list[str]:
        """The tier label of each respondent."""
        labels = [t.label_zh if lang == "zh" else t.label_en for t in self.tiers]
        return [labels[i] for i in self.tier.tolist()]

    @property
    def pass_rate(self) -> float:
        """Unweighted share passing (survey estimates must use the design weights instead)."""
        return float(np.mean(self.passed)) if self.passed.size else float("nan")


def _points(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be an n x D array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _round(x: FloatArray) -> FloatArray:
    return np.asarray(np.round(x, _DECIMALS), dtype=np.float64)


def score(
    profile: ScoringProfile,
    *,
    earned: ArrayLike,
    possible: ArrayLike,
    dimensions: Sequence[str],
    theta_scores: ArrayLike | None = None,
) -> ScoreResult:
    """Score respondents (rows) under ``profile``.

    ``earned`` and ``possible``: ``n x D`` points per item dimension (columns named by
    ``dimensions``). ``theta_scores``: abilities on the reference scale (length ``n``), required by
    rule ``irt`` and ignored otherwise.
    """
    dims = tuple(str(d) for d in dimensions)
    if len(set(dims)) != len(dims):
        raise ValueError("dimensions must be distinct")
    e = _points(earned, "earned")
    p = _points(possible, "possible")
    if e.shape != p.shape or e.shape[1] != len(dims):
        raise ValueError("earned and possible must both be n x len(dimensions)")
    if np.any(p < 0) or np.any(e < 0) or np.any(e > p):
        raise ValueError("points must satisfy 0 <= earned <= possible")
    n = e.shape[0]
    col = {d: i for i, d in enumerate(dims)}

    with np.errstate(invalid="ignore", divide="ignore"):
        dim_pct = np.where(p > 0, 100.0 * e / np.where(p > 0, p, 1.0), np.nan)

    parts = profile.parts
    for part in parts:
        missing = [m for m in profile.members(part) if m not in col]
        if missing:
            raise ValueError(f"profile {profile.code!r} needs item dimensions {missing} (part {part!r})")
    if profile.rule != "irt" and profile.weights:
        scored = {m for part in profile.weights for m in profile.members(part)}
        extra = [d for d in dims if d not in scored and np.any(p[:, col[d]] > 0)]
        if extra:
            raise ValueError(f"profile {profile.code!r} does not score item dimensions {extra}")

    part_e = np.zeros((n, len(parts)))
    part_p = np.zeros((n, len(parts)))
    for k, part in enumerate(parts):
        for m in profile.members(part):  # fixed order: reproducible sums
            part_e[:, k] += e[:, col[m]]
            part_p[:, k] += p[:, col[m]]
    with np.errstate(invalid="ignore", divide="ignore"):
        part_pct = np.where(part_p > 0, 100.0 * part_e / np.where(part_p > 0, part_p, 1.0), np.nan)

    if profile.total_points is not None and profile.rule != "irt" and np.any(p.sum(axis=1) != profile.total_points):
        raise ValueError(f"profile {profile.code!r} is for a test of {profile.total_points:g} points")

    passed: BoolArray
    if profile.rule == "irt":
        if theta_scores is None:
            raise ValueError("rule irt needs theta_scores (abilities on the reference scale)")
        theta = np.asarray(theta_scores, dtype=np.float64).reshape(-1)
        if theta.size != n:
            raise ValueError("theta_scores must have one ability per respondent")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta_scores must be finite")
        total = _round(irt.scale_scores(theta, mean=profile.scale_mean, sd=profile.scale_sd))
        passed = total >= profile.cut
    else:
        total = _weighted_total(profile, e, p, part_e, part_p)
        if profile.rule == "weighted_sum":
            passed = total >= profile.cut
        else:
            rounded = _round(part_pct)
            passed = np.ones(n, dtype=bool)
            for k, part in enumerate(parts):
                passed &= rounded[:, k] >= profile.dimension_cuts[part]

    mins = np.array([t.min_score for t in profile.tiers])
    tier = (np.searchsorted(mins, total, side="right") - 1).astype(np.int64)
    return ScoreResult(
        profile=profile.code,
        total=total,
        passed=np.asarray(passed, dtype=np.bool_),
        tier=tier,
        dimensions=dims,
        dimension_pct=dim_pct,
        parts=parts,
        part_pct=part_pct,
        tiers=profile.tiers,
    )


def _weighted_total(
    profile: ScoringProfile, e: FloatArray, p: FloatArray, part_e: FloatArray, part_p: FloatArray
) -> FloatArray:
    if not profile.weights:
        tot_e = np.zeros(e.shape[0])
        tot_p = np.zeros(e.shape[0])
        for j in range(e.shape[1]):
            tot_e += e[:, j]
            tot_p += p[:, j]
        if np.any(tot_p <= 0):
            raise ValueError("a respondent has no possible points")
        total = 100.0 * tot_e / tot_p
    else:
        parts = profile.parts
        total = np.zeros(e.shape[0])
        for k, part in enumerate(parts):
            weight = profile.weights.get(part, 0.0)
            if weight == 0.0:
                continue
            if np.any(part_p[:, k] <= 0):
                raise ValueError(f"a respondent has no possible points in {part!r} (weight {weight:g})")
            total += part_e[:, k] * weight / part_p[:, k]  # multiply first: exact for whole points
    return np.asarray(np.clip(_round(total), 0.0, 100.0), dtype=np.float64)
