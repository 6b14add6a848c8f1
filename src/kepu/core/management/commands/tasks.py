"""`kepu tasks recover [--stale-after SECONDS] [--max-attempts N]`: queue again (or fail) background
tasks left RUNNING by a worker that was killed or has run past the time limit. `kepu db_worker`
does this when it starts and then periodically, and report pages while they wait; this runs it by
hand (or from cron when no worker runs)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kepu.core.worker import tasks_recover


class Command(BaseCommand):
    help = "Recover background tasks abandoned by a killed or stuck worker."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recover = sub.add_parser("recover", help="Queue again, or fail, tasks whose worker is gone or ran too long.")
        recover.add_argument("--stale-after", type=float, default=None,
                             help="Seconds after which a RUNNING task counts as abandoned "
                                  "(default: KEPU_TASK_STALE_AFTER).")
        recover.add_argument("--max-attempts", type=int, default=None,
                             help="Runs a task gets before it is marked failed (default: KEPU_TASK_MAX_ATTEMPTS).")

    def handle(self, *args: Any, **opts: Any) -> None:
        result = tasks_recover(stale_after=opts["stale_after"], max_attempts=opts["max_attempts"])
        self.stdout.write(f"Recovered: {result}.")
