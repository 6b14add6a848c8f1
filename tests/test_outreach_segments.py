"""Weak spots (kepu.outreach.weakness) and segments (kepu.outreach.segments, the console and API)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD

WUJIN, TIANNING, XINBEI = "320412", "320402", "320411"


def make_citizen(
    username: str,
    *,
    district: str = "",
    town: str = "",
    age_band: str = "50-59",
    key_groups: list[str] | None = None,
    interests: list[str] | None = None,
    occupation: str = "",
    elder_mode: bool = False,
    consents: dict[str, bool] | None = None,
) -> Any:
    from django.contrib.auth.models import User

    from kepu.citizens.models import Citizen, Consent
    from kepu.core.models import OrgUnit
    from kepu.literacy.online import pseudonym

    user = User.objects.create_user(username=username, password=PASSWORD)
    citizen = Citizen.objects.create(
        user=user,
        pseudonym=pseudonym(f"user:{user.pk}"),
        district=OrgUnit.objects.get(code=district) if district else None,
        town=OrgUnit.objects.get(code=town) if town else None,
        age_band=age_band,
        key_groups=key_groups or [],
        interests=interests or [],
        occupation=occupation,
        elder_mode=elder_mode,
        phone=f"1390000{user.pk:04d}",
    )
    for purpose, granted in (consents or {}).items():
        Consent.objects.create(citizen=citizen, purpose=purpose, granted=granted)
    return citizen


def _topic(code: str, parent: Any = None) -> Any:
    from kepu.outreach.models import Topic

    return Topic.objects.create(code=code, name_zh=code, name_en=code, parent=parent)


def _resource(code: str, topics: list[Any], **kw: Any) -> Any:
    from kepu.outreach.models import Resource

    r = Resource.objects.create(code=code, title_zh=code, status="published", published_at=timezone.now(), **kw)
    r.topics.set(topics)
    return r


def _interact(citizen: Any, resource: Any, kind: str, days_ago: float) -> None:
    from kepu.outreach.engagement_models import Interaction

    Interaction.objects.create(
        pseudonym=citizen.pseudonym, citizen=citizen, resource=resource, kind=kind,
        at=timezone.now() - dt.timedelta(days=days_ago),
    )



@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Row ids repeat between tests (rolled back), so cached co-occurrence/wave sums must not leak."""
    from django.core.cache import cache

    cache.clear()

# --- weak dimensions -------------------------------------------------------------------------------


def _published_wave(cells: list[tuple[str, str, int, dict[str, float]]]) -> Any:
    """A published wave whose respondents, per (key group, district, n, share per dimension), earned
    that share of 10 points in each dimension."""
    from kepu.core.models import OrgUnit
    from kepu.literacy.models import Respondent, ScoringProfile, Wave

    profile = ScoringProfile.objects.first() or ScoringProfile.objects.create(
        code="p", name_zh="p", name_en="p", config={})
    wave = Wave.objects.create(code="w-2025", name_zh="w", name_en="w", year=2025, profile=profile,
                               region=OrgUnit.objects.get(code="320400"))
    rows = []
    for kg, district, n, shares in cells:
        unit = OrgUnit.objects.get(code=district)
        for i in range(n):
            rows.append(Respondent(
                wave=wave, key=f"{kg}{district}{i}", district=unit, key_group=kg, age_band="50-59",
                weight=1.0 + (i % 2), earned={d: 10 * s for d, s in shares.items()},
                possible=dict.fromkeys(shares, 10),
            ))
    Respondent.objects.bulk_create(rows)
    wave.published_at = timezone.now()
    wave.save(update_fields=["published_at"])
    return wave


SHARES_FARMERS_WUJIN = {"knowledge": 0.6, "method": 0.2, "spirit": 0.5, "application": 0.4}
SHARES_WORKERS_XINBEI = {"knowledge": 0.3, "method": 0.7, "spirit": 0.6, "application": 0.5}
SHARES_OTHER_TIANNING = {"knowledge": 0.8, "method": 0.9, "spirit": 0.1, "application": 0.7}


@pytest.fixture
def wave(region: Any) -> Any:
    return _published_wave([
        ("farmers", WUJIN, 40, SHARES_FARMERS_WUJIN),
        ("workers", XINBEI, 40, SHARES_WORKERS_XINBEI),
        ("other", TIANNING, 200, SHARES_OTHER_TIANNING),
    ])


