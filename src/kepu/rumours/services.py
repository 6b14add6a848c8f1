"""Writes of the rumours app: claim intake (sanitised, deduplicated, flood-absorbing), partners, and
the debunk workflow (triage → assign an expert → draft → review → publish → correct).

Refusals that matter (publishing without review, a silent edit of a published verdict, a partner
claim outside the partner's region) are audited before the error is raised, outside the refused
transaction, so the audit entry stays."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core import pii, ratelimit
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.plans.derived import ancestor_at
from kepu.rumours.models import (
    MAX_CLAIM_CHARS,
    TOPIC_LABELS,
    Claim,
    ClaimReport,
    Debunk,
    DebunkNotice,
    DebunkRevision,
    Partner,
    Verdict,
)
from kepu.rumours.normalise import normalise

# Who enters claims, triages and assigns (within their units).
MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.EDITOR, Role.DISTRICT_REPORTER)
# Who may review and publish a debunk (besides another talent-pool expert), and correct it.
REVIEW_ROLES = (Role.OFFICE_ADMIN, Role.EDITOR, Role.REVIEWER)

FLOOD_WINDOW = dt.timedelta(hours=24)  # same text from the same sender within this: absorbed
FORM_PER_CLIENT_HOUR = 10
FORM_PER_CITIZEN_DAY = 30
PARTNER_PER_HOUR = 2000
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# -- text ------------------------------------------------------------------------------------

def clean_text(raw: str, *, field: str, limit: int = MAX_CLAIM_CHARS, required: bool = True) -> str:
    """Plain text from what someone typed or forwarded: HTML dropped (script and style with their
    content), entities decoded, zero-width and control characters removed, whitespace tidied."""
    text = html.unescape(nh3.clean(str(raw or ""), tags=set()))
    text = unicodedata.normalize("NFC", text)
    text = CONTROL.sub("", ZERO_WIDTH.sub("", text)).replace("\r\n", "\n")
    text = re.sub(r"[ \t]+", " ", text).strip()
    if required and not text:
        raise InputError(_("%(field)s：必填，不能只有符号或格式。") % {"field": field})
    if len(text) > limit:
        raise InputError(_("%(field)s：最多 %(limit)s 个字，现在有 %(n)s 个字。")
                         % {"field": field, "limit": limit, "n": len(text)})
    return text


def text_key(normalised: str) -> str:
    return hashlib.sha256(normalised.encode()).hexdigest()


def _claim_unit(org_unit: OrgUnit | None) -> tuple[OrgUnit, OrgUnit]:
    if org_unit is None:
        raise InputError(_("所属地区：请选择辖市（区）。"))
    district = ancestor_at(org_unit, OrgUnit.Level.DISTRICT)
    if district is None:
        raise InputError(_("所属地区：%(name)s 不是辖市（区）或其下的镇（街道），请选择具体的辖市（区）。")
                         % {"name": org_unit.name_zh})
    return org_unit, district


def _topic(topic: str) -> str:
    topic = (topic or "").strip()
    if topic and topic not in TOPIC_LABELS:
        raise InputError(_("主题：%(value)s 不是可选的主题。") % {"value": topic[:40]})
    return topic


# -- rate limits ------------------------------------------------------------------------------

def form_allowed(*, client: str, citizen: Any | None) -> bool:
    """The public form's limits: per client (network) an hour and per citizen account a day."""
    if not ratelimit.hit("rumour-form", client or "none", limit=FORM_PER_CLIENT_HOUR, window=3600):
        return False
    return citizen is None or ratelimit.hit("rumour-citizen", f"c{citizen.pk}", limit=FORM_PER_CITIZEN_DAY,
                                            window=ratelimit.DAY)


def partner_allowed(partner: Partner) -> bool:
    return ratelimit.hit("rumour-partner", f"p{partner.pk}", limit=PARTNER_PER_HOUR, window=3600)


