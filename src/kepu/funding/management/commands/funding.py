"""`kepu funding …`: publish the funding indicators for a year, import or export budgets and spending reports
(Excel), export the project fund."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.uploads import read_path
from kepu.funding import excel, indicators


class Command(BaseCommand):
    help = "Science funding: publish per-capita indicators, import/export budgets."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        p = sub.add_parser("publish", help="Publish SCI_FUNDING_PER_CAPITA and SCI_FUNDING_GROWTH for a year.")
        p.add_argument("--year", type=int, required=True)
        p.add_argument("--city", default="320400", help="city org-unit code (default 320400)")
        i = sub.add_parser("import", help="Import budgets from an Excel file as a user (all-or-nothing).")
        i.add_argument("path", type=Path)
        i.add_argument("--user", required=True, help="username whose scope applies")
        i.add_argument("--what", choices=("budgets", "spending"), default="budgets",
                       help="budgets (default) or spending lines (reports are entered as submitted)")
        e = sub.add_parser("export", help="Export the budgets a user may see to an Excel file.")
        e.add_argument("path", type=Path)
        e.add_argument("--user", required=True)
        e.add_argument("--what", choices=("budgets", "spending", "fund"), default="budgets",
                       help="budgets (default), spending reports, or the project fund")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["subcommand"] == "publish":
                city = OrgUnit.objects.filter(code=opts["city"]).first()
                if city is None:
                    raise CommandError(f"No org unit {opts['city']}; load the region first (kepu import-region).")
                indicators.funding_publish(city=city, year=opts["year"])
                self.stdout.write(f"Published funding indicators for {city.code} {opts['year']}.")
                return
            user = User.objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user {opts['user']}.")
            if opts["subcommand"] == "import":
                path: Path = opts["path"]
                content = read_path(path, kind="registry")
                if opts["what"] == "spending":
                    reports = excel.spending_import(actor=user, content=content, name=path.name)
                    self.stdout.write(f"Imported {len(reports)} spending reports (submitted for review).")
                else:
                    made = excel.budgets_import(actor=user, content=content, name=path.name)
                    self.stdout.write(f"Imported {len(made)} budgets.")
            else:
                export = {"budgets": excel.budgets_export, "spending": excel.spending_export,
                          "fund": excel.fund_export}[opts["what"]]
                opts["path"].write_bytes(export(user))
                self.stdout.write(f"Wrote {opts['path']}.")
        except (InputError, PermissionDenied) as exc:
            for line in getattr(exc, "errors", [str(exc)])[1:]:
                self.stderr.write(line)
            raise CommandError(str(exc).splitlines()[0]) from exc
