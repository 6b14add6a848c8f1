"""Trending needs (search terms and viewed topics rising per district and key group, jieba keywords,
a binomial rise test with a minimum count) set against the catalogue, and the gaps page editors see
(issue 9 point 7)."""

from __future__ import annotations

import datetime as dt
from itertools import count
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from kepu.citizens.models import Citizen, Consent, Purpose
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.outreach import demand as demand_module
from kepu.outreach import engagement, search
from kepu.outreach.demand import demand, keywords, rise_test
from kepu.outreach.models import Resource, Topic

WUJIN, XINBEI, CITY = "320412", "320411", "320400"
_n = count(1)


def citizen(district: str, groups: list[str]) -> Citizen:
    n = next(_n)
    user = User.objects.create(username=f"dm{n}")
    c = Citizen.objects.create(user=user, pseudonym=f"p{n:063d}", district=OrgUnit.objects.get(code=district),
                               key_groups=groups, age_band="50-59")
    Consent.objects.create(citizen=c, purpose=Purpose.ANALYTICS, granted=True)
    return c


def days_ago(n: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=n), dt.time(10)))


def searches(people: list[Citizen], query: str, day: int) -> None:
    for p in people:
        engagement.record(p, "search", query=query, at=days_ago(day))


@pytest.fixture
def signals(region: Any, make_user: Any) -> dict[str, Any]:
    """In 武进区, 15 farmers now search 诈骗 (1 did in the four weeks before); 20 people search 流感疫苗 in
    each window (steady); 3 search 换脸 now (too few to call). Health pieces draw 8 viewers now, none before."""
    health = Topic.objects.create(code="health", name_zh="健康生活", name_en="Healthy living")
    flu = Resource.objects.create(code="flu-vaccine", title_zh="流感疫苗怎么打", summary_zh="流感疫苗",
                                  status=Resource.Status.PUBLISHED, published_at=timezone.now())
    flu.topics.add(health)
    farmers = [citizen(WUJIN, ["farmers"]) for _ in range(16)]
    steady_now = [citizen(WUJIN, ["workers"]) for _ in range(10)] + [citizen(XINBEI, ["workers"]) for _ in range(10)]
    steady_before = [citizen(WUJIN, ["workers"]) for _ in range(10)] + [citizen(XINBEI, ["workers"]) for _ in range(10)]
    searches(farmers[:15], "诈骗", 3)
    searches(farmers[15:], "诈骗", 40)
    searches(steady_now, "流感疫苗", 5)
    searches(steady_before, "流感疫苗", 35)
    searches(farmers[:3], "换脸", 2)
    for p in farmers[:8]:
        engagement.record(p, "view", resource=flu, at=days_ago(4))
    # One person asking the same thing again and again is one searcher
    for day in range(30, 50):
        engagement.record(steady_before[0], "search", query="流感疫苗", at=days_ago(day))
    return {
        "office": make_user("office", ("office_admin", CITY, None)),
        "wujin_editor": make_user("wjeditor", ("editor", WUJIN, None)),
        "xinbei_editor": make_user("xbeditor", ("editor", XINBEI, None)),
        "health": health,
    }


def by_key(trends: list[Any]) -> dict[str, Any]:
    return {t.key: t for t in trends}


def test_rise_test_is_the_exact_binomial_tail_given_the_totals() -> None:
    # 10 of 12 in the current window where half of all searching happened: P(X >= 10 | 12, 0.5)
    expected, p = rise_test(10, 2, 100, 100)
    assert expected == 6.0
    assert p == pytest.approx((66 + 12 + 1) / 4096, abs=1e-12)
    # No activity before at all: nothing can be called rising
    assert rise_test(10, 0, 10, 0) == (10.0, 1.0)


def test_keywords_are_normalised_and_use_the_project_user_dictionary(settings: Any, tmp_path: Any) -> None:
    words = tmp_path / "userdict.txt"
    words.write_text("隔夜水 50 n\n", encoding="utf-8")
    settings.KEPU_OUTREACH_USERDICT = words
    search._tokenizer.cache_clear()
    demand_module._extractor.cache_clear()
    demand_module._keywords.cache_clear()
    try:
        assert "隔夜水" in keywords("隔夜水会致癌吗")
        assert "高血压" in keywords("高血壓 飲食")  # traditional characters
    finally:
        search._tokenizer.cache_clear()
        demand_module._extractor.cache_clear()
        demand_module._keywords.cache_clear()


def test_a_term_rising_significantly_is_a_trend_and_a_gap(signals: Any) -> None:
    result = demand(scope=scope_for(signals["office"]), days=28)
    terms = by_key(result.terms)
    fraud = terms["诈骗"]
    assert (fraud.now, fraud.before, fraud.rising) == (15, 1, True)
    assert fraud.p_value < 0.01
    # steady searching is not rising, and three people are too few to call anything
    assert (terms["流感疫苗"].now, terms["流感疫苗"].before, terms["流感疫苗"].rising) == (20, 20, False)
    assert terms["换脸"].now == 3 and not terms["换脸"].rising
    # no published piece covers 诈骗: a gap
    assert [g.key for g in result.gaps] == ["诈骗"]
    # topics: 8 people read health pieces now, none before, while activity stayed in proportion
    health = by_key(result.topics)["health"]
    assert (health.now, health.before, health.rising) == (8, 0, True)
    assert health.p_value == pytest.approx((35 / 56) ** 8, rel=1e-4)  # 35 active now, 21 before


def test_a_term_the_catalogue_covers_is_not_a_gap(signals: Any) -> None:
    for code, title in (("fraud-1", "识破电信诈骗的五个办法"), ("fraud-2", "老年人防诈骗指南")):
        Resource.objects.create(code=code, title_zh=title, summary_zh=title, status=Resource.Status.PUBLISHED,
                                published_at=timezone.now())
    result = demand(scope=scope_for(signals["office"]), days=28)
    fraud = by_key(result.terms)["诈骗"]
    assert fraud.rising and sorted(r.code for r in fraud.resources) == ["fraud-1", "fraud-2"]
    assert result.gaps == []


def test_trends_per_district_and_key_group(signals: Any) -> None:
    office = scope_for(signals["office"])
    xinbei = OrgUnit.objects.get(code=XINBEI)
    assert "诈骗" not in by_key(demand(scope=office, district=xinbei).terms)
    assert by_key(demand(scope=office, group="farmers").terms)["诈骗"].now == 15
    assert "流感疫苗" not in by_key(demand(scope=office, group="farmers").terms)
    # a 新北 editor sees only 新北, whatever district they ask for
    assert "诈骗" not in by_key(demand(scope=scope_for(signals["xinbei_editor"])).terms)


def test_the_demand_page_shows_editors_the_gaps_with_a_link_to_create_a_resource(signals: Any) -> None:
    client = Client()
    client.force_login(signals["wujin_editor"])
    page = client.get("/outreach/demand/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="gap-create"' in html and "title_zh=%E8%AF%88%E9%AA%97" in html  # 诈骗
    # 新北's editor asking for 武进 gets their own district, without the gap
    other = Client()
    other.force_login(signals["xinbei_editor"])
    html = other.get("/outreach/demand/", {"district": WUJIN}).content.decode()
    assert "gap-create" not in html and "诈骗" not in html


def test_the_demand_page_is_refused_to_other_roles(signals: Any, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("wjreporter", ("district_reporter", WUJIN, None)))
    assert client.get("/outreach/demand/").status_code == 403
    assert Client().get("/outreach/demand/").status_code == 302  # to the login page