# -- intake ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Intake:
    claim: Claim
    created: bool  # a new wording (a new Claim row)
    absorbed: bool  # a repeat from the same sender within the flood window: counted, not reported again


@transaction.atomic
def claim_submit(
    *,
    text: str,
    source: str,
    org_unit: OrgUnit | None,
    media: str = "",
    topic: str = "",
    citizen: Any | None = None,
    partner: Partner | None = None,
    actor: User | None = None,
    client: str = "",
    received_at: dt.datetime | None = None,
) -> Intake:
    """Take one claim. The same normalised text in the same district is counted on the existing claim
    (a report per arrival); from the same sender (client key or citizen) within FLOOD_WINDOW it is only
    absorbed into `absorbed_count`. A new wording is clustered and matched by a task after commit."""
    if source not in Claim.Source.values:
        raise InputError(_("来源：%(value)s 不是可选的来源。") % {"value": str(source)[:20]})
    clean = clean_text(text, field=_("谣言内容"))
    media = clean_text(media, field=_("传播渠道"), limit=60, required=False)
    topic = _topic(topic)
    unit, district = _claim_unit(org_unit)
    now = received_at or timezone.now()
    norm = normalise(clean)
    key = text_key(norm)
    existing = Claim.objects.select_for_update().filter(district=district, text_key=key).first()
    if existing is not None:
        repeats = ClaimReport.objects.filter(claim=existing, received_at__gte=now - FLOOD_WINDOW)
        same_sender = (citizen is not None and repeats.filter(citizen=citizen).exists()) or (
            bool(client) and repeats.filter(client=client).exists()) or (
            partner is None and citizen is None and actor is not None and existing.entered_by_id == actor.pk
            and repeats.exists())
        if same_sender:
            Claim.objects.filter(pk=existing.pk).update(absorbed_count=F("absorbed_count") + 1)
            existing.refresh_from_db()
            return Intake(claim=existing, created=False, absorbed=True)
        ClaimReport.objects.create(claim=existing, received_at=now, source=source, citizen=citizen, partner=partner,
                                   client=client)
        Claim.objects.filter(pk=existing.pk).update(dup_count=F("dup_count") + 1, last_seen_at=now)
        existing.refresh_from_db()
        if citizen is not None and existing.debunk is not None and existing.debunk.is_public:
            notify_citizens(debunk=existing.debunk, citizens=[citizen])
        return Intake(claim=existing, created=False, absorbed=False)
    claim = Claim.objects.create(
        text=clean, normalised=norm, text_key=key, source=source, org_unit=unit, district=district,
        received_at=now, last_seen_at=now, media=media, topic=topic, citizen=citizen, partner=partner,
        entered_by=actor if source == Claim.Source.EDITOR else None,
    )
    Claim.objects.filter(pk=claim.pk).update(cluster_key=f"c{claim.pk}")
    claim.cluster_key = f"c{claim.pk}"
    ClaimReport.objects.create(claim=claim, received_at=now, source=source, citizen=citizen, partner=partner,
                               client=client)
    audit_record(actor=actor, action="rumours.claim_submit", obj=claim, org_unit=district,
                 changes={"source": (None, source)}, label=clean[:60])
    from kepu.rumours.tasks import process_claim

    transaction.on_commit(lambda: process_claim.enqueue(claim.pk))
    return Intake(claim=claim, created=True, absorbed=False)


def claim_enter(*, actor: User, text: str, org_unit: OrgUnit, media: str = "", topic: str = "",
                received_at: dt.datetime | None = None) -> Intake:
    """An editor (or office/district officer) enters a claim seen elsewhere, within their units."""
    if not scope_for(actor).covers(org_unit, MANAGE_ROLES):
        raise PermissionDenied(_("您无权为该地区录入谣言线索。"))
    return claim_submit(text=text, source=Claim.Source.EDITOR, org_unit=org_unit, media=media, topic=topic,
                        actor=actor, received_at=received_at)


