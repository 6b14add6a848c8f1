"""Weighting a wave to population margins and estimating the literacy rate with design-based
standard errors (kepu.stats.survey), by domain, plus model-based town estimates (Fay–Herriot)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit, PopulationCell
from kepu.core.services import audit_record
from kepu.core.uploads import number_problem, read_csv, read_path
from kepu.literacy.models import Respondent, Wave, WaveEstimate
from kepu.literacy.selectors import margins_label
from kepu.stats import raking, replicate, sae, survey
from kepu.stats.presentation import assess

DOMAINS = ["district", "age_band", "sex", "area", "education", "key_group"]


def _no_respondents(wave: Wave) -> str:
    return _("调查 %(code)s 中没有 %(a)s–%(b)s 岁且已评分的受访者。") % {
        "code": wave.code, "a": wave.age_min, "b": wave.age_max}


def in_scope(wave: Wave, sample: str = Respondent.Sample.PROBABILITY) -> list[Respondent]:
    """Respondents inside the headline indicator's scope (ages 18–69 by default)."""
    return list(
        wave.respondents.filter(sample=sample, age__gte=wave.age_min, age__lte=wave.age_max, passed__isnull=False)
        .select_related("district", "town")
        .order_by("pk")
    )


def _design(rs: list[Respondent], wave: Wave, weights: np.ndarray | None = None) -> survey.Design:
    w = np.array([r.base_weight for r in rs], dtype=float) if weights is None else weights
    return survey.Design.from_arrays(
        strata=[r.stratum for r in rs], psu=[r.psu for r in rs], weights=w, lonely_psu=wave.lonely_psu
    )


def _value(r: Respondent, variable: str) -> str:
    if "|" in variable:  # a joint margin such as "sex|area"
        return "|".join(_value(r, v) for v in variable.split("|"))
    if variable == "district":
        return r.district.code if r.district else ""
    return str(getattr(r, variable) or "")


def margins_read(paths: list[Path]) -> list[tuple[str, dict[str, float]]]:
    """Margin files: category column(s) named like respondent fields (district, sex, area,
    age_band, education, key_group) and a final `population` column."""
    out = []
    for path in paths:
        content = read_path(path, kind="margins")
        rows = [r for r in read_csv(content, name=path.name, kind="margins") if any(c.strip() for c in r)]
        if len(rows) < 2 or rows[0][-1].strip() != "population" or len(rows[0]) < 2:
            raise InputError(f"{path}: expected category column(s) followed by a final 'population' column")
        cats = [c.strip() for c in rows[0][:-1]]
        unknown = [c for c in cats if c not in DOMAINS]
        if unknown:
            raise InputError(f"{path}: column(s) {', '.join(unknown)} are not respondent fields ({', '.join(DOMAINS)})")
        totals: dict[str, float] = {}
        for i, row in enumerate(rows[1:], start=2):
            try:
                total = float(row[-1])
                if total < 0 or number_problem(total):
                    raise ValueError
                totals["|".join(c.strip() for c in row[:-1])] = total
            except (ValueError, IndexError):
                raise InputError(f"{path}: row {i}, column population: expected a number ≥ 0") from None
        out.append(("|".join(cats), totals))
    return out


def population_margins(wave: Wave, variables: list[str]) -> list[tuple[str, dict[str, float]]]:
    """Margin totals from the region file's population cells (district × sex × urban/rural).
    The cells are labelled estimates covering all ages, so raking to them is an approximation
    for the 18–69 scope; supply margin files for better figures."""
    cells = PopulationCell.objects.filter(unit__parent=wave.region).select_related("unit")
    if not cells.exists():
        raise InputError("The region has no population cells to weight to; supply margin files.")
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for c in cells:
        for v in variables:
            key = {"district": c.unit.code, "sex": c.sex, "area": c.area}.get(v)
            if key is None:
                raise InputError(f"No population margin for {v!r} in the region file (available: district, sex, area).")
            totals[v][key] += c.value
    return [(v, dict(totals[v])) for v in variables]


@dataclass(frozen=True)
class WeightReport:
    converged: bool
    iterations: int
    max_error: float
    kish_deff: float
    trimmed: int
    margins: list[str]


