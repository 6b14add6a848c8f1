"""Data export hook (PIPL right of access): each app registers a callable(citizen) returning
{section: JSON-ready data} with that app's rows about the citizen; /me/data/download/ merges them,
and /me/data/ lists each section by its label with the number of rows::

    from kepu.citizens.export import on_export
    on_export(quiz_rows, labels={"quiz_answers": _("答题记录")})   # labels: gettext_lazy strings
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kepu.citizens.models import Citizen

Callback = Callable[["Citizen"], dict[str, Any]]
_callbacks: list[Callback] = []
_labels: dict[str, Any] = {}


def on_export(callback: Callback, labels: Mapping[str, Any] | None = None) -> Callback:
    """Register `callback` (once), with the page's names for its sections. Usable as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    _labels.update(labels or {})
    return callback


def callbacks() -> list[Callback]:
    return list(_callbacks)


def labels() -> dict[str, Any]:
    return dict(_labels)
