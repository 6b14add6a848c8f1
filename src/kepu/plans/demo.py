"""Demo data: realistic-looking reports for 2021 to the current year, so every page has something
true-looking to show. Districts differ (urban districts ahead on literacy, some behind on flows),
the current year is only partly reported, and some targets end up met, some at risk."""

from __future__ import annotations

import random
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kepu.core.models import AuditEntry, OrgUnit
from kepu.core.services import audit_record, user_create
from kepu.plans.models import Observation, Plan, Target, TargetKind
from kepu.plans.status import status_refresh

DEMO_PASSWORD = "kepu-demo"

# (username, display name, [(role, org unit code, department code)])
DEMO_USERS: list[tuple[str, str, list[tuple[str, str | None, str | None]]]] = [
    ("office", "市科学素质办 管理员", [("office_admin", "320400", None)]),
    # A second office user: nobody approves their own figures (four eyes), the office included.
    ("office2", "市科学素质办 复核员", [("office_admin", "320400", None)]),
    ("reviewer", "市科协 审核员", [("reviewer", "320400", None)]),
    ("wujin", "武进区 填报员", [("district_reporter", "320412", None)]),
    ("xinbei", "新北区 填报员", [("district_reporter", "320411", None)]),
    ("edu", "市教育局 填报员", [("department_reporter", "320400", "cz-edu")]),
    # Rights follow tasks: 市农业农村局 leads farmer training; 市气象局 is on no task that counts farmers.
    ("agri", "市农业农村局 填报员", [("department_reporter", "320400", "cz-agri")]),
    ("meteo", "市气象局 填报员", [("department_reporter", "320400", "cz-meteo")]),
    ("viewer", "市领导 查看", [("viewer", "320400", None)]),
    # Outreach (issue 9): two city editors, so nobody reviews their own content (four eyes), and
    # the campaign operator. The demo citizens are made by kepu.citizens.demo.
    ("editor", "市科协 科普内容编辑", [("editor", "320400", None)]),
    ("editor2", "市科协 科普内容复核编辑", [("editor", "320400", None)]),
    ("campaigner", "市科协 精准推送运营", [("campaigner", "320400", None)]),
]

# How strongly each district performs relative to its share (literacy offset in points, work factor).
PROFILE: dict[str, tuple[float, float]] = {
    "320402": (2.6, 1.08),
    "320404": (2.2, 1.02),
    "320411": (1.4, 1.15),
    "320412": (0.3, 0.97),
    "320413": (-2.3, 0.88),
    "320481": (-2.9, 0.84),
    "changzhou_edz": (-0.4, 1.05),
}


def _rate_path(year: int) -> float:
    """City literacy path through the plan's 15.2% (2020) and the published 17% (2022)."""
    return 15.2 + 0.9 * (year - 2020) + (0.4 if year >= 2022 else 0.0) + 0.05 * (year - 2020) ** 2


def _values(target: Target, unit: OrgUnit | None, alloc: float, year: int, rnd: random.Random) -> float:
    offset, factor = PROFILE.get(unit.code, (0.0, 1.0)) if unit else (0.0, 1.0)
    if target.kind == TargetKind.RATE:
        return round(_rate_path(year) + offset + rnd.gauss(0, 0.35), 1)
    if target.kind == TargetKind.COVERAGE:
        start = 2021 + int(max(0.0, (1.1 - factor) * 20))
        return 100.0 if year >= start else 0.0
    if target.kind == TargetKind.STOCK:
        span = (target.deadline_year or target.period_end) - target.period_start + 1
        base = alloc / span * factor * (0.85 + 0.05 * (year - target.period_start))
        return float(max(0, round(rnd.gauss(base, max(0.6, base * 0.25)))))
    trend = 1 + 0.02 * (year - target.period_start)
    value = alloc * factor * trend * rnd.gauss(1.0, 0.06)
    return float(max(0, round(value))) if target.indicator.integer else round(value, 1)


