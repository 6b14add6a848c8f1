"""Reads of budgets, spending reports and the project fund, with the user's scope applied in one place:
district officers see their district's budgets and applications; experts see only the reviews they
are assigned; the office sees everything in the city."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet, Sum

from kepu.core.models import OrgUnit, Role
from kepu.core.scope import READ_ROLES, REVIEW_ROLES, Scope, scope_for
from kepu.funding import indicators
from kepu.funding.models import Budget, FundApplication, FundAward, FundCall, FundReview, SpendingReport
from kepu.plans.derived import city_districts

MANAGE_ROLES = (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)


def can_manage(scope: Scope, unit: OrgUnit, department_code: str | None = None) -> bool:
    """Office admins and district officers manage budgets inside their unit; a department reporter
    manages their own department's lines."""
    if scope.covers(unit, MANAGE_ROLES):
        return True
    return bool(department_code and department_code in scope.departments
                and scope.covers(unit, (Role.DEPARTMENT_REPORTER,)))


def can_review(scope: Scope, unit: OrgUnit) -> bool:
    return scope.covers(unit, REVIEW_ROLES)


def budgets_visible(user: User | AnonymousUser, *, year: int | None = None) -> QuerySet[Budget]:
    scope = scope_for(user)
    qs = Budget.objects.select_related("org_unit", "department", "created_by", "submitted_by", "approved_by")
    qs = qs.filter(scope.unit_filter("org_unit__", READ_ROLES))
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "org_unit__path", "department__code")


def budget_for(user: User | AnonymousUser, budget_id: int) -> Budget | None:
    return budgets_visible(user).filter(pk=budget_id).first()


def units_managed(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    """Units (city, districts, towns) the user may enter budgets for."""
    scope = scope_for(user)
    q = scope.unit_filter("", MANAGE_ROLES)
    if scope.departments:
        q |= scope.unit_filter("", (Role.DEPARTMENT_REPORTER,))
    return OrgUnit.objects.filter(q, level__in=["city", "district", "town"]).order_by("path")


def spending_reports_visible(user: User | AnonymousUser) -> QuerySet[SpendingReport]:
    scope = scope_for(user)
    return (SpendingReport.objects.select_related("budget__org_unit", "submitted_by", "reviewed_by")
            .prefetch_related("lines").filter(scope.unit_filter("budget__org_unit__", READ_ROLES)))


@dataclass(frozen=True)
class PerCapitaRow:
    unit: OrgUnit
    approved_fen: int
    pending_fen: int
    per_capita: float | None
    growth: float | None
    population: int | None
    estimate: bool


def per_capita_table(user: User | AnonymousUser, *, city: OrgUnit, year: int) -> list[PerCapitaRow]:
    """Per-capita approved funding and growth for the city and each district the user can see."""
    scope = scope_for(user)
    rows = []
    for unit in [city, *city_districts(city, year)]:
        if not scope.covers(unit):
            continue
        base = Budget.objects.filter(org_unit__path__startswith=unit.path, year=year)
        approved = base.filter(status=Budget.Status.APPROVED).aggregate(s=Sum("amount_fen"))["s"] or 0
        pending = base.exclude(status=Budget.Status.APPROVED).aggregate(s=Sum("amount_fen"))["s"] or 0
        rows.append(PerCapitaRow(
            unit=unit, approved_fen=int(approved), pending_fen=int(pending),
            per_capita=indicators.per_capita(unit, year), growth=indicators.growth(unit, year),
            population=unit.population, estimate=unit.population_is_estimate,
        ))
    return rows


def has_staff_role(user: User | AnonymousUser) -> bool:
    """Any role at all (viewers included): budgets and nominations are read within the role's scope."""
    scope = scope_for(user)
    return scope.superuser or any(scope.paths.values()) or bool(scope.departments)


def fund_access(user: User | AnonymousUser) -> bool:
    """Staff with a role, and experts with an assigned review, may open the fund's pages and API."""
    return has_staff_role(user) or reviews_assigned(user).exists()


def calls_visible(user: User | AnonymousUser) -> QuerySet[FundCall]:
    """Calls are notices: everyone with access to the fund reads all of them."""
    if not fund_access(user):
        return FundCall.objects.none()
    return FundCall.objects.select_related("org_unit").prefetch_related("eligible_units")


def applications_visible(user: User | AnonymousUser) -> QuerySet[FundApplication]:
    """Applications in the user's scope, plus those they are assigned to review, plus their own."""
    scope = scope_for(user)
    qs = FundApplication.objects.select_related("call", "org_unit", "submitted_by")
    if scope.superuser:
        return qs
    q = scope.unit_filter("org_unit__", (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER, Role.REVIEWER))
    if user.is_authenticated:
        q |= Q(reviews__reviewer=user) | Q(submitted_by=user)
    return qs.filter(q).distinct()


def reviews_assigned(user: User | AnonymousUser) -> QuerySet[FundReview]:
    """The reviews an expert is assigned: all they may see of the fund's reviews."""
    if not user.is_authenticated:
        return FundReview.objects.none()
    return FundReview.objects.select_related("application__call", "application__org_unit").filter(reviewer=user)


def reviews_of(user: User | AnonymousUser, application: FundApplication) -> QuerySet[FundReview]:
    """All reviews of an application for those who run the call; a reviewer sees only their own."""
    qs = FundReview.objects.select_related("reviewer").filter(application=application)
    if can_review(scope_for(user), application.call.org_unit):
        return qs
    return qs.filter(reviewer_id=getattr(user, "pk", None))


def awarded_total_fen(call: FundCall) -> int:
    return int(FundAward.objects.filter(application__call=call).aggregate(s=Sum("amount_fen"))["s"] or 0)


def budget_row(b: Budget) -> dict[str, Any]:
    from kepu.funding.money import yuan

    return {
        "id": b.pk, "org_unit": b.org_unit.code, "org_unit_name": b.org_unit.name_zh,
        "department": b.department.code if b.department is not None else None, "year": b.year,
        "amount_yuan": str(yuan(b.amount_fen)), "status": b.status, "note": b.note,
        "created_by": b.created_by.username if b.created_by else None,
        "approved_by": b.approved_by.username if b.approved_by else None,
    }
