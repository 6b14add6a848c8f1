"""Monthly visitor counts from Excel: round trip, all-or-nothing with row errors, scope across districts,
audit entries, and SCI_VENUE_VISITS republished through the same service as the venue page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from conftest import PASSWORD
from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, OrgUnit
from kepu.facilities import services as svc
from kepu.facilities import transfer
from kepu.facilities.models import VisitCount

HEAD = ["场馆编号", "场馆名称", "年度", "月份", "接待人次"]


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEAD)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def venues(users: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, code, officer in (("wu", "320412", "wujin"), ("xb", "320411", "xinbei")):
        unit = OrgUnit.objects.get(code=code)
        out[key] = svc.venue_save(actor=users[officer], org_unit=unit, name=f"{unit.name_zh}科技馆（演示）",
                                  kind="museum", organisation="演示单位", opening_hours="9:00–17:00",
                                  open_days=[2, 3])
    return out


def _value(unit: str, year: int = 2025) -> float:
    from kepu.plans.models import Observation

    return Observation.objects.get(indicator__code="SCI_VENUE_VISITS", org_unit__code=unit, year=year,
                                   quarter=0, indicator__plan__parent__isnull=True).value


def test_import_records_audits_and_moves_sci_venue_visits(users: dict[str, Any], venues: dict[str, Any],
                                                         django_capture_on_commit_callbacks: Any) -> None:
    wu = venues["wu"]
    with django_capture_on_commit_callbacks(execute=True):
        n = transfer.visits_import(actor=users["wujin"], content=_xlsx([
            [wu.pk, wu.name, 2025, 3, 1200], [wu.pk, "", 2025, 4, 800]]), name="visits.xlsx")
    assert n == 2
    assert _value("320412") == 2000 and _value("320400") == 2000
    assert AuditEntry.objects.filter(action="facilities.visits", object_id=str(wu.pk)).count() == 2
    # Correcting a month through the import moves the indicator again.
    with django_capture_on_commit_callbacks(execute=True):
        transfer.visits_import(actor=users["wujin"], content=_xlsx([[wu.pk, "", 2025, 4, 300]]), name="fix.xlsx")
    assert _value("320412") == 1500
    # Round trip: the export reads back unchanged.
    exported = transfer.visits_export(users["wujin"])
    ws = load_workbook(io.BytesIO(exported)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == HEAD and rows[1:] == [[wu.pk, wu.name, 2025, 3, 1200], [wu.pk, wu.name, 2025, 4, 300]]
    with django_capture_on_commit_callbacks(execute=True):
        assert transfer.visits_import(actor=users["wujin"], content=exported, name="again.xlsx") == 2
    assert _value("320412") == 1500


def test_bad_rows_refuse_the_whole_file(users: dict[str, Any], venues: dict[str, Any]) -> None:
    wu = venues["wu"]
    with pytest.raises(InputError) as exc:
        transfer.visits_import(actor=users["wujin"], content=_xlsx([
            [wu.pk, "", 2025, 5, 100],          # good
            [wu.pk, "", 2025, 13, 100],         # month out of range (service refuses)
            [wu.pk, "", 2025, 6, "很多"],        # not a number
            [99999, "", 2025, 6, 10],           # no such venue
            [wu.pk, "", 2025, 5, 50],           # duplicate of row 2
        ]), name="bad.xlsx")
    errs = exc.value.errors
    assert any(e.startswith("第 3 行") and "月份" in e for e in errs)
    assert any(e.startswith("第 4 行 接待人次") for e in errs)
    assert any(e.startswith("第 5 行 场馆编号") and "99999" in e for e in errs)
    assert any(e.startswith("第 6 行") and "第 2 行" in e for e in errs)
    assert not VisitCount.objects.exists()
    assert not AuditEntry.objects.filter(action="facilities.visits").exists()


def test_other_districts_venue_refused(users: dict[str, Any], venues: dict[str, Any]) -> None:
    wu, xb = venues["wu"], venues["xb"]
    with pytest.raises(InputError) as exc:
        transfer.visits_import(actor=users["wujin"], content=_xlsx([
            [wu.pk, "", 2025, 1, 10], [xb.pk, "", 2025, 1, 10]]), name="x.xlsx")
    assert any(e.startswith("第 3 行 场馆编号") and "不在您的管理范围内" in e for e in exc.value.errors)
    assert not VisitCount.objects.exists()
    # The export of the other district's officer does not show 武进区's counts.
    svc.visits_record(actor=users["wujin"], venue=wu, year=2025, month=1, visitors=10)
    ws = load_workbook(io.BytesIO(transfer.visits_export(users["xinbei"]))).active
    assert ws.max_row == 1


def test_venue_page_links_and_upload(users: dict[str, Any], venues: dict[str, Any]) -> None:
    wu = venues["wu"]
    c = Client()
    assert c.login(username=users["wujin"].username, password=PASSWORD)
    page = c.get(f"/facilities/venues/{wu.pk}/").content.decode()
    assert 'data-testid="import-visits"' in page and "/facilities/export/visits.xlsx" in page
    upload = SimpleUploadedFile("v.xlsx", _xlsx([[wu.pk, "", 2025, 2, 42]]))
    r = c.post("/facilities/import/visits/", {"venue": wu.pk, "file": upload})
    assert r.status_code == 302 and r["Location"].endswith(f"/facilities/venues/{wu.pk}/")
    assert VisitCount.objects.get(venue=wu, year=2025, month=2).visitors == 42
    r = c.get("/facilities/export/visits.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
