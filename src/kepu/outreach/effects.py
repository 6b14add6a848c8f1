"""The closed loop: did a campaign move its target measure? Treated minus holdout, with a 95% CI.

The arms are the campaign's randomised assignment (intention to treat: every citizen assigned to be
sent counts as treated, whether or not the message reached them). The measure is one of
- completion: the share of the arm's citizens who completed one of the campaign's resources after
  the campaign started (engagement events of kind "complete");
- quiz accuracy: the share of the arm's daily-question answers in the targeted dimension that were
  right, through `kepu.quiz.selectors.accuracy(citizen_ids, dimension, since) -> (correct, answered)`.
  Answers of one citizen are not independent, so this interval is somewhat too narrow when citizens
  answer many questions; the page shows the number of answers beside it.

The interval for a difference of two independent proportions is Newcombe's hybrid score interval
(method 10 of R. G. Newcombe, "Interval estimation for the difference between independent
proportions: comparison of eleven methods", Statistics in Medicine 17 (1998) 873–890), built from
the Wilson score interval of each arm: it keeps its coverage near 95% for small arms and extreme
shares, where the Wald interval fails, and never leaves [-1, 1]."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kepu.outreach.campaign_models import Campaign

Z95 = 1.959963984540054  # the 97.5% point of the standard normal


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for one proportion (no continuity correction; R: prop.test(correct=FALSE))."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 − p2 and its hybrid score interval (Newcombe 1998, method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@dataclass(frozen=True)
class Effect:
    measure: str
    treated_successes: int
    treated_trials: int
    holdout_successes: int
    holdout_trials: int
    difference: float
    low: float
    high: float

    @property
    def treated_rate(self) -> float:
        return self.treated_successes / self.treated_trials

    @property
    def holdout_rate(self) -> float:
        return self.holdout_successes / self.holdout_trials

    @property
    def significant(self) -> bool:
        """The interval excludes 0: the arms differ beyond what chance alone explains."""
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure, "treated": [self.treated_successes, self.treated_trials],
            "holdout": [self.holdout_successes, self.holdout_trials], "difference": self.difference,
            "ci95": [self.low, self.high], "significant": self.significant,
        }


def effect_from_counts(measure: str, treated: tuple[int, int], holdout: tuple[int, int]) -> Effect | None:
    """None while either arm has no trials (nothing to compare yet)."""
    (x1, n1), (x2, n2) = treated, holdout
    if n1 <= 0 or n2 <= 0:
        return None
    d, low, high = newcombe_difference(x1, n1, x2, n2)
    return Effect(measure, x1, n1, x2, n2, d, low, high)


def _arms(campaign: Campaign) -> tuple[list[int], list[int]]:
    from kepu.outreach.campaign_models import Delivery

    treated: list[int] = []
    holdout: list[int] = []
    for citizen_id, held in Delivery.objects.filter(campaign=campaign).values_list("citizen_id", "holdout"):
        (holdout if held else treated).append(citizen_id)
    return treated, holdout


def _completion(campaign: Campaign, citizen_ids: list[int]) -> tuple[int, int]:
    from kepu.outreach.engagement_models import Interaction

    done = (Interaction.objects.filter(kind="complete", citizen_id__in=citizen_ids, at__gte=campaign.started_at,
                                       resource__in=campaign.resources.all())
            .values("citizen_id").distinct().count())
    return done, len(citizen_ids)


def quiz_accuracy_available() -> bool:
    try:
        from kepu.quiz import selectors
    except ImportError:
        return False
    return hasattr(selectors, "accuracy")


def _quiz_accuracy(campaign: Campaign, citizen_ids: list[int]) -> tuple[int, int]:
    from kepu.quiz.selectors import accuracy

    correct, answered = accuracy(citizen_ids, campaign.dimension, campaign.started_at)
    return int(correct), int(answered)


def campaign_effect(campaign: Campaign) -> Effect | None:
    """The effect on the campaign's target measure, or None when it has no holdout, has not started,
    or an arm has nothing to measure yet."""
    from kepu.outreach.campaign_models import Campaign as C

    if campaign.holdout_share <= 0 or campaign.started_at is None:
        return None
    treated, holdout = _arms(campaign)
    if not treated or not holdout:
        return None
    if campaign.measure == C.Measure.QUIZ_ACCURACY:
        if not quiz_accuracy_available():
            return None
        count = _quiz_accuracy
    else:
        count = _completion
    return effect_from_counts(campaign.measure, count(campaign, treated), count(campaign, holdout))
