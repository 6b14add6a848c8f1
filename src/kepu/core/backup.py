"""Backing up and restoring the whole database, with every row and timestamp kept as it was.

Three formats, recognised on restore by their first bytes:
- `sqlite`: a copy of the SQLite file made with SQLite's online backup API (consistent while the
  site runs); restoring copies it back page by page.
- `pg_dump`: PostgreSQL's custom-format dump, restored with `pg_restore --clean --single-transaction`
  (needs the PostgreSQL client programs on PATH, e.g. Debian's postgresql-client-15).
- `json`: a portable, gzipped dump of every model table, value by value (full-precision timestamps,
  binary as base64), for a server without pg_dump or to move between SQLite and PostgreSQL. It is
  restored into a database migrated to the same migrations, replacing every row in one transaction;
  id sequences then continue after the highest id."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder

from kepu.core.errors import InputError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
JSON_FORMAT = "kepu-backup-json-1"


def _engine(using: str) -> str:
    return connections[using].vendor  # "sqlite" or "postgresql"


def backup_create(*, path: Path, fmt: str = "auto", using: str = DEFAULT_DB_ALIAS) -> str:
    """Write a backup of the whole database to `path`; returns the format used."""
    vendor = _engine(using)
    if fmt == "auto":
        fmt = "sqlite" if vendor == "sqlite" else "pg_dump" if shutil.which("pg_dump") else "json"
    fits = {"sqlite": vendor == "sqlite", "pg_dump": vendor == "postgresql", "json": True}
    if not fits.get(fmt, False):
        raise InputError(f"Format {fmt!r} does not fit a {vendor} database; use auto or json.")
    tmp = path.with_name(f".{path.name}.partial")
    try:
        {"sqlite": _sqlite_backup, "pg_dump": _pg_dump, "json": _json_dump}[fmt](tmp, using)
        os.replace(tmp, path)  # a backup file is either complete or absent
    finally:
        tmp.unlink(missing_ok=True)
    return fmt


def backup_format(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "pg_dump"
    if head.startswith(GZIP_MAGIC):
        return "json"
    raise InputError(f"{path}: not a Kepu backup (neither an SQLite file, a pg_dump custom dump nor a JSON backup)")


def backup_restore(*, path: Path, using: str = DEFAULT_DB_ALIAS) -> str:
    """Replace the database's contents with the backup at `path`; returns its format."""
    fmt, vendor = backup_format(path), _engine(using)
    if (fmt == "sqlite" and vendor != "sqlite") or (fmt == "pg_dump" and vendor != "postgresql"):
        raise InputError(f"{path} is a {fmt} backup and cannot be restored into a {vendor} database; "
                         "make a portable backup with `kepu backup --format json`.")
    {"sqlite": _sqlite_restore, "pg_dump": _pg_restore, "json": _json_restore}[fmt](path, using)
    return fmt


# -- SQLite -----------------------------------------------------------------------------------------

def _raw_sqlite(using: str) -> sqlite3.Connection:
    conn = connections[using]
    conn.ensure_connection()
    raw = conn.connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _sqlite_backup(target: Path, using: str) -> None:
    dest = sqlite3.connect(target)
    try:
        _raw_sqlite(using).backup(dest)
    finally:
        dest.close()


def _sqlite_restore(source: Path, using: str) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        if not src.execute("SELECT 1 FROM sqlite_master WHERE name = 'django_migrations'").fetchone():
            raise InputError(f"{source}: an SQLite file, but not a Kepu database")
        connections[using].close()  # nothing of ours may hold the old pages open
        src.backup(_raw_sqlite(using))
    finally:
        src.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------

def _pg_env(using: str) -> tuple[list[str], dict[str, str]]:
    s = connections[using].settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    if s.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = s["OPTIONS"]["sslmode"]
    return [f"--dbname={s['NAME']}"], env


def _run(program: str, args: list[str], env: dict[str, str]) -> None:
    exe = shutil.which(program)
    if exe is None:
        raise InputError(f"{program} is not installed (Debian: apt-get install postgresql-client-15); "
                         "or use `kepu backup --format json`.")
    proc = subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError(f"{program} failed: {proc.stderr.strip() or proc.returncode}")


