"""Reads for literacy pages and exports (scope: results are aggregates; respondent rows are never
shown; district users see only figures computed from their own district's respondents)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kepu.core.errors import PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.literacy.models import REVIEW_MARKS, Dimension, Item, Respondent, Wave, WaveEstimate

# Published official figures to compare with (percent), from public CAST/NBS releases.
OFFICIAL = [
    ("常州市", "Changzhou", 2016, 10.3),
    ("常州市", "Changzhou", 2020, 15.2),
    ("常州市", "Changzhou", 2022, 17.0),
    ("江苏省", "Jiangsu", 2020, 13.84),
    ("江苏省", "Jiangsu", 2022, 15.89),
    ("全国", "China", 2020, 10.56),
    ("全国", "China", 2022, 12.93),
    ("全国", "China", 2023, 14.14),
    ("全国", "China", 2024, 15.37),
]
VARIABLES = ["district", "age_band", "sex", "area", "education", "key_group"]
VARIABLE_LABELS = {
    "district": _("辖市(区)"),
    "age_band": _("年龄组"),
    "sex": _("性别"),
    "area": _("城乡"),
    "education": _("文化程度"),
    "key_group": _("重点人群"),
    "town": _("镇(街道)"),
}


# Item topic tags as written in item files → their display names.
TOPIC_LABELS = {
    "agriculture": _("农业"),
    "ai": _("人工智能"),
    "anti_fraud": _("防范诈骗"),
    "anti_rumour": _("辨别谣言"),
    "chemistry": _("化学"),
    "digital": _("数字素养"),
    "digital_life": _("数字生活"),
    "earth": _("地球科学"),
    "emergency": _("应急避险"),
    "energy": _("能源"),
    "environment": _("生态环境"),
    "ethics": _("科技伦理"),
    "evidence": _("证据与推理"),
    "food_safety": _("食品安全"),
    "general": _("综合"),
    "green": _("绿色低碳"),
    "health": _("健康"),
    "industrial_safety": _("安全生产"),
    "life": _("生命科学"),
    "method": _("科学方法"),
    "physics": _("物理"),
    "space": _("航天与天文"),
    "statistics": _("统计与概率"),
}


def margins_label(margins: list[str]) -> str:
    """Raking margins as words: "辖市(区) × 性别 × 城乡" (a joint margin "sex|area" as 性别、城乡)."""
    return " × ".join("、".join(str(VARIABLE_LABELS.get(v, v)) for v in m.split("|")) for m in margins)


def topic_label(tag: str) -> str:
    return str(TOPIC_LABELS.get(tag, tag))


def group_label(tag: str) -> str:
    from kepu.literacy.people import KEY_GROUPS

    return str(dict(KEY_GROUPS).get(tag, tag))


def items_search(
    *, q: str = "", dimension: str = "", status: str = "", type: str = "", topic: str = ""
) -> QuerySet[Item]:
    """The item bank filtered for the bank page: free text over code, stems and explanations, and
    exact filters. Topic tags live in a JSON list, so that filter runs in Python (the bank is small)."""
    qs = Item.objects.annotate(
        pending=Count("revisions", filter=Q(revisions__status__in=["draft", "reviewed"]))
    ).order_by("code")
    for field, value in (("dimension", dimension), ("status", status), ("type", type)):
        if value:
            qs = qs.filter(**{field: value})
    if q.strip():
        text = q.strip()
        qs = qs.filter(
            Q(code__icontains=text)
            | Q(stem_zh__icontains=text)
            | Q(stem_en__icontains=text)
            | Q(explanation_zh__icontains=text)
        )
    if topic:
        qs = qs.filter(pk__in=[i.pk for i in qs if topic in (i.topics or [])])
    return qs


def item_topics() -> list[tuple[str, str]]:
    tags = sorted({t for topics in Item.objects.values_list("topics", flat=True) for t in topics or []})
    return [(t, topic_label(t)) for t in tags]


def item_history(item: Item) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="literacy.item", object_id=str(item.pk)).select_related("actor"))


def waves_visible(user: User | AnonymousUser) -> list[Wave]:
    scope = scope_for(user)
    return [
        w
        for w in Wave.objects.select_related("profile", "region")
        if scope.can_view(w.region) or any(scope.can_view(u) for u in OrgUnit.objects.filter(parent=w.region))
    ]


def waves_readable(user: User | AnonymousUser) -> list[Wave]:
    """The waves in the user's scope that the pages and the API show: published ones, and for the office of
    the wave's region (who publishes it) also those not yet published."""
    scope = scope_for(user)
    return [
        w for w in waves_visible(user) if w.published_at is not None or scope.covers(w.region, (Role.OFFICE_ADMIN,))
    ]


