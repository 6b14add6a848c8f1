"""Audience segments: rules over citizen profile and behaviour fields, stored as JSON and compiled to
ONE Django queryset (behaviour as `Exists` subqueries), so a count runs inside the database on SQLite
and PostgreSQL alike.

The rule language (a node is one of):

    {"all": [node, …]}    every node holds
    {"any": [node, …]}    at least one node holds
    {"not": node}         the node does not hold
    {"field": F, "op": OP, "value": V}
    {"engaged": {"topic": T, "kind": K, "days": N}}       an interaction in the last N days
    {"not_engaged": {"topic": T, "kind": K, "days": N}}   none (topic and kind optional)

Fields and operators: district/town (org-unit codes) and age_band/occupation/industry with `in`,
`not_in`; key_groups/interests (lists) with `contains`, `contains_any`, `not_contains`; elder_mode
with `is` (true/false); consent with `granted`/`not_granted` and a purpose ("push", …).

A bad rule is refused with every problem, each naming its place: "all[2].op: …".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Contains, Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.citizens.models import AGE_BANDS, KEY_GROUPS, Citizen, Consent, Purpose
from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.literacy.people import OCCUPATIONS
from kepu.outreach.engagement_models import Interaction
from kepu.outreach.models import Topic

MAX_DEPTH = 6
MAX_NODES = 60
MAX_DAYS = 366

LIST_OPS = ("in", "not_in")
ARRAY_OPS = ("contains", "contains_any", "not_contains")
FIELDS: dict[str, tuple[str, ...]] = {
    "district": LIST_OPS,
    "town": LIST_OPS,
    "age_band": LIST_OPS,
    "occupation": LIST_OPS,
    "industry": LIST_OPS,
    "key_groups": ARRAY_OPS,
    "interests": ARRAY_OPS,
    "elder_mode": ("is",),
    "consent": ("granted", "not_granted"),
}
BEHAVIOUR_KINDS = tuple(k for k in Interaction.Kind.values if k != Interaction.Kind.SEARCH)


def _choices(field: str) -> tuple[str, ...] | None:
    """The allowed values of a field, or None when any short string goes (industry)."""
    if field == "age_band":
        return tuple(c for c, _label in AGE_BANDS)
    if field == "occupation":
        return tuple(c for c, _label in OCCUPATIONS)
    if field == "key_groups":
        return tuple(c for c, _label in KEY_GROUPS)
    if field == "consent":
        return tuple(Purpose.values)
    if field == "interests":
        return tuple(Topic.objects.values_list("code", flat=True))
    if field == "district":
        return tuple(OrgUnit.objects.filter(level=OrgUnit.Level.DISTRICT).values_list("code", flat=True))
    if field == "town":
        return tuple(OrgUnit.objects.filter(level=OrgUnit.Level.TOWN).values_list("code", flat=True))
    return None


def _one_of(values: tuple[str, ...] | list[str], limit: int = 12) -> str:
    shown = ", ".join(values[:limit])
    return shown + (" …" if len(values) > limit else "")


class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nodes = 0
        self._choice_cache: dict[str, tuple[str, ...] | None] = {}

    def err(self, path: str, message: str) -> None:
        self.errors.append(f"{path or _('规则')}: {message}")

    def choices(self, field: str) -> tuple[str, ...] | None:
        if field not in self._choice_cache:
            self._choice_cache[field] = _choices(field)
        return self._choice_cache[field]

    def node(self, node: Any, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.err(path, _("规则过多(最多 %(n)d 条)。") % {"n": MAX_NODES})
            return
        if depth > MAX_DEPTH:
            self.err(path, _("嵌套过深(最多 %(n)d 层)。") % {"n": MAX_DEPTH})
            return
        if not isinstance(node, dict) or len(node) == 0:
            self.err(path, _("应为一个规则对象。"))
            return
        keys = set(node)
        join = (lambda k: f"{path}.{k}") if path else (lambda k: k)
        if keys <= {"all"} or keys <= {"any"}:
            (key,) = keys
            children = node[key]
            if not isinstance(children, list) or not children:
                self.err(join(key), _("应为非空的规则列表。"))
                return
            for i, child in enumerate(children):
                self.node(child, f"{join(key)}[{i}]", depth + 1)
        elif keys == {"not"}:
            self.node(node["not"], join("not"), depth + 1)
        elif keys <= {"engaged"} or keys <= {"not_engaged"}:
            (key,) = keys
            self.behaviour(node[key], join(key))
        elif "field" in keys:
            self.condition(node, path, join)
        else:
            self.err(
                path,
                _("未知的规则:%(keys)s;应为 all、any、not、field、engaged 或 not_engaged。")
                % {"keys": ", ".join(sorted(map(str, keys)))},
            )

    def condition(self, node: dict[str, Any], path: str, join: Callable[[str], str]) -> None:
        extra = set(node) - {"field", "op", "value"}
        if extra:
            self.err(join(sorted(extra)[0]), _("多余的键。"))
        field = node.get("field")
        if field not in FIELDS:
            self.err(join("field"), _("应为以下之一:%(choices)s") % {"choices": _one_of(list(FIELDS))})
            return
        ops = FIELDS[field]
        op = node.get("op")
        if op not in ops:
            self.err(join("op"), _("应为以下之一:%(choices)s") % {"choices": _one_of(ops)})
            return
        value = node.get("value")
        if field == "elder_mode":
            if not isinstance(value, bool):
                self.err(join("value"), _("应为 true 或 false。"))
            return
        allowed = self.choices(field)
        many = op in ("in", "not_in", "contains_any")
        values = value if many else [value]
        if many and (not isinstance(value, list) or not value):
            self.err(join("value"), _("应为非空列表。"))
            return
        if len(values) > 500:
            self.err(join("value"), _("取值过多(最多 500 个)。"))
            return
        for i, v in enumerate(values):
            where = f"{join('value')}[{i}]" if many else join("value")
            if not isinstance(v, str) or not v or len(v) > 60:
                self.err(where, _("应为非空文字(最多 60 字)。"))
            elif allowed is not None and v not in allowed:
                self.err(where, _("未知的取值“%(v)s”;应为以下之一:%(choices)s") % {"v": v, "choices": _one_of(allowed)})

    def behaviour(self, spec: Any, path: str) -> None:
        if not isinstance(spec, dict):
            self.err(path, _("应为包含 days(及可选 topic、kind)的对象。"))
            return
        extra = set(spec) - {"topic", "kind", "days"}
        if extra:
            self.err(f"{path}.{sorted(map(str, extra))[0]}", _("多余的键。"))
        days = spec.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            self.err(f"{path}.days", _("应为 1 到 %(n)d 之间的整数天数。") % {"n": MAX_DAYS})
        if "kind" in spec and spec["kind"] not in BEHAVIOUR_KINDS:
            self.err(f"{path}.kind", _("应为以下之一:%(choices)s") % {"choices": _one_of(BEHAVIOUR_KINDS)})
        if "topic" in spec:
            topics = self.choices("interests") or ()
            if spec["topic"] not in topics:
                self.err(
                    f"{path}.topic",
                    _("未知的主题“%(v)s”;应为以下之一:%(choices)s") % {"v": spec["topic"], "choices": _one_of(topics)},
                )


def rules_errors(rules: Any) -> list[str]:
    """Every problem with a rule tree, each prefixed with its path; [] when it is valid."""
    v = _Validator()
    v.node(rules, "", 0)
    return v.errors


def rules_validate(rules: Any) -> dict[str, Any]:
    errors = rules_errors(rules)
    if errors:
        raise InputError(errors[0], errors=errors)
    return rules


# --- compiling -------------------------------------------------------------------------------------


def _array_has(field: str, value: str) -> Q:
    """The citizen's JSON list `field` holds `value`. PostgreSQL: jsonb containment (GIN-indexed);
    SQLite has no JSON `contains` lookup in Django, so the stored JSON text must hold the quoted code
    (codes are slugs: no quote can occur inside one)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(Contains(Cast(field, TextField()), f'"{value}"'))