@transaction.atomic
def wave_weight(
    *,
    wave: Wave,
    variables: list[str] | None = None,
    supplied: list[tuple[str, dict[str, float]]] | None = None,
    trim: tuple[float, float] | None = None,
    actor: User | None = None,
) -> WeightReport:
    """Rake base weights to population margins; store final weights and the convergence report."""
    rs = in_scope(wave)
    if not rs:
        raise InputError(_no_respondents(wave))
    margins_spec = (
        supplied if supplied is not None else population_margins(wave, variables or ["district", "sex", "area"])
    )
    design = _design(rs, wave)
    margins = [
        raking.Margin(column=v, categories=np.array([_value(r, v) for r in rs]), totals=t) for v, t in margins_spec
    ]
    try:
        result = raking.rake(design, margins, trim=trim)
    except ValueError as exc:
        raise InputError(_("加权失败：%(error)s") % {"error": exc}) from exc
    for r, w in zip(rs, result.weights, strict=True):
        r.weight = float(w)
    Respondent.objects.bulk_update(rs, ["weight"], batch_size=2000)
    report = WeightReport(
        result.converged,
        result.iterations,
        float(result.max_error),
        float(result.kish_deff),
        int(result.trimmed),
        [v for v, _ in margins_spec],
    )
    wave.weighting = {**report.__dict__, "margins_totals": {v: t for v, t in margins_spec}, "trim": trim}
    wave.save(update_fields=["weighting"])
    audit_record(actor=actor, action="wave.weight", obj=wave, changes={"weighting": (None, report.__dict__)},
                 comment=weighting_summary(wave.weighting))
    return report


def weighting_summary(weighting: dict[str, Any]) -> str:
    """The raking report in words for the audit log (in Chinese, the record's language), never a repr."""
    with translation.override("zh-hans"):
        margins = margins_label(weighting.get("margins") or [])
    state = "已收敛" if weighting.get("converged") else "未收敛"
    text = f"加权：按 {margins} 校准(迭代比例拟合)，"
    text += f"迭代 {weighting.get('iterations')} 次，{state}"
    text += f"，权数的 Kish 设计效应 {float(weighting.get('kish_deff') or 1):.2f}"
    if weighting.get("trimmed"):
        text += f"，截尾 {weighting.get('trimmed')} 个权数"
    return text


Estimator = survey.Design | replicate.JackknifeDesign  # both give .mean() and .by() as survey.Estimate


def wave_design(wave: Wave) -> tuple[list[Respondent], Estimator]:
    """The wave's design with its final weights; raked waves carry the calibration so that
    standard errors account for it. With ``wave.variance == "jkn"`` the delete-one-PSU jackknife,
    every replicate raked to the same margins."""
    rs = in_scope(wave)
    if not rs:
        raise InputError(_no_respondents(wave))
    design = _design(rs, wave)
    spec = wave.weighting.get("margins_totals") if wave.weighting else None
    margins = [
        raking.Margin(column=v, categories=np.array([_value(r, v) for r in rs]), totals=t)
        for v, t in (spec or {}).items()
    ]
    trim = wave.weighting.get("trim") if wave.weighting else None
    if wave.variance == Wave.Variance.JKN:
        if trim:
            raise InputError(_("刀切法不能与权数截尾同时使用：请去掉截尾，或改用泰勒线性化。"))
        try:
            return rs, replicate.jackknife(design, margins, psu=np.array([r.psu for r in rs]))
        except replicate.ReplicateRakingError as exc:
            raise InputError(
                _(
                    "刀切法无法估计：去掉层 %(stratum)s 的初级抽样单元 %(psu)s 后，无法再按%(margin)s加权。"
                    "请合并人数很少的类别或层，或改用泰勒线性化。"
                )
                % {"stratum": exc.stratum, "psu": exc.psu, "margin": margins_label([exc.margin])}
            ) from exc
        except ValueError as exc:
            raise InputError(_("刀切法方差估计失败：%(error)s") % {"error": exc}) from exc
    if margins:
        design = raking.rake(design, margins, trim=tuple(trim) if trim else None).design
    return rs, design


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _row(
    wave: Wave, variable: str, level: str, e: survey.Estimate, method: str = "direct", unit: str = ""
) -> WaveEstimate:
    """A direct estimate as stored: shown only if presentable under the NCHS standard for proportions
    (kepu.stats.presentation), with its flags (e.g. "review_df": shown with a mark)."""
    shown = assess(e)
    return WaveEstimate(
        wave=wave,
        variable=variable,
        level=level,
        unit=unit,
        n=e.n,
        estimate=e.estimate,
        se=e.se,
        ci_low=e.ci_low,
        ci_high=e.ci_high,
        ci_logit_low=e.ci_logit_low,
        ci_logit_high=e.ci_logit_high,
        deff=e.deff,
        method=method,
        suppressed=not shown.presentable,
        ci_kg_low=_finite(e.ci_kg_low),
        ci_kg_high=_finite(e.ci_kg_high),
        df=int(e.df),
        n_eff=_finite(e.n_eff),
        flags=list(shown.flags),
    )


