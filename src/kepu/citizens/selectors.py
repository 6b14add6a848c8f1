"""Reads about citizens. Other apps use these (never the tables directly)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from kepu.citizens import export
from kepu.citizens.models import Citizen, Consent, Purpose
from kepu.core import plainsql
from kepu.core.models import OrgUnit
from kepu.plans.selectors import plan_default


def citizen_of(user: Any) -> Citizen | None:
    """The user's Citizen row, or None for anonymous visitors and staff."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # Asked on every request (the confinement middleware, the citizen pages): read in plain SQL
    # and kept in Django's cache of `user.citizen`, so later reads of either cost nothing.
    field = Citizen._meta.get_field("user")
    relation = field.remote_field
    if not relation.is_cached(user):
        found = plainsql.fetch(Citizen, "user_id = %s", [user.pk])
        row = found[0] if found else None
        if row is not None:
            field.set_cached_value(row, user)
        relation.set_cached_value(user, row)
    cached = relation.get_cached_value(user)
    return cached if isinstance(cached, Citizen) else None


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


def district_choices() -> list[tuple[OrgUnit, list[OrgUnit]]]:
    """The default plan's districts with their current towns, for the profile form."""
    plan = plan_default()
    region = plan.region if plan else OrgUnit.objects.filter(level=OrgUnit.Level.CITY).first()
    districts = list(
        OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True).order_by("sort")
    )
    towns = list(
        OrgUnit.objects.filter(parent__in=districts, level=OrgUnit.Level.TOWN, valid_to__isnull=True).order_by(
            "sort", "code"
        )
    )
    return [(d, [t for t in towns if t.parent_id == d.pk]) for d in districts]


def topic_choices() -> list[tuple[str, str, str]]:
    """(code, name_zh, name_en) of the outreach catalogue's top-level topics; none while the
    outreach app is not installed. Read through the app registry: citizens does not import it."""
    try:
        topic = apps.get_model("outreach", "Topic")
    except LookupError:
        return []
    rows = topic.objects.filter(parent__isnull=True).order_by("order", "code")
    return list(rows.values_list("code", "name_zh", "name_en"))


def citizen_export(citizen: Citizen) -> dict[str, Any]:
    """Everything Kepu holds about the citizen (PIPL right of access): the account, profile,
    every consent decision, linked self-tests, then each app's registered section."""
    user = citizen.user
    data: dict[str, Any] = {
        "account": {
            "username": user.username,
            "phone": citizen.phone,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "profile": {
            "pseudonym": citizen.pseudonym,
            "age_band": citizen.age_band,
            "district": citizen.district.code if citizen.district else None,
            "district_name": citizen.district.name_zh if citizen.district else None,
            "town": citizen.town.code if citizen.town else None,
            "town_name": citizen.town.name_zh if citizen.town else None,
            "occupation": citizen.occupation,
            "industry": citizen.industry,
            "key_groups": citizen.key_groups,
            "interests": citizen.interests,
            "elder_mode": citizen.elder_mode,
            "created_at": citizen.created_at.isoformat(),
        },
        "consents": [
            {"purpose": c.purpose, "granted": c.granted, "at": c.at.isoformat(), "version": c.version}
            for c in citizen.consents.order_by("at", "id")
        ],
        "selftests": [
            {"finished_at": s.finished_at.isoformat(), "dimensions": s.dims}
            for s in citizen.selftests.order_by("finished_at", "id")
        ],
    }
    for callback in export.callbacks():
        for section, rows in callback(citizen).items():
            data[section] = rows
    return data


def export_section_names() -> dict[str, Any]:
    """Section key → its name on the page (other apps name theirs when they register)."""
    return {
        "consents": _("授权记录"),
        "selftests": _("科学素质自测结果"),
        # Sections other apps export today; an app names its own by registering with labels=.
        "quiz_answers": _("答题记录"),
        "quiz_points": _("积分记录"),
        "engagement_events": _("浏览和互动记录"),
        **export.labels(),
    }