def _condition(node: dict[str, Any]) -> Q:
    field, op, value = node["field"], node["op"], node.get("value")
    if field in ("district", "town"):
        q = Q(**{f"{field}__code__in": value})
        return ~q if op == "not_in" else q
    if field in ("age_band", "occupation", "industry"):
        q = Q(**{f"{field}__in": value})
        return ~q if op == "not_in" else q
    if field in ("key_groups", "interests"):
        if op == "contains_any":
            q = Q()
            for v in value:
                q |= _array_has(field, v)
            return q
        q = _array_has(field, value)
        return ~q if op == "not_contains" else q
    if field == "elder_mode":
        return Q(elder_mode=bool(value))
    if field == "consent":
        latest = Consent.objects.filter(citizen=OuterRef("pk"), purpose=value).order_by("-at", "-id")
        granted = Q(Exact(Subquery(latest.values("granted")[:1]), True))
        return granted if op == "granted" else ~granted
    raise AssertionError(field)  # validated before


def _topic_codes(code: str) -> list[str]:
    """A topic and its sub-topics."""
    return [code, *Topic.objects.filter(parent__code=code).values_list("code", flat=True)]


def _behaviour(spec: dict[str, Any], now: dt.datetime) -> Q:
    events = Interaction.objects.filter(citizen=OuterRef("pk"), at__gte=now - dt.timedelta(days=spec["days"]))
    events = events.filter(kind=spec["kind"]) if spec.get("kind") else events.exclude(kind=Interaction.Kind.SEARCH)
    if spec.get("topic"):
        events = events.filter(resource__topics__code__in=_topic_codes(spec["topic"]))
    return Q(Exists(events))


