"""Nothing stays stuck when a process is killed mid-way (issue 6, point 18). Real `kepu db_worker`
processes (KEPU_TASKS=database) are SIGKILLed in the middle of a report build or a status refresh,
and a `kepu literacy wave weight` in the middle of weighting; then recovery is shown: the next worker
re-runs the task, the report page turns a hopeless wait into a failure with a retry button, and a
wave's weights and estimates still come from one weighting run.

The subprocesses need a database they can open: on PostgreSQL the test database itself (the tests
are transactional, so what they write is committed); on SQLite, whose test database lives in memory,
a file copy that is copied in before a subprocess starts and back after it has run."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from conftest import REPO

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
WAIT = 180.0  # seconds a subprocess may take to reach the point where it is killed (a slow, shared CI box)


class SharedDb:
    """The test database, reachable by `kepu` subprocesses."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        if connection.vendor == "sqlite":
            self.file: Path | None = tmp_path / "shared.sqlite3"
            url = f"sqlite:///{self.file}"
        else:
            s = connection.settings_dict
            self.file = None
            url = (f"postgres://{quote(s['USER'] or '')}:{quote(s['PASSWORD'] or '')}@{s['HOST'] or 'localhost'}"
                   f":{s['PORT'] or 5432}/{s['NAME']}")
        self.env = {**os.environ, "KEPU_DATABASE_URL": url, "KEPU_TASKS": "database", "KEPU_DATA_DIR": str(tmp_path),
                    "DJANGO_SETTINGS_MODULE": "kepu.settings", "KEPU_DB_CONN_MAX_AGE": "0"}

    def push(self) -> None:
        """Make what this test wrote visible to subprocesses."""
        if self.file is not None:
            from kepu.core.backup import backup_create

            for leftover in ("-wal", "-shm"):  # a killed process's log must not replay onto the new copy
                self.file.with_name(self.file.name + leftover).unlink(missing_ok=True)
            backup_create(path=self.file)

    def pull(self) -> None:
        """Make what subprocesses wrote (and committed) visible to this test."""
        if self.file is not None:
            from kepu.core.backup import backup_restore

            backup_restore(path=self.file)

    def kepu(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kepu.cli", *args], cwd=REPO, env=self.env, text=True,
                              capture_output=True, timeout=600, check=False)

    @contextmanager
    def stopped_in(self, function: str, *args: str) -> Iterator[subprocess.Popen[str]]:
        """Run `kepu ARGS` until it enters FUNCTION (where it waits), then yield the live process;
        it is SIGKILLed on leaving the block if the test has not killed it."""
        marker = self.tmp / f"entered-{time.monotonic_ns()}"
        proc = subprocess.Popen([sys.executable, "-m", "tests.blocking_worker", function, str(marker), *args],
                                cwd=REPO, env=self.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: marker.exists() or proc.poll() is not None, f"{' '.join(args)} to reach {function}")
            if not marker.exists():
                pytest.fail(f"kepu {' '.join(args)} ended before reaching {function}:\n{proc.communicate()[0]}")
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


WORKER = ("db_worker", "--no-startup-delay", "--interval", "0.05", "--no-reload")


@pytest.fixture
def shared(tmp_path: Path) -> SharedDb:
    return SharedDb(tmp_path)


def _task(task_id: str) -> Any:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.get(pk=task_id)


def _enqueue_report(users: dict[str, Any], plan: Any) -> Any:
    from kepu.plans.reports import report_request

    report = report_request(plan=plan, year=timezone.localdate().year - 1, fmt="pdf", user=users["office"])
    report.refresh_from_db()
    assert report.status == "pending" and report.task_id
    return report


def _enqueue_status_refresh(users: dict[str, Any], plan: Any) -> Any:
    from kepu.plans.models import TargetStatus
    from kepu.plans.tasks import refresh_status

    TargetStatus.objects.all().delete()  # so that the re-run's work is visible
    return refresh_status.enqueue(plan.pk).id


