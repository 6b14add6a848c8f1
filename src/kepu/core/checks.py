"""Refuse to serve production traffic on the embedded secret key.

The embedded key is public (it is in the source), so anyone could forge sessions and CSRF tokens
with it. It is accepted only in debug mode or in the explicit embedded mode `kepu demo` sets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

MESSAGE = (
    "Kepu is running with KEPU_DEBUG=0 on the embedded secret key, which is public. Set KEPU_SECRET_KEY to "
    "a random string of 50 or more characters (python -c \"import secrets; print(secrets.token_urlsafe(50))\" "
    "prints one), or run the single-user demo with `kepu demo --serve`."
)


def uses_embedded_key() -> bool:
    return bool(settings.SECRET_KEY == settings.KEPU_EMBEDDED_SECRET_KEY)


def require_production_key() -> None:
    """Called where a web server starts (`kepu serve`, kepu.wsgi): fail before serving a request."""
    if uses_embedded_key() and not settings.DEBUG and not settings.KEPU_EMBEDDED:
        raise ImproperlyConfigured(MESSAGE)


@register(Tags.security, deploy=True)
def embedded_key_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if uses_embedded_key():
        return [Error("The embedded secret key is in use.", hint="Set KEPU_SECRET_KEY (50+ random characters).",
                      id="kepu.E001")]
    return []
