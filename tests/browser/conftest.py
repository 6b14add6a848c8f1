"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's
live server. Playwright's sync API runs an event loop in this thread, so Django's async-safety
check must be told the ORM calls made by fixtures here are synchronous."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("KEPU_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium (./kepu.sh test does).")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


class _InFlight:
    """Requests being answered, counted from Django's request_started / request_finished signals."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def started(self, **kwargs: Any) -> None:
        with self.changed:
            self.count += 1

    def finished(self, **kwargs: Any) -> None:
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count <= 0, timeout)


@pytest.fixture(autouse=True)
def _server_idle_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a browser test the database is flushed. A page that polls (the kiosk) may still have a
    request in the live server then, and on PostgreSQL the flush's TRUNCATE and that request's reads
    deadlock. So every page is closed first, and the requests already sent are answered."""
    if "live_server" not in request.fixturenames:
        yield
        return
    from django.core.signals import request_finished, request_started

    # Asked for here, so that they are torn down (the flush) after this fixture
    request.getfixturevalue("live_server")
    browser = request.getfixturevalue("browser") if "browser" in request.fixturenames else None
    inflight = _InFlight()
    request_started.connect(inflight.started, weak=False)
    request_finished.connect(inflight.finished, weak=False)
    try:
        yield
        for ctx in list(browser.contexts if browser is not None else []):
            ctx.close()
        assert inflight.wait_idle(timeout=60), f"the live server is still answering {inflight.count} request(s)"
    finally:
        request_started.disconnect(inflight.started)
        request_finished.disconnect(inflight.finished)


@pytest.fixture
def login(browser: Any, live_server: Any) -> Any:
    """login(username, password, width) → a page logged in as that user."""
    contexts = []

    def do(username: str, password: str, width: int = 1280) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        contexts.append(ctx)
        page = ctx.new_page()
        log_in(page, live_server.url, username, password)
        return page

    yield do
    for ctx in contexts:
        ctx.close()


def log_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Log in through the login page, as a person does, and land on the dashboard."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{base_url}/")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def submit(page: Any, selector: str) -> None:
    """Click a button that posts a form, and wait until the page it leads to has loaded. A bare
    click waits only until that page starts to arrive: a count or a content() read at once may see
    it half-parsed (or empty)."""
    page.click(selector)
    page.wait_for_load_state()