def compile_rules(rules: dict[str, Any], *, now: dt.datetime | None = None) -> Q:
    """A Q over Citizen for a VALID rule tree (call rules_validate first)."""
    now = now or timezone.now()
    if "all" in rules:
        q = Q()
        for child in rules["all"]:
            q &= compile_rules(child, now=now)
        return q
    if "any" in rules:
        q = Q(pk__in=[])
        for child in rules["any"]:
            q |= compile_rules(child, now=now)
        return q
    if "not" in rules:
        return ~compile_rules(rules["not"], now=now)
    if "engaged" in rules:
        return _behaviour(rules["engaged"], now)
    if "not_engaged" in rules:
        return ~_behaviour(rules["not_engaged"], now)
    return _condition(rules)


def _rules_of(segment_or_rules: Any) -> tuple[dict[str, Any], OrgUnit | None]:
    rules = getattr(segment_or_rules, "rules", segment_or_rules)
    unit = getattr(segment_or_rules, "org_unit", None)
    return rules, unit


def members(segment_or_rules: Any, *, unit: OrgUnit | None = None, now: dt.datetime | None = None) -> QuerySet[Citizen]:
    """The citizens a segment (or a bare rule tree) selects, as one queryset. A segment owned by a
    district (or `unit` given: the requesting campaigner's unit) is intersected with that unit's
    subtree, whatever its rules say."""
    rules, own_unit = _rules_of(segment_or_rules)
    rules_validate(rules)
    qs = Citizen.objects.filter(compile_rules(rules, now=now))
    for u in (own_unit, unit):
        if u is not None and u.level not in (OrgUnit.Level.CITY, OrgUnit.Level.PROVINCE):
            qs = qs.filter(Q(district__path__startswith=u.path) | Q(town__path__startswith=u.path))
    return qs


def count(segment_or_rules: Any, *, unit: OrgUnit | None = None, now: dt.datetime | None = None) -> int:
    return members(segment_or_rules, unit=unit, now=now).count()


def preview(
    segment_or_rules: Any, *, unit: OrgUnit | None = None, limit: int = 20, language: str = "zh-hans"
) -> list[dict[str, str]]:
    """The first members, pseudonymously: age band, district, town (never phone or user name)."""
    qs = members(segment_or_rules, unit=unit).select_related("district", "town").order_by("pk")[:limit]
    bands = dict(AGE_BANDS)
    return [
        {
            "id": c.pseudonym[:8],
            "age_band": str(bands.get(c.age_band, "")),
            "district": c.district.name(language) if c.district else "",
            "town": c.town.name(language) if c.town else "",
        }
        for c in qs
    ]