def partner_claim(*, partner: Partner, text: str, region_code: str, media: str = "", topic: str = "",
                  received_at: dt.datetime | None = None) -> Intake:
    """A claim forwarded by a partner platform. A region outside the partner's own is refused (audited)."""
    unit = OrgUnit.objects.filter(code=str(region_code or "")[:32]).first()
    if unit is None:
        raise InputError(_("region：没有编码为 %(code)s 的地区。") % {"code": str(region_code)[:32]})
    if not unit.path.startswith(partner.org_unit.path):
        audit_record(actor=None, action="rumours.partner_region_refused", obj=partner, org_unit=partner.org_unit,
                     comment=f"region {unit.code}", label=partner.name)
        raise PermissionDenied(_("该合作平台只能报送本地区（%(own)s）的线索，不能报送 %(other)s 的线索。")
                               % {"own": partner.org_unit.name_zh, "other": unit.name_zh})
    return claim_submit(text=text, source=Claim.Source.PARTNER, org_unit=unit, media=media, topic=topic,
                        partner=partner, received_at=received_at)


def _in_scope(actor: User, claim: Claim, roles: Sequence[str] = MANAGE_ROLES) -> None:
    if not scope_for(actor).covers(claim.district, roles):
        raise PermissionDenied(_("您无权处理该地区的谣言线索。"))


@transaction.atomic
def claim_dismiss(*, actor: User, claim: Claim, reason: str = "") -> Claim:
    _in_scope(actor, claim)
    old = claim.status
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.DISMISSED)
    claim.status = Claim.Status.DISMISSED
    audit_record(actor=actor, action="rumours.claim_dismiss", obj=claim, org_unit=claim.district,
                 changes={"status": (old, claim.status)}, comment=reason[:300], label=claim.text[:60])
    return claim


# -- clustering and matching (run by tasks) ------------------------------------------------------

CLUSTER_REPRESENTATIVES = 300


def claim_process(*, claim_id: int) -> Claim | None:
    """Cluster a new claim with recent ones and match it against published debunks. Idempotent."""
    from kepu.rumours import matcher

    claim = Claim.objects.filter(pk=claim_id).first()
    if claim is None:
        return None
    since = claim.received_at - dt.timedelta(days=90)
    reps: dict[str, str] = {}
    # Only earlier claims define clusters, so the result does not depend on the order tasks run in.
    for key, norm in (Claim.objects.filter(received_at__gte=since, pk__lt=claim.pk)
                      .order_by("-last_seen_at")
                      .values_list("cluster_key", "normalised")[:5 * CLUSTER_REPRESENTATIVES]):
        if key not in reps:
            reps[key] = norm
        if len(reps) >= CLUSTER_REPRESENTATIVES:
            break
    keys = list(reps)
    cluster_key = claim.cluster_key or f"c{claim.pk}"
    if keys:
        labels = matcher.cluster_texts([claim.normalised, *(reps[k] for k in keys)])
        same = [k for k, label in zip(keys, labels[1:], strict=True) if label == labels[0]]
        if same:
            cluster_key = same[0]
    debunks = list(Debunk.objects.filter(status__in=[Debunk.Status.PUBLISHED, Debunk.Status.CORRECTED])
                   .values_list("pk", "claim_text"))
    found: Debunk | None = None
    confidence: float | None = None
    if debunks and claim.debunk_id is None:
        result = matcher.match_claims(debunks=[(str(pk), text) for pk, text in debunks],
                                      claims=[(str(claim.pk), claim.normalised)])[0]
        if result.match is not None:
            found = Debunk.objects.filter(pk=int(result.match)).first()
            confidence = float(result.confidence)
    if found is None and claim.debunk_id is None:
        mate = (Claim.objects.filter(cluster_key=cluster_key, debunk__status__in=[Debunk.Status.PUBLISHED,
                                                                                  Debunk.Status.CORRECTED])
                .exclude(pk=claim.pk).select_related("debunk").order_by("-confidence").first())
        if mate is not None:
            found, confidence = mate.debunk, mate.confidence
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        claim.cluster_key = cluster_key
        claim.processed = True
        fields = ["cluster_key", "processed"]
        if found is not None and claim.debunk_id is None:
            claim.debunk, claim.confidence = found, confidence
            claim.status, claim.answered_at = Claim.Status.ANSWERED, timezone.now()
            fields += ["debunk", "confidence", "status", "answered_at"]
        claim.save(update_fields=fields)
        if found is not None and claim.debunk_id == found.pk:
            audit_record(actor=None, action="rumours.claim_match", obj=claim, org_unit=claim.district,
                         changes={"debunk": (None, found.pk)}, comment=f"confidence {confidence}",
                         label=claim.text[:60])
            _notify_claims(found, [claim.pk])
            _publish_indicator(claim.answered_at or timezone.now())
    return claim