@pytest.mark.parametrize(("enqueue", "stop_in"), [
    (_enqueue_report, "kepu.plans.reports.assessment_compute"),
    (_enqueue_status_refresh, "kepu.plans.status.compute_statuses"),
], ids=["report-build", "status-refresh"])
def test_a_task_whose_worker_is_killed_is_run_again_by_the_next_worker(
    shared: SharedDb, users: dict[str, Any], plan: Any, settings: Any, enqueue: Any, stop_in: str,
) -> None:
    from kepu.plans.models import ReportFile, TargetStatus

    settings.TASKS = DATABASE_TASKS
    queued = enqueue(users, plan)
    task_id = queued.task_id if isinstance(queued, ReportFile) else str(queued)
    shared.push()

    with shared.stopped_in(stop_in, *WORKER) as worker:
        shared.pull()
        assert _task(task_id).status == "RUNNING"  # claimed, and inside the task
        kill(worker)

    shared.pull()
    assert _task(task_id).status == "RUNNING"  # the library alone would leave it so for ever

    done = shared.kepu(*WORKER, "--batch")  # recovers at start, then runs what is queued
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 task(s) queued again" in done.stdout
    shared.pull()
    task = _task(task_id)
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    if isinstance(queued, ReportFile):
        queued.refresh_from_db()
        assert queued.status == "done" and bytes(queued.content or b"").startswith(b"%PDF")
    else:
        assert TargetStatus.objects.filter(target__plan=plan).count() == task.return_value > 0


def test_a_running_worker_takes_over_the_task_of_a_worker_killed_beside_it(
    shared: SharedDb, users: dict[str, Any], plan: Any, settings: Any, tmp_path: Path,
) -> None:
    settings.TASKS = DATABASE_TASKS
    task_id = str(_enqueue_status_refresh(users, plan))
    shared.push()
    log = tmp_path / "second-worker.log"
    with shared.stopped_in("kepu.plans.status.compute_statuses", *WORKER) as first, log.open("w") as out:
        second = subprocess.Popen([sys.executable, "-m", "kepu.cli", *WORKER, "--recover-every", "0.2"],
                                  cwd=REPO, env=shared.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "Starting worker" in log.read_text(), "the second worker to start")
            shared.pull()
            assert _task(task_id).status == "RUNNING"  # its worker is alive: left alone
            kill(first)
            # No restart, no cron: the second worker's periodic recovery re-queues the task and runs it.
            wait_for(lambda: (shared.pull(), _task(task_id).status)[1] == "SUCCESSFUL", "the task to be re-run")
        finally:
            second.kill()
            second.wait()
    assert len(_task(task_id).worker_ids) == 2 and "Recovered at start" not in log.read_text()


def test_a_report_whose_build_keeps_dying_shows_a_failure_and_a_retry_button(
    shared: SharedDb, users: dict[str, Any], plan: Any, settings: Any, client: Any,
) -> None:
    from kepu.plans.models import ReportFile

    settings.TASKS = DATABASE_TASKS
    settings.TASK_MAX_ATTEMPTS = 2
    report = _enqueue_report(users, plan)
    client.force_login(users["office"])
    page = f"/assessment/{report.pk}/"
    for attempt in (1, 2):
        shared.push()
        with shared.stopped_in("kepu.plans.reports.assessment_compute", *WORKER) as worker:
            kill(worker)
        shared.pull()
        # The page's poll runs the recovery: first the task is queued again and the page keeps waiting…
        html = client.get(page).content.decode()
        report.refresh_from_db()
        if attempt == 1:
            assert _task(report.task_id).status == "READY" and report.status == "pending"
            assert 'http-equiv="refresh"' in html and "report-retry" not in html
    # …after the last attempt it is failed, and the page says so and offers a retry instead of spinning.
    assert _task(report.task_id).status == "FAILED"
    assert report.status == "failed" and report.failure == ReportFile.Failure.INTERRUPTED
    assert 'http-equiv="refresh"' not in html
    assert "报告生成失败" in html and "后台生成报告的进程中断" in html and 'id="report-retry"' in html
    assert "WorkerLost" not in html and "Traceback" not in html

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    retried = client.post(f"/assessment/{report.pk}/retry/")
    new = ReportFile.objects.exclude(pk=report.pk).get()
    assert retried.status_code == 302 and retried["Location"] == f"/assessment/{new.pk}/"
    assert new.status == "done" and (new.plan, new.year, new.fmt) == (report.plan, report.year, report.fmt)
    download = client.get(f"/assessment/{new.pk}/")
    assert download["Content-Type"] == "application/pdf" and download.content.startswith(b"%PDF")


