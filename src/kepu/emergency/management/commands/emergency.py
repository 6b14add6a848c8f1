"""`kepu emergency …`: load-hazards [FILE] loads the hazard starter set (idempotent, all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError


class Command(BaseCommand):
    help = "Emergency science: load the hazard knowledge base."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        load = sub.add_parser("load-hazards", help="Load hazards and guidance from YAML (default: the starter set).")
        load.add_argument("file", nargs="?", help="YAML file (default: src/kepu/emergency/data/hazards.yaml)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from kepu.emergency.loader import DEFAULT_FILE, hazards_load

        path = Path(opts["file"]) if opts.get("file") else DEFAULT_FILE
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = hazards_load(content=path.read_bytes(), source=str(path))
        except InputError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"{path}: {len(exc.errors)} problem(s); nothing was loaded.") from exc
        self.stdout.write(
            f"{path.name}: hazards {result.hazards_created} new, {result.hazards_updated} updated; guidance "
            f"{result.guidance_created} new, {result.guidance_updated} updated, {result.unchanged} unchanged.")
