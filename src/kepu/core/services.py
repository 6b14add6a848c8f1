"""Writes for the core app: audit entries, org-unit loading, users, roles and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.models import (
    ApiToken,
    AuditEntry,
    Denominator,
    OrgUnit,
    PopulationCell,
    Role,
    RoleAssignment,
)
from kepu.core.regions import attach_members, department_for_unit, kept_parent, region_file_clashes
from kepu.core.uploads import code_problem, number_problem, read_path, text_problem, yaml_load


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict[str, tuple[Any, Any]] | None = None,
    org_unit: OrgUnit | None = None,
    comment: str = "",
    label: str | None = None,
) -> AuditEntry:
    """Append one audit entry; `changes` maps field → (old, new)."""
    entry = audit_entry(actor=actor, action=action, obj=obj, changes=changes, org_unit=org_unit, comment=comment,
                        label=label)
    entry.save()
    return entry


def audit_entry(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict[str, tuple[Any, Any]] | None = None,
    org_unit: OrgUnit | None = None,
    comment: str = "",
    label: str | None = None,
) -> AuditEntry:
    """The audit entry audit_record appends, not yet saved: an import that writes hundreds of rows
    saves its entries together (AuditEntry.objects.bulk_create) in the same transaction."""
    return AuditEntry(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.get_username() if actor is not None else "system",
        action=action,
        object_type=obj._meta.label_lower if hasattr(obj, "_meta") else type(obj).__name__,
        object_id=str(getattr(obj, "pk", "")),
        object_label=label if label is not None else str(obj)[:300],
        org_unit=org_unit,
        changes={k: [_plain(o), _plain(n)] for k, (o, n) in (changes or {}).items()},
        comment=comment,
    )


def model_update(*, instance: Any, data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set fields that differ and return what changed as field → (old, new)."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, new in data.items():
        old = getattr(instance, name)
        if old != new:
            changed[name] = (old, new)
            setattr(instance, name, new)
    return changed


# -- org units ---------------------------------------------------------------------------------

def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"{where}: expected an ISO date such as 2020-06-30, got {value!r}") from exc


def _max_length(model: Any, name: str) -> int:
    return int(getattr(model._meta.get_field(name), "max_length", 0) or 0)


def _check_unit_fields(row: dict[str, Any], where: str) -> None:
    """Codes are slugs and texts fit their columns, checked here so SQLite and PostgreSQL agree."""
    problem = code_problem(row["code"], max_length=_max_length(OrgUnit, "code"))
    if problem:
        raise InputError(f"{where}.code: {problem}")
    for key in ("name_zh", "name_en", "kind"):
        problem = text_problem(row.get(key), max_length=_max_length(OrgUnit, key))
        if problem:
            raise InputError(f"{where}.{key}: {problem}")


def _count(row: dict[str, Any], where: str, *, share: bool = False) -> float:
    value = row.get("value")
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or number_problem(value)
        or not 0 <= value <= (1 if share else math.inf)
    ):
        message = _("%(where)s.value：需要 0 到 1 之间的比例，得到 %(v)s。") if share else _(
            "%(where)s.value：需要不小于 0 的整数，得到 %(v)s。"
        )
        raise InputError(message % {"where": where, "v": repr(value)})
    return float(value)


@transaction.atomic
def region_import(*, path: Path, actor: User | None = None) -> dict[str, int]:
    """Load (or update) org units and population from a region YAML file, all or nothing."""
    try:
        text = read_path(path, kind="region").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read region file: {exc}") from exc
    doc = yaml_load(text, name=path.name, kind="region")
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list):
        raise InputError(f"{path}: expected a mapping with a `units` list")
    created = updated = 0
    by_code: dict[str, OrgUnit] = {u.code: u for u in OrgUnit.objects.all()}
    region_file_clashes(doc, by_code, path.name)
    successor_links: list[tuple[OrgUnit, list[str], str]] = []
    for i, row in enumerate(doc["units"]):
        where = f"{path.name}: units[{i}]"
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a mapping")
        for key in ("code", "name_zh", "name_en", "level"):
            if not row.get(key):
                raise InputError(f"{where}: `{key}` is required")
        code = str(row["code"])
        _check_unit_fields(row, where)
        if row["level"] not in OrgUnit.Level.values:
            raise InputError(f"{where}.level: expected one of {', '.join(OrgUnit.Level.values)}, got {row['level']!r}")
        parent = None
        if row.get("parent") is not None:
            parent = by_code.get(str(row["parent"]))
            if parent is None:
                raise InputError(f"{where}.parent: unknown unit {row['parent']!r} (parents must come first)")
        parent = parent or kept_parent(row, doc, by_code)
        data = {
            "name_zh": row["name_zh"],
            "name_en": row["name_en"],
            "level": row["level"],
            "kind": row.get("kind", "") or "",
            "parent": parent,
            "path": f"{parent.path if parent else '/'}{code}/",
            "official_code": bool(row.get("official_code", True)),
            "valid_from": _date(row.get("valid_from"), f"{where}.valid_from"),
            "valid_to": _date(row.get("valid_to"), f"{where}.valid_to"),
            "sort": i,
            "note": str(row.get("note", "") or ""),
        }
        unit = by_code.get(code)
        if unit is None:
            unit = OrgUnit.objects.create(code=code, **data)
            by_code[code] = unit
            created += 1
            audit_record(actor=actor, action="orgunit.create", obj=unit, org_unit=unit)
        else:
            changes = model_update(instance=unit, data=data)
            if changes:
                unit.save()
                updated += 1
                audit_record(actor=actor, action="orgunit.update", obj=unit, changes=changes, org_unit=unit)
        if row.get("successors"):
            successor_links.append((unit, [str(c) for c in row["successors"]], where))
    for unit, codes, where in successor_links:
        missing = [c for c in codes if c not in by_code]
        if missing:
            raise InputError(f"{where}.successors: unknown unit(s) {', '.join(missing)}")
        unit.successors.set([by_code[c] for c in codes])
    _population_import(doc.get("population") or {}, by_code, path.name)
    file_units = {str(r["code"]): by_code[str(r["code"])] for r in doc["units"]}
    _denominators_import(doc, file_units, path.name)
    attach_members(doc, by_code, path.name, actor)
    return {"created": created, "updated": updated, "units": len(doc["units"])}


def _population_import(pop: dict[str, Any], by_code: dict[str, OrgUnit], fname: str) -> None:
    for i, row in enumerate(pop.get("totals") or []):
        unit = by_code.get(str(row.get("unit")))
        if unit is None:
            raise InputError(f"{fname}: population.totals[{i}].unit: unknown unit {row.get('unit')!r}")
        unit.population = int(_count(row, f"{fname}: population.totals[{i}]"))
        unit.population_is_estimate = bool(row.get("estimate"))
        flags = [k for k in ("estimate", "derived", "rounded") if row.get(k)]
        unit.population_note = ", ".join(flags)
        unit.save(update_fields=["population", "population_is_estimate", "population_note"])
    for i, row in enumerate(pop.get("urban_share") or []):
        unit = by_code.get(str(row.get("unit")))
        if unit is None:
            raise InputError(f"{fname}: population.urban_share[{i}].unit: unknown unit {row.get('unit')!r}")
        unit.urban_share = _count(row, f"{fname}: population.urban_share[{i}]", share=True)
        unit.save(update_fields=["urban_share"])
    cells = pop.get("cells") or []
    if cells:
        PopulationCell.objects.filter(unit__in=list(by_code.values())).delete()
        objs = []
        for i, row in enumerate(cells):
            unit = by_code.get(str(row.get("unit")))
            if unit is None:
                raise InputError(f"{fname}: population.cells[{i}].unit: unknown unit {row.get('unit')!r}")
            objs.append(
                PopulationCell(
                    unit=unit, sex=row["sex"], age_band=str(row["age_band"]), area=row["area"],
                    value=int(_count(row, f"{fname}: population.cells[{i}]")),
                    is_estimate=bool(pop.get("cells_estimate", True)),
                )
            )
        PopulationCell.objects.bulk_create(objs)


def _denominators_import(doc: dict[str, Any], by_code: dict[str, OrgUnit], fname: str) -> None:
    """Cascade denominators with their sources (stored as the source's title or address, so pages can
    cite it). `total` is population.totals; the others are the `denominators` block."""
    sources = doc.get("sources") or {}
    block = doc.get("denominators") or {}
    totals = (doc.get("population") or {}).get("totals") or []
    entries = [("total", f"population.totals[{i}]", r) for i, r in enumerate(totals)]
    for key, rows_of_key in block.items():
        if key not in Denominator.Key.values or key == Denominator.Key.TOTAL:
            allowed = ", ".join(k for k in Denominator.Key.values if k != Denominator.Key.TOTAL)
            raise InputError(f"{fname}: denominators.{key}: unknown denominator; expected one of {allowed}")
        entries += [(key, f"denominators.{key}[{i}]", r) for i, r in enumerate(rows_of_key or [])]
    rows: list[Denominator] = []
    for key, place, row in entries:
        where = f"{fname}: {place}"
        unit = by_code.get(str(row.get("unit")))
        if unit is None:
            raise InputError(f"{where}.unit: unknown unit {row.get('unit')!r}")
        missing = bool(row.get("missing"))
        if not missing and not row.get("source") and key != "total":  # totals are checked by the population import
            raise InputError(f"{where}.source: every figure needs its source (or `missing: true`)")
        keys = row.get("source") or []
        keys = [str(k) for k in (keys if isinstance(keys, list) else [keys])]
        unknown = [k for k in keys if not isinstance(sources.get(k), dict)]
        if unknown and key != "total":
            raise InputError(f"{where}.source: unknown source(s) {', '.join(unknown)}; list them under `sources`")
        cited = [str((sources.get(k) or {}).get("title") or (sources.get(k) or {}).get("url") or k) for k in keys]
        rows.append(Denominator(
            unit=unit, key=key, value=None if missing else _count(row, where), source="；".join(cited)[:300],
            is_estimate=bool(row.get("estimate")), method=str(row.get("method", "") or ""),
        ))
    Denominator.objects.filter(unit__in=list(by_code.values())).delete()
    Denominator.objects.bulk_create(rows)


# -- people ------------------------------------------------------------------------------------

@transaction.atomic
def user_create(
    *, username: str, password: str, roles: list[tuple[str, str | None, str | None]], full_name: str = "",
    actor: User | None = None,
) -> User:
    """Create (or reset) a user with role assignments given as (role, org_unit_code, department_code)."""
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(username=username)
    user.set_password(password)
    user.first_name = full_name[:150]
    user.save()
    RoleAssignment.objects.filter(user=user).delete()
    for role, unit_code, dept_code in roles:
        if role not in Role.values:
            raise InputError(f"role: expected one of {', '.join(Role.values)}, got {role!r}")
        unit = OrgUnit.objects.get(code=unit_code) if unit_code else None
        # Department codes are unique per region: the role's org unit says which city's unit it is.
        dept = department_for_unit(unit, dept_code) if dept_code else None
        RoleAssignment.objects.create(user=user, role=role, org_unit=unit, department=dept)
    audit_record(actor=actor, action="user.roles", obj=user, changes={"roles": (None, [list(r) for r in roles])})
    return user


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


TOKEN_MAX_DAYS = 366


@transaction.atomic
def api_token_create(*, user: User, name: str, days: int | None = None, actor: User | None = None) -> str:
    """Issue a token (returned once, stored only as a hash) that expires after `days` days.

    Only users with a role get one: a token carries its user's scope, and a user without a role has
    none. The token dies when the user's password changes (see ApiToken)."""
    days = settings.KEPU_TOKEN_DAYS if days is None else days
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise InputError(_("令牌有效期须为 1 至 %(max)d 天。") % {"max": TOKEN_MAX_DAYS})
    name = name.strip()
    if not name or len(name) > 100:
        raise InputError(_("令牌名称须为 1 至 100 个字符。"))
    if not user.is_active or not RoleAssignment.objects.filter(user=user).exists():
        raise InputError(_("用户 %(user)s 没有角色,不能为其创建 API 令牌。") % {"user": user.get_username()})
    key = "kp_" + secrets.token_urlsafe(30)
    ApiToken.objects.create(user=user, name=name, key_hash=token_hash(key), prefix=key[:8],
                            expires_at=timezone.now() + dt.timedelta(days=days),
                            password_mark=user.get_session_auth_hash())
    audit_record(actor=actor or user, action="token.create", obj=user, comment=name)
    return key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> bool:
    """Revoke a token; False when it was already revoked. Callers check the actor may do it."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked=False).update(revoked=True, revoked_at=timezone.now())
    if updated:
        audit_record(actor=actor, action="token.revoke", obj=token.user, comment=f"{token.prefix}… {token.name}")
    return bool(updated)
