"""schemathesis on the whole API, in-process against the Django WSGI app, from the schema the API
itself serves: every documented operation with generated valid and invalid input (examples,
coverage and fuzzing phases, plus undocumented methods), as a demo district reporter and the demo
office with real tokens over the demo data (with a published literacy wave), and with no credentials
at all (one file each). The emergency and rumours operations are fuzzed, as the office and a district
officer, over their own records in files of their own; the run without credentials covers them too.

Every check schemathesis has must pass; among them: no 5xx (not_a_server_error), no status code
the schema does not document (status_code_conformance), bodies and content types as documented.
A schema-valid request may still break a business rule (a year outside the plan, a jump without
a comment), so 422 counts as an accepted answer to valid data.

Bounded and repeatable: a fixed seed, derandomized generation, no example database, a small
max-examples (12 an operation; 4 without credentials, where everything is refused before input is
read)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from kepu.api import api
from kepu.core.services import api_token_create
from kepu.literacy.models import Wave
from kepu.literacy.services import wave_create, wave_process
from kepu.literacy.tests.factories import load_items
from kepu.literacy.waves import respondents_import
from kepu.plans import selectors
from kepu.plans.schemas import CODE_PATTERN
from tests.test_literacy_waves import respondent_csv


def fuzz_config(max_examples: int = 12) -> Any:
    return schemathesis.Config.from_dict({
        "seed": 2021,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "422"]},
            # Invalid data is refused as schemathesis expects, or with 413 when the body is larger than
            # the operation takes (a bound checked before anything else, credentials included).
            "negative_data_rejection": {"expected-statuses": [
                "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]},
        },
    })


CONFIG = fuzz_config()
SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"), config=CONFIG)
SCHEMA.app = WSGIHandler()
# The emergency and rumours APIs are fuzzed on their own, as the office and as a district officer,
# over their own records (tests/test_emergency_api_fuzz.py, tests/test_rumours_api_fuzz.py): the
# demo office and reporter runs leave them out rather than fuzz them twice. The run without
# credentials keeps the whole API.
FUZZED_ON_THEIR_OWN = r"^/api/(emergency|rumours)/"


def schema_under(prefix: str) -> Any:
    """The same schema and app, cut down to the paths under `prefix`: one app's API fuzzed over that
    app's own records (tests/test_emergency_api_fuzz.py, tests/test_rumours_api_fuzz.py)."""
    raw = copy.deepcopy(SCHEMA.raw_schema)
    raw["paths"] = {p: ops for p, ops in raw["paths"].items() if p.startswith(prefix)}
    part = schemathesis.openapi.from_dict(raw, config=CONFIG)
    part.app = SCHEMA.app
    return part


# Operations the schema documents without security (a contest's public leaderboard, the visitor's
# science feed): without credentials they answer like any request; all others must refuse.
PUBLIC = {(method.upper(), path) for path, operations in SCHEMA.raw_schema["paths"].items()
          for method, operation in operations.items() if not operation.get("security")}

# Observation ids the current user can see; generated ids are mapped onto them so that submit,
# approve and return reach real values and not only 404s.
visible_ids: list[int] = []
# The demo's literacy wave: half of the generated valid wave codes are mapped onto it, so that the
# literacy endpoints answer with real estimates and item statistics, not only 404s.
WAVE = "t-2025"


@SCHEMA.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    obs_id = (path_parameters or {}).get("obs_id")
    if visible_ids and type(obs_id) is int and 1 <= obs_id <= 10**6:
        path_parameters = {**(path_parameters or {}), "obs_id": visible_ids[obs_id % len(visible_ids)]}
    code = (path_parameters or {}).get("code")
    operation = getattr(context, "operation", None)
    if (operation is not None and "/literacy/waves/{code}" in operation.path and isinstance(code, str)
            and len(code) % 2 == 0 and re.fullmatch(CODE_PATTERN, code)):
        path_parameters = {**(path_parameters or {}), "code": WAVE}
    return path_parameters


@pytest.fixture(autouse=True)
def _pytest9_node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames the running test through `node._nodeid`, which pytest 9 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection() -> Iterator[None]:
    """As in Django's test client: the end of a request must not close the database connection
    that holds the test's transaction (on PostgreSQL that would lose it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def demo(plan: Any) -> Any:
    from kepu.plans.demo import demo_generate

    demo_generate(plan=plan)
    load_items()
    wave_create(code=WAVE, year=2025)
    respondents_import(wave=Wave.objects.get(code=WAVE), content=respondent_csv(n_per_psu=12), name="r.csv")
    wave_process(code=WAVE, variables=["district", "sex", "area"], publish=True)
    return plan


def issue_token(username: str, plan: Any) -> Iterator[str]:
    """A real demo user's bearer token, with the observations they can see mapped for the hook."""
    user = User.objects.get(username=username)
    visible_ids[:] = sorted(selectors.observations_visible(user, plan).values_list("pk", flat=True))
    yield api_token_create(user=user, name="schemathesis")
    visible_ids.clear()


# The district reporter (tests/test_api_fuzz_reporter.py) and the anonymous run
# (tests/test_api_fuzz_anonymous.py) have files of their own, so that the three runs, a minute each,
# go to different test workers.
@pytest.fixture
def token(demo: Any) -> Iterator[str]:
    """The office's token (city scope, reviews)."""
    yield from issue_token("office", demo)


@pytest.fixture
def schema_with_demo_data(token: str) -> Any:
    return SCHEMA


@schemathesis.pytest.from_fixture("schema_with_demo_data").exclude(path_regex=FUZZED_ON_THEIR_OWN).parametrize()
def test_api_as_the_demo_office(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


def test_only_the_leaderboard_the_visitor_feed_honours_hazards_and_debunks_are_public() -> None:
    assert {("GET", "/api/quiz/contests/{contest_id}/leaderboard"), ("GET", "/api/outreach/feed"),
            ("GET", "/api/recognition/honours"), ("GET", "/api/recognition/awards"),
            ("GET", "/api/emergency/hazards"), ("GET", "/api/emergency/hazards/{code}"),
            ("GET", "/api/emergency/pinned"), ("GET", "/api/rumours/public/debunks"),
            ("GET", "/api/rumours/public/debunks/{debunk_id}")} == PUBLIC
