"""`kepu outreach content import DIR|FILE`: the topic taxonomy (topics.yaml) and content files (a YAML list
of resources each) as catalogue rows. All or nothing: every file and entry is checked first and each
problem is reported with its file, entry and field; only then is anything written, in one transaction.
Re-importing is idempotent: an unchanged piece is left alone, a changed one is updated (and audited)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.services import audit_record
from kepu.core.uploads import code_problem, read_path, text_problem, yaml_load
from kepu.outreach import services
from kepu.outreach.models import Resource, Topic
from kepu.outreach.sanitize import paragraphs_to_html

UPLOAD_KIND = "outreach"
TOPIC_KEYS = {"code", "name_zh", "name_en", "parent"}
RESOURCE_KEYS = {"code", "kind", "title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en", "url",
                 "topics", "dimensions", "benchmarks", "key_groups", "age_bands", "regions", "source",
                 "source_url", "licence"}  # fmt: skip


def body_html(text: str) -> str:
    """A body from a file: HTML is kept (and sanitised on save); plain paragraphs become <p> elements."""
    stripped = (text or "").strip()
    return stripped if stripped.startswith("<") else paragraphs_to_html(stripped)


def _load_list(path: Path) -> list[Any]:
    doc = yaml_load(read_path(path, kind=UPLOAD_KIND).decode("utf-8", errors="replace"), name=path.name,
                    kind=UPLOAD_KIND)  # fmt: skip
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise InputError(_("%(name)s 应为条目列表（每项以“- ”开头）。") % {"name": path.name})
    return doc


def _topics_file(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent
    for candidate in (folder / "topics.yaml", folder.parent / "topics.yaml"):
        if candidate.exists() and candidate != path:
            return candidate
    return None


def _check_topics(path: Path, rows: list[Any], errors: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, start=1):
        where = _("%(file)s 第 %(n)s 项") % {"file": path.name, "n": n}
        if not isinstance(row, dict):
            errors.append(_("%(where)s：应为一个主题（code、name_zh、name_en、parent）。") % {"where": where})
            continue
        for key in sorted(set(row) - TOPIC_KEYS):
            errors.append(_("%(where)s：不认识的字段 %(key)s。") % {"where": where, "key": key})
        problem = code_problem(row.get("code"), max_length=40)
        if problem:
            errors.append(f"{where}：code：{problem}")
        for key in ("name_zh", "name_en"):
            problem = text_problem(row.get(key), max_length=60 if key == "name_zh" else 80)
            if not row.get(key) or not isinstance(row.get(key), str):
                problem = _("请填写。")
            if problem:
                errors.append(f"{where}：{key}：{problem}")
        found[str(row.get("code"))] = row
    for code, row in found.items():
        parent = row.get("parent")
        if parent and parent not in found and not Topic.objects.filter(code=parent).exists():
            errors.append(_("%(file)s 主题 %(code)s：parent：没有主题 %(parent)s。")
                          % {"file": path.name, "code": code, "parent": parent})  # fmt: skip
    return found


def _content_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.glob("*.yaml") if p.name != "topics.yaml")
    return [path] if path.name != "topics.yaml" else []


def content_import(*, path: Path, actor: User | None = None, publish: bool = False) -> dict[str, int]:
    """Import topics and resources from a directory or one file; with `publish`, new pieces are published
    at once (the demo's starter set, written and reviewed for the project)."""
    if not path.exists():
        raise InputError(_("找不到 %(path)s。") % {"path": path})
    errors: list[str] = []
    topics_path = path if path.name == "topics.yaml" else _topics_file(path)
    topic_rows = _check_topics(topics_path, _load_list(topics_path), errors) if topics_path else {}
    entries: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, str] = {}
    for file in _content_files(path):
        for n, row in enumerate(_load_list(file), start=1):
            code = row.get("code") if isinstance(row, dict) else None
            where = _("%(file)s 第 %(n)s 项（%(code)s）") % {"file": file.name, "n": n, "code": code or "?"}
            if not isinstance(row, dict):
                errors.append(_("%(where)s：应为一篇内容的字段表。") % {"where": where})
                continue
            for key in sorted(set(row) - RESOURCE_KEYS):
                errors.append(_("%(where)s：不认识的字段 %(key)s。") % {"where": where, "key": key})
            if str(code) in seen:
                errors.append(_("%(where)s：code：与 %(other)s 重复。") % {"where": where, "other": seen[str(code)]})
            seen[str(code)] = where
            entries.append((where, row))
    with transaction.atomic():
        counts = {"topics": _save_topics(topic_rows, actor, errors), "created": 0, "updated": 0, "unchanged": 0}
        for where, row in entries:
            data = {**row, "body_zh": body_html(row.get("body_zh", "")), "body_en": body_html(row.get("body_en", ""))}
            try:
                fields = services.resource_clean(data, where=where)
            except InputError as exc:
                errors.extend(exc.errors)
                continue
            if not errors:
                counts[_save_resource(fields, actor, publish)] += 1
        if errors:
            transaction.set_rollback(True)
            raise InputError(errors[0], errors=errors)
    return counts


def _save_topics(rows: dict[str, dict[str, Any]], actor: User | None, errors: list[str]) -> int:
    if errors:
        return 0
    changed = 0
    for order, (code, row) in enumerate(rows.items()):
        values = {"name_zh": row["name_zh"], "name_en": row["name_en"], "order": order}
        topic, created = Topic.objects.get_or_create(code=code, defaults=values)
        diff = {k: (getattr(topic, k), v) for k, v in values.items() if getattr(topic, k) != v}
        if created or diff:
            Topic.objects.filter(pk=topic.pk).update(**values)
            audit_record(actor=actor, action="topic.import", obj=topic, changes={} if created else diff)
            changed += 1
    for code, row in rows.items():
        parent = Topic.objects.filter(code=row.get("parent")).first() if row.get("parent") else None
        Topic.objects.filter(code=code).exclude(parent=parent).update(parent=parent)
    return changed


def _save_resource(fields: dict[str, Any], actor: User | None, publish: bool) -> str:
    existing = Resource.objects.filter(code=fields["code"]).first()
    if existing is None:
        resource = services.resource_create(actor=actor, data=_as_data(fields), check_scope=False)
        if publish:
            services.resource_publish(actor=None, resource=resource)
        return "created"
    return "updated" if services.resource_import_update(actor=actor, resource=existing, fields=fields) else "unchanged"


def _as_data(fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "topics": [t.code for t in fields["topics"]], "regions": [u.code for u in fields["regions"]]}
