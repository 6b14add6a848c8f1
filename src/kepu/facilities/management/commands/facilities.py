"""`kepu facilities …`: record expired certifications (run daily) and republish the facilities
indicators from the records. Thin wrappers over kepu.facilities.services / indicators."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.models import OrgUnit
from kepu.facilities import indicators
from kepu.facilities.services import bases_expire


class Command(BaseCommand):
    help = "Science-education bases and venues: expire certifications, republish indicators."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, text in (("expire", "Record certifications past their validity and republish this year's counts."),
                           ("publish", "Republish every facilities indicator from 2021 to this year.")):
            p = sub.add_parser(name, help=text)
            p.add_argument("--city", default="320400", help="org-unit code of the city (default 320400 常州市)")
            p.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        city = OrgUnit.objects.filter(code=opts["city"], level=OrgUnit.Level.CITY).first()
        if city is None:
            raise CommandError(f"No city with org-unit code {opts['city']!r}; load the region first.")
        if opts["subcommand"] == "expire":
            expired = bases_expire(city=city)
            out: dict[str, Any] = {"expired": [{"id": b.pk, "name": b.name, "valid_until": b.valid_until.isoformat()}
                                               for b in expired]}
        else:
            n = indicators.bases_publish(city=city)
            years = range(indicators.FIRST_YEAR, _this_year() + 1)
            n += sum(indicators.visits_publish(city=city, year=y) for y in years)
            out = {"observations": n}
        if opts["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        elif "expired" in out:
            self.stdout.write(f"{len(out['expired'])} certification(s) recorded as expired.")
        else:
            self.stdout.write(f"{out['observations']} observation(s) published.")


def _this_year() -> int:
    from django.utils import timezone

    return timezone.localdate().year
