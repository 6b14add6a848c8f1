"""The public online self-test (issue 6, points 5 and 17): what a citizen is asked and shown, the
time limit, and what a script or an access log can get out of it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone

pytestmark = pytest.mark.django_db

PROFILE = {"age": "34", "sex": "F", "district": "320412", "area": "urban", "education": "bachelor",
           "occupation": "worker", "consent": "yes"}


def bank_rows() -> list[dict[str, Any]]:
    """The factory bank with every second knowledge item a two-point multiple-choice item."""
    from kepu.literacy.tests.factories import item_rows

    rows = item_rows()
    for row in rows:
        if row["dimension"] == "knowledge" and row["type"] == "single":
            row.update(type="multiple", key=["A", "C"], points=2, stem_zh=f"多选题 {row['code']}")
    return rows


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty cache, and a clock that stands still for the rate limiter, so no counting window
    or day ends in the middle of a test."""
    import types

    from kepu.core import ratelimit

    cache.clear()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_000.0))


@pytest.fixture
def bank(region: Any) -> None:
    from kepu.literacy.items import items_import

    items_import(rows=bank_rows(), source="test")


def citizen(address: str = "203.0.113.7") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="zh-hans")


def start(client: Client, **changes: str) -> Any:
    return client.post("/test/", {**PROFILE, **changes})


