"""Who may see and do what, decided in one place for pages, API and exports alike.

A role assignment is scoped to an org unit and everything below it (by materialised path) and,
for department reporters, to the indicators measured by a task their department is on (as lead or
supporting unit: `plans.selectors.responsible_codes`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from kepu.core.errors import PermissionDenied
from kepu.core.models import OrgUnit, Role, RoleAssignment

READ_ROLES = frozenset(Role.values)
REPORT_ROLES = frozenset({Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER, Role.DEPARTMENT_REPORTER})
REVIEW_ROLES = frozenset({Role.OFFICE_ADMIN, Role.REVIEWER})


@dataclass(frozen=True)
class Scope:
    superuser: bool = False
    # role -> org-unit paths (subtree roots) where the role applies
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # department codes for department reporters
    departments: frozenset[str] = frozenset()

    def _paths_for(self, roles: Iterable[str]) -> tuple[str, ...]:
        return tuple(p for r in roles for p in self.paths.get(r, ()))

    def covers(self, unit: OrgUnit, roles: Iterable[str] = READ_ROLES) -> bool:
        return self.superuser or any(unit.path.startswith(p) for p in self._paths_for(roles))

    def can_view(self, unit: OrgUnit) -> bool:
        return self.covers(unit)

    def sees_plan_region(self, region: OrgUnit) -> bool:
        """A plan is the user's when their scope covers its region (they work at or above it: a
        province user sees every city's plan), or when they work inside a city's (or district's)
        region. A city user does not see the province's plan, nor another city's."""
        if self.covers(region):
            return True
        if region.level == OrgUnit.Level.PROVINCE:
            return False
        return any(p.startswith(region.path) for p in self._paths_for(READ_ROLES))

    def can_review(self, unit: OrgUnit) -> bool:
        return self.covers(unit, REVIEW_ROLES)

    def can_report(self, unit: OrgUnit, responsible_departments: Iterable[str] = ()) -> bool:
        """Office admins and district reporters report anything in their subtree; department
        reporters only for indicators measured by a task their department is on (lead or support)."""
        if self.covers(unit, (Role.OFFICE_ADMIN, Role.DISTRICT_REPORTER)):
            return True
        if self.covers(unit, (Role.DEPARTMENT_REPORTER,)):
            return bool(self.departments & set(responsible_departments))
        return False

    @property
    def is_office_admin(self) -> bool:
        return self.superuser or bool(self.paths.get(Role.OFFICE_ADMIN))

    @property
    def can_review_anything(self) -> bool:
        return self.superuser or any(self.paths.get(r) for r in REVIEW_ROLES)

    @property
    def can_report_anything(self) -> bool:
        return self.superuser or any(self.paths.get(r) for r in REPORT_ROLES)

    def unit_filter(self, prefix: str = "", roles: Iterable[str] = READ_ROLES) -> Q:
        """A Q object restricting a queryset whose `<prefix>path` is an org-unit path."""
        if self.superuser:
            return Q()
        q = Q(pk__in=[])
        for p in self._paths_for(roles):
            q |= Q(**{f"{prefix}path__startswith": p})
        return q


def scope_for(user: User | AnonymousUser) -> Scope:
    if not user.is_authenticated or not user.is_active:
        return Scope()
    cached = getattr(user, "_kepu_scope", None)
    if cached is not None:
        return cached
    if getattr(user, "is_superuser", False):
        scope = Scope(superuser=True)
    else:
        paths: dict[str, list[str]] = {}
        departments: set[str] = set()
        for a in RoleAssignment.objects.filter(user=user).select_related("org_unit", "department"):
            if a.org_unit is not None:
                paths.setdefault(a.role, []).append(a.org_unit.path)
            if a.department is not None and a.role == Role.DEPARTMENT_REPORTER:
                departments.add(a.department.code)
        scope = Scope(paths={r: tuple(p) for r, p in paths.items()}, departments=frozenset(departments))
    user._kepu_scope = scope  # type: ignore[attr-defined]
    return scope


def visible_units(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope_for(user).unit_filter())


def actor(request: HttpRequest) -> User:
    """The authenticated user behind a request that is about to change something."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Log in first.")
    return user
