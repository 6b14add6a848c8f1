"""Background publication of the key groups' reach into the plan (idempotent: it replaces the year's
values). Schedule it yearly (e.g. in January for the year before), or enqueue it after a busy campaign."""

from __future__ import annotations

from django_tasks import task


@task()
def publish_reach(plan_id: int, year: int) -> int:
    from kepu.outreach.indicators import reach_publish
    from kepu.plans.models import Plan

    return len(reach_publish(plan=Plan.objects.get(pk=plan_id), year=year))
