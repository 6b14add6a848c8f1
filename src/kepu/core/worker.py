"""Background tasks that outlive the process running them.

`kepu db_worker` (django-tasks-db) marks a task RUNNING and then runs it; a worker killed mid-task
(OOM, kill -9, a machine lost) leaves the row RUNNING for ever, and whatever waits on it waits for
ever. `tasks_recover` finds such tasks and queues them again (our tasks are idempotent) or, after
`TASK_MAX_ATTEMPTS` attempts, marks them failed. A task counts as abandoned when its worker ran on
this machine and that process is gone, or, for any machine, when it has been running longer than
`TASK_STALE_AFTER` seconds (never while it runs in the recovering process itself). `kepu db_worker`
runs the recovery when it starts and then periodically, report pages run it while they wait, and
`kepu tasks recover` runs it by hand or from cron."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# django-tasks' states, as stored in DBTaskResult.status.
READY, RUNNING, FAILED, SUCCESSFUL = "READY", "RUNNING", "FAILED", "SUCCESSFUL"
LOST_WORKER = "kepu.core.worker.WorkerLost"  # recorded as the exception class of abandoned tasks


_TOKEN = get_random_string(8)  # tells this process from an earlier one that had the same pid


def worker_id_new() -> str:
    """`host:pid:token`, so that a recovery on the same host can tell a dead worker from a busy one."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{_TOKEN}"


def _worker_state(worker_id: str) -> str:
    """"gone" only when we can be sure: the worker ran on this host and its process no longer exists
    (or its pid is now ours, i.e. it was an earlier life of this process, say in a container);
    "alive" for this very process (a worker's own recovery thread); otherwise "unknown"."""
    host, _, rest = worker_id.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return "unknown"
    pid = int(pid_text)
    if pid == os.getpid():
        return "alive" if token == _TOKEN else "gone"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:  # a live process of another user
        return "unknown"
    return "unknown"  # a live process, most likely the worker (a reused pid cannot be ruled out)


@dataclass
class Recovery:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.requeued)} task(s) queued again, {len(self.failed)} marked failed"


def tasks_recover(*, stale_after: float | None = None, max_attempts: int | None = None) -> Recovery:
    """Queue again, or fail, every RUNNING task whose worker is gone or that has run too long.

    Each change is a conditional UPDATE on (status, started_at), so a worker that finishes the task
    at the same moment wins, and two recoveries running at once do not both act."""
    stale_after = settings.TASK_STALE_AFTER if stale_after is None else stale_after
    max_attempts = settings.TASK_MAX_ATTEMPTS if max_attempts is None else max_attempts
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=stale_after)
    done = Recovery()
    for task in DBTaskResult.objects.running().only("id", "started_at", "worker_ids", "task_path"):
        last_worker = task.worker_ids[-1] if task.worker_ids else ""
        state = _worker_state(last_worker)
        overdue = task.started_at is None or task.started_at <= cutoff
        if state == "alive" or not (overdue or state == "gone"):
            continue
        same = DBTaskResult.objects.filter(pk=task.pk, status=RUNNING, started_at=task.started_at)
        attempts = len(task.worker_ids)
        why = "exceeded the time limit" if overdue else "its worker process is gone"
        if attempts < max_attempts:
            if same.update(status=READY, started_at=None):
                done.requeued.append(str(task.pk))
                logger.warning("task %s (%s) queued again: %s; attempt %d of %d",
                               task.pk, task.task_path, why, attempts, max_attempts)
        elif same.update(status=FAILED, finished_at=now, exception_class_path=LOST_WORKER, return_value=None,
                         traceback=f"Stopped after {attempts} attempt(s): {why} (last worker {last_worker})."):
            done.failed.append(str(task.pk))
            logger.error("task %s (%s) failed: %s after %d attempt(s)", task.pk, task.task_path, why, attempts)
    return done


def task_status(task_id: str) -> str | None:
    """READY, RUNNING, FAILED or SUCCESSFUL for a task queued in the database; None when there is
    no such row (the in-process backend keeps none, or the row was pruned)."""
    if not task_id:
        return None
    try:
        return DBTaskResult.objects.filter(pk=task_id).values_list("status", flat=True).first()
    except ValidationError:  # not a UUID: an id from another backend
        return None
