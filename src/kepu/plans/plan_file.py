"""Reading and validating plan files. Every problem is reported with its path in the file
(e.g. `targets[3].kind`), all at once, so an editor can fix a file in one pass."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from kepu.core import uploads
from kepu.core.errors import InputError

SCHEMA_PATH = Path(__file__).with_name("plan_schema.json")


@cache
def plan_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def load_yaml(path: Path) -> tuple[Any, list[str]]:
    """The document, bounded in size and alias expansion, with duplicate keys refused."""
    try:
        text = uploads.read_path(path, kind="plan").decode("utf-8")
        return uploads.yaml_load(text, name=path.name, kind="plan"), []
    except UnicodeDecodeError as exc:
        return None, [f"{path.name}: cannot read the file ({exc})"]
    except InputError as exc:
        return None, exc.errors


def validate_document(doc: Any) -> list[str]:
    """Schema errors first; the cross-reference checks only run on a schema-valid document."""
    if not isinstance(doc, dict):
        return ["(top level): expected a mapping with plan, departments, programmes, indicators, targets"]
    numbers = _number_errors(doc, ())
    if numbers:
        return numbers
    validator = jsonschema.Draft202012Validator(plan_schema())
    errors = [
        f"{_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if errors:
        return errors
    return _semantic_errors(doc)


def _number_errors(node: Any, parts: tuple[Any, ...]) -> list[str]:
    """inf, nan and absurd numbers (1e308) anywhere in the file, which the schema's "number" lets through."""
    if isinstance(node, dict):
        return [e for k, v in node.items() for e in _number_errors(v, (*parts, k))]
    if isinstance(node, list):
        return [e for i, v in enumerate(node) for e in _number_errors(v, (*parts, i))]
    problem = uploads.number_problem(node)
    return [f"{_path(parts)}: {problem}"] if problem else []


def _duplicates(items: list[dict[str, Any]], key: str, where: str) -> list[str]:
    counts = Counter(str(i[key]) for i in items)
    return [f"{where}: duplicate {key} {value!r}" for value, n in counts.items() if n > 1]


