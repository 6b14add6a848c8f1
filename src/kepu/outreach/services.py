"""Writes of the catalogue: resources through the editorial workflow draft → reviewed → published →
archived. The reviewer is never the person who wrote the current text (author); a district editor
touches only resources of their district; every change is audited; bodies are sanitised on save."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.core.uploads import code_problem, text_problem
from kepu.outreach import search
from kepu.outreach.models import FeedSource, Resource, Topic
from kepu.outreach.sanitize import clean_html
from kepu.outreach.selectors import can_edit, can_edit_regions, is_editor
from kepu.outreach.vocab import AGE_BANDS, BENCHMARKS, DIMENSIONS, KEY_GROUPS

TEXT_FIELDS = ("title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en",
               "url", "source", "source_url", "licence")  # fmt: skip
LIST_FIELDS = {
    "dimensions": [c for c, _label in DIMENSIONS],
    "key_groups": [c for c, _label in KEY_GROUPS],
    "age_bands": [c for c, _label in AGE_BANDS],
}
S = Resource.Status


def _list(value: Any) -> list[Any] | None:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) and not any(isinstance(v, str) and "\x00" in v for v in value):
        return list(value)
    return None


_BENCHMARK = re.compile(r"^(?:基准)?[-\s]?0*(\d{1,2})$")


def _benchmark(value: Any) -> int:
    """A 基准 number from 17, "17" or "基准-17" (0 when it is none of those)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BENCHMARK.match(str(value).strip()) if isinstance(value, str) else None
    return int(match.group(1)) if match else 0


def resource_clean(data: dict[str, Any], *, where: str = "") -> dict[str, Any]:
    """The fields of a resource from loosely typed input (a form, the API, a content file or a feed),
    checked; raises InputError listing every problem with its field (prefixed by `where`)."""
    errors: list[str] = []
    prefix = f"{where}：" if where else ""

    def bad(field: str, message: str) -> None:
        errors.append(f"{prefix}{field}：{message}")

    out: dict[str, Any] = {}
    if "code" in data:
        problem = code_problem(data.get("code"), max_length=Resource._meta.get_field("code").max_length or 80)
        if problem:
            bad("code", problem)
        out["code"] = str(data.get("code") or "")
    kind = data.get("kind", Resource.Kind.ARTICLE) or Resource.Kind.ARTICLE
    if kind not in Resource.Kind.values:
        bad("kind", _("应为 %(choices)s 之一。") % {"choices": "、".join(Resource.Kind.values)})
    out["kind"] = kind
    for name in TEXT_FIELDS:
        value = data.get(name) or ""
        if not isinstance(value, str) or "\x00" in value:
            bad(name, _("应为文本。"))
            continue
        max_length = getattr(Resource._meta.get_field(name), "max_length", None)
        problem = text_problem(value, max_length=max_length) if max_length else None
        if problem:
            bad(name, problem)
        out[name] = value.strip()
    if not out.get("title_zh"):
        bad("title_zh", _("请填写中文标题。"))
    for name in ("url", "source_url"):
        if out.get(name) and not out[name].startswith(("http://", "https://")):
            bad(name, _("链接应以 http:// 或 https:// 开头。"))
    for name in ("body_zh", "body_en"):
        out[name] = clean_html(out.get(name, ""))
    for name, allowed in LIST_FIELDS.items():
        values = _list(data.get(name))
        if values is None or any(v not in allowed for v in values):
            bad(name, _("应为 %(choices)s 中的若干项。") % {"choices": "、".join(allowed)})
            continue
        out[name] = list(dict.fromkeys(values))
    benchmarks = _list(data.get("benchmarks"))
    numbers = [_benchmark(b) for b in benchmarks or []]
    if benchmarks is None or any(n not in BENCHMARKS for n in numbers):
        bad("benchmarks", _("应为 1–26 的基准编号。"))
    out["benchmarks"] = sorted(set(numbers))
    topic_codes = _list(data.get("topics"))
    found = {t.code: t for t in Topic.objects.filter(code__in=[str(c) for c in topic_codes or []])}
    missing = [str(c) for c in topic_codes or [] if str(c) not in found]
    if topic_codes is None or missing:
        bad("topics", _("没有这些主题：%(codes)s。") % {"codes": "、".join(missing) or "?"})
    out["topics"] = [found[str(c)] for c in topic_codes or [] if str(c) in found]
    region_codes = _list(data.get("regions"))
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[str(c) for c in region_codes or []])}
    missing = [str(c) for c in region_codes or [] if str(c) not in units]
    if region_codes is None or missing:
        bad("regions", _("没有这些行政区划：%(codes)s。") % {"codes": "、".join(missing) or "?"})
    out["regions"] = [units[str(c)] for c in region_codes or [] if str(c) in units]
    if errors:
        raise InputError(errors[0], errors=errors)
    return out


