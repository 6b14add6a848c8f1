# ruff: noqa: F811  (pytest fixtures are imported and named as arguments)
"""schemathesis on the rumours API only (/api/rumours/...), as the office and as a district officer,
over a few claims, a published debunk and one in review: no 5xx, only documented status codes,
bodies as documented (set-up shared with tests/test_api_fuzz.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from kepu.core.services import api_token_create
from tests.test_api_fuzz import (  # noqa: F401 (fixtures used by name)
    _pytest9_node_id,
    _requests_keep_the_test_connection,
    schema_under,
)
from tests.test_rumours_fixtures import fresh_rate_limits, full_debunk, rumour_people, unit  # noqa: F401

RUMOURS = schema_under("/api/rumours/")


@pytest.fixture
def world(rumour_people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> Any:
    from kepu.rumours import services

    with django_capture_on_commit_callbacks(execute=True):
        a = services.claim_enter(actor=rumour_people["office"], text="喝隔夜水会致癌", org_unit=unit("320412")).claim
        services.claim_enter(actor=rumour_people["office"], text="吃碘盐防辐射", org_unit=unit("320411"))
        full_debunk(rumour_people, [a])
        b = services.claim_enter(actor=rumour_people["office"], text="5G 基站会传播病毒", org_unit=unit("320412")).claim
        d = services.debunk_open(actor=rumour_people["office"], claims=[b])
        services.debunk_assign(actor=rumour_people["office"], debunk=d, expert=rumour_people["expert"])
    return rumour_people


@pytest.fixture(params=["office", "wujin"])
def token(request: pytest.FixtureRequest, world: Any) -> Iterator[str]:
    yield api_token_create(user=world[request.param], name="schemathesis")


@pytest.fixture
def rumours_schema(token: str) -> Any:
    return RUMOURS


@schemathesis.pytest.from_fixture("rumours_schema").parametrize()
def test_rumours_api_fuzz(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
