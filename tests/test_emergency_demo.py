"""The emergency demo seed: the starter knowledge base loaded, reviewed by a talent-pool expert and
published; emergency events in all seven county-level units for 2024–2026, ended ones kept on
record and one active (pinned); running it twice adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_demo_seed(plan: Any, make_user: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.emergency import demo
    from kepu.emergency.loader import DEFAULT_FILE
    from kepu.emergency.models import EmergencyEvent, Guidance, Hazard
    from kepu.emergency.selectors import pinned_for_unit
    from kepu.outreach.catalogue_demo import catalogue_demo

    if not DEFAULT_FILE.exists():
        pytest.skip("the starter set is being written")
    office = make_user("office", ("office_admin", "320400", None))
    office2 = make_user("office2", ("office_admin", "320400", None))
    make_user("editor", ("editor", "320400", None))
    make_user("editor2", ("editor", "320400", None))
    catalogue_demo()
    out = demo.seed(plan=plan)
    assert out["hazards"] == Hazard.objects.count() >= 10
    assert out["published"] == Guidance.objects.filter(status="published").count() == Guidance.objects.count()
    g = Guidance.objects.first()
    assert g is not None and g.author == office and g.reviewed_by not in (None, office, office2)
    assert Hazard.objects.exclude(resource_codes=[]).exists()
    districts = OrgUnit.objects.filter(parent=plan.region, level="district")
    assert districts.count() == 7
    for d in districts:
        assert EmergencyEvent.objects.filter(affected__path__startswith=d.path).exists(), d.code
    assert EmergencyEvent.objects.filter(ended_at__isnull=True).count() == 1
    assert {e.starts_at.year for e in EmergencyEvent.objects.all()} == {2024, 2025, 2026}
    assert pinned_for_unit(OrgUnit.objects.get(code="320481"))
    n = EmergencyEvent.objects.count()
    again = demo.seed(plan=plan)
    assert again["events"] == 0 and again["hazards"] == 0 and EmergencyEvent.objects.count() == n
