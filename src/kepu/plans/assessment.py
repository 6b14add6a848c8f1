"""The annual district assessment: a score per district on each target, a completeness component,
a final score and a ranking, and beside them the city-wide attainment of every target (the city-only
ones included). Pure reads; the reports (kepu.plans.reports) print the result.

The method is written out in METHOD_ZH / METHOD_EN below, and every report prints that text, so the
code and the published method cannot drift apart: change both together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, cast
from zoneinfo import ZoneInfo

from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.plans.deliverables import assessment_method_lines, deliverable_counts_at
from kepu.plans.models import Plan, Target, TargetAllocation, TargetKind
from kepu.plans.selectors import Completeness, User, completeness, districts_of
from kepu.plans.series import Series, annual_series, rolled_up_series
from kepu.stats.forecast import interpolate_milestones, judge_final, stock_milestones, survey_ci

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

TARGET_WEIGHT: Final = 0.9
COMPLETENESS_WEIGHT: Final = 0.1
# Final scores equal at the printed precision share a rank, so the table never shows two equal
# scores with different ranks.
RANK_DECIMALS: Final = 1

# Flags on a single score.
NO_DATA: Final = "no_data"
CARRIED_FORWARD: Final = "carried_forward"
GAPS: Final = "gaps"
# Past the deadline, a survey estimate below the target whose 95 % CI contains it (the pages' status
# "not_distinguishable", decided by the same kepu.stats.forecast.judge_final).
NOT_DISTINGUISHABLE: Final = "not_distinguishable"
FLAG_LABELS: Final[dict[str, tuple[str, str]]] = {
    NO_DATA: ("无数据", "no data"),
    CARRIED_FORWARD: ("沿用往年数据", "earlier year's value"),
    GAPS: ("部分年份未报", "some years not reported"),
    NOT_DISTINGUISHABLE: ("与目标无显著差异", "not significantly different from target"),
}

METHOD_ZH: Final[tuple[str, ...]] = (
    "评估对象：各辖市（区）及功能区。对每个区，评估已分解到该区、且在评估年度有效的每个目标"
    "（尚未开始的目标不评估；年度目标在其实施期结束后不再评估）。只采用已批准的年度数据。",
    "区值：年度目标取评估年度的数值；累计目标取自目标起始年至评估年度（不超过截止年）各年新增量之和；"
    "比率和覆盖率目标取评估年度的数值，当年没有时取此前最近一年的数值（标注“沿用往年数据”）。",
    "里程碑：年度目标为分解到该区的年度目标值。累计目标为从起始年前一年的 0 到截止年分解目标值的直线上"
    "评估年度的值。比率和覆盖率目标为从基线到截止年分解目标值的直线上评估年度的值；基线取该区在评估年度"
    "之前最早的已批准数值，没有时取全市基线，两者都没有时里程碑即为目标值。截止年及以后里程碑为目标值本身。",
    "单项得分 = min(100, 100 × 区值 ÷ 里程碑)，最低 0 分；里程碑为 0（当年尚无要求）时，有数据即得 100 分。"
    "没有数据的目标得 0 分，并标注“无数据”。",
    "目标得分 = 各单项得分的算术平均，每个目标权重均为 1。",
    "报送完整性 = 该区评估年度应报年度数据（每个分解到该区的目标的指标一项）中已批准的比例。",
    "综合得分 = 90% × 目标得分 + 10% × 报送完整性。按综合得分由高到低排名；"
    "综合得分保留一位小数后相同者名次相同，其后名次顺延（如 1、2、2、4）。",
    "全市目标完成情况：对评估年度有效的每个目标（包括未分解到各区、仅考核全市的目标），以全市目标值代替"
    "分解目标值，按同样的方法计算全市的值、里程碑和完成度；比率和覆盖率目标的基线取规划所列的全市基线。"
    "全市的值取全市直接报送并已批准的数值；没有时由各区已批准的数值按指标的汇总方式合计，"
    "且只在所有分解到区的单位都已报送的年份合计。全市完成度不计入各区排名。",
    "抽样调查得到的数值（带抽样误差，如公民具备科学素质比例）：截止年及以后，点估计值达到目标即得 100 分；"
    "低于目标、但其 95% 置信区间包含目标值的，与平台状态一致标注“与目标无显著差异”，按第 4 条得部分分"
    "（100 × 估计值 ÷ 目标值，如 21.3% 对 21.5% 得 99.1 分）；置信区间整体低于目标的为未达成，同样按第 4 条计分。"
    "差距在抽样误差之内时不判为未达成，但也不给满分：满分会使样本越小、区间越宽的区越容易得满分，"
    "而点估计值仍是对实际水平的最佳估计。",
)

METHOD_EN: Final[tuple[str, ...]] = (
    "Units: every county-level city, district and functional zone. Each is scored on every target "
    "allocated to it that is in force in the assessed year (targets whose period has not started are "
    "skipped, and yearly targets after their period ends). Only approved annual values count.",
    "Value: yearly (flow) targets use the value for the assessed year; cumulative (stock) targets the sum "
    "of the yearly increments from the target's first year to the assessed year (at most the deadline); "
    "rate and coverage targets the level in the assessed year, or else the latest earlier level "
    "(flagged \"earlier year's value\").",
    "Milestone: for flows, the district's yearly allocation. For stocks, the straight line from 0 in the "
    "year before the period to the allocation in the deadline year, read at the assessed year. For rates "
    "and coverage, the straight line from a baseline to the allocation in the deadline year; the baseline "
    "is the district's earliest approved value before the assessed year, else the city baseline, else "
    "there is no path and the milestone is the allocation. From the deadline year on the milestone is the "
    "allocation itself.",
    "Score on a target = min(100, 100 × value ÷ milestone), at least 0; a zero milestone (nothing due yet) "
    "scores 100 when a value was reported. A target without data scores 0 and is flagged \"no data\".",
    "Target score = the plain mean of the scores on the district's targets (every target has weight 1).",
    "Completeness = the share of the district's expected annual reports for the year (one per indicator "
    "of a target allocated to it) that are approved.",
    "Final score = 90 % × target score + 10 % × completeness. Districts are ranked by final score, highest "
    "first; final scores equal to one decimal share a rank and the next rank is skipped (1, 2, 2, 4).",
    "City-wide attainment: every target in force in the assessed year, including those set for the city "
    "only and not allocated to districts, is scored for the city by the same method with the city target in "
    "place of an allocation; rate and coverage targets start from the plan's city baseline. The city value "
    "is the approved city-level value, else the approved district values combined as the indicator "
    "prescribes, in years when every district with an allocation has reported. City attainment does not "
    "enter the district ranking.",
    "Values from sample surveys (with a sampling error, e.g. the share of citizens with basic science literacy): "
    "from the deadline year on, a point estimate that reaches the target scores 100; one below the target whose "
    "95 % confidence interval contains the target is flagged \"not significantly different from target\", as "
    "the platform's status says, and scores partially by item 4 (100 × estimate ÷ target, e.g. 99.1 "
    "for 21.3 % against 21.5 %); one whose interval lies wholly below the target is missed and scored the same "
    "way. A shortfall within sampling error is not called a miss, but it does not earn full marks either: full "
    "marks would favour the districts with the smallest samples and widest intervals, and the point estimate "
    "remains the best estimate of the true level.",
)


@dataclass(frozen=True)
class TargetScore:
    target: Target
    unit: OrgUnit
    allocation: float
    value: float | None
    value_year: int | None
    milestone: float
    score: float
    flags: tuple[str, ...] = ()
    # The value's 95 % confidence interval when it is a survey estimate.
    ci: tuple[float, float] | None = None

    @property
    def no_data(self) -> bool:
        return NO_DATA in self.flags


@dataclass
class DistrictResult:
    unit: OrgUnit
    scores: dict[int, TargetScore]  # by target id
    target_score: float | None  # None: nothing to score in this district
    completeness: Completeness
    final_score: float | None
    rank: int | None = None

    @property
    def completeness_pct(self) -> float:
        return self.completeness.approved_pct

    @property
    def no_data_count(self) -> int:
        return sum(1 for s in self.scores.values() if s.no_data)


@dataclass
class Assessment:
    plan: Plan
    year: int
    generated_at: dt.datetime
    targets: list[Target]  # targets scored in at least one district, in plan order
    districts: list[DistrictResult]  # in rank order
    completeness: list[Completeness]  # the city first, then the districts
    # Every target in force, scored for the city, in plan order; city_only: ids of targets with no
    # district allocation (they appear only here).
    city: list[TargetScore] = field(default_factory=list)
    city_only: frozenset[int] = frozenset()
    method_zh: tuple[str, ...] = METHOD_ZH
    method_en: tuple[str, ...] = METHOD_EN
    # The plan's one-off commitments by status at the end of the year (kepu.plans.deliverables); counted,
    # not scored, and said so (with the counts) in the last method item.
    deliverables: dict[str, int] = field(default_factory=dict)
    _index: dict[tuple[int, int], TargetScore] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {(d.unit.pk, t_id): s for d in self.districts for t_id, s in d.scores.items()}

    def score(self, unit: OrgUnit, target: Target) -> TargetScore | None:
        return self._index.get((unit.pk, target.pk))


@dataclass
class _SeesEverything:
    """Stands in for a user in scope checks: the assessment covers every unit whoever asks for it
    (who may ask is decided by the caller). Mutable because scope_for caches on the user."""

    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = True


# -- the pure parts -------------------------------------------------------------------------------

def score_of(value: float | None, milestone: float) -> float:
    """0–100: the share of the milestone reached, capped at 100; no value scores 0."""
    if value is None:
        return 0.0
    if milestone <= 0:
        # Nothing (or less than nothing) is due yet: reporting meets it.
        return 100.0 if value >= milestone else 0.0
    return max(0.0, min(100.0, 100.0 * value / milestone))


def competition_ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Ranks for scores, highest first; equal scores (to RANK_DECIMALS) share a rank and the next
    rank is skipped (1, 2, 2, 4). None (nothing scored) gets no rank."""
    keyed = sorted(((round(s, RANK_DECIMALS), i) for i, s in enumerate(scores) if s is not None),
                   key=lambda p: -p[0])
    out: list[int | None] = [None] * len(scores)
    prev: float | None = None
    rank = 0
    for pos, (s, i) in enumerate(keyed, start=1):
        if s != prev:
            rank, prev = pos, s
        out[i] = rank
    return out


