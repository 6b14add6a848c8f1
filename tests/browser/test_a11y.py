"""axe-core (WCAG 2.1 A/AA) over the citizen pages, on a phone: no serious or critical violation.

Covered: the online self-test (intro, a question of each kind, result)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import assert_accessible, axe_violations

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
    page.click("#start-test")  # refused without consent: the error state is checked too
    assert_accessible(page)
    page.fill("#age", "34")
    page.check('input[name="sex"][value="F"]')
    page.select_option("#district", "320412")
    page.check('input[name="area"][value="urban"]')
    page.select_option("#education", "bachelor")
    page.select_option("#occupation", "worker")
    page.check('input[name="consent"]')
    page.click("#start-test")
    seen: set[str] = set()
    while page.get_by_test_id("question").count():
        kind = page.get_by_test_id("question").get_attribute("data-kind") or page.locator(
            'input[name="answer"]').first.get_attribute("type") or ""
        if kind not in seen:
            seen.add(kind)
            assert_accessible(page)
        page.locator('input[name="answer"]').first.check()
        page.click("#next")
    assert page.get_by_test_id("score").count() == 1
    assert_accessible(page)
    ctx.close()
