# ruff: noqa: F811  (pytest fixtures are imported from tests/test_rumours_fixtures.py and named as arguments)
"""Monitoring (issue 11 point 6): the rising-cluster rule (EWMA baseline + Poisson tail) as pure
functions, checked against values computed by hand; volume by topic and district; response time
(median, p90, n) per month and district on the dashboard, published to the plan indicator."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kepu.rumours import monitoring
from tests.test_rumours_fixtures import (  # noqa: F401
    PASSWORD,
    fresh_rate_limits,
    full_debunk,
    response_indicator,
    rumour_people,
    unit,
)


def test_ewma_weights_recent_days_most() -> None:
    assert monitoring.ewma([]) == 0.0
    assert monitoring.ewma([4, 4, 4]) == pytest.approx(4.0)
    # 2 → 0.2*10 + 0.8*2 = 3.6
    assert monitoring.ewma([2, 10], alpha=0.2) == pytest.approx(3.6)


def test_a_burst_over_a_quiet_baseline_is_flagged() -> None:
    # Given a cluster seen about once a day for 28 days, today 12 reports
    t = monitoring.rise_test([1] * 28, 12)
    # Then the baseline is 1 and P(X >= 12 | Poisson(1)) is far below 0.001
    expected = 1 - sum(math.exp(-1) / math.factorial(k) for k in range(12))
    assert t.baseline == pytest.approx(1.0)
    assert t.p_value == pytest.approx(expected, rel=1e-6)
    assert t.rising is True


def test_a_steady_cluster_is_not_flagged() -> None:
    # Given a cluster at about 8 a day, today's 10 is within the usual variation
    t = monitoring.rise_test([8, 7, 9, 8, 8, 9, 7] * 4, 10)
    assert t.rising is False and t.p_value > 0.1


def test_few_reports_are_never_flagged_even_when_improbable() -> None:
    # A new cluster (no history): 4 reports is improbable under the floor baseline, but below the minimum count
    t = monitoring.rise_test([0] * 28, 4)
    assert t.baseline == pytest.approx(monitoring.BASELINE_FLOOR)
    assert t.p_value < 0.001 and t.rising is False
    assert monitoring.rise_test([0] * 28, 5).rising is True
    assert monitoring.rise_test([0] * 28, 0).rising is False


def test_daily_counts_and_response_stats() -> None:
    end = dt.date(2026, 12, 3)
    days = [end, end, end - dt.timedelta(days=2), end - dt.timedelta(days=40)]
    assert monitoring.daily_counts(days, end=end, length=3).tolist() == [1, 0, 2]
    s = monitoring.response_stats([1, 2, 3, 4, 100])
    assert (s.n, s.median) == (5, 3.0)
    assert s.p90 == pytest.approx(4 + 0.6 * 96)  # linear interpolation between the 4th and 5th values
    assert monitoring.response_stats([]) == monitoring.ResponseStats(n=0, median=None, p90=None)


@pytest.mark.django_db
def test_the_dashboard_flags_a_rising_cluster_and_shows_response_times(
        rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    from kepu.rumours import selectors, services
    from kepu.rumours.models import Claim

    now = timezone.now()
    # Given one wording reported once a day for four weeks, then 15 times today (a rising cluster)
    with django_capture_on_commit_callbacks(execute=True):
        for day in range(28, 0, -1):
            services.claim_submit(text="自来水里有新冠病毒", source="public_form", org_unit=unit("320412"),
                                  client=f"d{day}", received_at=now - dt.timedelta(days=day))
        for i in range(15):
            services.claim_submit(text="自来水里有新冠病毒", source="public_form", org_unit=unit("320412"),
                                  client=f"t{i}", received_at=now)
        # and a steady one in Xinbei: 3 a day for four weeks, 3 today
        for day in range(0, 29):
            for i in range(3):
                services.claim_submit(text="吃大蒜能防流感", source="public_form", org_unit=unit("320411"),
                                      client=f"x{day}-{i}", received_at=now - dt.timedelta(days=day))
    rises = selectors.cluster_rises(Claim.objects.all(), today=timezone.localdate())
    flagged = {r.text: r.rising for r in rises}
    assert flagged == {"自来水里有新冠病毒": True, "吃大蒜能防流感": False}
    # And the answer time is tracked: answered now, received 28 days ago
    first = Claim.objects.get(text="自来水里有新冠病毒")
    with django_capture_on_commit_callbacks(execute=True):
        full_debunk(rumour_people, [first])
    c = Client()
    c.login(username="office", password=PASSWORD)
    page = c.get("/rumours/monitor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-rising="1"' in html and "泊松分布" in html and "指数加权移动平均" in html
    assert "武进区" in html and "新北区" in html
    rows = selectors.response_table(Claim.objects.all(), since=(now - dt.timedelta(days=60)).date())
    wujin = [r for r in rows if r.district == "武进区"]
    assert len(wujin) >= 1 and wujin[0].n == 1 and wujin[0].median == pytest.approx(28 * 24, abs=0.5)
    # A district officer's dashboard shows only their district
    w = Client()
    w.login(username="xinbei", password=PASSWORD)
    xb = w.get("/rumours/monitor/").content.decode()
    assert "吃大蒜能防流感" in xb and "自来水里有新冠病毒" not in xb


@pytest.mark.django_db
def test_response_time_is_published_to_the_plan_indicator(rumour_people: dict[str, Any], plan: Any,
                                                         django_capture_on_commit_callbacks: Any) -> None:
    from kepu.plans.models import Observation
    from kepu.rumours import services

    indicator = response_indicator(plan)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        a = services.claim_submit(text="喝隔夜水会致癌", source="public_form", org_unit=unit("320412"), client="a",
                                  received_at=now - dt.timedelta(hours=10)).claim
        b = services.claim_submit(text="吃碘盐防辐射", source="public_form", org_unit=unit("320411"), client="b",
                                  received_at=now - dt.timedelta(hours=4)).claim
        services.claim_submit(text="没人答复的说法", source="public_form", org_unit=unit("320413"), client="c",
                              received_at=now - dt.timedelta(hours=4))
        full_debunk(rumour_people, [a])
        full_debunk(rumour_people, [b], claim_text="吃碘盐防辐射")
    obs = {o.org_unit.code: o.value for o in Observation.objects.filter(indicator=indicator, year=now.year,
                                                                         quarter=0).select_related("org_unit")}
    assert obs["320412"] == pytest.approx(10, abs=0.05)
    assert obs["320411"] == pytest.approx(4, abs=0.05)
    assert obs["320400"] == pytest.approx(7, abs=0.05)  # the median over the city's claims
    assert "320413" not in obs  # no answered claim: no median, no value
