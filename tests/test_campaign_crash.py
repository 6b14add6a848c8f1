"""A campaign survives its worker being killed (issue 9, point 5): real `kepu db_worker` processes
(KEPU_TASKS=database) are SIGKILLed in the middle of a campaign, another worker is started, and
every targeted citizen ends with exactly one delivery and exactly one message (inbox row or SMS
outbox line): nothing lost, nothing sent twice.

- Everywhere (SQLite and PostgreSQL): the worker is stopped at a known point (after the channel
  wrote a batch, before the batch was recorded as sent) and killed there: the hardest moment.
- PostgreSQL only: a worker is killed at whatever point it has reached once some hundreds of
  deliveries are out, while a second worker runs beside it; on SQLite the test cannot watch the
  worker's progress live (its database is a file copy, see tests/test_recovery.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from conftest import REPO
from tests.test_outreach_campaigns import CITY, _resource, _segment, make_citizens
from tests.test_recovery import WORKER, SharedDb, kill, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def shared(tmp_path: Path) -> SharedDb:
    return SharedDb(tmp_path)


def _started_campaign(make_user: Any, settings: Any, channel: str, n: int, holdout: float = 0.1) -> Any:
    """n citizens, an approved campaign started on the database task backend (its task queued)."""
    from django.utils import timezone

    from kepu.core.models import OrgUnit
    from kepu.outreach.campaigns import campaign_approve, campaign_create, campaign_start

    settings.TASKS = DATABASE_TASKS
    author = make_user("camp", ("campaigner", CITY, None))
    approver = make_user("camp2", ("campaigner", CITY, None))
    make_citizens(n)
    campaign = campaign_create(
        user=author, name="crash", org_unit=OrgUnit.objects.get(code=CITY), segment=_segment(),
        resources=[_resource()], channel=channel, title="t", message="m", send_at=timezone.now(),
        holdout_share=holdout, holdout_seed=11)
    campaign_approve(campaign=campaign, user=approver)
    campaign_start(campaign=campaign, user=author)  # no surrounding transaction: enqueued at once
    return campaign


def _assert_exactly_once(campaign: Any, outbox: Path) -> None:
    from kepu.outreach.campaign_models import Delivery, InboxMessage
    from kepu.outreach.campaigns import targets

    campaign.refresh_from_db()
    assert campaign.status == "done"
    targeted = set(targets(campaign).values_list("pk", flat=True))
    rows = list(Delivery.objects.filter(campaign=campaign).values_list("pk", "citizen_id", "holdout", "status"))
    assert sorted(r[1] for r in rows) == sorted(targeted)  # one row per targeted citizen (0 lost, 0 twice)
    treated = {r[0] for r in rows if not r[2]}
    assert {r[3] for r in rows if not r[2]} == {"sent"} and {r[3] for r in rows if r[2]} <= {"held"}
    if campaign.channel == "inbox":
        messages = list(InboxMessage.objects.values_list("delivery_id", flat=True))
    else:
        messages = [json.loads(x)["delivery"] for x in (outbox / f"{campaign.channel}.jsonl").read_text().splitlines()]
    assert len(messages) == len(set(messages)) == len(treated)  # no message twice…
    assert set(messages) == treated  # …and none missing


# SMS: killed after the batch went to the gateway, before it was recorded as sent. The inbox has no
# such gap (its messages and the "sent" mark commit together): killed inside that transaction.
@pytest.mark.parametrize(("channel", "stop"), [("inbox", "kepu.outreach.campaigns.InboxChannel"),
                                               ("sms", "kepu.outreach.campaigns._record")])
def test_a_worker_killed_mid_batch(
    shared: SharedDb, region: Any, make_user: Any, settings: Any, channel: str, stop: str,
) -> None:
    from kepu.outreach.campaign_models import Delivery, InboxMessage

    campaign = _started_campaign(make_user, settings, channel, n=120)
    shared.env["KEPU_CAMPAIGN_BATCH"] = "25"
    shared.push()
    with shared.stopped_in(stop, *WORKER) as worker:
        kill(worker)
    shared.pull()
    rows = Delivery.objects.filter(campaign=campaign)
    assert rows.count() == 120 and not rows.filter(status="sent").exists()
    if channel == "sms":
        # One batch claimed and already handed to the gateway, none recorded as sent.
        assert rows.filter(status="sending").count() == 25
        assert len((shared.tmp / "outbox/sms.jsonl").read_text().splitlines()) == 25
    else:
        # The batch's transaction died with the worker: nothing claimed, no message written.
        assert not rows.filter(status="sending").exists() and not InboxMessage.objects.exists()
        assert rows.filter(status="queued").count() == rows.exclude(status="held").count() > 0

    done = shared.kepu(*WORKER, "--batch")  # recovers the task at start, then runs it
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 task(s) queued again" in done.stdout
    shared.pull()
    _assert_exactly_once(campaign, shared.tmp / "outbox")


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="watching live workers' progress needs a shared server database (PostgreSQL)")
@pytest.mark.parametrize("channel", ["inbox", "sms"])
def test_a_worker_killed_mid_campaign_beside_another_loses_and_duplicates_nothing(
    shared: SharedDb, region: Any, make_user: Any, settings: Any, channel: str, tmp_path: Path,
) -> None:
    from django.contrib.auth.models import User

    from kepu.outreach.campaign_models import Delivery
    from kepu.outreach.campaigns import campaign_resume

    campaign = _started_campaign(make_user, settings, channel, n=4000)
    shared.env["KEPU_CAMPAIGN_BATCH"] = "5"
    sent = Delivery.objects.filter(campaign=campaign, status="sent")
    log = tmp_path / "second-worker.log"
    workers: list[subprocess.Popen[Any]] = []
    try:
        workers.append(subprocess.Popen([sys.executable, "-m", "kepu.cli", *WORKER], cwd=REPO, env=shared.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        wait_for(lambda: sent.count() >= 100 or workers[0].poll() is not None, "the first worker to send 100")
        # A second task for the same campaign on a second worker: both now claim batches side by side.
        campaign_resume(campaign=campaign, user=User.objects.get(username="camp"))
        with log.open("w") as out:
            workers.append(subprocess.Popen([sys.executable, "-m", "kepu.cli", *WORKER, "--recover-every", "0.2"],
                                            cwd=REPO, env=shared.env, stdout=out, stderr=subprocess.STDOUT))
        wait_for(lambda: sent.count() >= 600 or workers[0].poll() is not None, "the workers to send 600")
        kill(workers[0])
        at_kill = sent.count()
        assert at_kill < Delivery.objects.filter(campaign=campaign, holdout=False).count(), "finished before the kill"
        # No restart: the second worker re-queues the dead worker's task, takes over its abandoned batch, finishes.
        wait_for(lambda: type(campaign).objects.get(pk=campaign.pk).status == "done", "the campaign to finish")
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
            w.wait()
    _assert_exactly_once(campaign, shared.tmp / "outbox")