def deadline_of(target: Target) -> int:
    return target.deadline_year or target.period_end


def in_force(target: Target, year: int) -> bool:
    if year < target.period_start:
        return False
    return not (target.kind == TargetKind.FLOW and year > target.period_end)


def survey_judgement(
    target: Target, allocation: float, series: Series, value: float | None, value_year: int | None, year: int,
) -> tuple[tuple[float, float] | None, tuple[str, ...]]:
    """(the value's 95 % CI, extra flags): from the deadline year on, a survey value below its target
    is judged by its confidence interval exactly as the target status is (judge_final)."""
    if value is None or value_year is None or target.kind == TargetKind.STOCK:
        return None, ()
    p = series[value_year]
    ci = survey_ci(p.value, p.se, p.ci_low, p.ci_high)
    final = target.kind == TargetKind.FLOW or year >= deadline_of(target)
    status, _rule = judge_final(value, allocation, ci)
    return ci, ((NOT_DISTINGUISHABLE,) if final and status == "not_distinguishable" else ())


def district_value(
    target: Target, series: Series, year: int,
) -> tuple[float | None, int | None, tuple[str, ...]]:
    """(value, year it describes, flags) for one district as the method defines it."""
    if target.kind == TargetKind.FLOW:
        p = series.get(year)
        return (p.value, year, ()) if p else (None, None, (NO_DATA,))
    if target.kind == TargetKind.STOCK:
        last = min(year, deadline_of(target))
        span = range(target.period_start, last + 1)
        reported = [y for y in span if y in series]
        if not reported:
            return None, None, (NO_DATA,)
        flags = (GAPS,) if len(reported) < len(span) else ()
        return float(sum(series[y].value for y in reported)), max(reported), flags
    earlier = [y for y in series if y <= year]
    if not earlier:
        return None, None, (NO_DATA,)
    latest = max(earlier)
    return series[latest].value, latest, (() if latest == year else (CARRIED_FORWARD,))


