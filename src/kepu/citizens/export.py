"""Data export hook (PIPL right of access): each app registers a callable(citizen) returning
{section: JSON-ready data} with that app's rows about the citizen; /me/data/ merges them.

    from kepu.citizens.export import on_export
    on_export(lambda citizen: {"quiz_answers": [...]})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kepu.citizens.models import Citizen

Callback = Callable[["Citizen"], dict[str, Any]]
_callbacks: list[Callback] = []


def on_export(callback: Callback) -> Callback:
    """Register `callback` (once). Usable as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def callbacks() -> list[Callback]:
    return list(_callbacks)
