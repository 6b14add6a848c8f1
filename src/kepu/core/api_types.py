"""Input types shared by the API's schemas."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD: pydantic would also read a number as seconds since 1970."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("a day as YYYY-MM-DD")
    return value


# A calendar day written as YYYY-MM-DD.
IsoDay = Annotated[dt.date, BeforeValidator(_iso_day)]
