"""`kepu restore FILE [--noinput]`: replace every row of the database with a `kepu backup` file.
Stop the web server and workers first; the format is recognised from the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from kepu.core.backup import backup_format, backup_restore
from kepu.core.errors import InputError


class Command(BaseCommand):
    help = "Restore the database from a `kepu backup` file, replacing all its data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="Do not ask for confirmation.")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        try:
            fmt = backup_format(path)
            if opts["interactive"]:
                answer = input(f"This replaces ALL data in {connection.settings_dict['NAME']} with {path} ({fmt}). "
                               "Type 'yes' to continue: ")
                if answer.strip().lower() != "yes":
                    raise CommandError("Restore cancelled.")
            backup_restore(path=path)
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {path} ({fmt}).")
