"""Token auth for scripts: `Authorization: Bearer kp_…` (only the token's hash is stored)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from kepu.core.models import ApiToken
from kepu.core.services import token_hash


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = (ApiToken.objects.select_related("user")
               .filter(key_hash=token_hash(token), revoked=False, user__is_active=True).first())
        if row is None:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        request.user = row.user
        return row.user
