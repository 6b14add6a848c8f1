"""The capacity index (科学素质建设能力指数, 科学素质建设能力监测评估) per district and year: the method
(docs/capacity.md), the office's weights and their audited change, and publication as the plan's
CAPACITY_INDEX.

Every input is a plan observation (approved, whole year) of the city's plan, or a population figure
of core: the registries (events, facilities, funding, recognition, volunteers) publish their counts
into those indicators through their own indicators.py, so this module never reads another app's
tables and any registry that is added later feeds the index without a change here.

Each component is scaled 0–100 against a fixed goalpost (`Component.benchmark` scores 100, zero
scores 0, above the goalpost is capped at 100); the index is the weighted mean of the components a
district has, with the weights of missing components shared out over the others (and the missing
ones named)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kepu.community.models import CapacityWeights
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import Denominator, OrgUnit, Role
from kepu.core.scope import Scope
from kepu.core.services import audit_record
from kepu.plans.derived import city_districts, publish_by_district, publishable_year
from kepu.plans.models import Observation, Plan, Target, TargetKind

INDEX_CODE = "CAPACITY_INDEX"
LITERACY_CODE = "LIT_RATE"
TRAINING_CODES = (
    "SCI_COUNSELLORS_TRAINED", "HQ_FARMERS", "RURAL_TECH_TALENT", "SKILLED_WORKERS_TRAINED",
    "HIGH_SKILLED_TALENT", "CHIEF_TECHNICIANS",
)
# Used when a plan has no yearly training targets to take the goalpost from (see _trainings_benchmark).
TRAININGS_BENCHMARK_FALLBACK = 200.0
# Below this share of the total weight a district's index is shown as "incomplete".
COMPLETE_SHARE = 0.5
MIN_N_CORRELATION = 5
# Observation sources typed in by people; anything else was published by a registry's indicators.py.
REPORTED_SOURCES = frozenset({"manual", "api", "excel", "demo"})


@dataclass(frozen=True)
class Component:
    code: str
    label: str | Promise
    unit: str | Promise
    sources: tuple[str, ...]
    # The value is sum(sources) / denominator × per; denominator "population" (OrgUnit.population),
    # "schools" (core Denominator), or "" for an indicator that is already a rate.
    denominator: str
    per: float
    benchmark: float
    weight: float
    basis: str | Promise = ""


COMPONENTS: tuple[Component, ...] = (
    Component("bases_per_100k", _("每十万人科普教育基地数"), _("家/十万人"), ("SCI_BASES_ACTIVE",),
              "population", 1e5, 5.0, 0.15,
              _("全市约 260 家在认定期内的各级基地；规划要求到 2025 年新增市级 100 家、省级 20 家")),
    Component("volunteers_per_1000", _("每千人注册科技志愿者数"), _("人/千人"), ("SCI_VOLUNTEERS",),
              "population", 1e3, 10.0, 0.10, _("常住人口的 1% 注册为科技志愿者")),
    Component("volunteer_hours_per_1000", _("每千人科技志愿服务时长"), _("小时/千人"), ("VOLUNTEER_HOURS",),
              "population", 1e3, 200.0, 0.10, _("每千人 10 名志愿者、每人每年服务 20 小时")),
    Component("events_per_10k", _("每万人科普活动场次"), _("场/万人"), ("SCI_EVENTS_HELD",),
              "population", 1e4, 5.0, 0.10, _("全市每年约 2,600 场，约合每个村(社区)两场以上")),
    Component("attendance_per_capita", _("人均科普活动参与人次"), _("人次/人"), ("SCI_EVENT_ATTENDANCE",),
              "population", 1.0, 0.5, 0.10, _("每两位常住居民每年参加一次科普活动")),
    Component("trainings_per_10k", _("每万人培训人数"), _("人/万人"), TRAINING_CODES,
              "population", 1e4, TRAININGS_BENCHMARK_FALLBACK, 0.15,
              _("规划六项年度培训目标之和按全市人口折算，即各区按人口完成各自份额")),
    Component("counsellors_per_school", _("校均培训科技辅导员数"), _("人/校"), ("SCI_COUNSELLORS_TRAINED",),
              "schools", 1.0, 1.0, 0.05, _("每所学校每年培训一名科技辅导员")),
    Component("funding_per_capita", _("人均科普经费"), _("元/人"), ("SCI_FUNDING_PER_CAPITA",),
              "", 1.0, 5.0, 0.15, _("取 5 元/人作为参照(办公室可据本市标准调整方法)")),
    Component("elderly_univ_coverage", _("老年科技大学覆盖率"), "%", ("ELDERLY_TECH_UNIV_COVERAGE",),
              "", 1.0, 100.0, 0.05, _("规划要求辖市(区)全覆盖")),
    Component("honours_per_100k", _("每十万人获科普表彰数"), _("个/十万人"), ("SCI_HONOURS",),
              "population", 1e5, 2.0, 0.05, _("全市每年约 100 个个人和集体获表彰")),
)
BY_CODE: dict[str, Component] = {c.code: c for c in COMPONENTS}
DEFAULT_WEIGHTS: dict[str, float] = {c.code: c.weight for c in COMPONENTS}
SOURCE_CODES: tuple[str, ...] = tuple(sorted({s for c in COMPONENTS for s in c.sources}))


@dataclass
class Row:
    """One unit (district, or the city) in one year."""

    unit: OrgUnit
    year: int
    population: int | None
    values: dict[str, float | None] = field(default_factory=dict)  # component → raw value
    scores: dict[str, float | None] = field(default_factory=dict)  # component → 0–100
    index: float | None = None
    missing: list[str] = field(default_factory=list)  # components without a value
    weight_share: float = 0.0  # share of the total weight the index rests on
    literacy: float | None = None
    partial_sources: list[str] = field(default_factory=list)  # training indicators not reported
    zero_filled: list[str] = field(default_factory=list)  # source indicators counted 0 (registry, no record)

    @property
    def complete(self) -> bool:
        return self.index is not None and self.weight_share >= COMPLETE_SHARE


@dataclass
class Correlation:
    n: int
    r: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    too_small: bool = True
    points: list[tuple[str, int, float, float]] = field(default_factory=list)  # unit code, year, index, literacy


# ------------------------------------------------------------------------------------------ weights
def weights_for(city: OrgUnit) -> dict[str, float]:
    """The office's weights for the city, the defaults until it sets its own (unknown stored keys are
    dropped, components added since get their default)."""
    row = CapacityWeights.objects.filter(region=city).first()
    stored = row.weights if row is not None else {}
    return {c.code: float(stored.get(c.code, c.weight)) for c in COMPONENTS}


def weights_validate(raw: Mapping[str, Any]) -> dict[str, float]:
    """Every component named once with a finite weight ≥ 0, no unknown names, and a positive sum."""
    errors: list[str] = []
    unknown = sorted(set(raw) - set(BY_CODE))
    for name in unknown:
        errors.append(gettext("未知的分项“%(name)s”。") % {"name": name})
    out: dict[str, float] = {}
    for c in COMPONENTS:
        if c.code not in raw:
            errors.append(gettext("缺少分项“%(label)s”的权重。") % {"label": c.label})
            continue
        value = raw[c.code]
        try:
            w = float(str(value).strip()) if not isinstance(value, bool) else math.nan
        except ValueError:
            w = math.nan
        if not math.isfinite(w):
            errors.append(gettext("分项“%(label)s”的权重应为数字，收到“%(value)s”。")
                          % {"label": c.label, "value": value})
        elif w < 0:
            errors.append(gettext("分项“%(label)s”的权重不能为负数(收到 %(value)s)。")
                          % {"label": c.label, "value": value})
        else:
            out[c.code] = w
    if not errors and sum(out.values()) <= 0:
        errors.append(gettext("权重之和必须大于 0。"))
    if errors:
        raise InputError(errors[0], errors=errors)
    return out


def can_set_weights(scope: Scope, city: OrgUnit) -> bool:
    return scope.covers(city, (Role.OFFICE_ADMIN,))


@transaction.atomic
def capacity_weights_set(
    *, actor: User, scope: Scope, plan: Plan, weights: Mapping[str, Any], comment: str = ""
) -> CapacityWeights:
    """The office changes the weights of its city's index: validated, audited old → new per
    component, and the plan's CAPACITY_INDEX republished for every year with data, in one commit."""
    city = plan.region
    if not can_set_weights(scope, city):
        raise PermissionDenied(gettext("只有市科学素质办可以修改能力指数的权重。"))
    new = weights_validate(weights)
    old = weights_for(city)
    row, _created = CapacityWeights.objects.select_for_update(of=("self",)).get_or_create(region=city)
    changes = {code: (old[code], new[code]) for code in new if old[code] != new[code]}
    row.weights = new
    row.updated_by = actor
    row.save()
    if changes:
        audit_record(actor=actor, action="capacity.weights", obj=row, changes=changes, org_unit=city,
                     comment=comment, label=gettext("%(city)s科学素质建设能力指数权重") % {"city": city.name_zh})
        for year in range(plan.start_year, min(plan.end_year, timezone.localdate().year) + 1):
            capacity_publish(plan=plan, year=year)
    return row


