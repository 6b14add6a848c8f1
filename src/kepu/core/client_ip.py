"""The client's network address, for the login lockout (django-axes calls this) and rate limits."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind KEPU_PROXY_COUNT proxies the address the outermost of them saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N
    proxies the client is the N-th entry from the right; entries further left came from the client
    itself and could be forged."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count = settings.KEPU_PROXY_COUNT
    if count <= 0:
        return remote
    chain = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    return chain[-count] if len(chain) >= count else remote
