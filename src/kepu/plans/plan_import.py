"""Loading a validated plan file into the database: idempotent, all-or-nothing, audited.

Re-importing an edited file updates rows in place (matched by code), records every field that
changed in the audit log, and deactivates (never deletes) what the new file no longer has, so
observations recorded against it keep their history."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, Denominator, Department, OrgUnit
from kepu.core.regions import departments_in
from kepu.core.services import audit_entry, audit_record, model_update
from kepu.plans.deliverables import deliverables_import
from kepu.plans.district_plans import district_plan_errors
from kepu.plans.models import (
    Indicator,
    KeyGroup,
    Plan,
    PlanImport,
    Programme,
    Section,
    SectionResponsibility,
    Target,
    TargetAllocation,
    TargetResponsibility,
    Task,
    TaskResponsibility,
)
from kepu.plans.plan_file import read_plan
from kepu.plans.tasks import enqueue_status_refresh
from kepu.plans.versions import plan_document
from kepu.stats.forecast import split_by_share


class _Importer:
    """One import's writes. `fresh`: the plan was created by this import, so none of its own rows
    (programmes … targets) exists yet and need not be looked up; departments are the region's and
    may. Audit entries are kept and saved together by flush(), in the order they were made."""

    def __init__(self, plan: Plan, actor: User | None, *, fresh: bool) -> None:
        self.plan = plan
        self.actor = actor
        self.fresh = fresh
        self.counts = {"created": 0, "updated": 0, "deactivated": 0}
        self.pending: list[AuditEntry] = []

    def audit(self, **kwargs: Any) -> None:
        self.pending.append(audit_entry(actor=self.actor, **kwargs))

    def flush(self) -> None:
        AuditEntry.objects.bulk_create(self.pending)
        self.pending = []

    def upsert(self, model: type[models.Model], lookup: dict[str, Any], data: dict[str, Any], *,
               shared: bool = False) -> Any:
        """Create or update the row of `lookup`; `shared` rows (departments) may exist before the plan."""
        obj = None if self.fresh and not shared else model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model._default_manager.create(**lookup, **data)
            self.counts["created"] += 1
            self.audit(
                action=f"{model._meta.model_name}.create",
                obj=obj,
                changes={k: (None, v) for k, v in data.items() if not isinstance(v, models.Model)},
            )
            return obj
        changes = model_update(instance=obj, data=data)
        if changes:
            obj.save()
            self.counts["updated"] += 1
            shown = {k: (self._plain(o), self._plain(n)) for k, (o, n) in changes.items()}
            self.audit(action=f"{model._meta.model_name}.update", obj=obj, changes=shown)
        return obj

    @staticmethod
    def _plain(value: Any) -> Any:
        return str(value) if isinstance(value, models.Model) else value

    def deactivate(self, qs: models.QuerySet[Any], keep: set[int]) -> None:
        for obj in qs.exclude(pk__in=keep).filter(active=True):
            obj.active = False
            obj.save(update_fields=["active"])
            self.counts["deactivated"] += 1
            self.audit(
                action=f"{obj._meta.model_name}.deactivate",
                obj=obj,
                changes={"active": (True, False)},
            )


def _ordered_set(owner: models.Model, through: type[models.Model], fk: str, depts: list[Department], *,
                 fresh: bool = False) -> bool:
    """Set the owner's departments in this order; False when they already were. A `fresh` owner has none."""
    current = [] if fresh else list(
        through._default_manager.filter(**{fk: owner}).order_by("order").values_list("department_id", flat=True)
    )
    wanted = [d.pk for d in depts]
    if current == wanted:
        return False
    if not fresh:
        through._default_manager.filter(**{fk: owner}).delete()
    through._default_manager.bulk_create([through(**{fk: owner}, department=d, order=i) for i, d in enumerate(depts)])
    return True


def _districts(region: OrgUnit) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(parent=region, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True))


def cascade_shares(target: Target, region: OrgUnit) -> dict[str, float] | None:
    """Each district's share of the city value for a population or share cascade (None otherwise).
    A district without the denominator is an error naming it and the denominator."""
    if target.cascade not in (Target.Cascade.POPULATION, Target.Cascade.SHARE):
        return None
    districts = _districts(region)
    key = target.denominator if target.cascade == Target.Cascade.SHARE else Denominator.Key.TOTAL
    if target.cascade == Target.Cascade.POPULATION:
        bases: dict[str, float | None] = {d.code: d.population for d in districts}
    else:
        rows = {r.unit_id: r.value for r in Denominator.objects.filter(unit__in=districts, key=key)}
        bases = {d.code: rows.get(d.pk) for d in districts}
    missing = [d.name_zh for d in districts if not bases[d.code]]
    if missing:
        raise InputError(
            f"target {target.code}: cannot split by denominator {key!r}; no figure for {', '.join(missing)} "
            "in the region file (denominators)"
        )
    total = sum(v or 0 for v in bases.values())
    return {code: (v or 0) / total for code, v in bases.items()}


