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
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Contains, Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.citizens.models import AGE_BANDS, KEY_GROUPS, Citizen, Consent, Purpose
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record, model_update
from kepu.literacy.models import DIMENSIONS, Dimension
from kepu.literacy.people import OCCUPATIONS
from kepu.outreach.engagement_models import Interaction
from kepu.outreach.models import Topic
from kepu.outreach.segment_models import Segment

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
        if many and (not isinstance(value, list) or not value):
            self.err(join("value"), _("应为非空列表。"))
            return
        values: list[Any] = value if isinstance(value, list) else [value]
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
    field, op, value = node["field"], node["op"], node["value"]
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


# --- saved segments and who may use them -----------------------------------------------------------

SEGMENT_ROLES = (Role.OFFICE_ADMIN, Role.CAMPAIGNER)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")


def segment_unit(user: Any) -> OrgUnit | None:
    """The unit a user builds segments for (their widest campaigner/office-admin unit), or None
    when they may not build segments at all."""
    scope = scope_for(user)
    if scope.superuser:
        return OrgUnit.objects.filter(level=OrgUnit.Level.CITY).order_by("path").first()
    paths = sorted(scope._paths_for(SEGMENT_ROLES), key=len)
    return OrgUnit.objects.filter(path=paths[0]).first() if paths else None


def segment_require_unit(user: Any) -> OrgUnit:
    unit = segment_unit(user)
    if unit is None:
        raise PermissionDenied(_("只有精准推送运营人员和办公室管理员可以管理人群分组。"))
    return unit


def segments_visible(user: Any) -> QuerySet[Segment]:
    """Saved segments the user may use: those of their unit's subtree (a city campaigner sees all)."""
    unit = segment_unit(user)
    if unit is None:
        return Segment.objects.none()
    return Segment.objects.filter(org_unit__path__startswith=unit.path).select_related("org_unit", "created_by")


@transaction.atomic
def segment_save(
    *, actor: Any, code: str, name_zh: str, rules: Any, name_en: str = "", segment: Segment | None = None
) -> Segment:
    """Create (or, given `segment`, update) a saved segment for the actor's unit; audited."""
    unit = segment_require_unit(actor)
    errors = [f"{_('代码')}: {_('应为 2–60 个小写字母、数字或连字符。')}"] if not CODE_RE.match(code or "") else []
    if not (name_zh or "").strip() or len(name_zh) > 100:
        errors.append(f"{_('名称')}: {_('请填写名称(最多 100 字)。')}")
    errors += rules_errors(rules)
    taken = Segment.objects.filter(code=code)
    if segment is not None:
        taken = taken.exclude(pk=segment.pk)
    if not errors and taken.exists():
        errors.append(f"{_('代码')}: {_('该代码已被使用。')}")
    if errors:
        raise InputError(errors[0], errors=errors)
    if segment is None:
        segment = Segment.objects.create(
            code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), rules=rules, org_unit=unit, created_by=actor
        )
        audit_record(actor=actor, action="segment.create", obj=segment, org_unit=unit,
                     changes={"rules": (None, rules)})
        return segment
    if not segments_visible(actor).filter(pk=segment.pk).exists():
        raise PermissionDenied(_("该人群分组不在您的管辖范围内。"))
    changes = model_update(instance=segment, data={"code": code, "name_zh": name_zh.strip(),
                                                    "name_en": name_en.strip(), "rules": rules})
    if changes:
        segment.save()
        audit_record(actor=actor, action="segment.update", obj=segment, org_unit=segment.org_unit, changes=changes)
    return segment


# --- segments from the latest literacy wave --------------------------------------------------------


@dataclass(frozen=True)
class WeakGroup:
    key_group: str
    district: str
    n: int
    share: float


def weakest_groups(dimension: str, *, k: int = 3, unit: OrgUnit | None = None) -> list[WeakGroup]:
    """The k (key group × district) groups with the lowest weighted share in `dimension` in the
    latest published wave (groups with too few respondents left out; a district unit: its own)."""
    from kepu.outreach.weakness import MIN_RESPONDENTS, group_shares, latest_wave, wave_cells

    if dimension not in DIMENSIONS:
        raise InputError(f"dimension: {_('应为以下之一:%(choices)s') % {'choices': ', '.join(DIMENSIONS)}}")
    wave = latest_wave()
    if wave is None:
        raise InputError(_("还没有已发布的科学素质调查,无法按调查结果建立分组。"))
    cells = wave_cells(wave)
    codes = {c for c, _label in KEY_GROUPS}
    local = unit is not None and unit.level not in (OrgUnit.Level.CITY, OrgUnit.Level.PROVINCE)
    allowed = (
        set(OrgUnit.objects.filter(path__startswith=unit.path).values_list("code", flat=True))
        if local and unit is not None else None
    )
    groups = []
    for kg, district in sorted({(kg, d) for kg, d, _band in cells if kg in codes and d}):
        if allowed is not None and district not in allowed:
            continue
        n, shares = group_shares(cells, key_groups=[kg], districts=[district])
        if n >= MIN_RESPONDENTS and dimension in shares:
            groups.append(WeakGroup(kg, district, n, shares[dimension]))
    return sorted(groups, key=lambda g: (g.share, g.key_group, g.district))[:k]


def weakest_groups_rules(groups: list[WeakGroup]) -> dict[str, Any]:
    return {
        "any": [
            {"all": [
                {"field": "district", "op": "in", "value": [g.district]},
                {"field": "key_groups", "op": "contains", "value": g.key_group},
            ]}
            for g in groups
        ]
    }


def segment_from_wave(*, actor: Any, dimension: str, k: int = 3) -> Segment:
    """Save a segment of the k groups weakest in `dimension` in the latest wave, e.g. "the groups
    whose 科学方法 score is lowest"."""
    unit = segment_require_unit(actor)
    groups = weakest_groups(dimension, k=k, unit=unit)
    if not groups:
        raise InputError(_("最新一期调查中没有样本量足够的重点人群分组。"))
    label = dict(Dimension.choices)[dimension]
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    return segment_save(
        actor=actor,
        code=f"weak-{dimension}-{stamp}",
        name_zh=_("%(dim)s得分最低的 %(k)d 个人群") % {"dim": label, "k": len(groups)},
        rules=weakest_groups_rules(groups),
    )
