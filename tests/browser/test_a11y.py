"""axe-core (WCAG 2.1 A/AA) over the citizen pages, on a phone: no serious or critical violation.

Covered: the online self-test (intro, a question of each kind, result)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import assert_accessible, axe_violations
from tests.browser.conftest import shot, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True}


def test_the_checker_finds_a_violation(browser: Any, live_server: Any) -> None:
    """The check itself works under the site's CSP: a page with an unlabelled image link fails it."""
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/login/")
    page.evaluate("""() => { const a = document.createElement('a'); a.href = '/x';
        const i = document.createElement('img'); i.src = '/y.png'; a.appendChild(i); document.body.appendChild(a); }""")
    ids = {v["id"] for v in axe_violations(page)}
    assert "image-alt" in ids or "link-name" in ids
    with pytest.raises(AssertionError, match="serious/critical"):
        assert_accessible(page)
    ctx.close()


def test_self_test_pages(region: Any, browser: Any, live_server: Any) -> None:
    from django.core.cache import cache

    from kepu.literacy.items import items_import
    from tests.test_online_test import bank_rows

    cache.clear()
    items_import(rows=bank_rows(), source="test")
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/test/")
    assert_accessible(page)
    submit(page, "#start-test")  # refused without consent: the error state is checked too
    assert_accessible(page)
    page.fill("#age", "34")
    page.check('input[name="sex"][value="F"]')
    page.select_option("#district", "320412")
    page.check('input[name="area"][value="urban"]')
    page.select_option("#education", "bachelor")
    page.select_option("#occupation", "worker")
    page.check('input[name="consent"]')
    submit(page, "#start-test")
    seen: set[str] = set()
    while page.get_by_test_id("question").count():
        kind = page.get_by_test_id("question").get_attribute("data-kind") or page.locator(
            'input[name="answer"]').first.get_attribute("type") or ""
        if kind not in seen:
            seen.add(kind)
            assert_accessible(page)
        page.locator('input[name="answer"]').first.check()
        submit(page, "#next")
    assert page.get_by_test_id("score").count() == 1
    assert_accessible(page)
    ctx.close()


# Citizen portal pages (path, needs a logged-in citizen). Resource page: CAT; feed: SEG; quiz: QUIZ;
# inbox: CAMP; sign-up, login, profile, my data, delete: CIT.
PORTAL_PAGES = [
    ("/me/signup/", False),
    ("/me/login/", False),
    ("/me/", True),
    ("/me/feed/", True),
    ("/me/search/?q=洗手", True),
    ("/me/r/wash-hands/", True),
    ("/me/quiz/", True),
    ("/me/quiz/contests/", True),
    ("/me/inbox/", True),
    ("/me/profile/", True),
    ("/me/data/", True),
    ("/me/delete/", True),
]


def _visit_portal(browser: Any, base: str, username: str | None) -> Any:
    from tests.browser.portal import PHONE, citizen_login

    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    if username:
        citizen_login(page, base, username)
    return ctx, page


@pytest.mark.parametrize("who", ["citizen", "elder"])
def test_portal_pages(region: Any, browser: Any, live_server: Any, who: str) -> None:
    """Every portal page, as a 50-59 farmer and as a 70+ citizen in elder mode: axe clean."""
    from django.core.cache import cache

    from tests.browser.portal import portal_world

    cache.clear()
    portal_world()
    problems = {}
    for path, logged_in in PORTAL_PAGES:
        ctx, page = _visit_portal(browser, live_server.url, who if logged_in else None)
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        try:
            assert_accessible(page)
        except AssertionError as exc:
            problems[path] = str(exc)
        ctx.close()
    assert not problems, "\n".join(problems.values())


def test_elder_mode_on_portal_pages(region: Any, browser: Any, live_server: Any) -> None:
    """适老化: with the switch on, every portal page has text ≥ 18 px and tap targets ≥ 48×48 px."""
    from django.core.cache import cache

    from tests.browser.portal import portal_world, small_targets, small_text

    cache.clear()
    portal_world()
    problems = []
    for path, _logged_in in PORTAL_PAGES:
        if not _logged_in:
            continue
        ctx, page = _visit_portal(browser, live_server.url, "elder")
        page.goto(f"{live_server.url}{path}")
        assert "elder" in (page.get_attribute("body", "class") or ""), path
        assert float(page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")) >= 18, path
        if text := small_text(page, 18):
            problems.append(f"{path} text < 18 px: {text}")
        if targets := small_targets(page):
            problems.append(f"{path} tap targets < 48 px: {targets}")
        shot(page, "elder-" + (path.strip("/").split("?")[0].replace("/", "-") or "home"))
        ctx.close()
    assert not problems, "\n".join(problems)
