"""Background work for push campaigns (django-tasks). The task takes an id and is idempotent: run
twice, or again after its worker was killed (kepu.core.worker.tasks_recover queues it again), it
neither loses nor duplicates a delivery (see kepu.outreach.campaigns)."""

from __future__ import annotations

import datetime as dt
import os

from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend, task

RATE_WINDOW = dt.timedelta(minutes=1)


def send_batch_size() -> int:
    """Deliveries per claimed batch; KEPU_CAMPAIGN_BATCH lowers it (tests stop a worker mid-campaign)."""
    from kepu.outreach.campaigns import SEND_BATCH

    return max(1, int(os.environ.get("KEPU_CAMPAIGN_BATCH", SEND_BATCH)))


@task()
def campaign_run(campaign_id: int) -> int:
    """Fan out, then send: everything, or one minute's worth under a rate limit, queueing the next step."""
    from kepu.outreach import campaigns
    from kepu.outreach.campaign_models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.RUNNING:
        return 0
    campaigns.campaign_mark_started(campaign_id)
    campaigns.campaign_fanout(campaign_id)
    rate = campaign.rate_per_minute or None
    sent = campaigns.campaign_send(campaign_id, limit=rate, batch=send_batch_size())
    if rate and campaigns.campaign_remaining(campaign_id) and default_task_backend.supports_defer:
        enqueue_campaign_run(campaign_id, run_after=timezone.now() + RATE_WINDOW)
    return sent


def enqueue_campaign_run(campaign_id: int, run_after: dt.datetime | None = None) -> None:
    """After the surrounding transaction commits. A future `run_after` defers the task where the
    backend can (database workers); the in-process backend runs it at once."""

    def enqueue() -> None:
        from kepu.outreach.campaign_models import Campaign

        when = run_after if run_after is not None and run_after > timezone.now() else None
        runner = campaign_run.using(run_after=when) if when and default_task_backend.supports_defer else campaign_run
        result = runner.enqueue(campaign_id)
        Campaign.objects.filter(pk=campaign_id).update(task_id=str(result.id))

    transaction.on_commit(enqueue)
