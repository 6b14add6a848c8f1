"""Background work of the rumours app: clustering and matching a new claim, and matching open claims
against a newly published debunk. Both take ids, call one service and are safe to run twice."""

from __future__ import annotations

from django_tasks import task


@task()
def process_claim(claim_id: int) -> bool:
    from kepu.rumours.services import claim_process

    return claim_process(claim_id=claim_id) is not None


@task()
def match_open_claims(debunk_id: int) -> int:
    from kepu.rumours.services import debunk_match_open

    return debunk_match_open(debunk_id=debunk_id)
