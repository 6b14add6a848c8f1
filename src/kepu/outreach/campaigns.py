"""Push campaigns: create, approve (four eyes), start, cancel; fan out and send in batches.

Crash safety. Sending is at-most-once per delivery by construction and at-least-once by recovery:
- fan-out inserts one Delivery per (campaign, citizen) with `ignore_conflicts` on the unique key, so
  re-running it adds only the missing rows;
- a batch is claimed by a conditional UPDATE queued → sending that writes a claim token (on
  PostgreSQL the candidate rows are first locked with FOR UPDATE SKIP LOCKED, so concurrent workers
  take disjoint batches without waiting); only the worker whose token landed on a row sends it, and
  only after the claim is committed;
- the inbox channel writes its messages and marks the batch sent in ONE transaction; the file/gateway
  channels write (fsync'd, keyed by delivery id) and then mark sent;
- a row left in "sending" by a worker that is gone (kepu.core.worker's test) or stale is re-claimed,
  and the channel is asked whether it already went out before it is sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from kepu.citizens.models import Citizen
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import Scope, scope_for
from kepu.core.services import audit_record
from kepu.core.worker import _worker_state, worker_id_new
from kepu.outreach import segments
from kepu.outreach.campaign_models import Campaign, Delivery, InboxMessage
from kepu.outreach.channels import InboxChannel, Outgoing, channel_for
from kepu.outreach.models import Resource
from kepu.outreach.segment_models import Segment

CAMPAIGN_ROLES = (Role.OFFICE_ADMIN, Role.CAMPAIGNER)
FANOUT_BATCH = 5000
SEND_BATCH = 1000
DIMENSIONS = ("knowledge", "method", "spirit", "application")

S = Campaign.Status
D = Delivery.Status


# --- who may -----------------------------------------------------------------------------------


def can_manage(scope: Scope, unit: OrgUnit) -> bool:
    return scope.covers(unit, CAMPAIGN_ROLES)


def campaign_units(user: User) -> QuerySet[OrgUnit]:
    """The org units a user may run campaigns for: their city or district and the districts below it
    (towns and villages are reached through segments)."""
    levels = [OrgUnit.Level.PROVINCE, OrgUnit.Level.CITY, OrgUnit.Level.DISTRICT]
    return (OrgUnit.objects.filter(scope_for(user).unit_filter(roles=CAMPAIGN_ROLES), level__in=levels)
            .order_by("path"))


def _require(user: User, campaign: Campaign) -> None:
    if not can_manage(scope_for(user), campaign.org_unit):
        raise PermissionDenied(_("您无权管理该单位的推送活动。"))


# --- targeting ---------------------------------------------------------------------------------


def in_holdout(seed: int, pseudonym: str, share: float) -> bool:
    """A reproducible coin: the same seed and citizen always land in the same arm."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{seed}:{pseudonym}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def targets(campaign: Campaign) -> QuerySet[Citizen]:
    """The segment's citizens within the campaign's unit who consent to push (and, for SMS, have a phone)."""
    qs = segments.members(campaign.segment, unit=campaign.org_unit)
    qs = qs.filter(segments.compile_rules({"field": "consent", "op": "granted", "value": "push"}))
    if campaign.channel == Campaign.Channel.SMS:
        qs = qs.exclude(phone="")
    return qs


# --- editing and the workflow --------------------------------------------------------------------