def item_analysis_for(wave: Wave, user: User | AnonymousUser) -> ItemAnalysis:
    """The item analysis, for those who see the region's results (the wave page shows it only to them:
    it rests on every district's answers)."""
    if not scope_for(user).can_view(wave.region):
        raise PermissionDenied(gettext("题目分析只向能查看全市结果的用户提供。"))
    return item_analysis(wave)


@dataclass
class Breakdown:
    variable: str
    rows: list[WaveEstimate]

    @property
    def label(self) -> str:
        return str(VARIABLE_LABELS.get(self.variable, self.variable))

    @property
    def footnotes(self) -> list[str]:
        return footnotes(self.rows)


def _level_order(variable: str) -> dict[str, int]:
    from kepu.literacy.people import AGE_BANDS, AREAS, EDUCATION, KEY_GROUPS, SEXES

    if variable in ("district", "town"):
        units = OrgUnit.objects.filter(level=variable).select_related("parent").order_by("parent__sort", "sort", "code")
        return {u.code: i for i, u in enumerate(units)}
    codes = {
        "age_band": [b for b, _lo, _hi in AGE_BANDS],
        "sex": [c for c, _l in SEXES],
        "area": [c for c, _l in AREAS],
        "education": [c for c, _l in EDUCATION],
        "key_group": [c for c, _l in KEY_GROUPS],
    }.get(variable, [])
    return {c: i for i, c in enumerate(codes)}


def natural_order(variable: str, rows: list[WaveEstimate]) -> list[WaveEstimate]:
    """Levels in their natural order (education low → high, age bands young → old, districts as
    the region file lists them), not alphabetically."""
    order = _level_order(variable)
    return sorted(rows, key=lambda e: (order.get(e.level, len(order)), e.level))


def wave_result_units(wave: Wave, user: User | AnonymousUser) -> list[OrgUnit]:
    """Whose results the user may see: the whole region, or only their own district(s)."""
    scope = scope_for(user)
    if scope.can_view(wave.region):
        return [wave.region]
    districts = OrgUnit.objects.filter(parent=wave.region, level=OrgUnit.Level.DISTRICT).order_by("sort")
    return [d for d in districts if scope.can_view(d)]


TOWN_REASONS = {
    "too_few_areas": _("有直接估计的镇(街道)不足 10 个"),
    "not_converged": _("模型的方差估计没有收敛"),
    "outliers": _("个别镇(街道)与模型的偏离过大"),
    "non_normal": _("模型残差不符合正态假设"),
    "mse_above_direct": _("多数镇(街道)的模型估计并不比直接估计更精确"),
}


def _town_rows(wave: Wave, estimates: list[WaveEstimate], unit: OrgUnit) -> tuple[list[WaveEstimate], str]:
    """Town estimates worth listing, and one line saying what the model did (or why none are listed)."""
    model = wave.town_model or {}
    if not model:
        return [], ""
    if not model.get("adequate"):
        codes = model.get("reason_codes") or [str(m).split(":")[0] for m in model.get("reasons", [])]
        reasons = "；".join(str(TOWN_REASONS.get(c, c)) for c in codes)
        return [], gettext("本期不提供镇(街道)模型估计：%(reasons)s。") % {"reasons": reasons}
    if model.get("sigma2_u_at_zero"):
        return [], gettext(
            "镇(街道)模型没有发现同一辖市(区)内各镇(街道)之间超出抽样误差的差异，各镇(街道)的模型估计都等于"
            "所在辖市(区)的估计，因此不逐一列出；需要更大的镇级样本才能区分它们。"
        )
    towns = {u.code for u in OrgUnit.objects.filter(path__startswith=unit.path, level=OrgUnit.Level.TOWN)}
    rows = natural_order("town", [e for e in estimates if e.variable == "town" and e.level in towns])
    if not rows:
        return [], gettext("没有镇(街道)的模型估计达到可靠标准，本期不列出镇(街道)估计。")
    return rows, gettext(
        "Fay–Herriot 小区域模型估计(借用所在辖市(区)的信息)。只列出模型估计可靠的镇(街道)：全市 %(m)s 个中的 "
        "%(n)s 个；区间为 ±1.96×RMSE。"
    ) % {"n": model.get("shown"), "m": model.get("areas")}


