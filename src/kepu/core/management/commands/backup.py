"""`kepu backup FILE [--format auto|sqlite|pg_dump|json]`: the whole database into one file
(kepu.core.backup); `kepu restore FILE` puts it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.backup import backup_create
from kepu.core.errors import InputError


class Command(BaseCommand):
    help = "Back up the whole database to FILE (SQLite backup API, pg_dump, or portable JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", default="auto", choices=["auto", "sqlite", "pg_dump", "json"],
                            help="auto: the SQLite backup API on SQLite, pg_dump on PostgreSQL (json without "
                                 "pg_dump); json is portable between SQLite and PostgreSQL.")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a directory.")
        try:
            fmt = backup_create(path=path, fmt=opts["format"])
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up to {path} ({fmt}, {path.stat().st_size:,} bytes).")