def test_weak_dimensions_without_any_evidence_is_empty(region: Any) -> None:
    from kepu.outreach.weakness import weak_dimensions

    assert weak_dimensions(None) == []
    assert weak_dimensions(make_citizen("c1", district=WUJIN, key_groups=["farmers"])) == []


def test_weak_dimensions_of_a_group_come_from_the_latest_wave(wave: Any) -> None:
    from kepu.outreach.weakness import weak_dimensions

    farmer = make_citizen("farmer", district=WUJIN, key_groups=["farmers"])
    assert weak_dimensions(farmer) == ["method", "application", "spirit", "knowledge"]
    worker = make_citizen("worker", district=WUJIN, key_groups=["workers"])  # no Wujin workers: key group only
    assert weak_dimensions(worker) == ["knowledge", "application", "spirit", "method"]


def test_weak_dimensions_fall_back_to_the_city(wave: Any) -> None:
    from kepu.outreach.weakness import weak_dimensions

    # The city is dominated by Tianning's 200 respondents, whose weakest dimension is spirit.
    city = weak_dimensions(None)
    assert city[0] == "spirit"
    nobody = make_citizen("nobody", key_groups=["youth"])  # youth: no respondents; no district
    assert weak_dimensions(nobody) == city


def test_weak_dimensions_use_the_own_self_test_only_with_consent(wave: Any) -> None:
    from kepu.citizens.models import Consent, SelfTestResult
    from kepu.outreach.weakness import weak_dimensions

    farmer = make_citizen("farmer", district=WUJIN, key_groups=["farmers"], consents={"selftest_link": True})
    SelfTestResult.objects.create(
        citizen=farmer, finished_at=timezone.now(),
        dims={"knowledge": 0.1, "method": 0.9, "spirit": 0.8, "application": 0.7},
    )
    assert weak_dimensions(farmer)[0] == "knowledge"
    Consent.objects.create(citizen=farmer, purpose="selftest_link", granted=False)  # withdrawn
    assert weak_dimensions(farmer)[0] == "method"  # the group's again


def test_weighted_group_share_uses_the_wave_weights(region: Any) -> None:
    from kepu.outreach.weakness import group_shares, wave_cells

    wave = _published_wave([("farmers", WUJIN, 2, {"method": 0.5})])
    # Respondent 0 weight 1, respondent 1 weight 2: both earned 5 of 10 → 0.5 whatever the weights.
    n, shares = group_shares(wave_cells(wave), key_groups=["farmers"])
    assert n == 2 and shares == {"method": pytest.approx(0.5)}


# --- the rule language -----------------------------------------------------------------------------


