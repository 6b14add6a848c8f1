"""The item bank: reading and writing items (YAML and XLSX, all-or-nothing with row-level errors),
the review workflow, and scoring one answer against an item's key."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from kepu.core import uploads
from kepu.core.errors import InputError
from kepu.core.services import audit_record, model_update
from kepu.literacy.models import DIMENSIONS, Item, ItemRevision

TYPES = [t.value for t in Item.Type]
FIELDS = [
    "code",
    "dimension",
    "jizhun",
    "type",
    "stem_zh",
    "stem_en",
    "options",
    "key",
    "points",
    "difficulty",
    "anchor",
    "topics",
    "groups",
    "explanation_zh",
    "explanation_en",
    "status",
]
# Allowed moves in the review workflow.
TRANSITIONS = {
    Item.Status.DRAFT: {Item.Status.REVIEWED},
    Item.Status.REVIEWED: {Item.Status.LIVE, Item.Status.DRAFT},
    Item.Status.LIVE: {Item.Status.RETIRED},
    Item.Status.RETIRED: {Item.Status.DRAFT},
}


def normalise_response(item: Item | dict[str, Any], raw: Any) -> Any:
    """An answer as the key is written: bool for true/false, "B" for single, sorted list for multiple."""
    kind = item.type if isinstance(item, Item) else item["type"]
    if kind == "true_false":
        text = str(raw).strip().lower()
        if text in {"true", "t", "1", "对", "是", "正确", "yes", "y"}:
            return True
        if text in {"false", "f", "0", "错", "否", "错误", "no", "n"}:
            return False
        raise ValueError(_("应为 对/错(true/false)，实际为“%(got)s”") % {"got": raw})
    key = item.key if isinstance(item, Item) else item["key"]
    if isinstance(raw, (list, tuple)):
        letters = [str(x).strip().upper() for x in raw]
    else:
        letters = [c for c in str(raw).upper() if c.isalpha()]
    options = {str(o["key"]) for o in (item.options if isinstance(item, Item) else item.get("options", []))}
    unknown = [x for x in letters if x not in options]
    if unknown:
        letters_ok = ", ".join(sorted(options))
        raise ValueError(_("应为选项字母 %(options)s，实际为“%(got)s”") % {"options": letters_ok, "got": raw})
    if isinstance(key, list):
        return sorted(set(letters))
    if len(letters) != 1:
        raise ValueError(_("应为一个选项字母，实际为“%(got)s”") % {"got": raw})
    return letters[0]


def item_points(item: Item, response: Any) -> tuple[float, bool]:
    """Full points for an exactly right answer; multiple-answer items have no partial credit."""
    key = item.key
    right = sorted(key) if isinstance(key, list) else key
    correct = response == right
    return (float(item.points) if correct else 0.0), correct


def _row_errors(row: dict[str, Any], where: str) -> list[str]:
    errors = []
    for f in ("code", "dimension", "type", "stem_zh", "stem_en", "key"):
        if row.get(f) in (None, ""):
            errors.append(f"{where}.{f}: required")
    if errors:
        return errors
    problem = uploads.code_problem(row["code"], max_length=Item._meta.get_field("code").max_length or 0)
    if problem:  # item codes appear in page addresses (/literacy/items/CODE/)
        errors.append(f"{where}.code: {problem}")
    for f in ("stem_zh", "stem_en", "explanation_zh", "explanation_en"):
        problem = uploads.text_problem(row.get(f), max_length=2000)
        if problem:
            errors.append(f"{where}.{f}: {problem}")
    if row["dimension"] not in DIMENSIONS:
        errors.append(f"{where}.dimension: expected one of {', '.join(DIMENSIONS)}, got {row['dimension']!r}")
    if row["type"] not in TYPES:
        errors.append(f"{where}.type: expected one of {', '.join(TYPES)}, got {row['type']!r}")
        return errors
    options = row.get("options") or []
    keys = [str(o.get("key")) for o in options if isinstance(o, dict)]
    if row["type"] == "true_false":
        if not isinstance(row["key"], bool):
            errors.append(f"{where}.key: a true/false item's key must be true or false, got {row['key']!r}")
    else:
        if len(keys) < 2 or len(set(keys)) != len(keys):
            errors.append(f"{where}.options: expected at least two options with distinct keys")
        for o in options:
            if not isinstance(o, dict) or not o.get("zh") or not o.get("en"):
                errors.append(f"{where}.options: every option needs key, zh and en")
                break
        wanted = row["key"] if isinstance(row["key"], list) else [row["key"]]
        missing = [k for k in wanted if str(k) not in keys]
        if missing:
            errors.append(f"{where}.key: {', '.join(map(str, missing))} is not an option")
        if row["type"] == "multiple" and not isinstance(row["key"], list):
            errors.append(f"{where}.key: a multiple-choice key is a list such as [A, C]")
    points = row.get("points", 1)
    if not isinstance(points, int) or isinstance(points, bool) or points < 1:
        errors.append(f"{where}.points: expected a whole number ≥ 1, got {points!r}")
    diff = row.get("difficulty")
    if diff is not None and (not isinstance(diff, (int, float)) or not 0 <= diff <= 1):
        errors.append(f"{where}.difficulty: expected a share between 0 and 1, got {diff!r}")
    jz = row.get("jizhun")
    if jz is not None and (not isinstance(jz, int) or not 1 <= jz <= 26):
        errors.append(f"{where}.jizhun: expected a 基准 number 1–26, got {jz!r}")
    status = row.get("status", "draft")
    if status not in Item.Status.values:
        errors.append(f"{where}.status: expected one of {', '.join(Item.Status.values)}, got {status!r}")
    return errors


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "dimension": row["dimension"],
        "jizhun": row.get("jizhun"),
        "type": row["type"],
        "stem_zh": str(row["stem_zh"]).strip(),
        "stem_en": str(row["stem_en"]).strip(),
        "options": [{"key": str(o["key"]), "zh": str(o["zh"]), "en": str(o["en"])} for o in row.get("options") or []],
        "key": sorted(map(str, row["key"])) if isinstance(row["key"], list) else row["key"],
        "points": int(row.get("points", 1)),
        "difficulty": row.get("difficulty"),
        "anchor": bool(row.get("anchor", False)),
        "topics": list(row.get("topics") or []),
        "groups": list(row.get("groups") or []),
        "explanation_zh": str(row.get("explanation_zh") or ""),
        "explanation_en": str(row.get("explanation_en") or ""),
        "status": row.get("status", "draft"),
    }


CONTENT_FIELDS = [f for f in FIELDS if f not in ("code", "status")]
# Items in these states have never been on a form (or were sent back to draft on purpose), so an
# import may edit them in place; any other change goes through an ItemRevision and review.
EDITABLE = {Item.Status.DRAFT, Item.Status.REVIEWED}


def item_content(item: Item) -> dict[str, Any]:
    return {f: getattr(item, f) for f in CONTENT_FIELDS}


@transaction.atomic
def items_import(*, rows: list[dict[str, Any]], source: str, actor: User | None = None) -> dict[str, int]:
    """Create or update items by code. Every row is checked first; any error and nothing is written.

    A live or retired item is never changed in place: a changed row becomes a draft ItemRevision
    that goes through review (`item_revision_transition`). An import never moves an existing
    item's status, except that editing a reviewed item sends it back to draft. Importing the
    unchanged bank changes nothing."""
    errors: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        place = row.pop("_where", f"row {i + 1}") if isinstance(row, dict) else f"row {i + 1}"
        where = f"{source}: {place}" + (f" ({row.get('code')})" if isinstance(row, dict) and row.get("code") else "")
        if not isinstance(row, dict):
            errors.append(f"{where}: expected a mapping of item fields")
            continue
        errors += _row_errors(row, where)
        if row.get("code") in seen:
            errors.append(f"{where}.code: duplicate code {row['code']!r}")
        seen.add(str(row.get("code")))
    if errors:
        raise InputError(errors[0], errors=errors)
    counts = {"created": 0, "updated": 0, "revisions": 0, "unchanged": 0}
    existing = {i.code: i for i in Item.objects.filter(code__in=seen)}
    for row in rows:
        data = _clean(row)
        item = existing.get(str(row["code"]))
        if item is None:
            item = Item.objects.create(code=str(row["code"]), **data)
            counts["created"] += 1
            audit_record(actor=actor, action="item.create", obj=item, comment=f"新增题目 {item.code}（{source}）")
            continue
        content = {f: data[f] for f in CONTENT_FIELDS}
        if item.status in EDITABLE:
            changes = model_update(instance=item, data=content)
            if changes:
                if item.status == Item.Status.REVIEWED:
                    changes["status"] = (item.status, Item.Status.DRAFT.value)
                    item.status = Item.Status.DRAFT
                item.save()
                counts["updated"] += 1
                audit_record(actor=actor, action="item.update", obj=item, changes=changes,
                             comment=f"导入修改题目 {item.code}：{_field_names(changes)}（{source}）")
            else:
                counts["unchanged"] += 1
        elif _revision_propose(item=item, content=content, source=source, actor=actor):
            counts["revisions"] += 1
        else:
            counts["unchanged"] += 1
    return counts


FIELD_LABELS = {
    "dimension": gettext_lazy("维度"),
    "jizhun": gettext_lazy("基准"),
    "type": gettext_lazy("题型"),
    "stem_zh": gettext_lazy("题干(中文)"),
    "stem_en": gettext_lazy("题干(英文)"),
    "options": gettext_lazy("选项"),
    "key": gettext_lazy("答案"),
    "points": gettext_lazy("分值"),
    "difficulty": gettext_lazy("难度"),
    "anchor": gettext_lazy("锚题"),
    "topics": gettext_lazy("主题标签"),
    "groups": gettext_lazy("重点人群"),
    "explanation_zh": gettext_lazy("解析(中文)"),
    "explanation_en": gettext_lazy("解析(英文)"),
    "status": gettext_lazy("状态"),
}


def _field_names(changes: dict[str, Any]) -> str:
    """Changed fields named for the audit log, which is kept in Chinese."""
    with translation.override("zh-hans"):
        return "、".join(str(FIELD_LABELS.get(f, f)) for f in changes)


def _revision_propose(*, item: Item, content: dict[str, Any], source: str, actor: User | None) -> bool:
    """Record a changed row of a live or retired item as a draft revision; False when nothing is new
    (the row equals the item in force, or equals the revision already waiting for review)."""
    pending = item.revisions.filter(status__in=[ItemRevision.Status.DRAFT, ItemRevision.Status.REVIEWED]).first()
    if content == item_content(item):
        return False
    if pending is not None:
        if pending.data == content:
            return False
        pending.data, pending.status, pending.source = content, ItemRevision.Status.DRAFT, source[:200]
        pending.save(update_fields=["data", "status", "source"])
        revision = pending
    else:
        last = item.revisions.order_by("-number").values_list("number", flat=True).first() or item.revision
        revision = ItemRevision.objects.create(
            item=item, number=max(last, item.revision) + 1, data=content, source=source[:200]
        )
    changed = {f: (getattr(item, f), content[f]) for f in CONTENT_FIELDS if getattr(item, f) != content[f]}
    audit_record(
        actor=actor, action="item.revision", obj=item, changes=changed,
        comment=f"题目 {item.code} 的修订 {revision.number} 待审核（改动：{_field_names(changed)}；来源 {source}）",
    )
    return True


def _shown(field: str, value: Any) -> str:
    """A field value as a reviewer reads it (no JSON, no Python reprs)."""
    if value is None or value == "" or value == []:
        return "—"
    if field == "options":
        return "；".join(f"{o['key']}. {o['zh']}" for o in value)
    if field in ("topics", "groups"):
        from kepu.literacy.selectors import group_label, topic_label

        return "、".join(map(topic_label if field == "topics" else group_label, value))
    if field == "key" and isinstance(value, bool):
        return "正确" if value else "错误"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def item_revision_diff(revision: ItemRevision) -> list[tuple[str, str, str]]:
    """(field label, before, after) for each field the revision changes: against the content it
    replaced once applied, otherwise against the item as it is now."""
    before = revision.previous if revision.status == ItemRevision.Status.APPLIED else item_content(revision.item)
    return [
        (str(FIELD_LABELS.get(f, f)), _shown(f, before.get(f)), _shown(f, revision.data.get(f)))
        for f in CONTENT_FIELDS
        if before.get(f) != revision.data.get(f)
    ]


_R = ItemRevision.Status
REVISION_TRANSITIONS = {_R.DRAFT: {_R.REVIEWED, _R.REJECTED}, _R.REVIEWED: {_R.APPLIED, _R.DRAFT, _R.REJECTED}}


@transaction.atomic
def item_revision_transition(*, revision: ItemRevision, to: str, actor: User) -> ItemRevision:
    """Review a revision: draft → reviewed → applied (its content replaces the item's), or rejected."""
    revision = ItemRevision.objects.select_for_update().select_related("item").get(pk=revision.pk)
    allowed = REVISION_TRANSITIONS.get(ItemRevision.Status(revision.status), set())
    if to not in allowed:
        raise InputError(
            _("修订 %(n)s 当前为“%(s)s”，不能执行此操作。")
            % {"n": revision.number, "s": revision.get_status_display()}
        )
    item = revision.item
    old = revision.status
    revision.status = to
    changes: dict[str, tuple[Any, Any]] = {"revision_status": (old, to)}
    if to == ItemRevision.Status.APPLIED:
        revision.previous = item_content(item)
        changes.update(model_update(instance=item, data=revision.data))
        changes["revision"] = (item.revision, revision.number)
        item.revision = revision.number
        item.save()
    if to in (ItemRevision.Status.APPLIED, ItemRevision.Status.REJECTED):
        revision.decided_at = timezone.now()
    revision.save()
    verb = {"reviewed": "审核通过", "applied": "生效", "rejected": "驳回", "draft": "退回修改"}[to]
    audit_record(actor=actor, action="item.revision_status", obj=item, changes=changes,
                 comment=f"题目 {item.code} 的修订 {revision.number} {verb}")
    return revision


def read_item_file(path_or_bytes: Path | bytes, *, name: str = "") -> list[dict[str, Any]]:
    """Rows from a YAML file (`items:` list) or an XLSX sheet exported by `items_export_xlsx`."""
    fname = name or (path_or_bytes.name if isinstance(path_or_bytes, Path) else "upload")
    if isinstance(path_or_bytes, Path):
        content = uploads.read_path(path_or_bytes, kind="items")
    else:
        uploads.check_size(len(path_or_bytes), name=fname, kind="items")
        content = path_or_bytes
    if fname.endswith((".yaml", ".yml")):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{fname}: not valid YAML ({exc})") from exc
        doc = uploads.yaml_load(text, name=fname, kind="items")
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
            raise InputError(f"{fname}: expected a mapping with an `items` list")
        if len(doc["items"]) > uploads.limits_for("items").max_rows:
            raise InputError(_("文件 %(name)s 超过 %(limit)s 行的上限；请拆分后分批上传。")
                             % {"name": fname, "limit": f"{uploads.limits_for('items').max_rows:,}"})
        return list(doc["items"])
    if fname.endswith(".xlsx"):
        return _read_xlsx(content, fname)
    raise InputError(f"{fname}: expected a .yaml or .xlsx file")


def _read_xlsx(content: bytes, fname: str) -> list[dict[str, Any]]:
    rows = next(iter(uploads.read_xlsx(content, name=fname, kind="items").values()), [])
    if not rows:
        raise InputError(f"{fname}: the sheet is empty")
    header = [str(h or "").strip() for h in rows[0]]
    missing = [f for f in ("code", "dimension", "type", "stem_zh", "stem_en", "key") if f not in header]
    if missing:
        raise InputError(f"{fname}: header row lacks column(s) {', '.join(missing)}")
    out = []
    errors = []
    for r, values in enumerate(rows[1:], start=2):
        if all(v in (None, "") for v in values):
            continue
        row: dict[str, Any] = dict(zip(header, values, strict=False))
        for f in ("options", "key", "topics", "groups"):
            if isinstance(row.get(f), str):
                try:
                    row[f] = json.loads(row[f])
                except json.JSONDecodeError:
                    if f != "key":  # a key may also be typed plainly: B
                        errors.append(f"{fname}: row {r}, column {f}: expected JSON, got {row[f]!r}")

        row["anchor"] = str(row.get("anchor")).lower() in {"1", "true", "yes"}
        kept = {k: v for k, v in row.items() if v not in (None, "") or k == "key"}
        out.append({**kept, "_where": f"sheet row {r}"})
    if errors:
        raise InputError(errors[0], errors=errors)
    return out


def items_export_yaml(items: Iterable[Item]) -> str:
    rows = [{"code": i.code, **{f: getattr(i, f) for f in FIELDS[1:]}} for i in items]
    return yaml.safe_dump({"items": rows}, allow_unicode=True, sort_keys=False)


def items_export_xlsx(items: Iterable[Item]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "items"
    ws.append(FIELDS)
    for i in items:
        ws.append(
            [
                json.dumps(getattr(i, f), ensure_ascii=False)
                if f in ("options", "key", "topics", "groups")
                else getattr(i, f)
                for f in FIELDS
            ]
        )
    return uploads.xlsx_bytes(wb)


@transaction.atomic
def item_transition(*, item: Item, to: str, actor: User) -> Item:
    allowed = TRANSITIONS.get(Item.Status(item.status), set())
    if to not in allowed:
        target = Item.Status(to).label if to in Item.Status.values else to
        raise InputError(
            _("%(code)s 当前为“%(from)s”，不能改为“%(to)s”。")
            % {"code": item.code, "from": item.get_status_display(), "to": target}
        )
    old = item.status
    item.status = to
    item.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, action="item.status", obj=item, changes={"status": (old, to)},
        comment=f"题目 {item.code}：{Item.Status(old).label} → {item.get_status_display()}",
    )
    return item
