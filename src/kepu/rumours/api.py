"""Rumours in the API (/api/rumours/...), with the pages' rules: staff see and enter the claims of
their units (a district officer only their district's); the debunk workflow's actions (assign, draft,
submit, publish, return, correct) are the services' own, refusals included; published debunks are
public. Partner platforms post claims with `Authorization: Bearer <partner token>`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from pydantic import Field
from pydantic import ValidationError as PydanticError

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.scope import actor
from kepu.rumours import selectors, services
from kepu.rumours.models import Claim, Debunk

router = Router(tags=["rumours"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
NO_NUL = r"^[^\x00]*$"
PARTNER_BODY_LIMIT = 64 * 1024
VerdictCode = Literal["false", "misleading", "partly", "unproven", "true"]


class ClaimPage(Schema):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class ClaimQuery(ClaimPage):
    status: Literal["", "new", "triaged", "answered", "dismissed"] = ""


class ClaimIn(Schema):
    text: Annotated[str, Field(max_length=20000, pattern=NO_NUL)]
    region: Annotated[str, Field(max_length=32, pattern=NO_NUL, examples=["320412"])]
    media: Annotated[str, Field(max_length=200, pattern=NO_NUL)] = ""
    topic: Annotated[str, Field(max_length=20, pattern=NO_NUL)] = ""


class ClaimOut(Schema):
    id: int
    text: str
    source: str
    region: str
    district: str
    media: str
    topic: str
    status: str
    count: int
    cluster: str
    debunk_id: int | None
    confidence: float | None
    received_at: dt.datetime
    last_seen_at: dt.datetime


class IntakeOut(Schema):
    id: int
    created: bool
    absorbed: bool
    count: int
    status: str
    debunk_id: int | None


class SourceIO(Schema):
    url: Annotated[str, Field(max_length=500, pattern=NO_NUL)]
    title: Annotated[str, Field(max_length=200, pattern=NO_NUL)] = ""


class DebunkOut(Schema):
    id: int
    title: str
    claim_text: str
    verdict: str
    explanation: str
    evidence: str
    sources: list[dict[str, str]]
    topic: str
    region: str
    status: str
    expert_id: int | None
    author_id: int | None
    reviewer_id: int | None
    published_at: dt.datetime | None
    corrected_at: dt.datetime | None


class PublicDebunkOut(Schema):
    id: int
    title: str
    claim_text: str
    verdict: str
    verdict_label: str
    explanation: str
    evidence: str
    sources: list[dict[str, str]]
    topic: str
    published_at: dt.datetime | None
    corrections: list[dict[str, Any]]
    url: str


class OpenIn(Schema):
    claim_ids: Annotated[list[Id], Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(max_length=200, pattern=NO_NUL)] = ""


class DebunkAssignIn(Schema):
    expert_user_id: Id


class DraftIn(Schema):
    title: Annotated[str, Field(max_length=200, pattern=NO_NUL)]
    claim_text: Annotated[str, Field(max_length=5000, pattern=NO_NUL)]
    verdict: VerdictCode | Literal[""] = ""
    explanation: Annotated[str, Field(max_length=10000, pattern=NO_NUL)] = ""
    evidence: Annotated[str, Field(max_length=10000, pattern=NO_NUL)] = ""
    sources: Annotated[list[SourceIO], Field(max_length=20)] = []
    topic: Annotated[str, Field(max_length=20, pattern=NO_NUL)] = ""


class ReturnIn(Schema):
    comment: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]


class CorrectIn(Schema):
    note: Annotated[str, Field(max_length=500, pattern=NO_NUL)] = ""
    verdict: VerdictCode | None = None
    explanation: Annotated[str | None, Field(max_length=10000, pattern=NO_NUL)] = None
    evidence: Annotated[str | None, Field(max_length=10000, pattern=NO_NUL)] = None
    sources: Annotated[list[SourceIO] | None, Field(max_length=20)] = None


def _claim(c: Claim) -> dict[str, Any]:
    return {"id": c.pk, "text": c.text, "source": c.source, "region": c.org_unit.code, "district": c.district.code,
            "media": c.media, "topic": c.topic, "status": c.status, "count": c.dup_count, "cluster": c.cluster_key,
            "debunk_id": c.debunk_id, "confidence": c.confidence, "received_at": c.received_at,
            "last_seen_at": c.last_seen_at}


def _intake(i: services.Intake) -> dict[str, Any]:
    c = Claim.objects.get(pk=i.claim.pk)
    return {"id": c.pk, "created": i.created, "absorbed": i.absorbed, "count": c.dup_count, "status": c.status,
            "debunk_id": c.debunk_id if c.status == Claim.Status.ANSWERED else None}


def _debunk(d: Debunk) -> dict[str, Any]:
    return {"id": d.pk, "title": d.title, "claim_text": d.claim_text, "verdict": d.verdict,
            "explanation": d.explanation, "evidence": d.evidence, "sources": d.sources, "topic": d.topic,
            "region": d.org_unit.code, "status": d.status, "expert_id": d.expert_id, "author_id": d.author_id,
            "reviewer_id": d.reviewer_id, "published_at": d.published_at, "corrected_at": d.corrected_at}


def _public(d: Debunk) -> dict[str, Any]:
    return {"id": d.pk, "title": d.title, "claim_text": d.claim_text, "verdict": d.verdict,
            "verdict_label": str(d.get_verdict_display()), "explanation": d.explanation, "evidence": d.evidence,
            "sources": d.sources, "topic": d.topic, "published_at": d.published_at,
            "corrections": [{"at": r.created_at.isoformat(), "note": r.note, "changes": r.changes}
                            for r in d.revisions.all()],
            "url": f"/me/rumours/{d.pk}/"}


def _unit(code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise InputError(f"region: 没有编码为 {code} 的地区。")
    return unit


# -- claims ------------------------------------------------------------------------------------

@router.get("/rumours/claims", response=dict[str, Any], summary="Claims in the user's scope, most reported first")
def claims_list(request: HttpRequest, q: Query[ClaimQuery]) -> dict[str, Any]:
    qs = selectors.claims_visible(actor(request)).order_by("-dup_count", "-last_seen_at", "-pk")
    if q.status:
        qs = qs.filter(status=q.status)
    return {"count": qs.count(), "items": [ClaimOut(**_claim(c)).model_dump() for c in qs[q.offset:q.offset + q.limit]]}


@router.post("/rumours/claims", response={201: IntakeOut}, summary="Enter a claim (editors, district and office staff)")
def claims_create(request: HttpRequest, body: ClaimIn) -> Status:
    intake = services.claim_enter(actor=actor(request), text=body.text, org_unit=_unit(body.region), media=body.media,
                                  topic=body.topic)
    return Status(201, _intake(intake))


@router.post("/rumours/partner/claims", auth=None, response={201: IntakeOut},
             summary="A partner platform posts a claim",
             openapi_extra={"security": [{"PartnerBearer": []}], "requestBody": {"required": True, "content": {
                 "application/json": {"schema": ClaimIn.model_json_schema()}}}})
def partner_claims(request: HttpRequest) -> Status:
    """Body (at most 64 KB, refused with 413 before it is read): {"text", "region", "media", "topic"}. A
    region outside the partner's own is refused (403) and audited."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    partner = services.partner_for_token(token)
    if partner is None:
        raise AuthenticationError()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = PARTNER_BODY_LIMIT + 1
    if length > PARTNER_BODY_LIMIT:
        raise HttpError(413, f"The request body is {length} bytes; at most {PARTNER_BODY_LIMIT} bytes (64 KB) are "
                             "accepted. Send one claim per request, its text at most 2,000 characters.")
    if not services.partner_allowed(partner):
        raise HttpError(429, "Too many claims from this partner in the last hour; try again later.")
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise HttpError(400, "The body must be a JSON object: {\"text\": ..., \"region\": ...}.")
    try:
        body = ClaimIn(**{k: data[k] for k in ("text", "region", "media", "topic") if k in data})
    except PydanticError as exc:
        raise InputError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()),
                         errors=[f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]) from exc
    intake = services.partner_claim(partner=partner, text=body.text, region_code=body.region, media=body.media,
                                    topic=body.topic)
    return Status(201, _intake(intake))