def allocations_for(
    target: Target, region: OrgUnit, values: dict[str, float] | None = None, shares: dict[str, float] | None = None
) -> dict[str, float]:
    """The district values a target cascades to, by its cascade method (or by the given shares)."""
    if target.cascade == Target.Cascade.SAME:
        return {d.code: target.value for d in _districts(region)}
    if target.cascade == Target.Cascade.ENTERED:
        return {str(k): float(v) for k, v in (values or {}).items()}
    shares = shares or cascade_shares(target, region)
    if shares:
        return split_by_share(target.value, shares, integer=target.indicator.integer)
    return {}


@transaction.atomic
def plan_import(*, path: Path, actor: User | None = None) -> tuple[Plan, dict[str, Any]]:
    """Validate and load a plan file. Raises InputError listing every problem; writes nothing then."""
    doc, errors = read_plan(path)
    if errors or doc is None:
        raise InputError(f"{path.name}: {len(errors)} error(s)", errors=[f"{path.name}: {e}" for e in errors])
    content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = doc["plan"]
    region = OrgUnit.objects.filter(code=meta["region"]).first()
    if region is None:
        raise InputError(f"{path.name}: plan.region: unknown org unit {meta['region']!r}; load the region file first")

    conflicts = _department_conflicts(doc["departments"], meta["code"], region)
    if conflicts:
        raise InputError(f"{path.name}: {len(conflicts)} error(s)", errors=[f"{path.name}: {e}" for e in conflicts])

    plan = Plan.objects.filter(code=meta["code"]).first()
    parent, parent_errors = district_plan_errors(meta, region, plan)
    if parent_errors:
        errors = [f"{path.name}: {e}" for e in parent_errors]
        raise InputError(f"{path.name}: {len(errors)} error(s)", errors=errors)
    if plan is not None and plan.content_hash == content_hash:
        return plan, {"unchanged": True, "version": plan.version}
    fresh = plan is None
    if plan is None:
        plan = Plan.objects.create(
            code=meta["code"],
            name_zh=meta["name_zh"],
            name_en=meta["name_en"],
            region=region,
            start_year=meta["start_year"],
            end_year=meta["end_year"],
            source=meta.get("source", {}),
            **_governance(meta),
            texts=meta.get("texts", {}),
            content_hash=content_hash,
            version=1,
            parent=parent,
        )
        audit_record(actor=actor, action="plan.create", obj=plan)
    else:
        changes = model_update(
            instance=plan,
            data={
                "name_zh": meta["name_zh"],
                "name_en": meta["name_en"],
                "region": region,
                "start_year": meta["start_year"],
                "end_year": meta["end_year"],
                "source": meta.get("source", {}),
                **_governance(meta),
                "texts": meta.get("texts", {}),
                "content_hash": content_hash,
                "version": plan.version + 1,
                "parent": parent,
            },
        )
        plan.save()
        audit_record(
            actor=actor,
            action="plan.update",
            obj=plan,
            changes={k: v for k, v in changes.items() if k not in ("region", "content_hash")},
        )
    imp = _Importer(plan, actor, fresh=fresh)
    _load_structure(imp, doc)
    _load_targets(imp, doc, region)
    _task_indicators(imp)
    imp.flush()
    deliverables_import(plan=plan, doc=doc, departments=imp.departments, actor=actor)  # type: ignore[attr-defined]
    summary = {**imp.counts, "version": plan.version}
    enqueue_status_refresh(plan.pk)
    PlanImport.objects.create(
        plan=plan,
        actor=actor if actor and actor.is_authenticated else None,
        file_name=path.name,
        content_hash=content_hash,
        version=plan.version,
        summary=summary,
        content=path.read_bytes().decode("utf-8", "replace"),
        document=plan_document(doc),
    )
    return plan, summary


def _governance(meta: dict[str, Any]) -> dict[str, str]:
    """Who runs the plan as its file says: the office (and its part) and the leading body."""
    office, lead = meta.get("office", {}), meta.get("leading_body", {})
    return {
        "office_zh": office.get("name_zh", ""),
        "office_en": office.get("name_en", ""),
        "office_role_zh": office.get("role_zh", ""),
        "office_role_en": office.get("role_en", ""),
        "leading_body_zh": lead.get("name_zh", ""),
        "leading_body_en": lead.get("name_en", ""),
        "leading_role_zh": lead.get("role_zh", ""),
        "leading_role_en": lead.get("role_en", ""),
    }


