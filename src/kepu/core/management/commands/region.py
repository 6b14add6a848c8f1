"""`kepu region import FILE`: load org units and population from a region file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError
from kepu.core.services import region_import


class Command(BaseCommand):
    help = "Load org units (city → district → town → village) and population margins."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        i = sub.add_parser("import")
        i.add_argument("file", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            result = region_import(path=opts["file"])
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{opts['file'].name}: {result['units']} units ({result['created']} new, "
                          f"{result['updated']} updated).")