def _require_editor(actor: User, regions: list[OrgUnit]) -> None:
    scope = scope_for(actor)
    if not is_editor(scope):
        raise PermissionDenied(_("只有科普内容编辑可以编辑内容。"))
    if not can_edit_regions(scope, regions):
        raise PermissionDenied(_("您只能编辑本辖区的内容。"))


def _changed() -> None:
    """Citizens' search index follows the catalogue: rebuilt once this transaction commits."""
    transaction.on_commit(search.bump_version)


def _snapshot(resource: Resource) -> dict[str, Any]:
    values = {f: getattr(resource, f) for f in ("kind", "status", *TEXT_FIELDS, *LIST_FIELDS, "benchmarks")}
    if resource.pk:
        values["topics"] = sorted(t.code for t in resource.topics.all())
        values["regions"] = sorted(u.code for u in resource.regions.all())
    return values


def _audit(actor: User | None, action: str, resource: Resource, before: dict[str, Any], comment: str = "") -> None:
    after = _snapshot(resource)
    changes = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    audit_record(actor=actor, action=action, obj=resource, changes=changes, comment=comment)


def _assign(resource: Resource, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name not in ("topics", "regions"):
            setattr(resource, name, value)


@transaction.atomic
def resource_create(
    *, actor: User | None, data: dict[str, Any], feed_source: FeedSource | None = None, external_id: str = "",
    check_scope: bool = True,
) -> Resource:
    """A new draft. `check_scope=False` is for the command line (content and feed imports by an operator)."""
    fields = resource_clean(data)
    if not fields.get("code"):
        raise InputError(_("code：请填写代码。"))
    if actor is not None and check_scope:
        _require_editor(actor, fields["regions"])
    if Resource.objects.filter(code=fields["code"]).exists():
        raise InputError(_("code：代码 %(code)s 已被使用。") % {"code": fields["code"]})
    resource = Resource(status=S.DRAFT, author=actor, feed_source=feed_source, external_id=external_id)
    _assign(resource, fields)
    resource.save()
    resource.topics.set(fields["topics"])
    resource.regions.set(fields["regions"])
    _audit(actor, "resource.create", resource, {})
    return resource


@transaction.atomic
def resource_update(*, actor: User, resource: Resource, data: dict[str, Any]) -> Resource:
    """Edit a resource. A reviewed or published piece goes back to draft: its new text needs a new review,
    and its editor becomes its author (so they cannot review it next)."""
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    _require_editor(actor, list(resource.regions.all()))
    fields = resource_clean({**data, "code": resource.code})
    _require_editor(actor, fields["regions"])
    before = _snapshot(resource)
    was_public = resource.status == S.PUBLISHED
    _assign(resource, fields)
    if _snapshot_fields_differ(before, resource, fields):
        if resource.status in (S.REVIEWED, S.PUBLISHED):
            resource.status = S.DRAFT
            resource.reviewer = None
        resource.author = actor
    resource.save()
    resource.topics.set(fields["topics"])
    resource.regions.set(fields["regions"])
    _audit(actor, "resource.update", resource, before)
    if was_public:
        _changed()
    return resource


@transaction.atomic
def resource_import_update(*, actor: User | None, resource: Resource, fields: dict[str, Any]) -> bool:
    """A content file's newer text for an existing piece (an operator's import: its status is kept).
    Returns whether anything changed."""
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    before = _snapshot(resource)
    if not _snapshot_fields_differ(before, resource, fields):
        return False
    _assign(resource, fields)
    resource.save()
    resource.topics.set(fields["topics"])
    resource.regions.set(fields["regions"])
    _audit(actor, "resource.import", resource, before)
    if resource.status == S.PUBLISHED:
        _changed()
    return True


def _snapshot_fields_differ(before: dict[str, Any], resource: Resource, fields: dict[str, Any]) -> bool:
    after = {k: fields.get(k, getattr(resource, k)) for k in before if k not in ("topics", "regions")}
    after["topics"] = sorted(t.code for t in fields["topics"])
    after["regions"] = sorted(u.code for u in fields["regions"])
    return any(before.get(k) != v for k, v in after.items() if k != "status")


def _transition(actor: User, resource: Resource, *, allowed_from: tuple[str, ...]) -> tuple[Resource, dict[str, Any]]:
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if not is_editor(scope_for(actor)) or not can_edit(scope_for(actor), resource):
        raise PermissionDenied(_("您只能审核、发布本辖区的内容。"))
    if resource.status not in allowed_from:
        raise InputError(
            _("“%(title)s”现在是“%(status)s”，不能进行这一步。")
            % {"title": resource.title_zh, "status": resource.get_status_display()}
        )
    return resource, _snapshot(resource)


@transaction.atomic
def resource_review(*, actor: User, resource: Resource, comment: str = "") -> Resource:
    """A second editor checks a draft: four eyes, so never its author."""
    resource, before = _transition(actor, resource, allowed_from=(S.DRAFT,))
    if resource.author_id == actor.pk:
        raise PermissionDenied(_("不能审核自己编写的内容，请另一位编辑审核。"))
    resource.status = S.REVIEWED
    resource.reviewer = actor
    resource.save()
    _audit(actor, "resource.review", resource, before, comment)
    return resource


@transaction.atomic
def resource_return(*, actor: User, resource: Resource, comment: str = "") -> Resource:
    """Send a draft or reviewed piece back to its author with a comment (it stays a draft)."""
    resource, before = _transition(actor, resource, allowed_from=(S.DRAFT, S.REVIEWED))
    if resource.author_id == actor.pk and resource.status == S.DRAFT:
        raise PermissionDenied(_("不能审核自己编写的内容，请另一位编辑审核。"))
    resource.status = S.DRAFT
    resource.reviewer = None
    resource.save()
    _audit(actor, "resource.return", resource, before, comment)
    return resource


@transaction.atomic
def resource_publish(*, actor: User | None, resource: Resource) -> Resource:
    """Publish a reviewed piece (`actor=None`: the command line, e.g. the demo's starter content)."""
    if actor is not None:
        resource, before = _transition(actor, resource, allowed_from=(S.REVIEWED,))
    else:
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        before = _snapshot(resource)
    resource.status = S.PUBLISHED
    resource.published_at = timezone.now()
    resource.save()
    _audit(actor, "resource.publish", resource, before)
    _changed()
    return resource


@transaction.atomic
def resource_archive(*, actor: User, resource: Resource) -> Resource:
    resource, before = _transition(actor, resource, allowed_from=(S.DRAFT, S.REVIEWED, S.PUBLISHED))
    was_public = resource.status == S.PUBLISHED
    resource.status = S.ARCHIVED
    resource.save()
    _audit(actor, "resource.archive", resource, before)
    if was_public:
        _changed()
    return resource


@transaction.atomic
def resource_restore(*, actor: User, resource: Resource) -> Resource:
    """An archived piece back to draft (it needs a review again before it is published)."""
    resource, before = _transition(actor, resource, allowed_from=(S.ARCHIVED,))
    resource.status = S.DRAFT
    resource.reviewer = None
    resource.save()
    _audit(actor, "resource.restore", resource, before)
    return resource
