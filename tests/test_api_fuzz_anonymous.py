"""schemathesis on the whole API with no credentials at all, over an empty database: every
operation refuses, but for the documented public ones. See tests/test_api_fuzz.py for the set-up."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from tests.test_api_fuzz import (  # noqa: F401 (fixtures used by name)
    PUBLIC,
    SCHEMA,
    _pytest9_node_id,
    _requests_keep_the_test_connection,
    fuzz_config,
)

# Without credentials every operation answers 401 before it reads its input, so beyond the coverage
# phase (every boundary and malformed case the schema defines, still run in full) a few generated
# examples an operation are enough: the office and reporter runs fuzz the same inputs with 12.
ANONYMOUS = schemathesis.openapi.from_dict(SCHEMA.raw_schema, config=fuzz_config(max_examples=4))
ANONYMOUS.app = SCHEMA.app


@pytest.fixture
def schema_with_empty_database(db: Any) -> Any:
    return ANONYMOUS


@schemathesis.pytest.from_fixture("schema_with_empty_database").parametrize()
def test_api_without_credentials(case: Any) -> None:
    response = case.call_and_validate()
    if (case.method.upper(), case.operation.path) in PUBLIC and response.status_code != 405:
        return
    # Nothing but a refusal: unauthenticated (401), a body over the operation's bound (413, checked
    # before credentials are read), or no such endpoint/method (404/405)
    assert response.status_code in (401, 404, 405, 413), response.text
