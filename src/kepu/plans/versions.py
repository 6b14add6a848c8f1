"""Plan versions: every import keeps the file it loaded, so any earlier version can be read again
and two versions compared target by target and task by task (not only through the audit log)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kepu.core.errors import InputError
from kepu.core.models import Role
from kepu.core.scope import scope_for
from kepu.plans import district_plans
from kepu.plans.models import Plan, PlanImport

# The order groups are shown in; anything else in a file falls under "other".
KINDS = ("plan", "target", "task", "indicator", "section", "programme", "department", "key_group", "other")
_KIND_LABELS = {
    "plan": _("规划"),
    "target": _("目标"),
    "task": _("任务"),
    "indicator": _("指标"),
    "section": _("章节"),
    "programme": _("工程"),
    "department": _("责任单位"),
    "key_group": _("重点人群"),
    "other": _("其他"),
}
_LISTS = {"targets": "target", "indicators": "indicator", "departments": "department", "key_groups": "key_group"}


def kind_label(kind: str) -> str:
    return str(_KIND_LABELS.get(kind, kind))


def can_see_versions(user: User | AnonymousUser, plan: Plan) -> bool:
    """A plan's versions are for those who edit it: the leading-group office; for a district's
    implementation plan also the district's reporters."""
    if plan.parent_id:
        return district_plans.can_manage(user, plan.region)
    return scope_for(user).covers(plan.region, (Role.OFFICE_ADMIN,))


def plan_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as stored: plain JSON (YAML dates and the like become text)."""
    plain: dict[str, Any] = json.loads(json.dumps(doc, ensure_ascii=False, default=str))
    return plain


def plan_versions(plan: Plan) -> QuerySet[PlanImport]:
    return PlanImport.objects.filter(plan=plan).select_related("actor").order_by("-version", "-at")


def version_get(plan: Plan, version: int) -> PlanImport:
    found = plan_versions(plan).filter(version=version).first()
    if found is None:
        raise InputError(f"plan {plan.code}: no version {version}")
    return found


@dataclass
class Change:
    field: str
    old: Any
    new: Any


@dataclass
class EntityDiff:
    kind: str
    key: str
    name: str
    state: str  # added | removed | changed
    changes: list[Change] = field(default_factory=list)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted fields; lists are compared whole."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix or "value": value}


def _coded(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(i, dict) and "code" in i for i in items)


def _entities(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every target, task, indicator, section, … of a document by (kind, key), fields flattened."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    out[("plan", str(doc.get("plan", {}).get("code", "")))] = _flat(doc.get("plan", {}))
    for pi, prog in enumerate(doc.get("programmes", [])):
        out[("programme", prog["code"])] = _flat({k: v for k, v in prog.items() if k != "sections"}) | {"#": pi}
        for si, sec in enumerate(prog.get("sections", [])):
            out[("section", sec["code"])] = _flat({k: v for k, v in sec.items() if k != "tasks"}) | {
                "programme": prog["code"],
                "#": si,
            }
            for ti, task in enumerate(sec.get("tasks", [])):
                out[("task", f"{sec['code']}/{task['code']}")] = _flat(task) | {"#": ti}
    for name, value in doc.items():
        if name in ("plan", "programmes"):
            continue
        kind = _LISTS.get(name, "other")
        if _coded(value):
            for item in value:
                out[(kind, item["code"] if kind != "other" else f"{name}/{item['code']}")] = _flat(item)
        else:
            out[("other", name)] = {"value": value}
    return out


def document_diff(old: dict[str, Any], new: dict[str, Any]) -> list[EntityDiff]:
    """What changed from `old` to `new`, grouped in KINDS order: added, removed, and changed
    entities with each changed field old → new (position changes, `#`, are left out)."""
    a, b = _entities(old), _entities(new)
    diffs = []
    for key in sorted(set(a) | set(b), key=lambda k: (KINDS.index(k[0]), k[1])):
        before, after = a.get(key), b.get(key)
        name = str((after or before or {}).get("name_zh", ""))
        if before is None:
            diffs.append(EntityDiff(key[0], key[1], name, "added"))
        elif after is None:
            diffs.append(EntityDiff(key[0], key[1], name, "removed"))
        else:
            changes = [
                Change(f, before.get(f), after.get(f))
                for f in sorted(set(before) | set(after))
                if f != "#" and before.get(f) != after.get(f)
            ]
            if changes:
                diffs.append(EntityDiff(key[0], key[1], name, "changed", changes))
    return diffs


def version_diff(plan: Plan, old: int, new: int) -> list[EntityDiff]:
    """The difference between two stored versions of a plan."""
    versions = [version_get(plan, old), version_get(plan, new)]
    for v in versions:
        if v.document is None:
            raise InputError(f"plan {plan.code}: version {v.version} was imported before versions were kept")
    return document_diff(versions[0].document, versions[1].document)  # type: ignore[arg-type]


def diff_json(diffs: list[EntityDiff]) -> list[dict[str, Any]]:
    return [
        {
            "kind": d.kind,
            "key": d.key,
            "name_zh": d.name,
            "state": d.state,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in d.changes],
        }
        for d in diffs
    ]
