"""Kiosks (big screens): who may configure them, what they show, and the audited writes.

A screen shows the published pieces chosen for it plus the published pieces under its topics, limited to
those meant for its region (no region = the whole city; a district's piece shows on that district's
screens). Editors and the office configure screens inside their own org unit."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit, Role
from kepu.core.scope import scope_for
from kepu.core.services import audit_record
from kepu.outreach.kiosk_models import INTERVAL_MAX, INTERVAL_MIN, Kiosk
from kepu.outreach.models import Resource, Topic

KIOSK_ROLES = (Role.EDITOR, Role.OFFICE_ADMIN)
MAX_ITEMS = 30


def can_configure(user: User | AnonymousUser, unit: OrgUnit | None = None) -> bool:
    """An editor or office admin; for a given unit, one whose scope covers it."""
    scope = scope_for(user)
    if unit is None:
        return scope.superuser or any(scope.paths.get(r) for r in KIOSK_ROLES)
    return scope.covers(unit, KIOSK_ROLES)


def kiosks_for(user: User | AnonymousUser) -> QuerySet[Kiosk]:
    return (Kiosk.objects.filter(scope_for(user).unit_filter("org_unit__", KIOSK_ROLES))
            .select_related("org_unit").annotate(n_resources=Count("resources", distinct=True),
                                                 n_topics=Count("topics", distinct=True)))


def units_for(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    """Units a user may put a screen in (current ones, inside their scope)."""
    return OrgUnit.objects.filter(scope_for(user).unit_filter("", KIOSK_ROLES), valid_to__isnull=True)


def kiosk_public(code: str) -> Kiosk | None:
    return Kiosk.objects.filter(code=code, active=True).select_related("org_unit").first()


def kiosk_items(kiosk: Kiosk, *, limit: int = MAX_ITEMS) -> list[Resource]:
    """The published pieces the screen rotates: chosen ones first (in code order), then its topics' newest."""
    ancestors = [c for c in kiosk.org_unit.path.split("/") if c]
    published = (Resource.objects.filter(status=Resource.Status.PUBLISHED)
                 .filter(Q(regions__isnull=True) | Q(regions__code__in=ancestors)).distinct())
    chosen = list(published.filter(kiosks=kiosk).order_by("code")[:limit])
    chosen_topics = list(kiosk.topics.values_list("pk", flat=True))
    # A topic brings its subtopics' pieces (健康生活 → 传染病防控, 合理用药, …).
    topic_ids = chosen_topics + list(Topic.objects.filter(parent__in=chosen_topics).values_list("pk", flat=True))
    rest: list[Resource] = []
    if topic_ids and len(chosen) < limit:
        rest = list(published.filter(topics__in=topic_ids).exclude(pk__in=[r.pk for r in chosen])
                    .order_by("-published_at", "code")[: limit - len(chosen)])
    return chosen + rest


def qr_svg(url: str) -> str:
    """An inline SVG QR code (made here, nothing fetched from another host)."""
    return str(segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff", omitsize=True))


@dataclass(frozen=True)
class KioskInput:
    code: str
    name: str
    org_unit: OrgUnit
    venue: str = ""
    resources: tuple[Resource, ...] = ()
    topics: tuple[Topic, ...] = ()
    contest_id: int | None = None
    interval: int = 20
    active: bool = True


def _check(user: User, data: KioskInput, kiosk: Kiosk | None) -> None:
    if not can_configure(user, data.org_unit) or (kiosk is not None and not can_configure(user, kiosk.org_unit)):
        raise PermissionDenied(_("只有本地区的科普内容编辑或领导小组办公室可以设置大屏。"))
    errors = []
    if not data.name.strip():
        errors.append(_("请填写大屏名称。"))
    if not INTERVAL_MIN <= data.interval <= INTERVAL_MAX:
        errors.append(_("轮播间隔须在 %(low)d 到 %(high)d 秒之间。") % {"low": INTERVAL_MIN, "high": INTERVAL_MAX})
    if not data.resources and not data.topics:
        errors.append(_("请至少选择一篇内容或一个主题。"))
    taken = Kiosk.objects.filter(code=data.code)
    if kiosk is not None:
        taken = taken.exclude(pk=kiosk.pk)
    if taken.exists():
        errors.append(_("代码 %(code)s 已被其他大屏使用。") % {"code": data.code})
    if errors:
        raise InputError(errors[0], errors=errors)


def _snapshot(kiosk: Kiosk) -> dict[str, object]:
    return {
        "code": kiosk.code, "name": kiosk.name, "org_unit": kiosk.org_unit.code, "venue": kiosk.venue,
        "resources": sorted(kiosk.resources.values_list("code", flat=True)),
        "topics": sorted(kiosk.topics.values_list("code", flat=True)),
        "contest_id": kiosk.contest_id, "interval": kiosk.interval, "active": kiosk.active,
    }


@transaction.atomic
def kiosk_save(*, user: User, data: KioskInput, kiosk: Kiosk | None = None) -> Kiosk:
    """Create a screen (kiosk=None) or change one; audited old → new."""
    _check(user, data, kiosk)
    before = _snapshot(kiosk) if kiosk is not None else {}
    if kiosk is None:
        kiosk = Kiosk(created_by=user)
    for attr in ("code", "name", "org_unit", "venue", "contest_id", "interval", "active"):
        setattr(kiosk, attr, getattr(data, attr))
    kiosk.save()
    kiosk.resources.set(data.resources)
    kiosk.topics.set(data.topics)
    after = _snapshot(kiosk)
    changes = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    if before and not changes:
        return kiosk
    audit_record(actor=user, action="kiosk.update" if before else "kiosk.create", obj=kiosk,
                 changes=changes, org_unit=kiosk.org_unit, label=kiosk.name)
    return kiosk


DEMO_KIOSKS = [
    {"code": "tianning-diaozhuang", "name": "雕庄街道社区大屏", "unit": "320402001", "venue": "雕庄街道党群服务中心",
     "topics": ["health", "safety", "digital"]},
    {"code": "city-science-hall", "name": "市民科学大厅", "unit": "320400", "venue": "常州市科技馆一楼大厅",
     "topics": ["frontier", "green", "agriculture"]},
]


def kiosk_demo(*, username: str = "editor") -> str:
    """Two demo screens set up by the demo's city editor (skipped when either is missing; idempotent)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        return "Kiosks: no demo editor, none set up."
    made = []
    for d in DEMO_KIOSKS:
        unit = OrgUnit.objects.filter(code=d["unit"]).first()
        topics = tuple(Topic.objects.filter(code__in=d["topics"]))
        if unit is None or not topics:
            continue
        existing = Kiosk.objects.filter(code=d["code"]).first()
        kiosk_save(user=user, kiosk=existing, data=KioskInput(
            code=str(d["code"]), name=str(d["name"]), org_unit=unit, venue=str(d["venue"]), topics=topics))
        made.append(f"/kiosk/{d['code']}/")
    return f"Kiosks: {', '.join(made) or 'none'}."