def footnotes(rows: list[WaveEstimate]) -> list[str]:
    """The footnotes these estimates need: "—" for suppressed ones, and one per mark on shown ones."""
    notes = [SUPPRESSED_NOTE] if any(e.suppressed for e in rows) else []
    notes += [REVIEW_NOTES[flag] for flag, mark in REVIEW_MARKS.items() if any(mark in e.marks for e in rows)]
    return [str(note) for note in notes]


# Footnotes for the NCHS presentation standard (kepu.stats.presentation), the same on pages and in exports.
SUPPRESSED_NOTE = _(
    "— 样本量或有效样本量不足 30，或置信区间过宽，按 NCHS 比例数据发布标准不予显示。"
)
REVIEW_NOTES = {
    "review_df": _("* 自由度小于 8，结果需审慎解读。"),
    "review_complement": _("† 不具备科学素质者比例的置信区间相对过宽(超过该比例的 130%)，结果需审慎解读。"),
    "review_p_0_or_1": _("‡ 比例为 0 或 100%，无法估计抽样误差，结果需审慎解读。"),
}
STANDARD_NOTE = _(
    "比例为加权估计；置信区间为 95% Korn–Graubard 区间(按有效样本量和设计自由度计算)。按美国国家卫生统计中心"
    "《比例数据发布标准》(NCHS, 2017)：样本量或有效样本量不足 30、区间宽度达到 30 个百分点、或区间宽度超过"
    " 5 个百分点且超过比例本身的 130% 时不予显示；设计自由度小于 8 时显示但加注。"
)


@dataclass
class WaveResults:
    """What one user may see of a wave's results: the whole region's, or one district's own."""

    unit: OrgUnit
    is_region: bool
    headline: WaveEstimate | None
    breakdowns: list[Breakdown]
    towns: list[WaveEstimate]
    town_note: str
    tiers: list[tuple[str, float, int]]
    earlier: list[tuple[Wave, WaveEstimate]]

    @property
    def methods_note(self) -> str:
        return str(STANDARD_NOTE)

    @property
    def headline_footnotes(self) -> list[str]:
        return footnotes([self.headline]) if self.headline else []

    @property
    def footnotes(self) -> list[str]:
        """The footnotes that all of the direct estimates shown need (exports put them under one table)."""
        return footnotes(([self.headline] if self.headline else []) + [e for b in self.breakdowns for e in b.rows])


def wave_results(wave: Wave, user: User | AnonymousUser, unit_code: str = "") -> WaveResults:
    """A district user gets only estimates computed from their district's respondents (its rate,
    its own breakdowns, its towns, its tiers), so no combination of them recovers the city figure
    (kept from district users, like other districts' figures)."""
    units = wave_result_units(wave, user)
    unit = next((u for u in units if u.code == unit_code), units[0] if units else None)
    if unit is None:
        raise PermissionDenied(gettext("这次调查的结果不在您的权限范围内。"))
    is_region = unit.pk == wave.region_id
    estimates = list(wave.estimates.all())
    by: dict[str, list[WaveEstimate]] = defaultdict(list)
    headline = None
    # The region's headline is its overall estimate; a district's is its row of the district breakdown.
    headline_key = ("overall", "all", "") if is_region else ("district", unit.code, "")
    own = "" if is_region else unit.code  # the `unit` of the breakdown rows computed for this unit alone
    for e in estimates:
        if (e.variable, e.level, e.unit) == headline_key:
            headline = e
        elif e.unit == own and e.variable not in ("overall", "town") and (is_region or e.variable != "district"):
            by[e.variable].append(e)
    towns, town_note = _town_rows(wave, estimates, unit)
    return WaveResults(
        unit=unit,
        is_region=is_region,
        headline=headline,
        breakdowns=[Breakdown(v, natural_order(v, by[v])) for v in VARIABLES if by.get(v) and v != "overall"],
        towns=towns,
        town_note=town_note,
        tiers=tier_distribution(wave, None if is_region else unit),
        earlier=earlier_waves(wave, None if is_region else unit),
    )


