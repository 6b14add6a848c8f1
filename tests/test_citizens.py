"""Citizen accounts (issue 9, point 2): minimal sign-up, consent per purpose, profile, PIPL export
and deletion, pseudonymous ids, the staff/citizen boundary, and the self-test link with consent."""

from __future__ import annotations

import json
import types
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "lotus-pond-2026"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """An empty cache and a standing clock for the rate limiter."""
    from kepu.core import ratelimit

    cache.clear()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_000.0))


def browser(address: str = "203.0.113.9") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="zh-hans")


def signup(client: Client, identifier: str, *consents: str, password: str = GOOD_PASSWORD, **extra: str) -> Any:
    data: dict[str, Any] = {"identifier": identifier, "password": password, "password2": password, **extra}
    data["consent"] = list(consents)
    return client.post("/me/signup/", data)


def make_citizen(username: str = "lotus_fan", *consents: str) -> Any:
    from kepu.citizens.services import citizen_signup

    return citizen_signup(identifier=username, password=GOOD_PASSWORD, consents_granted=consents)


# -- sign-up ---------------------------------------------------------------------------------------

def test_the_signup_form_asks_for_no_real_name_and_no_id_number(region: Any) -> None:
    page = browser().get("/me/signup/").content.decode()
    names = set(__import__("re").findall(r'name="([a-z_0-9]+)"', page))
    assert {"identifier", "password", "password2", "consent"} <= names
    assert not names & {"id_number", "idcard", "real_name", "name", "first_name", "last_name", "email"}
    # Each purpose is its own unticked checkbox with its plain-language text.
    assert page.count('name="consent"') == 4 and "checked" not in page.split('data-testid="consents"')[1]
    assert "不收集姓名和身份证号" in page


def test_a_phone_number_signs_up_and_the_citizen_lands_on_the_profile(region: Any) -> None:
    from kepu.citizens.models import Citizen
    from kepu.literacy.online import pseudonym

    client = browser()
    response = signup(client, "+86 139-1234-5678", "personalise")
    assert response.status_code == 302 and response["Location"] == "/me/profile/"
    citizen = Citizen.objects.get()
    assert citizen.phone == "13912345678" and citizen.user.username == "13912345678"
    assert citizen.pseudonym == pseudonym(f"citizen:{citizen.user_id}") and len(citizen.pseudonym) == 64
    assert not citizen.user.roles.exists() and not citizen.user.is_staff
    assert client.get("/me/profile/").status_code == 200


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("1391234567", "手机号格式不对"),  # ten digits
        ("23912345678", "手机号格式不对"),  # not a mobile prefix
        ("12912345678", "手机号格式不对"),  # 12x is not a mainland mobile range
        ("320412199001011234", "手机号格式不对"),  # an ID number typed into the field is refused, not stored
        ("ab", "用户名需 4–30 位"),
        ("", "请填写手机号或用户名"),
    ],
)
def test_bad_identifiers_are_refused_in_words_and_nothing_is_created(
    region: Any, identifier: str, message: str
) -> None:
    from django.contrib.auth.models import User

    response = signup(browser(), identifier)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_a_duplicate_phone_or_username_is_refused(region: Any) -> None:
    from kepu.citizens.models import Citizen

    assert signup(browser(), "13912345678").status_code == 302
    assert signup(browser("203.0.113.10"), "Lotus_Fan").status_code == 302
    again = signup(browser("203.0.113.11"), "139 1234 5678")
    assert again.status_code == 422 and "已经注册过" in again.content.decode()
    same_name = signup(browser("203.0.113.12"), "lotus_fan")
    assert same_name.status_code == 422 and "已经有人用了" in same_name.content.decode()
    assert Citizen.objects.count() == 2


def test_weak_or_mismatched_passwords_are_refused(region: Any) -> None:
    from django.contrib.auth.models import User

    weak = signup(browser(), "lotus_fan", password="123")
    assert weak.status_code == 422 and not User.objects.exists()
    mismatch = browser().post("/me/signup/", {"identifier": "lotus_fan", "password": GOOD_PASSWORD,
                                              "password2": GOOD_PASSWORD + "x"})
    assert mismatch.status_code == 422 and "两次输入的密码不一致" in mismatch.content.decode()
    assert not User.objects.exists()


def test_signups_from_one_client_are_rate_limited(region: Any, settings: Any) -> None:
    from kepu.citizens import views
    from kepu.citizens.models import Citizen

    client = browser()
    for n in range(views.SIGNUPS_PER_HOUR):
        Client(REMOTE_ADDR="203.0.113.9").post("/me/signup/", {"identifier": f"user_{n:04d}", "password": "x"})
    response = signup(client, "late_comer")
    assert response.status_code == 429 and "注册的次数太多" in response.content.decode()
    assert not Citizen.objects.filter(user__username="late_comer").exists()
    assert signup(browser("198.51.100.1"), "late_comer").status_code == 302


