"""`kepu db_worker`: django-tasks-db's worker, which first recovers the tasks a killed worker left
RUNNING (kepu.core.worker) and names itself host:pid:token so later recoveries can tell whether it
is still alive. Takes every option of the library's command."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from kepu.core.worker import tasks_recover, worker_id_new


class Command(LibraryWorkerCommand):
    help = "Run a database background worker (recovering abandoned tasks first)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=worker_id_new())

    def handle(self, *args: Any, **opts: Any) -> None:
        result = tasks_recover()
        if result.requeued or result.failed:
            self.stdout.write(f"Recovered at start: {result}.")
        super().handle(*args, **opts)