# -------------------------------------------------------------------------------------- computing
def _trainings_benchmark(plan: Plan, city_population: int | None) -> float:
    """The plan's yearly training targets (flow) summed, per 10,000 residents of the city: a district
    that trains its population share of them scores 100."""
    if not city_population:
        return TRAININGS_BENCHMARK_FALLBACK
    total = sum(
        t.value for t in Target.objects.filter(
            plan=plan, active=True, kind=TargetKind.FLOW, indicator__code__in=TRAINING_CODES
        )
    )
    return total / city_population * 1e4 if total > 0 else TRAININGS_BENCHMARK_FALLBACK


def benchmarks(plan: Plan) -> dict[str, float]:
    out = {c.code: c.benchmark for c in COMPONENTS}
    out["trainings_per_10k"] = _trainings_benchmark(plan, plan.region.population)
    return out


def _observations(plan: Plan, units: Iterable[OrgUnit], years: Iterable[int],
                  codes: Iterable[str]) -> tuple[dict[tuple[str, str, int], float], set[tuple[str, int]]]:
    """The approved whole-year values by (code, unit code, year), and the (code, year) pairs a registry
    published for the city's districts (any source other than people's reports)."""
    rows = Observation.objects.filter(
        indicator__plan=plan, indicator__code__in=list(codes), org_unit__in=list(units), year__in=list(years),
        quarter=0, status=Observation.Status.APPROVED,
    ).values_list("indicator__code", "org_unit__code", "org_unit__level", "year", "value", "source")
    values: dict[tuple[str, str, int], float] = {}
    registry: set[tuple[str, int]] = set()
    for code, unit, level, year, value, source in rows:
        values[(code, unit, year)] = value
        if level == OrgUnit.Level.DISTRICT and source not in REPORTED_SOURCES:
            registry.add((code, year))
    return values, registry


