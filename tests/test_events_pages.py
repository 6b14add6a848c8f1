"""Events pages, API and Excel: scope across districts (pages and API), citizens see only their own
registrations, idempotent check-in over the API, all-or-nothing imports with row errors."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from conftest import PASSWORD
from kepu.core.models import AuditEntry, OrgUnit
from kepu.events import excel
from kepu.events import services as svc
from kepu.events.models import CheckIn, Event, Registration

pytestmark = pytest.mark.django_db


def make_event(user: Any, unit: str = "320412", **kw: Any) -> Event:
    starts = kw.pop("starts", timezone.now() - dt.timedelta(hours=1))
    return svc.event_create(
        actor=user,
        org_unit=OrgUnit.objects.get(code=unit),
        title=kw.pop("title", "科普讲座"),
        kind=kw.pop("kind", "training"),
        training_kind=kw.pop("training_kind", "counsellors"),
        organiser="科协",
        venue="礼堂",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        **kw,
    )


def client_for(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_district_pages_are_scoped(users: dict[str, Any], plan: Any) -> None:
    wujin, xinbei = users["wujin"], users["xinbei"]
    mine, theirs = make_event(wujin, title="武进培训"), make_event(xinbei, "320411", title="新北培训")
    c = client_for(wujin)
    page = c.get("/events/").content.decode()
    assert "武进培训" in page and "新北培训" not in page
    assert c.get(f"/events/{mine.pk}/").status_code == 200
    assert c.get(f"/events/{mine.pk}/checkin/").status_code == 200
    # Another district's event, its check-in page and its attendee list are refused
    assert c.get(f"/events/{theirs.pk}/").status_code == 403
    assert c.get(f"/events/{theirs.pk}/checkin/").status_code == 403
    assert c.get(f"/events/{theirs.pk}/attendees.xlsx").status_code == 403
    # And a walk-in posted to it is refused and not stored
    resp = c.post(f"/events/{theirs.pk}/walk-in/", {"name": "x", "phone": "13800000001"})
    assert resp.status_code == 403
    assert not Registration.objects.filter(event=theirs).exists()
    # A viewer of 武进区 reads the event but has no management controls
    v = client_for(users["viewer_wujin"])
    body = v.get(f"/events/{mine.pk}/").content.decode()
    assert "武进培训" in body and "walk-in-form" not in body
    assert v.get(f"/events/{mine.pk}/checkin/").status_code == 403


def test_create_event_through_the_page(users: dict[str, Any], plan: Any) -> None:
    c = client_for(users["wujin"])
    assert c.get("/events/new/").status_code == 200
    now = timezone.localtime()
    resp = c.post(
        "/events/new/",
        {
            "title": "高素质农民培训班",
            "kind": "training",
            "training_kind": "hq_farmers",
            "organiser": "武进区农业农村局",
            "org_unit": "320412",
            "venue": "武进区农广校",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": 50,
            "key_groups": ["farmers"],
        },
    )
    event = Event.objects.get(title="高素质农民培训班")
    assert resp.status_code == 302 and resp["Location"] == f"/events/{event.pk}/"
    assert (event.district.code, event.training_kind, event.key_groups) == ("320412", "hq_farmers", ["farmers"])
    # In another district's unit it is refused (the unit is not even offered)
    resp = c.post(
        "/events/new/",
        {
            "title": "x",
            "kind": "event",
            "organiser": "x",
            "org_unit": "320411",
            "venue": "x",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": 0,
        },
    )
    assert resp.status_code == 200 and not Event.objects.filter(org_unit__code="320411").exists()


def test_api_scope_and_idempotent_checkin(users: dict[str, Any], plan: Any, api_client: Any) -> None:
    wujin, xinbei = users["wujin"], users["xinbei"]
    event = make_event(wujin)
    other = make_event(xinbei, "320411")
    api = api_client(wujin)
    listed = api.get("/api/events/events").json()
    assert [e["id"] for e in listed["items"]] == [event.pk] and listed["count"] == 1
    reg = api.post(
        f"/api/events/events/{event.pk}/registrations",
        {"name": "钱老师", "phone": "13912345678"},
        content_type="application/json",
    )
    assert reg.status_code == 201 and reg.json()["phone"] == "139****5678"
    code = reg.json()["code"]
    body = {"code": code, "client_id": "api-client-0001", "event": event.pk}
    first = api.post("/api/events/checkins", body, content_type="application/json")
    again = api.post("/api/events/checkins", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["created"] is False
    assert CheckIn.objects.count() == 1
    # The same code sent as another event's is refused
    wrong = api.post(
        "/api/events/checkins",
        {"code": code, "client_id": "api-client-0002", "event": other.pk},
        content_type="application/json",
    )
    assert wrong.status_code == 403
    # Certify over the API, then 新北区's officer cannot certify or check in here
    reg_id = reg.json()["id"]
    ok = api.post(
        f"/api/events/events/{event.pk}/certify", {"registrations": [reg_id]}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json() == {"changed": 1, "certified": 1}
    foreign = api_client(xinbei)
    assert (
        foreign.post(
            f"/api/events/events/{event.pk}/certify",
            {"registrations": [reg_id], "certified": False},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert Registration.objects.get(pk=reg_id).certified_at is not None
    assert (
        foreign.post(
            f"/api/events/events/{event.pk}/registrations",
            {"name": "x", "phone": "13900000000"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert foreign.get(f"/api/events/events/{event.pk}/registrations").status_code == 403
    # A check-in outside the window is refused (422)
    late = api.post(
        "/api/events/checkins",
        {"code": code, "client_id": "api-client-0003", "at": (timezone.now() - dt.timedelta(days=2)).isoformat()},
        content_type="application/json",
    )
    assert late.status_code == 422 and CheckIn.objects.count() == 1


def test_api_checkin_outside_window_is_refused(users: dict[str, Any], plan: Any, api_client: Any) -> None:
    wujin = users["wujin"]
    event = make_event(wujin, kind="event", training_kind="", starts=timezone.now() + dt.timedelta(days=1))
    reg = svc.registration_walk_in(actor=wujin, event=event, name="早到者", phone="13611112222")
    resp = api_client(wujin).post(
        "/api/events/checkins", {"code": reg.code, "client_id": "too-early-01"}, content_type="application/json"
    )
    assert resp.status_code == 422
    assert "window" in resp.json()["detail"] or "活动时间" in resp.json()["detail"]
    assert not CheckIn.objects.exists()


def test_citizens_see_only_their_own_registrations(users: dict[str, Any], plan: Any) -> None:
    from kepu.citizens.services import citizen_signup

    event = make_event(users["wujin"], kind="event", training_kind="")
    a = citizen_signup(identifier="citizen_a", password=PASSWORD)
    b = citizen_signup(identifier="citizen_b", password=PASSWORD)
    ca, cb = client_for(a.user), client_for(b.user)
    assert event.title in ca.get("/me/events/").content.decode()
    resp = ca.post(f"/me/events/{event.pk}/register/")
    reg = Registration.objects.get(citizen_user=a.user)
    assert resp["Location"] == f"/me/events/r/{reg.code}/"
    page = ca.get(f"/me/events/r/{reg.code}/").content.decode()
    assert "<svg" in page and reg.code in page
    # Citizen B cannot open A's registration, and the API lists only their own
    assert cb.get(f"/me/events/r/{reg.code}/").status_code == 404
    assert cb.get("/api/events/my/registrations").json() == []
    assert [r["code"] for r in ca.get("/api/events/my/registrations").json()] == [reg.code]
    # A citizen cannot reach the staff pages nor check anyone in
    assert ca.get("/events/").status_code == 302
    resp = ca.post(
        "/api/events/checkins",
        {"code": reg.code, "client_id": "citizen-self-1"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN="x",
    )
    assert resp.status_code in (401, 403)
    assert not CheckIn.objects.exists()


def test_attendee_import_is_all_or_nothing_with_row_errors(users: dict[str, Any], plan: Any) -> None:
    wujin = users["wujin"]
    event = make_event(wujin)
    svc.registration_walk_in(actor=wujin, event=event, name="已登记", phone="13700000000")
    content = xlsx(
        [
            ["姓名", "手机号", "重点人群"],
            ["甲", "13800000001", "农民"],
            ["乙", "138-0000-0001", "农民"],  # same phone as row 2, written differently
            ["丙", "12345", "农民"],  # not a phone
            ["丁", "+86 137 0000 0000", ""],  # already registered
            ["戊", "13800000005", "宇航员"],
        ]
    )  # unknown group
    with pytest.raises(Exception) as info:
        excel.attendees_import(actor=wujin, event=event, content=content, name="名单.xlsx")
    errors = info.value.errors  # type: ignore[attr-defined]
    assert any(e.startswith("第 3 行") and "与第 2 行重复" in e for e in errors)
    assert any(e.startswith("第 4 行") and "手机号" in e for e in errors)
    assert any(e.startswith("第 5 行") and "已在本活动登记" in e for e in errors)
    assert any(e.startswith("第 6 行") and "重点人群" in e for e in errors)
    assert event.registrations.count() == 1
    good = xlsx([["姓名", "手机号", "重点人群"], ["甲", "13800000001", "农民"], ["乙", "13800000002", "老年人"]])
    regs = excel.attendees_import(actor=wujin, event=event, content=good, name="名单.xlsx")
    assert [(r.name, r.key_group) for r in regs] == [("甲", "farmers"), ("乙", "elderly")]


def test_malformed_files_are_refused(users: dict[str, Any], plan: Any) -> None:
    from kepu.core.errors import InputError

    wujin = users["wujin"]
    event = make_event(wujin)
    with pytest.raises(InputError):
        excel.attendees_import(actor=wujin, event=event, content=b"not a workbook at all", name="x.xlsx")
    with pytest.raises(InputError, match="缺少列"):
        excel.attendees_import(actor=wujin, event=event, content=xlsx([["名字", "电话"]]), name="x.xlsx")
    with pytest.raises(InputError, match="缺少列"):
        excel.events_import(actor=wujin, content=xlsx([["foo"]]), name="e.xlsx")
    assert event.registrations.count() == 0
    # Through the page, the errors are shown and nothing is saved
    c = client_for(wujin)
    resp = c.post(f"/events/{event.pk}/attendees/import/", {"file": io.BytesIO(b"garbage")}, follow=True)
    assert resp.status_code == 200 and event.registrations.count() == 0


def test_events_import_and_export_round_trip(users: dict[str, Any], plan: Any) -> None:
    wujin = users["wujin"]
    head = excel.EVENT_COLUMNS
    bad = xlsx(
        [
            head,
            [
                "讲座",
                "科普活动",
                "",
                "",
                "科协",
                "320412",
                "图书馆",
                "2026-09-19 09:00",
                "2026-09-19 11:00",
                50,
                "青少年",
            ],
            ["别区", "科普活动", "", "", "科协", "320411", "图书馆", "2026-09-19 09:00", "2026-09-19 11:00", 50, ""],
            ["培训", "培训", "", "", "科协", "320412", "礼堂", "2026-09-20 09:00", "2026-09-20 08:00", 0, ""],
        ]
    )
    with pytest.raises(Exception) as info:
        excel.events_import(actor=wujin, content=bad, name="events.xlsx")
    errors = info.value.errors  # type: ignore[attr-defined]
    assert any(e.startswith("第 3 行") and "管理范围" in e for e in errors)
    assert any(e.startswith("第 4 行") and "培训类别" in e for e in errors)
    assert any(e.startswith("第 4 行") and "结束时间" in e for e in errors)
    assert not Event.objects.exists()
    good = xlsx(
        [
            head,
            [
                "讲座",
                "科普活动",
                "",
                "",
                "科协",
                "320412",
                "图书馆",
                "2026-09-19 09:00",
                "2026-09-19 11:00",
                50,
                "青少年、老年人",
            ],
            [
                "辅导员培训",
                "培训",
                "科技辅导员培训",
                "",
                "教育局",
                "320412",
                "礼堂",
                "2026-09-20 09:00",
                "2026-09-20 17:00",
                0,
                "",
            ],
        ]
    )
    events = excel.events_import(actor=wujin, content=good, name="events.xlsx")
    assert [(e.title, e.kind, e.training_kind, e.key_groups) for e in events] == [
        ("讲座", "event", "", ["youth", "elderly"]),
        ("辅导员培训", "training", "counsellors", []),
    ]
    assert AuditEntry.objects.filter(action="events.import").count() == 1
    resp = client_for(wujin).get("/events/?year=2026&format=xlsx")
    ws = load_workbook(io.BytesIO(resp.content)).active
    titles = sorted(r[0] for r in ws.iter_rows(min_row=2, values_only=True))
    assert titles == ["讲座", "辅导员培训"]


def test_attendee_export_masks_phones_except_for_the_office(users: dict[str, Any], plan: Any) -> None:
    from kepu.core.errors import PermissionDenied

    wujin = users["wujin"]
    event = make_event(wujin)
    svc.registration_walk_in(actor=wujin, event=event, name="孙", phone="13855556666")
    masked = load_workbook(io.BytesIO(excel.attendees_xlsx(actor=wujin, event=event))).active
    assert next(iter(masked.iter_rows(min_row=2, values_only=True)))[1] == "138****6666"
    with pytest.raises(PermissionDenied):
        excel.attendees_xlsx(actor=wujin, event=event, unmasked=True)
    full = load_workbook(io.BytesIO(excel.attendees_xlsx(actor=users["office"], event=event, unmasked=True))).active
    assert next(iter(full.iter_rows(min_row=2, values_only=True)))[1] == "13855556666"
    assert AuditEntry.objects.filter(action="events.attendees_export_unmasked").count() == 1


def test_calendar_page_shows_district_events_against_campaigns(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    svc.calendar_seed_year(actor=users["office"], year=year)
    day = svc.calendar_defaults(year)[3]  # 全国科普日
    starts = dt.datetime.combine(day["start"], dt.time(9), tzinfo=timezone.get_current_timezone())
    make_event(users["wujin"], kind="event", training_kind="", title="科普日主场活动", starts=starts)
    make_event(users["xinbei"], "320411", kind="event", training_kind="", title="新北科普日", starts=starts)
    page = client_for(users["wujin"]).get(f"/events/calendar/?year={year}").content.decode()
    assert "全国科普日" in page and "科普日主场活动" in page and "新北科普日" not in page
    assert client_for(users["wujin"]).get("/events/calendar/edit/").status_code == 403
    assert client_for(users["office"]).get("/events/calendar/edit/").status_code == 200


def test_technician_pages(users: dict[str, Any], plan: Any) -> None:
    town = OrgUnit.objects.filter(parent__code="320412", level="town").order_by("code").first()
    c = client_for(users["wujin"])
    resp = c.post(
        "/events/technicians/",
        {
            "technician_name": "陈农技（演示）",
            "org_unit": town.code,
            "households": 20,  # type: ignore[union-attr]
            "start": "2026-01-01",
        },
    )
    assert resp.status_code == 302
    from kepu.events.models import Assignment, Visit

    a = Assignment.objects.get()
    c.post(f"/events/technicians/{a.pk}/", {"date": "2026-03-01", "households_visited": 3, "content": "稻麦病虫害防治"})
    assert Visit.objects.filter(assignment=a).count() == 1
    foreign = client_for(users["xinbei"])
    assert foreign.get(f"/events/technicians/{a.pk}/").status_code == 403
    foreign.post(f"/events/technicians/{a.pk}/", {"date": "2026-03-02", "households_visited": 3, "content": "x"})
    assert Visit.objects.filter(assignment=a).count() == 1


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_evidence_photos_are_checked_and_scoped(users: dict[str, Any], plan: Any, settings: Any, tmp_path: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    event = make_event(users["wujin"], kind="event", training_kind="")
    c = client_for(users["wujin"])
    c.post(f"/events/{event.pk}/photos/", {"photo": SimpleUploadedFile("现场.png", PNG), "caption": "讲座现场"})
    photo = event.photos.get()
    assert c.get(f"/events/photos/{photo.pk}/").status_code == 200
    assert client_for(users["xinbei"]).get(f"/events/photos/{photo.pk}/").status_code == 403
    # A program renamed .png is refused, and nothing is stored
    c.post(f"/events/{event.pk}/photos/", {"photo": SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image")})
    assert event.photos.count() == 1


def test_pages_in_english(users: dict[str, Any], plan: Any) -> None:
    event = make_event(users["wujin"])
    c = client_for(users["wujin"])
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = c.get(f"/events/{event.pk}/").content.decode()
    assert "Attendance by key group" in body and "Certify selected attendees" in body
    assert "按重点人群的参与情况" not in body


def test_event_linked_to_a_plan_task(users: dict[str, Any], plan: Any, api_client: Any) -> None:
    from kepu.plans.models import Task

    task = Task.objects.filter(indicators__code="SCI_COUNSELLORS_TRAINED", section__programme__plan=plan).first()
    assert task is not None
    event = make_event(users["wujin"], task=task)
    items = api_client(users["wujin"]).get("/api/events/events").json()["items"]
    assert [(i["id"], i["task"]) for i in items] == [(event.pk, task.code)]
    assert task.code in client_for(users["wujin"]).get(f"/events/{event.pk}/").content.decode()


def test_edit_event_moves_its_counts_with_it(users: dict[str, Any], plan: Any) -> None:
    from kepu.plans.models import Observation

    year = timezone.localdate().year
    wujin = users["wujin"]
    event = make_event(wujin)
    reg = svc.registration_walk_in(actor=wujin, event=event, name="甲", phone="13800005555")
    svc.checkin_record(actor=wujin, code=reg.code, client_id="edit-test-0001")
    svc.registrations_certify(actor=wujin, event=event, registrations=[reg])
    c = client_for(wujin)
    assert c.get(f"/events/{event.pk}/edit/").status_code == 200
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "title": "改名后的培训",
        "kind": "training",
        "training_kind": "rural_talent",
        "organiser": "科协",
        "org_unit": "320412",
        "venue": "礼堂",
        "starts_at": timezone.localtime(event.starts_at).strftime(fmt),
        "ends_at": timezone.localtime(event.ends_at).strftime(fmt),
        "capacity": 0,
    }
    assert c.post(f"/events/{event.pk}/edit/", data)["Location"] == f"/events/{event.pk}/"
    event.refresh_from_db()
    assert (event.title, event.training_kind) == ("改名后的培训", "rural_talent")
    assert Observation.objects.get(indicator__code="RURAL_TECH_TALENT", org_unit__code="320412", year=year).value == 1
    counsellors = Observation.objects.get(indicator__code="SCI_COUNSELLORS_TRAINED", org_unit__code="320412", year=year)
    assert counsellors.value == 0
    assert client_for(users["xinbei"]).get(f"/events/{event.pk}/edit/").status_code == 403


def test_event_setting_through_the_pages_and_the_api(users: dict[str, Any], plan: Any, api_client: Any) -> None:
    wujin = users["wujin"]
    c = client_for(wujin)
    assert "面向场景（五进）" in c.get("/events/new/").content.decode()
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "title": "企业安全生产科普",
        "kind": "event",
        "organiser": "武进区科协",
        "org_unit": "320412",
        "venue": "武进区图书馆",
        "starts_at": now.strftime(fmt),
        "ends_at": (now + dt.timedelta(hours=2)).strftime(fmt),
        "capacity": 0,
        "setting": "enterprise",
    }
    resp = c.post("/events/new/", data)
    event = Event.objects.get(title="企业安全生产科普")
    assert resp.status_code == 302 and event.setting == "enterprise"
    page = c.get(f"/events/{event.pk}/").content.decode()
    assert 'data-testid="event-setting">进企业<' in page
    # The API shows it and filters by it; an unknown value is refused (422) naming the parameter
    other = make_event(wujin, title="未记录场景的培训")
    api = api_client(wujin)
    items = {i["id"]: i["setting"] for i in api.get("/api/events/events").json()["items"]}
    assert items == {event.pk: "enterprise", other.pk: ""}
    assert [i["id"] for i in api.get("/api/events/events?setting=enterprise").json()["items"]] == [event.pk]
    assert api.get("/api/events/events?setting=school").json()["count"] == 0
    bad = api.get("/api/events/events?setting=street")
    assert bad.status_code == 422 and "setting" in bad.content.decode()
    # The edit form shows the stored value and changes it; a value that is not offered is refused
    assert 'value="enterprise" selected' in c.get(f"/events/{event.pk}/edit/").content.decode()
    resp = c.post(f"/events/{event.pk}/edit/", {**data, "setting": "street"})
    assert resp.status_code == 200
    event.refresh_from_db()
    assert event.setting == "enterprise"
    assert c.post(f"/events/{event.pk}/edit/", {**data, "setting": "village"}).status_code == 302
    event.refresh_from_db()
    assert event.setting == "village"
    assert c.post(f"/events/{event.pk}/edit/", {**data, "setting": ""}).status_code == 302
    event.refresh_from_db()
    assert event.setting == ""
    assert 'data-testid="event-setting">—<' in c.get(f"/events/{event.pk}/").content.decode()
    # In English the label is translated
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    event.setting = "school"
    event.save(update_fields=["setting"])
    assert 'data-testid="event-setting">Into schools<' in c.get(f"/events/{event.pk}/").content.decode()


def test_events_import_reads_the_optional_setting_column_and_export_round_trips(
    users: dict[str, Any], plan: Any
) -> None:
    from kepu.core.errors import InputError

    wujin = users["wujin"]
    head = [*excel.EVENT_COLUMNS, "五进场景"]

    def row(title: str, setting: Any) -> list[Any]:
        return [title, "科普活动", "", "", "科协", "320412", "图书馆", "2026-09-19 09:00", "2026-09-19 11:00", 0, "",
                setting]

    bad = xlsx([head, row("讲座甲", "进学校"), row("讲座乙", "进工地"), row("讲座丙", "school")])
    with pytest.raises(InputError) as info:
        excel.events_import(actor=wujin, content=bad, name="events.xlsx")
    errors = info.value.errors
    assert [e[:11] for e in errors] == ["第 3 行 五进场景：", "第 4 行 五进场景："]
    assert "进工地" in errors[0] and "进企业、进农村、进社区、进学校、进家庭" in errors[0]
    assert not Event.objects.exists()

    good = xlsx(
        [head, row("讲座甲", "进学校"), row("讲座乙", " 进家庭 "), row("讲座丙", None), row("讲座丁", "进农村")]
    )
    events = excel.events_import(actor=wujin, content=good, name="events.xlsx")
    assert [(e.title, e.setting) for e in events] == [
        ("讲座甲", "school"), ("讲座乙", "family"), ("讲座丙", ""), ("讲座丁", "village")
    ]
    # Exported with the label; the exported workbook imports again with the same settings
    resp = client_for(wujin).get("/events/?year=2026&format=xlsx")
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    col = list(rows[0]).index("五进场景")
    assert sorted((r[0], r[col] or "") for r in rows[1:]) == [
        ("讲座丁", "进农村"), ("讲座丙", ""), ("讲座乙", "进家庭"), ("讲座甲", "进学校")
    ]
    Event.objects.all().delete()
    again = excel.events_import(actor=wujin, content=resp.content, name="export.xlsx")
    assert sorted((e.title, e.setting) for e in again) == [
        ("讲座丁", "village"), ("讲座丙", ""), ("讲座乙", "family"), ("讲座甲", "school")
    ]
    # The import page lists the optional column, and its template has it
    c = client_for(wujin)
    assert "五进场景" in c.get("/events/import/").content.decode()
    template = load_workbook(io.BytesIO(c.get("/events/import/?template=1").content)).active
    assert list(next(template.iter_rows(values_only=True)))[-1] == "五进场景"
