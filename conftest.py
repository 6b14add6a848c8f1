"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when KEPU_DATABASE_URL
points at one; with KEPU_REQUIRE_POSTGRES=1 (CI) a missing PostgreSQL fails the run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parent
PLAN_FILE = REPO / "data/plans/changzhou-2021-2035.yaml"
REGION_FILE = REPO / "data/regions/changzhou.yaml"
PASSWORD = "test-pass-123"


def pytest_configure(config: pytest.Config) -> None:
    # Django's test Client.login() authenticates without a request, which django-axes refuses;
    # tests/test_security.py switches the lockout on to test it through the real login forms.
    settings.AXES_ENABLED = False
    # Django's PBKDF2 costs 0.5 s a hash on our 2-core machines, and the tests make and log in
    # users by the thousand. Production keeps PBKDF2 (kepu.settings); no test depends on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if os.environ.get("KEPU_REQUIRE_POSTGRES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"KEPU_REQUIRE_POSTGRES=1 but the database engine is {engine}")


@pytest.fixture(autouse=True)
def chinese_by_default() -> Any:
    """Each test starts in the site's language (zh-Hans): a request made in English by an earlier
    test on the same worker must not leave English active for the next one."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def region(db: Any) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.core.services import region_import

    region_import(path=REGION_FILE)
    return OrgUnit.objects.get(code="320400")


@pytest.fixture
def plan(region: Any, django_capture_on_commit_callbacks: Any) -> Any:
    from kepu.plans.plan_import import plan_import

    with django_capture_on_commit_callbacks(execute=True):
        p, _ = plan_import(path=PLAN_FILE)
    return p


@pytest.fixture
def make_user(region: Any) -> Any:
    """make_user("name", ("district_reporter", "320412", None), ...) → a user with those roles."""
    from kepu.core.services import user_create

    def make(username: str, *roles: tuple[str, str | None, str | None]) -> Any:
        return user_create(username=username, password=PASSWORD, roles=list(roles))

    return make


@pytest.fixture
def users(plan: Any, make_user: Any) -> dict[str, Any]:
    return {
        "office": make_user("office", ("office_admin", "320400", None)),
        "reviewer": make_user("reviewer", ("reviewer", "320400", None)),
        "wujin": make_user("wujin", ("district_reporter", "320412", None)),
        "xinbei": make_user("xinbei", ("district_reporter", "320411", None)),
        "edu": make_user("edu", ("department_reporter", "320400", "cz-edu")),
        "viewer_wujin": make_user("viewer_wujin", ("viewer", "320412", None)),
    }
