"""A citizen takes the online test on a phone: demographics and consent first (the town list follows
the district), one question per page, no answer keys in the browser, an empty multiple-choice answer
refused, large text, and at the end a score, their own answers beside the correct ones, and full-
contrast explanations. Screenshots of every page, on a phone and on a desktop."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import shot, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every visible element with its own text inside the test card whose font is under 17 px.
CSRF_INPUT = r"<input[^>]*csrfmiddlewaretoken[^>]*>"
SMALL_TEXT = """() => Array.from(document.querySelectorAll('.selftest, .selftest *'))
  .filter(e => e.getClientRects().length
    && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.tagName, parseFloat(getComputedStyle(e).fontSize), e.textContent.trim().slice(0, 30)])
  .filter(x => x[1] < 17)"""


def _bank() -> None:
    from kepu.literacy.items import items_import
    from tests.test_online_test import bank_rows

    items_import(rows=bank_rows(), source="test")


def _town_options(page: Any) -> list[str]:
    return [v for v in page.eval_on_selector_all("#town option", "os => os.map(o => o.value)") if v]


def _fill_profile(page: Any) -> None:
    page.fill("#age", "34")
    page.check('input[name="sex"][value="F"]')
    page.select_option("#district", "320412")
    page.check('input[name="area"][value="urban"]')
    page.select_option("#education", "bachelor")
    page.select_option("#occupation", "worker")


def test_citizen_takes_the_test_on_a_phone(region: Any, browser: Any, live_server: Any) -> None:
    from django.core.cache import cache

    from kepu.core.models import OrgUnit
    from kepu.literacy.models import Answer, Item, Respondent

    cache.clear()
    _bank()
    keys = {i.code: i.key for i in Item.objects.all()}
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = ctx.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/test/")
    assert "个人信息告知" in page.get_by_test_id("consent-notice").inner_text()
    assert "共 20 道题，限时 20 分钟" in page.get_by_test_id("test-facts").inner_text()
    assert page.evaluate(SMALL_TEXT) == []

    # The town list follows the district (static script; the server checks the pair as well)
    assert _town_options(page) == [] and page.is_disabled("#town")
    towns = {d: {u.code for u in OrgUnit.objects.filter(parent__code=d, level="town", valid_to__isnull=True)}
             for d in ("320411", "320412")}
    page.select_option("#district", "320411")
    assert set(_town_options(page)) == towns["320411"]
    page.select_option("#town", sorted(towns["320411"])[0])

    # Starting without consent is refused with a message, nothing is stored
    _fill_profile(page)
    assert set(_town_options(page)) == towns["320412"] and page.input_value("#town") == ""
    submit(page, "#start-test")
    assert "请阅读并同意" in page.inner_text("body")
    assert Respondent.objects.count() == 0

    page.check('input[name="consent"]')
    shot(page, "online-test-start-mobile")
    submit(page, "#start-test")
    answered = 0
    seen: set[str] = set()
    while page.get_by_test_id("question").count():
        html = page.content()
        code = page.locator('input[name="item"]').get_attribute("value")
        # The page carries the item code and options, never the key or the explanation.
        assert f"解析 {code}" not in html
        # (the random CSRF tokens are left out: one may spell "key" by chance)
        assert "key" not in re.sub(CSRF_INPUT, "", html).lower().replace("keyboard", "")
        kind = Item.objects.get(code=code).type
        if kind not in seen:
            seen.add(kind)
            assert page.evaluate(SMALL_TEXT) == []
            shot(page, f"online-test-question-{kind}-mobile")
            submit(page, "#next")  # no answer chosen: asked again, nothing recorded
            assert "请选择答案后再继续" in page.inner_text("body")
            assert Answer.objects.filter(item__code=code).count() == 0
        page.locator('input[name="answer"]').first.check()
        submit(page, "#next")
        answered += 1
        assert answered <= 20
    assert {"multiple", "single", "true_false"} <= seen
    assert page.get_by_test_id("score").inner_text().isdigit()
    assert page.get_by_test_id("tier").inner_text()
    assert page.get_by_test_id("dimensions").locator("tbody tr").count() == 4
    assert page.get_by_test_id("given").count() == page.get_by_test_id("correct").count() == 20
    assert page.evaluate(SMALL_TEXT) == []
    body = page.evaluate("() => getComputedStyle(document.body).color")
    explain = page.eval_on_selector_all(".explain", "es => es.map(e => getComputedStyle(e).color)")
    assert len(explain) == 20 and set(explain) == {body}
    shot(page, "online-test-result-mobile")
    assert csp == []

    r = Respondent.objects.get()
    assert r.sample == "opt_in" and r.wave is None and len(r.key) == 64
    assert (r.age_band, r.key_group, r.district.code) == ("30-39", "workers", "320412")
    answers = list(Answer.objects.filter(session__respondent=r).select_related("item"))
    assert len(answers) == answered == 20
    assert all(a.seconds >= 0 for a in answers)
    # Scored on the server against the stored keys
    for a in answers:
        key = keys[a.item.code]
        assert a.correct == (a.response == (sorted(key) if isinstance(key, list) else key))
    assert r.score is not None and 0 <= r.score <= 100
    ctx.close()


def test_the_test_on_a_desktop(region: Any, browser: Any, live_server: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    _bank()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{live_server.url}/test/")
    _fill_profile(page)
    page.check('input[name="consent"]')
    shot(page, "online-test-start-desktop")
    submit(page, "#start-test")
    shot(page, "online-test-question-desktop")
    while page.get_by_test_id("question").count():
        page.locator('input[name="answer"]').first.check()
        submit(page, "#next")
    assert page.get_by_test_id("correct").count() == 20
    shot(page, "online-test-result-desktop")
    ctx.close()