def debunk_match_open(*, debunk_id: int) -> int:
    """After a debunk is published: match the open claims of the last 90 days against it, answer those
    it matches (and their cluster mates) and tell their citizens. Idempotent."""
    from kepu.rumours import matcher

    debunk = Debunk.objects.filter(pk=debunk_id).first()
    if debunk is None or not debunk.is_public:
        return 0
    since = timezone.now() - dt.timedelta(days=90)
    open_claims = list(Claim.objects.filter(debunk__isnull=True, received_at__gte=since)
                       .exclude(status=Claim.Status.DISMISSED).values_list("pk", "normalised")[:3000])
    hits: dict[int, float] = {}
    if open_claims:
        # Against every published debunk, not this one alone: a claim goes to the debunk it matches best,
        # and the matcher's margin rule has rivals to weigh this one against.
        published = list(Debunk.objects.filter(status__in=[Debunk.Status.PUBLISHED, Debunk.Status.CORRECTED])
                         .values_list("pk", "claim_text"))
        results = matcher.match_claims(debunks=[(str(pk), text) for pk, text in published],
                                       claims=[(str(pk), norm) for pk, norm in open_claims])
        hits = {int(r.id): float(r.confidence) for r in results if r.match == str(debunk.pk)}
    linked = set(Claim.objects.filter(debunk=debunk).values_list("cluster_key", flat=True))
    for pk in Claim.objects.filter(debunk__isnull=True, cluster_key__in=linked).exclude(
            status=Claim.Status.DISMISSED).values_list("pk", flat=True):
        hits.setdefault(pk, 1.0)
    now = timezone.now()
    with transaction.atomic():
        for pk, conf in hits.items():
            Claim.objects.filter(pk=pk, debunk__isnull=True).update(
                debunk=debunk, confidence=conf, status=Claim.Status.ANSWERED, answered_at=now)
        answered = list(Claim.objects.filter(debunk=debunk).values_list("pk", flat=True))
        _notify_claims(debunk, answered)
        _publish_indicator(now)
    return len(hits)


# -- notices -----------------------------------------------------------------------------------

def _notify_claims(debunk: Debunk, claim_ids: Iterable[int]) -> int:
    ids = list(claim_ids)
    citizens: dict[int, Any] = {}
    for report in ClaimReport.objects.filter(claim_id__in=ids, citizen__isnull=False).select_related("citizen"):
        if report.citizen_id is not None:
            citizens.setdefault(report.citizen_id, report.citizen)
    return notify_citizens(debunk=debunk, citizens=[citizens[k] for k in sorted(citizens)])