def test_weights_and_estimates_come_from_one_weighting_run_when_it_is_killed(
    shared: SharedDb, plan: Any,
) -> None:
    from kepu.literacy.models import Respondent, Wave, WaveEstimate
    from kepu.literacy.services import wave_create, wave_process
    from kepu.literacy.tests.factories import load_items
    from kepu.literacy.waves import respondents_import
    from tests.test_literacy_waves import respondent_csv

    load_items()
    wave = wave_create(code="t-2025", year=2025)
    respondents_import(wave=wave, content=respondent_csv(), name="r.csv")
    wave_process(code=wave.code, variables=["district", "sex", "area"])

    def state() -> tuple[Any, ...]:
        return (Wave.objects.get(pk=wave.pk).weighting,
                list(Respondent.objects.filter(wave=wave).order_by("pk").values_list("pk", "weight")),
                list(WaveEstimate.objects.filter(wave=wave).order_by("pk").values_list("pk", "estimate", "se")))

    before = state()
    shared.push()
    # Weighted to other margins, the new weights are written, then the run is killed while estimating.
    with shared.stopped_in("kepu.literacy.services.wave_estimate",
                           "literacy", "wave", "weight", wave.code, "--margins", "district,sex") as run:
        kill(run)
    shared.pull()
    assert state() == before  # neither new weights beside old estimates, nor anything half-written

    wave_process(code=wave.code, variables=["district", "sex"])  # running it again completes the change
    after = state()
    assert after[0]["margins"] == ["district", "sex"] and after[1] != before[1] and after[2] != before[2]


def test_recovery_leaves_live_and_recent_tasks_alone(db: None, settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from kepu.core.worker import tasks_recover, worker_id_new

    def running(worker: str, minutes_ago: float, attempts: int = 1) -> DBTaskResult:
        return DBTaskResult.objects.create(
            status="RUNNING", started_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
            args_kwargs={"args": [1], "kwargs": {}}, task_path="kepu.plans.tasks.refresh_status",
            backend_name="default", run_after=timezone.now(),
            worker_ids=[f"x{i}" for i in range(attempts - 1)] + [worker])

    settings.TASK_STALE_AFTER, settings.TASK_MAX_ATTEMPTS = 600, 3
    host = worker_id_new().split(":")[0]
    earlier_life = running(f"{host}:{os.getpid()}:earlier", 1)  # our pid, another token: a restarted container
    this_process = running(worker_id_new(), 11)  # a worker's own recovery thread never takes its task away
    alive_here = running(f"{host}:{os.getppid()}:abc", 1)
    elsewhere_recent = running("other-host:123:abc", 1)
    elsewhere_stale = running("other-host:123:abc", 11)
    exhausted = running("other-host:123:abc", 11, attempts=3)

    result = tasks_recover()

    status = {t.pk: t.status for t in DBTaskResult.objects.all()}
    assert status[this_process.pk] == status[alive_here.pk] == status[elsewhere_recent.pk] == "RUNNING"
    assert status[earlier_life.pk] == status[elsewhere_stale.pk] == "READY"
    assert status[exhausted.pk] == "FAILED"
    assert sorted(result.requeued) == sorted([str(earlier_life.pk), str(elsewhere_stale.pk)])
    assert result.failed == [str(exhausted.pk)]


def test_a_report_nobody_picks_up_times_out_into_a_failure(users: dict[str, Any], plan: Any, settings: Any,
                                                           client: Any) -> None:
    from kepu.plans.models import ReportFile

    settings.TASKS = DATABASE_TASKS  # queued, but no worker runs
    report = _enqueue_report(users, plan)
    client.force_login(users["office"])
    assert "report-retry" not in client.get(f"/assessment/{report.pk}/").content.decode()
    ReportFile.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=settings.TASK_STALE_AFTER + 1))
    html = client.get(f"/assessment/{report.pk}/").content.decode()
    report.refresh_from_db()
    assert report.status == "failed" and report.failure == ReportFile.Failure.TIMEOUT
    assert "后台任务进程可能没有运行" in html and 'id="report-retry"' in html
