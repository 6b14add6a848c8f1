"""Account deletion hook: each app registers a callable(citizen) that removes or anonymises its
own rows. `kepu.citizens.services.citizen_delete` runs them all inside the delete transaction, so
either everything goes or nothing does.

Register at import time of a module Django always loads (e.g. the app's `apps.py` `ready()`)::

    from kepu.citizens.deletion import on_delete
    on_delete(my_app_forget_citizen)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kepu.citizens.models import Citizen

Callback = Callable[["Citizen"], object]
_callbacks: list[Callback] = []


def on_delete(callback: Callback) -> Callback:
    """Register `callback` (once; registering it again is a no-op). Usable as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def callbacks() -> list[Callback]:
    return list(_callbacks)