def _in_scope(wave: Wave) -> QuerySet[Respondent]:
    """The headline's respondents: the probability sample, ages in the wave's scope, scored."""
    return wave.respondents.filter(
        sample=Respondent.Sample.PROBABILITY, age__gte=wave.age_min, age__lte=wave.age_max, passed__isnull=False
    )


def tier_distribution(wave: Wave, district: OrgUnit | None = None) -> list[tuple[str, float, int]]:
    """Weighted share of respondents (in scope) per tier, city-wide or in one district."""
    rs = _in_scope(wave)
    if district is not None:
        rs = rs.filter(district=district)
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for tier, w, bw in rs.values_list("tier", "weight", "base_weight"):
        totals[tier] += w if w is not None else bw
        counts[tier] += 1
    grand = sum(totals.values()) or 1.0
    order = [t["label_zh"] for t in wave.profile.config.get("tiers", [])]
    keys = sorted(totals, key=lambda t: order.index(t) if t in order else 99)
    return [(t, totals[t] / grand, counts[t]) for t in keys]


@dataclass
class ItemStat:
    item: Item
    n: int  # respondents in the sample whose form had this item
    difficulty: float  # weighted share answering correctly
    discrimination: float  # corrected item–total (point-biserial) correlation


@dataclass
class Reliability:
    """Cronbach's α for one dimension (or all items), or the reason there is none."""

    label: str
    alpha: float | None
    items: int  # items per respondent the α refers to
    n: int  # respondents it rests on (for "pairwise": those given at least one of the items)
    method: str  # "complete": classic α on respondents given every item; "pairwise": standardised α
    reason: str = ""


@dataclass
class ItemAnalysis:
    sample_n: int  # respondents in the headline's scope; every item's n is at most this
    items: list[ItemStat]
    reliability: list[Reliability]


MIN_ALPHA_N = 30


def _pairwise_r(x: np.ndarray) -> float | None:
    """Mean inter-item correlation over item pairs answered together by ≥ MIN_ALPHA_N respondents
    (each pair on the respondents who had both)."""
    m = ~np.isnan(x)
    x0 = np.where(m, x, 0.0)
    mf = m.astype(float)
    n = mf.T @ mf
    s = x0.T @ mf  # s[j, l]: sum of item j over respondents who had item l
    q = (x0**2).T @ mf
    cross = x0.T @ x0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        var = q / n - mean**2
        cov = cross / n - mean * mean.T
        r = cov / np.sqrt(var * var.T)
    upper = np.triu(np.ones_like(n, dtype=bool), k=1)
    ok = upper & (n >= MIN_ALPHA_N) & np.isfinite(r) & (var > 0) & (var.T > 0)
    if not ok.any():
        return None
    return float(r[ok].mean())


