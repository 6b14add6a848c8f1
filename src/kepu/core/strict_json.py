"""Strict JSON: no ``NaN`` or ``Infinity`` anywhere (strict parsers reject them).

An undefined number is written as ``null``; whoever produces it says why (e.g. an estimate's ``flags``).
Used by ``kepu literacy estimate --json`` and by the API's renderer (`kepu.core.api_json`, kept apart so
that the command does not import django-ninja and pydantic)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (also inside dicts, lists and tuples) replaced by ``None``;
    numpy scalars become Python numbers."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``finite(value)``; raises ValueError rather than write NaN or Infinity."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
