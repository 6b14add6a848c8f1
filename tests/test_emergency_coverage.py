"""五进 coverage (issue 11, point 2): science events and push campaigns counted per setting
(enterprise, village, community, school, family) per district and year, from the events' recorded
setting (Event.setting), guessed from venue and title only for events without one (the mapping is
documented in kepu.emergency.coverage), and the campaigns' segment rules; shown on a per-district
page within the viewer's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests import test_emergency_kb as kb

pytestmark = pytest.mark.django_db

WUJIN, XINBEI = "320412", "320411"


@pytest.mark.parametrize(("title", "venue", "groups", "expected"), [
    ("防溺水安全课", "湖塘实验小学报告厅", [], "school"),
    ("安全生产讲座", "常州天合光能有限公司三号车间", [], "enterprise"),
    ("防汛知识宣讲", "雪堰镇城湾村村委会", [], "village"),
    ("反诈宣传", "花园新村活动室", [], "community"),
    ("反诈宣传", "西湖街道文化站", [], "community"),
    ("亲子科学实验", "市科技馆", [], "family"),
    ("科普讲座", "市科技馆", ["farmers"], "village"),
    ("科普讲座", "市科技馆", [], "unclassified"),
])
def test_event_setting_mapping(title: str, venue: str, groups: list[str], expected: str) -> None:
    from kepu.emergency.coverage import event_setting

    assert event_setting(title=title, venue=venue, key_groups=groups) == expected


def test_campaign_settings_from_segment_rules() -> None:
    from kepu.emergency.coverage import campaign_settings, campaign_unit_codes

    rules = {"all": [{"field": "district", "op": "in", "value": [WUJIN]},
                     {"field": "key_groups", "op": "contains_any", "value": ["youth", "elderly"]},
                     {"not": {"field": "key_groups", "op": "contains", "value": "farmers"}}]}
    assert campaign_settings(rules) == {"school", "family"}
    assert campaign_unit_codes(rules) == {WUJIN}
    assert campaign_settings({"field": "town", "op": "in", "value": ["x"]}) == {"community"}


def test_a_recorded_setting_wins_over_the_guess() -> None:
    from kepu.emergency.coverage import event_setting

    # the venue says school, the key groups say village: the recorded setting decides
    guess = event_setting(title="防溺水安全课", venue="湖塘实验小学", key_groups=["farmers"], setting="family")
    assert guess == "family"
    assert event_setting(title="科普讲座", venue="市科技馆", key_groups=[], setting="enterprise") == "enterprise"
    # no (or an unknown) recorded setting: the guess as before
    assert event_setting(title="防溺水安全课", venue="湖塘实验小学", key_groups=[], setting="") == "school"
    assert event_setting(title="科普讲座", venue="市科技馆", key_groups=[], setting="street") == "unclassified"


def _event(user: Any, unit: str, title: str, venue: str, when: dt.datetime, cancelled: bool = False,
           setting: str = "") -> Any:
    from kepu.events.services import event_create

    e = event_create(actor=user, org_unit=kb.unit(unit), title=title, organiser="区科协", venue=venue,
                     starts_at=when, ends_at=when + dt.timedelta(hours=2), kind="event", setting=setting)
    if cancelled:
        type(e).objects.filter(pk=e.pk).update(status="cancelled")
    return e


def test_coverage_counts_events_and_campaigns_per_district_and_setting(users: Any, make_user: Any) -> None:
    from kepu.emergency.coverage import coverage
    from kepu.outreach.campaigns import campaign_create
    from kepu.outreach.models import Resource
    from kepu.outreach.segments import segment_save

    when = timezone.make_aware(dt.datetime(2026, 5, 20, 9))
    _event(users["wujin"], WUJIN, "防溺水安全课", "湖塘实验小学", when)
    _event(users["wujin"], WUJIN, "防汛宣讲", "城湾村村委会", when)
    _event(users["wujin"], WUJIN, "防汛宣讲", "城湾村村委会", when, cancelled=True)
    _event(users["wujin"], WUJIN, "旧年活动", "湖塘实验小学", when.replace(year=2025))
    _event(users["xinbei"], XINBEI, "安全生产", "新北工业园区", when)
    camp = make_user("camp", ("campaigner", "320400", None))
    res = Resource.objects.create(code="r1", title_zh="防汛", status="published", published_at=timezone.now())
    seg = segment_save(actor=camp, code="wj-elderly", name_zh="武进老人", rules={"all": [
        {"field": "district", "op": "in", "value": [WUJIN]},
        {"field": "key_groups", "op": "contains", "value": "elderly"}]})
    campaign_create(user=camp, name="老人防汛", org_unit=kb.unit("320400"), segment=seg, resources=[res],
                    channel="inbox", title="防汛", message="防汛", send_at=timezone.now())
    seg_all = segment_save(actor=camp, code="all", name_zh="全市", rules={"field": "age_band", "op": "in",
                                                                          "value": ["60-69"]})
    campaign_create(user=camp, name="全市", org_unit=kb.unit("320400"), segment=seg_all, resources=[res],
                    channel="inbox", title="防汛", message="防汛", send_at=timezone.now())

    rows = {r.district.code: r for r in coverage(users["office"], year=2026)}
    assert len(rows) == 7
    assert rows[WUJIN].events == {"school": 1, "village": 1}
    assert rows[XINBEI].events == {"enterprise": 1}
    # the office admin sees campaigns: the Wujin elderly one (family) and the city-wide one (community)
    office_view = coverage(users["office"], year=2026)
    wujin_row = next(r for r in office_view if r.district.code == WUJIN)
    assert wujin_row.campaigns == {"family": 1, "community": 1}
    assert next(r for r in office_view if r.district.code == XINBEI).campaigns == {"community": 1}
    assert wujin_row.covered == 4  # school, village (events), family, community (campaigns)
    assert {r.district.code: r.events for r in coverage(users["office"], year=2025)}[WUJIN] == {"school": 1}

    # a district officer sees their own district's row only
    mine = coverage(users["wujin"], year=2026)
    assert [r.district.code for r in mine] == [WUJIN] and mine[0].events == {"school": 1, "village": 1}
    # campaigns are read through the outreach console's scope (campaigners and office admins only)
    assert mine[0].campaigns == {}


def test_coverage_page_and_api(users: Any, api_client: Any) -> None:
    when = timezone.make_aware(dt.datetime(2026, 5, 20, 9))
    _event(users["wujin"], WUJIN, "防溺水安全课", "湖塘实验小学", when)
    c = Client()
    c.force_login(users["wujin"])
    page = c.get("/emergency/coverage/?year=2026").content.decode()
    assert "进学校" in page and "武进区" in page and "新北区" not in page
    assert c.get("/emergency/coverage/?year=abc").status_code == 200
    rows = api_client(users["office"]).get("/api/emergency/coverage?year=2026").json()
    assert {r["district"]: r["events"] for r in rows}[WUJIN] == {"school": 1}


def test_coverage_counts_recorded_settings_and_guesses_only_the_rest(users: Any, api_client: Any) -> None:
    from kepu.emergency.coverage import coverage

    when = timezone.make_aware(dt.datetime(2026, 5, 20, 9))
    # recorded: a family science afternoon held in a school hall, an enterprise talk in a community centre
    _event(users["wujin"], WUJIN, "亲子科学实验", "湖塘实验小学报告厅", when, setting="family")
    _event(users["wujin"], WUJIN, "安全生产讲座", "西湖街道文化站", when, setting="enterprise")
    _event(users["wujin"], WUJIN, "科普讲座", "市科技馆", when, setting="village")
    # not recorded: guessed from the venue as before, or unclassified
    _event(users["wujin"], WUJIN, "防溺水安全课", "湖塘实验小学", when)
    _event(users["wujin"], WUJIN, "科普讲座", "市科技馆", when)
    _event(users["wujin"], WUJIN, "防汛宣讲", "城湾村村委会", when, cancelled=True, setting="village")

    row = next(r for r in coverage(users["wujin"], year=2026) if r.district.code == WUJIN)
    assert row.events == {"family": 1, "enterprise": 1, "village": 1, "school": 1, "unclassified": 1}
    assert row.unclassified == 1 and row.covered == 4
    rows = api_client(users["office"]).get("/api/emergency/coverage?year=2026").json()
    assert {r["district"]: r["events"] for r in rows}[WUJIN] == row.events
