"""The events demo seeds all seven county-level units for 2024–2026 and publishes the indicators
from its records."""

from __future__ import annotations

from typing import Any

import pytest

from kepu.core.models import OrgUnit
from kepu.events import demo
from kepu.events.indicators import certified_counts, technician_counts
from kepu.events.models import CheckIn, Event, Registration
from kepu.plans.models import Observation

pytestmark = pytest.mark.django_db


def test_demo_covers_every_district_and_publishes_from_records(plan: Any) -> None:
    counts = demo.seed(plan=plan, year=2026, rng_seed=10)
    districts = set(OrgUnit.objects.filter(parent=plan.region, level="district").values_list("code", flat=True))
    assert len(districts) == 7
    for year in (2024, 2025, 2026):
        assert set(Event.objects.filter(starts_at__year=year).values_list("district__code", flat=True)) == districts
    assert counts["checkins"] == CheckIn.objects.count() > 1000
    assert Registration.objects.filter(certified_at__isnull=False).count() == counts["certified"] > 0
    # Every district has a published value of each training indicator and T10's for 2025, equal to the records
    by, city = certified_counts(city=plan.region, year=2025, code="HQ_FARMERS")
    for code in districts:
        obs = Observation.objects.get(indicator__code="HQ_FARMERS", org_unit__code=code, year=2025, quarter=0)
        assert obs.value == by[code] > 0 and obs.source == "events"
    assert Observation.objects.get(indicator__code="HQ_FARMERS", org_unit=plan.region, year=2025).value == city
    tby, _tcity = technician_counts(city=plan.region, year=2025)
    assert set(tby) == districts and all(v > 0 for v in tby.values())
    # Some farmers came to more than one training, so the city counts fewer people than certificates
    certs = Registration.objects.filter(
        certified_at__isnull=False, event__starts_at__year=2025, event__training_kind__in=["hq_farmers", "agri_leaders"]
    ).count()
    assert city < certs
    # Events carry a realistic mix of 五进 settings: every setting occurs, trainings by kind, some unrecorded
    settings = set(Event.objects.values_list("setting", flat=True))
    assert settings == {"", "enterprise", "village", "community", "school", "family"}
    assert Event.objects.filter(setting="").count() < Event.objects.count() / 2
    farmers = Event.objects.filter(training_kind="hq_farmers")
    assert farmers.filter(setting="village").count() > farmers.filter(setting="").count() > 0
    assert not Event.objects.filter(training_kind="skilled_workers", setting="school").exists()
    # Seeding again adds nothing
    assert demo.seed(plan=plan)["events"] == 0