def test_invalid_rules_are_refused_naming_the_rule_path(region: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.outreach.segments import members, rules_errors

    rules = {"all": [
        {"field": "district", "op": "in", "value": [WUJIN]},
        {"field": "key_groups", "op": "contains", "value": "farmers"},
        {"field": "age_band", "op": "between", "value": ["50-59"]},
        {"not_engaged": {"topic": "health", "days": 0}},
        {"field": "phone", "op": "in", "value": ["1"]},
        {"any": []},
    ]}
    errors = rules_errors(rules)
    assert errors[0].startswith("all[2].op: ") and "in, not_in" in errors[0]
    assert any(e.startswith("all[3].not_engaged.days: ") for e in errors)
    assert any(e.startswith("all[3].not_engaged.topic: ") for e in errors)  # no such topic
    assert any(e.startswith("all[4].field: ") for e in errors)
    assert any(e.startswith("all[5].any: ") for e in errors)
    assert rules_errors({"field": "age_band", "op": "in", "value": ["50-59", "5O-59"]}) == [
        rules_errors({"field": "age_band", "op": "in", "value": ["5O-59"]})[0].replace("value[0]", "value[1]")
    ]
    assert rules_errors([1, 2])[0].endswith("应为一个规则对象。")
    deep: dict[str, Any] = {"field": "elder_mode", "op": "is", "value": True}
    for _ in range(8):
        deep = {"not": deep}
    assert any("嵌套过深" in e for e in rules_errors(deep))
    with pytest.raises(InputError):
        members({"field": "elder_mode", "op": "is", "value": "yes"})


@pytest.fixture
def people(region: Any) -> dict[str, Any]:
    health = _topic("health")
    heart = _topic("heart", parent=health)
    farming = _topic("farming")
    r_heart, r_farm = _resource("heart-1", [heart]), _resource("farm-1", [farming])
    c = {
        "wj_farmer_55": make_citizen("citizen-aaa", district=WUJIN, town="320412-L01", age_band="50-59",
                                     key_groups=["farmers"], consents={"push": True}),
        "wj_farmer_72_read_heart": make_citizen("citizen-bbb", district=WUJIN, age_band="70+",
                                                key_groups=["farmers", "elderly"], elder_mode=True),
        "wj_farmer_61_read_heart_long_ago": make_citizen("citizen-ccc", district=WUJIN, age_band="60-69",
                                                         key_groups=["farmers"], consents={"push": True}),
        "wj_farmer_35": make_citizen("citizen-ddd", district=WUJIN, age_band="30-39", key_groups=["farmers"]),
        "wj_worker_55": make_citizen("citizen-eee", district=WUJIN, age_band="50-59", key_groups=["workers"],
                                     interests=["health"]),
        "tn_farmer_55": make_citizen("citizen-fff", district=TIANNING, age_band="50-59", key_groups=["farmers"],
                                     consents={"push": True}),
    }
    _interact(c["wj_farmer_72_read_heart"], r_heart, "view", 3)
    _interact(c["wj_farmer_61_read_heart_long_ago"], r_heart, "view", 45)
    _interact(c["wj_farmer_55"], r_farm, "view", 1)
    from kepu.citizens.models import Consent

    Consent.objects.create(citizen=c["tn_farmer_55"], purpose="push", granted=False)  # withdrawn later
    return c


def _names(qs: Any, people: dict[str, Any]) -> set[str]:
    ids = set(qs.values_list("pk", flat=True))
    return {name for name, c in people.items() if c.pk in ids}


EXAMPLE = {"all": [
    {"field": "district", "op": "in", "value": [WUJIN]},
    {"field": "key_groups", "op": "contains", "value": "farmers"},
    {"field": "age_band", "op": "in", "value": ["50-59", "60-69", "70+"]},
    {"not_engaged": {"topic": "health", "kind": "view", "days": 30}},
]}


def test_the_issue_example_wujin_farmers_50_plus_not_reading_health_in_30_days(people: dict[str, Any]) -> None:
    from kepu.outreach.segments import count, members

    # The 72-year-old read a heart (a health sub-topic) piece 3 days ago; the 61-year-old 45 days ago.
    assert _names(members(EXAMPLE), people) == {"wj_farmer_55", "wj_farmer_61_read_heart_long_ago"}
    assert count(EXAMPLE) == 2


@pytest.mark.parametrize(("rules", "expected"), [
    ({"field": "key_groups", "op": "contains_any", "value": ["workers", "elderly"]},
     {"wj_farmer_72_read_heart", "wj_worker_55"}),
    ({"field": "key_groups", "op": "not_contains", "value": "farmers"}, {"wj_worker_55"}),
    ({"field": "interests", "op": "contains", "value": "health"}, {"wj_worker_55"}),
    ({"field": "elder_mode", "op": "is", "value": True}, {"wj_farmer_72_read_heart"}),
    ({"field": "town", "op": "in", "value": ["320412-L01"]}, {"wj_farmer_55"}),
    ({"field": "district", "op": "not_in", "value": [WUJIN]}, {"tn_farmer_55"}),
    # the latest decision counts: Tianning's farmer withdrew push consent
    ({"field": "consent", "op": "granted", "value": "push"}, {"wj_farmer_55", "wj_farmer_61_read_heart_long_ago"}),
    ({"engaged": {"days": 7}}, {"wj_farmer_72_read_heart", "wj_farmer_55"}),
    ({"engaged": {"topic": "farming", "kind": "view", "days": 7}}, {"wj_farmer_55"}),
    ({"any": [{"field": "age_band", "op": "in", "value": ["30-39"]},
              {"not": {"field": "district", "op": "in", "value": [WUJIN]}}]}, {"wj_farmer_35", "tn_farmer_55"}),
])
def test_rule_operators(people: dict[str, Any], rules: dict[str, Any], expected: set[str]) -> None:
    from kepu.outreach.segments import members

    assert _names(members(rules), people) == expected


def test_a_segment_compiles_to_one_query(people: dict[str, Any], django_assert_num_queries: Any) -> None:
    from kepu.citizens.models import Citizen
    from kepu.outreach.segments import compile_rules, rules_validate

    rules_validate(EXAMPLE)
    q = compile_rules(EXAMPLE)
    with django_assert_num_queries(1):  # profile, consent and behaviour conditions in one statement
        assert Citizen.objects.filter(q).count() == 2


def test_a_district_segment_never_leaves_its_district(people: dict[str, Any], make_user: Any) -> None:
    from kepu.outreach.segments import count, segment_save

    wujin_ops = make_user("wj_ops", ("campaigner", WUJIN, None))
    seg = segment_save(actor=wujin_ops, code="all-farmers", name_zh="全部农民",
                       rules={"field": "key_groups", "op": "contains", "value": "farmers"})
    assert seg.org_unit.code == WUJIN
    assert count(seg) == 4  # Tianning's farmer is not in it, whatever the rules say
    city_ops = make_user("city_ops", ("campaigner", "320400", None))
    assert count(seg.rules, unit=seg.org_unit) == 4
    assert count(segment_save(actor=city_ops, code="all-farmers-city", name_zh="全市农民", rules=seg.rules)) == 5


# --- the console -----------------------------------------------------------------------------------


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_console_live_preview_is_pseudonymous(people: dict[str, Any], make_user: Any) -> None:
    make_user("ops", ("campaigner", "320400", None))
    client = _login("ops")
    response = client.post("/outreach/segments/preview/", {"rules": json.dumps(EXAMPLE)})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2 and len(data["preview"]) == 2
    assert set(data["preview"][0]) == {"id", "age_band", "district", "town"}
    body = response.content.decode()
    for c in people.values():
        assert c.phone not in body and c.user.username not in body
    bad = client.post("/outreach/segments/preview/", {"rules": json.dumps({"all": [{"field": "age_band", "op": "x"}]})})
    assert bad.status_code == 400 and bad.json()["errors"][0].startswith("all[0].op: ")
    assert client.post("/outreach/segments/preview/", {"rules": "{"}).status_code == 400


def test_console_saves_an_audited_segment_and_lists_it_with_its_count(people: dict[str, Any], make_user: Any) -> None:
    from kepu.core.models import AuditEntry
    from kepu.outreach.segment_models import Segment

    make_user("ops", ("campaigner", "320400", None))
    client = _login("ops")
    page = client.get("/outreach/segments/new/")
    assert page.status_code == 200 and "segment-live-count" in page.content.decode()
    response = client.post("/outreach/segments/new/", {
        "code": "wj-farmers-50", "name_zh": "武进区50岁以上农民", "name_en": "", "rules": json.dumps(EXAMPLE)})
    assert response.status_code == 302 and response["Location"] == "/outreach/segments/wj-farmers-50/"
    seg = Segment.objects.get(code="wj-farmers-50")
    assert seg.rules == EXAMPLE and seg.created_by is not None and seg.created_by.username == "ops"
    assert AuditEntry.objects.filter(action="segment.create", object_id=str(seg.pk)).count() == 1
    listing = client.get("/outreach/segments/").content.decode()
    assert "武进区50岁以上农民" in listing and '<td class="num" data-testid="segment-count">2</td>' in listing
    # An invalid rule is shown with its path and nothing is saved.
    bad = client.post("/outreach/segments/new/",
                      {"code": "bad-one", "name_zh": "坏", "rules": '{"any": [{"field": "x"}]}'})
    assert bad.status_code == 200 and "any[0].field: " in bad.content.decode()
    assert not Segment.objects.filter(code="bad-one").exists()


def test_console_refuses_other_roles_and_citizens(people: dict[str, Any], make_user: Any) -> None:
    from kepu.outreach.segment_models import Segment

    make_user("viewer", ("viewer", "320400", None))
    make_user("editor", ("editor", "320400", None))
    for username in ("viewer", "editor"):
        client = _login(username)
        assert client.get("/outreach/segments/").status_code == 403
        assert client.post("/outreach/segments/new/", {
            "code": "x-1", "name_zh": "x", "rules": json.dumps(EXAMPLE)}).status_code == 403
        assert client.post("/outreach/segments/preview/", {"rules": json.dumps(EXAMPLE)}).status_code == 403
    citizen = _login(people["wj_farmer_55"].user.username)
    assert citizen.get("/outreach/segments/").status_code in (302, 403)
    assert citizen.post("/outreach/segments/preview/", {"rules": json.dumps(EXAMPLE)}).status_code in (302, 403)
    assert not Segment.objects.exists()


def test_a_segment_of_the_groups_weakest_in_scientific_method(wave: Any, make_user: Any) -> None:
    from kepu.outreach.segment_models import Segment
    from kepu.outreach.segments import members, weakest_groups

    groups = weakest_groups("method", k=2)
    assert [(g.key_group, g.district) for g in groups] == [("farmers", WUJIN), ("workers", XINBEI)]
    assert groups[0].share == pytest.approx(0.2)
    farmer = make_citizen("farmer", district=WUJIN, key_groups=["farmers"])
    worker = make_citizen("worker", district=XINBEI, key_groups=["workers"])
    make_citizen("other", district=TIANNING, key_groups=["farmers"])
    make_user("ops", ("campaigner", "320400", None))
    client = _login("ops")
    response = client.post("/outreach/segments/from-wave/", {"dimension": "method", "k": "2"})
    assert response.status_code == 302
    seg = Segment.objects.get()
    assert "科学方法" in seg.name_zh
    assert set(members(seg).values_list("pk", flat=True)) == {farmer.pk, worker.pk}
    # A Wujin campaigner's wave segment holds Wujin's groups only.
    from kepu.core.models import OrgUnit

    wujin = OrgUnit.objects.get(code=WUJIN)
    assert [(g.key_group, g.district) for g in weakest_groups("method", k=5, unit=wujin)] == [("farmers", WUJIN)]


def test_a_wave_segment_without_a_published_wave_is_refused_clearly(region: Any, make_user: Any) -> None:
    from kepu.outreach.segment_models import Segment

    make_user("ops", ("campaigner", "320400", None))
    client = _login("ops")
    response = client.post("/outreach/segments/from-wave/", {"dimension": "method", "k": "3"}, follow=True)
    assert "还没有已发布的科学素质调查" in response.content.decode()
    assert not Segment.objects.exists()


# --- the API ---------------------------------------------------------------------------------------


def test_segment_api_preview_save_and_refusals(people: dict[str, Any], make_user: Any) -> None:
    from kepu.outreach.segment_models import Segment

    make_user("ops", ("campaigner", WUJIN, None))
    client = Client(enforce_csrf_checks=False)
    assert client.login(username="ops", password=PASSWORD)
    r = client.post("/api/outreach/segments/preview", {"rules": EXAMPLE}, content_type="application/json")
    assert r.status_code == 200 and r.json()["count"] == 2
    bad = client.post("/api/outreach/segments/preview",
                      {"rules": {"all": [{"not_engaged": {"days": "30"}}]}}, content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0].startswith("all[0].not_engaged.days: ")
    farmers = {"field": "key_groups", "op": "contains", "value": "farmers"}
    made = client.post("/api/outreach/segments", {"code": "api-seg", "name_zh": "接口分组", "rules": farmers},
                       content_type="application/json")
    assert made.status_code == 201 and made.json()["count"] == 4 and made.json()["org_unit"] == WUJIN
    assert client.get("/api/outreach/segments").json()["count"] == 1
    assert client.get("/api/outreach/segments/api-seg").json()["count"] == 4

    make_user("viewer", ("viewer", "320400", None))
    viewer = Client()
    assert viewer.login(username="viewer", password=PASSWORD)
    assert viewer.post("/api/outreach/segments", {"code": "v-seg", "name_zh": "v", "rules": EXAMPLE},
                       content_type="application/json").status_code == 403
    assert viewer.get("/api/outreach/segments").status_code == 403
    assert not Segment.objects.filter(code="v-seg").exists()
