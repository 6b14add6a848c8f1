"""`kepu recognition …`: publish SCI_HONOURS for a year, import or export nominations (Excel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.uploads import read_path
from kepu.recognition import excel, indicators


class Command(BaseCommand):
    help = "Recognition: publish the honours indicator, import/export nominations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        p = sub.add_parser("publish", help="Publish SCI_HONOURS for a year.")
        p.add_argument("--year", type=int, required=True)
        p.add_argument("--city", default="320400")
        i = sub.add_parser("import", help="Import nominations from an Excel file as a user (all-or-nothing).")
        i.add_argument("path", type=Path)
        i.add_argument("--user", required=True)
        e = sub.add_parser("export", help="Export nominations and awards a user may see to an Excel file.")
        e.add_argument("path", type=Path)
        e.add_argument("--user", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["subcommand"] == "publish":
                city = OrgUnit.objects.filter(code=opts["city"]).first()
                if city is None:
                    raise CommandError(f"No org unit {opts['city']}; load the region first.")
                indicators.honours_publish(city=city, year=opts["year"])
                self.stdout.write(f"Published SCI_HONOURS for {city.code} {opts['year']}.")
                return
            user = User.objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user {opts['user']}.")
            if opts["subcommand"] == "import":
                path: Path = opts["path"]
                made = excel.nominations_import(actor=user, content=read_path(path, kind="registry"), name=path.name)
                self.stdout.write(f"Imported {len(made)} nominations.")
            else:
                opts["path"].write_bytes(excel.nominations_export(user))
                self.stdout.write(f"Wrote {opts['path']}.")
        except (InputError, PermissionDenied) as exc:
            for line in getattr(exc, "errors", [str(exc)])[1:]:
                self.stderr.write(line)
            raise CommandError(str(exc).splitlines()[0]) from exc