# -- debunks -----------------------------------------------------------------------------------

@router.get("/rumours/public/debunks", auth=None, response=dict[str, Any], summary="Published debunks (public)")
def public_debunks(request: HttpRequest, q: Query[ClaimPage]) -> dict[str, Any]:
    qs = selectors.published_debunks().prefetch_related("revisions")
    return {"count": qs.count(), "items": [PublicDebunkOut(**_public(d)).model_dump()
                                           for d in qs[q.offset:q.offset + q.limit]]}


@router.get("/rumours/public/debunks/{debunk_id}", auth=None, response=PublicDebunkOut,
            summary="One published debunk (public)")
def public_debunk(request: HttpRequest, debunk_id: Id) -> dict[str, Any]:
    d = selectors.published_debunks().filter(pk=debunk_id).first()
    if d is None:
        raise Http404("No published debunk with this id.")
    return _public(d)


@router.get("/rumours/debunks", response=dict[str, Any], summary="Debunks the user works on or manages")
def debunks_list(request: HttpRequest, q: Query[ClaimPage]) -> dict[str, Any]:
    qs = selectors.debunks_visible(actor(request)).order_by("-pk")
    items = [DebunkOut(**_debunk(d)).model_dump() for d in qs[q.offset:q.offset + q.limit]]
    return {"count": qs.count(), "items": items}


