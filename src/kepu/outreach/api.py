"""The catalogue in the API: search of published pieces (any logged-in user or token: citizens through
their session; the public page /me/search/ needs no login), and the editors' catalogue (list, one
piece, create, edit, workflow steps) with the same rules as the console (kepu.outreach.services)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kepu.core.errors import PermissionDenied
from kepu.core.scope import actor, scope_for
from kepu.outreach import search, selectors, services
from kepu.outreach.models import Resource

router = Router(tags=["outreach"])

Code = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", examples=["t-hpv"])]
ResourceStatus = Literal["draft", "reviewed", "published", "archived"]
Kind = Literal["article", "video", "audio", "course", "event_link", "venue_page"]
Text = Annotated[str, Field(max_length=200_000)]
Short = Annotated[str, Field(max_length=500)]
Step = Literal["review", "return", "publish", "archive", "restore"]


class ResourceOut(Schema):
    code: str
    kind: Kind
    status: ResourceStatus
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    body_zh: str
    body_en: str
    url: str
    topics: list[str]
    dimensions: list[str]
    benchmarks: list[int]
    key_groups: list[str]
    age_bands: list[str]
    regions: list[str]
    source: str
    source_url: str
    licence: str
    author: str | None
    reviewer: str | None
    published_at: dt.datetime | None
    updated_at: dt.datetime


class ResourcePage(Schema):
    count: int
    items: list[ResourceOut]


class SearchHit(Schema):
    code: str
    kind: Kind
    title_zh: str
    title_en: str
    summary_zh: str
    topics: list[str]
    score: float


class SearchPage(Schema):
    count: int
    items: list[SearchHit]


class ResourceIn(Schema):
    kind: Kind = "article"
    title_zh: Annotated[str, Field(min_length=1, max_length=200)]
    title_en: Annotated[str, Field(max_length=200)] = ""
    summary_zh: Text = ""
    summary_en: Text = ""
    body_zh: Text = ""
    body_en: Text = ""
    url: Short = ""
    topics: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=50)] = []
    dimensions: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=4)] = []
    benchmarks: Annotated[list[Annotated[int, Field(ge=1, le=26)]], Field(max_length=26)] = []
    key_groups: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=5)] = []
    age_bands: Annotated[list[Annotated[str, Field(max_length=8)]], Field(max_length=6)] = []
    regions: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=200)] = []
    source: Annotated[str, Field(max_length=200)] = ""
    source_url: Short = ""
    licence: Annotated[str, Field(max_length=100)] = ""


class ResourceCreate(ResourceIn):
    code: Code


class StepIn(Schema):
    comment: Annotated[str, Field(max_length=500)] = ""


class ListFilter(Schema):
    status: ResourceStatus | None = None
    topic: Annotated[str, Field(max_length=40)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


def _out(r: Resource) -> dict[str, Any]:
    return {
        **{f: getattr(r, f) for f in ("code", "kind", "status", "title_zh", "title_en", "summary_zh", "summary_en",
                                      "body_zh", "body_en", "url", "dimensions", "benchmarks", "key_groups",
                                      "age_bands", "source", "source_url", "licence", "published_at", "updated_at")},
        "topics": [t.code for t in r.topics.all()],
        "regions": [u.code for u in r.regions.all()],
        "author": r.author.username if r.author else None,
        "reviewer": r.reviewer.username if r.reviewer else None,
    }  # fmt: skip


def _editor(request: HttpRequest) -> None:
    if not selectors.is_editor(scope_for(request.user)):
        raise PermissionDenied("Only content editors and office admins manage the catalogue.")


def _get(request: HttpRequest, code: str) -> Resource:
    resource = selectors.console_resources(request.user).filter(code=code).first()
    if resource is None:
        raise Http404(f"No resource {code} in your scope.")
    return resource


@router.get("/outreach/search", response=SearchPage, summary="Search published content")
def search_published(
    request: HttpRequest,
    q: Annotated[str, Field(min_length=1, max_length=100)],
    limit: Annotated[int, Field(ge=1, le=50)] = 20,
) -> dict[str, Any]:
    """Published pieces matching a Chinese or English query (jieba words + character bigrams, BM25;
    traditional characters, full-width letters and a one-character typo are tolerated), best first."""
    hits = search.search(q.replace("\x00", ""), limit=limit)
    items = [{"code": r.code, "kind": r.kind, "title_zh": r.title_zh, "title_en": r.title_en,
              "summary_zh": r.summary_zh, "topics": [t.code for t in r.topics.all()], "score": s} for r, s in hits]
    return {"count": len(items), "items": items}


@router.get("/outreach/resources", response=ResourcePage, summary="Catalogue (editors)")
def resource_list(request: HttpRequest, filters: Query[ListFilter]) -> dict[str, Any]:
    _editor(request)
    qs = selectors.console_resources(request.user, status=filters.status or "", topic=filters.topic or "")
    qs = qs.order_by("code")
    return {"count": qs.count(), "items": [_out(r) for r in qs[filters.offset : filters.offset + filters.limit]]}


@router.get("/outreach/resources/{code}", response=ResourceOut, summary="One resource (editors)")
def resource_get(request: HttpRequest, code: Code) -> dict[str, Any]:
    _editor(request)
    return _out(_get(request, code))


@router.post("/outreach/resources", response={201: ResourceOut}, summary="Create a draft")
def resource_create(request: HttpRequest, body: ResourceCreate) -> Status[dict[str, Any]]:
    _editor(request)
    resource = services.resource_create(actor=actor(request), data=body.dict())
    return Status(201, _out(resource))


@router.put("/outreach/resources/{code}", response=ResourceOut, summary="Edit (reviewed/published: back to draft)")
def resource_update(request: HttpRequest, code: Code, body: ResourceIn) -> dict[str, Any]:
    _editor(request)
    resource = services.resource_update(actor=actor(request), resource=_get(request, code), data=body.dict())
    return _out(resource)


@router.post("/outreach/resources/{code}/{step}", response=ResourceOut, summary="Workflow step")
def resource_step(request: HttpRequest, code: Code, step: Step, body: StepIn) -> dict[str, Any]:
    """review (never by the author), return, publish, archive or restore."""
    _editor(request)
    resource = _get(request, code)
    who = actor(request)
    if step == "review":
        resource = services.resource_review(actor=who, resource=resource, comment=body.comment)
    elif step == "return":
        resource = services.resource_return(actor=who, resource=resource, comment=body.comment)
    elif step == "publish":
        resource = services.resource_publish(actor=who, resource=resource)
    elif step == "archive":
        resource = services.resource_archive(actor=who, resource=resource)
    else:
        resource = services.resource_restore(actor=who, resource=resource)
    return _out(resource)
