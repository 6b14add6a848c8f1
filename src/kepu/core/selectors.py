"""Reads for the core app's pages: a user's own roles and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from kepu.core.models import ApiToken, RoleAssignment


def user_roles(user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).select_related("org_unit", "department").order_by("role", "id")


def user_tokens(user: User) -> list[tuple[ApiToken, ApiToken.State]]:
    """The user's tokens, newest first, each with its state now (active, expired, revoked, dead by password)."""
    now = timezone.now()
    return [(t, t.state(now)) for t in ApiToken.objects.filter(user=user).select_related("user")]
