"""Reads for pages, API, exports and reports. Each takes the requesting user where scope applies,
so org-unit scope is enforced in one place."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, Prefetch, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kepu.core.errors import PermissionDenied
from kepu.core.models import AuditEntry, Denominator, Department, OrgUnit, Role
from kepu.core.scope import REVIEW_ROLES, scope_for
from kepu.plans.models import (
    Indicator,
    Observation,
    Plan,
    Programme,
    Section,
    Target,
    TargetAllocation,
    TargetStatus,
    Task,
    TaskResponsibility,
)
from kepu.plans.series import annual_series, rolled_up_series

Viewer = User | AnonymousUser


def format_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def format_value(value: float | None, integer: bool) -> str:
    """An indicator's value at its precision: counts as whole numbers, everything else (rates,
    shares, averages) with one decimal."""
    if value is None:
        return ""
    return f"{round(value):,}" if integer else f"{value:,.1f}"


def plan_default() -> Plan | None:
    return Plan.objects.select_related("region").order_by("id").first()


def indicator_get(plan: Plan, code: str) -> Indicator | None:
    """An active indicator of the plan by code (domain apps publish observations to it)."""
    return plan.indicators.filter(code=code, active=True).first()


def plan_get(code: str) -> Plan | None:
    return Plan.objects.select_related("region").filter(code=code).first()


def targets_for(plan: Plan) -> QuerySet[Target]:
    return (
        plan.targets.filter(active=True)
        .select_related("indicator", "section", "plan__region")
        .prefetch_related(
            Prefetch("responsible_units", queryset=Department.objects.order_by("targetresponsibility__order"))
        )
    )


def target_dict(t: Target) -> dict[str, Any]:
    """The machine-readable form of a target (the `kepu plan targets --json` contract)."""
    baseline = None
    if t.baseline_year is not None and t.baseline_value is not None:
        baseline = {"year": t.baseline_year, "value": t.baseline_value, "history": t.baseline_history}
    value: float | int = int(t.value) if t.value.is_integer() else t.value
    units = indicator_task_units(t.indicator)
    return {
        "code": t.code,
        "name_zh": t.name_zh,
        "name_en": t.name_en,
        "kind": t.kind,
        "value": value,
        "unit": t.unit,
        "deadline_year": t.deadline_year,
        "per": t.per,
        "org_unit": t.plan.region.code,
        "responsible_units": [d.name_zh for d in t.responsible_units.all()],
        "lead_units": [u.name_zh for u in units.lead],
        "supporting_units": [u.name_zh for u in units.support],
        "baseline": baseline,
        "indicator": t.indicator.code,
        "period": {"start": t.period_start, "end": t.period_end},
        "cascade": t.cascade,
        "quote": t.quote,
        "denominator": target_denominator(t),
        "allocations": {
            a.org_unit.code: int(a.value) if a.value.is_integer() else a.value
            for a in t.allocations.select_related("org_unit").order_by("org_unit__sort")
        },
    }


def target_denominator(t: Target) -> str | None:
    """The region-file denominator a target is split by: `total` for a population split, None if unsplit."""
    if t.cascade == Target.Cascade.SHARE:
        return t.denominator or None
    return Denominator.Key.TOTAL if t.cascade == Target.Cascade.POPULATION else None


@dataclass(frozen=True)
class AllocationRow:
    allocation: TargetAllocation
    denominator: Denominator | None

    @property
    def share_pct(self) -> float | None:
        return None if self.allocation.share is None else self.allocation.share * 100


def target_allocations(t: Target) -> list[AllocationRow]:
    """Each district's part of a target with the denominator figure (and source) it was split by."""
    key = target_denominator(t)
    allocations = list(t.allocations.select_related("org_unit").order_by("org_unit__sort"))
    figures = {
        d.unit_id: d for d in Denominator.objects.filter(key=key, unit__in=[a.org_unit_id for a in allocations])
    } if key else {}
    return [AllocationRow(a, figures.get(a.org_unit_id)) for a in allocations]


def _active_tasks() -> QuerySet[Task]:
    return Task.objects.filter(active=True).prefetch_related(
        Prefetch("responsibilities", queryset=TaskResponsibility.objects.select_related("department", "org_unit"))
    )


