"""The plans router: read plans, targets, status and observations; submit and review observations.
Scope is applied by the same selectors and services the pages use."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.scope import actor, scope_for
from kepu.plans import selectors, services
from kepu.plans.models import Observation, Plan, TargetStatus
from kepu.plans.picker import plans_for
from kepu.plans.schemas import (
    IndicatorCode,
    ObservationId,
    ObservationIn,
    ObservationOut,
    ObservationStatus,
    Page,
    PlanCode,
    PlanOut,
    ReviewIn,
    SharesIn,
    StatusOut,
    TargetCode,
    TargetOut,
    UnitCode,
    Year,
)

router = Router(tags=["plans"])


def _plan(code: str, request: HttpRequest) -> Plan:
    """The plan if the caller's scope reaches it (a city user gets 404 for another city's plan)."""
    plan = selectors.plan_get(code)
    if plan is None or not scope_for(request.user).sees_plan_region(plan.region):
        raise Http404(f"No plan with code {code!r}.")
    return plan


def _check_year(plan: Plan, year: int | None) -> None:
    if year is not None and not plan.start_year <= year <= plan.end_year:
        raise InputError(
            _("Period %(p)s is outside the plan years %(a)s–%(b)s.")
            % {"p": year, "a": plan.start_year, "b": plan.end_year}
        )


def _obs_out(o: Observation) -> dict[str, Any]:
    return {
        "id": o.pk,
        "indicator": o.indicator.code,
        "org_unit": o.org_unit.code,
        "year": o.year,
        "quarter": o.quarter,
        "value": o.value,
        "se": o.se,
        "ci_low": o.ci_low,
        "ci_high": o.ci_high,
        "status": o.status,
        "comment": o.comment,
        "review_comment": o.review_comment,
        "source": o.source,
    }


@router.get("/plans", response=list[PlanOut])
def plans_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
            "region": p.region.code,
            "start_year": p.start_year,
            "end_year": p.end_year,
            "version": p.version,
        }
        for p in plans_for(request.user)
    ]


@router.get("/plans/{code}/targets", response=list[TargetOut])
def targets_list(request: HttpRequest, code: PlanCode) -> list[dict[str, Any]]:
    return [selectors.target_dict(t) for t in selectors.targets_for(_plan(code, request))]


@router.post("/plans/{code}/targets/{target}/shares", response=TargetOut)
def target_shares_set(request: HttpRequest, code: PlanCode, target: TargetCode, payload: SharesIn) -> dict[str, Any]:
    """The office sets each district's share (%) of a split target; they must sum to 100 (audited)."""
    found = selectors.targets_for(_plan(code, request)).filter(code=target).first()
    if found is None:
        raise Http404(f"No target {target!r} in plan {code}.")
    services.allocation_shares_set(user=actor(request), target=found, shares_pct=payload.shares,
                                   comment=payload.comment)
    return selectors.target_dict(found)


@router.get("/plans/{code}/status", response=list[StatusOut])
def status_list(request: HttpRequest, code: PlanCode, org_unit: UnitCode | None = None) -> list[dict[str, Any]]:
    plan = _plan(code, request)
    scope = scope_for(request.user)
    qs = (
        TargetStatus.objects.filter(target__plan=plan)
        .select_related("target", "org_unit")
        .filter(scope.unit_filter("org_unit__"))
    )
    if org_unit:
        qs = qs.filter(org_unit__code=org_unit)
    return [
        {
            **{f: getattr(s, f) for f in StatusOut.model_fields if f not in ("target", "org_unit")},
            "target": s.target.code,
            "org_unit": s.org_unit.code,
        }
        for s in qs.order_by("target__order", "org_unit__path")
    ]


@router.get("/observations", response=Page)
def observations_list(
    request: HttpRequest,
    plan: PlanCode,
    indicator: IndicatorCode | None = None,
    org_unit: UnitCode | None = None,
    year: Year | None = None,
    status: ObservationStatus | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
) -> dict[str, Any]:
    chosen = _plan(plan, request)
    _check_year(chosen, year)
    qs = selectors.observations_visible(request.user, chosen)
    if indicator:
        qs = qs.filter(indicator__code=indicator)
    if org_unit:
        qs = qs.filter(org_unit__code=org_unit)
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    return {"count": qs.count(), "items": [_obs_out(o) for o in qs[offset : offset + limit]]}


@router.post("/observations", response={201: ObservationOut})
def observation_create(request: HttpRequest, payload: ObservationIn) -> Status:
    plan = _plan(payload.plan, request)
    if selectors.indicator_get(plan, payload.indicator) is None:
        raise InputError(f"indicator: unknown indicator code {payload.indicator!r} in plan {plan.code}")
    if not OrgUnit.objects.filter(code=payload.org_unit).exists():
        raise InputError(f"org_unit: unknown org unit code {payload.org_unit!r}")
    # Only what the data-entry page would offer this user, refused in the page's words.
    unit = selectors.reportable_unit(plan, request.user, payload.org_unit)
    indicator = selectors.reportable_indicator(plan, request.user, unit, payload.indicator)
    entry = services.Entry(
        indicator=indicator,
        org_unit=unit,
        year=payload.year,
        quarter=payload.quarter,
        raw_value=payload.value,
        comment=payload.comment,
    )
    obs = services.observation_save(
        user=actor(request), entry=entry, submit=payload.submit, source="api", create_only=True
    )
    return Status(201, _obs_out(obs))


def _visible_obs(request: HttpRequest, obs_id: int) -> Observation:
    obs = selectors.observations_visible(request.user).filter(pk=obs_id).first()
    if obs is None:
        raise Http404(f"No observation {obs_id} in your scope.")
    return obs


@router.post("/observations/{obs_id}/submit", response=ObservationOut)
def observation_submit(request: HttpRequest, obs_id: ObservationId) -> dict[str, Any]:
    return _obs_out(services.observation_submit(user=actor(request), observation=_visible_obs(request, obs_id)))


@router.post("/observations/{obs_id}/approve", response=ObservationOut)
def observation_approve(request: HttpRequest, obs_id: ObservationId, payload: ReviewIn) -> dict[str, Any]:
    obs = services.observation_approve(
        user=actor(request), observation=_visible_obs(request, obs_id), comment=payload.comment
    )
    return _obs_out(obs)


@router.post("/observations/{obs_id}/return", response=ObservationOut)
def observation_return(request: HttpRequest, obs_id: ObservationId, payload: ReviewIn) -> dict[str, Any]:
    obs = services.observation_return(
        user=actor(request), observation=_visible_obs(request, obs_id), comment=payload.comment
    )
    return _obs_out(obs)