def _department_conflicts(departments: list[dict[str, Any]], plan_code: str, region: OrgUnit) -> list[str]:
    """Departments are shared by the plans of one region (another city has its own 市教育局): a plan may
    neither take a name another department of its region has nor rename one another plan names."""
    by_code = {d.code: d for d in departments_in(region)}
    by_name = {d.name_zh: d for d in by_code.values()}
    errors = []
    for i, d in enumerate(departments):
        other = by_name.get(d["name_zh"])
        if other is not None and other.code != d["code"]:
            errors.append(
                f"departments[{i}].name_zh: {d['name_zh']!r} is already the name of department {other.code!r}"
            )
        same = by_code.get(d["code"])
        if (
            same is not None
            and same.name_zh != d["name_zh"]
            and (
                SectionResponsibility.objects.filter(department=same)
                .exclude(section__programme__plan__code=plan_code)
                .exists()
                or TargetResponsibility.objects.filter(department=same).exclude(target__plan__code=plan_code).exists()
            )
        ):
            errors.append(f"departments[{i}].code: {d['code']!r} is {same.name_zh} in another plan; use another code")
    return errors


def _load_structure(imp: _Importer, doc: dict[str, Any]) -> None:
    plan = imp.plan
    depts: dict[str, Department] = {}
    for d in doc["departments"]:
        depts[d["name_zh"]] = imp.upsert(
            Department,
            {"region": plan.region, "code": d["code"]},
            {"name_zh": d["name_zh"], "name_en": d["name_en"], "kind": d.get("kind", "")},
            shared=True,
        )
    groups = {
        g["code"]: imp.upsert(
            KeyGroup, {"plan": plan, "code": g["code"]}, {"name_zh": g["name_zh"], "name_en": g["name_en"]}
        )
        for g in doc.get("key_groups", [])
    }
    keep_prog, keep_sec, keep_task = set(), set(), set()
    imp.task_indicators = {}  # type: ignore[attr-defined]
    imp.sections = {}  # type: ignore[attr-defined]
    for pi, p in enumerate(doc["programmes"]):
        prog = imp.upsert(
            Programme,
            {"plan": plan, "code": p["code"]},
            {
                "name_zh": p["name_zh"],
                "name_en": p["name_en"],
                "kind": p.get("kind", "programme"),
                "order": pi,
                "active": True,
            },
        )
        keep_prog.add(prog.pk)
        for si, s in enumerate(p["sections"]):
            sec = imp.upsert(
                Section,
                {"programme": prog, "code": s["code"]},
                {
                    "name_zh": s["name_zh"],
                    "name_en": s["name_en"],
                    "key_group": groups.get(s.get("key_group", "")),
                    "order": si,
                    "active": True,
                },
            )
            keep_sec.add(sec.pk)
            imp.sections[s["code"]] = sec  # type: ignore[attr-defined]
            units = [depts[n] for n in s["responsible_units"]]
            old = [] if imp.fresh else [
                d.name_zh for d in sec.responsible_units.order_by("sectionresponsibility__order")]
            if _ordered_set(sec, SectionResponsibility, "section", units, fresh=imp.fresh):
                imp.audit(
                    action="section.responsible_units",
                    obj=sec,
                    changes={"responsible_units": (old, s["responsible_units"])},
                )
            for ti, t in enumerate(s.get("tasks", [])):
                task = imp.upsert(
                    Task,
                    {"section": sec, "code": t["code"]},
                    {
                        "name_zh": t["name_zh"],
                        "name_en": t["name_en"],
                        "summary_zh": t.get("summary_zh", ""),
                        "summary_en": t.get("summary_en", ""),
                        "text_zh": t.get("text_zh", ""),
                        "text_en": t.get("text_en", ""),
                        "verbatim": t.get("verbatim", False),
                        "open_list": t.get("open_list", False),
                        "note_zh": t.get("note_zh", ""),
                        "note_en": t.get("note_en", ""),
                        "order": ti,
                        "active": True,
                    },
                )
                keep_task.add(task.pk)
                _task_units(imp, task, t, depts)
                imp.task_indicators[task.pk] = t.get("indicators", [])  # type: ignore[attr-defined]
    imp.deactivate(Programme.objects.filter(plan=plan), keep_prog)
    imp.deactivate(Section.objects.filter(programme__plan=plan), keep_sec)
    imp.deactivate(Task.objects.filter(section__programme__plan=plan), keep_task)
    imp.departments = depts  # type: ignore[attr-defined]


