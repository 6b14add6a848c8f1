"""`kepu progress remind [--date YYYY-MM-DD]`: enqueue the day's progress-report reminders as a
background task (run it daily, e.g. from cron; running it twice sends nothing twice).
`kepu progress schedule [--plan CODE] [--half-year-due MM-DD] [--annual-due MM-DD] [--remind-days N]`:
show or set a plan's reporting deadlines (defaults 07-15, 01-15 of the next year, 14 days)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kepu.core.errors import InputError
from kepu.plans import progress, selectors
from kepu.plans.tasks import send_progress_reminders


class Command(BaseCommand):
    help = "Progress reports. `remind`: enqueue the day's reminders (in-app and e-mail)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{remind}")
        remind = sub.add_parser("remind", help="Enqueue the day's progress-report reminders.",
                                description="Remind reporters whose reports are due soon or overdue.")
        remind.add_argument("--date", help="The day to remind for, YYYY-MM-DD (default: today).")
        schedule = sub.add_parser("schedule", help="Show or set a plan's reporting deadlines.",
                                  description="Without options, print the deadlines; with options, set them.")
        schedule.add_argument("--plan", help="Plan code (default: the first imported plan).")
        schedule.add_argument("--half-year-due", help="Due day of the January-June report, MM-DD (e.g. 07-15).")
        schedule.add_argument("--annual-due", help="Due day of the annual report in the next year, MM-DD (e.g. 01-15).")
        schedule.add_argument("--remind-days", type=int, help="Days before a deadline that reminders start.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "schedule":
            self.schedule(options)
            return
        raw = options.get("date")
        try:
            day = dt.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date: {raw!r} is not a date like 2026-07-01") from exc
        result = send_progress_reminders.enqueue(day.isoformat())
        self.stdout.write(f"enqueued reminders for {day.isoformat()} (task {result.id})")

    def schedule(self, options: dict[str, Any]) -> None:
        code = options.get("plan")
        plan = selectors.plan_get(code) if code else selectors.plan_default()
        if plan is None:
            raise CommandError(f"--plan: unknown plan {code!r}" if code
                               else "no plan has been imported yet; run: kepu plan import FILE")
        current = progress.schedule_of(plan)
        wanted = [options.get(k) for k in ("half_year_due", "annual_due", "remind_days")]
        if any(v is not None for v in wanted):
            try:
                current = progress.progress_schedule_set(
                    user=None, plan=plan,
                    half_year_due=_month_day("--half-year-due", options.get("half_year_due"),
                                             (current.half_year_due_month, current.half_year_due_day)),
                    annual_due=_month_day("--annual-due", options.get("annual_due"),
                                          (current.annual_due_month, current.annual_due_day)),
                    remind_days_before=current.remind_days_before if wanted[2] is None else wanted[2],
                )
            except InputError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{plan.code}: half-year report due {current.half_year_due_month:02d}-{current.half_year_due_day:02d}, "
            f"annual report due {current.annual_due_month:02d}-{current.annual_due_day:02d} of the next year, "
            f"reminders from {current.remind_days_before} days before"
        )


def _month_day(option: str, raw: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if raw is None:
        return default
    try:
        month, day = (int(x) for x in raw.split("-"))
    except ValueError as exc:
        raise CommandError(f"{option}: {raw!r} is not a day like 07-15") from exc
    return month, day
