"""The demo seed covers all seven county-level units and publishes the facilities indicators."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.facilities.demo import seed
from kepu.facilities.models import Base, Venue, VisitCount
from kepu.plans.models import Observation


def test_demo_seeds_every_district_and_publishes(plan: Any) -> None:
    out = seed(plan=plan)
    districts = set(OrgUnit.objects.filter(parent=plan.region, level="district").values_list("code", flat=True))
    assert len(districts) == 7
    assert set(Base.objects.values_list("district__code", flat=True)) == districts
    assert set(Venue.objects.values_list("district__code", flat=True)) == districts
    assert {b.kind for b in Base.objects.all()} == {"general", "stem", "school", "elderly"}
    assert Base.objects.filter(revoked_on__isnull=False).exists()
    elderly = set(Base.objects.filter(kind="elderly").values_list("district__code", flat=True))
    assert 0 < len(elderly) < 7
    assert out["observations"] > 0 and VisitCount.objects.exists()
    city = Observation.objects.get(indicator__code="ELDERLY_TECH_UNIV_COVERAGE", org_unit=plan.region, year=2026,
                                   indicator__plan=plan)
    today = timezone.localdate()
    in_force = {b.district.code for b in Base.objects.filter(kind="elderly") if b.state_on(today) == "active"}
    assert city.value == round(100 * len(in_force) / 7, 1)
    assert Observation.objects.filter(indicator__code="SCI_VENUE_VISITS", year=2025, indicator__plan=plan,
                                      org_unit__code__in=districts).count() == 7


def test_cli_expire_and_publish(plan: Any) -> None:
    import datetime as dt
    import io
    import json

    from django.core.management import call_command

    Base.objects.create(name="到期基地（演示）", kind="general", level="municipal", organisation="x",
                        org_unit=OrgUnit.objects.get(code="320412"), district=OrgUnit.objects.get(code="320412"),
                        first_certified_on=dt.date(2021, 3, 1), valid_from=dt.date(2021, 3, 1),
                        valid_until=dt.date(2024, 2, 28))
    out = io.StringIO()
    call_command("facilities", "expire", "--json", stdout=out)
    assert json.loads(out.getvalue())["expired"][0]["name"] == "到期基地（演示）"
    out = io.StringIO()
    call_command("facilities", "expire", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"expired": []}
    out = io.StringIO()
    call_command("facilities", "publish", "--json", stdout=out)
    assert json.loads(out.getvalue())["observations"] > 0
    assert Observation.objects.get(indicator__code="SCI_BASES_ACTIVE", org_unit__code="320412", year=2023,
                                   indicator__plan=plan).value == 1
    assert Observation.objects.get(indicator__code="SCI_BASES_ACTIVE", org_unit__code="320412", year=2024,
                                   indicator__plan=plan).value == 0
