"""Per-client counters for rate limits, kept in Django's cache (Redis when KEPU_REDIS_URL is set, so
every web worker on every machine counts the same client together).

A client is its network address, read the way the login lockout reads it (django-axes, which honours
KEPU_PROXY_COUNT behind a proxy); an IPv6 address counts as its /64 network, since one household or
phone gets a whole /64. The cache never holds the address itself: keys carry a keyed hash under a
random salt that lives only in the cache and changes every day, so yesterday's keys cannot be linked
back to an address by anyone, the operator included."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time

from django.core.cache import cache
from django.http import HttpRequest

DAY = 24 * 3600


def client_address(request: HttpRequest) -> str:
    from axes.helpers import get_client_ip_address

    raw = get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _daily_salt() -> str:
    # Days are counted like the daily windows below (UTC days), so a "day" means the same to both.
    key = f"kepu:rl:salt:{int(time.time()) // DAY}"
    return str(cache.get_or_set(key, lambda: secrets.token_hex(32), timeout=2 * DAY))


def client_key(request: HttpRequest) -> str:
    """Today's opaque name for the request's client (the same all day, unlinkable across days)."""
    return hmac.new(_daily_salt().encode(), client_address(request).encode(), hashlib.sha256).hexdigest()[:32]


def hit(bucket: str, client: str, *, limit: int, window: int) -> bool:
    """Count one event for the client in the current fixed window of `window` seconds; True while
    the count stays within `limit`."""
    key = f"kepu:rl:{bucket}:{client}:{int(time.time()) // window}"
    cache.add(key, 0, timeout=window + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 60)
        count = 1
    return count <= limit
