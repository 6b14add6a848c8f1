"""Emergency mode (issue 11, point 2): an officer declares an event for districts or towns; the
citizen portal and the big screens in those areas pin the published guidance; a push campaign to
the affected areas is prepared and waits for someone else's approval, then goes out through the
outreach push; ending is explicit and the record stays. Scope: a district officer declares, ends
and sees only their own district's events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests import test_emergency_kb as kb

pytestmark = pytest.mark.django_db

CITY, WUJIN, XINBEI, WUJIN_TOWN = "320400", "320412", "320411", "320412-L02"


def citizen(username: str, district: str, town: str | None = None, key_groups: list[str] | None = None,
            push: bool = True) -> Any:
    from django.contrib.auth.models import User

    from kepu.citizens.models import Citizen, Consent

    user = User.objects.create_user(username=username, password=kb.PASSWORD)
    c = Citizen.objects.create(user=user, pseudonym=f"p-{username}", district=kb.unit(district),
                               town=kb.unit(town) if town else None, key_groups=key_groups or [], age_band="60-69")
    if push:
        Consent.objects.create(citizen=c, purpose="push", granted=True)
    return c


@pytest.fixture
def world(users: Any, make_user: Any) -> dict[str, Any]:
    """The knowledge base loaded and published, catalogue content linked, two campaigners."""
    from kepu.emergency.models import Hazard
    from kepu.outreach.models import Resource

    kb.load_small(users["office"])
    expert = kb.make_expert(make_user, users["office"])
    kb.publish_all(expert, users["office"])
    Resource.objects.create(code="flood-safety", title_zh="洪水来了如何自救", status="published",
                            summary_zh="向高处转移。", published_at=timezone.now())
    Hazard.objects.filter(code="flood").update(resource_codes=["flood-safety"])
    return {**users, "expert": expert, "camp": make_user("camp", ("campaigner", CITY, None)),
            "camp_wujin": make_user("camp_wujin", ("campaigner", WUJIN, None))}


def declare(user: Any, units: list[str], hazard: str = "flood", **kw: Any) -> Any:
    from kepu.emergency.models import Hazard
    from kepu.emergency.services import event_declare

    now = timezone.now()
    return event_declare(actor=user, hazard=Hazard.objects.get(code=hazard), affected=[kb.unit(u) for u in units],
                         starts_at=kw.get("starts_at", now - dt.timedelta(minutes=5)),
                         planned_end=kw.get("planned_end", now + dt.timedelta(days=2)), note=kw.get("note", "暴雨预警"))


def campaign_of(event: Any, user: Any) -> Any:
    from kepu.emergency.selectors import event_campaign

    event.refresh_from_db()
    return event_campaign(user, event)


# --- pinning -----------------------------------------------------------------------------------------


def test_declaring_pins_published_guidance_in_affected_areas_only(world: Any) -> None:
    from kepu.emergency.selectors import pinned_for_unit

    declare(world["office"], [WUJIN])
    pinned = pinned_for_unit(kb.unit(WUJIN_TOWN), key_groups=["elderly"])  # a town under the district
    assert [p.hazard.code for p in pinned] == ["flood"]
    assert [g.key for g in pinned[0].guidance] == ["during-all-1", "during-elderly-1"]
    assert [g.key for g in pinned_for_unit(kb.unit(WUJIN))[0].guidance] == ["during-all-1"]
    assert pinned_for_unit(kb.unit(XINBEI)) == [] and pinned_for_unit(kb.unit(CITY)) == []
    assert pinned_for_unit(None) == []


def test_a_town_event_pins_for_that_town_not_the_whole_district_and_future_events_wait(world: Any) -> None:
    from kepu.emergency.selectors import pinned_for_unit

    declare(world["office"], [WUJIN_TOWN])
    assert pinned_for_unit(kb.unit(WUJIN_TOWN)) and not pinned_for_unit(kb.unit(WUJIN))
    later = timezone.now() + dt.timedelta(hours=3)
    declare(world["office"], [XINBEI], starts_at=later, planned_end=later + dt.timedelta(days=1))
    assert pinned_for_unit(kb.unit(XINBEI)) == []


def test_citizen_portal_and_kiosk_show_the_pin_in_the_area_and_not_elsewhere(world: Any) -> None:
    from kepu.outreach.kiosk_models import Kiosk

    inside = citizen("inside", WUJIN, WUJIN_TOWN)
    outside = citizen("outside", XINBEI)
    Kiosk.objects.create(code="wj-screen", name="武进社区大屏", org_unit=kb.unit(WUJIN_TOWN))
    Kiosk.objects.create(code="xb-screen", name="新北社区大屏", org_unit=kb.unit(XINBEI))
    declare(world["office"], [WUJIN])
    c = Client()
    c.force_login(inside.user)
    home = c.get("/me/").content.decode()
    assert 'data-testid="emergency-pinned"' in home and "洪水来了怎么办" in home and "暴雨预警" in home
    assert "汛前准备" not in home  # the "during" guidance is pinned, not "prepare"
    c.force_login(outside.user)
    assert 'data-testid="emergency-pinned"' not in c.get("/me/").content.decode()
    anon = Client()
    assert "洪水来了怎么办" in anon.get("/kiosk/wj-screen/").content.decode()
    assert 'data-testid="emergency-pinned"' not in anon.get("/kiosk/xb-screen/").content.decode()
    # a screen that is already on picks the notice up with its next slide reload
    assert "洪水来了怎么办" in anon.get("/kiosk/wj-screen/slides/").content.decode()
    assert anon.get(f"/api/emergency/pinned?unit={WUJIN_TOWN}").json()[0]["hazard"] == "flood"


# --- the campaign --------------------------------------------------------------------------------------


def test_declaring_prepares_a_campaign_to_the_affected_areas_awaiting_someone_elses_approval(
        world: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.emergency.services import event_campaign_send
    from kepu.outreach.campaigns import targets

    inside, town = citizen("inside", WUJIN), citizen("town", XINBEI, None)
    other = citizen("far", "320402")
    event = declare(world["office"], [WUJIN, XINBEI])
    campaign = campaign_of(event, world["office"])
    assert campaign is not None and campaign.status == "draft" and campaign.created_by == world["office"]
    assert [r.code for r in campaign.resources.all()] == ["flood-safety"]
    assert set(targets(campaign)) == {inside, town} and other not in set(targets(campaign))
    assert "暴雨预警" in campaign.message
    # the declarer cannot approve their own campaign
    with pytest.raises(PermissionDenied):
        event_campaign_send(actor=world["office"], event=event)
    assert campaign_of(event, world["office"]).status == "draft"
    # another user approves; it goes out through the outreach push into the citizens' inboxes
    with django_capture_on_commit_callbacks(execute=True):
        event_campaign_send(actor=world["camp"], event=event)
    campaign = campaign_of(event, world["camp"])
    assert campaign.approved_by == world["camp"] and campaign.status in ("running", "done")
    assert inside.inbox.filter(title__contains="洪涝").count() == 1
    assert other.inbox.count() == 0


def test_a_district_officer_without_push_rights_declares_and_a_campaigner_prepares_it(world: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.emergency.services import event_campaign_prepare, event_campaign_send

    event = declare(world["wujin"], [WUJIN_TOWN])
    assert event.org_unit.code == WUJIN and event.campaign_id is None and "推送权限" in event.campaign_note
    with pytest.raises(PermissionDenied):
        event_campaign_prepare(actor=world["wujin"], event=event)
    event_campaign_prepare(actor=world["camp_wujin"], event=event)
    campaign = campaign_of(event, world["camp_wujin"])
    assert campaign.org_unit.code == WUJIN and campaign.segment.rules == {
        "field": "town", "op": "in", "value": [WUJIN_TOWN]}
    with pytest.raises(PermissionDenied):  # its author does not approve it
        event_campaign_send(actor=world["camp_wujin"], event=event)


def test_without_linked_content_the_event_is_declared_and_says_why_no_campaign(world: Any) -> None:
    event = declare(world["office"], [WUJIN], hazard="heat")
    assert event.campaign_id is None and "关联" in event.campaign_note


# --- ending ------------------------------------------------------------------------------------------


def test_ending_is_explicit_audited_removes_the_pin_and_keeps_the_record(world: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.core.models import AuditEntry
    from kepu.emergency.selectors import events_visible, pinned_for_unit
    from kepu.emergency.services import event_campaign_send, event_end

    event = declare(world["office"], [WUJIN], planned_end=timezone.now() + dt.timedelta(minutes=1))
    event_end(actor=world["wujin"], event=event, note="预警解除")  # the district's officer may end it
    event.refresh_from_db()
    assert event.ended_at is not None and event.ended_by == world["wujin"] and event.end_note == "预警解除"
    assert pinned_for_unit(kb.unit(WUJIN)) == []
    assert list(events_visible(world["office"])) == [event]
    entry = AuditEntry.objects.get(action="emergency.end")
    assert entry.changes["ended_at"][0] is None and entry.actor == world["wujin"]
    with pytest.raises(InputError, match="已经结束"):
        event_end(actor=world["office"], event=event)
    # the officer had no push rights, so the draft campaign stays, but it is not sent after the end
    assert campaign_of(event, world["office"]).status == "draft"
    with pytest.raises(InputError, match="不再发送"):
        event_campaign_send(actor=world["camp"], event=event)


def test_ending_cancels_a_campaign_still_waiting_when_the_officer_may(world: Any) -> None:
    from kepu.emergency.services import event_end

    event = declare(world["office"], [WUJIN, XINBEI])
    event_end(actor=world["office"], event=event)
    assert campaign_of(event, world["office"]).status == "cancelled"  # never approved: not sent after the end


def test_the_planned_end_passing_does_not_end_the_mode(world: Any) -> None:
    from kepu.emergency.selectors import pinned_for_unit

    start = timezone.now() - dt.timedelta(days=3)
    declare(world["office"], [WUJIN], starts_at=start, planned_end=start + dt.timedelta(days=1))
    assert pinned_for_unit(kb.unit(WUJIN))


# --- scope ------------------------------------------------------------------------------------------


def test_a_district_officer_cannot_declare_for_another_district_audited(world: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.core.models import AuditEntry
    from kepu.emergency.models import EmergencyEvent

    with pytest.raises(PermissionDenied, match="新北区"):
        declare(world["wujin"], [XINBEI])
    with pytest.raises(PermissionDenied):
        declare(world["wujin"], [WUJIN, XINBEI])
    assert EmergencyEvent.objects.count() == 0
    assert AuditEntry.objects.filter(action="emergency.declare_refused", actor=world["wujin"]).count() == 2


def test_a_district_officer_cannot_end_or_see_another_districts_event(world: Any) -> None:
    from kepu.core.errors import PermissionDenied
    from kepu.emergency.selectors import events_visible
    from kepu.emergency.services import event_end

    theirs = declare(world["xinbei"], [XINBEI])
    mine = declare(world["wujin"], [WUJIN])
    assert list(events_visible(world["wujin"])) == [mine]
    with pytest.raises(PermissionDenied):
        event_end(actor=world["wujin"], event=theirs)
    theirs.refresh_from_db()
    assert theirs.ended_at is None
    c = Client()
    c.force_login(world["wujin"])
    assert c.get(f"/emergency/{theirs.pk}/").status_code == 404
    assert c.post(f"/emergency/{theirs.pk}/end/").status_code == 404
    assert theirs.pk not in [e["id"] for e in kb_api(world["wujin"]).get("/api/emergency/events").json()["items"]]
    assert kb_api(world["wujin"]).get(f"/api/emergency/events/{theirs.pk}").status_code == 404
    # a city event touching their district is visible to them (read), and they may end it? no: the city owns it
    city = declare(world["office"], [WUJIN, XINBEI])
    assert city in list(events_visible(world["wujin"]))
    with pytest.raises(PermissionDenied):
        event_end(actor=world["wujin"], event=city)


def kb_api(user: Any) -> Client:
    from kepu.core.services import api_token_create

    token = api_token_create(user=user, name="t")
    raw = token[1] if isinstance(token, tuple) else token
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_viewers_cannot_declare(world: Any) -> None:
    from kepu.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        declare(world["viewer_wujin"], [WUJIN])


def test_bad_declarations_name_the_problem(world: Any) -> None:
    from kepu.core.errors import InputError

    now = timezone.now()
    with pytest.raises(InputError, match="计划结束时间应晚于开始时间"):
        declare(world["office"], [WUJIN], starts_at=now, planned_end=now - dt.timedelta(hours=1))
    with pytest.raises(InputError, match="只能选择辖市"):
        declare(world["office"], [CITY])
    with pytest.raises(InputError, match="内容过长"):
        declare(world["office"], [WUJIN], note="雨" * 3000)


# --- pages and API ----------------------------------------------------------------------------------


def test_pages_declare_show_and_end(world: Any) -> None:
    from kepu.emergency.models import EmergencyEvent

    c = Client()
    c.force_login(world["office"])
    assert c.get("/emergency/declare/").status_code == 200
    now = timezone.localtime()
    r = c.post("/emergency/declare/", {
        "hazard": world["hazard_pk"] if "hazard_pk" in world else _hazard_pk("flood"),
        "affected": [kb.unit(WUJIN).pk], "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "planned_end": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "note": "<b>暴雨</b>红色预警"})
    event = EmergencyEvent.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/emergency/{event.pk}/"
    assert event.note == "暴雨红色预警"
    page = c.get(f"/emergency/{event.pk}/").content.decode()
    assert "等待另一位运营人员批准" in page and "结束应急状态" in page
    assert "进行中" in c.get("/emergency/").content.decode()
    c.post(f"/emergency/{event.pk}/end/", {"note": "解除"})
    event.refresh_from_db()
    assert event.ended_at is not None
    listing = c.get("/emergency/").content.decode()
    assert f"/emergency/{event.pk}/" in listing  # the record stays listed


def _hazard_pk(code: str) -> int:
    from kepu.emergency.models import Hazard

    return Hazard.objects.get(code=code).pk


def test_api_declare_and_end_follow_the_same_rules(world: Any) -> None:
    office, wujin = kb_api(world["office"]), kb_api(world["wujin"])
    end = (timezone.now() + dt.timedelta(days=1)).isoformat()
    r = wujin.post("/api/emergency/events", {"hazard": "flood", "affected": [XINBEI], "planned_end": end},
                   content_type="application/json")
    assert r.status_code == 403
    r = office.post("/api/emergency/events", {"hazard": "flood", "affected": [WUJIN], "planned_end": end},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["active"] and r.json()["campaign_id"]
    eid = r.json()["id"]
    assert office.post(f"/api/emergency/events/{eid}/campaign/send").status_code == 403  # own campaign
    assert wujin.post(f"/api/emergency/events/{eid}/end", {}, content_type="application/json").json()["active"] is False
    r = office.post("/api/emergency/events", {"hazard": "flood", "affected": ["nowhere"], "planned_end": end},
                    content_type="application/json")
    assert r.status_code == 422
