"""Refuse to serve production traffic on an embedded key.

The embedded keys are public (they are in the source): with the secret key anyone could forge
sessions and CSRF tokens, with the pseudonym key anyone could link respondents to their pseudonyms.
They are accepted only in debug mode or in the explicit embedded mode `kepu demo --serve` sets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# setting → (its embedded value's setting, check id)
KEYS = {
    "SECRET_KEY": ("KEPU_EMBEDDED_SECRET_KEY", "kepu.E001"),
    "KEPU_PSEUDONYM_KEY": ("KEPU_EMBEDDED_PSEUDONYM_KEY", "kepu.E002"),
}


def embedded_keys() -> list[tuple[str, str]]:
    """(environment variable, check id) of each key whose setting still holds the public embedded value."""
    found = []
    for name, (embedded, check_id) in KEYS.items():
        value = getattr(settings, name, None)
        if value is not None and value == getattr(settings, embedded, object()):
            found.append((name if name.startswith("KEPU_") else f"KEPU_{name}", check_id))
    return found


def require_production_key() -> None:
    """Called where a web server starts (`kepu serve`, kepu.wsgi): fail before serving a request."""
    missing = [variable for variable, _id in embedded_keys()]
    if missing and not settings.DEBUG and not settings.KEPU_EMBEDDED:
        raise ImproperlyConfigured(
            f"Kepu is running with KEPU_DEBUG=0 on a public embedded key. Set {' and '.join(missing)}, each to "
            "its own random string of 50 or more characters (python -c \"import secrets; "
            "print(secrets.token_urlsafe(50))\" prints one), or run the single-user demo with `kepu demo --serve`."
        )


@register(Tags.security, deploy=True)
def embedded_key_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return [Error(f"The embedded {variable} is in use.", hint=f"Set {variable} (50+ random characters).", id=check_id)
            for variable, check_id in embedded_keys()]
