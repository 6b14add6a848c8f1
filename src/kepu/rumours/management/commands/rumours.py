"""`kepu rumours …`. Each subcommand lives in its own module, listed in SUBCOMMANDS: the module has
`HELP`, `add_arguments(parser)` and `run(opts, stdout)` (raising InputError for the user's mistakes)."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError, PermissionDenied

SUBCOMMANDS: dict[str, str] = {
    "match": "kepu.rumours.cli_match",
}


class Command(BaseCommand):
    help = "Rumours: match claims against debunks, and more."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, module in SUBCOMMANDS.items():
            mod = importlib.import_module(module)
            mod.add_arguments(sub.add_parser(name, help=mod.HELP))

    def handle(self, *args: Any, **opts: Any) -> None:
        module = importlib.import_module(SUBCOMMANDS[opts["subcommand"]])
        try:
            module.run(opts, self.stdout)
        except (InputError, PermissionDenied) as exc:
            for line in getattr(exc, "errors", [str(exc)])[1:]:
                self.stderr.write(line)
            raise CommandError(str(exc).splitlines()[0]) from exc
