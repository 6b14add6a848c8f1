"""What the outreach app contributes to plan indicators: the citizens of each of the plan's five key
groups reached in a year (distinct citizens who viewed content or opened a push, counted from the
pseudonymous engagement events of citizens who consented to analytics) become observations of the
plan's OUTREACH_REACH_* indicators for the city and each district. No one types these numbers in.

A citizen is counted in the district and groups copied onto their events at event time; one who
moved district within the year counts in both districts, once in the city."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.scope import Scope
from kepu.core.services import audit_record
from kepu.outreach.engagement import REACH_KINDS, counted, key_group_reach
from kepu.plans.models import Observation, Plan
from kepu.plans.selectors import indicator_get
from kepu.plans.services import observation_publish

REACH_INDICATORS = {
    "youth": "OUTREACH_REACH_YOUTH",
    "farmers": "OUTREACH_REACH_FARMERS",
    "workers": "OUTREACH_REACH_WORKERS",
    "elderly": "OUTREACH_REACH_ELDERLY",
    "officials": "OUTREACH_REACH_OFFICIALS",
}


def reach_by_group(*, unit: OrgUnit | None, year: int) -> dict[str, int]:
    """Distinct citizens reached per key group in the year: city-wide (unit None) or in one district."""
    rows = counted(Scope(superuser=True)).filter(
        kind__in=REACH_KINDS, at__date__gte=dt.date(year, 1, 1), at__date__lte=dt.date(year, 12, 31)
    )
    if unit is not None:
        rows = rows.filter(district=unit)
    found = key_group_reach(rows)
    return {group: found.get(group, 0) for group in REACH_INDICATORS}


@transaction.atomic
def reach_publish(*, plan: Plan, year: int, actor: User | None = None) -> list[Observation]:
    """Publish the year's reach per key group for the plan's city and each of its districts
    (replacing earlier values for that year; idempotent). A plan without these indicators is refused."""
    indicators = {g: indicator_get(plan, code) for g, code in REACH_INDICATORS.items()}
    missing = [REACH_INDICATORS[g] for g, i in indicators.items() if i is None]
    if len(missing) == len(REACH_INDICATORS):
        raise InputError(f"Plan {plan.code} has none of the outreach reach indicators ({', '.join(missing)}).")
    units: list[tuple[OrgUnit, OrgUnit | None]] = [(plan.region, None)]
    districts = OrgUnit.objects.filter(parent=plan.region, level=OrgUnit.Level.DISTRICT).order_by("code")
    units += [(d, d) for d in districts if d.active_in_year(year)]
    out = []
    for unit, district in units:
        reached = reach_by_group(unit=district, year=year)
        for group, indicator in indicators.items():
            if indicator is None:
                continue
            out.append(observation_publish(
                indicator=indicator, org_unit=unit, year=year, value=reached[group], source="outreach",
                note=f"科普信息化平台 {year} 年浏览内容或打开推送的居民(去重，仅计同意匿名统计的居民)",
            ))
    audit_record(
        actor=actor, action="outreach.reach_publish", obj=plan, changes={"observations": (None, len(out))},
        comment=f"发布到规划：{year} 年重点人群科普触达人数（全市和各辖市(区)，{len(out)} 项）",
    )
    return out
