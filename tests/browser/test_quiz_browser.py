"""Daily question and contests in the browser (issue 9, points 8 and 9): a citizen on a 390 px phone
answers the daily question (no key on the page before answering) and plays a contest one question
per screen; an older citizen in elder mode sees text ≥ 18 px, tap targets ≥ 48 px and a read-aloud
button; an editor creates a contest and sees its leaderboard. axe on every citizen page; screenshots."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import assert_accessible
from tests.browser.conftest import log_in, shot
from tests.browser.portal import PASSWORD, PHONE, citizen_login, portal_world, small_targets, small_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer_first_option(page: Any) -> None:
    page.locator("label.choice").first.click()
    page.get_by_role("button", name="提交答案").click()
    page.wait_for_load_state()


def test_citizen_daily_question_and_contest_on_a_phone(region: Any, browser: Any, live_server: Any) -> None:
    from django.core.cache import cache

    from kepu.quiz.models import Attempt, DailyQuestion, QuizAnswer

    cache.clear()
    world = portal_world(inbox=False)
    base = live_server.url
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    citizen_login(page, base, "citizen")

    # The daily question: stem and options, no key and no explanation before answering
    page.goto(f"{base}/me/quiz/")
    question = DailyQuestion.objects.get(citizen=world["citizen"])
    assert question.item.stem_zh in page.content()
    assert question.item.explanation_zh not in page.content()
    assert page.locator('[data-testid="question"]').count() == 1
    assert not small_text(page, 17)
    assert_accessible(page)
    shot(page, "quiz-01-daily-phone")
    _answer_first_option(page)
    expect(page.locator('[data-testid="verdict"]')).to_be_visible()
    assert question.item.explanation_zh in page.content()
    assert_accessible(page)
    shot(page, "quiz-02-daily-answered-phone")

    # A contest: rules, start, one question per screen, feedback, next, result
    page.goto(f"{base}/me/quiz/contests/")
    assert_accessible(page)
    shot(page, "quiz-03-contests-phone")
    page.get_by_role("link", name="科学素质网络竞赛").click()
    page.get_by_test_id("start").click()
    page.wait_for_load_state()
    for n in range(3):
        assert page.locator('[data-testid="question"]').count() == 1
        expect(page.get_by_text(f"第 {n + 1} 题，共 3 题").first).to_be_visible()
        if n == 0:
            assert_accessible(page)
            shot(page, "quiz-04-contest-question-phone")
        _answer_first_option(page)
        expect(page.locator('[data-testid="verdict"]')).to_be_visible()
        if n == 0:
            assert_accessible(page)
            shot(page, "quiz-05-contest-feedback-phone")
        page.get_by_test_id("done" if n == 2 else "next").click()
        page.wait_for_load_state()
    expect(page.locator('[data-testid="best"]')).to_be_visible()
    board = page.locator('[data-testid="board"] li').first.inner_text()
    assert board.startswith("武进区·农民·50-59·#") and "citizen" not in board
    assert_accessible(page)
    shot(page, "quiz-06-contest-result-phone")
    attempt = Attempt.objects.get(citizen=world["citizen"])
    assert attempt.finished_at is not None and attempt.position == 3
    assert QuizAnswer.objects.filter(attempt=attempt).count() == 3
    ctx.close()


def test_elder_mode_quiz_pages(region: Any, browser: Any, live_server: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    world = portal_world(inbox=False)
    base = live_server.url
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    citizen_login(page, base, "elder")
    page.goto(f"{base}/me/quiz/")
    assert "elder" in (page.locator("body").get_attribute("class") or "")
    assert not small_text(page, 18), small_text(page, 18)
    assert not small_targets(page), small_targets(page)
    if page.evaluate("'speechSynthesis' in window"):
        expect(page.get_by_role("button", name="朗读题目")).to_be_visible()
    assert_accessible(page)
    shot(page, "quiz-11-daily-elder-phone")
    page.goto(f"{base}/me/quiz/contests/{world['contest'].pk}/")
    page.get_by_test_id("start").click()
    page.wait_for_load_state()
    assert page.locator('[data-testid="question"]').count() == 1
    assert not small_text(page, 18), small_text(page, 18)
    assert not small_targets(page), small_targets(page)
    assert_accessible(page)
    shot(page, "quiz-12-contest-elder-phone")
    ctx.close()


def test_editor_creates_a_contest_and_sees_its_board(region: Any, browser: Any, live_server: Any) -> None:
    from kepu.core.services import user_create
    from kepu.quiz.models import Contest

    portal_world(contest=False, inbox=False)
    user_create(username="editor", password=PASSWORD, roles=[("editor", "320400", None)])
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, base, "editor", PASSWORD)
    page.goto(f"{base}/quiz/contests/")
    page.fill('input[name="title_zh"]', "老年人智能手机运用大赛")
    page.check('input[name="key_groups"][value="elderly"]')
    page.fill('input[name="question_count"]', "3")
    shot(page, "quiz-21-staff-contests")
    page.get_by_role("button", name="创建竞赛").click()
    page.wait_for_load_state()
    contest = Contest.objects.get()
    assert contest.key_groups == ["elderly"] and contest.question_count == 3
    expect(page.get_by_role("heading", name="老年人智能手机运用大赛")).to_be_visible()
    expect(page.get_by_text("没有发现异常。")).to_be_visible()
    shot(page, "quiz-22-staff-contest")
    ctx.close()
