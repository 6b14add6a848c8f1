"""The project fund: call → application → expert review (conflict of interest refused, reviewers see
only their assignments) → award (not over the call's budget, not one's own) → completion report."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kepu.community.services import expert_create
from kepu.core.errors import InputError, PermissionDenied
from kepu.core.models import OrgUnit
from kepu.funding import services
from kepu.funding.models import CompletionReport, FundAward, FundCall, FundReview
from kepu.funding.selectors import applications_visible, reviews_assigned, reviews_of

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


@pytest.fixture
def call(users: dict[str, Any]) -> FundCall:
    districts = OrgUnit.objects.filter(parent__code="320400", level="district")
    return services.call_create(
        actor=users["office"], org_unit=unit("320400"), title="2026 年科普基金项目（演示）", budget="100", unit="万元",
        opens=dt.date(2026, 3, 1), closes=dt.date(2026, 12, 31), eligible_units=districts)


@pytest.fixture
def experts(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    a, b = make_user("expert_a"), make_user("expert_b")
    expert_create(actor=users["office"], name="周教授（演示）", organisation="常州大学", org_unit=unit("320400"),
                  user=a)
    expert_create(actor=users["office"], name="吴研究员（演示）", organisation="武进区科技馆", org_unit=unit("320412"),
                  user=b)
    return {"a": a, "b": b}


def apply(users: dict[str, Any], call: FundCall, amount: str = "40", org: str = "武进区科技馆") -> Any:
    return services.application_submit(
        actor=users["wujin"], call=call, title="乡村科普大篷车（演示）", applicant_organisation=org,
        org_unit=unit("320412"), amount=amount, unit="万元", today=TODAY)


def test_full_run_call_to_completion(users: dict[str, Any], call: FundCall, experts: dict[str, Any]) -> None:
    app = apply(users, call)
    review = services.review_assign(actor=users["reviewer"], application=app, reviewer=experts["a"])
    services.review_score(actor=experts["a"], review=review, score=88, recommend=True, comment="可行")
    award = services.award_decide(actor=users["office"], application=app, amount="35", unit="万元")
    assert award.amount_fen == 35_0000_00
    report = services.completion_submit(actor=users["wujin"], award=award, summary="完成 20 场", spent="34.5",
                                        unit="万元")
    with pytest.raises(PermissionDenied):
        services.completion_review(actor=users["wujin"], report=report, accept=True)
    services.completion_review(actor=users["reviewer"], report=report, accept=True)
    report.refresh_from_db()
    assert report.status == CompletionReport.Status.ACCEPTED


def test_conflicted_reviewer_is_refused(users: dict[str, Any], call: FundCall, experts: dict[str, Any]) -> None:
    app = apply(users, call, org="武进区科技馆（新馆）")
    with pytest.raises(InputError, match="利益冲突"):
        services.review_assign(actor=users["reviewer"], application=app, reviewer=experts["b"])
    assert not FundReview.objects.exists()


def test_non_expert_cannot_be_assigned(users: dict[str, Any], call: FundCall) -> None:
    app = apply(users, call)
    with pytest.raises(InputError, match="不是科普人才库中的专家"):
        services.review_assign(actor=users["reviewer"], application=app, reviewer=users["viewer_wujin"])


def test_reviewers_see_only_their_assignments(users: dict[str, Any], call: FundCall, experts: dict[str, Any]) -> None:
    app1 = apply(users, call)
    app2 = apply(users, call, org="武进区图书馆")
    services.review_assign(actor=users["reviewer"], application=app1, reviewer=experts["a"])
    services.review_assign(actor=users["reviewer"], application=app2, reviewer=experts["b"])
    assert [r.application for r in reviews_assigned(experts["a"])] == [app1]
    assert list(applications_visible(experts["a"])) == [app1]
    assert [r.reviewer for r in reviews_of(experts["a"], app2)] == []
    other = FundReview.objects.get(application=app2)
    with pytest.raises(PermissionDenied):
        services.review_score(actor=experts["a"], review=other, score=10, recommend=False)
    assert list(applications_visible(users["xinbei"])) == []


def test_awards_cannot_exceed_the_call_budget(users: dict[str, Any], call: FundCall, experts: dict[str, Any]) -> None:
    apps = [apply(users, call, amount="60", org=f"武进区第{i}中学") for i in (1, 2)]
    for app in apps:
        r = services.review_assign(actor=users["reviewer"], application=app, reviewer=experts["a"])
        services.review_score(actor=experts["a"], review=r, score=80, recommend=True)
    services.award_decide(actor=users["office"], application=apps[0], amount="60", unit="万元")
    with pytest.raises(InputError, match="超出预算"):
        services.award_decide(actor=users["office"], application=apps[1], amount="60", unit="万元")
    assert FundAward.objects.count() == 1
    services.award_decide(actor=users["office"], application=apps[1], amount="40", unit="万元")


def test_nobody_awards_their_own_application(users: dict[str, Any], call: FundCall, experts: dict[str, Any]) -> None:
    app = services.application_submit(
        actor=users["office"], call=call, title="市本级项目", applicant_organisation="常州市科协",
        org_unit=unit("320412"), amount="10", unit="万元", today=TODAY)
    r = services.review_assign(actor=users["reviewer"], application=app, reviewer=experts["a"])
    services.review_score(actor=experts["a"], review=r, score=80, recommend=True)
    with pytest.raises(PermissionDenied, match="自己"):
        services.award_decide(actor=users["office"], application=app, amount="10", unit="万元")
    assert not FundAward.objects.exists()


def test_application_outside_window_or_scope(users: dict[str, Any], call: FundCall) -> None:
    with pytest.raises(InputError, match="不在申报期内"):
        services.application_submit(actor=users["wujin"], call=call, title="x", applicant_organisation="y",
                                    org_unit=unit("320412"), amount="1", unit="万元", today=dt.date(2027, 1, 5))
    with pytest.raises(PermissionDenied):
        services.application_submit(actor=users["wujin"], call=call, title="x", applicant_organisation="y",
                                    org_unit=unit("320411"), amount="1", unit="万元", today=TODAY)


def test_award_needs_a_score(users: dict[str, Any], call: FundCall) -> None:
    app = apply(users, call)
    with pytest.raises(InputError, match="专家评分"):
        services.award_decide(actor=users["office"], application=app, amount="10", unit="万元")