def campaign_create(
    *,
    user: User,
    name: str,
    org_unit: OrgUnit,
    segment: Segment,
    resources: Sequence[Resource],
    channel: str,
    title: str,
    message: str,
    send_at: dt.datetime,
    rate_per_minute: int = 0,
    holdout_share: float = 0.0,
    holdout_seed: int | None = None,
    measure: str = Campaign.Measure.COMPLETION,
    dimension: str = "",
) -> Campaign:
    scope = scope_for(user)
    if not can_manage(scope, org_unit):
        raise PermissionDenied(_("您无权为该单位创建推送活动。"))
    errors = []
    if not name.strip():
        errors.append(_("请填写活动名称。"))
    if not title.strip() or not message.strip():
        errors.append(_("请填写消息标题和正文。"))
    if not segment.org_unit.path.startswith(org_unit.path) and not org_unit.path.startswith(segment.org_unit.path):
        errors.append(_("所选人群不属于本单位。"))
    if not resources:
        errors.append(_("请至少选择一条已发布的内容。"))
    elif any(r.status != "published" for r in resources):
        errors.append(_("只能推送已发布的内容。"))
    if channel not in Campaign.Channel.values:
        errors.append(_("未知的推送渠道。"))
    if rate_per_minute < 0:
        errors.append(_("发送速率不能为负数。"))
    if not 0 <= holdout_share <= 0.5:
        errors.append(_("对照组比例应在 0 到 50% 之间。"))
    if measure not in Campaign.Measure.values:
        errors.append(_("未知的效果指标。"))
    if measure == Campaign.Measure.QUIZ_ACCURACY and dimension not in DIMENSIONS:
        errors.append(_("按每日一题正确率评估时，请选择目标素质维度。"))
    if errors:
        raise InputError(errors[0], errors=errors)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name.strip(), org_unit=org_unit, segment=segment, channel=channel, title=title.strip(),
            message=message.strip(), send_at=send_at, rate_per_minute=rate_per_minute,
            holdout_share=holdout_share,
            holdout_seed=holdout_seed if holdout_seed is not None else int.from_bytes(
                hashlib.sha256(get_random_string(16).encode()).digest()[:6], "big"),
            measure=measure, dimension=dimension if measure == Campaign.Measure.QUIZ_ACCURACY else "",
            created_by=user,
        )
        campaign.resources.set(resources)
        audit_record(actor=user, action="campaign.create", obj=campaign, org_unit=org_unit)
    return campaign


def _transition(campaign: Campaign, user: User | None, action: str, allowed: Iterable[str], new: str,
                **fields: Any) -> Campaign:
    """Move the campaign on with a conditional UPDATE, so a double click or a second console acts once."""
    with transaction.atomic():
        changed = Campaign.objects.filter(pk=campaign.pk, status__in=list(allowed)).update(status=new, **fields)
        if not changed:
            campaign.refresh_from_db()
            raise InputError(_("活动当前状态为“{status}”，不能执行此操作。").format(
                status=campaign.get_status_display()))
        old = campaign.status
        campaign.refresh_from_db()
        audit_record(actor=user, action=action, obj=campaign, org_unit=campaign.org_unit,
                     changes={"status": (old, new)})
    return campaign


def campaign_approve(*, campaign: Campaign, user: User) -> Campaign:
    """Four eyes: someone other than its author, who may manage the campaign's unit."""
    _require(user, campaign)
    if campaign.created_by_id == user.pk:
        raise PermissionDenied(_("不能批准自己创建的推送活动，请由另一位运营人员批准。"))
    return _transition(campaign, user, "campaign.approve", [S.DRAFT], S.APPROVED,
                       approved_by=user, approved_at=timezone.now())


def campaign_start(*, campaign: Campaign, user: User) -> Campaign:
    """Approved → running; the fan-out task is queued for the send time (now, if it has passed)."""
    _require(user, campaign)
    campaign = _transition(campaign, user, "campaign.start", [S.APPROVED], S.RUNNING)
    from kepu.outreach.campaign_tasks import enqueue_campaign_run

    enqueue_campaign_run(campaign.pk, run_after=campaign.send_at)
    return campaign


def campaign_resume(*, campaign: Campaign, user: User) -> Campaign:
    """Queue the next step of a running campaign by hand (the embedded mode cannot defer tasks)."""
    _require(user, campaign)
    if campaign.status != S.RUNNING:
        raise InputError(_("活动当前状态为“{status}”，不能执行此操作。").format(status=campaign.get_status_display()))
    from kepu.outreach.campaign_tasks import enqueue_campaign_run

    enqueue_campaign_run(campaign.pk)
    return campaign


def campaign_cancel(*, campaign: Campaign, user: User) -> Campaign:
    _require(user, campaign)
    return _transition(campaign, user, "campaign.cancel", [S.DRAFT, S.APPROVED, S.RUNNING], S.CANCELLED,
                       finished_at=timezone.now())


# --- fan-out and sending -------------------------------------------------------------------------


def _table() -> str:
    return connection.ops.quote_name(Delivery._meta.db_table)


