"""The plain-SQL reads and writes on the busiest paths (kepu.core.plainsql, the session store and the
login backend) give exactly what the ORM gives, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from kepu.core import plainsql
from kepu.core.auth import ModelBackend
from kepu.core.sessions import SessionStore

pytestmark = pytest.mark.django_db

BACKEND = "kepu.core.auth.ModelBackend"
PASSWORD = "test-pass-123"


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.fixture
def attempt(region: Any) -> Any:
    from kepu.citizens.services import citizen_signup
    from kepu.core.models import OrgUnit
    from kepu.quiz.models import Attempt, Contest

    citizen = citizen_signup(identifier="plainsql", password="test-pass-123", password_again="test-pass-123")
    now = timezone.now()
    contest = Contest.objects.create(title_zh="竞赛", org_unit=OrgUnit.objects.get(code="320412"),
                                     starts_at=now, ends_at=now + dt.timedelta(days=1), question_count=2)
    return Attempt.objects.create(contest=contest, citizen=citizen, day=now.date(), item_codes=["A", "B"],
                                  shown_at=now, seconds=1.25, refusals={"late": 2, "说明": "中文"})


def test_fetch_gives_what_the_orm_gives(attempt: Any) -> None:
    from kepu.quiz.models import Attempt

    [row] = plainsql.fetch(Attempt, "id = %s", [attempt.pk])
    assert _fields(row) == _fields(Attempt.objects.get(pk=attempt.pk))
    assert isinstance(row.shown_at, dt.datetime) and row.shown_at.tzinfo is not None
    assert row.refusals == {"late": 2, "说明": "中文"} and row.item_codes == ["A", "B"]
    assert row._state.adding is False
    user = attempt.citizen.user
    [fetched] = plainsql.fetch(User, "id = %s", [user.pk])
    assert _fields(fetched) == _fields(User.objects.get(pk=user.pk)) and fetched.is_active is True
    assert plainsql.fetch(Attempt, "id = %s", [attempt.pk + 1000]) == []


def test_fetch_with_lock_inside_a_transaction(attempt: Any) -> None:
    from kepu.quiz.models import Attempt

    with transaction.atomic():
        [row] = plainsql.fetch(Attempt, "id = %s AND citizen_id = %s", [attempt.pk, attempt.citizen_id], lock=True)
    assert row.pk == attempt.pk
    assert plainsql.fetch(Attempt, "id = %s AND citizen_id = %s", [attempt.pk, attempt.citizen_id + 1]) == []


def test_insert_and_update_write_what_save_writes(attempt: Any) -> None:
    from kepu.literacy.models import Item
    from kepu.quiz.models import Attempt, QuizAnswer

    item = Item.objects.create(code="PS1", dimension="method", type="true_false", stem_zh="题", key=True)
    now = timezone.now()
    answer = QuizAnswer(kind=QuizAnswer.Kind.CONTEST, citizen_id=attempt.citizen_id, attempt=attempt, position=0,
                        item=item, dimension="method", response=True, correct=True, seconds=2.5, at=now)
    plainsql.insert(answer)
    assert answer.pk is not None and answer._state.adding is False
    stored = QuizAnswer.objects.get(pk=answer.pk)
    assert (stored.response, stored.correct, stored.seconds) == (True, True, 2.5)
    assert (stored.at, stored.item_id) == (now, item.pk)

    attempt.position, attempt.score, attempt.shown_at, attempt.finished_at = 1, 1, None, now
    attempt.refusals = {"replay": 1}  # not named below: must stay as stored
    plainsql.update(attempt, ["position", "score", "shown_at", "finished_at"])
    again = Attempt.objects.get(pk=attempt.pk)
    assert (again.position, again.score, again.shown_at, again.finished_at) == (1, 1, None, now)
    assert again.refusals == {"late": 2, "说明": "中文"}


def _session_for(user: User, **extra: Any) -> SessionStore:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    for key, value in extra.items():
        store[key] = value
    store.create()
    return store


def _user_of(session_key: str) -> Any:
    request = RequestFactory().get("/")
    request.session = SessionStore(session_key)
    return get_user(request)


def test_sessions_load_expire_and_refuse_forged_keys(make_user: Any) -> None:
    user = make_user("sessions")
    store = _session_for(user, note="记住我")
    assert SessionStore(store.session_key).load()["note"] == "记住我"
    assert _user_of(store.session_key) == user
    # Expired: nothing loads and the user is anonymous.
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert SessionStore(store.session_key).load() == {}
    assert not _user_of(store.session_key).is_authenticated
    # Keys that are not ours, or not keys at all.
    for key in ["x" * 32, "short", "'; DROP TABLE django_session; --" * 2]:
        assert SessionStore(key).load() == {}
    assert Session.objects.count() == 1


def test_backend_refuses_inactive_missing_and_malformed_users(make_user: Any) -> None:
    user = make_user("backend")
    backend = ModelBackend()
    assert backend.get_user(user.pk) == user and backend.get_user(str(user.pk)) == user
    assert backend.get_user(user.pk + 1000) is None
    assert backend.get_user("not-a-number") is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None


def test_a_password_change_ends_the_session(make_user: Any) -> None:
    user = make_user("rehash")
    store = _session_for(user)
    assert _user_of(store.session_key) == user
    user.set_password("another-pass-456")
    user.save()
    assert not _user_of(store.session_key).is_authenticated


def test_login_and_logout_through_the_pages(make_user: Any) -> None:
    user = make_user("pages")
    client = Client()
    response = client.post("/login/", {"username": "pages", "password": PASSWORD})
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    assert _user_of(key) == user
    client.post("/logout/")
    assert SessionStore(key).load() == {}


def test_citizen_of_reads_once_and_knows_staff(make_user: Any, attempt: Any) -> None:
    from django.test.utils import CaptureQueriesContext

    from kepu.citizens.selectors import citizen_of

    user = User.objects.get(pk=attempt.citizen.user_id)
    with CaptureQueriesContext(connection) as queries:
        assert citizen_of(user) == attempt.citizen
        assert citizen_of(user) == attempt.citizen and user.citizen == attempt.citizen
    assert len(queries) == 1
    staff = make_user("staff-not-citizen")
    assert citizen_of(staff) is None and citizen_of(staff) is None
