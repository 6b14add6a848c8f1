"""What the literacy app contributes to plan indicators: a wave's estimates of the share of
residents aged 18–69 具备科学素质, for the city and each district, with SE and 95% CI, become
observations of the plan's literacy-rate indicator (in percent)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.services import audit_record
from kepu.literacy.models import Wave
from kepu.plans.models import Observation, Plan
from kepu.plans.selectors import indicator_get
from kepu.plans.services import observation_publish
from kepu.stats import balance

LITERACY_INDICATOR = "LIT_RATE"


@transaction.atomic
def wave_publish(
    *, wave: Wave, plan: Plan, indicator_code: str = LITERACY_INDICATOR, actor: User | None = None
) -> list[Observation]:
    """Publish the wave's city and district estimates into the plan (replacing earlier values for
    that year, audited), with the Korn–Graubard interval shown on the wave's page. Estimates the NCHS
    presentation standard suppresses are not published; those it flags carry the warning in their note."""
    indicator = indicator_get(plan, indicator_code)
    if indicator is None:
        raise InputError(f"Plan {plan.code} has no indicator {indicator_code!r} for the literacy rate.")
    estimates = {(e.variable, e.level): e for e in wave.estimates.filter(method="direct", unit="")}
    if ("overall", "all") not in estimates:
        raise InputError(f"Wave {wave.code} has no estimates yet; run the estimation first.")
    units = [(plan.region, estimates[("overall", "all")])]
    for unit in OrgUnit.objects.filter(parent=plan.region, level=OrgUnit.Level.DISTRICT):
        e = estimates.get(("district", unit.code))
        if e is not None:
            units.append((unit, e))
    note = f"素质测评 {wave.code}：{wave.age_min}–{wave.age_max} 岁，样本 {{n}} 人"
    out = []
    for unit, e in units:
        if e.suppressed:
            continue
        out.append(
            observation_publish(
                indicator=indicator,
                org_unit=unit,
                year=wave.year,
                value=round(100 * e.estimate, 4),
                source="literacy",
                se=round(100 * e.se, 4),
                ci_low=round(100 * e.ci_published_low, 4),
                ci_high=round(100 * e.ci_published_high, 4),
                note=note.format(n=e.n) + ("；结果需审慎解读(见调查结果页的注)" if e.marks else ""),
            )
        )
    out += balance_publish(wave=wave, plan=plan)
    wave.published_at = timezone.now()
    wave.save(update_fields=["published_at"])
    audit_record(
        actor=actor, action="wave.publish", obj=wave, changes={"observations": (None, len(out))},
        comment=f"发布到规划：{len(out)} 项{indicator.name_zh}（{wave.year} 年，全市和各辖市(区)中符合发布标准的估计）",
    )
    return out


# Balance measures (issue 8, point 4): the plan's indicators derived from a wave's domain estimates by
# kepu.stats.balance, in percentage points (the CV in percent). A plan without an indicator code skips it.
BALANCE_KEY_GROUPS = ("youth", "farmers", "workers", "elderly", "officials")  # the plan's 重点人群
BALANCE_CHANGES = {  # change since the plan period's first published wave (the 2035 targets' reading)
    "BAL_DISTRICT_RANGE_CHANGE": "BAL_DISTRICT_RANGE",
    "BAL_DISTRICT_CV_CHANGE": "BAL_DISTRICT_CV",
    "BAL_URBAN_RURAL_GAP_CHANGE": "BAL_URBAN_RURAL_GAP",
}


def balance_measures(wave: Wave) -> dict[str, balance.Measure]:
    """The balance measures of one wave from its published (direct, city-wide) domain estimates, in
    percentage points; suppressed domains are left out and named in ``Measure.excluded``."""
    rows = wave.estimates.filter(method="direct", unit="")
    by: dict[str, list[balance.Domain]] = {}
    population = {u.code: u.population for u in OrgUnit.objects.filter(parent=wave.region)}
    for e in rows:
        if e.variable == "key_group" and e.level not in BALANCE_KEY_GROUPS:
            continue
        by.setdefault(e.variable, []).append(balance.Domain(
            e.level, 100 * e.estimate, 100 * e.se, e.suppressed,
            population.get(e.level) if e.variable == "district" else None,
        ))
    out: dict[str, balance.Measure | None] = {
        "BAL_DISTRICT_RANGE": balance.spread(by.get("district", [])),
        "BAL_DISTRICT_CV": _percent(balance.weighted_cv(by.get("district", []))),
        "BAL_AGE_GAP": balance.spread(by.get("age_band", [])),
        "BAL_KEY_GROUP_GAP": balance.spread(by.get("key_group", [])),
    }
    area = {d.code: d for d in by.get("area", [])}
    if "urban" in area and "rural" in area:
        out["BAL_URBAN_RURAL_GAP"] = balance.gap(area["urban"], area["rural"])
    return {k: m for k, m in out.items() if m is not None}


def _percent(m: balance.Measure | None) -> balance.Measure | None:
    """A ratio (the CV) in percent. The delta-method SE scales with it."""
    if m is None:
        return None
    return balance.Measure(100 * m.value, 100 * m.se, 100 * m.ci_low, 100 * m.ci_high, m.method, m.used, m.excluded)


def _baseline_wave(wave: Wave, plan: Plan) -> Wave | None:
    earlier = Wave.objects.filter(region=wave.region, year__gte=plan.start_year, year__lt=wave.year)
    return earlier.filter(published_at__isnull=False).order_by("year", "pk").first()


def balance_publish(*, wave: Wave, plan: Plan) -> list[Observation]:
    """Write the wave's balance measures (and their change since the plan period's first published
    wave) as city observations of the plan's balance indicators, each with SE and 95 % interval; the
    note names the method and any district or group left out because its estimate is suppressed."""
    measures = balance_measures(wave)
    base = _baseline_wave(wave, plan)
    changes: dict[str, tuple[balance.Measure, Wave]] = {}
    if base is not None:
        before = balance_measures(base)
        for code, level in BALANCE_CHANGES.items():
            if level in measures and level in before:
                changes[code] = (balance.change(measures[level], before[level]), base)
    method = {"bootstrap": "参数自助法", "delta": "Delta 法", "exact": "独立估计之差"}
    out = []
    for code, m in [*measures.items(), *((c, m) for c, (m, _b) in changes.items())]:
        indicator = indicator_get(plan, code)
        if indicator is None:
            continue
        note = f"素质测评 {wave.code}：标准误按{method[m.method]}计算"
        if code in changes:
            note += f"；相对 {base.code}（{base.year} 年）的变化，两次调查相互独立" if base else ""
        if m.excluded:
            note += f"；未计入估计不符合发布标准的：{'、'.join(_names(m.excluded))}"
        out.append(observation_publish(
            indicator=indicator, org_unit=plan.region, year=wave.year, value=round(m.value, 4), source="literacy",
            se=round(m.se, 4), ci_low=round(m.ci_low, 4), ci_high=round(m.ci_high, 4), note=note,
        ))
    return out


def _names(codes: tuple[str, ...]) -> list[str]:
    """District codes as names; other domain levels (age bands, groups) in the survey's own words."""
    from kepu.literacy.people import AGE_BANDS, AREAS, KEY_GROUPS

    names = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name_zh"))
    with translation.override("zh-hans"):  # notes are stored in the plan's language
        words = {c: str(label) for c, label in KEY_GROUPS + AREAS}
    words.update({c: f"{lo}–{hi} 岁" for c, lo, hi in AGE_BANDS})
    return [names.get(c) or words.get(c, c) for c in codes]