def _semantic_errors(doc: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    plan = doc["plan"]
    start, end = plan["start_year"], plan["end_year"]
    if start > end:
        errors.append(f"plan.end_year: {end} is before start_year {start}")
    departments = doc["departments"]
    errors += _duplicates(departments, "code", "departments")
    errors += _duplicates(departments, "name_zh", "departments")
    dept_names = {d["name_zh"] for d in departments}
    groups = {g["code"] for g in doc.get("key_groups", [])}
    errors += _duplicates(doc["programmes"], "code", "programmes")
    sections: set[str] = set()
    for pi, prog in enumerate(doc["programmes"]):
        for si, sec in enumerate(prog["sections"]):
            where = f"programmes[{pi}].sections[{si}]"
            if sec["code"] in sections:
                errors.append(f"{where}.code: duplicate section code {sec['code']!r}")
            sections.add(sec["code"])
            if "key_group" in sec and sec["key_group"] not in groups:
                errors.append(f"{where}.key_group: unknown key group {sec['key_group']!r}")
            for ui, name in enumerate(sec["responsible_units"]):
                if name not in dept_names:
                    errors.append(f"{where}.responsible_units[{ui}]: {name!r} is not listed under departments")
            errors += _duplicates(sec.get("tasks", []), "code", f"{where}.tasks")
            for ti, task in enumerate(sec.get("tasks", [])):
                errors += _task_unit_errors(task, f"{where}.tasks[{ti}]", dept_names)
    indicators: dict[str, dict[str, Any]] = {}
    for ii, ind in enumerate(doc["indicators"]):
        where = f"indicators[{ii}]"
        if ind["code"] in indicators:
            errors.append(f"{where}.code: duplicate indicator code {ind['code']!r}")
        indicators[ind["code"]] = ind
        if "section" in ind and ind["section"] not in sections:
            errors.append(f"{where}.section: unknown section {ind['section']!r}")
        if "min" in ind and "max" in ind and ind["min"] > ind["max"]:
            errors.append(f"{where}.max: {ind['max']} is below min {ind['min']}")
    for pi, prog in enumerate(doc["programmes"]):
        for si, sec in enumerate(prog["sections"]):
            for ti, task in enumerate(sec.get("tasks", [])):
                for ii, code in enumerate(task.get("indicators", [])):
                    if code not in indicators:
                        errors.append(
                            f"programmes[{pi}].sections[{si}].tasks[{ti}].indicators[{ii}]: "
                            f"task {task['code']}: unknown indicator {code!r}"
                        )
    errors += _duplicates(doc["targets"], "code", "targets")
    for ti, tgt in enumerate(doc["targets"]):
        errors += _target_errors(tgt, f"targets[{ti}]", indicators, sections, dept_names, start, end)
    from kepu.plans.deliverables import deliverable_file_errors  # the plans models load only once Django is set up

    errors += deliverable_file_errors(doc, dept_names, sections)
    return errors


def _task_unit_errors(task: dict[str, Any], where: str, dept_names: set[str]) -> list[str]:
    """A task names its lead (牵头) and supporting (配合) units from the departments list; it needs a lead."""
    errors: list[str] = []
    if not task.get("lead_units"):
        errors.append(f"{where}.lead_units: task {task['code']} has no lead unit")
    for key in ("lead_units", "supporting_units"):
        for ui, name in enumerate(task.get(key, [])):
            if name not in dept_names:
                errors.append(f"{where}.{key}[{ui}]: task {task['code']}: unknown unit {name!r} (not a department)")
    for name in set(task.get("lead_units", [])) & set(task.get("supporting_units", [])):
        errors.append(f"{where}.supporting_units: task {task['code']}: {name!r} is already a lead unit")
    return errors


def _target_errors(
    tgt: dict[str, Any], where: str, indicators: dict[str, dict[str, Any]], sections: set[str],
    dept_names: set[str], start: int, end: int,
) -> list[str]:
    errors: list[str] = []
    ind = indicators.get(tgt["indicator"])
    if ind is None:
        errors.append(f"{where}.indicator: unknown indicator {tgt['indicator']!r}")
    if "section" in tgt and tgt["section"] not in sections:
        errors.append(f"{where}.section: unknown section {tgt['section']!r}")
    for ui, name in enumerate(tgt.get("responsible_units", [])):
        if name not in dept_names:
            errors.append(f"{where}.responsible_units[{ui}]: {name!r} is not listed under departments")
    kind = tgt["kind"]
    deadline = tgt.get("deadline_year")
    if kind == "flow":
        if deadline is not None:
            errors.append(f"{where}.deadline_year: a flow target (at least N per year) has a period, not a deadline")
        if "period" not in tgt:
            errors.append(f"{where}.period: a flow target needs the period (start, end) it applies to")
    elif deadline is None:
        errors.append(f"{where}.deadline_year: a {kind} target needs a deadline year")
    elif not start <= deadline <= end:
        errors.append(f"{where}.deadline_year: {deadline} is outside the plan years {start}–{end}")
    period = tgt.get("period")
    if period:
        if period["start"] > period["end"]:
            errors.append(f"{where}.period: start {period['start']} is after end {period['end']}")
        if period["start"] < start or period["end"] > end:
            errors.append(f"{where}.period: {period['start']}–{period['end']} is outside the plan years {start}–{end}")
    if kind in ("rate", "coverage") and ind is not None:
        lo, hi = ind.get("min"), ind.get("max")
        if (lo is not None and tgt["value"] < lo) or (hi is not None and tgt["value"] > hi):
            errors.append(f"{where}.value: {tgt['value']} is outside the indicator's range {lo}–{hi}")
    if tgt["value"] < 0:
        errors.append(f"{where}.value: a target cannot be negative")
    baseline = tgt.get("baseline")
    if baseline and baseline["year"] > start:
        errors.append(f"{where}.baseline.year: {baseline['year']} is after the plan starts ({start})")
    for year in tgt.get("milestones", {}):
        if not start <= int(year) <= end:
            errors.append(f"{where}.milestones.{year}: outside the plan years {start}–{end}")
    cascade = tgt.get("cascade", {})
    if cascade.get("method") == "entered" and not cascade.get("values"):
        errors.append(f"{where}.cascade.values: method 'entered' needs a value per org unit")
    return errors


# Parsed and checked documents by the SHA-256 of their bytes: parsing and validating the Changzhou
# plan takes most of a second, and a process (a test worker, a web worker re-importing) often reads
# the same file again. Keyed by content, so an edited file is always read afresh; callers get a copy.
_READ_CACHE: dict[str, tuple[dict[str, Any] | None, list[str]]] = {}
_READ_CACHE_SIZE = 8


def read_plan(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        key = hashlib.sha256(uploads.read_path(path, kind="plan")).hexdigest()
    except InputError as exc:
        return None, exc.errors
    if key not in _READ_CACHE:
        doc, errors = load_yaml(path)
        if not errors:
            errors = validate_document(doc)
        if len(_READ_CACHE) >= _READ_CACHE_SIZE:
            _READ_CACHE.pop(next(iter(_READ_CACHE)))
        _READ_CACHE[key] = (doc if not errors else None, errors)
    doc, errors = _READ_CACHE[key]
    return copy.deepcopy(doc), list(errors)
