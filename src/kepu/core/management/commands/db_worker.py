"""`kepu db_worker`: django-tasks-db's worker, which recovers the tasks a killed worker left RUNNING
(kepu.core.worker) when it starts and then every `--recover-every` seconds, and names itself
host:pid:token so later recoveries can tell whether it is still alive. Takes every option of the
library's command."""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from kepu.core.worker import tasks_recover, worker_id_new

logger = logging.getLogger(__name__)


def _recover_every(seconds: float) -> None:
    """In a daemon thread beside the worker loop, so tasks abandoned on other machines are picked up
    without a worker restart or cron."""
    while not threading.Event().wait(seconds):
        try:
            tasks_recover()
        except DatabaseError:  # a database blip must not end recovery for the worker's lifetime
            logger.exception("task recovery failed; trying again in %s s", seconds)
        finally:
            connections.close_all()  # this thread's own connections


class Command(LibraryWorkerCommand):
    help = "Run a database background worker (recovering abandoned tasks at start and periodically)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=worker_id_new())
        parser.add_argument("--recover-every", type=float, default=None,
                            help="Seconds between recoveries of abandoned tasks (default: KEPU_TASK_STALE_AFTER / 3).")

    def handle(self, *args: Any, **opts: Any) -> None:
        result = tasks_recover()
        if result.requeued or result.failed:
            self.stdout.write(f"Recovered at start: {result}.")
        every = opts.pop("recover_every") or max(settings.TASK_STALE_AFTER / 3, 1.0)
        threading.Thread(target=_recover_every, args=(every,), name="task-recovery", daemon=True).start()
        super().handle(*args, **opts)