def plan_tree(plan: Plan) -> list[Programme]:
    depts = Department.objects.order_by("sectionresponsibility__order")
    return list(
        plan.programmes.filter(active=True).prefetch_related(
            Prefetch(
                "sections",
                queryset=Section.objects.filter(active=True)
                .select_related("key_group")
                .prefetch_related(
                    Prefetch("tasks", queryset=_active_tasks()),
                    Prefetch("responsible_units", queryset=depts),
                    Prefetch("targets", queryset=Target.objects.filter(active=True).select_related("indicator")),
                ),
            ),
        )
    )


def districts_of(plan: Plan) -> list[OrgUnit]:
    return list(
        OrgUnit.objects.filter(parent=plan.region, level=OrgUnit.Level.DISTRICT, valid_to__isnull=True).order_by("sort")
    )


def home_units(plan: Plan, user: Viewer) -> list[OrgUnit]:
    """The units a user's dashboard leads with: the city for city-wide roles, else their own districts."""
    scope = scope_for(user)
    if scope.can_view(plan.region):
        return [plan.region]
    return [u for u in districts_of(plan) if scope.can_view(u)]


@dataclass
class GridRow:
    target: Target
    city: TargetStatus | None
    units: list[TargetStatus | None] = field(default_factory=list)
    cells: list[tuple[OrgUnit, TargetStatus | None]] = field(default_factory=list)
    show_city: bool = True  # False for users who see only their own districts

    @property
    def own(self) -> list[TargetStatus]:
        """The statuses the user answers for: the city's, or else their districts' (where allocated)."""
        return [s for s in ([self.city] if self.show_city else self.units) if s is not None]

    @property
    def home(self) -> TargetStatus | None:
        """The status the user's dashboard leads with."""
        return next(iter(self.own), None)


def status_grid(plan: Plan, user: Viewer) -> tuple[list[OrgUnit], list[GridRow]]:
    """Targets × (city + visible districts) with their stored status."""
    scope = scope_for(user)
    units = [u for u in districts_of(plan) if scope.can_view(u)]
    show_city = scope.can_view(plan.region)
    statuses: dict[tuple[int, int], TargetStatus] = {
        (s.target_id, s.org_unit_id): s
        for s in TargetStatus.objects.filter(target__plan=plan, org_unit__in=[plan.region, *units])
    }
    rows = []
    for t in plan.targets.filter(active=True).select_related("indicator"):
        rows.append(
            GridRow(
                t,
                statuses.get((t.pk, plan.region.pk)) if show_city else None,
                [statuses.get((t.pk, u.pk)) for u in units],
                [(u, statuses.get((t.pk, u.pk))) for u in units],
                show_city,
            )
        )
    return units, rows


