"""Reads about citizens. Other apps use these (never the tables directly)."""

from __future__ import annotations

from typing import Any

from kepu.citizens.models import Citizen, Consent, Purpose


def citizen_of(user: Any) -> Citizen | None:
    """The user's Citizen row, or None for anonymous visitors and staff."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        citizen = user.citizen
    except Citizen.DoesNotExist:
        return None
    return citizen if isinstance(citizen, Citizen) else None


def consents(citizen: Citizen) -> dict[str, bool]:
    """The current decision per purpose (False where the citizen never decided)."""
    current: dict[str, bool] = dict.fromkeys(Purpose.values, False)
    seen: set[str] = set()
    for purpose, granted in citizen.consents.order_by("-at", "-id").values_list("purpose", "granted"):
        if purpose not in seen:
            seen.add(purpose)
            current[purpose] = granted
    return current


def has_consent(citizen: Citizen | None, purpose: str) -> bool:
    if citizen is None:
        return False
    latest = Consent.objects.filter(citizen=citizen, purpose=purpose).order_by("-at", "-id").first()
    return bool(latest and latest.granted)


def selftest_dimensions(citizen: Citizen | None) -> dict[str, float] | None:
    """The citizen's latest linked self-test, per dimension share correct; None without consent
    "selftest_link" (withdrawing it stops the use of earlier links too) or without a linked test."""
    if citizen is None or not has_consent(citizen, Purpose.SELFTEST_LINK):
        return None
    latest = citizen.selftests.order_by("-finished_at", "-id").first()
    return {k: float(v) for k, v in latest.dims.items()} if latest else None
