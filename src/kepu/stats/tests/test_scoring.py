"""Tests for kepu.stats.scoring: hand-computed scores for every built-in profile."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kepu.stats import scoring
from kepu.stats.scoring import ScoringProfile, Tier, builtin_profiles, score

hsettings = settings(database=None, max_examples=200, deadline=None)

DIMS = ["knowledge", "method", "spirit", "application"]
FULL = [40.0, 20.0, 20.0, 20.0]  # a form whose points match the CAST weights


def _cast(earned: list[list[float]], possible: list[list[float]] | None = None) -> scoring.ScoreResult:
    poss = possible if possible is not None else [FULL] * len(earned)
    return score(scoring.cast_newera(), earned=np.array(earned), possible=np.array(poss), dimensions=DIMS)


# --------------------------------------------------------------------------------------------------
# cast_newera (default)
# --------------------------------------------------------------------------------------------------


def test_builtin_profiles_and_default() -> None:
    profiles = builtin_profiles()
    assert set(profiles) == {"cast_newera", "jizhun2016", "classic3dim", "irt_scaled"}
    assert scoring.DEFAULT_PROFILE == "cast_newera"
    cast = profiles["cast_newera"]
    assert cast.weights == {"knowledge": 40.0, "method": 20.0, "spirit": 20.0, "application": 20.0}
    assert cast.cut == 70.0 and cast.rule == "weighted_sum"
    assert [t.min_score for t in cast.tiers] == [0.0, 55.0, 70.0, 85.0]
    assert [t.label_zh for t in cast.tiers] == ["较低", "基本具备", "具备", "高阶"]
    assert builtin_profiles()["cast_newera"] is not cast  # fresh objects, safe to change


def test_cast_newera_hand_computed() -> None:
    # knowledge 30/40*40 = 30, method 15/20*20 = 15, spirit 10/20*20 = 10, application 18/20*20 = 18
    res = _cast([[30, 15, 10, 18]])
    assert res.total.tolist() == [73.0]
    assert res.passed.tolist() == [True]
    assert res.tier_labels() == ["具备"] and res.tier_labels("en") == ["scientifically literate"]
    np.testing.assert_allclose(res.dimension_pct, [[75.0, 75.0, 50.0, 90.0]])
    assert res.parts == tuple(DIMS)
    # forms with other point totals: the weight, not the number of points, decides
    res = _cast([[12, 4, 8, 5]], [[20, 10, 10, 10]])
    # 12/20*40 + 4/10*20 + 8/10*20 + 5/10*20 = 24 + 8 + 16 + 10
    assert res.total.tolist() == [58.0]
    assert res.tier_labels() == ["基本具备"] and not res.passed[0]


def test_cast_newera_tier_boundaries_are_inclusive() -> None:
    rows: list[list[float]] = [
        [28, 14, 14, 14],  # exactly 70 -> 具备
        [27.99, 14, 14, 14],  # 69.99 -> 基本具备, not passed
        [34, 17, 17, 17],  # exactly 85 -> 高阶
        [33.99, 17, 17, 17],  # 84.99 -> 具备
        [22, 11, 11, 11],  # exactly 55 -> 基本具备
        [21.99, 11, 11, 11],  # 54.99 -> 较低
        [0, 0, 0, 0],
        [40, 20, 20, 20],
    ]
    res = _cast(rows)
    np.testing.assert_allclose(res.total, [70, 69.99, 85, 84.99, 55, 54.99, 0, 100])
    assert res.passed.tolist() == [True, False, True, True, False, False, False, True]
    assert res.tier_labels() == ["具备", "基本具备", "高阶", "具备", "基本具备", "较低", "较低", "高阶"]
    assert res.tier.tolist() == [2, 1, 3, 2, 1, 0, 0, 3]


def test_exact_seventy_survives_floating_point_noise() -> None:
    # 2/3*40 + 2/3*20 + 2/3*20 + 5/6*20 = (80 + 40 + 40 + 50) / 3 = 70 exactly
    res = _cast([[2, 2, 2, 5]], [[3, 3, 3, 6]])
    assert res.total.tolist() == [70.0]
    assert res.passed[0] and res.tier_labels() == ["具备"]


def test_cast_needs_points_in_every_weighted_dimension() -> None:
    with pytest.raises(ValueError, match="no possible points in 'method'"):
        _cast([[10, 0, 5, 5]], [[20, 0, 10, 10]])
    with pytest.raises(ValueError, match="needs item dimensions"):
        score(scoring.cast_newera(), earned=[[1, 1, 1]], possible=[[2, 2, 2]], dimensions=DIMS[:3])
    with pytest.raises(ValueError, match="does not score"):
        score(scoring.cast_newera(), earned=[[1, 1, 1, 1, 1]], possible=[[2] * 5], dimensions=[*DIMS, "health"])
    with pytest.raises(ValueError, match="earned <= possible"):
        _cast([[41, 0, 0, 0]])
    with pytest.raises(ValueError, match="n x len"):
        score(scoring.cast_newera(), earned=[[1, 1, 1, 1]], possible=[[2, 2, 2]], dimensions=DIMS)


# --------------------------------------------------------------------------------------------------
# jizhun2016
# --------------------------------------------------------------------------------------------------


def test_jizhun2016_share_of_points() -> None:
    prof = scoring.jizhun2016()
    # 50 items x 2 points; the points may be reported in any split over dimensions
    earned = np.array([[60.0], [58.0], [100.0], [61.0]])
    res = score(prof, earned=earned, possible=np.full((4, 1), 100.0), dimensions=["total"])
    assert res.total.tolist() == [60.0, 58.0, 100.0, 61.0]
    assert res.passed.tolist() == [True, False, True, True]
    assert res.tier_labels() == ["达标", "未达标", "达标", "达标"]
    split = score(prof, earned=[[30, 10, 10, 9]], possible=[[50, 20, 20, 10]], dimensions=DIMS)
    assert split.total.tolist() == [59.0] and not split.passed[0]
    # Any form length scales to 100; a wave pinned to the official 50 x 2 form can demand 100 points.
    assert score(prof, earned=[[18.0]], possible=[[30.0]], dimensions=["total"]).total.tolist() == [60.0]
    with pytest.raises(ValueError, match="100 points"):
        score(prof.with_changes(total_points=100.0), earned=[[50.0]], possible=[[98.0]], dimensions=["total"])


# --------------------------------------------------------------------------------------------------
# classic3dim
# --------------------------------------------------------------------------------------------------


def test_classic3dim_all_parts_must_pass() -> None:
    prof = scoring.classic3dim()
    assert prof.dimension_cuts == {"knowledge": 70.0, "method": 70.0, "society": 70.0}
    assert prof.members("society") == ("spirit", "application")
    assert "never published" in (scoring.classic3dim.__doc__ or "")
    rows = [
        [32, 16, 10, 18],  # 80 %, 80 %, society (10 + 18) / 40 = 70 % -> pass
        [40, 20, 20, 7.9],  # society 27.9 / 40 = 69.75 % -> fail despite a high total
        [27.9, 20, 20, 20],  # knowledge 69.75 % -> fail
        [40, 13, 20, 20],  # method 65 % -> fail
    ]
    res = score(prof, earned=np.array(rows), possible=np.array([FULL] * 4), dimensions=DIMS)
    assert res.parts == ("knowledge", "method", "society")
    np.testing.assert_allclose(res.part_pct[0], [80.0, 80.0, 70.0])
    np.testing.assert_allclose(res.part_pct[1], [100.0, 100.0, 69.75])
    assert res.passed.tolist() == [True, False, False, False]
    # total: knowledge 40, method 20, society 40 (informative only)
    np.testing.assert_allclose(res.total, [32 + 16 + 28, 40 + 20 + 27.9, 27.9 + 20 + 40, 40 + 13 + 40])
    assert res.total[1] > 70 and not res.passed[1]
    # the cuts are parameters
    lenient = score(
        scoring.classic3dim(method_cut=60.0), earned=np.array(rows), possible=np.array([FULL] * 4), dimensions=DIMS
    )
    assert lenient.passed.tolist() == [True, False, False, True]


# --------------------------------------------------------------------------------------------------
# irt_scaled
# --------------------------------------------------------------------------------------------------


def test_irt_scaled_uses_the_reporting_scale() -> None:
    prof = scoring.irt_scaled()
    theta = np.array([1.0, 0.999, 2.5, 10.0, -10.0, 0.0])
    n = theta.size
    res = score(prof, earned=np.zeros((n, 1)), possible=np.ones((n, 1)), dimensions=["knowledge"], theta_scores=theta)
    np.testing.assert_allclose(res.total, [70.0, 69.99, 85.0, 100.0, 0.0, 60.0])
    assert res.passed.tolist() == [True, False, True, True, False, False]
    assert res.tier_labels() == ["具备", "基本具备", "高阶", "高阶", "较低", "基本具备"]
    zeros, ones = np.zeros((n, 1)), np.ones((n, 1))
    strict = score(
        scoring.irt_scaled(cut=80.0), earned=zeros, possible=ones, dimensions=["knowledge"], theta_scores=theta
    )
    assert strict.passed.tolist() == [False, False, True, True, False, False]
    with pytest.raises(ValueError, match="theta_scores"):
        score(prof, earned=np.zeros((n, 1)), possible=np.ones((n, 1)), dimensions=["knowledge"])
    # dimensions without items are allowed (percentage NaN): the score comes from theta
    res = score(
        prof, earned=[[1.0, 0.0]], possible=[[2.0, 0.0]], dimensions=["knowledge", "method"], theta_scores=[0.5]
    )
    assert np.isnan(res.dimension_pct[0, 1]) and res.total.tolist() == [65.0]


# --------------------------------------------------------------------------------------------------
# Profiles as data
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(builtin_profiles()))
def test_profile_round_trips_through_json(code: str) -> None:
    prof = builtin_profiles()[code]
    data = json.loads(json.dumps(prof.to_dict(), ensure_ascii=False))
    again = ScoringProfile.from_dict(data)
    assert again == prof
    assert again.to_dict() == prof.to_dict()


def test_profile_from_plain_lists() -> None:
    prof = ScoringProfile.from_dict(
        {
            "code": "city2025",
            "rule": "weighted_sum",
            "cut": 65,
            "weights": {"knowledge": 50, "method": 50},
            "tiers": [[0, "未达标", "below"], [65, "达标", "pass"]],
        }
    )
    assert prof.tiers == (Tier(0.0, "未达标", "below"), Tier(65.0, "达标", "pass"))
    res = score(prof, earned=[[13, 3]], possible=[[20, 4]], dimensions=["knowledge", "method"])
    assert res.total.tolist() == [70.0] and res.passed[0]
    assert prof.with_changes(cut=75).cut == 75.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": {"knowledge": 40, "method": 20, "spirit": 20, "application": 19}}, "sum to 100"),
        ({"weights": {"knowledge": 120, "method": -20}}, "negative"),
        ({"rule": "median"}, "rule must be"),
        ({"cut": 101}, "between 0 and 100"),
        ({"tiers": [[0, "a", "a"], [70, "b", "b"], [55, "c", "c"]]}, "ascending"),
        ({"tiers": [[10, "a", "a"]]}, "start at 0"),
        ({"tiers": []}, "at least one tier"),
        ({"colour": "red"}, "unknown profile keys"),
        ({"cut": "seventy"}, "must be a number"),
        ({"combine": {"knowledge": ["knowledge", "method"]}}, "one profile dimension only"),
    ],
)
def test_invalid_profiles_are_rejected(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scoring.cast_newera().with_changes(**change)


def test_all_dimensions_pass_needs_cuts() -> None:
    with pytest.raises(ValueError, match="dimension_cuts"):
        scoring.classic3dim().with_changes(dimension_cuts={})


# --------------------------------------------------------------------------------------------------
# Reproducibility and properties
# --------------------------------------------------------------------------------------------------


def _random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    possible = rng.integers(1, 30, size=(n, 4)).astype(float)
    earned = np.floor(rng.random((n, 4)) * (possible + 1))
    return earned, possible


@pytest.mark.parametrize("code", sorted(builtin_profiles()))
def test_rescoring_is_bit_for_bit_reproducible(code: str) -> None:
    rng = np.random.default_rng(1)
    earned, possible = _random_points(rng, 5000)
    prof = builtin_profiles()[code]
    if prof.total_points is not None:
        possible[:, 0] = prof.total_points - possible[:, 1:].sum(axis=1)
        earned = np.minimum(earned, possible)
    theta = rng.normal(size=5000)
    kw = {"earned": earned, "possible": possible, "dimensions": DIMS, "theta_scores": theta}
    first = score(prof, **kw)  # type: ignore[arg-type]
    stored = ScoringProfile.from_dict(json.loads(json.dumps(prof.to_dict())))
    second = score(stored, **kw)  # type: ignore[arg-type]
    for name in ("total", "passed", "tier", "dimension_pct", "part_pct"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes(), name
    # each respondent's score depends on their own row only
    order = rng.permutation(5000)
    shuffled = score(prof, earned=earned[order], possible=possible[order], dimensions=DIMS, theta_scores=theta[order])
    assert shuffled.total.tobytes() == first.total[order].tobytes()


points = st.lists(
    st.tuples(st.integers(1, 25), st.integers(0, 25)).map(lambda t: (float(t[0]), float(min(t[1], t[0])))),
    min_size=4,
    max_size=4,
)


@hsettings
@given(points, st.integers(0, 3), st.integers(1, 5), st.sampled_from(["cast_newera", "classic3dim", "jizhun_pooled"]))
def test_total_is_monotone_in_earned_points(pts: list[tuple[float, float]], dim: int, extra: int, code: str) -> None:
    prof = scoring.jizhun2016().with_changes(total_points=None) if code == "jizhun_pooled" else builtin_profiles()[code]
    possible = np.array([[p for p, _ in pts]])
    earned = np.array([[e for _, e in pts]])
    more = earned.copy()
    more[0, dim] = min(possible[0, dim], more[0, dim] + extra)
    before = score(prof, earned=earned, possible=possible, dimensions=DIMS)
    after = score(prof, earned=more, possible=possible, dimensions=DIMS)
    assert after.total[0] >= before.total[0]
    assert after.tier[0] >= before.tier[0]
    assert after.passed[0] >= before.passed[0]
    assert 0.0 <= before.total[0] <= 100.0