def _task_units(imp: _Importer, task: Task, t: dict[str, Any], depts: dict[str, Department]) -> None:
    """The task's lead (牵头) and supporting (配合) units, in the file's order; a change is audited."""
    wanted = [(TaskResponsibility.Role.LEAD, n) for n in t.get("lead_units", [])] + [
        (TaskResponsibility.Role.SUPPORT, n) for n in t.get("supporting_units", [])
    ]
    current = [] if imp.fresh else [
        (r.role, r.department.name_zh if r.department else "")
        for r in TaskResponsibility.objects.filter(task=task).select_related("department").order_by("role", "order")
    ]
    if current == wanted:  # "lead" sorts before "support": both lists are leads first, in order
        return
    if current:
        TaskResponsibility.objects.filter(task=task).delete()
    TaskResponsibility.objects.bulk_create(
        [TaskResponsibility(task=task, department=depts[n], role=role, order=i) for i, (role, n) in enumerate(wanted)]
    )
    imp.audit(
        action="task.units",
        obj=task,
        changes={"units": ([f"{r}:{n}" for r, n in current], [f"{r}:{n}" for r, n in wanted])},
    )


def _task_indicators(imp: _Importer) -> None:
    by_code = {i.code: i for i in Indicator.objects.filter(plan=imp.plan)}
    for task in Task.objects.filter(pk__in=imp.task_indicators.keys()):  # type: ignore[attr-defined]
        wanted = {c: by_code[c].pk for c in imp.task_indicators[task.pk]}  # type: ignore[attr-defined]
        current = dict(task.indicators.values_list("code", "pk"))
        if set(wanted.values()) != set(current.values()):
            task.indicators.set(wanted.values())
            # Codes, not ids: the audit log is read by people and outlives the rows.
            imp.audit(
                action="task.indicators",
                obj=task,
                changes={"indicators": (sorted(current), sorted(wanted))},
            )


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _notes(t: dict[str, Any]) -> dict[str, str]:
    """note_zh/note_en of a target; a legacy single `note` fills the language it is written in."""
    legacy = t.get("note", "")
    chinese = bool(_CJK.search(legacy))
    return {
        "note_zh": t.get("note_zh") or (legacy if chinese else ""),
        "note_en": t.get("note_en") or ("" if chinese else legacy),
    }


def _load_targets(imp: _Importer, doc: dict[str, Any], region: OrgUnit) -> None:
    plan = imp.plan
    sections: dict[str, Section] = imp.sections  # type: ignore[attr-defined]
    depts: dict[str, Department] = imp.departments  # type: ignore[attr-defined]
    indicators: dict[str, Indicator] = {}
    for i in doc["indicators"]:
        indicators[i["code"]] = imp.upsert(
            Indicator,
            {"plan": plan, "code": i["code"]},
            {
                "name_zh": i["name_zh"],
                "name_en": i["name_en"],
                "unit": i["unit"],
                "section": sections.get(i.get("section", "")),
                "aggregation": i["aggregation"],
                "integer": i.get("integer", False),
                "min_value": i.get("min"),
                "max_value": i.get("max"),
                "district_not_above_city": i.get("district_not_above_city", False),
                "jump_pct": i.get("jump_pct"),
                "frequency": i.get("frequency", "year"),
                "active": True,
            },
        )
    imp.deactivate(Indicator.objects.filter(plan=plan), {i.pk for i in indicators.values()})
    keep: set[int] = set()
    for order, t in enumerate(doc["targets"]):
        section = sections.get(t.get("section", "")) or indicators[t["indicator"]].section
        period = t.get("period") or {"start": plan.start_year, "end": t.get("deadline_year") or plan.end_year}
        baseline = t.get("baseline") or {}
        target = imp.upsert(
            Target,
            {"plan": plan, "code": t["code"]},
            {
                "indicator": indicators[t["indicator"]],
                "section": section,
                "name_zh": t["name_zh"],
                "name_en": t["name_en"],
                "kind": t["kind"],
                "value": float(t["value"]),
                "unit": t["unit"],
                "deadline_year": t.get("deadline_year"),
                "period_start": period["start"],
                "period_end": period["end"],
                "baseline_year": baseline.get("year"),
                "baseline_value": baseline.get("value"),
                "baseline_history": baseline.get("history", []),
                "milestones": {str(k): v for k, v in t.get("milestones", {}).items()},
                "cascade": t.get("cascade", {}).get("method", "none"),
                "denominator": _denominator(t),
                "direction": t.get("direction", "up"),
                "significant": t.get("significant", False),
                "quote": t["quote"],
                **_notes(t),
                "order": order,
                "active": True,
            },
        )
        keep.add(target.pk)
        names = t.get("responsible_units") or (
            [d.name_zh for d in section.responsible_units.order_by("sectionresponsibility__order")] if section else []
        )
        units = [depts[n] for n in names if n in depts]
        old = [] if imp.fresh else [
            d.name_zh for d in target.responsible_units.order_by("targetresponsibility__order")]
        if _ordered_set(target, TargetResponsibility, "target", units, fresh=imp.fresh):
            imp.audit(
                action="target.responsible_units",
                obj=target,
                changes={"responsible_units": (old, [d.name_zh for d in units])},
            )
        _load_allocations(imp, target, region, t.get("cascade", {}).get("values"))
    imp.deactivate(Target.objects.filter(plan=plan), keep)
    _load_subsets(imp, doc)


