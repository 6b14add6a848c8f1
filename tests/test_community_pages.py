"""Talent pool and volunteer pages, the API and Excel import/export (issue 10 points 1, 2, 10, 11)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from conftest import PASSWORD
from kepu.citizens.services import citizen_signup
from kepu.community import registry_io, selectors, services
from kepu.community import volunteers as svc
from kepu.community.models import Expert, ExpertAssignment, ServiceRecord, Volunteer
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from tests.test_community_volunteers import ID1, ID2, WUJIN, XINBEI, record, unit


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def pool(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    expert_user = make_user("expert1")
    a = services.expert_create(actor=users["wujin"], name="王医生", organisation="常州市武进人民医院",
                               org_unit=unit(WUJIN), fields=["医学", "公共卫生"], roles=["reviewer", "emergency"],
                               specialities="传染病防控", phone="13812345678", user=expert_user)
    b = services.expert_create(actor=users["xinbei"], name="李工", organisation="常州市气象局", org_unit=unit(XINBEI),
                               fields=["气象"], roles=["chief"], specialities="灾害性天气")
    return {"a": a, "b": b, "expert_user": expert_user}


def test_expert_search_in_chinese_with_filters(pool: dict[str, Any], users: dict[str, Any]) -> None:
    qs = selectors.experts_visible(users["office"])
    assert [e.name for e in selectors.expert_search(qs, text="气象")] == ["李工"]
    assert [e.name for e in selectors.expert_search(qs, text="传染病")] == ["王医生"]
    assert [e.name for e in selectors.expert_search(qs, role="reviewer")] == ["王医生"]
    assert [e.name for e in selectors.expert_search(qs, field="公共卫生")] == ["王医生"]
    page = client(users["office"]).get("/community/experts/", {"q": "武进人民医院"})
    assert page.status_code == 200 and "王医生" in page.content.decode() and "李工" not in page.content.decode()


def test_district_officers_see_and_change_only_their_districts_experts(pool: dict[str, Any],
                                                                       users: dict[str, Any]) -> None:
    c = client(users["xinbei"])
    body = c.get("/community/experts/").content.decode()
    assert "李工" in body and "王医生" not in body
    assert c.get(f"/community/experts/{pool['a'].pk}/").status_code == 404
    assert c.post(f"/community/experts/{pool['a'].pk}/deactivate/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.expert_update(actor=users["xinbei"], expert=pool["a"], data={"title": "主任"})
    api = c.get("/api/community/experts").json()
    assert [e["name"] for e in api] == ["李工"]
    # a citizen or viewer has no access at all
    assert client(users["viewer_wujin"]).get("/community/experts/").status_code == 403
    assert client(users["viewer_wujin"]).get("/api/community/experts").status_code == 403


def test_expert_edit_is_audited_old_to_new_and_deactivate(pool: dict[str, Any], users: dict[str, Any]) -> None:
    e = pool["a"]
    services.expert_update(actor=users["wujin"], expert=e, data={"title": "主任医师", "fields": ["医学"]})
    entry = AuditEntry.objects.filter(action="expert.update", object_id=str(e.pk)).get()
    assert entry.changes["title"] == ["", "主任医师"] and entry.changes["fields"] == [["医学", "公共卫生"], ["医学"]]
    r = client(users["wujin"]).post(f"/community/experts/{e.pk}/deactivate/", {"reason": "退休"})
    assert r.status_code == 302
    e.refresh_from_db()
    assert not e.active and AuditEntry.objects.filter(action="expert.deactivate").exists()


def test_a_duplicate_expert_phone_is_refused(pool: dict[str, Any], users: dict[str, Any]) -> None:
    with pytest.raises(InputError) as exc:
        services.expert_create(actor=users["office"], name="王某", organisation="某单位", org_unit=unit(WUJIN),
                               phone="+86 138-1234-5678")
    assert "已在人才库中" in str(exc.value)


def test_experts_see_only_their_own_assignments(pool: dict[str, Any], users: dict[str, Any]) -> None:
    services.expert_assign(actor=users["office"], expert=pool["a"], kind="review", title="科普基地评审：某基地",
                           ref="/facilities/bases/1/")
    services.expert_assign(actor=users["office"], expert=pool["b"], kind="debunk", title="台风谣言辟谣")
    page = client(pool["expert_user"]).get("/community/tasks/").content.decode()
    assert "科普基地评审" in page and "台风谣言" not in page
    assert client(pool["expert_user"]).get("/community/experts/").status_code == 403
    with pytest.raises(InputError):
        services.expert_assign(actor=users["office"], expert=pool["a"], kind="nonsense", title="x")
    # other apps assign by the expert's user account
    services.expert_assign(actor=None, expert=pool["expert_user"], kind="event", title="龙城科普大讲堂")
    assert "龙城科普大讲堂" in client(pool["expert_user"]).get("/community/tasks/").content.decode()
    with pytest.raises(InputError):
        services.expert_assign(actor=None, expert=users["viewer_wujin"], kind="event", title="x")
    assert ExpertAssignment.objects.count() == 3
    assert [p.name for p in selectors.expert_profiles(role="reviewer")] == ["王医生"]


# -- volunteers: pages and API ------------------------------------------------------------------------


@pytest.fixture
def vols(users: dict[str, Any]) -> dict[str, Any]:
    a = svc.volunteer_register(actor=users["wujin"], name="张小明", org_unit=unit(WUJIN), phone="13800001111")
    b = svc.volunteer_register(actor=users["xinbei"], name="陈静", org_unit=unit(XINBEI), id_number=ID2)
    return {"a": a, "b": b, "ra": record(users["wujin"], a, 20), "rb": record(users["xinbei"], b, 20)}


def test_officer_pages_are_scoped_to_their_district(vols: dict[str, Any], users: dict[str, Any]) -> None:
    c = client(users["wujin"])
    assert "张小明" in c.get("/community/volunteers/").content.decode()
    assert "陈静" not in c.get("/community/volunteers/").content.decode()
    assert c.get(f"/community/volunteers/{vols['b'].pk}/").status_code == 404
    records = c.get("/community/records/").content.decode()
    assert "张小明" in records and "陈静" not in records
    # approving another district's record through the page is refused, nothing changes
    r = c.post("/community/records/decide/", {"ids": [vols["rb"].pk], "action": "approve"})
    assert r.status_code == 404
    vols["rb"].refresh_from_db()
    assert vols["rb"].status == "pending"


def test_bulk_approval_through_the_page(vols: dict[str, Any], users: dict[str, Any], make_user: Any) -> None:
    other = make_user("wj2", ("district_reporter", WUJIN, None))
    r2 = record(other, vols["a"], 21)
    c = client(users["wujin"])
    # wujin submitted ra: the batch is refused as a whole
    resp = c.post("/community/records/decide/", {"ids": [vols["ra"].pk, r2.pk], "action": "approve"}, follow=True)
    assert "不能审核自己提交的" in resp.content.decode()
    assert set(ServiceRecord.objects.filter(volunteer=vols["a"]).values_list("status", flat=True)) == {"pending"}
    c.post("/community/records/decide/", {"ids": [r2.pk], "action": "approve"})
    client(other).post("/community/records/decide/", {"ids": [vols["ra"].pk], "action": "approve"})
    assert set(ServiceRecord.objects.filter(volunteer=vols["a"]).values_list("status", flat=True)) == {"approved"}


def test_api_lists_creates_and_approves_with_the_same_rules(vols: dict[str, Any], users: dict[str, Any],
                                                          api_client: Any) -> None:
    wj, xb = api_client(users["wujin"]), api_client(users["xinbei"])
    assert [v["name"] for v in wj.get("/api/community/volunteers").json()] == ["张小明"]
    assert [r["id"] for r in wj.get("/api/community/records").json()] == [vols["ra"].pk]
    assert wj.get("/api/community/volunteers").json()[0]["phone_masked"] == "138****1111"
    body = {"volunteer_id": vols["a"].pk, "org_unit": WUJIN, "organiser": "武进区科协", "content": "科普讲解",
            "place": "武进科技馆", "start": "2026-06-01T09:00:00+08:00", "end": "2026-06-01T11:00:00+08:00"}
    r = wj.post("/api/community/records", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    new_id = r.json()["id"]
    assert r.json()["hours"] == 2.0
    # overlapping: refused with a clear message
    r = wj.post("/api/community/records", json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    # another district cannot see or approve; the submitter cannot approve their own
    assert xb.post("/api/community/records/approve", json.dumps({"ids": [new_id]}),
                   content_type="application/json").status_code == 404
    r = wj.post("/api/community/records/approve", json.dumps({"ids": [new_id]}), content_type="application/json")
    assert r.status_code == 422
    r = api_client(users["office"]).post("/api/community/records/approve", json.dumps({"ids": [new_id]}),
                                         content_type="application/json")
    assert r.status_code == 200 and r.json() == {"count": 1}
    r = api_client(users["office"]).post("/api/community/records/reject", json.dumps({"ids": [vols["ra"].pk]}),
                                         content_type="application/json")
    assert r.status_code == 422  # no reason


def test_a_volunteer_sees_only_their_own_records_and_certificates(users: dict[str, Any], vols: dict[str, Any]) -> None:
    citizen = citizen_signup(identifier="vol1", password=PASSWORD)
    c = client(citizen.user)
    r = c.post("/me/volunteer/", {"name": "赵六", "org_unit": unit(WUJIN).pk, "phone": "13700001111",
                                  "id_number": "", "skills": ""})
    assert r.status_code == 302, r.content.decode()
    me = Volunteer.objects.get(user=citizen.user)
    r = c.post("/me/volunteer/", {"content": "社区科普", "place": "湖塘社区", "organiser": "武进区科协",
                                  "start": "2026-05-10T09:00", "end": "2026-05-10T12:00", "org_unit": unit(WUJIN).pk})
    assert r.status_code == 302
    rec = ServiceRecord.objects.get(volunteer=me)
    assert rec.status == "pending" and rec.hours == 3
    assert "社区科普" in c.get("/me/volunteer/").content.decode()
    assert "张小明" not in c.get("/me/volunteer/").content.decode()
    assert [x["id"] for x in api(c, "/api/community/records")] == [rec.pk]
    assert [x["id"] for x in api(c, "/api/community/volunteers")] == [me.pk]
    assert c.get("/community/records/").status_code == 302  # citizens are sent back to their portal
    # approved by the officer, the volunteer issues and downloads the certificate; others may not
    svc.records_approve(actor=users["wujin"], records=[rec])
    r = c.post("/me/volunteer/certificate/", {"year": "2026"})
    assert r.status_code == 302
    pdf = c.get(r["Location"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    cert = me.certificates.get()
    other = citizen_signup(identifier="vol2", password=PASSWORD)
    assert client(other.user).get(f"/me/volunteer/certificates/{cert.pk}.pdf").status_code == 404
    assert client(users["xinbei"]).get(f"/community/certificates/{cert.pk}.pdf").status_code == 404
    # the public verification page, no login
    page = Client().get(f"/community/verify/{cert.code}/")
    assert page.status_code == 200 and "赵*" in page.content.decode() and "3.0" in page.content.decode()
    assert Client().get(f"/community/verify/{cert.code[:-1]}x/").status_code == 404


def api(c: Client, path: str) -> Any:
    return c.get(path).json()


# -- Excel ---------------------------------------------------------------------------------------------


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


V_HEAD = registry_io.VOLUNTEER_COLUMNS


def test_volunteer_import_is_all_or_nothing_and_names_every_row(users: dict[str, Any]) -> None:
    content = xlsx([V_HEAD,
                    ["甲", WUJIN, "13900000001", "", "是", "", "", "2025-03-01"],
                    ["乙", WUJIN, "139-0000-0001", "", "否", "", "", ""],   # same phone as row 2
                    ["丙", XINBEI, "13900000003", "", "否", "", "", ""],   # another district
                    ["丁", WUJIN, "12345", "", "否", "", "", ""],           # bad phone
                    ["戊", WUJIN, "", ID1.lower(), "否", "", "", ""]])
    with pytest.raises(InputError) as exc:
        registry_io.import_(actor=users["wujin"], kind="volunteers", content=content, name="v.xlsx")
    errors = exc.value.errors
    assert any(e.startswith("第 3 行") and "第 2 行" in e for e in errors)
    assert any(e.startswith("第 4 行") and "无权" in e for e in errors)
    assert any(e.startswith("第 5 行 手机号") for e in errors)
    assert Volunteer.objects.count() == 0
    good = xlsx([V_HEAD, ["甲", WUJIN, "13900000001", "", "是", "", "", "2025-03-01"],
                 ["戊", WUJIN, "", ID1, "否", "", "", ""]])
    assert registry_io.import_(actor=users["wujin"], kind="volunteers", content=good, name="v.xlsx") == 2
    v = Volunteer.objects.get(name="甲")
    assert v.is_info_officer and v.phone_masked == "139****0001" and "13900000001" not in v.phone_enc
    # again: the registry already has them
    with pytest.raises(InputError) as exc:
        registry_io.import_(actor=users["wujin"], kind="volunteers", content=good, name="v.xlsx")
    assert len(exc.value.errors) == 2 and all("已登记为志愿者" in e for e in exc.value.errors)


@pytest.mark.parametrize("content", [b"not a spreadsheet", xlsx([["姓名", "手机号"], ["甲", "139"]]), xlsx([V_HEAD])])
def test_malformed_files_are_refused(users: dict[str, Any], content: bytes) -> None:
    with pytest.raises(InputError):
        registry_io.import_(actor=users["wujin"], kind="volunteers", content=content, name="bad.xlsx")
    assert Volunteer.objects.count() == 0


def test_malformed_file_through_the_page(users: dict[str, Any]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client(users["wujin"])
    r = c.post("/community/volunteers/import/", {"file": SimpleUploadedFile("x.xlsx", b"garbage")}, follow=True)
    assert "导入失败" in r.content.decode()


def test_record_and_expert_import_and_masked_export(users: dict[str, Any], vols: dict[str, Any]) -> None:
    head = registry_io.RECORD_COLUMNS
    row = ["13800001111", "", WUJIN, "武进区科协", "科普讲解", "科技馆", "2026-04-01 09:00", "2026-04-01 11:00",
           "", "", "", "优秀"]
    content = xlsx([head, row, [*row[:6], "2026-04-01 10:00", "2026-04-01 12:00", "", "", "", ""]])
    with pytest.raises(InputError) as exc:
        registry_io.import_(actor=users["wujin"], kind="records", content=content, name="r.xlsx")
    assert exc.value.errors[0].startswith("第 3 行") and "重叠" in exc.value.errors[0]
    assert ServiceRecord.objects.count() == 2
    assert registry_io.import_(actor=users["wujin"], kind="records", content=xlsx([head, row]), name="r.xlsx") == 1
    experts = xlsx([registry_io.EXPERT_COLUMNS,
                    ["周教授", "常州大学", "教授", "化学、材料", "", "普通话", "周末", "评审专家", WUJIN,
                     "13511112222"]])
    assert registry_io.import_(actor=users["wujin"], kind="experts", content=experts, name="e.xlsx") == 1
    assert Expert.objects.get(name="周教授").roles == ["reviewer"]
    # export: masked for officers; unmasked only for the office, audited
    wb = load_workbook(io.BytesIO(client(users["wujin"]).get("/community/volunteers/export.xlsx").content))
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert "138****1111" in values and "13800001111" not in values and "陈静" not in values
    assert client(users["wujin"]).get("/community/volunteers/export.xlsx?unmasked=1").status_code == 403
    wb = load_workbook(io.BytesIO(client(users["office"]).get("/community/volunteers/export.xlsx?unmasked=1").content))
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert "13800001111" in values and ID2 in values
    assert AuditEntry.objects.filter(action="community.export_unmasked_volunteers", actor=users["office"]).exists()


def test_other_district_units_are_refused_on_record_creation(users: dict[str, Any], vols: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        record(users["wujin"], vols["a"], 22, org_unit=OrgUnit.objects.get(code=XINBEI))


def test_teams_are_scoped_and_the_pages_speak_english(users: dict[str, Any]) -> None:
    from django.utils import translation

    from kepu.community.models import VolunteerTeam

    svc.team_create(actor=users["wujin"], name="武进银龄队", kind="silver", org_unit=unit(WUJIN))
    with pytest.raises(PermissionDenied):
        svc.team_create(actor=users["xinbei"], name="越权队", kind="wulao", org_unit=unit(WUJIN))
    assert "武进银龄队" not in client(users["xinbei"]).get("/community/teams/").content.decode()
    assert VolunteerTeam.objects.count() == 1
    with translation.override("en"):
        c = client(users["wujin"])
        c.cookies["django_language"] = "en"
        body = c.get("/community/teams/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Silver-age volunteer team" in body and "Create a team" in body
