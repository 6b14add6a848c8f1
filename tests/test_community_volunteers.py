"""Volunteers, service records, approval and certificates (issue 10 points 2, 10, 12 and bad input)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from kepu.citizens.services import citizen_signup
from kepu.community import volunteers as svc
from kepu.community.models import Certificate, ServiceRecord, Volunteer
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.plans.models import Observation, TargetStatus
from kepu.plans.plan_import import plan_import

WUJIN, XINBEI = "320412", "320411"
ID1 = "11010519491231002X"  # a valid check digit
ID2 = "320412198001011237"


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def at(day: int, hour: int, month: int = 5, year: int = 2026) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))


def record(actor: Any, v: Volunteer, day: int, start: int = 9, end: int = 12, **kw: Any) -> ServiceRecord:
    return svc.record_create(actor=actor, volunteer=v, org_unit=kw.pop("org_unit", v.org_unit),
                             organiser=kw.pop("organiser", "武进区科协"), content=kw.pop("content", "社区科普讲解"),
                             place="湖塘镇社区", start=at(day, start), end=at(day, end), **kw)


@pytest.fixture
def vol(users: dict[str, Any]) -> Volunteer:
    return svc.volunteer_register(actor=users["wujin"], name="张小明", org_unit=unit(WUJIN),
                                  phone="138 0000 1111", id_number=ID1)


def hours_value(code: str = WUJIN, year: int = 2026) -> float | None:
    obs = Observation.objects.filter(indicator__plan__code="changzhou-2021-2035", indicator__code="VOLUNTEER_HOURS",
                                     org_unit__code=code, year=year).first()
    return obs.value if obs else None


def test_register_stores_personal_data_encrypted_and_masked(vol: Volunteer) -> None:
    assert (vol.phone_masked, vol.id_masked) == ("138****1111", "110***********002X")
    assert "13800001111" not in vol.phone_enc and vol.phone_key and vol.id_key
    assert AuditEntry.objects.filter(action="volunteer.register", object_id=str(vol.pk)).exists()
    assert Observation.objects.get(indicator__plan__code="changzhou-2021-2035", indicator__code="SCI_VOLUNTEERS",
                                   org_unit__code=WUJIN, year=2026).value == 1


@pytest.mark.parametrize("phone,id_number", [("+86 138-0000-1111", ""), ("", "11010519491231002x")])
def test_the_same_person_is_registered_once(vol: Volunteer, users: dict[str, Any], phone: str,
                                            id_number: str) -> None:
    with pytest.raises(InputError) as exc:
        svc.volunteer_register(actor=users["xinbei"], name="张晓明", org_unit=unit(XINBEI), phone=phone,
                               id_number=id_number)
    assert "已登记为志愿者" in str(exc.value)
    assert Volunteer.objects.count() == 1


def test_a_citizen_registers_themself(users: dict[str, Any]) -> None:
    citizen = citizen_signup(identifier="citizen1", password=PASSWORD)
    v = svc.volunteer_register(actor=citizen.user, name="李华", org_unit=unit(WUJIN), phone="13900001111")
    assert v.user == citizen.user and v.registered_by == citizen.user
    # a user who is neither a citizen nor an officer of the unit may not
    with pytest.raises(PermissionDenied):
        svc.volunteer_register(actor=users["xinbei"], name="王五", org_unit=unit(WUJIN), phone="13900002222")


def test_overlapping_service_records_are_refused(vol: Volunteer, users: dict[str, Any]) -> None:
    record(users["wujin"], vol, 20, 9, 12)
    with pytest.raises(InputError) as exc:
        record(users["wujin"], vol, 20, 11, 14)
    assert "重叠" in str(exc.value)
    assert ServiceRecord.objects.count() == 1
    record(users["wujin"], vol, 20, 12, 14)  # back to back is fine


def test_hours_may_not_exceed_the_time_span(vol: Volunteer, users: dict[str, Any]) -> None:
    with pytest.raises(InputError) as exc:
        record(users["wujin"], vol, 20, 9, 10, hours="3")
    assert "超过了开始到结束的时间" in str(exc.value)


def test_nobody_approves_their_own_submission(vol: Volunteer, users: dict[str, Any], make_user: Any) -> None:
    r = record(users["wujin"], vol, 20)
    with pytest.raises(InputError) as exc:
        svc.records_approve(actor=users["wujin"], records=[r])
    assert "不能审核自己提交的" in str(exc.value)
    r.refresh_from_db()
    assert r.status == "pending"
    # a volunteer who is also an officer cannot approve their own hours either
    officer = make_user("wj2", ("district_reporter", WUJIN, None))
    vol.user = officer
    vol.save()
    with pytest.raises(InputError):
        svc.records_approve(actor=officer, records=[r])


def test_district_officers_cannot_decide_on_another_districts_records(vol: Volunteer, users: dict[str, Any]) -> None:
    r = record(users["wujin"], vol, 20)
    with pytest.raises(PermissionDenied):
        svc.records_approve(actor=users["xinbei"], records=[r])
    with pytest.raises(PermissionDenied):
        record(users["xinbei"], vol, 21)
    assert not svc.records_visible(users["xinbei"]).exists()
    assert not svc.volunteers_visible(users["xinbei"]).exists()
    assert list(svc.records_visible(users["office"])) == [r]


def test_bulk_approval_is_all_or_nothing(vol: Volunteer, users: dict[str, Any], make_user: Any) -> None:
    other = make_user("wj2", ("district_reporter", WUJIN, None))
    a, b = record(users["wujin"], vol, 20), record(other, vol, 21)
    with pytest.raises(InputError) as exc:
        svc.records_approve(actor=other, records=[a, b])  # b is other's own
    assert len(exc.value.errors) == 1
    assert set(ServiceRecord.objects.values_list("status", flat=True)) == {"pending"}
    assert svc.records_approve(actor=users["office"], records=[a, b]) == 2


def test_approving_hours_moves_the_indicator_and_a_district_target_and_undo_moves_it_back(
    vol: Volunteer, users: dict[str, Any], plan: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any,
) -> None:
    # Given Wujin's implementation plan with a yearly target of 5 certified volunteer hours
    doc = {
        "plan": {"code": "wujin-volunteer-test", "parent": plan.code, "name_zh": "武进区实施方案（测试）",
                 "name_en": "Wujin test plan", "region": WUJIN, "start_year": 2021, "end_year": 2030,
                 "office": {"name_zh": "武进区科普办", "name_en": "Wujin office"},
                 "source": {"title": "测试", "publisher": "测试"}},
        "departments": [{"code": "wj-cast", "name_zh": "武进区科协", "kind": "mass_org", "name_en": "Wujin CAST"}],
        "programmes": [{"code": "WJ1", "kind": "programme", "name_zh": "志愿服务", "name_en": "Volunteering",
                        "sections": [{"code": "WJ1.1", "name_zh": "科技志愿服务", "name_en": "Volunteering",
                                      "responsible_units": ["武进区科协"]}]}],
        "indicators": [{"code": "VOLUNTEER_HOURS", "section": "WJ1.1", "name_zh": "经认证的科技志愿服务时长",
                        "name_en": "Certified volunteer hours", "unit": "小时", "aggregation": "sum", "min": 0,
                        "frequency": "year"}],
        "targets": [{"code": "WJ-VH", "indicator": "VOLUNTEER_HOURS", "name_zh": "每年志愿服务时长",
                     "name_en": "Volunteer hours a year", "kind": "flow", "value": 5, "unit": "小时",
                     "section": "WJ1.1", "period": {"start": 2021, "end": 2030},
                     "responsible_units": ["武进区科协"], "quote": "每年志愿服务时长5小时以上。(测试)"}],
    }
    path = tmp_path / "wujin.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        district_plan, _ = plan_import(path=path)

    def status() -> str | None:
        s = TargetStatus.objects.filter(target__plan=district_plan, target__code="WJ-VH", org_unit__code=WUJIN).first()
        return s.status if s else None

    r1, r2 = record(users["wujin"], vol, 20, 9, 12), record(users["wujin"], vol, 21, 9, 12)
    with django_capture_on_commit_callbacks(execute=True):
        svc.records_approve(actor=users["office"], records=[r1])
    before = status()
    assert hours_value() == 3
    # When the second is approved, the city plan's observation and the district target move
    with django_capture_on_commit_callbacks(execute=True):
        svc.records_approve(actor=users["office"], records=[r2])
    assert hours_value() == 6
    assert Observation.objects.get(indicator__plan=district_plan, org_unit__code=WUJIN, year=2026).value == 6
    met = status()
    assert met != before and met is not None
    # And revoking moves it back
    with django_capture_on_commit_callbacks(execute=True):
        svc.records_revoke(actor=users["office"], records=[r2], reason="重复记录")
    assert hours_value() == 3 and status() == before
    # A rejected record never counts, and the last undo publishes 0
    r3 = record(users["wujin"], vol, 22)
    with django_capture_on_commit_callbacks(execute=True):
        svc.records_reject(actor=users["office"], records=[r3], reason="无签到记录")
        svc.records_revoke(actor=users["office"], records=[r1], reason="核实有误")
    assert hours_value() == 0


def test_reject_needs_a_reason(vol: Volunteer, users: dict[str, Any]) -> None:
    r = record(users["wujin"], vol, 20)
    with pytest.raises(InputError) as exc:
        svc.records_reject(actor=users["office"], records=[r], reason=" ")
    assert "原因" in str(exc.value)


def test_certificate_verifies_and_altered_or_revoked_ones_fail(vol: Volunteer, users: dict[str, Any]) -> None:
    from django.core import signing

    r1, r2 = record(users["wujin"], vol, 20, 9, 12), record(users["wujin"], vol, 21, 14, 16)
    svc.records_approve(actor=users["office"], records=[r1, r2])
    cert = svc.certificate_issue(actor=users["wujin"], volunteer=vol, year=2026)
    assert cert.hours == Decimal("5.0") and cert.masked_name == "张*明"
    ok = svc.certificate_verify(cert.code)
    assert ok.valid and ok.certificate == cert
    # Altered: more hours, another certificate's id, a tampered signature
    for payload in ({**svc._payload(cert), "h": "50.0"}, {**svc._payload(cert), "c": cert.pk + 1}):
        forged = signing.dumps(payload, salt="wrong-salt", compress=True)
        assert not svc.certificate_verify(forged).valid
    assert not svc.certificate_verify(cert.code[:-2] + ("AA" if not cert.code.endswith("AA") else "BB")).valid
    assert not svc.certificate_verify("garbage").valid
    # The row altered in the database no longer matches the signed figures
    Certificate.objects.filter(pk=cert.pk).update(hours=Decimal("50"))
    assert not svc.certificate_verify(cert.code).valid
    Certificate.objects.filter(pk=cert.pk).update(hours=Decimal("5.0"))
    # Revoking one of its records invalidates it
    svc.records_revoke(actor=users["office"], records=[r2], reason="核实有误")
    v = svc.certificate_verify(cert.code)
    assert not v.valid and "已失效" in v.reason


def test_certificate_pdf_has_a_qr_code(vol: Volunteer, users: dict[str, Any]) -> None:
    r = record(users["wujin"], vol, 20)
    svc.records_approve(actor=users["office"], records=[r])
    cert = svc.certificate_issue(actor=users["wujin"], volunteer=vol, year=2026)
    pdf = svc.certificate_pdf(cert, verify_url=f"http://testserver/community/verify/{cert.code}/")
    assert pdf.startswith(b"%PDF") and b"/Image" in pdf


def test_another_district_cannot_issue_a_certificate(vol: Volunteer, users: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        svc.certificate_issue(actor=users["xinbei"], volunteer=vol, year=2026)
    with pytest.raises(InputError):
        svc.certificate_issue(actor=users["wujin"], volunteer=vol, year=2026)  # no approved hours


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def volunteers_value(code: str, unit_code: str = WUJIN) -> float | None:
    obs = Observation.objects.filter(indicator__plan__code="changzhou-2021-2035", indicator__code=code,
                                     org_unit__code=unit_code, year=2026).first()
    return obs.value if obs else None


def test_registration_and_deactivation_move_the_volunteer_indicators(users: dict[str, Any], plan: Any,
                                                                     django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        a = svc.volunteer_register(actor=users["wujin"], name="甲", org_unit=unit(WUJIN), phone="13900000001",
                                   is_info_officer=True)
        svc.volunteer_register(actor=users["wujin"], name="乙", org_unit=unit(WUJIN), phone="13900000002")
    assert (volunteers_value("SCI_VOLUNTEERS"), volunteers_value("SCI_INFO_OFFICERS")) == (2, 1)
    assert volunteers_value("SCI_VOLUNTEERS", "320400") == 2
    # another district cannot change Wujin's volunteer; Wujin's officer deactivates one
    with pytest.raises(PermissionDenied):
        svc.volunteer_update(actor=users["xinbei"], volunteer=a, data={"active": False})
    with django_capture_on_commit_callbacks(execute=True):
        svc.volunteer_update(actor=users["wujin"], volunteer=a, data={"active": False})
    assert (volunteers_value("SCI_VOLUNTEERS"), volunteers_value("SCI_INFO_OFFICERS")) == (1, 0)
    assert AuditEntry.objects.get(action="volunteer.update").changes == {"active": [True, False]}


def test_the_volunteer_edit_page_is_scoped(users: dict[str, Any], vol: Volunteer) -> None:
    assert _client(users["xinbei"]).post(f"/community/volunteers/{vol.pk}/edit/", {"skills": "x"}).status_code == 404
    r = _client(users["wujin"]).post(f"/community/volunteers/{vol.pk}/edit/", {"skills": "讲解", "active": "on"})
    assert r.status_code == 302
    vol.refresh_from_db()
    assert vol.skills == "讲解" and vol.active
