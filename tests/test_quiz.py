"""Daily question and contests (issue 9, point 8): what a citizen is asked and shown, server-side
timing, attempt rules, points, leaderboards, abuse signals, item statistics, the feed, deletion."""

from __future__ import annotations

import datetime as dt
import json
import re
import types
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"
WUJIN, WUJIN_TOWN, TIANNING = "320412", "320412100", "320402"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty cache and a rate-limit clock that stands still (no window ends mid-test)."""
    from kepu.core import ratelimit

    cache.clear()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_000.0))


@pytest.fixture
def bank(region: Any) -> None:
    from kepu.literacy.tests.factories import load_items

    load_items()


def make_citizen(username: str, *, district: str = WUJIN, town: str | None = WUJIN_TOWN,
                 key_groups: tuple[str, ...] = ("farmers",), age_band: str = "50-59") -> Any:
    from kepu.citizens.services import citizen_signup
    from kepu.core.models import OrgUnit

    citizen = citizen_signup(identifier=username, password=PASSWORD, password_again=PASSWORD)
    citizen.district = OrgUnit.objects.get(code=district)
    citizen.town = OrgUnit.objects.get(code=town) if town else None
    citizen.key_groups = list(key_groups)
    citizen.age_band = age_band
    citizen.occupation = "farmer"
    citizen.save()
    return citizen


def login(citizen: Any, address: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(citizen.user)
    return client


def make_contest(region: Any, **kw: Any) -> Any:
    from kepu.quiz.models import Contest

    now = timezone.now()
    fields = {"title_zh": "科学素质网络竞赛", "title_en": "Science literacy contest", "org_unit": region,
              "starts_at": now - dt.timedelta(hours=1), "ends_at": now + dt.timedelta(days=7),
              "question_count": 4, "seconds_per_question": 30, "attempts_per_day": 1, **kw}
    return Contest.objects.create(**fields)


def right_answer(code: str) -> Any:
    from kepu.literacy.models import Item

    key = Item.objects.get(code=code).key
    return "true" if key is True else "false" if key is False else key


def wrong_answer(code: str) -> Any:
    from kepu.literacy.models import Item

    item = Item.objects.get(code=code)
    if item.type == "true_false":
        return "false" if item.key else "true"
    return "A" if item.key != "A" else "C"


def play(contest: Any, citizen: Any, *, right: int | None = None) -> Any:
    """Run a whole attempt through the services: the first `right` answers right, the rest wrong."""
    from kepu.quiz import services

    attempt = services.contest_start(contest=contest, citizen=citizen, client="")
    for n in range(len(attempt.item_codes)):
        shown = services.attempt_show(attempt_id=attempt.pk, citizen=citizen)
        assert shown.item is not None
        code = shown.item.code
        raw = right_answer(code) if right is None or n < right else wrong_answer(code)
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=n, item_code=code, raw=raw)
    attempt.refresh_from_db()
    return attempt


def keys_of_bank() -> list[str]:
    from kepu.literacy.models import Item

    return [i.explanation_zh for i in Item.objects.all()]


# --- daily question ------------------------------------------------------------------------------


def test_daily_question_is_the_same_all_day_and_from_the_weakest_dimension(bank: Any, monkeypatch: Any) -> None:
    from kepu.literacy.models import Item
    from kepu.quiz import services

    # Given a citizen whose measured weakest dimension is 科学方法
    monkeypatch.setattr("kepu.outreach.weakness.weak_dimensions", lambda c: ["method", "spirit"])
    citizen = make_citizen("farmer1")
    # When they open the daily question twice
    first = services.daily_question(citizen=citizen)
    again = services.daily_question(citizen=citizen)
    # Then it is one question, of the weakest dimension
    assert first.pk == again.pk and first.item_id == again.item_id
    assert Item.objects.get(pk=first.item_id).dimension == "method"


def test_daily_question_is_deterministic_per_citizen_and_day(bank: Any, monkeypatch: Any) -> None:
    from kepu.quiz import services

    monkeypatch.setattr("kepu.outreach.weakness.weak_dimensions", lambda c: ["knowledge"])
    citizen = make_citizen("farmer1")
    day = dt.date(2026, 5, 1)
    assert services.daily_pick(citizen, day).code == services.daily_pick(citizen, day).code
    picks = {services.daily_pick(citizen, day + dt.timedelta(days=n)).code for n in range(10)}
    assert len(picks) > 1  # another day, another seed


def test_daily_question_does_not_repeat_within_n_days(bank: Any, monkeypatch: Any) -> None:
    from kepu.quiz import services

    # Given only 6 method items and a repeat window of 30 days
    monkeypatch.setattr("kepu.outreach.weakness.weak_dimensions", lambda c: ["method"])
    citizen = make_citizen("farmer1")
    start = dt.date(2026, 5, 1)
    # When the citizen gets a question on 8 days in a row
    codes = [services.daily_question(citizen=citizen, day=start + dt.timedelta(days=n)).item.code for n in range(8)]
    # Then the first six are the six method items, each once, and then other dimensions follow
    assert sorted(codes[:6]) == [f"M{i:03d}" for i in range(1, 7)]
    assert not codes[6].startswith("M") and not codes[7].startswith("M") and codes[6] != codes[7]


def test_without_measured_weak_spots_the_citizens_own_quiz_accuracy_orders_dimensions(bank: Any,
                                                                                      monkeypatch: Any) -> None:
    from kepu.literacy.models import Item
    from kepu.quiz.models import QuizAnswer
    from kepu.quiz.selectors import weak_order

    monkeypatch.setattr("kepu.outreach.weakness.weak_dimensions", lambda c: [])
    citizen = make_citizen("farmer1")
    item = Item.objects.get(code="S001")
    for correct in (False, False, False):
        QuizAnswer.objects.create(kind="daily", citizen=citizen, item=item, dimension="spirit", response=True,
                                  correct=correct, seconds=3, at=timezone.now())
    assert weak_order(citizen)[0] == "spirit"


def test_daily_page_sends_no_key_before_the_answer_and_shows_it_after(bank: Any, monkeypatch: Any) -> None:
    from kepu.quiz.models import DailyQuestion, PointEntry

    monkeypatch.setattr("kepu.outreach.weakness.weak_dimensions", lambda c: ["method"])
    citizen = make_citizen("farmer1")
    client = login(citizen)
    # When the citizen opens today's question
    page = client.get("/me/quiz/")
    assert page.status_code == 200
    html = page.content.decode()
    question = DailyQuestion.objects.get(citizen=citizen)
    item = question.item
    # Then the page has the stem but neither the key nor the explanation
    assert item.stem_zh in html
    assert item.explanation_zh not in html
    assert "正确答案：" not in html and 'data-testid="verdict"' not in html
    # When they answer right
    response = client.post("/me/quiz/", {"answer": right_answer(item.code)}, follow=True)
    html = response.content.decode()
    # Then the page says so and shows the key and explanation; points are awarded
    assert "回答正确" in html and item.explanation_zh in html
    assert PointEntry.objects.get(citizen=citizen).points == 10
    # And a second answer is refused (409) and changes nothing
    again = client.post("/me/quiz/", {"answer": wrong_answer(item.code)})
    assert again.status_code == 409
    question.refresh_from_db()
    assert question.answer is not None and question.answer.correct is True
    assert PointEntry.objects.filter(citizen=citizen).count() == 1


def test_citizen_pages_refuse_staff_and_anonymous(bank: Any, make_user: Any, region: Any) -> None:
    staff = make_user("office", ("office_admin", "320400", None))
    client = Client()
    assert client.get("/me/quiz/").status_code == 302  # to the citizen login
    client.force_login(staff)
    assert client.get("/me/quiz/").status_code == 403
    assert client.get("/me/quiz/contests/").status_code == 403


# --- contests: server-side timing, replay, forgery ----------------------------------------------


def test_contest_page_never_carries_the_key_and_the_answer_reply_does(bank: Any, region: Any) -> None:
    contest = make_contest(region)
    citizen = make_citizen("farmer1")
    client = login(citizen)
    assert client.post(f"/me/quiz/contests/{contest.pk}/").status_code == 302
    page = client.get(f"/me/quiz/contests/{contest.pk}/play/")
    html = page.content.decode()
    code = re.search(r'name="item" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    from kepu.literacy.models import Item

    item = Item.objects.get(code=code)
    assert item.explanation_zh not in html
    assert 'data-testid="key"' not in html and "正确答案：" not in html
    feedback = client.post(f"/me/quiz/contests/{contest.pk}/play/",
                           {"position": 0, "item": code, "answer": right_answer(code)})
    assert feedback.status_code == 200
    assert item.explanation_zh in feedback.content.decode()


def test_reloading_does_not_restart_the_clock(bank: Any, region: Any) -> None:
    from kepu.quiz import services

    contest = make_contest(region)
    citizen = make_citizen("farmer1")
    attempt = services.contest_start(contest=contest, citizen=citizen)
    first = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).attempt.shown_at
    second = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).attempt.shown_at
    assert first is not None and first == second


def test_late_answer_is_refused_and_scores_nothing(bank: Any, region: Any) -> None:
    from kepu.quiz import services
    from kepu.quiz.models import Attempt, QuizAnswer

    contest = make_contest(region, seconds_per_question=10)
    citizen = make_citizen("farmer1")
    attempt = services.contest_start(contest=contest, citizen=citizen)
    code = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).item.code  # type: ignore[union-attr]
    # Given the question was shown 13 s ago (limit 10 s + 2 s grace)
    Attempt.objects.filter(pk=attempt.pk).update(shown_at=timezone.now() - dt.timedelta(seconds=13))
    with pytest.raises(services.AnswerRefused) as refused:
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=0, item_code=code,
                                raw=right_answer(code))
    assert refused.value.reason == "late"
    attempt.refresh_from_db()
    # Then nothing is scored or stored, the question is closed at its full limit, the refusal counted
    assert (attempt.score, attempt.position, attempt.seconds) == (0, 1, 10.0)
    assert attempt.refusals == {"late": 1}
    assert not QuizAnswer.objects.exists()


def test_an_answer_in_time_is_timed_by_the_server(bank: Any, region: Any) -> None:
    from kepu.quiz import services
    from kepu.quiz.models import Attempt

    contest = make_contest(region, seconds_per_question=10)
    citizen = make_citizen("farmer1")
    attempt = services.contest_start(contest=contest, citizen=citizen)
    code = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).item.code  # type: ignore[union-attr]
    Attempt.objects.filter(pk=attempt.pk).update(shown_at=timezone.now() - dt.timedelta(seconds=7))
    done = services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=0, item_code=code,
                                   raw=right_answer(code))
    assert done.answer.correct and 7 <= done.answer.seconds < 9
    assert done.attempt.score == 1


def test_replayed_answer_is_refused_once_stored(bank: Any, region: Any) -> None:
    from kepu.quiz import services
    from kepu.quiz.models import QuizAnswer

    contest = make_contest(region)
    citizen = make_citizen("farmer1")
    attempt = services.contest_start(contest=contest, citizen=citizen)
    code = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).item.code  # type: ignore[union-attr]
    services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=0, item_code=code,
                            raw=right_answer(code))
    with pytest.raises(services.AnswerRefused) as refused:
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=0, item_code=code,
                                raw=right_answer(code))
    assert refused.value.reason == "replay"
    attempt.refresh_from_db()
    assert attempt.score == 1 and QuizAnswer.objects.count() == 1 and attempt.refusals == {"replay": 1}


def test_forged_answers_are_refused(bank: Any, region: Any) -> None:
    from kepu.quiz import services
    from kepu.quiz.models import QuizAnswer

    contest = make_contest(region)
    citizen = make_citizen("farmer1")
    other = make_citizen("farmer2")
    attempt = services.contest_start(contest=contest, citizen=citizen)
    # Not yet shown: the server never started its clock
    with pytest.raises(services.AnswerRefused) as unseen:
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=0,
                                item_code=attempt.item_codes[0], raw="true")
    code = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).item.code  # type: ignore[union-attr]
    # A question ahead, another item than the current one, and someone else's attempt
    with pytest.raises(services.AnswerRefused) as ahead:
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=1,
                                item_code=attempt.item_codes[1], raw="true")
    with pytest.raises(services.AnswerRefused) as wrong_item:
        services.contest_answer(attempt_id=attempt.pk, citizen=citizen, position=0, item_code="K999", raw="true")
    with pytest.raises(services.AnswerRefused) as foreign:
        services.contest_answer(attempt_id=attempt.pk, citizen=other, position=0, item_code=code, raw="true")
    assert {e.value.reason for e in (unseen, ahead, wrong_item, foreign)} == {"forged"}
    attempt.refresh_from_db()
    assert attempt.score == 0 and attempt.position == 0 and not QuizAnswer.objects.exists()
    assert attempt.refusals == {"forged": 3}


def test_one_attempt_a_day_and_the_best_counts(bank: Any, region: Any) -> None:
    from kepu.quiz import selectors, services
    from kepu.quiz.models import Attempt

    contest = make_contest(region, attempts_per_day=2)
    citizen = make_citizen("farmer1")
    play(contest, citizen, right=1)
    play(contest, citizen, right=3)
    with pytest.raises(services.InputError):
        services.contest_start(contest=contest, citizen=citizen)
    assert Attempt.objects.filter(citizen=citizen).count() == 2
    board = selectors.leaderboard(contest)
    assert [(r.citizen_id, r.score) for r in board] == [(citizen.pk, 3)]
    # The next day a new attempt is allowed
    Attempt.objects.update(day=timezone.localdate() - dt.timedelta(days=1))
    assert services.contest_start(contest=contest, citizen=citizen).number == 1


def test_ranking_is_by_score_then_time(bank: Any, region: Any) -> None:
    from kepu.quiz import selectors

    contest = make_contest(region)
    fast, slow, weak = make_citizen("fast"), make_citizen("slow"), make_citizen("weak")
    play(contest, fast)
    play(contest, slow).__class__.objects.filter(citizen=slow).update(seconds=50.0)
    play(contest, weak, right=2)
    from kepu.quiz.models import Attempt

    Attempt.objects.filter(citizen=fast).update(seconds=20.0)
    Attempt.objects.filter(citizen=weak).update(seconds=1.0)
    board = selectors.leaderboard(contest)
    assert [r.citizen_id for r in board] == [fast.pk, slow.pk, weak.pk]
    assert [r.score for r in board] == [4, 4, 2]


def test_contest_for_another_district_or_group_is_closed(bank: Any, region: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.quiz import services

    tianning = make_contest(OrgUnit.objects.get(code=TIANNING))
    elderly = make_contest(region, key_groups=["elderly"])
    citizen = make_citizen("farmer1")
    for contest in (tianning, elderly):
        with pytest.raises(services.PermissionDenied):
            services.contest_start(contest=contest, citizen=citizen)
        assert login(citizen).get(f"/me/quiz/contests/{contest.pk}/").status_code == 404


def test_points_have_a_daily_cap(bank: Any, region: Any, settings: Any) -> None:
    from kepu.quiz.selectors import points_today

    settings.KEPU_QUIZ = {"points_cap": 12, "contest_points": 5}
    contest = make_contest(region, question_count=4)
    citizen = make_citizen("farmer1")
    play(contest, citizen)  # four right answers: 20 points before the cap
    assert points_today(citizen) == 12


# --- leaderboards, signals, abuse ---------------------------------------------------------------


def test_leaderboards_by_person_town_and_district_without_personal_data(bank: Any, region: Any) -> None:
    contest = make_contest(region)
    a = make_citizen("13800000001")
    b = make_citizen("farmer_b", district=TIANNING, town="320402001", key_groups=("elderly",), age_band="70+")
    play(contest, a)
    play(contest, b, right=2)
    body = Client().get(f"/api/quiz/contests/{contest.pk}/leaderboard").json()
    names = [p["name"] for p in body["persons"]]
    assert names[0].startswith("武进区·农民·50-59·#") and names[1].startswith("天宁区·老年人·70+·#")
    assert [d["name"] for d in body["districts"]] == ["武进区", "天宁区"]
    assert [t["name"] for t in body["towns"]] == ["湖塘镇", "雕庄街道"]
    text = json.dumps(body, ensure_ascii=False)
    assert "13800000001" not in text and "farmer_b" not in text and "user" not in text


def test_many_accounts_from_one_client_are_flagged_and_win_no_prize(bank: Any, region: Any) -> None:
    from kepu.quiz import selectors, services

    contest = make_contest(region, prizes=2)
    honest = make_citizen("honest")
    sybils = [make_citizen(f"sybil{n}") for n in range(3)]
    play(contest, honest, right=1)
    for s in sybils:
        attempt = play(contest, s)
        attempt.__class__.objects.filter(pk=attempt.pk).update(client="same-client-key")
    found = selectors.signals(contest)
    assert set(found.flags) == {s.pk for s in sybils}
    assert found.shared_clients == [(timezone.localdate(), 3)]
    board = selectors.leaderboard(contest)
    # The flagged accounts stay on the board (not deleted) but the prize goes to the honest one
    assert len(board) == 4
    assert [r.citizen_id for r in board if r.prize] == [honest.pk]
    # (identical answers may add "same_pattern" when two of them drew the same questions in the same order)
    assert all("shared_client" in r.flags for r in board if r.citizen_id != honest.pk)
    assert services  # the module under test


def test_identical_answer_timing_patterns_are_flagged(bank: Any, region: Any) -> None:
    from kepu.quiz import selectors
    from kepu.quiz.models import QuizAnswer

    contest = make_contest(region)
    twins = [make_citizen(f"twin{n}") for n in range(2)]
    other = make_citizen("other")
    # Same seed → same questions is not given; force the twins' answers to one pattern
    for c in (*twins, other):
        play(contest, c)
    for c in twins:
        for n, answer in enumerate(QuizAnswer.objects.filter(citizen=c).order_by("position")):
            answer.response, answer.seconds = "B", 3.0 + n
            answer.save()
    assert set(selectors.signals(contest).flags) == {t.pk for t in twins}


def test_staff_contest_page_shows_signals_and_flags(bank: Any, region: Any, make_user: Any) -> None:
    editor = make_user("editor", ("editor", "320400", None))
    contest = make_contest(region)
    sybils = [make_citizen(f"sybil{n}") for n in range(3)]
    for s in sybils:
        play(contest, s).__class__.objects.filter(citizen=s).update(client="k1", refusals={"late": 2})
    client = Client()
    client.force_login(editor)
    html = client.get(f"/quiz/contests/{contest.pk}/").content.decode()
    assert "同一网络有 3 个账号参赛" in html
    assert html.count('data-testid="flag"') == 3
    assert "超时提交：6 次" in html


def test_bursts_of_submissions_are_rate_limited(bank: Any, region: Any, settings: Any) -> None:
    from kepu.quiz.models import QuizAnswer

    settings.KEPU_QUIZ = {"answers_per_minute": 5}
    contest = make_contest(region, question_count=10)
    citizen = make_citizen("farmer1")
    client = login(citizen)
    client.post(f"/me/quiz/contests/{contest.pk}/")
    statuses = []
    for _n in range(8):
        page = client.get(f"/me/quiz/contests/{contest.pk}/play/").content.decode()
        m = re.search(r'name="position" value="(\d+)".*?name="item" value="([^"]+)"', page, re.S)
        assert m is not None
        form = {"position": m.group(1), "item": m.group(2), "answer": right_answer(m.group(2))}
        statuses.append(client.post(f"/me/quiz/contests/{contest.pk}/play/", form).status_code)
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    assert QuizAnswer.objects.count() == 5


def test_staff_pages_need_an_editor_or_the_office(bank: Any, region: Any, make_user: Any) -> None:
    from kepu.quiz.models import Contest

    viewer = make_user("viewer", ("viewer", "320400", None))
    district_editor = make_user("ed_wj", ("editor", WUJIN, None))
    client = Client()
    client.force_login(viewer)
    assert client.get("/quiz/contests/").status_code == 403
    form = {"title_zh": "武进区农民科普竞赛", "org_unit": WUJIN, "starts_at": "2026-05-01T09:00",
            "ends_at": "2026-05-15T21:00", "question_count": 5, "seconds_per_question": 20,
            "attempts_per_day": 1, "prizes": 3, "key_groups": ["farmers"]}
    assert client.post("/quiz/contests/", form).status_code == 403
    assert not Contest.objects.exists()
    client.force_login(district_editor)
    # A district editor cannot create a city-wide contest (the city is not offered, nor taken)
    assert client.post("/quiz/contests/", {**form, "org_unit": "320400"}).status_code == 422
    assert not Contest.objects.exists()
    assert client.post("/quiz/contests/", form).status_code == 302
    contest = Contest.objects.get()
    assert (contest.org_unit.code, contest.key_groups, contest.question_count) == (WUJIN, ["farmers"], 5)


def test_contest_form_errors_are_listed(bank: Any, region: Any, make_user: Any) -> None:
    editor = make_user("editor", ("editor", "320400", None))
    client = Client()
    client.force_login(editor)
    page = client.post("/quiz/contests/", {"title_zh": "", "org_unit": "320400", "starts_at": "2026-05-02T09:00",
                                           "ends_at": "2026-05-01T09:00", "question_count": 999,
                                           "seconds_per_question": 1, "attempts_per_day": 1, "prizes": 1})
    html = page.content.decode()
    assert page.status_code == 422
    for text in ("请填写竞赛名称", "题目数量应为 1 到 50", "每题限时(秒)应为 5 到 600", "结束时间应晚于开始时间"):
        assert text in html


# --- statistics, never the official estimate ---------------------------------------------------


def test_quiz_answers_feed_item_statistics_never_the_survey(bank: Any, region: Any, make_user: Any) -> None:
    from kepu.literacy.models import Respondent, Wave, WaveEstimate
    from kepu.quiz import selectors

    before = (Respondent.objects.count(), Wave.objects.count(), WaveEstimate.objects.count())
    contest = make_contest(region, question_count=8)
    citizens = [make_citizen(f"cit{n}") for n in range(6)]
    for n, c in enumerate(citizens):
        play(contest, c, right=n)
    # Then the survey tables are exactly as they were
    assert (Respondent.objects.count(), Wave.objects.count(), WaveEstimate.objects.count()) == before
    # And item statistics count every answer
    stats = selectors.item_stats()
    assert sum(s.answered for s in stats) == 48
    assert sum(s.correct for s in stats) == sum(range(6))
    assert sum(n for _c, _l, n, _r in selectors.dimension_stats()) == 48
    editor = make_user("editor", ("editor", "320400", None))
    client = Client()
    client.force_login(editor)
    page = client.get("/quiz/stats/").content.decode()
    assert "不计入官方的科学素质调查估计" in page and stats[0].code in page


def test_quiz_answers_leave_a_published_estimate_unchanged(bank: Any, region: Any) -> None:
    from kepu.literacy.models import Respondent, ScoringProfile, Wave, WaveEstimate

    profile = ScoringProfile.objects.create(code="p", name_zh="p", name_en="p", config={})
    wave = Wave.objects.create(code="W1", name_zh="w", name_en="w", year=2025, profile=profile, region=region,
                               published_at=timezone.now())
    Respondent.objects.create(wave=wave, key="r1", score=61.0, passed=True, earned={"method": 1.0})
    WaveEstimate.objects.create(wave=wave, variable="overall", level="all", n=1, estimate=0.123, se=0.01,
                                ci_low=0.1, ci_high=0.14)
    snapshot = (list(Respondent.objects.values()), list(WaveEstimate.objects.values()), list(Wave.objects.values()))
    contest = make_contest(region, question_count=8)
    for n in range(5):
        play(contest, make_citizen(f"cit{n}"), right=n)
    assert (list(Respondent.objects.values()), list(WaveEstimate.objects.values()),
            list(Wave.objects.values())) == snapshot


def test_accuracy_for_campaign_effects(bank: Any, region: Any) -> None:
    from kepu.literacy.models import Item
    from kepu.quiz.models import QuizAnswer
    from kepu.quiz.selectors import accuracy

    a, b = make_citizen("citizen_a"), make_citizen("citizen_b")
    now = timezone.now()
    method, knowledge = Item.objects.get(code="M001"), Item.objects.get(code="K001")
    rows = [(a, method, True, now), (a, method, False, now), (b, method, True, now),
            (b, knowledge, True, now), (a, method, True, now - dt.timedelta(days=40))]
    for citizen, item, correct, at in rows:
        QuizAnswer.objects.create(kind="daily", citizen=citizen, item=item, dimension=item.dimension,
                                  response=True, correct=correct, seconds=2, at=at)
    since = now - dt.timedelta(days=30)
    assert accuracy([a.pk, b.pk], "method", since) == (2, 3)
    assert accuracy([a.pk], "method", None) == (2, 3)
    assert accuracy([b.pk], None, since) == (2, 2)
    assert accuracy([], "method", since) == (0, 0)


# --- the feed for other platforms ----------------------------------------------------------------


def test_daily_feed_keys_only_for_permitted_roles(bank: Any, region: Any, make_user: Any) -> None:
    from kepu.core.services import api_token_create

    office = make_user("office", ("office_admin", "320400", None))
    reporter = make_user("wujin", ("district_reporter", WUJIN, None))
    citizen = make_citizen("farmer1")

    def get(user: Any | None, *, token: bool = True) -> Any:
        client = Client()
        headers = {}
        if user is not None and token:
            raw = api_token_create(user=user, name="feed")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        elif user is not None:
            client.force_login(user)
        return client.get("/api/quiz/daily?date=2026-05-01", **headers)

    full = get(office)
    assert full.status_code == 200
    body = full.json()
    assert body["with_keys"] is True and body["count"] == 4
    assert {i["dimension"] for i in body["items"]} == {"knowledge", "method", "spirit", "application"}
    assert all("key" in i and i["key"] is not None and i["explanation_zh"] for i in body["items"])
    # Same day, same questions; another day, others
    assert get(office).json()["items"] == body["items"]
    plain = get(reporter).json()
    assert plain["with_keys"] is False and all(i["key"] is None and i["explanation_zh"] is None
                                               for i in plain["items"])
    assert [i["code"] for i in plain["items"]] == [i["code"] for i in body["items"]]
    assert get(None).status_code == 401
    assert get(citizen.user, token=False).status_code == 403


def test_daily_feed_does_not_repeat_an_item_before_its_dimension_is_used_up(bank: Any) -> None:
    from kepu.quiz.selectors import daily_feed

    start = dt.date(2026, 3, 1)
    method = [next(i.code for i in daily_feed(start + dt.timedelta(days=n)) if i.dimension == "method")
              for n in range(6)]
    assert len(set(method)) == 6


def test_staff_export_json_and_xlsx(bank: Any, region: Any, make_user: Any) -> None:
    from openpyxl import load_workbook

    editor = make_user("editor", ("editor", "320400", None))
    client = Client()
    client.force_login(editor)
    body = json.loads(client.get("/quiz/daily/export.json?date=2026-05-01").content)
    assert body["date"] == "2026-05-01" and len(body["items"]) == 4 and "key" in body["items"][0]
    import io

    wb = load_workbook(io.BytesIO(client.get("/quiz/daily/export.xlsx?date=2026-05-01").content))
    rows = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][0] == "code" and [r[0] for r in rows[1:]] == [i["code"] for i in body["items"]]
    assert client.get("/quiz/daily/export.csv").status_code == 404


# --- account deletion mid-contest -------------------------------------------------------------------


def test_deleting_an_account_mid_contest_removes_it_from_the_leaderboards(bank: Any, region: Any) -> None:
    from kepu.citizens.services import citizen_delete
    from kepu.quiz import selectors, services
    from kepu.quiz.models import Attempt, DailyQuestion, PointEntry, QuizAnswer

    contest = make_contest(region)
    stays, leaves = make_citizen("stays"), make_citizen("leaves")
    play(contest, stays, right=1)
    play(contest, leaves)
    services.daily_question(citizen=leaves)
    answers_before = QuizAnswer.objects.count()
    # When one deletes their account mid-contest
    citizen_delete(citizen=leaves, password=PASSWORD)
    # Then they are off every board; their answers stay for item statistics, without them
    assert [r.citizen_id for r in selectors.leaderboard(contest)] == [stays.pk]
    body = Client().get(f"/api/quiz/contests/{contest.pk}/leaderboard").json()
    assert len(body["persons"]) == 1 and body["districts"][0]["participants"] == 1
    assert QuizAnswer.objects.count() == answers_before
    assert QuizAnswer.objects.filter(citizen__isnull=True).count() == 4
    assert not Attempt.objects.filter(citizen_id=leaves.pk).exists()
    assert not DailyQuestion.objects.filter(citizen_id=leaves.pk).exists()
    assert not PointEntry.objects.filter(citizen_id=leaves.pk).exists()


def test_api_answer_replies_with_the_next_question_without_its_key(bank: Any, region: Any) -> None:
    from kepu.literacy.models import Item
    from kepu.quiz import services
    from kepu.quiz.models import Attempt, QuizAnswer

    contest = make_contest(region, question_count=3)
    citizen = make_citizen("farmer1")
    attempt = services.contest_start(contest=contest, citizen=citizen)
    code = services.attempt_show(attempt_id=attempt.pk, citizen=citizen).item.code  # type: ignore[union-attr]
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen.user)
    client.get("/me/quiz/contests/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    url = f"/api/quiz/attempts/{attempt.pk}/answer"

    def post(body: dict[str, Any]) -> Any:
        return client.post(url, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)

    reply = post({"position": 0, "item": code, "answer": right_answer(code)})
    assert reply.status_code == 200
    body = reply.json()
    assert body["correct"] is True and body["explanation"] == Item.objects.get(code=code).explanation_zh
    nxt = body["next"]
    assert nxt["position"] == 1 and nxt["item"] == attempt.item_codes[1]
    following = Item.objects.get(code=nxt["item"])
    assert "key" not in nxt and following.explanation_zh not in reply.content.decode()
    # The next question's clock runs from this reply
    assert Attempt.objects.get(pk=attempt.pk).shown_at is not None
    # A replay of the first answer is a 409 problem and stores nothing
    again = post({"position": 0, "item": code, "answer": right_answer(code)})
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    assert QuizAnswer.objects.count() == 1
    # Without the CSRF header the session request is refused
    assert client.post(url, json.dumps({"position": 1, "item": nxt["item"], "answer": "true"}),
                       content_type="application/json").status_code == 403
    # Staff have no attempts to answer
    assert QuizAnswer.objects.count() == 1


def test_quiz_demo_fills_the_boards_once(bank: Any, region: Any) -> None:
    from kepu.quiz import selectors
    from kepu.quiz.demo import quiz_demo
    from kepu.quiz.models import Contest

    assert "2 contests" in quiz_demo(seed=7)
    assert quiz_demo(seed=7) == "Quiz demo already present."
    science, elderly = Contest.objects.order_by("id")
    board = selectors.leaderboard(science)
    assert len(board) == 60 and all(r.score <= science.question_count for r in board)
    assert len(selectors.unit_leaderboard(science, "district")) >= 7
    assert {r.name.split("·")[1] for r in selectors.leaderboard(elderly)} == {"老年人"}