def _pg_dump(target: Path, using: str) -> None:
    db, env = _pg_env(using)
    _run("pg_dump", [*db, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], env)


def _pg_restore(source: Path, using: str) -> None:
    db, env = _pg_env(using)
    connections[using].close()  # our own idle connection must not hold locks on the tables dropped
    _run("pg_restore", [*db, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                        "--single-transaction", str(source)], env)


# -- portable JSON ----------------------------------------------------------------------------------

def _tables() -> list[type[models.Model]]:
    """Every table Django manages, many-to-many link tables included (foreign keys are checked at
    commit, so the order does not matter)."""
    out = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]
    return sorted(out, key=lambda m: m._meta.db_table)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot store {type(value).__name__} in a JSON backup")


def _migrations(using: str) -> list[list[str]]:
    return sorted([a, n] for a, n in MigrationRecorder(connections[using]).applied_migrations())


def _rows(model: type[models.Model], using: str) -> Iterator[list[Any]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    yield from (list(r) for r in model._base_manager.using(using).order_by("pk").values_list(*fields).iterator())


def _json_dump(target: Path, using: str) -> None:
    with gzip.open(target, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": JSON_FORMAT, "migrations": _migrations(using)}) + "\n")
        for model in _tables():
            fields = [f.attname for f in model._meta.concrete_fields]
            fh.write(json.dumps({"table": model._meta.label, "fields": fields}) + "\n")
            for row in _rows(model, using):
                fh.write(json.dumps(row, default=_plain, ensure_ascii=False) + "\n")


def _json_read(source: Path) -> tuple[dict[str, Any], dict[str, tuple[list[str], list[list[Any]]]]]:
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    current: list[list[Any]] = []
    try:
        with gzip.open(source, "rt", encoding="utf-8") as fh:
            head = json.loads(fh.readline())
            if not isinstance(head, dict) or head.get("format") != JSON_FORMAT:
                raise InputError(f"{source}: not a Kepu JSON backup")
            for line in fh:
                item = json.loads(line)
                if isinstance(item, dict):
                    current = []
                    tables[item["table"]] = (item["fields"], current)
                else:
                    current.append(item)
    except (OSError, EOFError, ValueError, KeyError) as exc:
        raise InputError(f"{source}: damaged JSON backup ({exc})") from exc
    return head, tables


def _json_restore(source: Path, using: str) -> None:
    head, tables = _json_read(source)
    if head["migrations"] != _migrations(using):
        raise InputError(f"{source} was made at another schema version; migrate this database to the same "
                         "Kepu version (`kepu migrate`) as the one that made the backup, then restore.")
    models_ = _tables()
    missing = [m._meta.label for m in models_ if m._meta.label not in tables]
    if missing:
        raise InputError(f"{source}: no rows recorded for {', '.join(missing)}")
    conn = connections[using]
    with transaction.atomic(using=using):
        with conn.cursor() as cursor:
            for sql in conn.ops.sql_flush(no_style(), [m._meta.db_table for m in models_], allow_cascade=True):
                cursor.execute(sql)
        with conn.constraint_checks_disabled():
            for model in models_:
                _insert(model, *tables[model._meta.label], using)
        conn.check_constraints(table_names=[m._meta.db_table for m in models_])
        with conn.cursor() as cursor:
            for sql in conn.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)


def _insert(model: type[models.Model], names: list[str], rows: list[list[Any]], using: str) -> None:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    if sorted(names) != sorted(by_attname):
        raise InputError(f"{model._meta.label}: the backup's columns differ from this database's")
    fields = [by_attname[n] for n in names]
    objs = []
    for row in rows:
        obj = model()
        for f, value in zip(fields, row, strict=True):
            if value is not None and not isinstance(f, models.JSONField):
                value = f.to_python(value)
            setattr(obj, f.attname, value)
        objs.append(obj)
    size = connections[using].ops.bulk_batch_size(fields, objs) or len(objs) or 1
    for i in range(0, len(objs), size):
        # raw=True: values exactly as stored, so auto_now/auto_now_add timestamps are not renewed.
        model._base_manager.using(using)._insert(  # type: ignore[attr-defined]  # what bulk_create uses
            objs[i:i + size], fields=fields, raw=True, using=using)
