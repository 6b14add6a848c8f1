"""Funding pages: a district officer sees and changes only their district's budgets; approval from the
page moves the indicator; wrong-unit entries show the reason; import errors are listed."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from kepu.community.services import expert_create
from kepu.core.models import OrgUnit
from kepu.funding import services
from kepu.funding.models import Budget, FundReview
from kepu.plans.models import Observation

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def test_budget_page_scope_across_districts(users: dict[str, Any]) -> None:
    mine = services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500", unit="万元",
                                note="武进区本级")
    theirs = services.budget_save(actor=users["xinbei"], org_unit=unit("320411"), year=2026, amount="400",
                                  unit="万元", note="新北区本级")
    page = client_for(users["wujin"]).get("/funding/?year=2026").content.decode()
    assert "武进区本级" in page and "新北区本级" not in page
    assert client_for(users["wujin"]).get(f"/funding/budgets/{theirs.pk}/").status_code == 404
    r = client_for(users["wujin"]).post("/funding/", {"action": "submit", "budget": theirs.pk})
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Budget.Status.DRAFT
    r = client_for(users["wujin"]).post("/funding/", {"action": "submit", "budget": mine.pk})
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Budget.Status.SUBMITTED
    # the officer sees no approve button on their own submission; the reviewer does
    button = f'data-testid="approve-{mine.pk}"'
    assert button not in client_for(users["wujin"]).get("/funding/?year=2026").content.decode()
    assert button in client_for(users["reviewer"]).get("/funding/?year=2026").content.decode()
    client_for(users["reviewer"]).post("/funding/", {"action": "approve", "budget": mine.pk})
    assert Observation.objects.filter(indicator__code="SCI_FUNDING_PER_CAPITA", org_unit__code="320412",
                                      year=2026).exists()


def test_wrong_unit_on_the_page_shows_the_reason(users: dict[str, Any]) -> None:
    c = client_for(users["wujin"])
    r = c.post("/funding/", {"action": "save", "org_unit": unit("320412").pk, "year": 2026, "amount": "500",
                             "unit": "元"}, follow=True)
    assert "可能把万元填成了元" in r.content.decode()
    assert not Budget.objects.exists()
    r = c.post("/funding/", {"action": "save", "org_unit": unit("320411").pk, "year": 2026, "amount": "500",
                             "unit": "万元"}, follow=True)
    assert "请选择您负责的单位" in r.content.decode()
    assert not Budget.objects.exists()


def test_import_errors_listed_on_the_page(users: dict[str, Any]) -> None:
    wb = Workbook()
    wb.active.append(["年度", "单位代码", "金额", "金额单位"])
    wb.active.append([2026, "320412", 500, "元"])
    buf = io.BytesIO()
    wb.save(buf)
    r = client_for(users["wujin"]).post("/funding/", {
        "action": "import", "file": SimpleUploadedFile("b.xlsx", buf.getvalue())}, follow=True)
    assert "第 2 行" in r.content.decode()
    assert not Budget.objects.exists()
    r = client_for(users["wujin"]).post("/funding/", {
        "action": "import", "file": SimpleUploadedFile("b.xlsx", b"garbage")}, follow=True)
    assert r.status_code == 200 and not Budget.objects.exists()


def test_export_only_in_scope(users: dict[str, Any]) -> None:
    services.budget_save(actor=users["xinbei"], org_unit=unit("320411"), year=2026, amount="400", unit="万元")
    r = client_for(users["wujin"]).get("/funding/budgets.xlsx")
    from openpyxl import load_workbook

    assert len(list(load_workbook(io.BytesIO(r.content)).active.iter_rows())) == 1


def test_citizen_or_anonymous_cannot_see_budgets(users: dict[str, Any], make_user: Any) -> None:
    assert Client().get("/funding/").status_code == 302
    assert client_for(make_user("plain")).get("/funding/").status_code == 403


def test_expert_sees_only_assigned_application(users: dict[str, Any], make_user: Any) -> None:
    call = services.call_create(actor=users["office"], org_unit=unit("320400"), title="基金", budget="50", unit="万元",
                                opens=dt.date(2026, 1, 1), closes=dt.date(2026, 12, 31),
                                eligible_units=[unit("320412")])
    app1 = services.application_submit(actor=users["wujin"], call=call, title="项目一", applicant_organisation="甲校",
                                       org_unit=unit("320412"), amount="10", unit="万元")
    app2 = services.application_submit(actor=users["wujin"], call=call, title="项目二", applicant_organisation="乙校",
                                       org_unit=unit("320412"), amount="10", unit="万元")
    expert = make_user("exp")
    expert_create(actor=users["office"], name="专家", organisation="常州大学", org_unit=unit("320400"), user=expert)
    services.review_assign(actor=users["office"], application=app1, reviewer=expert)
    c = client_for(expert)
    page = c.get("/funding/fund/").content.decode()
    assert "项目一" in page and "项目二" not in page
    assert c.get(f"/funding/fund/applications/{app2.pk}/").status_code == 404
    c.post(f"/funding/fund/applications/{app1.pk}/", {"action": "score", "score": "85", "recommend": "1"})
    assert FundReview.objects.get(application=app1).score == 85


def test_completion_report_from_the_page(users: dict[str, Any], make_user: Any) -> None:
    from kepu.funding.models import CompletionReport

    call = services.call_create(actor=users["office"], org_unit=unit("320400"), title="基金", budget="50", unit="万元",
                                opens=dt.date(2026, 1, 1), closes=dt.date(2026, 12, 31),
                                eligible_units=[unit("320412")])
    app = services.application_submit(actor=users["wujin"], call=call, title="项目", applicant_organisation="甲校",
                                      org_unit=unit("320412"), amount="10", unit="万元")
    expert = make_user("exp")
    expert_create(actor=users["office"], name="专家", organisation="常州大学", org_unit=unit("320400"), user=expert)
    review = services.review_assign(actor=users["office"], application=app, reviewer=expert)
    services.review_score(actor=expert, review=review, score=80, recommend=True)
    services.award_decide(actor=users["office"], application=app, amount="10", unit="万元")
    url = f"/funding/fund/applications/{app.pk}/"
    r = client_for(users["wujin"]).post(url, {"action": "completion", "summary": "完成", "spent": "500000",
                                               "unit": "万元"}, follow=True)
    assert "请检查金额单位" in r.content.decode() and not CompletionReport.objects.exists()
    client_for(users["wujin"]).post(url, {"action": "completion", "summary": "完成", "spent": "9.5", "unit": "万元"})
    report = CompletionReport.objects.get()
    client_for(users["wujin"]).post(url, {"action": "accept", "report": report.pk})
    report.refresh_from_db()
    assert report.status == "submitted"
    client_for(users["reviewer"]).post(url, {"action": "accept", "report": report.pk})
    report.refresh_from_db()
    assert report.status == "accepted"


def test_viewer_reads_own_district_only_and_fund_needs_a_role(users: dict[str, Any], make_user: Any) -> None:
    services.budget_save(actor=users["wujin"], org_unit=unit("320412"), year=2026, amount="500", unit="万元",
                         note="武进区本级")
    services.budget_save(actor=users["xinbei"], org_unit=unit("320411"), year=2026, amount="400", unit="万元",
                         note="新北区本级")
    page = client_for(users["viewer_wujin"]).get("/funding/?year=2026").content.decode()
    assert "武进区本级" in page and "新北区本级" not in page and 'data-testid="budget-form"' not in page
    plain = client_for(make_user("citizen1"))
    assert plain.get("/funding/fund/").status_code == 403
    assert plain.get("/api/funding/calls").status_code == 403
    assert plain.get("/api/funding/budgets").json()["count"] == 0
