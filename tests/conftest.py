"""Helpers for the reporting-spine tests (tests/test_*.py). The shared fixtures (`region`, `plan`,
`make_user`, `users`) live in the repository's root conftest.py."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils import translation

from conftest import PLAN_FILE


@pytest.fixture
def english() -> Iterator[None]:
    """Service messages are asserted in English, whatever translations ship."""
    with translation.override("en"):
        yield


@pytest.fixture
def counts() -> Callable[[], dict[str, int]]:
    """counts() → row counts of the tables a refused input must leave alone."""
    from kepu.core.models import AuditEntry
    from kepu.plans.models import Observation, Plan, Target

    def snapshot() -> dict[str, int]:
        return {m.__name__: m.objects.count() for m in (Plan, Target, Observation, AuditEntry)}

    return snapshot


@pytest.fixture
def report(plan: Any) -> Callable[..., Any]:
    """report(user, "INDICATOR", "320412", 2024, value, submit=True, comment="") → the saved Observation."""
    from kepu.core.models import OrgUnit
    from kepu.plans.services import Entry, observation_save

    def save(user: Any, indicator: str, unit: str, year: int, value: object, *, submit: bool = True,
             comment: str = "") -> Any:
        ind, org_unit = plan.indicators.get(code=indicator), OrgUnit.objects.get(code=unit)
        entry = Entry(ind, org_unit, year, 0, value, comment)
        return observation_save(user=user, entry=entry, submit=submit)

    return save


@pytest.fixture
def api_client() -> Callable[[Any], Client]:
    """api_client(user) → a test client sending a fresh bearer token of that user (English messages)."""
    from kepu.core.services import api_token_create

    def make(user: Any) -> Client:
        key = api_token_create(user=user, name="test")
        return Client(headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"})

    return make


@cache
def _plan_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    return doc


@pytest.fixture
def edited_plan(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """edited_plan(mutate) → path of a copy of the Changzhou plan file after mutate(doc), same file name."""

    def write(mutate: Callable[[dict[str, Any]], None]) -> Path:
        doc = copy.deepcopy(_plan_doc())
        mutate(doc)
        path = tmp_path / PLAN_FILE.name
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


def target_of(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(t for t in doc["targets"] if t["code"] == code)


# -- Excel templates ---------------------------------------------------------------------------------

def template_of(plan: Any, user: Any, unit: str = "320412", year: int = 2024) -> Any:
    """The reporting template for one unit and year, opened as an openpyxl workbook."""
    from openpyxl import load_workbook

    from kepu.core.models import OrgUnit
    from kepu.plans import excel

    content = excel.template_build(plan=plan, unit=OrgUnit.objects.get(code=unit), year=year, user=user)
    return load_workbook(io.BytesIO(content))


def row_of(wb: Any, code: str) -> int:
    from kepu.plans import excel

    ws = wb[excel.SHEET]
    return next(r for r in range(excel.FIRST_ROW, ws.max_row + 1) if ws.cell(row=r, column=1).value == code)


def fill(wb: Any, values: dict[str, object]) -> None:
    """Type values into column E (本期值) of the rows of these indicator codes."""
    from kepu.plans import excel

    for code, value in values.items():
        wb[excel.SHEET].cell(row=row_of(wb, code), column=5).value = value


def xlsx(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
