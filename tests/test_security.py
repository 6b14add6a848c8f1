"""Secrets and sessions: the embedded key is refused in production, logins lock out after repeated
failures on both login pages, API tokens expire, can be listed and revoked (command line and the
user's own page), die with a password change and are never made for users without a role; CSP,
HSTS and secure cookies follow `check --deploy`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, REPO
from kepu.core.errors import InputError
from kepu.core.models import ApiToken
from kepu.core.services import api_token_create

KEPU = [sys.executable, "-m", "kepu.cli"]
PRODUCTION_KEY = "5Jx0m0o3cU4l8cFv-Gm3tqkB3pC8s8l0wN6dWm2YqQeR7zT1uI9oP4aS2dF6gH3jK"
PRODUCTION_KEYS = {"KEPU_SECRET_KEY": PRODUCTION_KEY, "KEPU_PSEUDONYM_KEY": PRODUCTION_KEY[::-1]}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python with a clean production-like environment (no inherited KEPU_* settings)."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests' fixtures; no deployment has it.
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if not k.startswith("KEPU_") and k not in drop}
    base.update({"KEPU_DATA_DIR": "/tmp/kepu-security-test", "KEPU_DEBUG": "0", **env})
    return subprocess.run(args, cwd=REPO, env=base, capture_output=True, text=True, timeout=120)


# -- the embedded key -------------------------------------------------------------------------------

def test_production_server_refuses_the_embedded_key() -> None:
    # gunicorn imports kepu.wsgi: with KEPU_DEBUG=0 and no KEPU_SECRET_KEY it must not come up
    refused = _run([sys.executable, "-c", "import kepu.wsgi"])
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "Set KEPU_SECRET_KEY and KEPU_PSEUDONYM_KEY" in refused.stderr
    # `kepu serve` says so before starting gunicorn
    serve = _run([*KEPU, "serve", "--port", "1"])
    assert serve.returncode != 0 and "Set KEPU_SECRET_KEY" in serve.stderr
    # the respondents' pseudonym key is public too when embedded
    half = _run([sys.executable, "-c", "import kepu.wsgi"], KEPU_SECRET_KEY=PRODUCTION_KEY)
    assert half.returncode != 0 and "Set KEPU_PSEUDONYM_KEY," in half.stderr
    # with real keys, or in the embedded mode `kepu demo --serve` sets, the application loads
    assert _run([sys.executable, "-c", "import kepu.wsgi"], **PRODUCTION_KEYS).returncode == 0
    assert _run([sys.executable, "-c", "import kepu.wsgi"], KEPU_EMBEDDED="1").returncode == 0


def test_require_production_key_follows_debug_and_embedded_mode(settings: Any) -> None:
    from kepu.core.checks import require_production_key

    settings.SECRET_KEY = settings.KEPU_EMBEDDED_SECRET_KEY
    settings.DEBUG, settings.KEPU_EMBEDDED = False, False
    with pytest.raises(ImproperlyConfigured, match="KEPU_SECRET_KEY"):
        require_production_key()
    settings.KEPU_EMBEDDED = True
    require_production_key()
    settings.KEPU_EMBEDDED, settings.DEBUG = False, True
    require_production_key()
    settings.DEBUG, settings.SECRET_KEY = False, PRODUCTION_KEY
    with pytest.raises(ImproperlyConfigured, match="Set KEPU_PSEUDONYM_KEY,"):
        require_production_key()
    settings.KEPU_PSEUDONYM_KEY = PRODUCTION_KEY[::-1]
    require_production_key()


def test_demo_serves_in_embedded_mode(monkeypatch: Any, settings: Any) -> None:
    """`kepu demo --serve` marks the embedded mode before starting the server (and its workers)."""
    from kepu.web.management.commands import demo

    seen: dict[str, Any] = {}

    def fake_call_command(name: str, **kwargs: Any) -> None:
        if name == "serve":
            seen.update(embedded=settings.KEPU_EMBEDDED, env=os.environ.get("KEPU_EMBEDDED"))

    settings.KEPU_EMBEDDED = False
    monkeypatch.setenv("KEPU_EMBEDDED", "0")  # recorded, so the test's "1" is undone afterwards
    monkeypatch.setattr(demo, "call_command", fake_call_command)
    monkeypatch.setattr(demo, "region_import", lambda **kw: None)
    monkeypatch.setattr(demo, "plan_import", lambda **kw: (type("P", (), {"code": "p", "version": 1})(), {}))
    monkeypatch.setattr(demo, "demo_generate", lambda **kw: {"observations": 0, "statuses": 0})
    monkeypatch.setattr("kepu.literacy.demo.literacy_demo", lambda **kw: "")
    monkeypatch.setattr("kepu.citizens.demo.citizens_demo", lambda **kw: "")
    monkeypatch.setattr("kepu.outreach.catalogue_demo.catalogue_demo", lambda **kw: "")
    monkeypatch.setattr("kepu.outreach.engagement_demo.engagement_demo", lambda **kw: "")
    monkeypatch.setattr("kepu.outreach.kiosk.kiosk_demo", lambda **kw: "")
    monkeypatch.setattr("kepu.quiz.demo.quiz_demo", lambda **kw: "")
    for app in ("community", "events", "facilities", "funding", "recognition", "emergency", "rumours"):
        monkeypatch.setattr(f"kepu.{app}.demo.seed", lambda **kw: {})
    monkeypatch.setattr("kepu.community.capacity.capacity_publish_all", lambda **kw: 0)
    call_command("demo", "--serve", stdout=StringIO())
    assert seen == {"embedded": True, "env": "1"}


def test_check_deploy_is_clean_in_production_mode_and_fails_on_the_embedded_key() -> None:
    prod = {**PRODUCTION_KEYS, "KEPU_SECURE_COOKIES": "1", "KEPU_ALLOWED_HOSTS": "kepu.example.org"}
    clean = _run([*KEPU, "check", "--deploy", "--fail-level", "WARNING"], **prod)
    assert clean.returncode == 0, clean.stderr + clean.stdout
    assert "no issues (1 silenced)" in clean.stdout
    embedded = _run([*KEPU, "check", "--deploy", "--fail-level", "WARNING"],
                    **{k: v for k, v in prod.items() if k != "KEPU_SECRET_KEY"})
    assert embedded.returncode != 0 and "kepu.E001" in embedded.stderr and "kepu.E002" not in embedded.stderr
    embedded = _run([*KEPU, "check", "--deploy", "--fail-level", "WARNING"],
                    **{k: v for k, v in prod.items() if k != "KEPU_PSEUDONYM_KEY"})
    assert embedded.returncode != 0 and "kepu.E002" in embedded.stderr and "kepu.E001" not in embedded.stderr


def test_https_settings_follow_secure_cookies() -> None:
    show = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_SSL_REDIRECT)")
    env = {"DJANGO_SETTINGS_MODULE": "kepu.settings", **PRODUCTION_KEYS}
    on = _run([sys.executable, "-c", show], KEPU_SECURE_COOKIES="1", **env)
    off = _run([sys.executable, "-c", show], **env)
    assert on.stdout.split() == ["True", "True", "True", "31536000", "True"], on.stderr
    assert off.stdout.split() == ["False", "False", "False", "0", "False"], off.stderr


def test_pages_send_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


# -- login lockout ----------------------------------------------------------------------------------

@pytest.fixture
def lockout(settings: Any) -> Any:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return settings


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_repeated_failures_lock_the_login_on_both_login_pages(lockout: Any, make_user: Any, path: str) -> None:
    office = make_user("office", ("office_admin", "320400", None))
    office.is_staff = True
    office.save()
    client = Client()
    for _ in range(2):
        assert client.post(path, {"username": "office", "password": "wrong"}).status_code == 200
    # The third failure locks the login
    assert client.post(path, {"username": "office", "password": "wrong"}).status_code == 429
    # Then even the right password is refused, with the Chinese lockout page, and no session starts
    locked = client.post(path, {"username": "office", "password": PASSWORD})
    assert locked.status_code == 429
    assert "登录已暂停" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # A different user from the same address is not locked out (username + address)
    make_user("viewer", ("viewer", "320400", None))
    assert client.post("/login/", {"username": "viewer", "password": PASSWORD}).status_code == 302


def test_a_successful_login_resets_the_failure_count(lockout: Any, make_user: Any) -> None:
    make_user("wujin", ("district_reporter", "320412", None))
    client = Client()
    for _ in range(2):
        client.post("/login/", {"username": "wujin", "password": "wrong"})
    assert client.post("/login/", {"username": "wujin", "password": PASSWORD}).status_code == 302
    client.post("/logout/")
    for _ in range(2):
        client.post("/login/", {"username": "wujin", "password": "wrong"})
    assert client.post("/login/", {"username": "wujin", "password": PASSWORD}).status_code == 302


def test_client_address_behind_proxies_cannot_be_forged(settings: Any) -> None:
    from django.test import RequestFactory

    from kepu.core.client_ip import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.KEPU_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy: the header is the client's own claim
    settings.KEPU_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # what our proxy saw, not the forged entry before it
    settings.KEPU_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"  # fewer entries than proxies: trust nothing in the header


def test_behind_a_proxy_the_lockout_is_per_client_not_per_proxy(lockout: Any, make_user: Any) -> None:
    lockout.KEPU_PROXY_COUNT = 1
    make_user("wujin", ("district_reporter", "320412", None))
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9")
    for _ in range(3):
        attacker.post("/login/", {"username": "wujin", "password": "wrong"})
    assert attacker.post("/login/", {"username": "wujin", "password": PASSWORD}).status_code == 429
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert colleague.post("/login/", {"username": "wujin", "password": PASSWORD}).status_code == 302


# -- API tokens -------------------------------------------------------------------------------------

def _api(key: str) -> int:
    return Client(headers={"Authorization": f"Bearer {key}"}).get("/api/plans").status_code


def test_tokens_expire(users: dict[str, Any]) -> None:
    key = api_token_create(user=users["wujin"], name="sync", days=30)
    token = ApiToken.objects.get(user=users["wujin"])
    assert token.expires_at - timezone.now() > dt.timedelta(days=29, hours=23)
    assert _api(key) == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _api(key) == 401


def test_token_lifetime_is_bounded(users: dict[str, Any]) -> None:
    for days in (0, -1, 367):
        with pytest.raises(InputError, match="1 至 366"):
            api_token_create(user=users["wujin"], name="x", days=days)
    assert not ApiToken.objects.exists()


def test_no_token_for_a_user_without_a_role(region: Any) -> None:
    nobody = User.objects.create_user("nobody", password=PASSWORD)
    with pytest.raises(InputError, match="没有角色"):
        api_token_create(user=nobody, name="x")
    with pytest.raises(CommandError, match="没有角色"):
        call_command("token", "create", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_a_token_stops_working_when_its_user_loses_every_role(users: dict[str, Any]) -> None:
    key = api_token_create(user=users["edu"], name="sync")
    users["edu"].roles.all().delete()
    assert _api(key) == 401


def test_tokens_die_with_a_password_change(users: dict[str, Any]) -> None:
    wujin = users["wujin"]
    key = api_token_create(user=wujin, name="sync")
    assert _api(key) == 200
    # When the password is changed on the account page
    client = Client()
    client.force_login(wujin)
    r = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "n3w-Passw0rd-x",
                                           "new_password2": "n3w-Passw0rd-x"})
    assert r.status_code == 302
    # Then the token is refused, and the page shows why; the user stays logged in
    assert _api(key) == 401
    page = client.get("/account/").content.decode()
    assert "密码已修改,已失效" in page
    # Also when an administrator sets the password elsewhere
    key2 = api_token_create(user=wujin, name="again")
    wujin.refresh_from_db()
    wujin.set_password("another-Passw0rd")
    wujin.save()
    assert _api(key2) == 401


def test_token_list_and_revoke_on_the_command_line(users: dict[str, Any]) -> None:
    key = api_token_create(user=users["wujin"], name="nightly-sync")
    other = api_token_create(user=users["xinbei"], name="other")
    out = StringIO()
    call_command("token", "list", "wujin", stdout=out)
    assert key[:8] in out.getvalue() and "nightly-sync" in out.getvalue() and key not in out.getvalue()
    assert other[:8] not in out.getvalue()
    out = StringIO()
    call_command("token", "revoke", key[:8], stdout=out)
    assert "revoked" in out.getvalue()
    assert _api(key) == 401 and _api(other) == 200
    out = StringIO()
    call_command("token", "list", stdout=out)
    assert key[:8] not in out.getvalue() and other[:8] in out.getvalue()
    out = StringIO()
    call_command("token", "list", "--all", stdout=out)
    assert "revoked" in out.getvalue()
    with pytest.raises(CommandError, match="matches 0 tokens"):
        call_command("token", "revoke", "kp_nope", stdout=StringIO())


def test_account_page_creates_shows_once_lists_and_revokes(users: dict[str, Any]) -> None:
    wujin = users["wujin"]
    client = Client()
    client.force_login(wujin)
    page = client.get("/account/")
    assert page.status_code == 200 and "我的账户" in page.content.decode()
    assert "辖市(区)填报员" in page.content.decode()
    created = client.post("/account/", {"action": "create", "name": "同步脚本", "days": "30"})
    html = created.content.decode()
    key = html.split('<code class="secret">')[1].split("</code>")[0]
    assert key.startswith("kp_") and _api(key) == 200
    assert "no-store" in created["Cache-Control"]
    listed = client.get("/account/").content.decode()
    assert key not in listed and key[:8] in listed and "同步脚本" in listed
    token = ApiToken.objects.get(user=wujin)
    assert client.post("/account/", {"action": "revoke", "token": token.pk}).status_code == 302
    assert _api(key) == 401
    assert "已撤销" in client.get("/account/").content.decode()


def test_nobody_revokes_another_users_token_from_the_account_page(users: dict[str, Any]) -> None:
    key = api_token_create(user=users["xinbei"], name="xinbei-sync")
    token = ApiToken.objects.get(user=users["xinbei"])
    client = Client()
    client.force_login(users["wujin"])
    assert client.post("/account/", {"action": "revoke", "token": token.pk}).status_code == 404
    assert "xinbei-sync" not in client.get("/account/").content.decode()
    token.refresh_from_db()
    assert not token.revoked and _api(key) == 200


def test_account_page_refuses_tokens_without_a_role_and_bad_lifetimes(users: dict[str, Any]) -> None:
    nobody = User.objects.create_user("nobody", password=PASSWORD)
    client = Client()
    client.force_login(nobody)
    page = client.get("/account/").content.decode()
    assert "您没有角色，不能创建 API 令牌。" in page and 'value="create"' not in page
    refused = client.post("/account/", {"action": "create", "name": "x", "days": "30"}).content.decode()
    assert "没有角色" in refused and "secret" not in refused
    client.force_login(users["wujin"])
    refused = client.post("/account/", {"action": "create", "name": "x", "days": "9999"}).content.decode()
    assert "1 至 366" in refused
    assert not ApiToken.objects.exists()


def test_account_page_needs_a_login(client: Client) -> None:
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
