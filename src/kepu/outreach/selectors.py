"""Reads of the catalogue: what a user may edit, the console list, and what citizens see."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from kepu.core.models import OrgUnit, Role
from kepu.core.scope import Scope, scope_for
from kepu.outreach.models import Resource, Topic

EDIT_ROLES = (Role.EDITOR, Role.OFFICE_ADMIN)
WIDE_LEVELS = (OrgUnit.Level.PROVINCE, OrgUnit.Level.CITY)


def _edit_paths(scope: Scope) -> tuple[str, ...]:
    return tuple(p for r in EDIT_ROLES for p in scope.paths.get(r, ()))


def is_editor(scope: Scope) -> bool:
    return scope.superuser or bool(_edit_paths(scope))


def edits_whole_city(scope: Scope) -> bool:
    """City (or province) editors and office admins edit content for the whole city (no regions)."""
    if scope.superuser:
        return True
    paths = _edit_paths(scope)
    return bool(paths) and OrgUnit.objects.filter(path__in=paths, level__in=WIDE_LEVELS).exists()


def can_edit_regions(scope: Scope, regions: Iterable[OrgUnit]) -> bool:
    """A district editor edits resources targeted at units inside their district only; a resource for
    the whole city (no regions) is for city editors."""
    units = list(regions)
    if not units:
        return edits_whole_city(scope)
    return all(scope.covers(u, EDIT_ROLES) for u in units)


def can_edit(scope: Scope, resource: Resource) -> bool:
    return can_edit_regions(scope, resource.regions.all())


def editable_units(scope: Scope) -> QuerySet[OrgUnit]:
    """The org units an editor may target (districts and towns under their scope)."""
    units = OrgUnit.objects.filter(valid_to__isnull=True, level__in=[OrgUnit.Level.DISTRICT, OrgUnit.Level.TOWN])
    return units.filter(scope.unit_filter(roles=EDIT_ROLES)).order_by("path")


def console_resources(
    user: User | AnonymousUser, *, status: str = "", topic: str = "", kind: str = "", mine: bool = False
) -> QuerySet[Resource]:
    """The resources an editor's console lists: whole-city ones and those of regions in their scope."""
    scope = scope_for(user)
    qs = Resource.objects.select_related("author", "reviewer", "feed_source").prefetch_related("topics", "regions")
    if not scope.superuser:
        in_scope = Q(regions__in=OrgUnit.objects.filter(scope.unit_filter(roles=EDIT_ROLES)))
        qs = qs.filter(Q(regions__isnull=True) | in_scope).distinct()
    if status:
        qs = qs.filter(status=status)
    if topic:
        qs = qs.filter(topics__code=topic)
    if kind:
        qs = qs.filter(kind=kind)
    if mine and isinstance(user, User):
        qs = qs.filter(author=user)
    return qs


def review_queue(user: User) -> QuerySet[Resource]:
    """Drafts waiting for a second editor and reviewed pieces waiting to be published; never one's own
    drafts (nobody reviews their own piece)."""
    qs = console_resources(user).filter(status__in=[Resource.Status.DRAFT, Resource.Status.REVIEWED])
    return qs.exclude(status=Resource.Status.DRAFT, author=user).order_by("status", "updated_at")


def published_resources(region: OrgUnit | None = None) -> QuerySet[Resource]:
    """Published resources; with a region, those for the whole city or for that unit or a unit above it."""
    qs = Resource.objects.filter(status=Resource.Status.PUBLISHED).prefetch_related("topics", "regions")
    if region is not None:
        above = [p for p in region.path.strip("/").split("/") if p]
        paths = ["/" + "/".join(above[: i + 1]) + "/" for i in range(len(above))]
        qs = qs.filter(Q(regions__isnull=True) | Q(regions__path__in=paths)).distinct()
    return qs.order_by("-published_at", "code")


def topics() -> QuerySet[Topic]:
    return Topic.objects.select_related("parent").order_by("order", "code")
