"""Use cases for survey waves, composed from the modules that do the work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.services import audit_record
from kepu.core.uploads import code_problem, read_path, text_problem
from kepu.literacy.estimates import wave_estimate, wave_weight
from kepu.literacy.indicators import wave_publish
from kepu.literacy.models import ScoringProfile, Wave
from kepu.literacy.scoring import profiles_ensure
from kepu.literacy.waves import respondents_import
from kepu.plans.selectors import plan_default


@transaction.atomic
def wave_create(
    *,
    code: str,
    year: int,
    name: str = "",
    profile: str = "cast_newera",
    mode: str = "face_to_face",
    design: dict[str, object] | None = None,
    actor: User | None = None,
    name_en: str = "",
) -> Wave:
    problems = [
        f"{field}: {problem}"
        for field, problem in (
            ("code", code_problem(code, max_length=Wave._meta.get_field("code").max_length or 0)),
            ("name", text_problem(name, max_length=Wave._meta.get_field("name_zh").max_length or 0)),
        )
        if problem
    ]
    if problems:
        raise InputError(problems[0], errors=problems)
    plan = plan_default()
    if plan is None:
        raise InputError("Import a plan (and its region) before creating a survey wave.")
    profiles_ensure()
    prof = ScoringProfile.objects.filter(code=profile).first()
    if prof is None:
        raise InputError(
            f"Unknown scoring profile {profile!r}; available: "
            f"{', '.join(ScoringProfile.objects.values_list('code', flat=True))}"
        )
    wave, _created = Wave.objects.update_or_create(
        code=code,
        defaults={
            "year": year,
            "name_zh": name or f"{year}年公民科学素质调查",
            "name_en": name_en or name or f"{year} citizen science literacy survey",
            "profile": prof,
            "region": plan.region,
            "mode": mode,
            "design": design or {},
        },
    )
    return wave


def wave_import(
    *, code: str, path: Path, year: int, name: str = "", profile: str = "cast_newera", actor: User | None = None
) -> tuple[Wave, int]:
    content = read_path(path, kind="respondents")
    with transaction.atomic():
        wave = wave_create(code=code, year=year, name=name, profile=profile, actor=actor)
        n = respondents_import(wave=wave, content=content, name=path.name, actor=actor)
    return wave, n


def wave_upload(
    *,
    code: str,
    year: int,
    name: str,
    mode: str,
    fieldwork: tuple[str | None, str | None],
    content: bytes,
    file_name: str,
    actor: User | None = None,
) -> str:
    """From the page: create the wave, import its respondents, weight to the region's margins and
    estimate (publishing to the plan stays a separate, deliberate step)."""
    if not code:
        raise InputError(_("请填写调查编号，例如 cz-2026。"))
    if mode not in Wave.Mode.values:
        raise InputError(_("未知的调查方式：%(mode)s。") % {"mode": mode})
    try:
        start, end = (dt.date.fromisoformat(d) if d else None for d in fieldwork)
    except ValueError as exc:
        raise InputError(_("调查日期的格式应为 2026-05-01。")) from exc
    if Wave.objects.filter(code=code).exists():
        raise InputError(_("编号 %(code)s 已被另一次调查使用，请换一个编号。") % {"code": code})
    # One transaction for the whole upload: a file that imports but cannot be weighted or estimated
    # leaves no wave, respondents, estimates or audit entries behind.
    with transaction.atomic():
        wave = wave_create(code=code, year=year, name=name, mode=mode, actor=actor)
        wave.fieldwork_start, wave.fieldwork_end = start, end
        wave.save(update_fields=["fieldwork_start", "fieldwork_end"])
        respondents_import(wave=wave, content=content, name=file_name, actor=actor)
        return wave_process(code=code, variables=["district", "sex", "area"], actor=actor)


@transaction.atomic  # weights, estimates and publication come from one weighting run, or none
def wave_process(
    *,
    code: str,
    variables: list[str],
    supplied: list[tuple[str, dict[str, float]]] | None = None,
    trim: tuple[float, float] | None = None,
    publish: bool = False,
    actor: User | None = None,
    variance: str | None = None,
) -> str:
    """Weight and estimate a wave (and publish it on request); ``variance`` ("taylor"/"jkn") changes the wave's
    variance method first, None keeps it."""
    wave = Wave.objects.filter(code=code).first()
    if wave is None:
        raise InputError(f"No wave {code!r}.")
    if variance is not None:
        wave_variance_set(wave=wave, variance=variance, actor=actor, estimate=False)
    report = wave_weight(wave=wave, variables=variables, supplied=supplied, trim=trim, actor=actor)
    rows = wave_estimate(wave=wave, actor=actor)
    overall = next(r for r in rows if r.variable == "overall")
    text = (
        f"{wave.code}: raked to {', '.join(report.margins)} in {report.iterations} iterations "
        f"(converged={report.converged}, Kish deff {report.kish_deff:.2f}); literacy "
        f"{100 * overall.estimate:.1f}% (SE {100 * overall.se:.1f}, n={overall.n}, variance {wave.variance})."
    )
    if publish:
        plan = plan_default()
        assert plan is not None
        wave_publish(wave=wave, plan=plan, actor=actor)
        text += f" Published to {plan.code}."
    return text


@transaction.atomic
def wave_variance_set(*, wave: Wave, variance: str, actor: User | None = None, estimate: bool = True) -> Wave:
    """Choose how the wave's standard errors are estimated (``Wave.Variance``) and estimate again with it, so
    the stored estimates always match the wave's setting; a published wave's plan figures are republished.
    Weights are unchanged (the jackknife rakes its replicates to the wave's margins itself). ``estimate=False``
    only records the choice, for a caller that weights and estimates next (``wave_process``)."""
    if variance not in Wave.Variance.values:
        raise InputError(_("未知的方差估计方法：%(value)s") % {"value": variance})
    old = wave.variance
    if variance == old:
        return wave
    wave.variance = variance
    wave.save(update_fields=["variance"])
    if estimate and wave.estimates.exists():
        wave_estimate(wave=wave, actor=actor)
        if wave.published_at is not None:
            plan = plan_default()
            if plan is not None:
                wave_publish(wave=wave, plan=plan, actor=actor)
    with translation.override("zh-hans"):  # the audit log's language
        label = str(Wave.Variance(variance).label)
    audit_record(
        actor=actor,
        action="wave.variance",
        obj=wave,
        changes={"variance": (old, variance)},
        comment=f"方差估计方法改为：{label}",
    )
    return wave
