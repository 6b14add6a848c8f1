"""What the events app contributes to plan indicators, derived from its records (nobody types them in):

- each training kind's certified attendees → the matching training indicator (科技辅导员 →
  SCI_COUNSELLORS_TRAINED, 现代农业经营主体带头人 → AGRI_BUSINESS_LEADERS *and* HQ_FARMERS …), counted per
  district of the event and per year of its start; a person certified twice in a year for the same
  indicator counts once (in each district where it happened, once in the city). A person is their
  phone's match key, else their citizen account;
- events with at least one check-in → SCI_EVENTS_HELD; check-ins → SCI_EVENT_ATTENDANCE (人次);
- distinct agricultural technicians with at least one logged village visit in the year →
  AGRI_TECHNICIANS_VILLAGE (target T10), per district of the visited village.

Services call the publish functions inside the transaction that changed the records, so certifying,
decertifying, checking in and logging a visit move the target in the same commit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from kepu.core.models import OrgUnit
from kepu.events.models import Assignment, CheckIn, Event, Registration, TrainingKind, Visit
from kepu.plans.derived import publish_by_district

K = TrainingKind
TRAINING_INDICATORS: dict[str, tuple[str, ...]] = {
    K.COUNSELLORS: ("SCI_COUNSELLORS_TRAINED",),
    K.HQ_FARMERS: ("HQ_FARMERS",),
    K.AGRI_LEADERS: ("AGRI_BUSINESS_LEADERS", "HQ_FARMERS"),
    K.RURAL_TALENT: ("RURAL_TECH_TALENT",),
    K.SKILLED_WORKERS: ("SKILLED_WORKERS_TRAINED",),
    K.HIGH_SKILLED: ("HIGH_SKILLED_TALENT",),
    K.CHIEF_TECHNICIANS: ("CHIEF_TECHNICIANS",),
    K.ELDERLY_SMARTPHONE: (),
    K.OFFICIALS: (),
}
EVENT_CODES = ("SCI_EVENTS_HELD", "SCI_EVENT_ATTENDANCE")
TECHNICIAN_CODE = "AGRI_TECHNICIANS_VILLAGE"
SOURCE = "events"


def kinds_for(code: str) -> list[str]:
    return [k for k, codes in TRAINING_INDICATORS.items() if code in codes]


def training_codes() -> list[str]:
    return sorted({c for codes in TRAINING_INDICATORS.values() for c in codes})


def year_range(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def _events_of(city: OrgUnit, year: int) -> QuerySet[Event]:
    lo, hi = year_range(year)
    return Event.objects.filter(starts_at__gte=lo, starts_at__lt=hi, district__path__startswith=city.path)


def certified_counts(*, city: OrgUnit, year: int, code: str, also: Iterable[str] = ()) -> tuple[dict[str, int], int]:
    """Distinct certified people for a training indicator: per district code (every district with a
    training of a matching kind that year, 0 included) and city-wide."""
    events = _events_of(city, year).filter(kind=Event.Kind.TRAINING, training_kind__in=kinds_for(code))
    named = set(events.values_list("district__code", flat=True)) | set(also)
    by: dict[str, set[str]] = defaultdict(set)
    held = events.exclude(status=Event.Status.CANCELLED)
    rows = Registration.objects.filter(event__in=held, certified_at__isnull=False).values_list(
        "event__district__code", "phone_key", "citizen_user_id"
    )
    for district, phone_key, user_id in rows:
        by[district].add(f"p:{phone_key}" if phone_key else f"u:{user_id}")
    city_people = set().union(*by.values()) if by else set()
    return {d: len(by.get(d, set())) for d in named}, len(city_people)


def event_counts(*, city: OrgUnit, year: int, also: Iterable[str] = ()) -> dict[str, dict[str, int]]:
    """SCI_EVENTS_HELD and SCI_EVENT_ATTENDANCE per district code (every district with an event that year)."""
    events = _events_of(city, year)
    named = set(events.values_list("district__code", flat=True)) | set(also)
    held = {d: 0 for d in named}
    attendance = {d: 0 for d in named}
    checkins = CheckIn.objects.filter(registration__event__in=events.exclude(status=Event.Status.CANCELLED))
    seen: set[int] = set()
    for district, event_id in checkins.values_list("registration__event__district__code", "registration__event_id"):
        attendance[district] += 1
        if event_id not in seen:
            seen.add(event_id)
            held[district] += 1
    return {"SCI_EVENTS_HELD": held, "SCI_EVENT_ATTENDANCE": attendance}


def technician_counts(*, city: OrgUnit, year: int) -> tuple[dict[str, int], int]:
    """Distinct technicians with ≥1 logged visit in the year, per district of the assignment (every
    district with a visit or an assignment running that year, 0 included) and city-wide."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    running = Assignment.objects.filter(district__path__startswith=city.path, start__lte=end).exclude(end__lt=start)
    named = set(running.values_list("district__code", flat=True))
    by: dict[str, set[str]] = defaultdict(set)
    visits = Visit.objects.filter(date__gte=start, date__lte=end, assignment__district__path__startswith=city.path)
    for district, user_id, name in visits.values_list(
        "assignment__district__code", "assignment__expert_user_id", "assignment__technician_name"
    ):
        by[district].add(f"u:{user_id}" if user_id else f"n:{name.strip()}")
        named.add(district)
    people = set().union(*by.values()) if by else set()
    return {d: len(by.get(d, set())) for d in named}, len(people)


