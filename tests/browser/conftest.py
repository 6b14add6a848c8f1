"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's
live server. Playwright's sync API runs an event loop in this thread, so Django's async-safety
check must be told the ORM calls made by fixtures here are synchronous."""

from __future__ import annotations

import os
import shutil
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
