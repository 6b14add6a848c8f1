"""`kepu backup` / `kepu restore` round-trip a demo database with every row and timestamp identical,
on the database the suite runs on (SQLite here, PostgreSQL in CI's second run)."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(plan: Any) -> None:
    """The demo's plan data and its published literacy wave, as `kepu demo` makes them."""
    from kepu.literacy.demo import literacy_demo
    from kepu.plans.demo import demo_generate

    demo_generate(plan=plan, seed=2021)
    literacy_demo(year=2025, seed=7)


def snapshot(*, sequences: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as the database driver returns it (timestamps to the microsecond)."""
    tables = sorted(connection.introspection.table_names())
    out: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = [tuple(_comparable(v) for v in r) for r in cursor.fetchall()]
            out[table] = sorted(rows, key=repr)
        if sequences and connection.vendor == "sqlite":
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            out["sqlite_sequence"] = sorted(cursor.fetchall())
        elif sequences:
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences")
            out["pg_sequences"] = sorted(cursor.fetchall(), key=repr)
    return out


def _comparable(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, float) and math.isnan(value):  # PostgreSQL stores NaN, and NaN != NaN
        return "NaN"
    return value


def vandalise() -> None:
    """Changes of every kind a restore must undo: deleted, edited and added rows, touched timestamps."""
    from kepu.core.models import AuditEntry
    from kepu.literacy.models import Respondent
    from kepu.plans.models import Observation, TargetStatus

    Observation.objects.filter(pk__in=list(Observation.objects.values_list("pk", flat=True)[:50])).delete()
    TargetStatus.objects.all().delete()
    Respondent.objects.update(weight=1.0)
    AuditEntry.objects.update(at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    AuditEntry.objects.create(actor_label="intruder", action="x", object_type="x", object_id="1")


def test_backup_and_restore_give_back_every_row_and_timestamp(demo: None, tmp_path: Path) -> None:
    from kepu.core.backup import backup_format
    from kepu.core.models import AuditEntry
    from kepu.literacy.models import WaveEstimate
    from kepu.plans.models import Observation

    assert Observation.objects.count() > 500 and WaveEstimate.objects.exists()  # a real demo database
    before = snapshot(sequences=True)
    native, portable = tmp_path / "kepu.backup", tmp_path / "kepu.json.gz"
    call_command("backup", str(native))
    call_command("backup", str(portable), "--format", "json")
    assert backup_format(native) == ("sqlite" if connection.vendor == "sqlite"
                                     else "pg_dump" if shutil.which("pg_dump") else "json")
    assert backup_format(portable) == "json"

    vandalise()
    assert snapshot(sequences=True) != before
    call_command("restore", str(native), "--noinput")
    assert snapshot(sequences=True) == before  # sequences included: the native formats carry them

    vandalise()
    call_command("restore", str(portable), "--noinput")
    tables_only = {k: v for k, v in before.items() if k not in ("sqlite_sequence", "pg_sequences")}
    assert snapshot(sequences=False) == tables_only
    # Ids continue after the restored rows (the portable format resets sequences past the highest id).
    highest = max(r[0] for r in before["core_auditentry"])
    assert AuditEntry.objects.create(actor_label="after", action="x", object_type="x", object_id="1").pk > highest


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(plan: Any, tmp_path: Path) -> None:
    before = snapshot(sequences=True)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    with pytest.raises(CommandError, match="not a Kepu backup"):
        call_command("restore", str(junk), "--noinput")
    truncated = tmp_path / "cut.json.gz"
    call_command("backup", str(truncated), "--format", "json")
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(truncated), "--noinput")
    assert snapshot(sequences=True) == before


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs the PostgreSQL client programs")
def test_a_backup_of_one_engine_is_refused_by_the_other(db: None, tmp_path: Path) -> None:
    path = tmp_path / "other"
    path.write_bytes(b"PGDMP" + b"\0" * 100 if connection.vendor == "sqlite" else b"SQLite format 3\x00" + b"\0" * 100)
    with pytest.raises(CommandError, match="cannot be restored into"):
        call_command("restore", str(path), "--noinput")
