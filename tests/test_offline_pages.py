"""Every page works with no internet and under the Content-Security-Policy: nothing is loaded from
another host, no inline scripts or styles; the error pages are Chinese (English when chosen) with the
site's navigation, and the 500 page renders with the database down; no symbol the server's font
cannot draw."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from conftest import REPO

URL_ATTRS = {"src", "href", "action", "formaction", "poster", "data", "background", "manifest", "cite"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")
SAME_SITE = {"testserver"}


def external(url: str) -> bool:
    """True for a URL the browser would fetch from another host (scheme-relative or absolute)."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss", "ftp"} and parts.hostname not in SAME_SITE


class PageScan(HTMLParser):
    """Collects what the CSP or an offline install would break in one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.assets: list[str] = []
        self._inline_script = False
        # A JSON or JSON-LD data block is not run (the CSP does not apply to it), and the schema.org
        # "@context" in ClaimReview JSON-LD is an identifier, not something the browser fetches.
        self._data_block = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            value = value or ""
            if name in URL_ATTRS and external(value):
                self.problems.append(f"<{tag} {name}={value!r}> loads from another host")
            if name == "srcset" and any(external(part.split()[0]) for part in value.split(",") if part.strip()):
                self.problems.append(f"<{tag} srcset={value!r}> loads from another host")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}>: inline style")
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: inline event handler")
            if name in URL_ATTRS and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>: javascript: URL")
        if tag == "style":
            self.problems.append("<style> element: inline style")
        if tag == "script":
            if values.get("src"):
                self.assets.append(values["src"] or "")
            self._data_block = values.get("type") in {"application/json", "application/ld+json"}
            self._inline_script = not values.get("src") and not self._data_block
        if tag == "link" and "stylesheet" in (values.get("rel") or "") and values.get("href"):
            self.assets.append(values["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")
        for match in re.finditer(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s"'<>]*""", data):
            if self.lasttag in {"script", "style"} and not self._data_block and external(match.group(0)):
                self.problems.append(f"<{self.lasttag}> refers to {match.group(0)!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inline_script = self._data_block = False


def scan_html(html: str) -> tuple[list[str], list[str]]:
    parser = PageScan()
    parser.feed(html)
    parser.close()
    return parser.problems, parser.assets


# -- the scanner itself ---------------------------------------------------------------------------

def test_the_scanner_finds_what_it_must() -> None:
    bad = """<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui.css">
    <script src="//unpkg.com/htmx.org"></script><img srcset="https://x.org/a.png 2x"><div style="color:red"></div>
    <script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">x</a><style>p{}</style>"""
    problems, _ = scan_html(bad)
    assert len(problems) == 8, problems
    good = """<link rel="stylesheet" href="/static/kepu/kepu.css"><a href="http://testserver/plan/">x</a>
    <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E">
    <script type="application/json" id="s">{"url": "/api/openapi.json"}</script><script src="/static/a.js"></script>
    <svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>"""
    problems, assets = scan_html(good)
    assert problems == []
    assert assets == ["/static/kepu/kepu.css", "/static/a.js"]


# -- every page, every demo role --------------------------------------------------------------------

def _routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _routes(entry, ns)
        elif entry.name:
            yield f"{prefix}{entry.name}", entry


def _page_urls(values: dict[str, str]) -> list[str]:
    """Every named page of the site with its parameters filled from demo data. JSON API routes and
    Django admin beyond its login are left out; the API's HTML page is its documentation."""
    urls = []
    for name, pattern in _routes():
        if name.startswith("api:") and name != "api:openapi-view":
            continue
        if name.startswith("admin:") and name not in {"admin:login", "admin:index"}:
            continue
        converters = getattr(pattern.pattern, "converters", {})
        kwargs: dict[str, Any] = {}
        for arg, conv in converters.items():
            if type(conv).__name__ == "IntConverter":
                kwargs[arg] = int(values.get(f"{name}.{arg}", values.get(arg, "1")))
            else:
                app_default = values.get(f"{name.split(':')[0]}.{arg}", values.get(arg, "x"))
                kwargs[arg] = values.get(f"{name}.{arg}", app_default)
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except Exception:  # a converter refused the value: the route takes something else
            continue
    return sorted(set(urls))


@pytest.fixture
def demo_site(plan: Any, django_capture_on_commit_callbacks: Any, settings: Any) -> dict[str, Any]:
    from kepu.literacy.demo import literacy_demo
    from kepu.literacy.models import Item, Wave
    from kepu.plans.demo import DEMO_USERS, demo_generate
    from kepu.plans.models import Observation

    with django_capture_on_commit_callbacks(execute=True):
        demo_generate(plan=plan, seed=3)
        literacy_demo(year=timezone.localdate().year, seed=3)
    wave, item = Wave.objects.first(), Item.objects.first()
    obs = Observation.objects.filter(org_unit__code="320412").first()
    values = {
        "code": "T01", "web.code": "T01",
        "literacy:wave_detail.code": wave.code if wave else "x",
        "literacy:wave_export.code": wave.code if wave else "x",
        "obs_id": str(obs.pk if obs else 1), "fmt": "csv",
    }
    for name, _p in _routes():
        if name.startswith("literacy:item") and item is not None:
            values[f"{name}.code"] = item.code
        elif name.startswith("literacy:wave"):
            values[f"{name}.code"] = wave.code if wave else "x"
    return {"users": [u for u, _n, _r in DEMO_USERS], "values": values}


@cache
def _asset_problems(client: Client, url: str) -> tuple[str, ...]:
    response = client.get(url)
    if response.status_code != 200:
        return (f"{url}: asset answers {response.status_code}, so the page breaks offline",)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if url.endswith(".css"):
        return tuple(f"{url}: {m.group(0)!r}" for m in CSS_URL.finditer(body.decode("utf-8", "replace"))
                     if external(m.group(1) or m.group(2)))
    return ()


def test_no_page_loads_anything_from_another_host_or_inline(demo_site: dict[str, Any]) -> None:
    from django.contrib.auth.models import User

    urls = _page_urls(demo_site["values"])
    # The page list comes from the URLconf: the main pages of each area must be among them.
    for must in ("/", "/plan/", "/targets/T01/", "/report/", "/inbox/", "/literacy/", "/test/", "/api/docs",
                 "/login/", "/account/", "/admin/login/"):
        assert must in urls, (must, urls)
    problems: list[str] = []
    asset_problems: dict[str, tuple[str, ...]] = {}
    checked = 0
    for username in [None, *demo_site["users"]]:
        client = Client()
        if username is not None:
            client.force_login(User.objects.get(username=username))
        for url in urls:
            response = client.get(url)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            checked += 1
            csp = response.get("Content-Security-Policy", "")
            if "script-src 'self'" not in csp or "unsafe-inline" in csp:
                problems.append(f"{username} {url}: CSP header {csp!r}")
            found, assets = scan_html(response.content.decode())
            problems += [f"{username} {url}: {p}" for p in found]
            for asset in assets:
                if asset not in asset_problems:  # the same static files on every page: scan each once
                    asset_problems[asset] = _asset_problems(Client(), asset)
                problems += [f"{username} {url}: {p}" for p in asset_problems[asset]]
    assert problems == []
    assert checked > 7 * 12  # every role saw the site, not just redirects to the login page


def test_api_docs_come_from_local_static_files(client: Client) -> None:
    response = client.get("/api/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    assert '"validatorUrl": null' in html
    bundle = client.get("/static/ninja/swagger-ui-bundle.js")
    assert bundle.status_code == 200


# -- error pages ------------------------------------------------------------------------------------

def _nav_links(html: str) -> set[str]:
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S)
    return set(re.findall(r'href="([^"]+)"', nav.group(1))) if nav else set()


def test_404_is_chinese_with_navigation_and_english_when_chosen(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["wujin"])
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and "Page not found" not in html
    assert {"/", "/plan/", "/literacy/"} <= _nav_links(html)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/no-such-page/").content.decode()
    assert "Page not found" in html and "页面不存在" not in html
    assert {"/", "/plan/"} <= _nav_links(html)


def test_404_for_a_citizen_points_to_the_self_test_and_the_login(client: Client) -> None:
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404 and "页面不存在" in html
    assert 'href="/test/"' in html and 'href="/login/"' in html


def test_403_is_chinese_with_the_reason_and_navigation(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["viewer_wujin"])
    response = client.get("/inbox/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in html and "仅审核员可查看待审核列表。" in html  # the view's reason, in Chinese
    assert "Forbidden" not in html and "403 Forbidden" not in html
    assert "/plan/" in _nav_links(html)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Access denied" in client.get("/inbox/").content.decode()


def test_csrf_failure_page_is_chinese(users: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "wujin", "password": "x"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "请求已过期" in html and "CSRF" not in html


def test_500_renders_in_chinese_with_navigation_while_the_database_is_down(users: dict[str, Any]) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(users["office"])
    down = OperationalError("could not connect to server: Connection refused")
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection", side_effect=down):
        response = client.get("/plan/")
        html = response.content.decode()
        assert response.status_code == 500
        assert "服务器出错" in html and "Server Error" not in html
        assert {"/", "/plan/", "/literacy/"} <= _nav_links(html)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        html = client.get("/plan/").content.decode()
    assert "Server error" in html and "服务器出错" not in html


# -- symbols the server's font can draw -------------------------------------------------------------

def _symbols(text: str) -> set[str]:
    return {ch for ch in text if ord(ch) > 0x7F and (
        unicodedata.category(ch) in {"So", "Sm", "Sk"} or ord(ch) >= 0x1F000 or 0xFE00 <= ord(ch) <= 0xFE0F)}


def test_every_symbol_in_pages_reports_and_data_is_in_the_server_font() -> None:
    from reportlab.pdfbase.ttfonts import TTFontFile

    font = Path(settings.KEPU_CJK_FONT)
    assert font.exists(), f"{font} is missing: install fonts-wqy-microhei (./kepu.sh test does)"
    drawable = set(TTFontFile(str(font), subfontIndex=0).charToGlyph)
    roots = [REPO / "src/kepu", REPO / "data"]
    missing: dict[str, set[str]] = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.suffix not in {".html", ".py", ".css", ".js", ".po", ".yaml", ".yml"} or ".min." in path.name:
                continue
            for ch in _symbols(path.read_text(encoding="utf-8", errors="replace")) - {"\ufffd"}:
                if ord(ch) not in drawable:
                    missing.setdefault(f"U+{ord(ch):04X} {ch}", set()).add(str(path.relative_to(REPO)))
    assert missing == {}