def notify_citizens(*, debunk: Debunk, citizens: Iterable[Any]) -> int:
    """Post the answer into each citizen's inbox, exactly once per citizen and debunk."""
    from kepu.outreach.campaigns import inbox_post

    sent = 0
    for citizen in citizens:
        with transaction.atomic():
            _notice, created = DebunkNotice.objects.get_or_create(debunk=debunk, citizen=citizen)
            if not created:
                continue
            inbox_post(citizen=citizen, title=_("您反映的说法有答复了"),
                       body=_("【%(verdict)s】%(title)s") % {"verdict": debunk.get_verdict_display(),
                                                            "title": debunk.title},
                       link=f"/me/rumours/{debunk.pk}/")
            sent += 1
    return sent


def _publish_indicator(when: dt.datetime) -> None:
    from kepu.rumours.indicators import response_publish

    response_publish(year=timezone.localtime(when).year)


# -- partners --------------------------------------------------------------------------------

def partner_token_key(token: str) -> str:
    return pii.match_key("rumours-partner-token", token)


@transaction.atomic
def partner_create(*, actor: User, name: str, org_unit: OrgUnit) -> tuple[Partner, str]:
    """A partner platform and its bearer token (returned once; only a keyed hash is kept)."""
    if not scope_for(actor).covers(org_unit, (Role.OFFICE_ADMIN,)):
        raise PermissionDenied(_("只有领导小组办公室管理员可以登记合作平台。"))
    name = clean_text(name, field=_("平台名称"), limit=100)
    token = "rp_" + secrets.token_urlsafe(32)
    partner = Partner.objects.create(name=name, org_unit=org_unit, token_key=partner_token_key(token),
                                     token_hint=token[-4:])
    audit_record(actor=actor, action="rumours.partner_create", obj=partner, org_unit=org_unit)
    return partner, token


def partner_for_token(token: str) -> Partner | None:
    if not token:
        return None
    return Partner.objects.select_related("org_unit").filter(token_key=partner_token_key(token), active=True).first()


@transaction.atomic
def partner_deactivate(*, actor: User, partner: Partner) -> Partner:
    if not scope_for(actor).covers(partner.org_unit, (Role.OFFICE_ADMIN,)):
        raise PermissionDenied(_("只有领导小组办公室管理员可以停用合作平台。"))
    Partner.objects.filter(pk=partner.pk).update(active=False)
    audit_record(actor=actor, action="rumours.partner_deactivate", obj=partner, org_unit=partner.org_unit,
                 changes={"active": (True, False)})
    partner.active = False
    return partner


# -- debunk workflow -----------------------------------------------------------------------------

def _manages(actor: User, debunk: Debunk) -> bool:
    return scope_for(actor).covers(debunk.org_unit, MANAGE_ROLES)


def _may_review(actor: User, debunk: Debunk) -> bool:
    from kepu.community.selectors import expert_profile

    return scope_for(actor).covers(debunk.org_unit, REVIEW_ROLES) or expert_profile(actor) is not None


@transaction.atomic
def debunk_open(*, actor: User, claims: Sequence[Claim], title: str = "", org_unit: OrgUnit | None = None) -> Debunk:
    """Triage: start a debunk for one or more claims (the first claim's wording is the claim answered)."""
    if not claims:
        raise InputError(_("请至少选择一条谣言线索。"))
    for c in claims:
        _in_scope(actor, c)
        if c.debunk_id is not None:
            raise InputError(_("线索“%(text)s”已有辟谣。") % {"text": c.text[:30]})
    unit = org_unit or claims[0].district
    if not scope_for(actor).covers(unit, MANAGE_ROLES):
        raise PermissionDenied(_("您无权为该地区创建辟谣。"))
    first = claims[0]
    debunk = Debunk.objects.create(
        title=clean_text(title or first.text[:80], field=_("标题"), limit=200), claim_text=first.text,
        topic=first.topic, org_unit=unit, created_by=actor,
    )
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(debunk=debunk, status=Claim.Status.TRIAGED,
                                                               confidence=1.0)
    audit_record(actor=actor, action="rumours.debunk_open", obj=debunk, org_unit=unit,
                 changes={"claims": (None, [c.pk for c in claims])})
    return debunk