def _reliability(label: str, x: np.ndarray) -> Reliability:
    given = (~np.isnan(x)).sum(axis=1)
    given = given[given > 0]
    if x.shape[1] < 2 or not len(given):
        return Reliability(label, None, int(given.max()) if len(given) else 0, len(given), "",
                           gettext("该维度只有 1 道题，无法计算内部一致性。"))
    complete = x[~np.isnan(x).any(axis=1)]
    k = x.shape[1]
    if len(complete) >= MIN_ALPHA_N:
        var_tot = complete.sum(axis=1).var(ddof=1)
        if var_tot > 0:
            alpha = k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / var_tot)
            return Reliability(label, float(alpha), k, len(complete), "complete")
    k_form = int(np.median(given))
    if k_form < 2:
        return Reliability(label, None, k_form, len(given), "",
                           gettext("每份问卷在该维度只有 1 道题，无法计算内部一致性。"))
    r_bar = _pairwise_r(x)
    if r_bar is None:
        return Reliability(label, None, k_form, len(given), "",
                           gettext("同时答到任意两道题的受访者都不足 30 人，无法估计。"))
    alpha = k_form * r_bar / (1 + (k_form - 1) * r_bar)
    return Reliability(label, float(alpha), k_form, len(given), "pairwise")


def item_analysis(wave: Wave) -> ItemAnalysis:
    """Classical item analysis on the headline's respondents (the probability sample aged
    18–69, as for the estimates): weighted p-values, corrected item–total correlations, and
    Cronbach's α per dimension and overall. Forms differ between respondents, so when too few were
    given every item of a dimension, α is the standardised α of a form of the typical length
    computed from the pairwise inter-item correlations."""
    from kepu.literacy.items import item_points

    rs = list(_in_scope(wave).values_list("responses", "weight", "base_weight"))
    codes = sorted({c for resp, _w, _b in rs for c in resp})
    items = {i.code: i for i in Item.objects.filter(code__in=codes)}
    codes = [c for c in codes if c in items]
    if not rs or not codes:
        return ItemAnalysis(len(rs), [], [])
    x = np.full((len(rs), len(codes)), np.nan)
    for r, (resp, _w, _b) in enumerate(rs):
        for j, c in enumerate(codes):
            if c in resp:
                x[r, j] = 1.0 if item_points(items[c], resp[c])[1] else 0.0
    w = np.array([wt if wt is not None else b for _r, wt, b in rs])
    total = np.nansum(x, axis=1)
    stats = []
    for j, c in enumerate(codes):
        m = ~np.isnan(x[:, j])
        if m.sum() < 2:
            continue
        xi = x[m, j]
        p = float(np.average(xi, weights=w[m]))
        rest = total[m] - xi
        disc = float(np.corrcoef(xi, rest)[0, 1]) if xi.std() > 0 and rest.std() > 0 else float("nan")
        stats.append(ItemStat(items[c], int(m.sum()), p, disc))
    reliability = []
    for dim, label in Dimension.choices:
        cols = [j for j, c in enumerate(codes) if items[c].dimension == dim]
        if cols:
            reliability.append(_reliability(str(label), x[:, cols]))
    reliability.append(_reliability(gettext("全部题目"), x))
    return ItemAnalysis(len(rs), stats, reliability)


def earlier_waves(wave: Wave, district: OrgUnit | None = None) -> list[tuple[Wave, WaveEstimate]]:
    """The same figure (the region's, or one district's) in the region's other waves."""
    out = []
    for w in Wave.objects.filter(region=wave.region).exclude(pk=wave.pk).order_by("year"):
        if district is None:
            e = w.estimates.filter(variable="overall", suppressed=False).first()
        else:
            e = w.estimates.filter(variable="district", level=district.code, unit="", suppressed=False).first()
        if e is not None:
            out.append((w, e))
    return out


def level_labels(lang: str) -> dict[str, dict[str, str]]:
    """Display names for the levels of each breakdown variable."""
    from kepu.literacy.people import AGE_BANDS, AREAS, EDUCATION, KEY_GROUPS, SEXES

    en = lang.startswith("en")
    units = {u.code: (u.name_en if en else u.name_zh) for u in OrgUnit.objects.filter(level__in=["district", "town"])}
    return {
        "district": units,
        "town": units,
        "sex": {k: str(v) for k, v in SEXES},
        "area": {k: str(v) for k, v in AREAS},
        "education": {k: str(v) for k, v in EDUCATION},
        "key_group": {k: str(v) for k, v in KEY_GROUPS},
        "age_band": {b: f"{lo}–{hi}" + ("" if en else " 岁") for b, lo, hi in AGE_BANDS},
        "overall": {"all": "全市" if not en else "City"},
    }