def _city_of(unit: OrgUnit) -> OrgUnit | None:
    from kepu.plans.derived import ancestor_at

    return ancestor_at(unit, OrgUnit.Level.CITY)


def training_publish(*, unit: OrgUnit, year: int, training_kind: str, also: Iterable[str] = ()) -> None:
    """Publish the indicators a training kind feeds, for the city of `unit`."""
    city = _city_of(unit)
    if city is None:
        return
    _publish_codes(city, year, TRAINING_INDICATORS.get(training_kind, ()), also)


def _publish_codes(city: OrgUnit, year: int, codes: tuple[str, ...] | list[str], also: Iterable[str] = ()) -> None:
    for code in codes:
        by, city_value = certified_counts(city=city, year=year, code=code, also=also)
        publish_by_district(
            code=code,
            year=year,
            city=city,
            by_district=by,
            city_value=city_value,
            source=SOURCE,
            note=f"科普活动平台 {year} 年培训结业认定人数（同一人同年同一指标只计一次）",
        )


def _city_total(by: dict[str, int], city: OrgUnit) -> float | None:
    """None (the city is the sum of its districts' approved values) unless the city itself held events:
    then the city's value is every event on Kepu, its own included."""
    return float(sum(by.values())) if city.code in by else None


def attendance_publish(*, unit: OrgUnit, year: int, also: Iterable[str] = ()) -> None:
    """`also`: district codes to publish even without events (0), e.g. one an event moved away from."""
    city = _city_of(unit)
    if city is None:
        return
    counts = event_counts(city=city, year=year, also=also)
    publish_by_district(
        code="SCI_EVENTS_HELD",
        year=year,
        city=city,
        by_district=counts["SCI_EVENTS_HELD"],
        city_value=_city_total(counts["SCI_EVENTS_HELD"], city),
        source=SOURCE,
        note=f"科普活动平台 {year} 年有签到记录的活动场次",
    )
    publish_by_district(
        code="SCI_EVENT_ATTENDANCE",
        year=year,
        city=city,
        by_district=counts["SCI_EVENT_ATTENDANCE"],
        city_value=_city_total(counts["SCI_EVENT_ATTENDANCE"], city),
        source=SOURCE,
        note=f"科普活动平台 {year} 年活动签到人次",
    )


def technicians_publish(*, unit: OrgUnit, year: int) -> None:
    city = _city_of(unit)
    if city is None:
        return
    by, city_value = technician_counts(city=city, year=year)
    publish_by_district(
        code=TECHNICIAN_CODE,
        year=year,
        city=city,
        by_district=by,
        city_value=city_value,
        source=SOURCE,
        note=f"科技特派员和农技员 {year} 年有入户指导记录的人数（去重）",
    )


def publish_all(*, city: OrgUnit, year: int) -> None:
    """Everything for one year (demo seeding and `kepu events publish`)."""
    attendance_publish(unit=city, year=year)
    _publish_codes(city, year, training_codes())
    technicians_publish(unit=city, year=year)
