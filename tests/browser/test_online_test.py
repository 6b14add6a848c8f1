"""A citizen takes the online test on a phone: demographics and consent first, one question per
page, no answer keys in the browser, and a score, tier and per-dimension feedback at the end."""

from __future__ import annotations

from typing import Any

import pytest

from kepu.literacy.tests.factories import load_items
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_takes_the_test_on_a_phone(region: Any, browser: Any, live_server: Any) -> None:
    from kepu.literacy.models import Answer, Item, Respondent

    load_items()
    keys = {i.code: i.key for i in Item.objects.all()}
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/test/")
    assert "个人信息告知" in page.get_by_test_id("consent-notice").inner_text()

    # Starting without consent is refused with a message, nothing is stored
    page.fill("#age", "34")
    page.check('input[name="sex"][value="F"]')
    page.select_option("#district", "320412")
    page.check('input[name="area"][value="urban"]')
    page.select_option("#education", "bachelor")
    page.select_option("#occupation", "worker")
    page.click("#start-test")
    assert "请阅读并同意" in page.inner_text("body")
    assert Respondent.objects.count() == 0

    page.check('input[name="consent"]')
    shot(page, "online-test-start-mobile")
    page.click("#start-test")
    answered = 0
    while page.get_by_test_id("question").count():
        html = page.content()
        code = page.locator('input[name="item"]').get_attribute("value")
        # The page carries the item code and options, never the key or the explanation.
        assert f"解析 {code}" not in html
        assert "key" not in html.lower().replace("keyboard", "")
        if answered == 0:
            shot(page, "online-test-question-mobile")
            page.click("#next")  # no answer chosen: asked again, nothing recorded
            assert "Choose an answer" in page.inner_text("body") or "请选择" in page.inner_text("body")
        page.locator('input[name="answer"]').first.check()
        page.click("#next")
        answered += 1
        assert answered < 60
    assert page.get_by_test_id("score").inner_text().isdigit()
    assert page.get_by_test_id("tier").inner_text()
    assert page.get_by_test_id("dimensions").locator("tbody tr").count() == 4
    shot(page, "online-test-result-mobile")

    r = Respondent.objects.get()
    assert r.sample == "opt_in" and r.wave is None and len(r.key) == 64
    assert (r.age_band, r.key_group, r.district.code) == ("30-39", "workers", "320412")
    answers = list(Answer.objects.filter(session__respondent=r).select_related("item"))
    assert len(answers) == answered
    assert all(a.seconds >= 0 for a in answers)
    # Scored on the server against the stored keys
    for a in answers:
        key = keys[a.item.code]
        assert a.correct == (a.response == (sorted(key) if isinstance(key, list) else key))
    assert r.score is not None and 0 <= r.score <= 100
    ctx.close()