def status_counts(rows: list[GridRow]) -> dict[str, int]:
    """Statuses of the user's own targets: the city's for city-wide roles, otherwise those of the
    targets allocated to the user's districts (one per target and district)."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        for s in r.own:
            counts[s.status] += 1
    return dict(counts)


def target_statuses(target: Target, user: Viewer) -> list[TargetStatus]:
    scope = scope_for(user)
    return [
        s
        for s in TargetStatus.objects.filter(target=target).select_related("org_unit").order_by("org_unit__path")
        if scope.can_view(s.org_unit)
    ]


def target_series(
    target: Target, user: Viewer, statuses: tuple[str, ...] = (Observation.Status.APPROVED,)
) -> dict[OrgUnit, dict[int, Any]]:
    scope = scope_for(user)
    region = target.plan.region
    visible = [region, *districts_of(target.plan)]
    data = annual_series(
        target.plan, statuses=statuses, indicator_ids=[target.indicator_id], unit_ids=[u.pk for u in visible]
    )
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[k[1] for k in data])}
    out = {units[k[1]]: v for k, v in data.items() if scope.can_view(units[k[1]])}
    if region not in out and scope.can_view(region):
        expected = set(target.allocations.values_list("org_unit_id", flat=True))
        city = rolled_up_series(target.indicator, districts_of(target.plan), data, expected)
        if city:
            out[region] = city
    return dict(sorted(out.items(), key=lambda kv: kv[0].path))


def observations_visible(user: Viewer, plan: Plan | None = None) -> QuerySet[Observation]:
    scope = scope_for(user)
    qs = Observation.objects.select_related("indicator", "org_unit", "submitted_by", "reviewed_by").filter(
        scope.unit_filter("org_unit__")
    )
    return qs.filter(indicator__plan=plan) if plan is not None else qs


def inbox(user: Viewer, plan: Plan | None = None) -> QuerySet[Observation]:
    """Submitted values the user may review, districts before the city."""
    scope = scope_for(user)
    qs = Observation.objects.select_related("indicator", "org_unit", "submitted_by").filter(
        scope.unit_filter("org_unit__", REVIEW_ROLES), status=Observation.Status.SUBMITTED
    )
    if plan is not None:
        qs = qs.filter(indicator__plan=plan)
    return qs.order_by("-org_unit__level", "org_unit__path", "indicator_id", "year", "quarter")


def is_own_submission(user: Viewer, obs: Observation) -> bool:
    """Whether the user entered or submitted the value, and so may not approve it (four eyes)."""
    return user.pk is not None and user.pk in (obs.submitted_by_id, obs.created_by_id)


@dataclass
class InboxRow:
    """A value waiting for review, beside last year's value for the same unit and period."""

    obs: Observation
    previous: Observation | None
    own: bool  # entered or submitted by the reviewer: they may not approve it

    @property
    def reporter(self) -> str:
        user = self.obs.submitted_by or self.obs.created_by
        if user is None:
            return _("演示数据") if self.obs.source == "demo" else _("未记录")
        return user.get_full_name() or user.get_username()

    @property
    def change(self) -> float | None:
        return None if self.previous is None else self.obs.value - self.previous.value

    @property
    def change_pct(self) -> float | None:
        if self.previous is None or not self.previous.value:
            return None
        return 100 * (self.obs.value - self.previous.value) / abs(self.previous.value)

    @property
    def change_text(self) -> str:
        """E.g. "+12": the change from last year at the indicator's precision ("" without last year)."""
        change = self.change
        if change is None:
            return ""
        return ("+" if change > 0 else "") + format_number(change, 0 if self.obs.indicator.integer else 1)

    @property
    def change_pct_text(self) -> str:
        return "" if self.change_pct is None else f"{self.change_pct:+.1f}%"

    @property
    def change_label(self) -> str:
        """E.g. "+12 (+8.3%)"."""
        pct = self.change_pct_text
        return f"{self.change_text} ({pct})" if pct else self.change_text

    @property
    def big_jump(self) -> bool:
        limit, pct = self.obs.indicator.jump_pct, self.change_pct
        return bool(limit) and pct is not None and abs(pct) > (limit or 0)


def inbox_rows(user: Viewer, limit: int = 300) -> list[InboxRow]:
    """The review queue with each value's reporter, last year's value and the change."""
    items = list(inbox(user).select_related("created_by")[:limit])
    earlier = Observation.objects.filter(
        indicator_id__in={o.indicator_id for o in items},
        org_unit_id__in={o.org_unit_id for o in items},
        year__in={o.year - 1 for o in items},
    )
    previous = {(p.indicator_id, p.org_unit_id, p.year, p.quarter): p for p in earlier}
    return [
        InboxRow(o, previous.get((o.indicator_id, o.org_unit_id, o.year - 1, o.quarter)), is_own_submission(user, o))
        for o in items
    ]


def _task_units(plan: Plan) -> QuerySet[TaskResponsibility]:
    return TaskResponsibility.objects.filter(task__section__programme__plan=plan, task__active=True)


def responsible_codes(indicator: Indicator) -> set[str]:
    """Codes of the departments on a task (lead or support) that measures the indicator: reporting
    rights follow tasks, so these are the only departments whose reporters may report it."""
    return set(
        TaskResponsibility.objects.filter(task__indicators=indicator, task__active=True, department__isnull=False)
        .values_list("department__code", flat=True)
    )


def responsible_codes_by_indicator(plan: Plan) -> dict[int, set[str]]:
    """`responsible_codes` for every indicator of the plan, in one query."""
    codes: dict[int, set[str]] = defaultdict(set)
    for indicator_id, code in _task_units(plan).filter(
        department__isnull=False, task__indicators__isnull=False
    ).values_list("task__indicators", "department__code"):
        codes[indicator_id].add(code)
    return codes


@dataclass
class TaskUnits:
    """The units on the tasks that measure an indicator: leads (牵头) first, then supporting units
    (配合), each once, in the plan's order; `open_list` when a task's list ends in "等"."""

    lead: list[Department | OrgUnit] = field(default_factory=list)
    support: list[Department | OrgUnit] = field(default_factory=list)
    open_list: bool = False


