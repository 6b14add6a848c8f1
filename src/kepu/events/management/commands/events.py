"""`kepu events …`: `publish --year Y` re-publishes the events app's plan indicators from its records
(idempotent); `import FILE --user NAME` imports events from an Excel workbook as that user, all or
nothing; `calendar --year Y --user NAME` adds the year's usual campaign days."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.uploads import read_path
from kepu.events import excel, indicators, services


class Command(BaseCommand):
    help = "Science events and trainings: publish indicators, import events, seed the campaign calendar."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        p = sub.add_parser("publish", help="Re-publish SCI_EVENTS_HELD, attendance, training and T10 indicators.")
        p.add_argument("--year", type=int, default=timezone.localdate().year)
        p.add_argument("--city", default="320400")
        i = sub.add_parser("import", help="Import events from an .xlsx file (columns as in docs/events.md).")
        i.add_argument("file", type=Path)
        i.add_argument("--user", required=True, help="Username of the office admin or district officer importing.")
        c = sub.add_parser("calendar", help="Add the year's usual campaign days (existing ones are kept).")
        c.add_argument("--year", type=int, required=True)
        c.add_argument("--user", required=True)

    def _user(self, name: str) -> User:
        user = User.objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"No user {name!r}.")
        return user

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["subcommand"] == "publish":
                city = OrgUnit.objects.filter(code=opts["city"]).first()
                if city is None:
                    raise CommandError(f"No org unit {opts['city']!r}; load the region first.")
                indicators.publish_all(city=city, year=opts["year"])
                self.stdout.write(f"Published the events indicators of {city.name_zh} for {opts['year']}.")
            elif opts["subcommand"] == "import":
                path: Path = opts["file"]
                events = excel.events_import(
                    actor=self._user(opts["user"]), content=read_path(path, kind="registry"), name=path.name
                )
                self.stdout.write(f"Imported {len(events)} events.")
            else:
                days = services.calendar_seed_year(actor=self._user(opts["user"]), year=opts["year"])
                self.stdout.write(f"Added {len(days)} campaign days for {opts['year']}.")
        except (InputError, PermissionDenied) as exc:
            for line in getattr(exc, "errors", [])[:50]:
                self.stderr.write(line)
            raise CommandError(str(exc)) from exc
