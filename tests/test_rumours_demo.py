
"""The demo seed: claims in all seven county-level units over the last 90 days, debunks published
through the workflow, one cluster rising today, the response-time indicator published; idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests.test_rumours_fixtures import fresh_rate_limits, response_indicator  # noqa: F401

pytestmark = pytest.mark.django_db


def test_demo_seed(plan: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.plans.models import Observation
    from kepu.rumours import demo, selectors
    from kepu.rumours.models import Claim, Debunk

    indicator = response_indicator(plan)
    with django_capture_on_commit_callbacks(execute=True):
        out = demo.seed(plan=plan)
    districts = OrgUnit.objects.filter(parent=plan.region, level="district")
    assert districts.count() == 7
    assert set(Claim.objects.values_list("district_id", flat=True).distinct()) == set(districts.values_list("pk",
                                                                                                            flat=True))
    assert out["debunks"] == 5 and Debunk.objects.filter(status="published").count() == 5
    assert set(Claim.objects.values_list("source", flat=True)) >= {"public_form", "editor", "partner"}
    rises = [r for r in selectors.cluster_rises(Claim.objects.all(), today=timezone.localdate()) if r.rising]
    assert len(rises) == 1 and "诺如" in rises[0].text
    assert Observation.objects.filter(indicator=indicator, year=timezone.localdate().year,
                                      org_unit=plan.region).exists()
    assert demo.seed(plan=plan) == {"claims": 0, "debunks": 0}