def level_baseline(target: Target, series: Series, year: int) -> tuple[int, float] | None:
    """Where the straight path of a rate/coverage target starts for one district."""
    deadline = deadline_of(target)
    own = [y for y in series if y < year and y < deadline]
    if own:
        first = min(own)
        return first, series[first].value
    city_year, city_value = target.baseline_year, target.baseline_value
    if city_year is not None and city_value is not None and city_year < deadline:
        return city_year, city_value
    return None


def city_baseline(target: Target, series: Series, year: int) -> tuple[int, float] | None:
    """The city's path starts at the plan's own baseline; without one, at the city's earliest value."""
    if target.baseline_year is not None and target.baseline_value is not None \
            and target.baseline_year < deadline_of(target):
        return target.baseline_year, target.baseline_value
    return level_baseline(target, series, year)


def milestone_of(target: Target, allocation: float, year: int, baseline: tuple[int, float] | None) -> float:
    deadline = deadline_of(target)
    if target.kind == TargetKind.FLOW or year >= deadline:
        return allocation
    if target.kind == TargetKind.STOCK:
        return stock_milestones(target.period_start, deadline, allocation, [year])[year]
    if baseline is None:
        return allocation
    return interpolate_milestones(baseline[0], baseline[1], deadline, allocation, [year])[year]


