"""What the rumours app contributes to plan indicators (no one types these numbers in):
- RUMOUR_RESPONSE_MEDIAN_HOURS: median hours from a claim's first arrival to its published answer,
  over the claims received in the year that have been answered, per district of the claim (the city's
  value is the median over all its districts' claims, not a mean of medians).
Published from the services that answer claims (a debunk published, a claim matched), inside their
transaction. A district with claims but none answered yet has no value (a median of nothing is not 0)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.plans.derived import ancestor_at, publish_by_district, publishable_year
from kepu.plans.models import Observation
from kepu.rumours.models import Claim
from kepu.rumours.monitoring import response_stats

SOURCE = "rumours"
CODE = "RUMOUR_RESPONSE_MEDIAN_HOURS"


def response_hours(year: int) -> dict[int, dict[str, list[float]]]:
    """{city id: {district code: [hours, ...]}} for answered claims received in `year`."""
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    out: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows = (Claim.objects.filter(received_at__gte=start, received_at__lt=end, answered_at__isnull=False)
            .select_related("district").values_list("district__parent_id", "district__code", "received_at",
                                                     "answered_at"))
    for city_id, code, received, answered in rows:
        if city_id is None or answered is None:
            continue
        out[city_id][code].append(max((answered - received).total_seconds() / 3600, 0.0))
    return out


def response_publish(*, year: int) -> list[Observation]:
    if not publishable_year(year):
        return []
    out: list[Observation] = []
    for city_id, by_district in response_hours(year).items():
        city = ancestor_at(OrgUnit.objects.filter(pk=city_id).first(), OrgUnit.Level.CITY)
        if city is None:
            continue
        medians = {code: round(s.median, 2) for code, hours in by_district.items()
                   if (s := response_stats(hours)).median is not None}
        if not medians:
            continue
        overall = response_stats([h for hours in by_district.values() for h in hours])
        out += publish_by_district(code=CODE, year=year, city=city, by_district=medians,
                                   city_value=round(overall.median, 2) if overall.median is not None else None,
                                   source=SOURCE,
                                   note=f"科学辟谣：{year} 年收到并已答复的谣言线索，从收到到发布答复的小时数中位数")
    return out
