"""Benchmark: campaign fan-out, deliveries per second for ONE worker (this process), inbox channel.

`fanout(n_citizens)` makes n citizens with push consent in a district of their own, a segment that
selects exactly them, a published piece and a running campaign (10 % holdout), then times what a
`kepu db_worker` does for the campaign task — `campaign_fanout` (one Delivery per citizen, batched
`bulk_create`) and `campaign_send` (claim a batch queued → sending, write its inbox messages and mark
it sent in one transaction, batch after batch) — and checks the result: every citizen exactly one
delivery, every treated delivery exactly one inbox message (`lost`, `duplicated` must be 0). It needs
Django set up and a migrated database; the segment/feed driver calls it for the issue's table.

Run alone: .venv/bin/python bench/outreach_fanout.py [--citizens 100000]
(throw-away SQLite by default; KEPU_DATABASE_URL=postgres://… for PostgreSQL). Goal: ≥ 5,000
deliveries/s per worker."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

CREATE_BATCH = 10_000


def _citizens(n: int, district: Any, tag: str) -> None:
    from django.contrib.auth.models import User
    from django.db import transaction

    from kepu.citizens.models import Citizen, Consent

    for start in range(0, n, CREATE_BATCH):
        size = min(CREATE_BATCH, n - start)
        with transaction.atomic():
            names = [f"fan{tag}-{start + i}" for i in range(size)]
            User.objects.bulk_create([User(username=u, password="!") for u in names])
            ids = list(User.objects.filter(username__in=names).values_list("pk", flat=True))
            Citizen.objects.bulk_create([Citizen(user_id=pk, pseudonym=f"fan{tag}-{pk}", district=district,
                                                 age_band="50-59") for pk in ids])
            cids = list(Citizen.objects.filter(user_id__in=ids).values_list("pk", flat=True))
            Consent.objects.bulk_create([Consent(citizen_id=c, purpose="push", granted=True) for c in cids])


def fanout(n_citizens: int) -> dict[str, Any]:
    """Deliveries per second of one worker for a campaign to n_citizens (see the module docstring)."""
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from kepu.core.models import OrgUnit
    from kepu.outreach.campaign_models import Campaign, Delivery, InboxMessage
    from kepu.outreach.campaigns import campaign_fanout, campaign_send
    from kepu.outreach.models import Resource
    from kepu.outreach.segment_models import Segment

    tag = f"{int(time.time() * 1000) % 10**9}"
    city = OrgUnit.objects.filter(level="city").order_by("pk").first() or OrgUnit.objects.create(
        code="FB", name_zh="基准市", name_en="Bench City", level="city", path="/FB/")
    district = OrgUnit.objects.create(code=f"FB{tag}", name_zh="推送基准区", name_en="Fan-out district",
                                      level="district", parent=city, path=f"{city.path}FB{tag}/")
    _citizens(n_citizens, district, tag)
    segment = Segment.objects.create(code=f"fanout-{tag}", name_zh="推送基准", name_en="Fan-out bench",
                                     rules={"field": "district", "op": "in", "value": [district.code]},
                                     org_unit=city)
    resource = Resource.objects.create(code=f"fanout-{tag}", title_zh="基准内容", status="published",
                                       published_at=timezone.now())
    campaign = Campaign.objects.create(name="fan-out bench", org_unit=city, segment=segment, channel="inbox",
                                       title="基准", message="基准消息", send_at=timezone.now(), holdout_share=0.1,
                                       holdout_seed=1, status=Campaign.Status.RUNNING, started_at=timezone.now())
    campaign.resources.set([resource])

    t0 = time.perf_counter()
    campaign_fanout(campaign.pk)
    t1 = time.perf_counter()
    sent = campaign_send(campaign.pk)
    t2 = time.perf_counter()

    rows = Delivery.objects.filter(campaign=campaign)
    per_citizen = rows.values("citizen_id").annotate(n=Count("pk"))
    treated = rows.filter(holdout=False).count()
    messages = InboxMessage.objects.filter(delivery__campaign=campaign)
    message_dupes = messages.values("delivery_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    lost = (n_citizens - per_citizen.count()) + (treated - messages.count() + message_dupes)
    duplicated = per_citizen.filter(n__gt=1).count() + message_dupes
    campaign.refresh_from_db()
    return {
        "database": connection.vendor,
        "citizens": n_citizens,
        "deliveries": treated,
        "holdout": rows.filter(holdout=True).count(),
        "sent": sent,
        "fanout_s": round(t1 - t0, 3),
        "send_s": round(t2 - t1, 3),
        "deliveries_per_s_per_worker": round(treated / (t2 - t0), 1) if t2 > t0 else None,
        "lost": lost,
        "duplicated": duplicated,
        "status": campaign.status,
        "goal_met": treated / (t2 - t0) >= 5000 and lost == 0 and duplicated == 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--citizens", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kepu-fanout-"))
    os.environ["KEPU_DATA_DIR"] = str(tmp)
    os.environ.setdefault("KEPU_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kepu.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(fanout(args.citizens), indent=2))


if __name__ == "__main__":
    main()
