"""The channels a campaign sends through, behind one interface.

- inbox: real. A message in the citizen's in-app inbox (/me/inbox/), written in the same transaction
  that marks the delivery sent, so it exists exactly when the delivery says "sent".
- sms, wechat: adapters. In development they append one JSON line per message to
  `<outbox>/sms.jsonl` / `<outbox>/wechat.jsonl` (the outbox directory of kepu.core.mail); a
  production gateway adapter replaces `_write` and keeps the same contract. Every line carries the
  delivery id as an idempotency key (as real SMS and WeChat gateways accept a client message id), so
  a delivery whose worker died between sending and recording can be checked (`already_sent`) instead
  of being sent twice.

`send(delivery)` sends one; the fan-out uses `channel_for(name).send_many(...)` for batches."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.outreach.campaign_models import Campaign, Delivery, InboxMessage


class ChannelError(Exception):
    """This delivery cannot go through this channel (no phone number, gateway refused, …)."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs to know about one delivery (read in bulk, without model instances)."""

    delivery_id: int
    citizen_id: int
    pseudonym: str
    phone: str


class Channel(Protocol):

    def send_many(self, campaign: Campaign, batch: Sequence[Outgoing]) -> dict[int, str]:
        """Send a batch; returns {delivery id: error} for those that failed (the rest went out)."""

    def already_sent(self, campaign: Campaign, batch: Sequence[Outgoing]) -> set[int]:
        """The delivery ids of the batch this channel has already sent (for recovery)."""


def tracked_link(delivery_id: int) -> str:
    return f"{getattr(settings, 'KEPU_PUBLIC_URL', '').rstrip('/')}{reverse('outreach_inbox:open', args=[delivery_id])}"


