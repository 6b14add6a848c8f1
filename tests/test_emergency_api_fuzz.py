"""schemathesis on the emergency API only (/api/emergency/...), as the office and as a district
officer, over a small knowledge base with an active emergency: no 5xx, only documented status codes,
bodies as documented (set-up shared with tests/test_api_fuzz.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from kepu.core.services import api_token_create
from tests import test_emergency_kb as kb
from tests.test_api_fuzz import (  # noqa: F401 (fixtures used by name)
    _pytest9_node_id,
    _requests_keep_the_test_connection,
    schema_under,
)

EMERGENCY = schema_under("/api/emergency/")


@pytest.fixture
def world(users: Any, make_user: Any) -> Any:
    from tests.test_emergency_mode import declare

    kb.load_small(users["office"])
    kb.publish_all(kb.make_expert(make_user, users["office"]), users["office"])
    declare(users["office"], ["320412"])
    return users


@pytest.fixture(params=["office", "wujin"])
def token(request: pytest.FixtureRequest, world: Any) -> Iterator[str]:
    yield api_token_create(user=world[request.param], name="schemathesis")


@pytest.fixture
def emergency_schema(token: str) -> Any:
    return EMERGENCY


@schemathesis.pytest.from_fixture("emergency_schema").parametrize()
def test_emergency_api_fuzz(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
