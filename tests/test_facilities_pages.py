"""Roles and scope on the facilities pages and API (a district officer sees and changes only their
district's bases and venues; an expert sees only the applications assigned to them), school
bookings with capacity, the coverage map, and Excel import/export (all-or-nothing, row errors)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from conftest import PASSWORD
from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, OrgUnit
from kepu.facilities import services as svc
from kepu.facilities import transfer
from kepu.facilities.models import Application, Base, Booking, Venue

FULL = {"facilities": 22, "content": 20, "staff": 16, "openness": 16, "management": 8}


def _client(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def world(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """A certified base and a venue in each of 武进区 and 新北区, and two experts."""
    from kepu.community.services import expert_create

    wu, xb = OrgUnit.objects.get(code="320412"), OrgUnit.objects.get(code="320411")
    exp_a, exp_b = make_user("exp_a"), make_user("exp_b")
    expert_create(actor=users["office"], name="甲专家", organisation="常州大学", org_unit=wu, roles=["reviewer"],
                  user=exp_a)
    expert_create(actor=users["office"], name="乙专家", organisation="常州工学院", org_unit=wu, roles=["reviewer"],
                  user=exp_b)
    out: dict[str, Any] = {"exp_a": exp_a, "exp_b": exp_b}
    for key, unit, officer in (("wu", wu, "wujin"), ("xb", xb, "xinbei")):
        app = svc.application_submit(actor=users[officer], name=f"{unit.name_zh}基地（演示）", kind="general",
                                     organisation=f"{unit.name_zh}某馆（演示）", org_unit=unit, description="开放展厅")
        a = svc.review_assign(actor=users["office"], application=app, reviewer=exp_a)
        svc.review_submit(actor=exp_a, assignment=a, scores=FULL)
        out[f"base_{key}"] = svc.application_certify(actor=users["office"], application=app)
        out[f"venue_{key}"] = svc.venue_save(actor=users[officer], org_unit=unit, name=f"{unit.name_zh}科技馆（演示）",
                                             kind="museum", organisation="演示单位", opening_hours="9:00–17:00",
                                             open_days=[2, 3, 4, 5, 6])
    out["pending"] = svc.application_submit(actor=users["wujin"], name="待评审基地（演示）", kind="stem",
                                            organisation="武进某中学（演示）", org_unit=wu, description="创客空间")
    svc.review_assign(actor=users["office"], application=out["pending"], reviewer=exp_b)
    return out


def test_district_officer_sees_and_changes_only_their_district(users: dict[str, Any], world: dict[str, Any]) -> None:
    wujin = _client(users["wujin"])
    page = wujin.get("/facilities/").content.decode()
    assert "武进区基地（演示）" in page and "新北区基地（演示）" not in page
    assert wujin.get(f"/facilities/bases/{world['base_xb'].pk}/").status_code == 404
    assert "武进区基地（演示）" not in wujin.get("/facilities/?state=revoked").content.decode()
    assert "武进区基地（演示）" in wujin.get("/facilities/?state=active&kind=general").content.decode()
    assert wujin.get(f"/facilities/venues/{world['venue_xb'].pk}/").status_code == 404
    # API: the same rules
    items = wujin.get("/api/facilities/bases").json()["items"]
    assert [i["district"] for i in items] == ["320412"]
    assert wujin.get(f"/api/facilities/bases/{world['base_xb'].pk}").status_code == 404
    r = wujin.post(f"/api/facilities/venues/{world['venue_xb'].pk}/visits",
                   {"year": 2026, "month": 1, "visitors": 500}, content_type="application/json")
    assert r.status_code == 404
    assert not world["venue_xb"].visit_counts.exists()
    # A district officer may not certify or revoke, even in their own district
    r = wujin.post(f"/api/facilities/bases/{world['base_wu'].pk}/revoke", {"reason": "x"},
                   content_type="application/json")
    assert r.status_code == 403
    assert Base.objects.get(pk=world["base_wu"].pk).revoked_on is None
    r = wujin.post(f"/facilities/bases/{world['base_wu'].pk}/", {"action": "revoke", "reason": "x"})
    assert r.status_code == 403
    # Nor apply for a place in another district
    r = wujin.post("/api/facilities/applications", {
        "name": "越权（演示）", "kind": "general", "organisation": "x", "org_unit": "320411", "description": "x"},
        content_type="application/json")
    assert r.status_code == 403
    assert not Application.objects.filter(name="越权（演示）").exists()


def test_expert_sees_only_assigned_applications(users: dict[str, Any], world: dict[str, Any]) -> None:
    exp_b = _client(world["exp_b"])
    listed = exp_b.get("/api/facilities/applications").json()
    assert [i["name"] for i in listed["items"]] == ["待评审基地（演示）"]
    other = Application.objects.get(name="武进区基地（演示）")
    assert exp_b.get(f"/facilities/applications/{other.pk}/").status_code == 404
    assert exp_b.get(f"/api/facilities/applications/{other.pk}").status_code == 404
    page = exp_b.get("/facilities/applications/").content.decode()
    assert "待评审基地（演示）" in page and "新北区基地（演示）" not in page
    # Scores through the page; a score above a criterion's max is refused with its name
    pending = world["pending"]
    r = exp_b.post(f"/facilities/applications/{pending.pk}/",
                   {"action": "score", **{f"score_{k}": v for k, v in {**FULL, "facilities": 30}.items()}}, follow=True)
    assert "场地与设施：得分须在 0 到 25 分之间，得到 30。" in r.content.decode()
    assert pending.reviews.get().submitted_at is None
    r = exp_b.post(f"/api/facilities/applications/{pending.pk}/score", {"scores": FULL},
                   content_type="application/json")
    assert r.status_code == 200 and r.json()["mean_score"] == 82
    # Expert A (not assigned) may not score it
    r = _client(world["exp_a"]).post(f"/api/facilities/applications/{pending.pk}/score", {"scores": FULL},
                                     content_type="application/json")
    assert r.status_code == 404


def test_api_conflict_and_certify_rules(users: dict[str, Any], world: dict[str, Any], make_user: Any) -> None:
    office = _client(users["office"])
    app = svc.application_submit(actor=users["xinbei"], name="常州大学科普馆（演示）", kind="general",
                                 organisation="常州大学", org_unit=OrgUnit.objects.get(code="320411"),
                                 description="校园科普馆")
    r = office.post(f"/api/facilities/applications/{app.pk}/reviewers", {"reviewer": "exp_a"},
                    content_type="application/json")
    assert r.status_code == 422 and "利益冲突" in r.json()["detail"]
    r = office.post(f"/api/facilities/applications/{app.pk}/reviewers", {"reviewer": "exp_b"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "reviewing"
    r = office.post(f"/api/facilities/applications/{app.pk}/certify", {}, content_type="application/json")
    assert r.status_code == 422 and "还没有专家提交评分" in r.json()["detail"]


def test_booking_capacity_and_confirmation(users: dict[str, Any], world: dict[str, Any]) -> None:
    venue = world["venue_wu"]
    start = timezone.now() + dt.timedelta(days=7)
    slot = svc.slot_add(actor=users["wujin"], venue=venue, starts_at=start, ends_at=start + dt.timedelta(hours=2),
                        capacity=60)
    public = Client()
    r = public.post(f"/facilities/open/{venue.pk}/", {"slot": slot.pk, "school": "湖塘实验小学（演示）",
                                                      "class_name": "四(2)班", "class_size": 45,
                                                      "contact_name": "王老师", "phone": "138 1234 5678"}, follow=True)
    assert "预约已提交" in r.content.decode()
    b = Booking.objects.get()
    assert b.phone_masked == "138****5678" and "13812345678" not in b.phone_encrypted
    r = public.post(f"/facilities/open/{venue.pk}/", {"slot": slot.pk, "school": "另一所小学（演示）", "class_size": 20,
                                                      "contact_name": "李老师", "phone": "13900001111"}, follow=True)
    assert "该时段还剩 15 个名额，不够 20 人" in r.content.decode()
    assert Booking.objects.count() == 1
    # 新北区's officer cannot confirm a booking at a 武进区 venue; 武进区's can
    r = _client(users["xinbei"]).post(f"/api/facilities/bookings/{b.pk}/decide", {"confirm": True},
                                      content_type="application/json")
    assert r.status_code == 404
    r = _client(users["wujin"]).post(f"/api/facilities/bookings/{b.pk}/decide", {"confirm": True},
                                     content_type="application/json")
    assert r.json()["status"] == "confirmed" and r.json()["phone"] == "138****5678"
    page = public.get(f"/facilities/open/{venue.pk}/").content.decode()
    assert "剩余 15 个名额" in page and "周二" in page


def test_visitor_counts_feed_sci_venue_visits(users: dict[str, Any], world: dict[str, Any],
                                              django_capture_on_commit_callbacks: Any) -> None:
    from kepu.plans.models import Observation

    with django_capture_on_commit_callbacks(execute=True):
        svc.visits_record(actor=users["wujin"], venue=world["venue_wu"], year=2025, month=3, visitors=1200)
        svc.visits_record(actor=users["wujin"], venue=world["venue_wu"], year=2025, month=4, visitors=800)
        svc.visits_record(actor=users["xinbei"], venue=world["venue_xb"], year=2025, month=4, visitors=100)

    def value(unit: str) -> float:
        return Observation.objects.get(indicator__code="SCI_VENUE_VISITS", org_unit__code=unit, year=2025,
                                       quarter=0, indicator__plan__parent__isnull=True).value

    assert (value("320412"), value("320411"), value("320400")) == (2000, 100, 2100)
    with pytest.raises(InputError, match="还没有到"):
        svc.visits_record(actor=users["wujin"], venue=world["venue_wu"], year=timezone.localdate().year + 1,
                          month=1, visitors=1)


def test_map_page_and_table_fallback(users: dict[str, Any], world: dict[str, Any]) -> None:
    page = _client(users["wujin"]).get("/facilities/map/").content.decode()
    assert 'data-option="' in page and "treemap" in page
    assert "kepu/echarts.min.js" in page and "http://" not in page.replace("http://www.w3.org", "")
    assert 'data-testid="coverage-table"' in page and "湖塘镇" in page
    # Both certified bases sit at district level; every district of the city is listed
    assert page.count('scope="rowgroup"') == OrgUnit.objects.filter(parent__code="320400", level="district").count()
    # In English the page's own text is English (place names stay Chinese data)
    from django.conf import settings

    en = _client(users["wujin"])
    en.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = en.get("/facilities/map/").content.decode()
    assert "Science base coverage map" in page and "Towns/streets with a base or venue" in page
    assert "科普基地覆盖图" not in page


def test_export_then_import_round_trip_and_bad_files(users: dict[str, Any], world: dict[str, Any]) -> None:
    office = _client(users["office"])
    r = office.get("/facilities/export/bases.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("名称", "类型", "级别", "依托单位", "所在单位代码") and len(rows) == 3
    # 武进区's officer exports only their district's bases
    r = _client(users["wujin"]).get("/facilities/export/bases.xlsx")
    assert len(list(load_workbook(io.BytesIO(r.content)).active.iter_rows())) == 2
    # A file with row errors writes nothing and names every bad row
    wb = Workbook()
    ws = wb.active
    ws.append(transfer.BASE_COLUMNS)
    ws.append(["金坛科普园（演示）", "科普教育基地", "省级", "金坛某园", "320413", dt.date(2023, 5, 1), None,
               dt.date(2027, 4, 30), None])
    ws.append(["坏级别（演示）", "科普教育基地", "区级", "x", "320413", dt.date(2023, 5, 1), None, dt.date(2027, 1, 1),
               None])
    ws.append(["坏日期（演示）", "STEM 创新实践基地", "市级", "x", "999999", "昨天", None, dt.date(2027, 1, 1), None])
    buf = io.BytesIO()
    wb.save(buf)
    before = (Base.objects.count(), AuditEntry.objects.count())
    with pytest.raises(InputError) as info:
        transfer.bases_import(actor=users["office"], content=buf.getvalue(), name="bases.xlsx")
    errs = info.value.errors
    assert any(e.startswith("第 3 行 级别：应为 市级、省级、国家级 之一，得到“区级”") for e in errs)
    assert any(e.startswith("第 4 行 所在单位代码：找不到") for e in errs)
    assert any(e.startswith("第 4 行 首次认定日期：需要日期") for e in errs)
    assert (Base.objects.count(), AuditEntry.objects.count()) == before
    # A malformed file (not an xlsx) is refused through the page, nothing written
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = office.post("/facilities/import/", {"what": "bases", "file": SimpleUploadedFile(
        "bases.xlsx", b"this is not a spreadsheet")}, follow=True)
    assert "bases.xlsx 不是 Excel .xlsx 文件" in r.content.decode()
    assert Base.objects.count() == before[0]
    # District officers may not import bases (designations come through the lifecycle)
    with pytest.raises(svc.PermissionDenied):
        transfer.bases_import(actor=users["wujin"], content=buf.getvalue(), name="bases.xlsx")
    # The good row alone imports, is audited and counts for T19 (provincial, designated 2023)
    wb2 = Workbook()
    wb2.active.append(transfer.BASE_COLUMNS)
    wb2.active.append(next(ws.iter_rows(min_row=2, max_row=2, values_only=True)))
    buf2 = io.BytesIO()
    wb2.save(buf2)
    [b] = transfer.bases_import(actor=users["office"], content=buf2.getvalue(), name="bases.xlsx")
    assert (b.level, b.district.code, b.valid_from) == ("provincial", "320413", dt.date(2023, 5, 1))
    assert AuditEntry.objects.filter(action="facilities.import", object_id=str(b.pk)).exists()
    from kepu.plans.models import Observation

    assert Observation.objects.filter(indicator__code="SCI_BASES_PROV", org_unit__code="320413", year=2023,
                                      value=1).exists()


def test_venue_import_is_scoped_and_updates(users: dict[str, Any], world: dict[str, Any]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(transfer.VENUE_COLUMNS)
    ws.append(["武进区科技馆（演示）", "科技馆", "演示单位", "320412", "湖塘镇", "8:30–17:00", "二,三,四", "", "是"])
    ws.append(["新北区的馆（演示）", "开放实验室", "x", "320411", "", "", "1,9", "", "是"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(InputError) as info:
        transfer.venues_import(actor=users["wujin"], content=buf.getvalue(), name="v.xlsx")
    assert any("第 3 行 所在单位代码：新北区 不在您的管理范围内" in e for e in info.value.errors)
    assert any(e.startswith("第 3 行 开放日") for e in info.value.errors)
    assert Venue.objects.count() == 2
    wb2 = Workbook()
    wb2.active.append(transfer.VENUE_COLUMNS)
    wb2.active.append(next(ws.iter_rows(min_row=2, max_row=2, values_only=True)))
    buf2 = io.BytesIO()
    wb2.save(buf2)
    [v] = transfer.venues_import(actor=users["wujin"], content=buf2.getvalue(), name="v.xlsx")
    assert v.pk == world["venue_wu"].pk and v.open_days == [2, 3, 4] and v.opening_hours == "8:30–17:00"
    assert AuditEntry.objects.filter(action="facilities.import", object_id=str(v.pk)).exists()


def test_expired_base_page_refuses_review_and_offers_a_new_application(users: dict[str, Any]) -> None:
    wu = OrgUnit.objects.get(code="320412")
    base = Base.objects.create(name="过期基地（演示）", kind="general", level="municipal",
                               organisation="过期单位（演示）", org_unit=wu, district=wu,
                               first_certified_on=dt.date(2021, 4, 1), valid_from=dt.date(2021, 4, 1),
                               valid_until=dt.date(2024, 3, 31))
    office = _client(users["office"])
    r = office.post(f"/facilities/bases/{base.pk}/", {"action": "review", "year": "2025", "result": "pass"},
                    follow=True)
    assert "过期基地（演示） 的认定已于 2024-03-31 到期，不能年度复核；请重新提交认定申请。" in r.content.decode()
    assert not base.annual_reviews.exists()
    r = office.post(f"/api/facilities/bases/{base.pk}/renew", {"valid_until": "2029-01-01"},
                    content_type="application/json")
    assert r.status_code == 422 and "重新提交认定申请" in r.json()["detail"]
    wujin = _client(users["wujin"])
    assert 'data-testid="reapply"' in wujin.get(f"/facilities/bases/{base.pk}/").content.decode()
    form = wujin.get(f"/facilities/applications/new/?base={base.pk}").content.decode()
    assert 'value="过期单位（演示）"' in form and f'name="base" value="{base.pk}"' in form
    r = wujin.post("/facilities/applications/new/", {"base": base.pk, "name": base.name, "kind": "general",
                                                     "level": "municipal", "organisation": base.organisation,
                                                     "org_unit": wu.pk, "description": "整改后重新申请"})
    assert r.status_code == 302
    assert Application.objects.get().base == base


def test_evidence_file_is_stored_and_served_only_in_scope(users: dict[str, Any], settings: Any, tmp_path: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path / "media"
    wu = OrgUnit.objects.get(code="320412")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    wujin = _client(users["wujin"])
    r = wujin.post("/facilities/applications/new/", {
        "name": "带材料的基地（演示）", "kind": "stem", "level": "municipal", "organisation": "武进某校（演示）",
        "org_unit": wu.pk, "description": "创客空间", "evidence_file": SimpleUploadedFile("开放记录.pdf", pdf)})
    assert r.status_code == 302
    app = Application.objects.get()
    assert app.evidence_file is not None and app.evidence_file.original_name == "开放记录.pdf"
    r = wujin.get(f"/facilities/applications/{app.pk}/evidence/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == pdf
    assert _client(users["xinbei"]).get(f"/facilities/applications/{app.pk}/evidence/").status_code == 404
    # A renamed executable is refused and no application is written
    r = wujin.post("/facilities/applications/new/", {
        "name": "坏材料（演示）", "kind": "stem", "level": "municipal", "organisation": "x", "org_unit": wu.pk,
        "description": "x", "evidence_file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf")})
    assert r.status_code == 200 and Application.objects.count() == 1
