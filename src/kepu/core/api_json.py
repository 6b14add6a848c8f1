"""The API's JSON renderer: strict JSON (see `kepu.core.strict_json`), never ``NaN``/``Infinity``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from kepu.core.strict_json import finite


class StrictEncoder(NinjaJSONEncoder):
    """ninja's encoder (dates, decimals, models, ...), with non-finite floats in what it returns as ``null``."""

    def default(self, o: Any) -> Any:
        return finite(super().default(o))


class StrictJSONRenderer(JSONRenderer):
    """The API's renderer: ``null`` for non-finite floats, and never ``NaN``/``Infinity`` in a response."""

    encoder_class = StrictEncoder
    json_dumps_params = {"allow_nan": False}

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return super().render(request, finite(data), response_status=response_status)