def task_units_by_indicator(plan: Plan, indicator: Indicator | None = None) -> dict[int, TaskUnits]:
    """The units on the tasks measuring each indicator of the plan (or only this one)."""
    out: dict[int, TaskUnits] = defaultdict(TaskUnits)
    seen: dict[int, set[tuple[str, int]]] = defaultdict(set)
    which: dict[str, Any] = {"task__indicators": indicator} if indicator else {"task__indicators__isnull": False}
    rows = (
        _task_units(plan)
        .filter(**which)
        .select_related("department", "org_unit", "task")
        .annotate(indicator_id=F("task__indicators"))
        .order_by("indicator_id", "task__section__programme__order", "task__section__order", "task__order",
                  "role", "order")
    )
    for r in rows:
        units = out[r.indicator_id]
        units.open_list = units.open_list or r.task.open_list
        unit: Department | OrgUnit = r.department if r.department is not None else r.org_unit  # type: ignore[assignment]
        key = (type(unit).__name__, unit.pk)
        if key in seen[r.indicator_id]:
            continue
        seen[r.indicator_id].add(key)
        (units.lead if r.role == TaskResponsibility.Role.LEAD else units.support).append(unit)
    for units in out.values():  # a unit that leads one task and supports another is listed as a lead
        units.support = [u for u in units.support if u not in units.lead]
    return out


def indicator_task_units(indicator: Indicator) -> TaskUnits:
    return task_units_by_indicator(indicator.plan, indicator).get(indicator.pk, TaskUnits())


def plan_governance(plan: Plan, lang: str) -> list[dict[str, str]]:
    """Who runs the plan as it says (四、组织实施): the body that leads it, then the office that
    coordinates it; each with its part in the plan's words."""
    en = lang.startswith("en")

    def text(zh: str, en_text: str) -> str:
        return (en_text or zh) if en else zh

    rows = []
    if plan.leading_body_zh:
        rows.append({"part": _("统一领导"), "unit": text(plan.leading_body_zh, plan.leading_body_en),
                     "role": text(plan.leading_role_zh, plan.leading_role_en)})
    if plan.office_zh:
        rows.append({"part": _("综合协调"), "unit": text(plan.office_zh, plan.office_en),
                     "role": text(plan.office_role_zh, plan.office_role_en)})
    return rows


def reportable_indicators(plan: Plan, user: Viewer, unit: OrgUnit) -> list[Indicator]:
    """Indicators the user may report for this unit (those with a target there, or any for the city);
    a department reporter only those measured by a task their department is on."""
    scope = scope_for(user)
    ids = set(
        TargetAllocation.objects.filter(target__plan=plan, org_unit=unit).values_list("target__indicator_id", flat=True)
    )
    qs = plan.indicators.filter(active=True)
    if unit.pk != plan.region_id:
        qs = qs.filter(pk__in=ids)
    codes = responsible_codes_by_indicator(plan)
    return [i for i in qs if scope.can_report(unit, codes.get(i.pk, set()))]


def reportable_units(plan: Plan, user: Viewer) -> list[OrgUnit]:
    scope = scope_for(user)
    units = [plan.region, *districts_of(plan)]
    return [
        u
        for u in units
        if scope.can_report(u, scope.departments) or scope.covers(u, ("office_admin", "district_reporter"))
    ]


def reportable_unit(plan: Plan, user: Viewer, code: str | None, units: list[OrgUnit] | None = None) -> OrgUnit:
    """The unit a value may be entered for: one the data-entry page offers the user (the city or a
    district in scope, never a town); no code means the first. The page and the API both ask here,
    so both refuse with the same words."""
    units = reportable_units(plan, user) if units is None else units
    if not units:
        raise PermissionDenied(_("Your role does not allow reporting."))
    unit = next((u for u in units if u.code == code), None) if code else units[0]
    if unit is None:
        raise PermissionDenied(_("You may not report for this unit."))
    return unit


def reportable_indicator(plan: Plan, user: Viewer, unit: OrgUnit, code: str) -> Indicator:
    """An indicator the data-entry page offers for this unit (a district never gets a city-only
    target's indicator; a department only its own)."""
    indicator = next((i for i in reportable_indicators(plan, user, unit) if i.code == code), None)
    if indicator is None:
        raise PermissionDenied(report_refusal(user, unit, code, plan.indicators.filter(code=code).first()))
    return indicator


