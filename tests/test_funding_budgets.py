"""Science budgets: entry in 元/万元 stored in fen, unit-slip refusal, review without self-approval,
district scope, per-capita indicators moving on approve/change, Excel import/export."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.funding import excel, services
from kepu.funding.models import Budget
from kepu.plans.models import Observation

pytestmark = pytest.mark.django_db


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def obs(code: str, unit_code: str, year: int) -> float | None:
    o = Observation.objects.filter(indicator__code=code, org_unit__code=unit_code, year=year,
                                   status=Observation.Status.APPROVED).first()
    return o.value if o else None


def approved(users: dict[str, Any], code: str, amount: str, unit_name: str = "万元", year: int = 2026) -> Budget:
    officer = users["wujin"] if code.startswith("320412") else users["office"]
    b = services.budget_save(actor=officer, org_unit=unit(code), year=year, amount=amount, unit=unit_name)
    services.budget_submit(actor=officer, budget=b)
    reviewer = users["reviewer"] if officer != users["reviewer"] else users["office"]
    return services.budget_approve(actor=reviewer, budget=b)


def test_amount_is_stored_in_fen_from_either_unit(users: dict[str, Any]) -> None:
    b = services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="512.5", unit="万元")
    assert b.amount_fen == 512_5000_00
    b2 = services.budget_save(actor=users["office"], org_unit=unit("320400"), year=2026, amount="12,000,000.50",
                              unit="元")
    assert b2.amount_fen == 1_200_000_050
    entry = AuditEntry.objects.filter(action="funding.budget_create", object_id=str(b.pk)).get()
    assert entry.changes["amount_yuan"] == [None, "5125000.00"]


def test_wan_typed_as_yuan_is_refused_with_the_reason(users: dict[str, Any]) -> None:
    # 武进区 budgets about 500 万元; typed as "500" 元 it would be 0.0004 元 per resident
    with pytest.raises(InputError) as e:
        services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500", unit="元")
    assert "武进区" in str(e.value) and "可能把万元填成了元" in str(e.value)
    assert not Budget.objects.exists()


def test_yuan_typed_as_wan_is_refused(users: dict[str, Any]) -> None:
    with pytest.raises(InputError) as e:
        services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="5000000", unit="万元")
    assert "可能把元填成了万元" in str(e.value)
    assert not Budget.objects.exists()


def test_unit_without_population_is_checked_against_its_previous_year(users: dict[str, Any]) -> None:
    town = OrgUnit.objects.filter(parent__code="320412", level="town", population__isnull=True).first()
    assert town is not None
    services.budget_save(actor=users["wujin"], org_unit=town, year=2025, amount="30", unit="万元")
    with pytest.raises(InputError) as e:
        services.budget_save(actor=users["wujin"], org_unit=town, year=2026, amount="300000", unit="万元")
    assert "上一年" in str(e.value)
    services.budget_save(actor=users["wujin"], org_unit=town, year=2026, amount="33", unit="万元")


def test_malformed_amount_and_unit(users: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="金额须为数字"):
        services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="五百", unit="万元")
    with pytest.raises(InputError, match="金额单位"):
        services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500", unit="千元")
    with pytest.raises(InputError, match="精确到分"):
        services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500.0000001",
                             unit="万元")


def test_district_officer_cannot_enter_another_district(users: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        services.budget_save(actor=users["wujin"], org_unit=unit("320411"), year=2026, amount="400", unit="万元")
    assert not Budget.objects.exists()


def test_nobody_approves_their_own_budget(users: dict[str, Any]) -> None:
    b = services.budget_save(actor=users["office"], org_unit=unit("320400"), year=2026, amount="2000", unit="万元")
    services.budget_submit(actor=users["office"], budget=b)
    with pytest.raises(PermissionDenied, match="自己"):
        services.budget_approve(actor=users["office"], budget=b)
    b.refresh_from_db()
    assert b.status == Budget.Status.SUBMITTED
    assert obs("SCI_FUNDING_PER_CAPITA", "320400", 2026) is None


def test_district_officer_cannot_approve(users: dict[str, Any]) -> None:
    b = services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500", unit="万元")
    services.budget_submit(actor=users["wujin"], budget=b)
    with pytest.raises(PermissionDenied):
        services.budget_approve(actor=users["xinbei"], budget=b)
    with pytest.raises(PermissionDenied):
        services.budget_approve(actor=users["wujin"], budget=b)


def test_approving_a_budget_moves_per_capita_for_district_and_city(users: dict[str, Any]) -> None:
    assert obs("SCI_FUNDING_PER_CAPITA", "320412", 2026) is None
    approved(users, "320412", "638.7435")  # 6,387,435 元 for 1,277,487 residents = 5 元
    assert obs("SCI_FUNDING_PER_CAPITA", "320412", 2026) == pytest.approx(5.0)
    assert obs("SCI_FUNDING_PER_CAPITA", "320400", 2026) == pytest.approx(6_387_435 / 5_278_121, rel=1e-4)
    approved(users, "320400", "1000")  # the city's own budget joins the city figure, not Wujin's
    assert obs("SCI_FUNDING_PER_CAPITA", "320412", 2026) == pytest.approx(5.0)
    assert obs("SCI_FUNDING_PER_CAPITA", "320400", 2026) == pytest.approx(16_387_435 / 5_278_121, rel=1e-4)


def test_growth_and_change_of_an_approved_budget(users: dict[str, Any]) -> None:
    b25 = approved(users, "320412", "638.7435", year=2025)
    b26 = approved(users, "320412", "766.4922", year=2026)  # 6 元 per resident
    assert obs("SCI_FUNDING_GROWTH", "320412", 2026) == pytest.approx(20.0)
    with pytest.raises(InputError, match="原因"):
        services.budget_change(actor=users["reviewer"], budget=b25, amount="300", unit="万元", reason=" ")
    services.budget_change(actor=users["reviewer"], budget=b25, amount="766.4922", unit="万元", reason="预算调整")
    assert obs("SCI_FUNDING_PER_CAPITA", "320412", 2025) == pytest.approx(6.0)
    assert obs("SCI_FUNDING_GROWTH", "320412", 2026) == pytest.approx(0.0)  # next year's base moved too
    entry = AuditEntry.objects.filter(action="funding.budget_change").get()
    assert entry.changes["amount_yuan"] == ["6387435.00", "7664922.00"] and entry.comment == "预算调整"
    assert b26.status == Budget.Status.APPROVED


def test_returned_budget_is_corrected_and_resubmitted(users: dict[str, Any]) -> None:
    b = services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500", unit="万元")
    services.budget_submit(actor=users["wujin"], budget=b)
    services.budget_return(actor=users["reviewer"], budget=b, comment="缺少部门明细")
    services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="520", unit="万元")
    b.refresh_from_db()
    assert (b.status, b.amount_fen) == (Budget.Status.RETURNED, 520_0000_00)


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_is_all_or_nothing_and_names_rows(users: dict[str, Any]) -> None:
    content = _xlsx([
        ["年度", "单位代码", "部门代码", "金额", "金额单位", "备注"],
        [2026, "320412", "", 500, "万元", "区本级"],
        [2026, "320412", "", 520, "万元", "重复"],
        [2026, "320411", "", 400, "万元", "新北"],
        [2026, "999999", "", 1, "元", ""],
        [2025, "320412", "", 5000000, "万元", "元填成了万元"],
    ])
    with pytest.raises(InputError) as e:
        excel.budgets_import(actor=users["wujin"], content=content, name="budgets.xlsx")
    text = "\n".join(e.value.errors)
    assert "第 3 行" in text and "重复" in text
    assert "第 4 行" in text and "无权" in text
    assert "第 5 行" in text and "999999" in text
    assert "第 6 行" in text and "可能把元填成了万元" in text
    assert not Budget.objects.exists()


def test_import_then_export_round_trip(users: dict[str, Any]) -> None:
    content = _xlsx([
        ["年度", "单位代码", "金额", "金额单位", "备注"],
        [2026, "320412", 5_000_000, "元", "区本级"],
        [2025, "320412", "480", "万元", ""],
    ])
    made = excel.budgets_import(actor=users["wujin"], content=content, name="budgets.xlsx")
    assert sorted(b.amount_fen for b in made) == [480_0000_00, 500_0000_00]
    ws = load_workbook(io.BytesIO(excel.budgets_export(users["wujin"]))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:2] == ("年度", "单位代码")
    assert {(r[0], r[1], Decimal(str(r[4]))) for r in rows[1:]} == {
        (2026, "320412", Decimal("5000000")), (2025, "320412", Decimal("4800000"))}
    assert excel.budgets_export(users["xinbei"]) != b"" and len(
        list(load_workbook(io.BytesIO(excel.budgets_export(users["xinbei"]))).active.iter_rows())) == 1


def test_malformed_file_is_refused(users: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        excel.budgets_import(actor=users["wujin"], content=b"not a spreadsheet", name="budgets.xlsx")
    with pytest.raises(InputError, match="缺少列"):
        excel.budgets_import(actor=users["wujin"], content=_xlsx([["年", "单位"], [2026, "320412"]]), name="b.xlsx")
    assert not Budget.objects.exists()


def test_department_line_by_its_reporter(users: dict[str, Any]) -> None:
    from kepu.core.models import Department

    edu = Department.objects.get(code="cz-edu", region__code="320400")
    line = services.budget_save(actor=users["edu"], org_unit=unit("320400"), department=edu, year=2026,
                                amount="120", unit="万元", note="市教育局科普经费")
    assert line.department == edu
    other = Department.objects.exclude(code="cz-edu").filter(region__code="320400").first()
    with pytest.raises(PermissionDenied):
        services.budget_save(actor=users["edu"], org_unit=unit("320400"), department=other, year=2026,
                             amount="120", unit="万元")
    with pytest.raises(PermissionDenied):
        services.budget_save(actor=users["edu"], org_unit=unit("320400"), year=2026, amount="1200", unit="万元")
    # a department line next to the city's own budget: both count in the city's per-capita figure
    services.budget_submit(actor=users["edu"], budget=line)
    services.budget_approve(actor=users["reviewer"], budget=line)
    approved(users, "320400", "1000")
    assert obs("SCI_FUNDING_PER_CAPITA", "320400", 2026) == pytest.approx(11_200_000 / 5_278_121, rel=1e-4)


def test_spending_report_review_and_unit_slip(users: dict[str, Any]) -> None:
    from kepu.funding.models import SpendingReport

    b = approved(users, "320412", "500", year=2025)
    with pytest.raises(InputError, match="请检查金额单位"):
        services.spending_report_submit(actor=users["wujin"], budget=b, unit="元",
                                        lines={"activities": "2000000000", "talent": "1"})
    with pytest.raises(InputError, match="金额须为数字"):
        services.spending_report_submit(actor=users["wujin"], budget=b, unit="万元", lines={"activities": "两百"})
    assert not SpendingReport.objects.exists()
    with pytest.raises(PermissionDenied):
        services.spending_report_submit(actor=users["xinbei"], budget=b, unit="万元", lines={"activities": "200"})
    report = services.spending_report_submit(actor=users["wujin"], budget=b, unit="万元",
                                             lines={"activities": "200", "facilities": "150.5", "media": ""})
    assert report.total_fen == 350_5000_00
    with pytest.raises(PermissionDenied):
        services.spending_report_review(actor=users["wujin"], report=report, accept=True)
    services.spending_report_review(actor=users["reviewer"], report=report, accept=True)
    report.refresh_from_db()
    assert report.status == SpendingReport.Status.ACCEPTED
    assert AuditEntry.objects.filter(action="funding.spending_submit").get().changes == {
        "activities": [None, "2000000.00"], "facilities": [None, "1505000.00"]}
