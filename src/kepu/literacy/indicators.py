"""What the literacy app contributes to plan indicators: a wave's estimates of the share of
residents aged 18–69 具备科学素质, for the city and each district, with SE and 95% CI, become
observations of the plan's literacy-rate indicator (in percent)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.services import audit_record
from kepu.literacy.models import Wave
from kepu.plans.models import Observation, Plan
from kepu.plans.selectors import indicator_get
from kepu.plans.services import observation_publish

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
    wave.published_at = timezone.now()
    wave.save(update_fields=["published_at"])
    audit_record(
        actor=actor, action="wave.publish", obj=wave, changes={"observations": (None, len(out))},
        comment=f"发布到规划：{len(out)} 项{indicator.name_zh}（{wave.year} 年，全市和各辖市(区)中符合发布标准的估计）",
    )
    return out
