"""Partner feeds as draft resources, from files only (nothing is fetched from the network).

Two shapes are read:
- RSS 2.0 and Atom, through feedparser (an entry's `guid`/`id`, else its link, is its external id);
- JSON Feed 1.1 (https://jsonfeed.org/version/1.1), the shape we ask partners such as a provincial
  science cloud to export: `{"version": …, "title": …, "items": [{"id", "url", "title", "summary",
  "content_html" or "content_text", "date_published", "tags"}]}`; an item may add Kepu's extension
  `"_kepu": {"title_en", "summary_en", "topics", "dimensions", "benchmarks", "key_groups", "age_bands"}`
  with the codes of our catalogue.
An import is all or nothing and bounded in size and entries (kepu.core.uploads, kind "outreach"); each
problem names its entry. An entry already imported from the same source (same external id) is skipped,
so a feed can be imported again and again. Bodies are sanitised like every other body."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import check_size, limits_for
from kepu.outreach import services
from kepu.outreach.content_import import UPLOAD_KIND
from kepu.outreach.models import FeedSource, Resource, Topic
from kepu.outreach.selectors import edits_whole_city

EXTENSION_KEYS = ("title_en", "summary_en", "topics", "dimensions", "benchmarks", "key_groups", "age_bands")


def sniff_format(content: bytes) -> str:
    return FeedSource.Format.JSON if content.lstrip()[:1] in (b"{", b"[") else FeedSource.Format.RSS


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_rss(content: bytes, *, name: str) -> list[dict[str, Any]]:
    import feedparser

    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    if parsed.bozo and not parsed.entries:
        raise InputError(
            _("%(name)s 不是有效的 RSS 或 Atom 文件：%(problem)s") % {"name": name, "problem": parsed.bozo_exception}
        )
    entries = []
    for entry in parsed.entries:
        content_html = entry["content"][0].get("value", "") if entry.get("content") else ""
        entries.append({
            "id": _text(entry.get("id")) or _text(entry.get("link")),
            "title": _text(entry.get("title")),
            "summary": _text(entry.get("summary")) if content_html else "",
            "body": content_html or _text(entry.get("summary")),
            "url": _text(entry.get("link")),
            "tags": [_text(t.get("term")) for t in entry.get("tags", [])],
        })  # fmt: skip
    return entries


def parse_json(content: bytes, *, name: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(_("%(name)s 不是有效的 JSON：%(problem)s") % {"name": name, "problem": exc}) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise InputError(_("%(name)s 应为 JSON Feed：一个含 items 列表的对象。") % {"name": name})
    entries = []
    for n, item in enumerate(doc["items"], start=1):
        if not isinstance(item, dict):
            raise InputError(_("%(name)s 第 %(n)s 条：应为一个对象。") % {"name": name, "n": n})
        extension: dict[str, Any] = item["_kepu"] if isinstance(item.get("_kepu"), dict) else {}
        body = _text(item.get("content_html")) or _text(item.get("content_text"))
        entries.append({
            "id": str(item.get("id") or "").strip(),
            "title": _text(item.get("title")),
            "summary": _text(item.get("summary")),
            "body": body if item.get("content_html") else _paragraphs(body),
            "url": _text(item.get("url")),
            "tags": [t for t in item.get("tags") or [] if isinstance(t, str)],
            **{k: extension[k] for k in EXTENSION_KEYS if k in extension},
        })  # fmt: skip
    return entries


def _paragraphs(text: str) -> str:
    from kepu.outreach.sanitize import paragraphs_to_html

    return paragraphs_to_html(text)


def parse(content: bytes, *, name: str, format: str = "") -> list[dict[str, Any]]:
    check_size(len(content), name=name, kind=UPLOAD_KIND)
    fmt = format or sniff_format(content)
    entries = parse_json(content, name=name) if fmt == FeedSource.Format.JSON else parse_rss(content, name=name)
    limit = limits_for(UPLOAD_KIND).max_rows
    if len(entries) > limit:
        raise InputError(
            _("%(name)s 有 %(n)s 条，超过了每次 %(limit)s 条的上限；请拆分后分批导入。")
            % {"name": name, "n": len(entries), "limit": limit}
        )
    return entries


def _code(source: FeedSource, external_id: str) -> str:
    return f"{source.code}-{hashlib.sha256(external_id.encode()).hexdigest()[:12]}"


def _data(source: FeedSource, entry: dict[str, Any], topic_codes: set[str]) -> dict[str, Any]:
    topics = entry.get("topics")
    if topics is None:  # plain RSS tags: keep those that are our topic codes, ignore the partner's own
        topics = [t for t in entry["tags"] if t in topic_codes]
    return {
        "code": _code(source, entry["id"]), "kind": Resource.Kind.ARTICLE,
        "title_zh": entry["title"], "title_en": entry.get("title_en", ""),
        "summary_zh": entry["summary"], "summary_en": entry.get("summary_en", ""),
        "body_zh": entry["body"], "source": source.name_zh, "source_url": entry["url"], "licence": source.licence,
        "topics": topics, **{k: entry[k] for k in EXTENSION_KEYS[2:] if k in entry},
    }  # fmt: skip


def feed_import(*, source: FeedSource, content: bytes, name: str, actor: User | None) -> dict[str, int]:
    """Drafts from one feed file. `actor=None`: the command line."""
    if actor is not None and not edits_whole_city(scope_for(actor)):
        raise PermissionDenied(_("只有市级科普内容编辑可以导入合作方内容。"))
    entries = parse(content, name=name)
    errors: list[str] = []
    topic_codes = set(Topic.objects.values_list("code", flat=True))
    known = set(Resource.objects.filter(feed_source=source).values_list("external_id", flat=True))
    counts = {"created": 0, "skipped": 0}
    with transaction.atomic():
        seen: set[str] = set()
        for n, entry in enumerate(entries, start=1):
            where = _("%(name)s 第 %(n)s 条（%(id)s）") % {"name": name, "n": n, "id": entry["id"][:80] or "?"}
            if not entry["id"]:
                errors.append(_("%(where)s：缺少 id（或链接），无法去重。") % {"where": where})
                continue
            if entry["id"] in known or entry["id"] in seen:
                counts["skipped"] += 1
                continue
            seen.add(entry["id"])
            try:
                data = services.resource_clean(_data(source, entry, topic_codes), where=where)
            except InputError as exc:
                errors.extend(exc.errors)
                continue
            if not errors:
                services.resource_create(
                    actor=actor, data={**data, "topics": [t.code for t in data["topics"]], "regions": []},
                    feed_source=source, external_id=entry["id"], check_scope=False,
                )
                counts["created"] += 1
        if errors:
            transaction.set_rollback(True)
            raise InputError(errors[0], errors=errors)
        before = source.last_imported_at
        source.last_imported_at = timezone.now()
        source.save(update_fields=["last_imported_at"])
        audit_record(actor=actor, action="feed.import", obj=source, comment=f"{name}: +{counts['created']}",
                     changes={"last_imported_at": (before, source.last_imported_at)})  # fmt: skip
    return counts


@transaction.atomic
def feed_source_ensure(*, code: str, name_zh: str = "", format: str = "", actor: User | None) -> FeedSource:
    """The feed source with this code, created when new (audited)."""
    from kepu.core.uploads import code_problem

    source = FeedSource.objects.filter(code=code).first()
    if source is not None:
        return source
    problem = code_problem(code, max_length=40)
    if problem:
        raise InputError(f"source：{problem}")
    source = FeedSource.objects.create(code=code, name_zh=name_zh or code, format=format or FeedSource.Format.RSS)
    audit_record(actor=actor, action="create", obj=source)
    return source