@transaction.atomic
def debunk_assign(*, actor: User, debunk: Debunk, expert: User) -> Debunk:
    from kepu.community.selectors import expert_profile

    if not _manages(actor, debunk):
        raise PermissionDenied(_("您无权分派该辟谣。"))
    if debunk.status not in (Debunk.Status.TRIAGE, Debunk.Status.ASSIGNED, Debunk.Status.DRAFT):
        raise InputError(_("该辟谣已送审或已发布，不能再更换专家。"))
    if expert_profile(expert) is None:
        raise InputError(_("专家：%(name)s 不是专家库中的在库专家。") % {"name": expert.get_username()})
    old = debunk.expert_id
    debunk.expert = expert
    if debunk.status == Debunk.Status.TRIAGE:
        debunk.status = Debunk.Status.ASSIGNED
    debunk.save(update_fields=["expert", "status"])
    audit_record(actor=actor, action="rumours.debunk_assign", obj=debunk, org_unit=debunk.org_unit,
                 changes={"expert": (old, expert.pk)})
    return debunk


def _sources(raw: Any) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    items = raw if isinstance(raw, list) else []
    for i, item in enumerate(items[:20], start=1):
        url = str((item or {}).get("url", "")).strip() if isinstance(item, dict) else ""
        title = str((item or {}).get("title", "")).strip() if isinstance(item, dict) else ""
        if not url and not title:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            raise InputError(_("来源第 %(n)s 条：网址必须以 http:// 或 https:// 开头。") % {"n": i})
        out.append({"url": url, "title": clean_text(title or url, field=_("来源标题"), limit=200)})
    return out


def parse_sources(text: str) -> list[dict[str, str]]:
    """Sources typed one a line as "标题 网址" (or just the address)."""
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        match = re.search(r"(https?://\S+)", line)
        url = match.group(1) if match else line
        title = line.replace(url, "").strip(" ：:-|") if match else ""
        rows.append({"url": url, "title": title or url})
    return _sources(rows)


def _refuse(actor: User | None, action: str, debunk: Debunk, message: str) -> None:
    audit_record(actor=actor, action=action, obj=debunk, org_unit=debunk.org_unit, comment=message)
    raise PermissionDenied(message)


def debunk_draft_save(*, actor: User, debunk: Debunk, title: str, claim_text: str, verdict: str, explanation: str,
                      evidence: str = "", sources: Any = (), topic: str = "") -> Debunk:
    """The assigned expert (or a manager) writes the draft. A published debunk is never edited here:
    that attempt is refused and audited (a change goes through `debunk_correct`)."""
    debunk.refresh_from_db()
    if debunk.is_public:
        _refuse(actor, "rumours.silent_edit_refused", debunk,
                _("已发布的辟谣不能直接修改；请使用“更正”，并写明更正说明。"))
    if not (debunk.expert_id == actor.pk or _manages(actor, debunk)):
        raise PermissionDenied(_("只有分派的专家可以撰写该辟谣。"))
    return _draft_save(actor=actor, debunk=debunk, title=title, claim_text=claim_text, verdict=verdict,
                       explanation=explanation, evidence=evidence, sources=sources, topic=topic)