def _get(request: HttpRequest, debunk_id: int) -> tuple[User, Debunk]:
    user = actor(request)
    d = selectors.debunks_visible(user).filter(pk=debunk_id).first()
    if d is None:
        raise Http404("No such debunk in your scope.")
    return user, d


@router.get("/rumours/debunks/{debunk_id}", response=DebunkOut, summary="One debunk")
def debunk_get(request: HttpRequest, debunk_id: Id) -> dict[str, Any]:
    return _debunk(_get(request, debunk_id)[1])


@router.post("/rumours/debunks", response={201: DebunkOut}, summary="Triage: start a debunk for claims")
def debunk_open(request: HttpRequest, body: OpenIn) -> Status:
    user = actor(request)
    chosen = list(selectors.claims_visible(user).filter(pk__in=body.claim_ids))
    if len(chosen) != len(set(body.claim_ids)):
        raise Http404("Some claims are not in your scope.")
    order = {pk: i for i, pk in enumerate(body.claim_ids)}
    chosen.sort(key=lambda c: order[c.pk])
    return Status(201, _debunk(services.debunk_open(actor=user, claims=chosen, title=body.title)))


@router.post("/rumours/debunks/{debunk_id}/assign", response=DebunkOut, summary="Assign a talent-pool expert")
def debunk_assign(request: HttpRequest, debunk_id: Id, body: DebunkAssignIn) -> dict[str, Any]:
    user, d = _get(request, debunk_id)
    expert = User.objects.filter(pk=body.expert_user_id).first()
    if expert is None:
        raise InputError("expert_user_id: 没有这个用户。")
    return _debunk(services.debunk_assign(actor=user, debunk=d, expert=expert))


@router.put("/rumours/debunks/{debunk_id}/draft", response=DebunkOut, summary="The expert saves the draft")
def debunk_draft(request: HttpRequest, debunk_id: Id, body: DraftIn) -> dict[str, Any]:
    user, d = _get(request, debunk_id)
    return _debunk(services.debunk_draft_save(
        actor=user, debunk=d, title=body.title, claim_text=body.claim_text, verdict=body.verdict,
        explanation=body.explanation, evidence=body.evidence, sources=[s.model_dump() for s in body.sources],
        topic=body.topic))


@router.post("/rumours/debunks/{debunk_id}/submit", response=DebunkOut, summary="Send the draft for review")
def debunk_submit(request: HttpRequest, debunk_id: Id) -> dict[str, Any]:
    user, d = _get(request, debunk_id)
    return _debunk(services.debunk_submit(actor=user, debunk=d))


@router.post("/rumours/debunks/{debunk_id}/publish", response=DebunkOut,
             summary="Review and publish (another user; never the author)")
def debunk_publish(request: HttpRequest, debunk_id: Id) -> dict[str, Any]:
    user, d = _get(request, debunk_id)
    return _debunk(services.debunk_publish(actor=user, debunk=d))


@router.post("/rumours/debunks/{debunk_id}/return", response=DebunkOut, summary="Return the draft to the expert")
def debunk_return(request: HttpRequest, debunk_id: Id, body: ReturnIn) -> dict[str, Any]:
    user, d = _get(request, debunk_id)
    return _debunk(services.debunk_return(actor=user, debunk=d, comment=body.comment))


@router.post("/rumours/debunks/{debunk_id}/correct", response=DebunkOut,
             summary="Correct a published debunk (public note required)")
def debunk_correct(request: HttpRequest, debunk_id: Id, body: CorrectIn) -> dict[str, Any]:
    user, d = _get(request, debunk_id)
    return _debunk(services.debunk_correct(
        actor=user, debunk=d, note=body.note, verdict=body.verdict, explanation=body.explanation,
        evidence=body.evidence, sources=[s.model_dump() for s in body.sources] if body.sources is not None else None))
