"""Excel for spending reports (round trip, all-or-nothing with row errors, wrong unit refused, district
scope, audited, submitted never approved) and the project-fund export (scoped like the fund pages)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from conftest import PASSWORD
from kepu.community.services import expert_create
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import AuditEntry, OrgUnit
from kepu.funding import excel, services
from kepu.funding.models import Budget, SpendingReport

pytestmark = pytest.mark.django_db
HEAD = ["年度", "单位代码", "单位名称", "部门代码", "支出类别", "金额", "金额单位", "备注"]


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def approved(users: dict[str, Any], code: str, officer: str, amount: str = "500") -> Budget:
    b = services.budget_save(actor=users[officer], org_unit=unit(code), year=2026, amount=amount, unit="万元")
    services.budget_submit(actor=users[officer], budget=b)
    return services.budget_approve(actor=users["reviewer"], budget=b)


def _xlsx(rows: list[list[Any]], head: list[str] = HEAD) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(head)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _client(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_spending_import_export_round_trip_and_audit(users: dict[str, Any]) -> None:
    b = approved(users, "320412", "wujin")
    made = excel.spending_import(actor=users["wujin"], content=_xlsx([
        [2026, "320412", "", "", "科普活动", "120", "万元", "上半年"],
        [2026, "320412", "", "", "talent", "300000", "元", ""],
    ]), name="s.xlsx")
    assert len(made) == 1
    r = made[0]
    assert r.status == SpendingReport.Status.SUBMITTED and r.budget == b and r.submitted_by == users["wujin"]
    assert {ln.category: ln.amount_fen for ln in r.lines.all()} == {"activities": 120_0000_00, "talent": 30_0000_00}
    assert AuditEntry.objects.filter(action="funding.spending_submit", object_id=str(r.pk)).exists()
    # A district officer cannot accept it; the office cannot accept a report it imported itself.
    with pytest.raises(PermissionDenied):
        services.spending_report_review(actor=users["wujin"], report=r, accept=True)
    approved(users, "320400", "office", amount="2000")
    own = excel.spending_import(actor=users["office"], content=_xlsx([
        [2026, "320400", "", "", "科普活动", "100", "万元", ""]]), name="city.xlsx")[0]
    with pytest.raises(PermissionDenied, match="自己"):
        services.spending_report_review(actor=users["office"], report=own, accept=True)
    own.refresh_from_db()
    assert own.status == SpendingReport.Status.SUBMITTED
    exported = excel.spending_export(users["wujin"])  # 武进区's report only
    rows = [list(x) for x in load_workbook(io.BytesIO(exported)).active.iter_rows(values_only=True)]
    assert rows[0][:8] == HEAD
    assert sorted((x[4], x[5], x[6]) for x in rows[1:]) == [("科普人才培养", 300000.0, "元"),
                                                             ("科普活动", 1200000.0, "元")]
    again = excel.spending_import(actor=users["wujin"], content=exported, name="again.xlsx")
    assert again[0].pk == r.pk and SpendingReport.objects.filter(budget=b).count() == 1
    assert {ln.category: ln.amount_fen for ln in again[0].lines.all()} == {"activities": 120_0000_00,
                                                                           "talent": 30_0000_00}


def test_spending_import_updates_a_returned_report_never_an_accepted_one(users: dict[str, Any]) -> None:
    b = approved(users, "320412", "wujin")
    sheet = _xlsx([[2026, "320412", "", "", "科普活动", "100", "万元", ""]])
    r = excel.spending_import(actor=users["wujin"], content=sheet, name="a.xlsx")[0]
    services.spending_report_review(actor=users["reviewer"], report=r, accept=False, comment="请补充人才培养")
    fixed = excel.spending_import(actor=users["wujin"], content=_xlsx([
        [2026, "320412", "", "", "科普活动", "100", "万元", ""],
        [2026, "320412", "", "", "科普人才培养", "20", "万元", ""]]), name="b.xlsx")[0]
    assert fixed.pk == r.pk and fixed.status == SpendingReport.Status.SUBMITTED and fixed.reviewed_by is None
    assert fixed.lines.count() == 2
    entry = AuditEntry.objects.filter(action="funding.spending_submit", object_id=str(r.pk)).order_by("-pk").first()
    assert entry is not None and "talent" in entry.changes and "status" in entry.changes
    services.spending_report_review(actor=users["reviewer"], report=fixed, accept=True)
    newer = excel.spending_import(actor=users["wujin"], content=sheet, name="c.xlsx")[0]
    assert newer.pk != r.pk and SpendingReport.objects.filter(budget=b).count() == 2
    r.refresh_from_db()
    assert r.status == SpendingReport.Status.ACCEPTED and r.lines.count() == 2


def test_spending_import_all_or_nothing_with_row_errors(users: dict[str, Any]) -> None:
    approved(users, "320412", "wujin")
    with pytest.raises(InputError) as exc:
        excel.spending_import(actor=users["wujin"], content=_xlsx([
            [2026, "320412", "", "", "科普活动", "100", "万元", ""],      # good
            [2026, "320412", "", "", "吃饭", "1", "万元", ""],            # unknown category
            [2026, "320412", "", "", "科普资源开发", "五百", "万元", ""],  # not a number
            [2026, "320412", "", "", "科普资源开发", "5", "千元", ""],     # unknown unit
            [2025, "320412", "", "", "科普活动", "1", "万元", ""],        # no budget that year
            [2026, "320412", "", "", "科普活动", "1", "万元", ""],        # duplicate of row 2
        ]), name="bad.xlsx")
    errs = exc.value.errors
    assert any(e.startswith("第 3 行 支出类别") for e in errs)
    assert any(e.startswith("第 4 行") and "数字" in e for e in errs)
    assert any(e.startswith("第 5 行") and "元" in e and "万元" in e for e in errs)
    assert any(e.startswith("第 6 行") and "2025" in e for e in errs)
    assert any(e.startswith("第 7 行") and "第 2 行" in e for e in errs)
    assert not SpendingReport.objects.exists()


def test_spending_in_wrong_unit_refused(users: dict[str, Any]) -> None:
    approved(users, "320412", "wujin", amount="500")
    with pytest.raises(InputError, match="请检查金额单位") as exc:  # 元 typed as 万元: 3,000,000 万元
        excel.spending_import(actor=users["wujin"], content=_xlsx([
            [2026, "320412", "", "", "科普活动", "3000000", "万元", ""],
            [2026, "320412", "", "", "其他", "10", "万元", ""]]), name="unit.xlsx")
    assert "第 2、3 行" in exc.value.errors[0]
    assert not SpendingReport.objects.exists()


def test_spending_scope_refused_across_districts(users: dict[str, Any]) -> None:
    approved(users, "320412", "wujin")
    approved(users, "320411", "xinbei")
    with pytest.raises(InputError) as exc:
        excel.spending_import(actor=users["wujin"], content=_xlsx([
            [2026, "320412", "", "", "科普活动", "10", "万元", ""],
            [2026, "320411", "", "", "科普活动", "10", "万元", ""]]), name="x.xlsx")
    assert any(e.startswith("第 3 行") and "无权" in e for e in exc.value.errors)
    assert not SpendingReport.objects.exists()
    excel.spending_import(actor=users["wujin"], content=_xlsx([
        [2026, "320412", "", "", "科普活动", "10", "万元", ""]]), name="ok.xlsx")
    rows = list(load_workbook(io.BytesIO(excel.spending_export(users["xinbei"]))).active.iter_rows(values_only=True))
    assert len(rows) == 1  # 新北区 does not see 武进区's spending


def test_spending_page_upload_and_links(users: dict[str, Any]) -> None:
    approved(users, "320412", "wujin")
    c = _client(users["wujin"])
    page = c.get("/funding/").content.decode()
    assert 'data-testid="spending-import"' in page and "/funding/spending.xlsx" in page
    up = SimpleUploadedFile("s.xlsx", _xlsx([[2026, "320412", "", "", "科普活动", "10", "万元", ""]]))
    r = c.post("/funding/", {"action": "spending_import", "file": up})
    assert r.status_code == 302 and SpendingReport.objects.count() == 1
    assert c.get("/funding/spending.xlsx").content[:2] == b"PK"


@pytest.fixture
def fund(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    districts = OrgUnit.objects.filter(parent__code="320400", level="district")
    call = services.call_create(
        actor=users["office"], org_unit=unit("320400"), title="2026 年科普基金项目（演示）", budget="100", unit="万元",
        opens=dt.date(2026, 3, 1), closes=dt.date(2026, 12, 31), eligible_units=districts)
    a, b = make_user("expert_a"), make_user("expert_b")
    expert_create(actor=users["office"], name="周教授（演示）", organisation="常州大学", org_unit=unit("320400"),
                  user=a)
    expert_create(actor=users["office"], name="钱研究员（演示）", organisation="常州工学院", org_unit=unit("320400"),
                  user=b)
    wu = services.application_submit(actor=users["wujin"], call=call, title="乡村科普大篷车（演示）",
                                     applicant_organisation="武进区科技馆", org_unit=unit("320412"), amount="40",
                                     unit="万元", today=dt.date(2026, 6, 1))
    xb = services.application_submit(actor=users["xinbei"], call=call, title="新北科普研学（演示）",
                                     applicant_organisation="新北区图书馆", org_unit=unit("320411"), amount="20",
                                     unit="万元", today=dt.date(2026, 6, 1))
    for expert, score in ((a, 80), (b, 90)):
        rv = services.review_assign(actor=users["reviewer"], application=wu, reviewer=expert)
        services.review_score(actor=expert, review=rv, score=score, recommend=True)
    award = services.award_decide(actor=users["office"], application=wu, amount="35", unit="万元")
    services.completion_submit(actor=users["wujin"], award=award, summary="完成 20 场", spent="34.5", unit="万元")
    return {"wu": wu, "xb": xb, "a": a, "b": b}


def _fund_rows(user: Any) -> list[dict[str, Any]]:
    ws = load_workbook(io.BytesIO(excel.fund_export(user)))["科普基金项目"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_fund_export_content_and_scope(users: dict[str, Any], fund: dict[str, Any]) -> None:
    office = {r["项目名称"]: r for r in _fund_rows(users["office"])}
    assert set(office) == {"乡村科普大篷车（演示）", "新北科普研学（演示）"}
    row = office["乡村科普大篷车（演示）"]
    assert (row["申请金额（元）"], row["已评分"], row["平均分"], row["资助金额（元）"], row["结项支出（元）"]) == (
        400000, 2, 85, 350000, 345000)
    assert row["结项状态"] == "待验收"
    # A district officer sees only their district's applications.
    assert [r["项目名称"] for r in _fund_rows(users["xinbei"])] == ["新北科普研学（演示）"]
    # An expert sees only what they are assigned, and only their own score.
    mine = _fund_rows(fund["a"])
    assert [(r["项目名称"], r["已评分"], r["平均分"]) for r in mine] == [("乡村科普大篷车（演示）", 1, 80)]
    c = _client(users["wujin"])
    assert "/funding/fund.xlsx" in c.get("/funding/fund/").content.decode()
    assert c.get("/funding/fund.xlsx").content[:2] == b"PK"


def test_cli_spending_import_and_fund_export(users: dict[str, Any], fund: dict[str, Any], tmp_path: Any) -> None:
    from django.core.management import CommandError, call_command

    approved(users, "320412", "wujin")
    src = tmp_path / "s.xlsx"
    src.write_bytes(_xlsx([[2026, "320412", "", "", "科普活动", "10", "千元", ""]]))
    with pytest.raises(CommandError):
        call_command("funding", "import", str(src), "--user", "wujin", "--what", "spending")
    assert not SpendingReport.objects.exists()
    src.write_bytes(_xlsx([[2026, "320412", "", "", "科普活动", "10", "万元", ""]]))
    call_command("funding", "import", str(src), "--user", "wujin", "--what", "spending")
    assert SpendingReport.objects.get().status == SpendingReport.Status.SUBMITTED
    out = tmp_path / "fund.xlsx"
    call_command("funding", "export", str(out), "--user", "xinbei", "--what", "fund")
    ws = load_workbook(out)["科普基金项目"]
    assert [r[2] for r in ws.iter_rows(min_row=2, values_only=True)] == ["新北科普研学（演示）"]


def test_reviewer_exports_spending_to_review(users: dict[str, Any]) -> None:
    approved(users, "320412", "wujin")
    excel.spending_import(actor=users["wujin"], content=_xlsx([
        [2026, "320412", "", "", "科普活动", "10", "万元", ""]]), name="s.xlsx")
    c = _client(users["reviewer"])
    assert "/funding/spending.xlsx" in c.get("/funding/").content.decode()
    ws = load_workbook(io.BytesIO(c.get("/funding/spending.xlsx").content)).active
    assert [r[1] for r in ws.iter_rows(min_row=2, values_only=True)] == ["320412"]
