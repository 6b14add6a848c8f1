"""`kepu progress remind [--date YYYY-MM-DD]`: enqueue the day's progress-report reminders as a
background task (run it daily, e.g. from cron; running it twice sends nothing twice)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kepu.plans.tasks import send_progress_reminders


class Command(BaseCommand):
    help = "Progress reports. `remind`: enqueue the day's reminders (in-app and e-mail)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{remind}")
        remind = sub.add_parser("remind", help="Enqueue the day's progress-report reminders.",
                                description="Remind reporters whose reports are due soon or overdue.")
        remind.add_argument("--date", help="The day to remind for, YYYY-MM-DD (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options.get("date")
        try:
            day = dt.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date: {raw!r} is not a date like 2026-07-01") from exc
        result = send_progress_reminders.enqueue(day.isoformat())
        self.stdout.write(f"enqueued reminders for {day.isoformat()} (task {result.id})")