@transaction.atomic
def wave_estimate(*, wave: Wave, actor: User | None = None) -> list[WaveEstimate]:
    """Overall and domain estimates of the share 具备科学素质, stored for pages, exports and the plan."""
    rs, design = wave_design(wave)
    y = np.array([1.0 if r.passed else 0.0 for r in rs])
    rows = [_row(wave, "overall", "all", design.mean(y))]
    for variable in DOMAINS:
        groups = np.array([_value(r, variable) for r in rs])
        for level, est in design.by(y, groups).items():
            if level:
                rows.append(_row(wave, variable, level, est))
    rows += _district_breakdowns(wave, rs, design, y)
    rows += _towns(wave, rs, design, y, rows)
    WaveEstimate.objects.filter(wave=wave).delete()
    WaveEstimate.objects.bulk_create(rows)
    overall = rows[0]
    audit_record(
        actor=actor,
        action="wave.estimate",
        obj=wave,
        changes={"estimates": (None, len(rows))},
        comment=(
            f"估计完成：具备科学素质的比例 {100 * overall.estimate:.1f}%"
            f"（95% 置信区间 {100 * overall.ci_published_low:.1f}%–"
            f"{100 * overall.ci_published_high:.1f}%，样本 {overall.n} 人），共 {len(rows)} 项估计"
        ),
    )
    return rows


def _district_breakdowns(wave: Wave, rs: list[Respondent], design: Estimator, y: np.ndarray) -> list[WaveEstimate]:
    """Each district's own breakdowns (sex, age band, …), for district users: domains inside one
    district, so nothing in them depends on another district's answers."""
    out = []
    districts = [_value(r, "district") for r in rs]
    for variable in DOMAINS:
        if variable == "district":
            continue
        groups = np.array([f"{d}|{_value(r, variable)}" for d, r in zip(districts, rs, strict=True)])
        for key, est in design.by(y, groups).items():
            district, _sep, level = key.partition("|")
            if district and level:
                out.append(_row(wave, variable, level, est, unit=district))
    return out


def _towns(
    wave: Wave, rs: list[Respondent], design: Estimator, y: np.ndarray, rows: list[WaveEstimate]
) -> list[WaveEstimate]:
    """Fay–Herriot estimates for towns/streets: direct town estimates borrow strength from their
    district's direct estimate. Stored only where the model is adequate for that town."""
    towns = np.array([r.town.code if r.town else "" for r in rs])
    if not any(towns):
        return []
    direct = {k: e for k, e in design.by(y, towns).items() if k}
    district_est = {r.level: r.estimate for r in rows if r.variable == "district"}
    town_units = {u.code: u for u in OrgUnit.objects.filter(code__in=list(direct)).select_related("parent")}
    parent_of = {c: u.parent.code for c, u in town_units.items() if u.parent is not None}
    codes = [c for c in direct if parent_of.get(c) in district_est]
    if len(codes) < 10:
        return []
    yv = np.array([direct[c].estimate for c in codes])
    # Smoothed sampling variances (pooled p, the overall design effect): towns with 0 or 100% in a
    # small sample would otherwise claim zero variance.
    overall_deff = next((r.deff for r in rows if r.variable == "overall"), 1.0) or 1.0
    d = sae.proportion_sampling_variance(yv, np.array([direct[c].n for c in codes], dtype=float), deff=overall_deff)
    x = np.column_stack([np.ones(len(codes)), np.array([district_est[parent_of[c]] for c in codes])])
    fit = sae.fay_herriot_proportion(yv, d, x)
    wave.town_model = {
        "method": fit.method,
        "sigma2_u": float(fit.sigma2_u),
        "sigma2_u_at_zero": bool(fit.sigma2_u_at_zero),
        "adequate": bool(fit.adequate),
        "reasons": list(fit.messages),
        "reason_codes": list(fit.reasons),
        "areas": len(codes),
        "shown": int(sum(bool(fit.adequate and a) for a in fit.area_adequate)),
        "covariates": ["intercept", "district direct estimate"],
    }
    wave.save(update_fields=["town_model"])
    out = []
    for i, c in enumerate(codes):
        if not (fit.adequate and fit.area_adequate[i]):
            continue
        est, rmse = float(fit.estimate[i]), float(fit.rmse[i])
        out.append(
            WaveEstimate(
                wave=wave,
                variable="town",
                level=c,
                n=direct[c].n,
                estimate=est,
                se=rmse,
                ci_low=max(0.0, est - 1.959964 * rmse),
                ci_high=min(1.0, est + 1.959964 * rmse),
                method="fay_herriot",
                # Model-based: the NCHS standard judges direct estimates; the model's own checks above
                # decide which towns are listed, and pages label these rows as model estimates.
                suppressed=False,
            )
        )
    return out
