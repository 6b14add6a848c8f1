"""In a browser cut off from the internet, under the site's Content-Security-Policy: the API docs,
the chart pages and the account page work, and the browser reports no policy violation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push([e.violatedDirective, e.blockedURI || 'inline', e.sourceFile, e.lineNumber].join(' ')));"""


@pytest.fixture
def demo(plan: Any, settings: Any) -> None:
    from kepu.literacy.demo import literacy_demo
    from kepu.plans.demo import demo_generate

    demo_generate(plan=plan, seed=5)
    literacy_demo(year=timezone.localdate().year, seed=5)


@pytest.fixture
def offline(browser: Any, live_server: Any) -> Iterator[Any]:
    """offline(username or None, width) → a page whose browser can reach only the live server."""
    from kepu.plans.demo import DEMO_PASSWORD

    contexts, outside = [], []

    def only_the_site(route: Any) -> None:
        if route.request.url.startswith(live_server.url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def open_page(username: str | None, width: int = 1280) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        contexts.append(ctx)
        ctx.route("**/*", only_the_site)
        ctx.add_init_script(WATCH)
        page = ctx.new_page()
        if username:
            log_in(page, live_server.url, username, DEMO_PASSWORD)
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()
    assert outside == [], f"requests to other hosts: {outside}"


def _violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__csp"))


def test_api_docs_work_offline(demo: None, offline: Any, live_server: Any) -> None:
    page = offline(None)
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.locator(".opblock").count() >= 3
    page.locator(".opblock").first.click()
    assert _violations(page) == []
    shot(page, "api-docs-offline")


@pytest.mark.parametrize("username", ["office", "wujin"])
def test_chart_pages_render_without_policy_violations(demo: None, offline: Any, live_server: Any,
                                                      username: str) -> None:
    from kepu.literacy.models import Wave

    page = offline(username)
    wave = Wave.objects.get()
    for path in ("/", "/targets/T01/", f"/literacy/waves/{wave.code}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector("[data-option][data-rendered='1']", timeout=20000)
        chart = page.locator("[data-option][data-rendered='1']").first
        box = chart.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a tooltip shows
        page.wait_for_function("document.querySelectorAll('[data-option]').length === "
                               "document.querySelectorAll('[data-rendered=\"1\"]').length")
        assert _violations(page) == [], path


def test_account_and_error_pages(demo: None, offline: Any, live_server: Any) -> None:
    page = offline("wujin")
    page.goto(f"{live_server.url}/account/")
    page.fill("input[name=name]", "数据同步脚本")
    page.click("form.row button[type=submit]")
    assert page.get_by_test_id("new-token").inner_text().count("kp_") == 1
    expect(page.locator("table[data-testid=tokens] tbody tr")).to_have_count(1)
    shot(page, "account")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.get_by_test_id("error-403")).to_be_visible()
    shot(page, "error-403")
    assert _violations(page) == []
    phone = offline(None, width=390)
    phone.goto(f"{live_server.url}/no-such-page/")
    expect(phone.get_by_test_id("error-404")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "error-404-phone")
    assert _violations(phone) == []