def _observation(
    target: Target, unit: OrgUnit, year: int, value: float, status: str, se: float | None = None,
    reporter: User | None = None,
) -> Observation:
    now = timezone.now()
    ci = (round(value - 1.96 * se, 2), round(value + 1.96 * se, 2)) if se else (None, None)
    return Observation(
        indicator=target.indicator,
        org_unit=unit,
        year=year,
        quarter=0,
        value=value,
        se=se,
        ci_low=ci[0],
        ci_high=ci[1],
        status=status,
        source="demo",
        created_by=reporter,
        submitted_by=reporter if status != "draft" else None,
        submitted_at=now if status != "draft" else None,
        reviewed_at=now if status == "approved" else None,
    )


@transaction.atomic
def demo_generate(*, plan: Plan, seed: int = 2021, actor: User | None = None) -> dict[str, Any]:
    """Replace the plan's observations with demo data and create the demo users (idempotent)."""
    rnd = random.Random(seed)
    this_year = timezone.localdate().year
    Observation.objects.filter(indicator__plan=plan).delete()
    for username, full_name, roles in DEMO_USERS:
        if all(OrgUnit.objects.filter(code=r[1]).exists() for r in roles if r[1]):
            user_create(username=username, password=DEMO_PASSWORD, roles=roles, full_name=full_name, actor=actor)
    # Values a demo user could have reported carry their name (the review queue shows it); the
    # city's are the office's own, so the office needs office2 or the reviewer to approve them.
    reporters = {
        unit: User.objects.filter(username=username).first()
        for username, _name, roles in DEMO_USERS
        for role, unit, _dept in roles
        if role in ("district_reporter", "office_admin") and username != "office2"
    }
    rows: list[Observation] = []
    seen: set[tuple[int, int, int]] = set()
    for target in plan.targets.filter(active=True).select_related("indicator"):
        if target.indicator.code.startswith("BAL_"):
            continue  # derived from the demo's published literacy wave (kepu.literacy.indicators)
        allocations = list(target.allocations.select_related("org_unit"))
        units = [(a.org_unit, a.value) for a in allocations] or [(plan.region, target.value)]
        if target.kind == TargetKind.RATE and allocations:
            units.append((plan.region, target.value))
        last = min(this_year, target.period_end if target.kind == TargetKind.FLOW else this_year)
        for unit, alloc in units:
            for year in range(max(plan.start_year, target.period_start), last + 1):
                key = (target.indicator_id, unit.pk, year)
                if key in seen:
                    continue
                seen.add(key)
                status = "approved"
                if year == this_year:
                    roll = rnd.random()
                    if roll < 0.45:
                        continue
                    status = "submitted" if roll < 0.75 else ("approved" if roll < 0.9 else "draft")
                if target.kind == TargetKind.RATE:
                    city = unit.pk == plan.region_id
                    value = (
                        round(_rate_path(year) + rnd.gauss(0, 0.2), 2)
                        if city
                        else _values(target, unit, alloc, year, rnd)
                    )
                    se: float | None = 0.55 if city else 1.3
                    if target.direction == "down" and target.baseline_value is not None:  # a rank near its baseline
                        value, se = target.baseline_value + rnd.choice([-1, 0, 0, 1]), None
                    rows.append(_observation(target, unit, year, value, status, se=se,
                                             reporter=reporters.get(unit.code)))
                else:
                    rows.append(_observation(target, unit, year, _values(target, unit, alloc, year, rnd), status,
                                             reporter=reporters.get(unit.code)))
    Observation.objects.bulk_create(rows, batch_size=1000)
    audit_record(actor=actor, action="demo.generate", obj=plan, comment=f"演示数据 {len(rows)} 条(随机种子 {seed})")
    statuses = status_refresh(plan)
    return {"observations": len(rows), "statuses": statuses, "audit": AuditEntry.objects.count()}