def token_of(client: Client) -> str:
    """The token the browser holds, read from its signed cookie as the pages read it."""
    from kepu.literacy.online_views import _token

    request = RequestFactory().get("/test/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return _token(request)


def session_of(client: Client) -> Any:
    from kepu.literacy.online import session_get

    return session_get(token_of(client))


def put_first(session: Any, code: str) -> None:
    """Make `code` the current question (tests of one item type)."""
    from kepu.literacy.models import TestSession

    codes = [code] + [c for c in session.item_codes if c != code]
    TestSession.objects.filter(pk=session.pk).update(item_codes=codes)


def wrong_answer(item: Any) -> Any:
    if item.type == "true_false":
        return "false" if item.key else "true"
    return ["B"] if isinstance(item.key, list) else ("A" if item.key != "A" else "B")


def finish(client: Client) -> None:
    """Answer every question wrongly through the page."""
    from kepu.literacy.models import Item

    for code in session_of(client).item_codes:
        item = Item.objects.get(code=code)
        client.get("/test/question/")
        response = client.post("/test/question/", {"item": code, "answer": wrong_answer(item)})
        assert response.status_code == 302


# -- point 5: what the citizen is asked and shown ----------------------------------------------------

def test_a_multiple_choice_question_submitted_empty_is_refused_like_a_single_choice(bank: None) -> None:
    from kepu.literacy.models import Answer, Item

    client = citizen()
    start(client)
    form = Item.objects.filter(code__in=session_of(client).item_codes)
    multiple = [i.code for i in form if i.type == "multiple"]
    single = next(i.code for i in form if i.type == "single")
    for code in (multiple[0], single):
        put_first(session_of(client), code)
        assert client.get("/test/question/").status_code == 200
        response = client.post("/test/question/", {"item": code})
        assert response.status_code == 422
        assert "请选择答案后再继续" in response.content.decode()
        assert not Answer.objects.exists() and session_of(client).position == 0
    put_first(session_of(client), multiple[1])
    client.post("/test/question/", {"item": multiple[1], "answer": ["C", "A"]})
    answer = Answer.objects.get()
    assert (answer.item.code, answer.response, answer.correct, answer.points) == (multiple[1], ["A", "C"], True, 2.0)


def test_the_intro_states_the_question_count_and_time_limit_of_the_form(bank: None, settings: Any) -> None:
    settings.KEPU_SELFTEST = {"time_limit_minutes": 7}
    client = citizen()
    intro = client.get("/test/").content.decode()
    stated = re.search(r"共 (\d+) 道题，限时 (\d+) 分钟", intro)
    assert stated is not None
    start(client)
    session = session_of(client)
    assert int(stated.group(1)) == len(session.item_codes) == 20
    assert int(stated.group(2)) == 7
    assert session.deadline - session.started_at == pytest.approx(dt.timedelta(minutes=7), abs=dt.timedelta(seconds=5))
    page = client.get("/test/question/").content.decode()
    assert "第 1 题，共 20 题" in page and "前交卷" in page


def test_an_answer_after_the_deadline_is_not_recorded_and_the_test_ends(bank: None) -> None:
    from kepu.literacy.models import Answer, Item, TestSession

    client = citizen()
    start(client)
    session = session_of(client)
    first = Item.objects.get(code=session.item_codes[0])
    client.post("/test/question/", {"item": first.code, "answer": wrong_answer(first)})
    assert Answer.objects.count() == 1
    TestSession.objects.filter(pk=session.pk).update(deadline=timezone.now() - dt.timedelta(seconds=1))
    second = Item.objects.get(code=session.item_codes[1])
    late = client.post("/test/question/", {"item": second.code, "answer": wrong_answer(second)})
    assert late.status_code == 302 and late["Location"] == "/test/result/"
    assert Answer.objects.count() == 1
    session = session_of(client)
    r = session.respondent
    assert session.finished_at is not None and r.score is not None
    assert sum(r.possible.values()) == sum(i.points for i in Item.objects.filter(code__in=session.item_codes))
    assert list(r.responses.values()).count(None) == 19  # unanswered items count as given and wrong
    result = client.get("/test/result/").content.decode()
    assert "答题时间已到：未作答的 19 道题按答错计。" in result
    # Reloading the question page after the deadline shows the result, never a new question
    assert client.get("/test/question/")["Location"] == "/test/result/"


def test_the_result_shows_the_persons_answer_and_the_correct_answer(bank: None) -> None:
    from kepu.literacy.models import Item

    client = citizen()
    start(client)
    finish(client)
    page = client.get("/test/result/").content.decode()
    items = Item.objects.filter(code__in=session_of(client).item_codes)
    assert page.count('data-testid="given"') == page.count('data-testid="correct"') == 20
    for item in items:
        if item.type == "true_false":
            continue
        key = item.key if isinstance(item.key, list) else [item.key]
        shown = "；".join(f"{k}. 选项{k}" for k in key)
        assert f"正确答案：{shown}" in page
    assert "您的答案：B. 选项B" in page  # a multiple-choice item answered with B alone
    assert page.count("✘ 回答错误") == 20 and "✔" not in page
    assert page.count('class="explain"') == 20 and all(f"解析 {i.code}" in page for i in items)


def test_the_town_list_follows_the_district_without_inline_script(bank: None) -> None:
    from kepu.core.models import OrgUnit

    page = citizen().get("/test/").content.decode()
    # Towns come grouped by district (usable without script) and a static script narrows the list.
    assert 'data-district="320412"' in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/kepu/selftest.js">']
    other = OrgUnit.objects.filter(level="town", parent__code="320411", valid_to__isnull=True).first()
    refused = start(citizen(), town=other.code)
    assert refused.status_code == 422 and "不属于该辖市(区)" in refused.content.decode()
    own = OrgUnit.objects.filter(level="town", parent__code="320412", valid_to__isnull=True).first()
    assert start(citizen(), town=own.code).status_code == 302


# -- point 17: abuse and privacy -----------------------------------------------------------------------

def test_no_token_in_any_address_and_only_its_hash_is_stored(bank: None, settings: Any) -> None:
    from kepu.literacy.models import Answer, Item, Respondent, TestSession

    client = citizen()
    started = start(client)
    assert started["Location"] == "/test/question/"
    cookie = client.cookies["kepu_selftest"]
    assert cookie["httponly"] and cookie["path"] == "/test/" and cookie["samesite"] == "Lax"
    token = token_of(client)
    addresses = [started["Location"]]
    for code in session_of(client).item_codes:
        answer = wrong_answer(Item.objects.get(code=code))
        addresses.append(client.post("/test/question/", {"item": code, "answer": answer})["Location"])
    assert set(addresses) <= {"/test/question/", "/test/result/"}
    assert client.get("/test/result/").status_code == 200
    session = TestSession.objects.get()
    assert session.token_hash == hashlib.sha256(token.encode()).hexdigest()
    key = hmac.new(settings.KEPU_PSEUDONYM_KEY.encode(), f"online:{token}".encode(), hashlib.sha256).hexdigest()
    assert session.respondent.key == key
    for model in (TestSession, Respondent, Answer):
        for row in model.objects.values():
            assert token not in repr(row)
    # Without the cookie the pages lead back to the intro
    assert Client().get("/test/result/")["Location"] == "/test/"


def test_the_pseudonym_key_is_separate_from_the_secret_key(settings: Any) -> None:
    from kepu.literacy.online import pseudonym

    before = pseudonym("online:x")
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert pseudonym("online:x") == before
    settings.KEPU_PSEUDONYM_KEY = "another-pseudonym-key"
    assert pseudonym("online:x") != before


def test_starts_are_rate_limited_per_client(bank: None, settings: Any) -> None:
    from kepu.literacy.models import Respondent

    settings.KEPU_SELFTEST = {"starts_per_hour": 2}
    client = citizen("198.51.100.9")
    assert [start(client).status_code for _ in range(2)] == [302, 302]
    refused = start(client)
    assert refused.status_code == 429 and "太多" in refused.content.decode()
    assert Respondent.objects.count() == 2
    assert start(citizen("198.51.100.10")).status_code == 302  # another client is not affected


def test_answers_are_rate_limited_per_client(bank: None, settings: Any) -> None:
    from kepu.literacy.models import Answer, Item

    settings.KEPU_SELFTEST = {"answers_per_minute": 3}
    client = citizen()
    start(client)
    items = [Item.objects.get(code=c) for c in session_of(client).item_codes[:4]]
    statuses = [client.post("/test/question/", {"item": i.code, "answer": wrong_answer(i)}).status_code for i in items]
    assert statuses == [302, 302, 302, 429] and Answer.objects.count() == 3


def test_keys_only_for_the_own_form_and_only_for_the_first_tests_of_the_day(bank: None, settings: Any) -> None:
    from kepu.literacy.models import Item

    settings.KEPU_SELFTEST = {"reviews_per_day": 1}
    first, second = citizen("192.0.2.50"), citizen("192.0.2.50")
    start(first)
    finish(first)
    page = first.get("/test/result/").content.decode()
    own = set(session_of(first).item_codes)
    others = Item.objects.exclude(code__in=own)
    assert page.count("正确答案：") == len(own) == 20
    assert not any(f"{i.stem_zh}<" in page for i in others)  # no other item of the bank appears
    start(second)
    finish(second)
    capped = second.get("/test/result/").content.decode()
    assert session_of(second).review is False
    assert "正确答案：" not in capped and "✔" not in capped and "✘" not in capped and "解析 " not in capped
    assert capped.count("您的答案：") == 20 and 'data-testid="no-review"' in capped


def test_a_client_gets_the_same_form_all_day(bank: None) -> None:
    forms = []
    for _ in range(3):
        client = citizen("192.0.2.60")
        start(client)
        forms.append(sorted(session_of(client).item_codes))
    assert forms[0] == forms[1] == forms[2]  # restarting shows no new items
    others = []
    for n in range(5):
        client = citizen(f"192.0.2.{70 + n}")
        start(client)
        others.append(tuple(sorted(session_of(client).item_codes)))
    assert len(set(others)) > 1  # forms still differ between clients


def test_an_ipv6_client_counts_as_its_64_network() -> None:
    from kepu.core.ratelimit import client_address, client_key

    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::10")
    two = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::1")
    other = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:3::10")
    assert client_address(one) == client_address(two) == "2001:db8:1:2::"
    assert client_key(one) == client_key(two) != client_key(other)
    assert "2001" not in client_key(one)


def test_the_privacy_notice_states_what_is_recorded_and_no_address_is_stored(bank: None) -> None:
    from kepu.literacy.models import Answer, Respondent, TestSession

    notice = citizen().get("/test/").content.decode()
    for said in ("年龄、性别、所在辖市(区)和镇(街道)、城镇或乡村、文化程度和职业", "答案和用时",
                 "不与您的网络地址(IP)保存在一起", "Cookie", "访问日志"):
        assert said in notice
    client = citizen("203.0.113.199")
    start(client)
    finish(client)
    for model in (TestSession, Respondent, Answer):
        for row in model.objects.values():
            assert "203.0.113.199" not in repr(row)
    for field in Respondent._meta.get_fields():
        assert "ip" not in field.name.split("_") and "address" not in field.name


def test_the_english_result_names_the_tier_in_english(bank: None) -> None:
    from kepu.literacy.models import ScoringProfile
    from kepu.literacy.online import DEFAULT_PROFILE
    from kepu.literacy.scoring import profile_of

    client = Client(REMOTE_ADDR="203.0.113.8", HTTP_ACCEPT_LANGUAGE="en")
    start(client)
    finish(client)
    page = client.get("/test/result/").content.decode()
    r = session_of(client).respondent
    tier = next(t for t in profile_of(ScoringProfile.objects.get(code=DEFAULT_PROFILE)).tiers if t.label_zh == r.tier)
    assert f'data-testid="tier">{tier.label_en}<' in page and r.tier not in page


def test_the_counters_live_in_the_shared_cache_so_every_worker_counts_together(tmp_path: Any, settings: Any) -> None:
    """Two processes sharing a cache backend (Redis in production; a file cache here) share the
    client's count."""
    import subprocess
    import sys

    from kepu.core import ratelimit

    shared = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(tmp_path)}}
    settings.CACHES = shared  # Django drops its cache connections when the setting changes
    assert ratelimit.hit("t", "client", limit=2, window=3600)
    other_worker = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'kepu.settings'; django.setup()\n"
        "from django.conf import settings; settings.CACHES = " + repr(shared) + "\n"
        "import types; from kepu.core import ratelimit\n"
        "ratelimit.time = types.SimpleNamespace(time=lambda: 1_800_000_000.0)  # the test's clock\n"
        "assert ratelimit.hit('t', 'client', limit=2, window=3600)\n"
    )
    subprocess.run([sys.executable, "-c", other_worker], check=True)
    assert not ratelimit.hit("t", "client", limit=2, window=3600)
