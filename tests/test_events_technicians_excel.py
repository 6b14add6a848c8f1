"""Excel export of 科技特派员 assignments with their visits and import of visit logs (issue 10 points 5, 11):
round trip, all-or-nothing with every row error named, district scope, audit, and T10's indicator moves."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, OrgUnit
from kepu.events import excel
from kepu.events import services as svc
from kepu.events.models import Assignment, Visit
from kepu.plans.models import Observation, TargetStatus

pytestmark = pytest.mark.django_db
HEAD = excel.VISIT_COLUMNS


def xlsx(rows: list[list[Any]], title: str = "Sheet") -> bytes:
    wb = Workbook()
    wb.active.title = title
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def value(unit: str, year: int) -> float | None:
    obs = Observation.objects.filter(
        indicator__code="AGRI_TECHNICIANS_VILLAGE", org_unit__code=unit, year=year, quarter=0
    ).first()
    return None if obs is None else obs.value


def town(district: str) -> OrgUnit:
    t = OrgUnit.objects.filter(parent__code=district, level="town").order_by("code").first()
    assert t is not None
    return t


@pytest.fixture
def setup(users: dict[str, Any], plan: Any) -> dict[str, Any]:
    year = timezone.localdate().year
    wj, xb = town("320412"), town("320411")
    a1 = svc.assignment_create(actor=users["wujin"], org_unit=wj, start=dt.date(year, 1, 1), households=30,
                               technician_name="周农技（演示）")
    a2 = svc.assignment_create(actor=users["wujin"], org_unit=wj, start=dt.date(year, 1, 1), households=10,
                               technician_name="吴农技（演示）")
    ax = svc.assignment_create(actor=users["xinbei"], org_unit=xb, start=dt.date(year, 1, 1), households=8,
                               technician_name="钱农技（演示）")
    return {"year": year, "wj": wj, "xb": xb, "a1": a1, "a2": a2, "ax": ax}


def test_visit_import_moves_t10_is_audited_and_round_trips(
    users: dict[str, Any], plan: Any, setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    year, a1, a2, wj = setup["year"], setup["a1"], setup["a2"], setup["wj"]
    assert value("320412", year) is None
    content = xlsx([HEAD,
                    [a1.pk, f"{year}-03-02", wj.code, 5, "水稻病虫害防治"],
                    [a1.pk, dt.datetime(year, 4, 2), "", 4, "测土配方施肥"],  # a date cell; blank place = the town
                    [str(a2.pk), f"{year}/05/02", wj.code, 3, "果树修剪"]])
    with django_capture_on_commit_callbacks(execute=True):
        visits = excel.visits_import(actor=users["wujin"], content=content, name="visits.xlsx")
    assert len(visits) == 3
    assert Visit.objects.filter(assignment=a1).count() == 2 and Visit.objects.filter(assignment=a2).count() == 1
    assert Visit.objects.get(assignment=a1, date=dt.date(year, 4, 2)).village == wj
    # Two technicians with visits this year: T10's indicator and target status move, as on the page
    assert value("320412", year) == 2
    assert TargetStatus.objects.get(target__plan=plan, target__code="T10", org_unit__code="320412").current == 2
    entry = AuditEntry.objects.get(action="events.import_visits")
    assert entry.actor == users["wujin"]
    assert AuditEntry.objects.filter(action="events.visit_log").count() == 3

    # Export: assignments on one sheet, visits with the import's columns on 走访记录
    r = client(users["wujin"]).get("/events/technicians/export.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assignments = [list(x) for x in wb["派驻"].iter_rows(values_only=True)]
    assert assignments[0] == excel.ASSIGNMENT_COLUMNS
    by_id = {row[0]: row for row in assignments[1:]}
    assert by_id[a1.pk][1] == "周农技（演示）" and by_id[a1.pk][-1] == 2 and by_id[a1.pk][6] == 30
    visit_rows = [list(x) for x in wb[excel.VISIT_SHEET].iter_rows(values_only=True)]
    assert visit_rows[0][:5] == HEAD
    assert [a1.pk, f"{year}-03-02", wj.code, 5, "水稻病虫害防治"] in [row[:5] for row in visit_rows]
    assert len(visit_rows) == 4

    # Round trip: the exported workbook goes back in (the 走访记录 sheet is read, not the first one)
    Visit.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        again = excel.visits_import(actor=users["wujin"], content=r.content, name="technicians.xlsx")
    assert len(again) == 3
    assert sorted(Visit.objects.values_list("assignment_id", "date", "households_visited", "content")) == sorted(
        [(a1.pk, dt.date(year, 3, 2), 5, "水稻病虫害防治"), (a1.pk, dt.date(year, 4, 2), 4, "测土配方施肥"),
         (a2.pk, dt.date(year, 5, 2), 3, "果树修剪")])
    # …and a second time it is refused: those visits are already recorded
    with pytest.raises(InputError) as exc:
        excel.visits_import(actor=users["wujin"], content=r.content, name="technicians.xlsx")
    assert any(e.startswith("第 2 行 ") and "已经记录过" in e for e in exc.value.errors)
    assert Visit.objects.count() == 3


def test_visit_import_is_all_or_nothing_and_names_every_row(
    users: dict[str, Any], plan: Any, setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    year, a1, wj = setup["year"], setup["a1"], setup["wj"]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    content = xlsx([HEAD,
                    [a1.pk, f"{year}-03-02", wj.code, 5, "水稻病虫害防治"],       # good
                    [a1.pk, f"{year}-03-02", wj.code, 5, "水稻病虫害防治"],       # same as row 2
                    [999999, f"{year}-03-03", "", 1, "x"],                        # no such assignment
                    [a1.pk, "三月三日", "", 1, "x"],                              # bad date
                    [a1.pk, f"{year}-03-04", "", "五户", "x"],                    # bad households
                    [a1.pk, f"{year}-03-05", "320411", 1, "x"],                   # place outside the town
                    [a1.pk, f"{year}-03-06", "", 1, ""],                          # no content
                    [a1.pk, tomorrow.isoformat(), "", 1, "x"],                    # in the future
                    [a1.pk, f"{year}-03-07", "888888", 1, "x"]])                  # unknown place code
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InputError) as exc:
        excel.visits_import(actor=users["wujin"], content=content, name="bad.xlsx")
    errors = exc.value.errors
    assert any(e.startswith("第 3 行 ") and "第 2 行" in e for e in errors)
    assert any(e.startswith("第 4 行 派驻编号") and "999999" in e for e in errors)
    assert any(e.startswith("第 5 行 走访日期") for e in errors)
    assert any(e.startswith("第 6 行 走访户数") for e in errors)
    assert any(e.startswith("第 7 行 ") and "范围内" in e for e in errors)
    assert any(e.startswith("第 8 行 ") and "指导内容" in e for e in errors)
    assert any(e.startswith("第 9 行 ") and "晚于今天" in e for e in errors)
    assert any(e.startswith("第 10 行 走访地点代码") and "888888" in e for e in errors)
    assert not any(e.startswith("第 2 行") for e in errors)
    # Nothing written, nothing published, no import audited
    assert not Visit.objects.exists()
    assert value("320412", year) is None
    assert not AuditEntry.objects.filter(action__in=["events.import_visits", "events.visit_log"]).exists()
    # The page lists the errors and writes nothing
    r = client(users["wujin"]).post("/events/technicians/import/", {"file": io.BytesIO(content)}, follow=True)
    assert r.status_code == 200
    assert "第 5 行 走访日期" in r.content.decode()
    assert not Visit.objects.exists()
    # A file that is not a workbook, or lacks columns, is refused
    with pytest.raises(InputError):
        excel.visits_import(actor=users["wujin"], content=b"not a workbook", name="x.xlsx")
    with pytest.raises(InputError, match="派驻编号"):
        excel.visits_import(actor=users["wujin"], content=xlsx([["走访日期"], ["2026-03-02"]]), name="x.xlsx")


def test_visit_import_and_export_are_scoped_to_the_district(
    users: dict[str, Any], plan: Any, setup: dict[str, Any]
) -> None:
    year, a1, ax = setup["year"], setup["a1"], setup["ax"]
    # 新北's officer cannot log a visit on 武进's assignment: named as not found / out of remit
    with pytest.raises(InputError) as exc:
        excel.visits_import(actor=users["xinbei"], content=xlsx([HEAD, [a1.pk, f"{year}-03-02", "", 2, "x"]]),
                            name="x.xlsx")
    assert exc.value.errors[0].startswith("第 2 行 派驻编号") and "管理范围" in exc.value.errors[0]
    assert not Visit.objects.exists()
    svc.visit_log(actor=users["xinbei"], assignment=ax, date=dt.date(year, 3, 2), households_visited=2, content="葡萄")
    # 武进's export shows only 武进's assignments and visits
    wb = load_workbook(io.BytesIO(client(users["wujin"]).get("/events/technicians/export.xlsx").content))
    ids = [row[0] for row in wb["派驻"].iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted([a1.pk, setup["a2"].pk])
    assert list(wb[excel.VISIT_SHEET].iter_rows(min_row=2, values_only=True)) == []
    office = load_workbook(io.BytesIO(client(users["office"]).get("/events/technicians/export.xlsx").content))
    assert ax.pk in [row[0] for row in office["派驻"].iter_rows(min_row=2, values_only=True)]
    assert Assignment.objects.count() == 3


def test_technicians_page_links_export_and_import(users: dict[str, Any], setup: dict[str, Any]) -> None:
    html = client(users["wujin"]).get("/events/technicians/").content.decode()
    assert "/events/technicians/export.xlsx" in html and "/events/technicians/import/" in html
    page = client(users["wujin"]).get("/events/technicians/import/")
    assert page.status_code == 200 and "派驻编号" in page.content.decode()
    template = client(users["wujin"]).get("/events/technicians/import/?template=1")
    assert load_workbook(io.BytesIO(template.content)).active.cell(1, 1).value == "派驻编号"