@transaction.atomic
def _draft_save(*, actor: User, debunk: Debunk, title: str, claim_text: str, verdict: str, explanation: str,
                evidence: str, sources: Any, topic: str) -> Debunk:
    debunk = Debunk.objects.select_for_update().get(pk=debunk.pk)
    if debunk.status not in (Debunk.Status.ASSIGNED, Debunk.Status.DRAFT, Debunk.Status.TRIAGE):
        raise InputError(_("该辟谣正在审核，不能修改；请等审核退回。"))
    if verdict and verdict not in Verdict.values:
        raise InputError(_("结论：%(value)s 不是可选的结论。") % {"value": str(verdict)[:20]})
    data = {
        "title": clean_text(title, field=_("标题"), limit=200),
        "claim_text": clean_text(claim_text, field=_("被核查的说法")),
        "verdict": verdict or "",
        "explanation": clean_text(explanation, field=_("解读"), limit=5000, required=False),
        "evidence": clean_text(evidence, field=_("证据"), limit=5000, required=False),
        "sources": _sources(list(sources)),
        "topic": _topic(topic),
    }
    changes = {k: (getattr(debunk, k), v) for k, v in data.items() if getattr(debunk, k) != v}
    for k, v in data.items():
        setattr(debunk, k, v)
    if debunk.status == Debunk.Status.ASSIGNED:
        changes["status"] = (debunk.status, Debunk.Status.DRAFT)
        debunk.status = Debunk.Status.DRAFT
    debunk.save()
    audit_record(actor=actor, action="rumours.debunk_draft", obj=debunk, org_unit=debunk.org_unit, changes=changes)
    return debunk


@transaction.atomic
def debunk_submit(*, actor: User, debunk: Debunk) -> Debunk:
    debunk = Debunk.objects.select_for_update().get(pk=debunk.pk)
    if not (debunk.expert_id == actor.pk or _manages(actor, debunk)):
        raise PermissionDenied(_("只有分派的专家可以提交该辟谣。"))
    if debunk.status not in (Debunk.Status.DRAFT, Debunk.Status.ASSIGNED):
        raise InputError(_("只有撰写中的辟谣可以送审。"))
    missing = [name for name, ok in ((_("结论"), bool(debunk.verdict)), (_("解读"), bool(debunk.explanation)),
                                     (_("来源"), bool(debunk.sources))) if not ok]
    if missing:
        raise InputError(_("送审前请填写：%(fields)s。") % {"fields": "、".join(str(m) for m in missing)})
    debunk.status, debunk.author, debunk.review_comment = Debunk.Status.IN_REVIEW, actor, ""
    debunk.save(update_fields=["status", "author", "review_comment"])
    audit_record(actor=actor, action="rumours.debunk_submit", obj=debunk, org_unit=debunk.org_unit,
                 changes={"status": (Debunk.Status.DRAFT, Debunk.Status.IN_REVIEW)})
    return debunk


def _review_refusal(actor: User, debunk: Debunk) -> str | None:
    if debunk.status != Debunk.Status.IN_REVIEW:
        return _("只有送审并经他人审核的辟谣才能发布；该辟谣尚未送审。")
    if actor.pk in (debunk.author_id, debunk.expert_id):
        return _("不能审核发布自己撰写的辟谣，请由另一位审核人发布。")
    if not _may_review(actor, debunk):
        return _("您无权审核该辟谣。")
    return None


def debunk_return(*, actor: User, debunk: Debunk, comment: str) -> Debunk:
    debunk.refresh_from_db()
    refusal = _review_refusal(actor, debunk)
    if refusal:
        raise PermissionDenied(refusal)
    return _return(actor=actor, debunk=debunk, comment=clean_text(comment, field=_("退回意见"), limit=500))


@transaction.atomic
def _return(*, actor: User, debunk: Debunk, comment: str) -> Debunk:
    debunk.status, debunk.review_comment = Debunk.Status.DRAFT, comment
    debunk.save(update_fields=["status", "review_comment"])
    audit_record(actor=actor, action="rumours.debunk_return", obj=debunk, org_unit=debunk.org_unit,
                 changes={"status": (Debunk.Status.IN_REVIEW, Debunk.Status.DRAFT)}, comment=comment)
    return debunk


def debunk_publish(*, actor: User, debunk: Debunk) -> Debunk:
    """The reviewer (not the author or assigned expert) publishes a debunk that is in review. Anything
    else — publishing a draft, or one's own — is refused and audited."""
    debunk.refresh_from_db()
    refusal = _review_refusal(actor, debunk)
    if refusal:
        _refuse(actor, "rumours.publish_refused", debunk, refusal)
    return _publish(actor=actor, debunk=debunk)