def report_refusal(user: Viewer, unit: OrgUnit, code: str, indicator: Indicator | None) -> str:
    """Why the user may not report this indicator for this unit, in the page's words. A department
    reporter is told that rights follow the plan's tasks."""
    scope = scope_for(user)
    department_only = (
        indicator is not None
        and scope.covers(unit, (Role.DEPARTMENT_REPORTER,))
        and not scope.covers(unit, (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER))
    )
    if not department_only:
        return _("You may not report %(ind)s for %(unit)s.") % {"ind": code, "unit": unit.name_zh}
    assert indicator is not None
    lang = get_language() or "zh-hans"
    names = [d.name(lang) for d in Department.objects.filter(code__in=scope.departments).order_by("code")]
    return _("%(dept)s不是衡量“%(ind)s”(%(code)s)的任何任务的牵头或配合单位，不能填报该指标。") % {
        "dept": "、".join(names) if not lang.startswith("en") else ", ".join(names),
        "ind": indicator.name(lang),
        "code": code,
    }


def audit_visible(user: Viewer) -> QuerySet[AuditEntry]:
    """District users see entries about their units; plan-wide entries only the office."""
    scope = scope_for(user)
    qs = AuditEntry.objects.select_related("org_unit", "actor")
    if scope.superuser:
        return qs
    q = scope.unit_filter("org_unit__")
    if scope.is_office_admin:
        from django.db.models import Q

        q |= Q(org_unit__isnull=True)
    return qs.filter(q)


@dataclass
class Completeness:
    unit: OrgUnit
    expected: int
    received: int
    approved: int

    @property
    def received_pct(self) -> float:
        return 100.0 * self.received / self.expected if self.expected else 100.0

    @property
    def approved_pct(self) -> float:
        return 100.0 * self.approved / self.expected if self.expected else 100.0


def completeness(plan: Plan, user: Viewer, year: int) -> list[Completeness]:
    """Expected vs received (submitted or approved) vs approved annual reports per unit.
    A unit is expected to report every indicator that has a target allocated to it; the city
    reports the indicators whose targets are not cascaded."""
    scope = scope_for(user)
    expected: dict[int, set[int]] = defaultdict(set)
    allocated: dict[int, list[int]] = defaultdict(list)
    for target_id, unit_id in TargetAllocation.objects.filter(target__plan=plan).values_list(
        "target_id", "org_unit_id"
    ):
        allocated[target_id].append(unit_id)
    for target_id, indicator_id, start, end in plan.targets.filter(active=True).values_list(
        "pk", "indicator_id", "period_start", "period_end"
    ):
        if not start <= year <= end:  # nothing is due for a target outside its period
            continue
        for unit_id in allocated.get(target_id) or [plan.region_id]:
            expected[unit_id].add(indicator_id)
    got: dict[int, dict[int, str]] = defaultdict(dict)
    units = [plan.region, *districts_of(plan)]
    for ind_id, unit_id, status in Observation.objects.filter(
        indicator__plan=plan, year=year, quarter=0, org_unit__in=units
    ).values_list("indicator_id", "org_unit_id", "status"):
        got[unit_id][ind_id] = status
    out = []
    for unit in units:
        if not scope.can_view(unit):
            continue
        exp = expected.get(unit.pk, set())
        rec = {i for i, s in got[unit.pk].items() if i in exp and s in ("submitted", "approved")}
        appr = {i for i, s in got[unit.pk].items() if i in exp and s == "approved"}
        out.append(Completeness(unit, len(exp), len(rec), len(appr)))
    return out


def tasks_for(plan: Plan) -> QuerySet[Task]:
    """The plan's active tasks in plan order (programme, section, task)."""
    return (
        _active_tasks()
        .filter(section__programme__plan=plan, section__active=True, section__programme__active=True)
        .select_related("section")
        .order_by("section__programme__order", "section__order", "order")
    )


def _unit_name(r: TaskResponsibility) -> str:
    return r.department.name_zh if r.department else (r.org_unit.name_zh if r.org_unit else "")


def task_dict(t: Task) -> dict[str, Any]:
    """The machine-readable form of a task (the `kepu plan tasks --json` contract): unit names as in the file."""
    units = sorted(t.responsibilities.all(), key=lambda r: r.order)
    return {
        "code": t.code,
        "section": t.section.code,
        "name_zh": t.name_zh,
        "text_zh": t.text_zh,
        "verbatim": t.verbatim,
        "lead_units": [_unit_name(r) for r in units if r.role == TaskResponsibility.Role.LEAD],
        "supporting_units": [_unit_name(r) for r in units if r.role == TaskResponsibility.Role.SUPPORT],
        "open_list": t.open_list,
    }
