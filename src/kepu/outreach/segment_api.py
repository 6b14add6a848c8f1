"""Segments and the citizen feed in the API: the same services and scope as the console and the
portal (kepu.outreach.segments, kepu.outreach.recommend)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kepu.citizens.selectors import citizen_of
from kepu.core.errors import PermissionDenied
from kepu.core.scope import actor
from kepu.outreach import segments as svc
from kepu.outreach.recommend import feed
from kepu.outreach.segment_models import Segment

router = Router(tags=["outreach"])

SegmentCode = Annotated[
    str, Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]+$", examples=["wj-farmers"])
]


class RulesIn(Schema):
    rules: dict[str, Any] = Field(examples=[{"field": "key_groups", "op": "contains", "value": "farmers"}])


class SegmentIn(RulesIn):
    code: SegmentCode
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)


class PreviewRow(Schema):
    id: str
    age_band: str
    district: str
    town: str


class PreviewOut(Schema):
    count: int
    preview: list[PreviewRow]


class SegmentOut(Schema):
    code: str
    name_zh: str
    name_en: str
    org_unit: str
    rules: dict[str, Any]
    count: int | None = None


class SegmentPage(Schema):
    count: int
    items: list[SegmentOut]


class FeedItemOut(Schema):
    code: str
    kind: str
    title_zh: str
    title_en: str
    summary_zh: str
    score: float
    reasons: list[str]


class FeedPage(Schema):
    count: int
    items: list[FeedItemOut]


def _out(s: Segment, count: int | None = None) -> dict[str, Any]:
    return {"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en, "org_unit": s.org_unit.code,
            "rules": s.rules, "count": count}


@router.get("/outreach/segments", response=SegmentPage, summary="Saved segments in the user's scope")
def segment_list(request: HttpRequest) -> dict[str, Any]:
    svc.segment_require_unit(request.user)
    items = [_out(s) for s in svc.segments_visible(request.user)]
    return {"count": len(items), "items": items}


@router.post("/outreach/segments/preview", response=PreviewOut,
             summary="Live count and pseudonymous preview (first 20) of a rule tree")
def segment_preview(request: HttpRequest, body: RulesIn) -> dict[str, Any]:
    unit = svc.segment_require_unit(request.user)
    return {"count": svc.count(body.rules, unit=unit), "preview": svc.preview(body.rules, unit=unit)}


# after /preview: ninja matches paths in order of registration
@router.get("/outreach/segments/{code}", response=SegmentOut, summary="One segment with its current size")
def segment_get(request: HttpRequest, code: SegmentCode) -> dict[str, Any]:
    unit = svc.segment_require_unit(request.user)
    segment = svc.segments_visible(request.user).filter(code=code).first()
    if segment is None:
        raise Http404("No such segment in your scope.")
    return _out(segment, svc.count(segment, unit=unit))


@router.post("/outreach/segments", response={201: SegmentOut}, summary="Save a segment for the user's unit (audited)")
def segment_create(request: HttpRequest, body: SegmentIn) -> Status:
    segment = svc.segment_save(actor=actor(request), code=body.code, name_zh=body.name_zh, name_en=body.name_en,
                               rules=body.rules)
    return Status(201, _out(segment, svc.count(segment)))


@router.get("/outreach/feed", response=FeedPage, auth=None,
            summary="The ranked feed: the logged-in citizen's, or the popular feed for a visitor")
def feed_get(request: HttpRequest, limit: int = Query(20, ge=1, le=50)) -> dict[str, Any]:
    citizen = None
    if request.user.is_authenticated:
        citizen = citizen_of(request.user)
        if citizen is None:
            raise PermissionDenied("The feed is for citizens; staff accounts have none.")
    items = [
        {"code": i.resource.code, "kind": i.resource.kind, "title_zh": i.resource.title_zh,
         "title_en": i.resource.title_en, "summary_zh": i.resource.summary_zh, "score": round(i.score, 6),
         "reasons": list(i.reasons)}
        for i in feed(citizen, limit=limit)
    ]
    return {"count": len(items), "items": items}
