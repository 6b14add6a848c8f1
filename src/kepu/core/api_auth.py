"""Token auth for scripts: `Authorization: Bearer kp_…` (only the token's hash is stored)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from kepu.core.models import ApiToken, RoleAssignment
from kepu.core.services import token_hash


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        now = timezone.now()
        row = (ApiToken.objects.select_related("user")
               .filter(key_hash=token_hash(token), revoked=False, expires_at__gt=now, user__is_active=True)
               .filter(Exists(RoleAssignment.objects.filter(user=OuterRef("user"))))
               .first())
        if row is None or row.state(now) != ApiToken.State.ACTIVE:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user
