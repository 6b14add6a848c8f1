"""五进 coverage: science events and push campaigns per setting (进企业、进农村、进社区、进学校、进家庭),
per district and year.

An event's setting is the one its organiser recorded (kepu.events `Event.setting`: enterprise,
village, community, school, family). Only for an event without one (older records, imports
without the 五进场景 column) is it guessed from its venue, then its title, by the first word list
that matches, in this order:
  school      学校 小学 中学 初中 高中 大学 学院 幼儿园 校园 中职
  enterprise  企业 公司 工厂 厂区 车间 产业园 园区 集团
  community   社区 街道 小区 居委 文化站 邻里 新村（城市居住区名，如“花园新村”）
  village     村 农村 乡村 田间 农场 合作社
  family      家庭 亲子 入户
and, when no word matches, from its key groups (youth → school, farmers → village, workers →
enterprise); otherwise it is "unclassified". Cancelled events do not count.

Campaigns (kepu.outreach) count in the district of their unit, or, for a city campaign, in every
district its segment names (all districts when it names none). Their setting comes from the
segment's key-group conditions (youth → school, farmers → village, workers → enterprise, elderly →
family: the message reaches older people at home); a campaign to everyone in an area counts as
进社区. Only campaigns the viewer may see are counted (office admins and campaigners see theirs)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext_lazy as _

from kepu.core.models import OrgUnit
from kepu.core.scope import scope_for

SETTINGS = {
    "enterprise": _("进企业"),
    "village": _("进农村"),
    "community": _("进社区"),
    "school": _("进学校"),
    "family": _("进家庭"),
}
WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("school", ("学校", "小学", "中学", "初中", "高中", "大学", "学院", "幼儿园", "校园", "中职")),
    ("enterprise", ("企业", "公司", "工厂", "厂区", "车间", "产业园", "园区", "集团")),
    ("community", ("社区", "街道", "小区", "居委", "文化站", "邻里", "新村")),
    ("village", ("村", "农村", "乡村", "田间", "农场", "合作社")),
    ("family", ("家庭", "亲子", "入户")),
]
EVENT_GROUPS = {"youth": "school", "farmers": "village", "workers": "enterprise"}
CAMPAIGN_GROUPS = {"youth": "school", "farmers": "village", "workers": "enterprise", "elderly": "family"}


def setting_of_text(text: str) -> str | None:
    for setting, words in WORDS:
        if any(w in text for w in words):
            return setting
    return None


def event_setting(*, title: str, venue: str, key_groups: Iterable[str], setting: str = "") -> str:
    """The recorded setting when there is one (and it is one of SETTINGS), else the guess."""
    if setting in SETTINGS:
        return setting
    found = setting_of_text(venue or "") or setting_of_text(title or "")
    if found:
        return found
    for g in key_groups or ():
        if g in EVENT_GROUPS:
            return EVENT_GROUPS[g]
    return "unclassified"


def _walk(rules: Any, negated: bool = False) -> Iterable[tuple[str, Any, bool]]:
    """(field, value, negated) for every condition of a segment's rule tree."""
    if not isinstance(rules, dict):
        return
    for key in ("all", "any"):
        for child in rules.get(key, []) if isinstance(rules.get(key), list) else []:
            yield from _walk(child, negated)
    if "not" in rules:
        yield from _walk(rules["not"], not negated)
    if "field" in rules:
        yield rules["field"], rules.get("value"), negated or rules.get("op") in ("not_in", "not_contains")


def campaign_settings(rules: Any) -> set[str]:
    found = set()
    for fld, value, negated in _walk(rules):
        if fld == "key_groups" and not negated:
            for v in value if isinstance(value, list) else [value]:
                if v in CAMPAIGN_GROUPS:
                    found.add(CAMPAIGN_GROUPS[v])
    return found or {"community"}


def campaign_unit_codes(rules: Any) -> set[str]:
    codes: set[str] = set()
    for fld, value, negated in _walk(rules):
        if fld in ("district", "town") and not negated:
            codes.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return codes


@dataclass
class Row:
    district: OrgUnit
    events: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)

    @property
    def cells(self) -> list[tuple[str, int, int]]:
        return [(s, self.events.get(s, 0), self.campaigns.get(s, 0)) for s in SETTINGS]

    @property
    def unclassified(self) -> int:
        return self.events.get("unclassified", 0)

    @property
    def covered(self) -> int:
        """How many of the five settings were reached at all."""
        return sum(1 for s in SETTINGS if self.events.get(s, 0) + self.campaigns.get(s, 0) > 0)


def _districts_for(user: User | AnonymousUser, city: OrgUnit) -> list[OrgUnit]:
    scope = scope_for(user)
    units = OrgUnit.objects.filter(parent=city, level=OrgUnit.Level.DISTRICT).order_by("sort", "code")
    return [d for d in units if scope.covers(d) or scope.covers(city)]


def _district_of(code: str, by_code: dict[str, OrgUnit]) -> OrgUnit | None:
    unit = OrgUnit.objects.filter(code=code).select_related("parent").first()
    while unit is not None and unit.code not in by_code:
        unit = unit.parent
    return unit


def coverage(user: User | AnonymousUser, *, year: int, city_code: str = "320400") -> list[Row]:
    """One row per district the user may see, with event and campaign counts per setting."""
    from kepu.events.selectors import events_for

    city = OrgUnit.objects.filter(code=city_code).first()
    if city is None:
        return []
    rows = {d.code: Row(district=d) for d in _districts_for(user, city)}
    for e in events_for(user, year=year).exclude(status="cancelled"):
        row = rows.get(e.district.code)
        if row is not None:
            s = event_setting(title=e.title, venue=e.venue, key_groups=e.key_groups, setting=e.setting)
            row.events[s] = row.events.get(s, 0) + 1
    for campaign in _campaigns(user, year):
        settings = campaign_settings(campaign.segment.rules)
        for row in _campaign_rows(campaign, rows):
            for s in settings:
                row.campaigns[s] = row.campaigns.get(s, 0) + 1
    return list(rows.values())


def campaigns_readable(user: User | AnonymousUser) -> bool:
    """Whether the viewer may read push campaigns (else the campaign counts are unknown to them, not 0)."""
    if not isinstance(user, User):
        return False
    from kepu.outreach.campaigns import campaign_units

    return campaign_units(user).exists()


def _campaigns(user: User | AnonymousUser, year: int) -> list[Any]:
    if not isinstance(user, User):
        return []
    from kepu.outreach.campaigns import campaigns_visible

    return list(campaigns_visible(user).filter(created_at__year=year)
                .exclude(status="cancelled").select_related("segment", "org_unit"))


def _campaign_rows(campaign: Any, rows: dict[str, Row]) -> list[Row]:
    unit = campaign.org_unit
    if unit.code in rows:
        return [rows[unit.code]]
    if unit.level != OrgUnit.Level.CITY:
        found = _district_of(unit.code, {c: r.district for c, r in rows.items()})
        return [rows[found.code]] if found is not None else []
    codes = campaign_unit_codes(campaign.segment.rules)
    if campaign.segment.org_unit.level != OrgUnit.Level.CITY:
        codes.add(campaign.segment.org_unit.code)
    if not codes:
        return list(rows.values())
    by_code = {c: r.district for c, r in rows.items()}
    hit = {d.code for code in codes if (d := _district_of(code, by_code)) is not None}
    return [rows[c] for c in hit]


def totals(rows: list[Row]) -> list[tuple[str, int, int]]:
    return [(s, sum(r.events.get(s, 0) for r in rows), sum(r.campaigns.get(s, 0) for r in rows)) for s in SETTINGS]
