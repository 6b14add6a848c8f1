"""What the emergency app contributes to plan indicators (P4.3 深化应急科普力度), published inside
the service transaction that changed the records:

- EMERGENCY_RESPONSES (flow): emergency events declared in a year, per district (an event affecting
  several districts counts once in each; the city counts each event once). Published on declaring.
- EMERGENCY_GUIDANCE (stock): published emergency-science guidance items in the knowledge base (the
  应急科普宣教资源数据库), a city figure (the guidance serves every district). Published when guidance
  is published, withdrawn or reloaded.

A plan without these indicators is skipped (publish_by_district looks each code up per plan)."""

from __future__ import annotations

from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.emergency.models import EmergencyEvent, Guidance
from kepu.plans.derived import ancestor_at, publish_by_district

SOURCE = "emergency"
RESPONSES = "EMERGENCY_RESPONSES"
GUIDANCE = "EMERGENCY_GUIDANCE"


def responses_by_district(city: OrgUnit, year: int) -> tuple[dict[str, int], int]:
    """Events of the year per district of the city, and the number of distinct events in the city."""
    events = EmergencyEvent.objects.filter(starts_at__year=year, org_unit__path__startswith=city.path)
    by: dict[str, set[int]] = {}
    seen: set[int] = set()
    for pk, unit_pk in events.values_list("pk", "affected"):
        unit = OrgUnit.objects.filter(pk=unit_pk).first() if unit_pk else None
        district = ancestor_at(unit, OrgUnit.Level.DISTRICT)
        if district is not None:
            by.setdefault(district.code, set()).add(pk)
        seen.add(pk)
    return {code: len(ids) for code, ids in by.items()}, len(seen)


def responses_publish(*, unit: OrgUnit, year: int) -> None:
    city = ancestor_at(unit, OrgUnit.Level.CITY)
    if city is None:
        return
    by, total = responses_by_district(city, year)
    publish_by_district(code=RESPONSES, year=year, city=city, by_district=by, city_value=total, source=SOURCE,
                        note=f"应急科普平台 {year} 年宣布的应急状态次数（影响多个辖市(区)的计入每个辖市(区)）")


def guidance_publish_count() -> None:
    year = timezone.localdate().year
    n = Guidance.objects.filter(status=Guidance.Status.PUBLISHED).count()
    for city in OrgUnit.objects.filter(level=OrgUnit.Level.CITY):
        publish_by_district(code=GUIDANCE, year=year, city=city, by_district={}, city_value=n, source=SOURCE,
                            note="应急科普知识库中经专家审核并发布的应急指引条数")
