"""Events and trainings: registration, idempotent check-in, certification feeding the plan's
training targets, 科技特派员 visits feeding T10, scope, and the bad inputs of issue 10."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.events import services as svc
from kepu.events.models import CheckIn, Event, Registration
from kepu.plans.models import Observation, TargetStatus

pytestmark = pytest.mark.django_db


def make_event(
    user: Any,
    unit: str = "320412",
    *,
    kind: str = "training",
    training_kind: str = "counsellors",
    starts: dt.datetime | None = None,
    hours: int = 3,
    **extra: Any,
) -> Event:
    starts = starts or timezone.now() - dt.timedelta(hours=1)
    return svc.event_create(
        actor=user,
        org_unit=OrgUnit.objects.get(code=unit),
        title="科技辅导员能力提升培训",
        kind=kind,
        training_kind=training_kind if kind == "training" else "",
        organiser="武进区科协",
        venue="武进区青少年活动中心",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
        capacity=extra.pop("capacity", 0),
        key_groups=["youth"],
        **extra,
    )


def walk_in(user: Any, event: Event, phone: str, name: str = "王老师") -> Registration:
    return svc.registration_walk_in(actor=user, event=event, name=name, phone=phone, key_group="youth")


def check_in(user: Any, reg: Registration, client_id: str | None = None) -> tuple[CheckIn, bool]:
    return svc.checkin_record(actor=user, code=reg.code, client_id=client_id or f"cid-{reg.code}")


def value(code: str, unit: str, year: int) -> float | None:
    obs = Observation.objects.filter(indicator__code=code, org_unit__code=unit, year=year, quarter=0).first()
    return None if obs is None else obs.value


def test_certifying_training_attendees_moves_t06_and_decertifying_moves_it_back(
    users: dict[str, Any], plan: Any, django_capture_on_commit_callbacks: Any
) -> None:
    year = timezone.localdate().year
    wujin = users["wujin"]
    before = TargetStatus.objects.get(target__plan=plan, target__code="T06", org_unit__code="320412")
    assert (before.status, before.current) == ("no_data", None)
    # Given a counsellor training in 武进区 with three walk-ins, two of them checked in
    event = make_event(wujin)
    regs = [walk_in(wujin, event, f"1380000000{i}", name=f"老师{i}") for i in range(3)]
    for reg in regs[:2]:
        check_in(wujin, reg)
    # When the district officer certifies the two who attended
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.registrations_certify(actor=wujin, event=event, registrations=regs[:2]) == 2
    # Then 武进区's and the city's counsellor counts are 2 and T06's stored status carries it
    assert value("SCI_COUNSELLORS_TRAINED", "320412", year) == 2
    assert value("SCI_COUNSELLORS_TRAINED", "320400", year) == 2
    after = TargetStatus.objects.get(target__plan=plan, target__code="T06", org_unit__code="320412")
    assert (after.current, after.current_year) == (2, year)
    assert after.status != "no_data"
    city = TargetStatus.objects.get(target__plan=plan, target__code="T06", org_unit__code="320400")
    assert city.current == 2
    # And the attendance indicators count the two check-ins at one event held
    assert value("SCI_EVENT_ATTENDANCE", "320412", year) == 2
    assert value("SCI_EVENTS_HELD", "320412", year) == 1
    # When one is decertified
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.registrations_certify(actor=wujin, event=event, registrations=[regs[0]], certified=False) == 1
    # Then the count and the status move back to 1
    assert value("SCI_COUNSELLORS_TRAINED", "320412", year) == 1
    assert TargetStatus.objects.get(target__plan=plan, target__code="T06", org_unit__code="320412").current == 1
    # And the certification and the undo are both audited
    actions = list(
        AuditEntry.objects.filter(action__in=["events.certify", "events.decertify"]).values_list("action", flat=True)
    )
    assert sorted(actions) == ["events.certify", "events.certify", "events.decertify"]


def test_a_person_certified_twice_in_a_year_counts_once(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    wujin, xinbei = users["wujin"], users["xinbei"]
    # Given the same farmer (phone written two ways) certified in two 武进区 trainings and one 新北区 one
    events = [
        make_event(wujin, training_kind="hq_farmers"),
        make_event(wujin, training_kind="hq_farmers"),
        make_event(xinbei, "320411", training_kind="hq_farmers"),
    ]
    phones = ["138 0013 8000", "+86 13800138000", "13800138000"]
    for ev, phone in zip(events, phones, strict=True):
        user = xinbei if ev.district.code == "320411" else wujin
        reg = walk_in(user, ev, phone, name="李农")
        check_in(user, reg)
        svc.registrations_certify(actor=user, event=ev, registrations=[reg])
    # Then each district counts them once and the city counts them once
    assert value("HQ_FARMERS", "320412", year) == 1
    assert value("HQ_FARMERS", "320411", year) == 1
    assert value("HQ_FARMERS", "320400", year) == 1


def test_agri_business_leaders_count_as_high_quality_farmers_too(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    wujin = users["wujin"]
    event = make_event(wujin, training_kind="agri_leaders")
    reg = walk_in(wujin, event, "13900001111")
    check_in(wujin, reg)
    svc.registrations_certify(actor=wujin, event=event, registrations=[reg])
    assert value("AGRI_BUSINESS_LEADERS", "320412", year) == 1
    assert value("HQ_FARMERS", "320412", year) == 1
    assert value("SCI_COUNSELLORS_TRAINED", "320412", year) is None


def test_replayed_checkin_returns_the_existing_one(users: dict[str, Any], plan: Any) -> None:
    wujin = users["wujin"]
    event = make_event(wujin, kind="event")
    reg = walk_in(wujin, event, "13700001234")
    first, created = check_in(wujin, reg, "queued-0001")
    assert created
    audits = AuditEntry.objects.filter(action="events.checkin").count()
    # When the same queued scan is replayed, and the same person is scanned again on another device
    again, created_again = check_in(wujin, reg, "queued-0001")
    other, created_other = check_in(wujin, reg, "other-device-77")
    # Then both return the first check-in and nothing new is stored
    assert (again.pk, created_again) == (first.pk, False)
    assert (other.pk, created_other) == (first.pk, False)
    assert CheckIn.objects.filter(registration=reg).count() == 1
    assert AuditEntry.objects.filter(action="events.checkin").count() == audits
    # And a client id reused for a different person is refused
    reg2 = walk_in(wujin, event, "13700004321", name="张三")
    with pytest.raises(InputError, match="已用于另一条签到"):
        check_in(wujin, reg2, "queued-0001")
    assert not CheckIn.objects.filter(registration=reg2).exists()


def test_checkin_outside_the_window_is_refused(users: dict[str, Any], plan: Any) -> None:
    wujin = users["wujin"]
    # Given an event that ended two hours ago (the tolerance is 30 minutes)
    event = make_event(wujin, kind="event", starts=timezone.now() - dt.timedelta(hours=5), hours=3)
    reg = walk_in(wujin, event, "13600001234")
    # When it is scanned now
    with pytest.raises(InputError) as info:
        check_in(wujin, reg)
    # Then it is refused with the window named, and nothing is stored
    assert "不在活动时间内" in str(info.value) and "可签到时间" in str(info.value)
    assert not CheckIn.objects.exists()
    # But a scan queued offline during the event and synced now is accepted (the scan time counts)
    during = event.starts_at + dt.timedelta(minutes=20)
    _checkin, created = svc.checkin_record(actor=wujin, code=reg.code, client_id="offline-scan-1", at=during)
    assert created
    # And a scan dated in the future is refused
    reg2 = walk_in(wujin, event, "13600004321", name="赵四")
    with pytest.raises(InputError, match="晚于服务器当前时间"):
        svc.checkin_record(
            actor=wujin, code=reg2.code, client_id="future-scan-1", at=timezone.now() + dt.timedelta(hours=1)
        )


def test_duplicate_walk_in_with_the_phone_written_differently_is_refused(users: dict[str, Any], plan: Any) -> None:
    wujin = users["wujin"]
    event = make_event(wujin, kind="event")
    walk_in(wujin, event, "13812345678")
    with pytest.raises(InputError) as info:
        walk_in(wujin, event, "+86 138-1234-5678", name="另一个名字")
    assert "138****5678" in str(info.value) and "已在本活动登记" in str(info.value)
    assert event.registrations.count() == 1
    # And the phone is stored only encrypted, hashed and masked
    reg = event.registrations.get()
    assert "13812345678" not in (reg.phone_enc + reg.phone_key) and reg.phone_masked == "138****5678"


def test_bad_phone_is_refused_naming_the_field(users: dict[str, Any], plan: Any) -> None:
    event = make_event(users["wujin"], kind="event")
    with pytest.raises(InputError, match="手机号"):
        walk_in(users["wujin"], event, "12345")
    assert not Registration.objects.exists()


def test_district_officer_cannot_manage_or_certify_another_districts_event(users: dict[str, Any], plan: Any) -> None:
    wujin, xinbei = users["wujin"], users["xinbei"]
    # A district officer cannot create an event in another district
    with pytest.raises(PermissionDenied):
        make_event(xinbei, "320412")
    event = make_event(wujin)
    reg = walk_in(wujin, event, "13512340000")
    # Nor register walk-ins, check in or certify there
    with pytest.raises(PermissionDenied):
        walk_in(xinbei, event, "13512340001")
    with pytest.raises(PermissionDenied):
        check_in(xinbei, reg)
    assert not CheckIn.objects.exists()
    check_in(wujin, reg)
    with pytest.raises(PermissionDenied):
        svc.registrations_certify(actor=xinbei, event=event, registrations=[reg])
    reg.refresh_from_db()
    assert reg.certified_at is None
    assert not Observation.objects.filter(indicator__code="SCI_COUNSELLORS_TRAINED").exists()
    # The office may
    assert svc.registrations_certify(actor=users["office"], event=event, registrations=[reg]) == 1


def test_certifying_requires_a_checkin_and_not_ones_own_registration(users: dict[str, Any], plan: Any) -> None:
    from kepu.citizens.services import citizen_signup
    from kepu.core.models import RoleAssignment

    wujin = users["wujin"]
    event = make_event(wujin)
    reg = walk_in(wujin, event, "13311112222", name="未签到")
    with pytest.raises(InputError, match="没有签到"):
        svc.registrations_certify(actor=wujin, event=event, registrations=[reg])
    # Given an officer who registered themselves into the training as a citizen attendee
    citizen = citizen_signup(identifier="officer_attendee", password="lotus-pond-2026")
    svc.registration_self(user=citizen.user, event=event)
    RoleAssignment.objects.create(
        user=citizen.user, role="district_reporter", org_unit=OrgUnit.objects.get(code="320412")
    )
    citizen.user.__dict__.pop("_kepu_scope", None)
    check_in(wujin, reg)
    with pytest.raises(PermissionDenied, match="不能认定"):
        svc.registrations_certify(actor=citizen.user, event=event, registrations=[reg])
    reg.refresh_from_db()
    assert reg.certified_at is None


def test_citizen_registers_once_and_capacity_is_kept(users: dict[str, Any], plan: Any) -> None:
    from kepu.citizens.services import citizen_signup

    event = make_event(users["wujin"], kind="event", capacity=2)
    c1 = citizen_signup(identifier="13900139000", password="lotus-pond-2026")
    r1 = svc.registration_self(user=c1.user, event=event)
    assert svc.registration_self(user=c1.user, event=event).pk == r1.pk
    assert (r1.phone_masked, r1.name) == ("139****9000", "139****9000")
    # The same person cannot walk in again with their phone
    with pytest.raises(InputError, match="已在本活动登记"):
        walk_in(users["wujin"], event, "139-0013-9000")
    walk_in(users["wujin"], event, "13900139001")
    c3 = citizen_signup(identifier="third_person", password="lotus-pond-2026")
    with pytest.raises(InputError, match="已满"):
        svc.registration_self(user=c3.user, event=event)
    # Staff accounts cannot self-register
    with pytest.raises(PermissionDenied):
        svc.registration_self(user=users["wujin"], event=event)


def test_feedback_only_from_checked_in_attendees(users: dict[str, Any], plan: Any) -> None:
    from kepu.citizens.services import citizen_signup

    event = make_event(users["wujin"], kind="event")
    c = citizen_signup(identifier="fb_person", password="lotus-pond-2026")
    reg = svc.registration_self(user=c.user, event=event)
    with pytest.raises(InputError, match="签到"):
        svc.feedback_give(user=c.user, registration=reg, rating=5)
    check_in(users["wujin"], reg)
    reg.refresh_from_db()
    fb = svc.feedback_give(user=c.user, registration=reg, rating=4, comment="讲得很清楚")
    assert (fb.rating, fb.comment) == (4, "讲得很清楚")
    with pytest.raises(InputError, match="1 到 5"):
        svc.feedback_give(user=c.user, registration=reg, rating=9)
    other = citizen_signup(identifier="someone_else", password="lotus-pond-2026")
    with pytest.raises(PermissionDenied):
        svc.feedback_give(user=other.user, registration=reg, rating=1)


def test_technician_visits_feed_t10(users: dict[str, Any], plan: Any, django_capture_on_commit_callbacks: Any) -> None:
    year = timezone.localdate().year
    wujin = users["wujin"]
    town = OrgUnit.objects.filter(parent__code="320412", level="town").order_by("code").first()
    assert town is not None
    a1 = svc.assignment_create(
        actor=wujin, org_unit=town, start=dt.date(year, 1, 1), households=30, technician_name="周农技（演示）"
    )
    a2 = svc.assignment_create(
        actor=wujin, org_unit=town, start=dt.date(year, 1, 1), households=10, technician_name="吴农技（演示）"
    )
    with django_capture_on_commit_callbacks(execute=True):
        svc.visit_log(
            actor=wujin, assignment=a1, date=dt.date(year, 3, 2), households_visited=5, content="水稻病虫害防治"
        )
        svc.visit_log(
            actor=wujin, assignment=a1, date=dt.date(year, 4, 2), households_visited=4, content="测土配方施肥"
        )
    # Two visits by one technician count once; the second technician has none yet
    assert value("AGRI_TECHNICIANS_VILLAGE", "320412", year) == 1
    assert TargetStatus.objects.get(target__plan=plan, target__code="T10", org_unit__code="320412").current == 1
    v = svc.visit_log(actor=wujin, assignment=a2, date=dt.date(year, 5, 2), households_visited=3, content="果树修剪")
    assert value("AGRI_TECHNICIANS_VILLAGE", "320412", year) == 2
    svc.visit_delete(actor=wujin, visit=v)
    assert value("AGRI_TECHNICIANS_VILLAGE", "320412", year) == 1
    # Another district's officer cannot log visits here
    with pytest.raises(PermissionDenied):
        svc.visit_log(actor=users["xinbei"], assignment=a1, date=dt.date(year, 6, 1), content="x")
    # An assignment must name an expert or a technician, and point at a town or village
    with pytest.raises(InputError, match="二选一"):
        svc.assignment_create(actor=wujin, org_unit=town, start=dt.date(year, 1, 1))
    with pytest.raises(InputError, match="镇"):
        svc.assignment_create(
            actor=wujin, org_unit=OrgUnit.objects.get(code="320412"), start=dt.date(year, 1, 1), technician_name="x"
        )


def test_calendar_defaults_and_office_only_edits(users: dict[str, Any], plan: Any) -> None:
    days = svc.calendar_seed_year(actor=users["office"], year=2026)
    by = {d.code: d for d in days}
    # 全国科普日 in the third week of September, 防灾减灾日 12 May, 世界气象日 23 March, 科技活动周 in May
    assert by["sci-day"].start.month == 9 and 15 <= by["sci-day"].end.day <= 22
    assert (by["disaster-day"].start, by["meteorology-day"].start) == (dt.date(2026, 5, 12), dt.date(2026, 3, 23))
    assert by["tech-week"].start.month == 5
    with pytest.raises(PermissionDenied):
        svc.campaign_day_save(
            actor=users["wujin"], year=2026, code="x", name_zh="x", start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2)
        )
    with pytest.raises(InputError, match="结束日期早于开始日期"):
        svc.campaign_day_save(
            actor=users["office"], year=2026, code="x", name_zh="x", start=dt.date(2026, 1, 2), end=dt.date(2026, 1, 1)
        )


def test_event_validation_names_each_field(users: dict[str, Any], plan: Any) -> None:
    now = timezone.now()
    with pytest.raises(InputError) as info:
        svc.event_create(
            actor=users["wujin"],
            org_unit=OrgUnit.objects.get(code="320412"),
            title="",
            kind="training",
            training_kind="",
            organiser="x",
            venue="y",
            starts_at=now,
            ends_at=now - dt.timedelta(hours=1),
        )
    assert any("活动名称" in e for e in info.value.errors)
    assert any("结束时间" in e for e in info.value.errors)
    assert any("培训类别" in e for e in info.value.errors)
    assert not Event.objects.exists()


def test_cancelling_a_training_takes_its_counts_back(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    wujin = users["wujin"]
    event = make_event(wujin)
    reg = walk_in(wujin, event, "13522223333")
    check_in(wujin, reg)
    svc.registrations_certify(actor=wujin, event=event, registrations=[reg])
    assert (value("SCI_COUNSELLORS_TRAINED", "320412", year), value("SCI_EVENTS_HELD", "320412", year)) == (1, 1)
    svc.event_cancel(actor=wujin, event=event)
    assert (value("SCI_COUNSELLORS_TRAINED", "320412", year), value("SCI_EVENTS_HELD", "320412", year)) == (0, 0)
    assert value("SCI_EVENT_ATTENDANCE", "320412", year) == 0
    with pytest.raises(PermissionDenied):
        svc.event_cancel(actor=users["xinbei"], event=make_event(wujin))


def test_city_level_events_count_in_the_city_total(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    office, wujin = users["office"], users["wujin"]
    for user, unit in ((office, "320400"), (wujin, "320412")):
        event = make_event(user, unit, kind="event")
        reg = walk_in(user, event, f"1370000{unit[-4:]}")
        check_in(user, reg)
    assert value("SCI_EVENT_ATTENDANCE", "320412", year) == 1
    assert value("SCI_EVENT_ATTENDANCE", "320400", year) == 2


def test_event_setting_is_stored_updated_audited_and_validated(users: dict[str, Any], plan: Any) -> None:
    wujin = users["wujin"]
    now = timezone.now()
    base = {
        "org_unit": OrgUnit.objects.get(code="320412"),
        "title": "防溺水安全课",
        "kind": "event",
        "organiser": "区科协",
        "venue": "湖塘实验小学",
        "starts_at": now,
        "ends_at": now + dt.timedelta(hours=2),
    }
    event = svc.event_create(actor=wujin, setting="school", **base)
    event.refresh_from_db()
    assert event.setting == "school" and event.get_setting_display() == "进学校"
    assert AuditEntry.objects.filter(action="events.event_create", object_id=str(event.pk)).count() == 1
    # No setting: stored empty (the field is optional)
    assert svc.event_create(actor=wujin, **base).setting == ""
    # An edit changes it, audited; an unknown value is refused, naming the field, and changes nothing
    svc.event_update(actor=wujin, event=event, setting="family")
    event.refresh_from_db()
    assert event.setting == "family"
    entry = AuditEntry.objects.filter(action="events.event_update", object_id=str(event.pk)).latest("id")
    assert "setting" in str(entry.changes)
    with pytest.raises(InputError, match="面向场景（五进）") as info:
        svc.event_update(actor=wujin, event=event, setting="street")
    assert "street" in info.value.errors[0]
    event.refresh_from_db()
    assert event.setting == "family"
    with pytest.raises(InputError, match="面向场景（五进）"):
        svc.event_create(actor=wujin, setting="进学校", **base)  # the label is not the stored value
    assert Event.objects.count() == 2
    # The check names the row it was given, like the other checks
    errors = svc.clean_event({**base, "setting": "street"}, "第 7 行 ")
    assert len(errors) == 1 and errors[0].startswith("第 7 行 面向场景（五进）：") and "street" in errors[0]
