"""schemathesis on the whole API as the demo's 武进区 district reporter (district scope), with a
real token over the demo data: see tests/test_api_fuzz.py, which holds the set-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from tests.test_api_fuzz import (  # noqa: F401 (fixtures used by name)
    FUZZED_ON_THEIR_OWN,
    SCHEMA,
    _pytest9_node_id,
    _requests_keep_the_test_connection,
    demo,
    issue_token,
)


@pytest.fixture
def token(demo: Any) -> Iterator[str]:  # noqa: F811
    yield from issue_token("wujin", demo)


@pytest.fixture
def schema_with_demo_data(token: str) -> Any:
    return SCHEMA


@schemathesis.pytest.from_fixture("schema_with_demo_data").exclude(path_regex=FUZZED_ON_THEIR_OWN).parametrize()
def test_api_as_the_demo_district_reporter(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