# -- consent -------------------------------------------------------------------------------------

def test_consent_is_recorded_per_purpose_and_can_be_withdrawn(region: Any) -> None:
    from kepu.citizens.models import Consent
    from kepu.citizens.selectors import consents, has_consent

    client = browser()
    signup(client, "lotus_fan", "personalise", "selftest_link")
    from kepu.citizens.models import Citizen

    citizen = Citizen.objects.get()
    assert consents(citizen) == {"personalise": True, "push": False, "analytics": False, "selftest_link": True}
    assert Consent.objects.filter(citizen=citizen).count() == 4  # a decision for every purpose, ticked or not
    response = client.post("/me/profile/", {"action": "consents", "consent": ["push", "selftest_link"]})
    assert response.status_code == 302
    assert consents(citizen) == {"personalise": False, "push": True, "analytics": False, "selftest_link": True}
    assert not has_consent(citizen, "personalise") and has_consent(citizen, "push")
    # History is kept: the withdrawal is a new row, the first decision stays.
    rows = list(Consent.objects.filter(citizen=citizen, purpose="personalise").order_by("at", "id"))
    assert [r.granted for r in rows] == [True, False]
    # Saving the same choice again records nothing new.
    client.post("/me/profile/", {"action": "consents", "consent": ["push", "selftest_link"]})
    assert Consent.objects.filter(citizen=citizen).count() == 6


# -- profile -------------------------------------------------------------------------------------

def test_the_profile_saves_and_a_town_must_be_in_its_district(region: Any) -> None:
    from kepu.citizens.models import Citizen
    from kepu.core.models import OrgUnit

    client = browser()
    signup(client, "lotus_fan")
    wujin_town = OrgUnit.objects.filter(parent__code="320412", level="town").order_by("code").first()
    other_town = OrgUnit.objects.filter(parent__code="320402", level="town").order_by("code").first()
    assert wujin_town is not None and other_town is not None
    base = {"action": "profile", "age_band": "50-59", "district": "320412", "occupation": "farmer",
            "industry": "水稻种植", "key_groups": ["farmers"]}
    wrong = client.post("/me/profile/", {**base, "town": other_town.code})
    assert wrong.status_code == 422 and "不属于该辖市(区)" in wrong.content.decode()
    assert Citizen.objects.get().district is None
    bad_group = client.post("/me/profile/", {**base, "town": wujin_town.code, "key_groups": ["vip"]})
    assert bad_group.status_code == 422
    assert client.post("/me/profile/", {**base, "town": wujin_town.code}).status_code == 302
    citizen = Citizen.objects.get()
    assert (citizen.age_band, citizen.district.code, citizen.town, citizen.occupation, citizen.industry,
            citizen.key_groups) == ("50-59", "320412", wujin_town, "farmer", "水稻种植", ["farmers"])


def test_key_groups_are_suggested_from_age_and_occupation_but_not_imposed(region: Any) -> None:
    from kepu.citizens.services import suggested_key_groups

    assert suggested_key_groups("50-59", "farmer") == ["farmers"]
    assert suggested_key_groups("70+", "retired") == ["elderly"]
    assert suggested_key_groups("18-29", "student") == ["youth"]
    client = browser()
    signup(client, "lotus_fan")
    client.post("/me/profile/", {"action": "profile", "age_band": "70+", "occupation": "retired"})
    from kepu.citizens.models import Citizen

    assert Citizen.objects.get().key_groups == []  # the citizen ticked none: none are saved
    page = client.get("/me/profile/").content.decode()
    assert "建议选择：老年人" in page


def test_interests_accept_only_catalogue_topics(region: Any) -> None:
    from django.apps import apps

    from kepu.citizens.models import Citizen

    client = browser()
    signup(client, "lotus_fan")
    assert client.post("/me/profile/", {"action": "profile", "interests": ["made-up"]}).status_code == 422
    if apps.is_installed("kepu.outreach"):
        topic = apps.get_model("outreach", "Topic").objects.create(code="health", name_zh="健康", name_en="Health")
        assert client.post("/me/profile/", {"action": "profile", "interests": [topic.code]}).status_code == 302
        assert Citizen.objects.get().interests == ["health"]
        assert "健康" in client.get("/me/profile/").content.decode()


# -- login, and the boundary between citizens and staff -------------------------------------------

