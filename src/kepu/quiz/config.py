"""Quiz limits: defaults, overridden by the `KEPU_QUIZ` setting (a dict)."""

from __future__ import annotations

from django.conf import settings

LIMITS: dict[str, int] = {
    "repeat_days": 30,  # a citizen's daily question does not repeat within this many days
    "daily_points": 10,  # for a right daily answer
    "contest_points": 5,  # for each right contest answer
    "points_cap": 50,  # points a citizen can earn a day, all sources together
    "grace_seconds": 2,  # network allowance on top of a question's time limit
    "answers_per_minute": 60,  # per client (network address)
    "starts_per_day": 30,  # contest attempts started per client a day
    "shared_client_accounts": 3,  # accounts from one client on one day that flag each other
}


def limits() -> dict[str, int]:
    return {**LIMITS, **getattr(settings, "KEPU_QUIZ", {})}
