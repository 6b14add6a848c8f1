"""The shape of `kepu <app> …` commands: each subcommand lives in its own module, which has `HELP`,
`add_arguments(parser)` and `run(opts, stdout)` (raising InputError or PermissionDenied for the user's
mistakes, printed as Django prints a CommandError, every error line named). An app's command lists its
modules in `subcommands`; adding a subcommand is one line there."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError, PermissionDenied


class SubcommandsCommand(BaseCommand):
    subcommands: dict[str, str] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, module in self.subcommands.items():
            mod = importlib.import_module(module)
            mod.add_arguments(sub.add_parser(name, help=mod.HELP))

    def handle(self, *args: Any, **opts: Any) -> None:
        module = importlib.import_module(self.subcommands[opts["subcommand"]])
        try:
            module.run(opts, self.stdout)
        except (InputError, PermissionDenied) as exc:
            for line in getattr(exc, "errors", [str(exc)])[1:]:
                self.stderr.write(line)
            raise CommandError(str(exc).splitlines()[0]) from exc