def _schools(units: Iterable[OrgUnit]) -> dict[str, float]:
    rows = Denominator.objects.filter(unit__in=list(units), key=Denominator.Key.SCHOOLS, value__gt=0)
    return {d.unit.code: float(d.value) for d in rows.select_related("unit") if d.value is not None}


def score(value: float, benchmark: float) -> float:
    """0 at zero, 100 at the goalpost and above (a surplus cannot make up for another component)."""
    if benchmark <= 0:
        return 0.0
    return max(0.0, min(100.0, value / benchmark * 100.0))


def combine(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> tuple[float | None, float]:
    """The weighted mean of the available scores, re-weighted over them; and the share of the total
    weight they carry (1.0 when nothing is missing)."""
    total = sum(weights.values())
    have = {k: s for k, s in scores.items() if s is not None and weights.get(k, 0) > 0}
    used = sum(weights[k] for k in have)
    if used <= 0 or total <= 0:
        return None, 0.0
    return sum(weights[k] * s for k, s in have.items()) / used, used / total


def _component_value(c: Component, unit: OrgUnit, year: int, obs: Mapping[tuple[str, str, int], float],
                     registry: set[tuple[str, int]],
                     schools: Mapping[str, float]) -> tuple[float | None, list[str], list[str]]:
    """The component's value, the source indicators without any value, and those counted as 0
    because their registry is in use that year and has no record for the district."""
    present: list[float] = []
    absent: list[str] = []
    zero: list[str] = []
    for s in c.sources:
        if (s, unit.code, year) in obs:
            present.append(obs[(s, unit.code, year)])
        elif (s, year) in registry:
            present.append(0.0)
            zero.append(s)
        else:
            absent.append(s)
    if not present:
        return None, absent, zero
    amount = float(sum(present))
    if c.denominator == "population":
        if not unit.population:
            return None, absent, zero
        return amount / unit.population * c.per, absent, zero
    if c.denominator == "schools":
        n = schools.get(unit.code)
        return (None, absent, zero) if not n else (amount / n * c.per, absent, zero)
    return amount, absent, zero


def _city_row(city: OrgUnit, year: int, rows: list[Row], weights: Mapping[str, float]) -> Row:
    """The city: each component and the index as the population-weighted mean over the districts that
    have it (for a count per resident, that is the city's total per resident)."""
    out = Row(unit=city, year=year, population=city.population)
    for c in COMPONENTS:
        pairs = [(r.values[c.code], r.population or 0) for r in rows if r.values.get(c.code) is not None]
        out.values[c.code] = _weighted_mean(pairs)
        spairs = [(r.scores[c.code], r.population or 0) for r in rows if r.scores.get(c.code) is not None]
        out.scores[c.code] = _weighted_mean(spairs)
    out.missing = [c.code for c in COMPONENTS if out.values[c.code] is None]
    out.index = _weighted_mean([(r.index, r.population or 0) for r in rows if r.index is not None])
    covered = sum(r.population or 0 for r in rows if r.index is not None)
    everyone = sum(r.population or 0 for r in rows)
    out.weight_share = min((r.weight_share for r in rows if r.index is not None), default=0.0)
    if everyone and covered < everyone:
        out.weight_share = min(out.weight_share, covered / everyone)
    return out


def _weighted_mean(pairs: Sequence[tuple[float | None, float]]) -> float | None:
    have = [(float(v), float(w)) for v, w in pairs if v is not None and w > 0]
    total = sum(w for _v, w in have)
    return sum(v * w for v, w in have) / total if total else None


def capacity_compute(*, plan: Plan, years: Iterable[int]) -> dict[int, list[Row]]:
    """Rows per year: each district of the plan's city active that year, then the city itself (last)."""
    city = plan.region
    years = sorted(set(years))
    weights = weights_for(city)
    goal = benchmarks(plan)
    districts_by_year = {y: city_districts(city, y) for y in years}
    units = {d.pk: d for ds in districts_by_year.values() for d in ds}
    obs, registry = _observations(plan, [*units.values(), city], years, [*SOURCE_CODES, LITERACY_CODE])
    schools = _schools(units.values())
    out: dict[int, list[Row]] = {}
    for year in years:
        rows: list[Row] = []
        for d in districts_by_year[year]:
            row = Row(unit=d, year=year, population=d.population, literacy=obs.get((LITERACY_CODE, d.code, year)))
            for c in COMPONENTS:
                value, absent, zero = _component_value(c, d, year, obs, registry, schools)
                row.values[c.code] = value
                row.zero_filled.extend(zero)
                row.scores[c.code] = None if value is None else score(value, goal[c.code])
                if value is not None and absent and len(c.sources) > 1:
                    row.partial_sources.extend(absent)
            row.missing = [c.code for c in COMPONENTS if row.values[c.code] is None]
            row.index, row.weight_share = combine(row.scores, weights)
            rows.append(row)
        city_row = _city_row(city, year, rows, weights)
        city_row.literacy = obs.get((LITERACY_CODE, city.code, year))
        out[year] = [*rows, city_row]
    return out


def plan_years(plan: Plan) -> list[int]:
    return list(range(plan.start_year, min(plan.end_year, timezone.localdate().year) + 1))


@transaction.atomic
def capacity_publish(*, plan: Plan, year: int) -> list[Observation]:
    """Publish CAPACITY_INDEX for `year`: every district with an index, and the city's
    population-weighted mean. Districts whose inputs were all withdrawn are not named (the plan keeps
    no index for them rather than a 0 that would read as "no capacity")."""
    if not publishable_year(year):
        return []
    rows = capacity_compute(plan=plan, years=[year])[year]
    districts, city_row = rows[:-1], rows[-1]
    by_district = {r.unit.code: round(r.index, 2) for r in districts if r.index is not None}
    if not by_district or city_row.index is None:
        return []
    note = gettext("由 %(n)d 个辖市(区)的能力分项按权重计算(方法见能力监测评估页面)。") % {"n": len(by_district)}
    return publish_by_district(code=INDEX_CODE, year=year, city=plan.region, by_district=by_district,
                               city_value=round(city_row.index, 2), source="community", note=note)


def capacity_publish_all(*, plan: Plan) -> int:
    """Republish every past and current year of the plan (for `kepu demo` after the registries seed)."""
    return sum(len(capacity_publish(plan=plan, year=y)) for y in plan_years(plan))


# ------------------------------------------------------------------------------------ correlation
def correlation(rows_by_year: Mapping[int, list[Row]]) -> Correlation:
    """Pearson r between the index and literacy over district-years that have both and whose index
    rests on at least COMPLETE_SHARE of the weight (an index from a few components is not comparable
    with one from all), with a 95% CI by Fisher's z (tanh(atanh r ± 1.96/√(n−3))); withheld below
    MIN_N_CORRELATION pairs or when either series is constant."""
    points = [
        (r.unit.code, r.year, float(r.index), float(r.literacy))
        for rows in rows_by_year.values() for r in rows[:-1]
        if r.index is not None and r.literacy is not None and r.complete
    ]
    return pearson(points)


def correlation_by_year(rows_by_year: Mapping[int, list[Row]]) -> dict[int, Correlation]:
    """The same within each year: across districts only, free of the common trend over the years."""
    return {year: correlation({year: rows}) for year, rows in rows_by_year.items()}


def pearson(points: list[tuple[str, int, float, float]]) -> Correlation:
    import numpy as np
    from scipy import stats

    out = Correlation(n=len(points), points=points)
    if len(points) < MIN_N_CORRELATION:
        return out
    x = np.array([p[2] for p in points])
    y = np.array([p[3] for p in points])
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    res = stats.pearsonr(x, y)
    r = float(res.statistic)
    z, se = math.atanh(max(min(r, 0.999999), -0.999999)), 1.0 / math.sqrt(len(points) - 3)
    crit = float(stats.norm.ppf(0.975))
    out.r, out.p_value, out.too_small = r, float(res.pvalue), False
    out.ci_low, out.ci_high = math.tanh(z - crit * se), math.tanh(z + crit * se)
    return out


# ------------------------------------------------------------------------------------------ scope
def visible_units(scope: Scope, plan: Plan) -> tuple[bool, set[str]]:
    """(sees every district, district codes it sees). City-wide roles see all; a district officer
    (or any role scoped to districts) sees their own districts — and the city's aggregate row."""
    city = plan.region
    if scope.covers(city):
        return True, {d.code for d in OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT)}
    own = OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT).filter(scope.unit_filter())
    return False, {d.code for d in own}


def can_view(scope: Scope, plan: Plan) -> bool:
    return bool(visible_units(scope, plan)[1]) or scope.covers(plan.region)


def as_json(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """The CLI contract: {district code: {"index", "components": {code: value}, "population"}} for the
    districts (the city is not a key). A missing component is null; so is the index when nothing is
    known for a district that year."""
    return {
        r.unit.code: {
            "index": None if r.index is None else round(r.index, 2),
            "components": {c: (None if v is None else round(v, 4)) for c, v in r.values.items()},
            "population": int(r.population or 0),
        }
        for r in rows[:-1]
    }


def units_rows(rows: list[Row], codes: set[str]) -> list[Row]:
    return [r for r in rows[:-1] if r.unit.code in codes]


def by_unit(rows_by_year: Mapping[int, list[Row]]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for rows in rows_by_year.values():
        for r in rows:
            out[r.unit.code].append(r)
    return out