class InboxChannel:
    def send_claimed(self, campaign: Campaign, token: str) -> None:
        """The campaign's fan-out path: one INSERT … SELECT for the batch a worker has claimed and
        marked sent in the same transaction (kepu.outreach.campaigns); no row goes through Python."""
        inbox, delivery = (connection.ops.quote_name(m._meta.db_table) for m in (InboxMessage, Delivery))
        sql = (f"INSERT INTO {inbox} (citizen_id, delivery_id, title, body, created_at) "
               f"SELECT citizen_id, id, %s, %s, %s FROM {delivery} WHERE campaign_id = %s AND claim = %s "
               "ON CONFLICT (delivery_id) DO NOTHING")
        with connection.cursor() as cursor:
            cursor.execute(sql, [campaign.title, campaign.message, timezone.now(), campaign.pk, token])

    def write(self, campaign: Campaign, rows: Sequence[tuple[int, int]]) -> None:
        """Messages for (delivery id, citizen id) rows, by multi-row INSERTs (the fan-out path: at
        a campaign's size the ORM's per-object work would be the bottleneck). Must run inside the
        transaction that marks those deliveries sent (kepu.outreach.campaigns)."""
        inbox = connection.ops.quote_name(InboxMessage._meta.db_table)
        head = f"INSERT INTO {inbox} (citizen_id, delivery_id, title, body, created_at, read_at) VALUES "
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        chunk = max(1, min(1000, (connection.features.max_query_params or 5000) // 5))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), chunk):
                part = rows[start:start + chunk]
                params = [v for delivery_id, citizen_id in part
                          for v in (citizen_id, delivery_id, campaign.title, campaign.message, now)]
                values = ", ".join(["(%s, %s, %s, %s, %s, NULL)"] * len(part))
                cursor.execute(head + values + " ON CONFLICT (delivery_id) DO NOTHING", params)

    def send_many(self, campaign: Campaign, batch: Sequence[Outgoing]) -> dict[int, str]:
        """Must run inside the transaction that marks the batch sent (kepu.outreach.campaigns)."""
        now = timezone.now()
        InboxMessage.objects.bulk_create(
            [InboxMessage(citizen_id=o.citizen_id, delivery_id=o.delivery_id, title=campaign.title,
                          body=campaign.message, created_at=now) for o in batch],
            ignore_conflicts=True,  # one message per delivery (unique), whatever happens
        )
        return {}

    def already_sent(self, campaign: Campaign, batch: Sequence[Outgoing]) -> set[int]:
        ids = [o.delivery_id for o in batch]
        return set(InboxMessage.objects.filter(delivery_id__in=ids).values_list("delivery_id", flat=True))


def outbox_dir() -> Path:
    return Path(getattr(settings, "KEPU_OUTBOX_DIR", None) or Path(settings.DATA_DIR) / "outbox")


class FileOutboxChannel:
    """Development stand-in for a gateway: one JSON line per message, appended under a file lock."""

    name = ""  # the outbox file's stem

    @property
    def path(self) -> Path:
        return outbox_dir() / f"{self.name}.jsonl"

    def line(self, campaign: Campaign, o: Outgoing) -> dict[str, object]:
        raise NotImplementedError

    def check(self, o: Outgoing) -> str:
        return ""

    def send_many(self, campaign: Campaign, batch: Sequence[Outgoing]) -> dict[int, str]:
        errors: dict[int, str] = {}
        lines: list[str] = []
        for o in batch:
            problem = self.check(o)
            if problem:
                errors[o.delivery_id] = problem
            else:
                lines.append(json.dumps(self.line(campaign, o), ensure_ascii=False))
        if lines:
            self._write(lines)
        return errors

    def _write(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(lines) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
            os.fsync(fd)  # on disk before the delivery is recorded as sent
        finally:
            os.close(fd)

    def sent_ids(self) -> set[int]:
        if not self.path.exists():
            return set()
        ids: set[int] = set()
        with self.path.open(encoding="utf-8") as f:
            for raw in f:
                try:
                    ids.add(int(json.loads(raw)["delivery"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line of a killed writer was never a sent message
        return ids

    def already_sent(self, campaign: Campaign, batch: Sequence[Outgoing]) -> set[int]:
        return self.sent_ids() & {o.delivery_id for o in batch}


class SmsChannel(FileOutboxChannel):
    name = Campaign.Channel.SMS

    def check(self, o: Outgoing) -> str:
        return "" if o.phone else _("没有手机号，无法发送短信。")

    def line(self, campaign: Campaign, o: Outgoing) -> dict[str, object]:
        return {"delivery": o.delivery_id, "campaign": campaign.pk, "to": o.phone,
                "text": f"{campaign.title}:{campaign.message} {tracked_link(o.delivery_id)}",
                "at": timezone.now().isoformat()}


class WechatChannel(FileOutboxChannel):
    name = Campaign.Channel.WECHAT

    def line(self, campaign: Campaign, o: Outgoing) -> dict[str, object]:
        # The pseudonym stands in for the citizen's openid, which a real integration would store.
        return {"delivery": o.delivery_id, "campaign": campaign.pk, "touser": o.pseudonym,
                "template_id": "kepu_push", "url": tracked_link(o.delivery_id),
                "data": {"first": {"value": campaign.title}, "remark": {"value": campaign.message}},
                "at": timezone.now().isoformat()}


CHANNELS: dict[str, Channel] = {
    Campaign.Channel.INBOX: InboxChannel(),
    Campaign.Channel.SMS: SmsChannel(),
    Campaign.Channel.WECHAT: WechatChannel(),
}


def channel_for(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise ChannelError(_("未知的推送渠道：{name}。").format(name=name)) from None


def send(delivery: Delivery) -> None:
    """Send one delivery through its campaign's channel; ChannelError when it cannot go out."""
    citizen = delivery.citizen
    out = Outgoing(delivery.pk, citizen.pk, citizen.pseudonym, citizen.phone)
    errors = channel_for(delivery.campaign.channel).send_many(delivery.campaign, [out])
    if errors:
        raise ChannelError(errors[delivery.pk])
