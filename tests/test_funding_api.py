"""The funding API enforces what the pages enforce: district scope, wrong-unit refusal, no
self-approval, conflict of interest, award within the call budget; reviewers see only their reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from kepu.community.services import expert_create
from kepu.core.models import OrgUnit
from kepu.funding import services
from kepu.funding.models import Budget, FundAward
from kepu.plans.models import Observation

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_budget_api_scope_units_and_approval(users: dict[str, Any]) -> None:
    wujin, xinbei, reviewer = client_for(users["wujin"]), client_for(users["xinbei"]), client_for(users["reviewer"])
    r = wujin.post("/api/funding/budgets", {"org_unit": "320412", "year": 2026, "amount": "500", "unit": "元"},
                   content_type="application/json")
    assert r.status_code == 422 and "可能把万元填成了元" in r.json()["detail"]
    r = wujin.post("/api/funding/budgets", {"org_unit": "320411", "year": 2026, "amount": "400", "unit": "万元"},
                   content_type="application/json")
    assert r.status_code == 403
    r = wujin.post("/api/funding/budgets", {"org_unit": "320412", "year": 2026, "amount": "638.7435", "unit": "万元"},
                   content_type="application/json")
    assert r.status_code == 201 and r.json()["amount_yuan"] == "6387435.00"
    bid = r.json()["id"]
    assert xinbei.get("/api/funding/budgets").json()["count"] == 0
    assert xinbei.post(f"/api/funding/budgets/{bid}/submit", {}, content_type="application/json").status_code == 404
    assert wujin.post(f"/api/funding/budgets/{bid}/submit", {}, content_type="application/json").status_code == 200
    assert wujin.post(f"/api/funding/budgets/{bid}/approve", {}, content_type="application/json").status_code == 403
    assert Budget.objects.get(pk=bid).status == "submitted"
    r = reviewer.post(f"/api/funding/budgets/{bid}/approve", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert Observation.objects.get(indicator__code="SCI_FUNDING_PER_CAPITA", org_unit__code="320412",
                                   year=2026).value == pytest.approx(5.0)
    rows = {r["org_unit"]: r for r in wujin.get("/api/funding/per-capita?year=2026").json()}
    assert set(rows) == {"320412"} and rows["320412"]["per_capita_yuan"] == pytest.approx(5.0)
    r = reviewer.post(f"/api/funding/budgets/{bid}/change", {"amount": "766.4922", "unit": "万元", "reason": "追加"},
                      content_type="application/json")
    assert r.status_code == 200 and r.json()["amount_yuan"] == "7664922.00"


def test_fund_api_conflict_budget_and_reviewer_view(users: dict[str, Any], make_user: Any) -> None:
    city = OrgUnit.objects.get(code="320400")
    call = services.call_create(actor=users["office"], org_unit=city, title="基金", budget="50", unit="万元",
                                opens=dt.date(2026, 1, 1), closes=dt.date(2026, 12, 31),
                                eligible_units=[OrgUnit.objects.get(code="320412")])
    a, b = make_user("exp_a"), make_user("exp_b")
    expert_create(actor=users["office"], name="甲", organisation="常州大学", org_unit=city, user=a)
    expert_create(actor=users["office"], name="乙", organisation="武进区科技馆", org_unit=city, user=b)
    wujin, office = client_for(users["wujin"]), client_for(users["office"])
    r = wujin.post(f"/api/funding/calls/{call.pk}/applications", {
        "title": "项目", "applicant_organisation": "武进区科技馆", "org_unit": "320412", "amount": "40", "unit": "万元",
    }, content_type="application/json")
    assert r.status_code == 201, r.content
    app_id = r.json()["id"]
    r = office.post(f"/api/funding/applications/{app_id}/reviewers", {"reviewer": "exp_b"},
                    content_type="application/json")
    assert r.status_code == 422 and "利益冲突" in r.json()["detail"]
    r = office.post(f"/api/funding/applications/{app_id}/reviewers", {"reviewer": "exp_a"},
                    content_type="application/json")
    assert r.status_code == 201
    rid = r.json()["id"]
    assert client_for(b).get("/api/funding/reviews").json() == []
    assert client_for(b).post(f"/api/funding/reviews/{rid}/score", {"score": 1, "recommend": False},
                              content_type="application/json").status_code == 404
    r = client_for(a).post(f"/api/funding/reviews/{rid}/score", {"score": 90, "recommend": True},
                           content_type="application/json")
    assert r.status_code == 200
    r = office.post(f"/api/funding/applications/{app_id}/award", {"amount": "60", "unit": "万元"},
                    content_type="application/json")
    assert r.status_code == 422 and "超出预算" in r.json()["detail"]
    assert not FundAward.objects.exists()
    r = office.post(f"/api/funding/applications/{app_id}/award", {"amount": "40", "unit": "万元"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["award_yuan"] == "400000.00"


def test_api_call_spending_and_completion(users: dict[str, Any], make_user: Any) -> None:
    office, wujin, reviewer = client_for(users["office"]), client_for(users["wujin"]), client_for(users["reviewer"])
    r = wujin.post("/api/funding/calls", {"title": "x", "budget": "10", "unit": "万元", "opens": "2026-01-01",
                                          "closes": "2026-12-31", "eligible_units": ["320412"]},
                   content_type="application/json")
    assert r.status_code == 403
    r = office.post("/api/funding/calls", {"title": "基金", "budget": "50", "unit": "万元", "opens": "2026-01-01",
                                           "closes": "2026-12-31", "eligible_units": ["320412"]},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["budget_yuan"] == "500000.00"
    call_id = r.json()["id"]
    b = services.budget_save(actor=users["wujin"], org_unit=OrgUnit.objects.get(code="320412"), year=2025,
                             amount="500", unit="万元")
    services.budget_submit(actor=users["wujin"], budget=b)
    services.budget_approve(actor=users["reviewer"], budget=b)
    r = wujin.post(f"/api/funding/budgets/{b.pk}/spending", {"unit": "万元", "lines": {"activities": "300"}},
                   content_type="application/json")
    assert r.status_code == 201 and r.json()["total_yuan"] == "3000000.00"
    rid = r.json()["id"]
    assert wujin.post(f"/api/funding/spending/{rid}/review", {"accept": True},
                      content_type="application/json").status_code == 403
    r = reviewer.post(f"/api/funding/spending/{rid}/review", {"accept": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert client_for(users["xinbei"]).get(f"/api/funding/budgets/{b.pk}/spending").status_code == 404
    # completion report of a funded application
    expert = make_user("exp_c")
    expert_create(actor=users["office"], name="丙", organisation="常州大学",
                  org_unit=OrgUnit.objects.get(code="320400"), user=expert)
    app_id = wujin.post(f"/api/funding/calls/{call_id}/applications", {
        "title": "项目", "applicant_organisation": "某校", "org_unit": "320412", "amount": "10", "unit": "万元",
    }, content_type="application/json").json()["id"]
    review_id = office.post(f"/api/funding/applications/{app_id}/reviewers", {"reviewer": "exp_c"},
                            content_type="application/json").json()["id"]
    client_for(expert).post(f"/api/funding/reviews/{review_id}/score", {"score": 80, "recommend": True},
                            content_type="application/json")
    office.post(f"/api/funding/applications/{app_id}/award", {"amount": "10", "unit": "万元"},
                content_type="application/json")
    r = wujin.post(f"/api/funding/applications/{app_id}/completion", {"summary": "完成", "spent": "9", "unit": "万元"},
                   content_type="application/json")
    assert r.status_code == 201
    r = reviewer.post(f"/api/funding/completion/{r.json()['id']}/review", {"accept": True},
                      content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