def _insert_deliveries(campaign: Campaign, rows: list[tuple[int, str]]) -> None:
    """One row per citizen, skipping those that exist (the unique key). Plain multi-row INSERTs: at
    millions of citizens the ORM's per-object work, not the database, would be the bottleneck."""
    head = f"INSERT INTO {_table()} (campaign_id, citizen_id, holdout, status, claim, error) VALUES "
    tail = " ON CONFLICT (campaign_id, citizen_id) DO NOTHING"
    chunk = max(1, min(2000, (connection.features.max_query_params or 4000) // 4))

    def insert(batch: list[tuple[int, str]]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for start in range(0, len(batch), chunk):
                params: list[Any] = []
                for citizen_id, pseudonym in batch[start:start + chunk]:
                    held = in_holdout(campaign.holdout_seed, pseudonym, campaign.holdout_share)
                    params += [campaign.pk, citizen_id, held, D.HELD if held else D.QUEUED]
                cursor.execute(head + ", ".join(["(%s, %s, %s, %s, '', '')"] * (len(params) // 4)) + tail, params)

    try:
        insert(rows)
    except IntegrityError:  # a citizen deleted their account since we read the ids
        alive = set(Citizen.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", flat=True))
        insert([r for r in rows if r[0] in alive])


def campaign_fanout(campaign_id: int, *, batch: int = FANOUT_BATCH) -> int:
    """Create the campaign's Delivery rows in batches (idempotent); returns how many targets were seen."""
    campaign = Campaign.objects.select_related("segment", "org_unit").get(pk=campaign_id)
    if campaign.fanned_out:
        return 0
    seen, last = 0, 0
    base = targets(campaign).order_by("pk")
    while True:
        rows = list(base.filter(pk__gt=last).values_list("pk", "pseudonym")[:batch])
        if not rows:
            break
        _insert_deliveries(campaign, rows)
        seen += len(rows)
        last = rows[-1][0]
    Campaign.objects.filter(pk=campaign.pk).update(fanned_out=True)
    return seen


def _claim_sql(campaign_id: int, token: str, limit: int, status: str) -> tuple[str, list[Any]]:
    """Take up to `limit` queued rows for this token in one statement, to `status`. On PostgreSQL
    the batch is chosen once in a CTE with FOR UPDATE SKIP LOCKED (an `IN (SELECT … LIMIT n)` may
    be re-evaluated by the planner and take more than n rows), so concurrent workers take disjoint
    batches without waiting; everywhere the `status = queued` condition makes a row go to one token
    only."""
    t = _table()
    now = timezone.now()
    sent_at = now if status == D.SENT else None
    if connection.features.has_select_for_update_skip_locked:
        sql = (f"WITH batch AS (SELECT id FROM {t} WHERE campaign_id = %s AND status = %s ORDER BY id LIMIT %s "
               f"FOR UPDATE SKIP LOCKED) UPDATE {t} SET status = %s, claim = %s, claimed_at = %s, sent_at = %s "
               f"FROM batch WHERE {t}.id = batch.id AND {t}.status = %s")
        return sql, [campaign_id, D.QUEUED, limit, status, token, now, sent_at, D.QUEUED]
    sql = (f"UPDATE {t} SET status = %s, claim = %s, claimed_at = %s, sent_at = %s WHERE status = %s AND id IN "
           f"(SELECT id FROM {t} WHERE campaign_id = %s AND status = %s ORDER BY id LIMIT %s)")
    return sql, [status, token, now, sent_at, D.QUEUED, campaign_id, D.QUEUED, limit]


def _claim(campaign_id: int, token: str, limit: int) -> int:
    """Take up to `limit` queued rows to "sending" for this token; returns how many were taken."""
    sql, params = _claim_sql(campaign_id, token, limit, D.SENDING)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _send_inbox(campaign: Campaign, token: str, limit: int) -> int:
    """The in-app inbox lives in our own database, so its batches need no "sending" step: one
    transaction takes up to `limit` queued rows straight to "sent" and writes their messages, and a
    crash rolls back both. The rows taken come back from the UPDATE (RETURNING), so the messages
    are written without searching the campaign's rows again. Taking the rows locks them: a citizen
    deleting their account meanwhile either waits for this commit (and removes the message with
    the delivery) or has already removed the row."""
    sql, params = _claim_sql(campaign.pk, token, limit, D.SENT)
    t = _table()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} RETURNING {t}.id, {t}.citizen_id", params)
            taken = [(int(pk), int(citizen)) for pk, citizen in cursor.fetchall()]
        InboxChannel().write(campaign, taken)
    return len(taken)


def _abandoned(campaign_id: int) -> list[tuple[int, str]]:
    """Rows left in "sending" by a worker that is gone, or for longer than a task may run."""
    stale = timezone.now() - dt.timedelta(seconds=settings.TASK_STALE_AFTER)
    out = []
    for pk, claim, at in Delivery.objects.filter(campaign_id=campaign_id, status=D.SENDING).values_list(
            "pk", "claim", "claimed_at"):
        worker = claim.rsplit("/", 1)[0]
        if _worker_state(worker) == "gone" or (at is not None and at < stale):
            out.append((pk, claim))
    return out


def _reclaim(campaign_id: int, token: str) -> int:
    now = timezone.now()
    taken = 0
    for pk, old in _abandoned(campaign_id):
        taken += Delivery.objects.filter(pk=pk, status=D.SENDING, claim=old).update(claim=token, claimed_at=now)
    return taken


def _claimed(campaign_id: int, token: str) -> QuerySet[Delivery]:
    return Delivery.objects.filter(campaign_id=campaign_id, status=D.SENDING, claim=token)


def _outgoing(campaign_id: int, token: str) -> list[Outgoing]:
    rows = _claimed(campaign_id, token).values_list("pk", "citizen_id", "citizen__pseudonym", "citizen__phone")
    return [Outgoing(*r) for r in rows]


def _record(campaign: Campaign, token: str, *, failed: dict[int, str] | None = None,
            skip: Iterable[int] = ()) -> int:
    """Mark the token's rows sent (all but `failed` ones and `skip`); returns how many were marked sent."""
    failed = failed or {}
    for pk, error in failed.items():
        _claimed(campaign.pk, token).filter(pk=pk).update(status=D.FAILED, error=error[:300])
    rest = _claimed(campaign.pk, token)
    skipped = set(skip)
    if skipped:
        rest = rest.exclude(pk__in=skipped)
    return rest.update(status=D.SENT, sent_at=timezone.now())


def _send_batch(campaign: Campaign, token: str, *, recovering: bool) -> int:
    if campaign.channel == Campaign.Channel.INBOX:
        # Only rows a worker of an earlier version left in "sending" (see _send_inbox). Marking
        # them sent locks them first, as there.
        with transaction.atomic():
            sent = _record(campaign, token)
            InboxChannel().send_claimed(campaign, token)
        return sent
    channel = channel_for(campaign.channel)
    batch = _outgoing(campaign.pk, token)
    done = channel.already_sent(campaign, batch) if recovering else set()
    todo = [o for o in batch if o.delivery_id not in done]
    errors = channel.send_many(campaign, todo) if todo else {}
    with transaction.atomic():
        return _record(campaign, token, failed=errors)


def campaign_send(campaign_id: int, *, limit: int | None = None, batch: int = SEND_BATCH,
                  worker: str | None = None) -> int:
    """Send queued deliveries in batches, up to `limit` (None: all); returns how many went out. Marks
    the campaign done once it is fanned out and nothing is queued or in flight."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != S.RUNNING:
        return 0
    worker = worker or worker_id_new()
    sent = 0
    token = f"{worker}/r{get_random_string(8)}"
    if _reclaim(campaign_id, token):
        sent += _send_batch(campaign, token, recovering=True)
    while limit is None or sent < limit:
        if not Campaign.objects.filter(pk=campaign_id, status=S.RUNNING).exists():
            break  # cancelled meanwhile
        token = f"{worker}/{get_random_string(8)}"
        size = batch if limit is None else min(batch, limit - sent)
        if campaign.channel == Campaign.Channel.INBOX:
            taken = _send_inbox(campaign, token, size)
            if not taken:
                break
            sent += taken
            continue
        if not _claim(campaign_id, token, size):
            break
        sent += _send_batch(campaign, token, recovering=False)
    _finish_if_done(campaign)
    return sent


def _finish_if_done(campaign: Campaign) -> None:
    open_rows = Delivery.objects.filter(campaign=campaign, status__in=[D.QUEUED, D.SENDING]).exists()
    if open_rows or not Campaign.objects.filter(pk=campaign.pk, fanned_out=True).exists():
        return
    with transaction.atomic():
        if Campaign.objects.filter(pk=campaign.pk, status=S.RUNNING).update(status=S.DONE, finished_at=timezone.now()):
            audit_record(actor=None, action="campaign.done", obj=campaign, org_unit=campaign.org_unit,
                         changes={"status": (S.RUNNING, S.DONE)})


def campaign_mark_started(campaign_id: int) -> None:
    Campaign.objects.filter(pk=campaign_id, started_at__isnull=True).update(started_at=timezone.now())


def campaign_remaining(campaign_id: int) -> int:
    return Delivery.objects.filter(campaign_id=campaign_id, status__in=[D.QUEUED, D.SENDING]).count()


# --- citizens ----------------------------------------------------------------------------------


def delivery_open(*, delivery: Delivery) -> bool:
    """The citizen opened the message (inbox or tracked link); recorded once, as an "open" event
    carrying the campaign id. Returns whether this call was the first open."""
    now = timezone.now()
    with transaction.atomic():
        first = bool(Delivery.objects.filter(pk=delivery.pk, status=D.SENT)
                     .update(status=D.OPENED, opened_at=now))
        InboxMessage.objects.filter(delivery=delivery, read_at__isnull=True).update(read_at=now)
        if first:
            from kepu.outreach.engagement import record

            record(delivery.citizen, "open", campaign_id=delivery.campaign_id, at=now)
    return first


def forget_citizen(citizen: Citizen) -> None:
    """Deletion hook (kepu.citizens.deletion): lock, then remove, the citizen's deliveries and inbox,
    so a sending worker either finished with them first or no longer sees them."""
    ids = list(Delivery.objects.select_for_update().filter(citizen=citizen).values_list("pk", flat=True))
    InboxMessage.objects.filter(citizen=citizen).delete()
    Delivery.objects.filter(pk__in=ids).delete()


def export_citizen(citizen: Citizen) -> dict[str, Any]:
    """The citizen's push messages for their data download (kepu.citizens.export)."""
    rows = (Delivery.objects.filter(citizen=citizen).select_related("campaign").order_by("pk"))
    return {"push_messages": [
        {"title": d.campaign.title, "message": d.campaign.message, "channel": d.campaign.channel,
         "status": d.status, "holdout": d.holdout, "sent_at": d.sent_at.isoformat() if d.sent_at else None,
         "opened_at": d.opened_at.isoformat() if d.opened_at else None}
        for d in rows]}


# --- reading -----------------------------------------------------------------------------------


@transaction.atomic
def inbox_post(*, citizen: Citizen, title: str, body: str, link: str) -> InboxMessage:
    """Put one message in one citizen's inbox, for other apps (e.g. the answer to a rumour the citizen
    reported). `link` is a page of this site; it opens when the citizen taps the message."""
    if not link.startswith("/") or link.startswith("//"):
        raise InputError(_("消息链接必须是本站页面"))
    return InboxMessage.objects.create(citizen=citizen, title=title[:100], body=body[:500], link=link[:300],
                                       created_at=timezone.now())


def campaign_stats(campaign: Campaign) -> dict[str, int]:
    counts = dict.fromkeys(D.values, 0)
    for row in Delivery.objects.filter(campaign=campaign).values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    counts["targeted"] = sum(counts.values())
    counts["treated"] = counts["targeted"] - counts[D.HELD]
    return counts


def campaigns_visible(user: User) -> QuerySet[Campaign]:
    return (Campaign.objects.filter(scope_for(user).unit_filter("org_unit__", roles=CAMPAIGN_ROLES))
            .select_related("org_unit", "segment", "created_by", "approved_by"))


def segments_for(user: User) -> QuerySet[Segment]:
    """Saved segments the user may send to: those owned by a unit they run campaigns for, or above it."""
    units = list(campaign_units(user))
    if not units:
        return Segment.objects.none()
    ids = [s.pk for s in Segment.objects.select_related("org_unit")
           if any(s.org_unit.path.startswith(u.path) or u.path.startswith(s.org_unit.path) for u in units)]
    return Segment.objects.filter(pk__in=ids).select_related("org_unit").order_by("name_zh")