def target_score(
    target: Target, unit: OrgUnit, allocation: float, series: Series, year: int, *, city: bool = False,
) -> TargetScore:
    value, value_year, flags = district_value(target, series, year)
    is_level = target.kind in (TargetKind.RATE, TargetKind.COVERAGE)
    baseline = (city_baseline(target, series, year) if city else level_baseline(target, series, year)) \
        if is_level else None
    milestone = milestone_of(target, allocation, year, baseline)
    score = score_of(value, milestone)
    ci, judged = survey_judgement(target, allocation, series, value, value_year, year)
    return TargetScore(target, unit, allocation, value, value_year, milestone, score, flags + judged, ci)


# -- the assessment -------------------------------------------------------------------------------

def completeness_all(plan: Plan, year: int) -> list[Completeness]:
    """Completeness for every unit of the plan, regardless of who asks."""
    return completeness(plan, cast(User, _SeesEverything()), year)


def assessment_compute(plan: Plan, year: int) -> Assessment:
    districts = districts_of(plan)
    targets = [t for t in plan.targets.filter(active=True).select_related("indicator").order_by("order")
               if in_force(t, year)]
    allocations: dict[tuple[int, int], float] = {
        (a.target_id, a.org_unit_id): a.value
        for a in TargetAllocation.objects.filter(target__in=targets, org_unit__in=districts)
    }
    series = annual_series(plan, indicator_ids={t.indicator_id for t in targets})
    comp = completeness_all(plan, year)
    comp_by_unit = {c.unit.pk: c for c in comp}

    results: list[DistrictResult] = []
    for unit in districts:
        scores = {
            t.pk: target_score(t, unit, allocations[(t.pk, unit.pk)],
                               series.get((t.indicator_id, unit.pk), {}), year)
            for t in targets if (t.pk, unit.pk) in allocations
        }
        c = comp_by_unit.get(unit.pk) or Completeness(unit, 0, 0, 0)
        mean = sum(s.score for s in scores.values()) / len(scores) if scores else None
        final = None if mean is None else TARGET_WEIGHT * mean + COMPLETENESS_WEIGHT * c.approved_pct
        results.append(DistrictResult(unit, scores, mean, c, final))

    city_only = frozenset(t.pk for t in targets if not any((t.pk, d.pk) in allocations for d in districts))
    city = [target_score(t, plan.region, t.value, _city_series(t, districts, series, allocations), year, city=True)
            for t in targets]

    for r, rank in zip(results, competition_ranks([r.final_score for r in results]), strict=True):
        r.rank = rank
    # Rank order; ties and unranked districts keep the region file's order (sort is stable).
    results.sort(key=lambda r: (r.rank is None, r.rank or 0))
    scored_ids = {t_id for r in results for t_id in r.scores}
    deliverables = deliverable_counts_at(plan, dt.date(year, 12, 31))
    d_zh, d_en = assessment_method_lines(deliverables, year)
    return Assessment(
        plan=plan, year=year, generated_at=timezone.now().astimezone(SHANGHAI),
        targets=[t for t in targets if t.pk in scored_ids], districts=results, completeness=comp,
        city=city, city_only=city_only, deliverables=deliverables,
        method_zh=(*METHOD_ZH, d_zh), method_en=(*METHOD_EN, d_en),
    )


def _city_series(
    target: Target, districts: list[OrgUnit], series: dict[tuple[int, int], Series],
    allocations: dict[tuple[int, int], float],
) -> Series:
    """The city's own approved values, else its districts' rolled up as the pages do."""
    own = series.get((target.indicator_id, target.plan.region_id))
    if own:
        return own
    expected = {d.pk for d in districts if (target.pk, d.pk) in allocations}
    return rolled_up_series(target.indicator, districts, series, expected)
