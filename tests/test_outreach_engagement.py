"""Engagement events through the API (who they are stored under, consent, dedup, limits), reach by
district/key group/topic/month with its scope, the citizen's export and deletion, and the key groups'
reach flowing into the plan's indicators (issue 9 point 7)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kepu.citizens.models import Citizen, Consent, Purpose
from kepu.citizens.services import citizen_signup
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.outreach import engagement
from kepu.outreach.engagement_models import Interaction
from kepu.outreach.indicators import REACH_INDICATORS, reach_publish
from kepu.outreach.models import Resource, Topic
from kepu.plans.models import Observation

WUJIN, XINBEI, CITY = "320412", "320411", "320400"
PROBLEM = "application/problem+json"


def make_citizen(name: str, district: str, groups: list[str], *, analytics: bool = True, age: str = "50-59",
                 phone: str = "") -> Citizen:
    consents = [Purpose.PERSONALISE] + ([Purpose.ANALYTICS] if analytics else [])
    citizen = citizen_signup(identifier=name, password="citizen-pass-123", consents_granted=consents)
    unit = OrgUnit.objects.get(code=district)
    Citizen.objects.filter(pk=citizen.pk).update(district=unit, key_groups=groups, age_band=age, phone=phone)
    citizen.refresh_from_db()
    return citizen


def make_resource(code: str, topic: Topic, title: str = "秋冬季节如何预防流感") -> Resource:
    r = Resource.objects.create(code=code, title_zh=title, summary_zh=title, status=Resource.Status.PUBLISHED,
                                published_at=timezone.now())
    r.topics.add(topic)
    return r


@pytest.fixture
def catalogue(region: Any) -> dict[str, Any]:
    health = Topic.objects.create(code="health", name_zh="健康生活", name_en="Healthy living")
    farming = Topic.objects.create(code="farming", name_zh="现代农业", name_en="Modern farming")
    return {
        "health": health, "farming": farming,
        "flu": make_resource("flu", health), "seeds": make_resource("seeds", farming, "良种选育小知识"),
    }


_addresses = iter(range(1, 250))


def client_of(citizen: Citizen | None = None) -> Client:
    c = Client(REMOTE_ADDR=f"10.0.7.{next(_addresses)}")  # each its own client for the rate limit
    if citizen is not None:
        c.force_login(citizen.user)
    return c


def post_event(client: Client, **body: Any) -> Any:
    return client.post("/api/outreach/events", data=json.dumps(body), content_type="application/json")


# -- events --------------------------------------------------------------------------------------

def test_a_citizens_event_is_stored_under_the_pseudonym_with_the_profile_at_event_time(catalogue: Any) -> None:
    # Given a 武进区 farmer aged 50–59 who consented to analytics
    citizen = make_citizen("farmer1", WUJIN, ["farmers"], phone="13800000001")
    # When their page posts a view
    r = post_event(client_of(citizen), kind="view", resource="flu")
    # Then it is stored under their pseudonym with a copy of the profile fields
    assert r.status_code == 201, r.content
    assert r.json() == {"recorded": True, "duplicate": False}
    row = Interaction.objects.get()
    assert (row.pseudonym, row.citizen_id, row.resource_id, row.kind) == (
        citizen.pseudonym, citizen.pk, catalogue["flu"].pk, "view")
    assert (row.district.code, row.key_groups, row.age_band) == (WUJIN, ["farmers"], "50-59")
    # and nothing that identifies the person is in the row
    values = " ".join(str(v) for v in Interaction.objects.values().get().values())
    assert "farmer1" not in values and "13800000001" not in values
    # When the citizen later moves to 新北区, the earlier event keeps the district it happened in
    Citizen.objects.filter(pk=citizen.pk).update(district=OrgUnit.objects.get(code=XINBEI))
    row.refresh_from_db()
    assert row.district.code == WUJIN


def test_without_analytics_consent_the_event_is_kept_for_the_citizen_only(catalogue: Any) -> None:
    citizen = make_citizen("private1", WUJIN, ["farmers"], analytics=False)
    assert post_event(client_of(citizen), kind="complete", resource="flu").status_code == 201
    row = Interaction.objects.get()
    # No pseudonym and no profile copy: no aggregate can count it
    assert (row.citizen_id, row.pseudonym, row.district_id, row.key_groups, row.age_band) == (
        citizen.pseudonym and citizen.pk, "", None, [], "")
    office = scope_for(make_office())
    assert engagement.counted(office).count() == 0
    # Withdrawing consent later stops the copying from then on
    consenting = make_citizen("later1", WUJIN, ["workers"])
    Consent.objects.create(citizen=consenting, purpose=Purpose.ANALYTICS, granted=False)
    post_event(client_of(consenting), kind="view", resource="flu")
    assert Interaction.objects.get(citizen=consenting).pseudonym == ""


def make_office() -> Any:
    from kepu.core.services import user_create

    return user_create(username="office-e", password="x-pass-123456", roles=[("office_admin", CITY, None)])


def test_a_double_tap_is_one_event(catalogue: Any) -> None:
    citizen = make_citizen("tapper", WUJIN, ["farmers"])
    client = client_of(citizen)
    first = post_event(client, kind="like", resource="flu")
    second = post_event(client, kind="like", resource="flu")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == {"recorded": True, "duplicate": True}
    assert Interaction.objects.count() == 1
    # a different event is a new one
    assert post_event(client, kind="share", resource="flu").status_code == 201
    assert Interaction.objects.count() == 2


def test_the_same_event_after_the_window_counts_again(catalogue: Any) -> None:
    citizen = make_citizen("reader", WUJIN, ["farmers"])
    t0 = timezone.now() - dt.timedelta(hours=1)
    a = engagement.record(citizen, "view", resource=catalogue["flu"], at=t0)
    b = engagement.record(citizen, "view", resource=catalogue["flu"], at=t0 + dt.timedelta(seconds=10))
    c = engagement.record(citizen, "view", resource=catalogue["flu"],
                          at=t0 + dt.timedelta(seconds=engagement.DEDUP_SECONDS + 5))
    assert a == b and c != a
    assert Interaction.objects.count() == 2


def test_events_are_rate_limited_per_client(catalogue: Any, settings: Any) -> None:
    settings.KEPU_OUTREACH_EVENTS_PER_MINUTE = 3
    citizen = make_citizen("burst", WUJIN, ["farmers"])
    client = Client(REMOTE_ADDR="10.9.9.9")
    client.force_login(citizen.user)
    answers = [post_event(client, kind=k, resource="flu").status_code for k in ("view", "complete", "like", "share")]
    assert answers == [201, 201, 201, 429]
    last = post_event(client, kind="view", resource="seeds")
    assert last.status_code == 429 and last["Content-Type"] == PROBLEM
    assert Interaction.objects.count() == 3


def test_an_oversized_or_malformed_event_is_refused_and_nothing_is_stored(catalogue: Any) -> None:
    client = client_of(make_citizen("bigbody", WUJIN, ["farmers"]))
    big = post_event(client, kind="search", query="流感" * 50, padding="x" * 2000)
    assert big.status_code == 413 and big["Content-Type"] == PROBLEM
    assert post_event(client, kind="search", query="").status_code == 422
    assert post_event(client, kind="view").status_code == 422
    assert post_event(client, kind="open", resource="flu").status_code == 422  # opens are recorded by campaigns
    assert post_event(client, kind="view", resource="no-such-piece").status_code == 404
    draft = Resource.objects.create(code="draft-piece", title_zh="草稿")
    assert post_event(client, kind="view", resource=draft.code).status_code == 404
    assert Interaction.objects.count() == 0


def test_an_anonymous_visitor_posts_no_events_and_their_page_searches_never_count_as_reach(catalogue: Any) -> None:
    client = Client(REMOTE_ADDR="10.1.2.3")
    refused = post_event(client, kind="view", resource="flu")
    assert refused.status_code == 401 and refused["Content-Type"] == PROBLEM
    assert Interaction.objects.count() == 0
    assert client.get("/me/search/", {"q": "隔夜水会致癌吗"}).status_code == 200
    assert client.get("/me/search/", {"q": "流感"}).status_code == 200
    rows = list(Interaction.objects.order_by("pk"))
    assert all(r.citizen_id is None and r.pseudonym.startswith(engagement.ANON_PREFIX) for r in rows)
    assert rows[0].pseudonym == rows[1].pseudonym and "10.1.2.3" not in rows[0].pseudonym
    assert [r.query for r in rows] == ["隔夜水会致癌吗", "流感"]
    office = scope_for(make_office())
    today = timezone.localdate()
    assert engagement.reach(scope=office, by="month", start=today, end=today) == []


def test_staff_sessions_record_nothing(catalogue: Any) -> None:
    client = Client()
    client.force_login(make_office())
    r = post_event(client, kind="view", resource="flu")
    assert r.status_code == 200 and r.json() == {"recorded": False, "duplicate": False}
    assert Interaction.objects.count() == 0


def test_a_session_event_needs_the_csrf_token(catalogue: Any) -> None:
    citizen = make_citizen("csrf1", WUJIN, ["farmers"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen.user)
    assert post_event(client, kind="view", resource="flu").status_code == 403
    assert Interaction.objects.count() == 0


# -- reach ---------------------------------------------------------------------------------------

@pytest.fixture
def reach_data(catalogue: Any, make_user: Any) -> dict[str, Any]:
    """武进: two farmers (one also elderly) and a worker; 新北: one worker. Views in March and April."""
    at = timezone.make_aware(dt.datetime(2026, 3, 10, 9))
    a = make_citizen("wujin_a", WUJIN, ["farmers"])
    b = make_citizen("wujin_b", WUJIN, ["farmers", "elderly"], age="70+")
    c = make_citizen("wujin_c", WUJIN, ["workers"], age="30-39")
    d = make_citizen("xinbei_d", XINBEI, ["workers"], age="40-49")
    flu, seeds = catalogue["flu"], catalogue["seeds"]
    for citizen in (a, b, c):
        engagement.record(citizen, "view", resource=flu, at=at)
    engagement.record(a, "view", resource=flu, at=at + dt.timedelta(days=1))  # the same person again
    engagement.record(b, "view", resource=seeds, at=at + dt.timedelta(days=31))
    engagement.record(d, "open", resource=seeds, at=at, campaign_id=7)
    engagement.record(d, "like", resource=flu, at=at)  # a like alone is not reach
    return {
        "office": make_user("office", ("office_admin", CITY, None)),
        "wujin_editor": make_user("wj-editor", ("editor", WUJIN, None)),
        "city_editor": make_user("city-editor", ("editor", CITY, None)),
        "reporter": make_user("wj-reporter", ("district_reporter", WUJIN, None)),
        "citizens": (a, b, c, d),
    }


def _reach(user: Any, by: str) -> dict[str, int]:
    rows = engagement.reach(scope=scope_for(user), by=by, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    return {r["key"]: r["citizens"] for r in rows}


def test_reach_counts_distinct_citizens_by_district_group_topic_and_month(reach_data: Any) -> None:
    office = reach_data["office"]
    assert _reach(office, "district") == {WUJIN: 3, XINBEI: 1}
    assert _reach(office, "key_group") == {"farmers": 2, "elderly": 1, "workers": 2}
    assert _reach(office, "topic") == {"health": 3, "farming": 2}
    assert _reach(office, "month") == {"2026-03": 4, "2026-04": 1}


def test_a_district_editor_sees_only_their_districts_reach(reach_data: Any) -> None:
    editor = reach_data["wujin_editor"]
    assert _reach(editor, "district") == {WUJIN: 3}
    assert _reach(editor, "key_group") == {"farmers": 2, "elderly": 1, "workers": 1}
    client = Client()
    client.force_login(editor)
    api = client.get("/api/outreach/reach", {"by": "district", "start": "2026-01-01", "end": "2026-12-31"})
    assert api.status_code == 200
    assert [(i["key"], i["citizens"]) for i in api.json()["items"]] == [(WUJIN, 3)]
    page = client.get("/outreach/reach/", {"year": 2026})
    assert page.status_code == 200
    html = page.content.decode()
    assert "武进区" in html and "新北区" not in html
    # The city editor sees both
    city = Client()
    city.force_login(reach_data["city_editor"])
    items = city.get("/api/outreach/reach", {"by": "district", "start": "2026-01-01"}).json()["items"]
    assert {i["key"] for i in items} == {WUJIN, XINBEI}


def test_reach_is_refused_to_other_roles_and_to_citizens(reach_data: Any) -> None:
    reporter = Client()
    reporter.force_login(reach_data["reporter"])
    assert reporter.get("/api/outreach/reach").status_code == 403
    assert reporter.get("/outreach/reach/").status_code == 403
    citizen = client_of(reach_data["citizens"][0])
    assert citizen.get("/api/outreach/reach").status_code == 403
    page = citizen.get("/outreach/reach/")  # staff pages send citizens to their portal
    assert page.status_code in (302, 403) and "触达人数" not in page.content.decode()
    assert Client().get("/api/outreach/reach").status_code == 401


# -- the citizen's rights ------------------------------------------------------------------------

def test_the_citizens_events_are_in_their_export_and_stay_anonymous_after_deletion(reach_data: Any) -> None:
    from kepu.citizens.export import callbacks as export_callbacks
    from kepu.citizens.services import citizen_delete

    a = reach_data["citizens"][0]
    exported: dict[str, Any] = {}
    for callback in export_callbacks():
        exported.update(callback(a))
    events = exported["engagement_events"]
    assert [(e["kind"], e["resource"]) for e in events] == [("view", "flu"), ("view", "flu")]
    json.dumps(exported)  # JSON-ready
    # When the account is deleted
    citizen_delete(citizen=a, password="citizen-pass-123")
    # Then the rows lose the link to the person and still count, anonymously
    assert not Citizen.objects.filter(pk=a.pk).exists()
    assert not Interaction.objects.filter(pseudonym=a.pseudonym).exists()
    rows = Interaction.objects.filter(district__code=WUJIN, key_groups=["farmers"], kind="view",
                                      resource__code="flu", at__date=dt.date(2026, 3, 11))
    assert rows.count() == 1 and rows.get().citizen_id is None  # a's second view, re-keyed
    assert Interaction.objects.filter(pseudonym=rows.get().pseudonym).count() == 2  # still one person
    assert _reach(reach_data["office"], "district") == {WUJIN: 3, XINBEI: 1}


# -- plan indicators -----------------------------------------------------------------------------

def test_the_key_groups_reach_is_published_into_the_plan_per_district_and_city(
    reach_data: Any, plan: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        observations = reach_publish(plan=plan, year=2026)
    districts = OrgUnit.objects.filter(parent=plan.region, level=OrgUnit.Level.DISTRICT).count()
    assert len(observations) == 5 * (1 + districts)

    def value(group: str, unit: str) -> float:
        return Observation.objects.get(indicator__plan=plan, indicator__code=REACH_INDICATORS[group],
                                       org_unit__code=unit, year=2026).value

    assert (value("farmers", WUJIN), value("elderly", WUJIN), value("workers", WUJIN)) == (2, 1, 1)
    assert (value("workers", XINBEI), value("farmers", XINBEI)) == (1, 0)
    assert (value("farmers", CITY), value("workers", CITY), value("youth", CITY)) == (2, 2, 0)
    obs = Observation.objects.get(indicator__code="OUTREACH_REACH_FARMERS", org_unit__code=CITY, year=2026)
    assert (obs.source, obs.status) == ("outreach", Observation.Status.APPROVED)
    # Running it again (the command) replaces, never duplicates
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("outreach", "publish-reach", "--year", "2026", stdout=out)
    assert f"Published {len(observations)} reach values for 2026" in out.getvalue()
    assert Observation.objects.filter(indicator__code__startswith="OUTREACH_REACH_", year=2026).count() == len(
        observations)


def test_the_reach_task_publishes_the_same_values(reach_data: Any, plan: Any) -> None:
    from kepu.outreach.reach_tasks import publish_reach

    result = publish_reach.enqueue(plan.pk, 2026)
    assert result.return_value == 5 * (1 + OrgUnit.objects.filter(parent=plan.region,
                                                                 level=OrgUnit.Level.DISTRICT).count())
    assert Observation.objects.get(indicator__code="OUTREACH_REACH_FARMERS", org_unit__code=WUJIN,
                                   year=2026).value == 2


def test_deleting_an_account_removes_the_rows_kept_only_for_the_citizen(catalogue: Any) -> None:
    from kepu.citizens.services import citizen_delete

    private = make_citizen("private2", WUJIN, ["farmers"], analytics=False)
    engagement.record(private, "view", resource=catalogue["flu"])
    assert Interaction.objects.filter(citizen=private).count() == 1
    citizen_delete(citizen=private, password="citizen-pass-123")
    assert Interaction.objects.count() == 0