def test_a_citizen_logs_in_at_me_login_and_lands_on_the_portal(region: Any) -> None:
    make_citizen()
    client = browser()
    response = client.post("/me/login/", {"username": "lotus_fan", "password": GOOD_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert client.get("/me/profile/").status_code == 200
    assert client.post("/me/logout/").status_code == 302
    assert client.get("/me/profile/")["Location"].startswith("/me/login/")


def test_a_staff_account_cannot_log_in_as_a_citizen_nor_open_citizen_pages(make_user: Any) -> None:
    make_user("office", ("office_admin", "320400", None))
    client = browser()
    refused = client.post("/me/login/", {"username": "office", "password": PASSWORD})
    assert refused.status_code == 200 and "工作人员账户" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    client.login(username="office", password=PASSWORD)
    for path in ("/me/profile/", "/me/data/", "/me/data/download/", "/me/delete/"):
        assert client.get(path).status_code == 403, path
    assert client.post("/me/delete/", {"password": PASSWORD}).status_code == 403
    from django.contrib.auth.models import User

    assert User.objects.filter(username="office").exists()


def test_a_citizen_cannot_open_staff_pages(plan: Any) -> None:
    make_citizen()
    client = browser()
    client.login(username="lotus_fan", password=GOOD_PASSWORD)
    for path in ("/", "/targets/T01/", "/literacy/", "/audit/", "/data-entry/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/me/", path
    assert client.post("/data-entry/", {}).status_code == 403
    assert client.get("/test/").status_code == 200  # the public self-test stays open to them


def test_staff_pages_show_no_citizen_phone_numbers(users: Any) -> None:
    make_citizen("13912345678")
    client = Client()
    client.login(username="office", password=PASSWORD)
    for path in ("/", "/audit/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "13912345678" not in response.content.decode(), path


# -- PIPL: export and deletion -------------------------------------------------------------------

def test_my_data_downloads_profile_consents_selftests_and_every_registered_section(region: Any) -> None:
    from kepu.citizens import export
    from kepu.citizens.models import Citizen, SelfTestResult

    client = browser()
    signup(client, "13912345678", "push")
    client.post("/me/profile/", {"action": "profile", "age_band": "50-59", "district": "320412",
                                 "occupation": "farmer", "key_groups": ["farmers"]})
    citizen = Citizen.objects.get()
    SelfTestResult.objects.create(citizen=citizen, finished_at=citizen.created_at, dims={"method": 0.25})

    def quiz_rows(c: Any) -> dict[str, Any]:
        return {"quiz_answers": [{"who": c.pseudonym[:6], "correct": True}]}

    export.on_export(quiz_rows, labels={"quiz_answers": "答题记录"})
    try:
        page = client.get("/me/data/").content.decode()
        response = client.get("/me/data/download/")
    finally:
        export._callbacks.remove(quiz_rows)
        export._labels.pop("quiz_answers")
    assert "13912345678" in page and "答题记录：1 条" in page and "授权记录：4 条" in page
    assert "quiz_answers" not in page
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["phone"] == "13912345678"
    assert data["profile"]["age_band"] == "50-59" and data["profile"]["district"] == "320412"
    assert data["profile"]["key_groups"] == ["farmers"]
    assert {(c["purpose"], c["granted"]) for c in data["consents"]} == {
        ("personalise", False), ("push", True), ("analytics", False), ("selftest_link", False)}
    assert data["selftests"][0]["dimensions"] == {"method": 0.25}
    assert data["quiz_answers"] == [{"who": citizen.pseudonym[:6], "correct": True}]


def test_delete_needs_the_password_then_removes_everything_and_runs_the_callbacks(region: Any) -> None:
    from django.contrib.auth.models import User

    from kepu.citizens import deletion
    from kepu.citizens.models import Citizen, Consent, SelfTestResult
    from kepu.core.models import AuditEntry

    client = browser()
    signup(client, "13912345678", "selftest_link")
    citizen = Citizen.objects.get()
    SelfTestResult.objects.create(citizen=citizen, finished_at=citizen.created_at, dims={"method": 0.5})
    seen: list[str] = []

    def forget(c: Any) -> None:
        # Runs inside the transaction, while the citizen still exists.
        assert Citizen.objects.filter(pk=c.pk).exists()
        seen.append(c.pseudonym)

    deletion.on_delete(forget)
    try:
        wrong = client.post("/me/delete/", {"password": "not-it"})
        assert wrong.status_code == 422 and "密码不正确" in wrong.content.decode()
        assert Citizen.objects.exists() and seen == []
        response = client.post("/me/delete/", {"password": GOOD_PASSWORD})
    finally:
        deletion._callbacks.remove(forget)
    assert response.status_code == 302 and response["Location"] == "/me/login/"
    assert seen == [citizen.pseudonym]
    assert not User.objects.filter(username="13912345678").exists()
    assert not Citizen.objects.exists() and not Consent.objects.exists() and not SelfTestResult.objects.exists()
    entry = AuditEntry.objects.get(action="citizen.delete")
    dump = json.dumps([entry.actor_label, entry.object_label, entry.changes, entry.comment], ensure_ascii=False)
    assert "13912345678" not in dump and entry.actor is None
    assert client.get("/me/profile/").status_code == 302  # logged out


def test_a_failing_callback_deletes_nothing(region: Any) -> None:
    from kepu.citizens import deletion
    from kepu.citizens.models import Citizen
    from kepu.citizens.services import citizen_delete

    citizen = make_citizen()

    def broken(c: Any) -> None:
        raise RuntimeError("app could not forget")

    deletion.on_delete(broken)
    try:
        with pytest.raises(RuntimeError):
            citizen_delete(citizen=citizen, password=GOOD_PASSWORD)
    finally:
        deletion._callbacks.remove(broken)
    assert Citizen.objects.filter(pk=citizen.pk).exists()


# -- elder mode ----------------------------------------------------------------------------------

def test_elder_mode_is_remembered_on_the_citizen_and_in_a_cookie_for_visitors(region: Any) -> None:
    from kepu.citizens.models import Citizen

    client = browser()
    signup(client, "lotus_fan")
    assert 'class="portal"' in client.get("/me/profile/").content.decode()
    client.post("/me/elder/", {"elder": "1", "next": "/me/profile/"})
    assert Citizen.objects.get().elder_mode is True
    assert 'class="portal elder"' in client.get("/me/profile/").content.decode()
    again = browser()  # a new browser, same account: the setting follows the citizen
    again.login(username="lotus_fan", password=GOOD_PASSWORD)
    assert 'class="portal elder"' in again.get("/me/profile/").content.decode()
    visitor = browser("198.51.100.2")
    response = visitor.post("/me/elder/", {"elder": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/me/"  # no open redirect
    assert 'class="portal elder"' in visitor.get("/me/login/").content.decode()
    visitor.post("/me/elder/", {"elder": "0"})
    assert 'class="portal"' in visitor.get("/me/login/").content.decode()


# -- self-test link ------------------------------------------------------------------------------

@pytest.fixture
def bank(region: Any) -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.tests.factories import item_rows

    items_import(rows=item_rows(), source="test")


def take_selftest(client: Client) -> Any:
    from kepu.literacy.models import Item
    from kepu.literacy.online import session_get
    from kepu.literacy.online_views import _token

    profile = {"age": "55", "sex": "M", "district": "320412", "area": "rural", "education": "junior",
               "occupation": "farmer", "consent": "yes"}
    assert client.post("/test/", profile).status_code == 302
    request = RequestFactory().get("/test/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    session = session_get(_token(request))
    for code in session.item_codes:
        item = Item.objects.get(code=code)
        client.get("/test/question/")
        answer = item.key if item.dimension == "knowledge" else ("B" if item.key == "A" else "A")
        if item.type == "true_false":
            answer = ("true" if item.key else "false") if item.dimension == "knowledge" else (
                "false" if item.key else "true")
        client.post("/test/question/", {"item": code, "answer": answer})
    return client.get("/test/result/")


def test_the_self_test_links_to_the_citizen_only_with_consent(bank: None) -> None:
    from kepu.citizens.models import Citizen, SelfTestResult
    from kepu.citizens.selectors import selftest_dimensions

    without = browser("203.0.113.20")
    signup(without, "no_link", "personalise")
    result = take_selftest(without)
    assert result.status_code == 200 and 'data-testid="linked"' not in result.content.decode()
    assert not SelfTestResult.objects.exists()
    assert selftest_dimensions(Citizen.objects.get(user__username="no_link")) is None

    with_consent = browser("203.0.113.21")
    signup(with_consent, "linker", "selftest_link")
    result = take_selftest(with_consent)
    assert 'data-testid="linked"' in result.content.decode()
    with_consent.get("/test/result/")  # viewing the result again links nothing twice
    citizen = Citizen.objects.get(user__username="linker")
    assert SelfTestResult.objects.filter(citizen=citizen).count() == 1
    dims = selftest_dimensions(citizen)
    assert dims is not None and dims["knowledge"] == 1.0 and dims["method"] < 1.0
    assert set(dims) == {"knowledge", "method", "spirit", "application"}

    # Withdrawing consent stops the use of the earlier link at once.
    with_consent.post("/me/profile/", {"action": "consents", "consent": []})
    assert selftest_dimensions(citizen) is None

    anonymous = browser("203.0.113.22")
    take_selftest(anonymous)
    assert SelfTestResult.objects.count() == 1
