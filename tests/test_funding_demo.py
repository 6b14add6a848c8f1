"""The funding and recognition demo seeds cover all seven county-level units for 2024–2026 through the
services, so the indicators are published from records (and seeding twice adds nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from kepu.core.models import OrgUnit
from kepu.funding import demo as funding_demo
from kepu.funding.models import Budget, FundAward, FundCall
from kepu.funding.selectors import awarded_total_fen
from kepu.plans.models import Observation
from kepu.recognition import demo as recognition_demo
from kepu.recognition.models import HonourAward

pytestmark = pytest.mark.django_db


def test_demo_seeds_all_districts_and_publishes(plan: Any) -> None:
    out = funding_demo.seed(plan=plan)
    rec = recognition_demo.seed(plan=plan)
    districts = set(OrgUnit.objects.filter(parent=plan.region, level="district").values_list("code", flat=True))
    assert len(districts) == 7
    for year in (2024, 2025, 2026):
        have = set(Budget.objects.filter(year=year, status="approved", org_unit__level="district")
                   .values_list("org_unit__code", flat=True))
        assert have == districts
        pcs = {o.org_unit.code: o.value for o in Observation.objects.filter(
            indicator__code="SCI_FUNDING_PER_CAPITA", year=year).select_related("org_unit")}
        assert districts | {"320400"} <= set(pcs)
        assert all(1 < v < 20 for v in pcs.values()), pcs
        assert Observation.objects.filter(indicator__code="SCI_HONOURS", year=year, org_unit__code="320400").exists()
    growth = Observation.objects.filter(indicator__code="SCI_FUNDING_GROWTH", year=2026)
    assert {o.org_unit.code for o in growth} >= districts
    call = FundCall.objects.get()
    assert 0 < awarded_total_fen(call) <= call.budget_fen and FundAward.objects.exists()
    assert HonourAward.objects.filter(revoked=True).count() == 1
    assert out["budgets"] > 21 and rec["awards"] > 7
    assert funding_demo.seed(plan=plan)["budgets"] == 0 and recognition_demo.seed(plan=plan)["nominations"] == 0