def _denominator(t: dict[str, Any]) -> str:
    cascade = t.get("cascade") or {}
    return str(cascade.get("denominator", "")) if cascade.get("method") == "share" else ""


def _load_subsets(imp: _Importer, doc: dict[str, Any]) -> None:
    """Link `subset_of` and refuse a part (其中 …) above its whole, in value or in any district."""
    targets = {t.code: t for t in Target.objects.filter(plan=imp.plan, active=True)}
    errors: list[str] = []
    for t in doc["targets"]:
        child, parent_code = targets[t["code"]], t.get("subset_of")
        parent = targets.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            errors.append(f"target {child.code}: subset_of: unknown target {parent_code!r}")
            continue
        if parent is not None:
            errors += subset_errors(child, parent)
        if child.subset_of_id != (parent.pk if parent else None):
            child.subset_of = parent
            child.save(update_fields=["subset_of"])
    if errors:
        raise InputError(f"{len(errors)} error(s)", errors=errors)


def subset_errors(child: Target, parent: Target) -> list[str]:
    """A subset target's value, and each district's allocation, must not exceed its parent's."""
    errors = []
    if child.value > parent.value:
        errors.append(
            f"target {child.code}: value {child.value:g} is above {parent.value:g} of target {parent.code}, "
            f"which it is part of (subset_of: {parent.code})"
        )
    parent_alloc = {a.org_unit_id: a.value for a in parent.allocations.all()}
    for a in child.allocations.select_related("org_unit"):
        whole = parent_alloc.get(a.org_unit_id)
        if whole is not None and a.value > whole:
            errors.append(
                f"target {child.code}: {a.org_unit.name_zh} gets {a.value:g}, above its {whole:g} of target "
                f"{parent.code} (subset_of: {parent.code})"
            )
    return errors


def _load_allocations(imp: _Importer, target: Target, region: OrgUnit, values: dict[str, float] | None) -> None:
    # Shares the office set by hand survive a re-import (the city value may still change).
    kept = {} if imp.fresh else {
        a.org_unit.code: a.share for a in target.allocations.filter(overridden=True, method=target.cascade)
        .select_related("org_unit") if a.share is not None}
    wanted = allocations_for(target, region, values, shares=kept or None)
    shares = kept or cascade_shares(target, region) or {}
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=list(wanted))}
    unknown = sorted(set(wanted) - set(units))
    if unknown:
        raise InputError(f"target {target.code}: cascade.values: unknown org unit(s) {', '.join(unknown)}")
    existing = {} if imp.fresh else {a.org_unit.code: a for a in target.allocations.select_related("org_unit")}
    new = []
    for code, value in wanted.items():
        alloc = existing.pop(code, None)
        if alloc is None:
            new.append(TargetAllocation(
                target=target, org_unit=units[code], value=value, method=target.cascade, share=shares.get(code)
            ))
        elif alloc.value != value or alloc.method != target.cascade or alloc.share != shares.get(code):
            imp.audit(
                action="allocation.update",
                obj=alloc,
                org_unit=units[code],
                changes={"value": (alloc.value, value)},
                label=f"{target.code} · {units[code].name_zh}",
            )
            alloc.value, alloc.method, alloc.share = value, target.cascade, shares.get(code)
            alloc.save()
    for alloc in existing.values():
        imp.audit(
            action="allocation.delete",
            obj=alloc,
            org_unit=alloc.org_unit,
            changes={"value": (alloc.value, None)},
            label=f"{target.code} · {alloc.org_unit.name_zh}",
        )
        alloc.delete()
    TargetAllocation.objects.bulk_create(new)