@transaction.atomic
def _publish(*, actor: User, debunk: Debunk) -> Debunk:
    debunk = Debunk.objects.select_for_update().get(pk=debunk.pk)
    now = timezone.now()
    debunk.status, debunk.reviewer, debunk.published_at = Debunk.Status.PUBLISHED, actor, now
    debunk.save(update_fields=["status", "reviewer", "published_at"])
    Claim.objects.filter(debunk=debunk).exclude(status=Claim.Status.DISMISSED).update(
        status=Claim.Status.ANSWERED, answered_at=now)
    audit_record(actor=actor, action="rumours.debunk_publish", obj=debunk, org_unit=debunk.org_unit,
                 changes={"status": (Debunk.Status.IN_REVIEW, Debunk.Status.PUBLISHED),
                          "verdict": (None, debunk.verdict)})
    _notify_claims(debunk, list(Claim.objects.filter(debunk=debunk).values_list("pk", flat=True)))
    _publish_indicator(now)
    from kepu.rumours.tasks import match_open_claims

    transaction.on_commit(lambda: match_open_claims.enqueue(debunk.pk))
    return debunk


def debunk_correct(*, actor: User, debunk: Debunk, note: str, verdict: str | None = None,
                   explanation: str | None = None, evidence: str | None = None, sources: Any = None) -> Debunk:
    """Change a published debunk in the open: a revision records old → new and a public 更正 note.
    Without a note the change is a silent edit, refused and audited."""
    debunk.refresh_from_db()
    if not debunk.is_public:
        raise InputError(_("只有已发布的辟谣需要更正；草稿请直接修改。"))
    if not scope_for(actor).covers(debunk.org_unit, REVIEW_ROLES):
        raise PermissionDenied(_("只有编辑、审核员或办公室管理员可以更正已发布的辟谣。"))
    if not str(note or "").strip():
        _refuse(actor, "rumours.silent_edit_refused", debunk, _("更正已发布的辟谣必须写明更正说明，说明会公开显示。"))
    return _correct(actor=actor, debunk=debunk, note=clean_text(note, field=_("更正说明"), limit=500),
                    verdict=verdict, explanation=explanation, evidence=evidence, sources=sources)


@transaction.atomic
def _correct(*, actor: User, debunk: Debunk, note: str, verdict: str | None, explanation: str | None,
             evidence: str | None, sources: Any) -> Debunk:
    debunk = Debunk.objects.select_for_update().get(pk=debunk.pk)
    data: dict[str, Any] = {}
    if verdict is not None:
        if verdict not in Verdict.values:
            raise InputError(_("结论：%(value)s 不是可选的结论。") % {"value": str(verdict)[:20]})
        data["verdict"] = verdict
    if explanation is not None:
        data["explanation"] = clean_text(explanation, field=_("解读"), limit=5000)
    if evidence is not None:
        data["evidence"] = clean_text(evidence, field=_("证据"), limit=5000, required=False)
    if sources is not None:
        data["sources"] = _sources(list(sources))
    changes = {k: (getattr(debunk, k), v) for k, v in data.items() if getattr(debunk, k) != v}
    if not changes:
        raise InputError(_("没有需要更正的内容。"))
    for k, v in data.items():
        setattr(debunk, k, v)
    debunk.status, debunk.corrected_at = Debunk.Status.CORRECTED, timezone.now()
    debunk.save()
    DebunkRevision.objects.create(debunk=debunk, changes={k: [o, n] for k, (o, n) in changes.items()}, note=note,
                                  actor=actor)
    audit_record(actor=actor, action="rumours.debunk_correct", obj=debunk, org_unit=debunk.org_unit,
                 changes=changes, comment=note)
    return debunk
