"""The community demo seeds every county-level unit and publishes its indicators."""

from __future__ import annotations

from typing import Any

from kepu.community.demo import seed
from kepu.community.models import Expert, ServiceRecord, Volunteer, VolunteerTeam
from kepu.core.models import OrgUnit
from kepu.plans.models import Observation


def test_demo_covers_all_seven_units_and_publishes(plan: Any) -> None:
    out = seed(plan=plan)
    districts = set(OrgUnit.objects.filter(parent=plan.region, level="district").values_list("code", flat=True))
    assert len(districts) == 7
    assert Expert.objects.count() == 30 and Expert.objects.filter(user__username="expert1").exists()
    assert set(Volunteer.objects.values_list("org_unit__code", flat=True)) == districts
    assert set(VolunteerTeam.objects.filter(kind="silver").values_list("org_unit__code", flat=True)) == districts
    assert set(ServiceRecord.objects.values_list("status", flat=True)) == {"approved", "pending", "rejected"}
    assert {r.start.year for r in ServiceRecord.objects.all()} == {2024, 2025, 2026}
    hours = Observation.objects.filter(indicator__plan=plan, indicator__code="VOLUNTEER_HOURS", year=2026)
    assert set(hours.values_list("org_unit__code", flat=True)) >= districts
    assert all(o.value > 0 for o in hours)
    assert out["volunteers"] == Volunteer.objects.count()
    # a second run adds nothing but republishes (the plan's demo may have replaced observations)
    Observation.objects.filter(indicator__code="VOLUNTEER_HOURS").delete()
    again = seed(plan=plan)
    assert again["volunteers"] == 0 and again["published"] > 0 and hours.exists()


def test_the_publish_command_republishes_the_volunteer_indicators(plan: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    seed(plan=plan)
    Observation.objects.filter(indicator__code="VOLUNTEER_HOURS").delete()
    out = StringIO()
    call_command("community", "publish-volunteers", "--year", "2025", stdout=out)
    assert "Published" in out.getvalue()
    assert Observation.objects.filter(indicator__plan=plan, indicator__code="VOLUNTEER_HOURS", year=2025,
                                      org_unit__code="320412").get().value > 0
