"""Funding in the API: budgets (enter, submit, approve/return, change), per-capita figures, the project
fund (calls, applications, expert reviews, awards). The same services and scope as the pages: a
district officer reaches only their district's budgets and applications, an expert only the reviews
they are assigned, and nobody approves or awards their own submission. Amounts are strings in the
unit given (元 or 万元) and answered in 元."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool

from kepu.core.errors import PermissionDenied
from kepu.core.models import Department, OrgUnit
from kepu.core.scope import actor
from kepu.funding import selectors, services
from kepu.funding.models import Budget, CompletionReport, FundApplication, FundAward, FundReview, SpendingReport
from kepu.funding.money import yuan

router = Router(tags=["funding"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Unit = Literal["元", "万元"]
Amount = Annotated[str, Field(max_length=30, examples=["512.5"])]


class FundPage(Schema):
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None


class BudgetOut(Schema):
    id: int
    org_unit: str
    org_unit_name: str
    department: str | None
    year: int
    amount_yuan: str
    status: Literal["draft", "submitted", "approved", "returned"]
    note: str
    created_by: str | None
    approved_by: str | None


class BudgetPage(Schema):
    count: int
    items: list[BudgetOut]


class BudgetIn(Schema):
    org_unit: Annotated[str, Field(max_length=32)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    amount: Amount
    unit: Unit
    department: Annotated[str, Field(max_length=40)] | None = None
    note: Annotated[str, Field(max_length=300)] = ""


class CommentIn(Schema):
    comment: Annotated[str, Field(max_length=300)] = ""


class ChangeIn(Schema):
    amount: Amount
    unit: Unit
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class PerCapitaOut(Schema):
    org_unit: str
    approved_yuan: str
    per_capita_yuan: float | None
    growth_percent: float | None
    population: int | None
    population_is_estimate: bool


def _budget(user: User, budget_id: int) -> Budget:
    b = selectors.budget_for(user, budget_id)
    if b is None:
        raise Http404(f"No budget {budget_id} in your scope.")
    return b


@router.get("/funding/budgets", response=BudgetPage, summary="Science budgets in your scope")
def budget_list(request: HttpRequest, page: Query[FundPage]) -> dict[str, Any]:
    qs = selectors.budgets_visible(actor(request), year=page.year)
    return {"count": qs.count(), "items": [selectors.budget_row(b) for b in qs[page.offset:page.offset + page.limit]]}


@router.post("/funding/budgets", response={201: BudgetOut}, summary="Enter or correct a budget")
def budget_save(request: HttpRequest, body: BudgetIn) -> Status:
    """Creates a draft (or corrects a draft/returned one). A figure that looks like the wrong unit
    (万元 typed as 元 or the reverse) is refused with 422 naming the unit and the reason."""
    user = actor(request)
    unit = OrgUnit.objects.filter(code=body.org_unit).first()
    if unit is None:
        raise Http404(f"No org unit {body.org_unit}.")
    dept = None
    if body.department:
        dept = Department.objects.filter(code=body.department).first()
        if dept is None:
            raise Http404(f"No department {body.department}.")
    b = services.budget_save(actor=user, org_unit=unit, department=dept, year=body.year, amount=body.amount,
                             unit=body.unit, note=body.note)
    return Status(201, selectors.budget_row(b))


@router.post("/funding/budgets/{budget_id}/change", response=BudgetOut, summary="Adjust an approved budget")
def budget_change(request: HttpRequest, budget_id: Id, body: ChangeIn) -> dict[str, Any]:
    user = actor(request)
    b = services.budget_change(actor=user, budget=_budget(user, budget_id), amount=body.amount, unit=body.unit,
                               reason=body.reason)
    return selectors.budget_row(b)


@router.get("/funding/per-capita", response=list[PerCapitaOut], summary="Funding per resident and growth")
def per_capita(request: HttpRequest, year: Annotated[int, Field(ge=2000, le=2100)]) -> list[dict[str, Any]]:
    """For the city and each district in your scope: approved budgets, per resident, growth over the year before."""
    user = actor(request)
    city = OrgUnit.objects.filter(level="city").order_by("code").first()
    if city is None:
        return []
    return [{"org_unit": r.unit.code, "approved_yuan": str(yuan(r.approved_fen)), "per_capita_yuan": r.per_capita,
             "growth_percent": r.growth, "population": r.population, "population_is_estimate": r.estimate}
            for r in selectors.per_capita_table(user, city=city, year=year)]


# -- project fund -------------------------------------------------------------------------------------


class CallOut(Schema):
    id: int
    title: str
    budget_yuan: str
    awarded_yuan: str
    opens: dt.date
    closes: dt.date
    eligible_units: list[str]


class FundApplicationOut(Schema):
    id: int
    call: int
    title: str
    applicant_organisation: str
    org_unit: str
    amount_asked_yuan: str
    status: Literal["submitted", "awarded", "declined"]
    award_yuan: str | None


class FundApplicationIn(Schema):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    applicant_organisation: Annotated[str, Field(min_length=1, max_length=200)]
    org_unit: Annotated[str, Field(max_length=32)]
    amount: Amount
    unit: Unit
    summary: Annotated[str, Field(max_length=5000)] = ""


class FundReviewOut(Schema):
    id: int
    application: int
    application_title: str
    applicant_organisation: str
    reviewer: str
    score: int | None
    recommend: bool | None
    comment: str


class FundAssignIn(Schema):
    reviewer: Annotated[str, Field(max_length=150, description="the expert's username")]


class FundScoreIn(Schema):
    score: Annotated[int, Field(ge=0, le=100)]
    recommend: StrictBool
    comment: Annotated[str, Field(max_length=5000)] = ""


class AwardIn(Schema):
    amount: Amount
    unit: Unit


def _app_out(a: FundApplication) -> dict[str, Any]:
    award = getattr(a, "award", None) if a.status == FundApplication.Status.AWARDED else None
    return {"id": a.pk, "call": a.call_id, "title": a.title, "applicant_organisation": a.applicant_organisation,
            "org_unit": a.org_unit.code, "amount_asked_yuan": str(yuan(a.amount_asked_fen)), "status": a.status,
            "award_yuan": str(yuan(award.amount_fen)) if award else None}


def _review_out(r: FundReview) -> dict[str, Any]:
    return {"id": r.pk, "application": r.application_id, "application_title": r.application.title,
            "applicant_organisation": r.application.applicant_organisation, "reviewer": r.reviewer.get_username(),
            "score": r.score, "recommend": r.recommend, "comment": r.comment}


def _application(user: User, application_id: int) -> FundApplication:
    a = selectors.applications_visible(user).filter(pk=application_id).first()
    if a is None:
        raise Http404(f"No application {application_id} in your scope.")
    return a


@router.get("/funding/calls", response=list[CallOut], summary="Project fund calls")
def call_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Everyone with a role, and experts with an assigned review, read the calls; others get 403."""
    if not selectors.fund_access(actor(request)):
        raise PermissionDenied("Only staff with a role and assigned experts see the science fund.")
    return [{"id": c.pk, "title": c.title, "budget_yuan": str(yuan(c.budget_fen)),
             "awarded_yuan": str(yuan(selectors.awarded_total_fen(c))), "opens": c.opens, "closes": c.closes,
             "eligible_units": [u.code for u in c.eligible_units.all()]}
            for c in selectors.calls_visible(actor(request))]


@router.post("/funding/calls/{call_id}/applications", response={201: FundApplicationOut}, summary="Apply to a call")
def application_submit(request: HttpRequest, call_id: Id, body: FundApplicationIn) -> Status:
    user = actor(request)
    call = selectors.calls_visible(user).filter(pk=call_id).first()
    unit = OrgUnit.objects.filter(code=body.org_unit).first()
    if call is None or unit is None:
        raise Http404("No such call or org unit.")
    a = services.application_submit(actor=user, call=call, title=body.title, org_unit=unit, amount=body.amount,
                                    applicant_organisation=body.applicant_organisation, unit=body.unit,
                                    summary=body.summary)
    return Status(201, _app_out(a))


@router.get("/funding/applications", response=list[FundApplicationOut], summary="Applications you may see")
def application_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_app_out(a) for a in selectors.applications_visible(actor(request))[:1000]]


@router.post("/funding/applications/{application_id}/reviewers", response={201: FundReviewOut},
             summary="Assign an expert reviewer")
def review_assign(request: HttpRequest, application_id: Id, body: FundAssignIn) -> Status:
    """Refused (422) when the expert works for the applicant organisation (conflict of interest)."""
    user = actor(request)
    app = _application(user, application_id)
    reviewer = User.objects.filter(username=body.reviewer).first()
    if reviewer is None:
        raise Http404(f"No user {body.reviewer}.")
    return Status(201, _review_out(services.review_assign(actor=user, application=app, reviewer=reviewer)))


@router.get("/funding/reviews", response=list[FundReviewOut], summary="The reviews you are assigned")
def my_reviews(request: HttpRequest) -> list[dict[str, Any]]:
    return [_review_out(r) for r in selectors.reviews_assigned(actor(request))]


@router.post("/funding/reviews/{review_id}/score", response=FundReviewOut, summary="Score an assigned review")
def review_score(request: HttpRequest, review_id: Id, body: FundScoreIn) -> dict[str, Any]:
    user = actor(request)
    review = selectors.reviews_assigned(user).filter(pk=review_id).first()
    if review is None:
        raise Http404(f"No review {review_id} assigned to you.")
    return _review_out(services.review_score(actor=user, review=review, score=body.score,
                                             recommend=body.recommend, comment=body.comment))


@router.post("/funding/applications/{application_id}/award", response=FundApplicationOut, summary="Fund an application")
def award(request: HttpRequest, application_id: Id, body: AwardIn) -> dict[str, Any]:
    """Refused (422) when the call's awards would exceed its budget; 403 for one's own application."""
    user = actor(request)
    app = _application(user, application_id)
    services.award_decide(actor=user, application=app, amount=body.amount, unit=body.unit)
    return _app_out(selectors.applications_visible(user).get(pk=app.pk))


# -- calls, spending and completion reports ----------------------------------------------------------


class CallIn(Schema):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    budget: Amount
    unit: Unit
    opens: dt.date
    closes: dt.date
    eligible_units: Annotated[list[Annotated[str, Field(max_length=32)]], Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=5000)] = ""


class SpendingIn(Schema):
    unit: Unit
    lines: dict[Literal["activities", "facilities", "talent", "resources", "media", "other"], Amount]
    note: Annotated[str, Field(max_length=300)] = ""


class SpendingOut(Schema):
    id: int
    budget: int
    status: Literal["submitted", "accepted", "returned"]
    lines_yuan: dict[str, str]
    total_yuan: str


class FundDecisionIn(Schema):
    accept: StrictBool
    comment: Annotated[str, Field(max_length=300)] = ""


class CompletionIn(Schema):
    summary: Annotated[str, Field(min_length=1, max_length=5000)]
    spent: Amount
    unit: Unit


class CompletionOut(Schema):
    id: int
    application: int
    status: Literal["submitted", "accepted", "returned"]
    spent_yuan: str


def _spending_out(r: SpendingReport) -> dict[str, Any]:
    lines = {ln.category: str(yuan(ln.amount_fen)) for ln in r.lines.all()}
    return {"id": r.pk, "budget": r.budget_id, "status": r.status, "lines_yuan": lines,
            "total_yuan": str(yuan(r.total_fen))}


def _completion_out(r: CompletionReport) -> dict[str, Any]:
    return {"id": r.pk, "application": r.award.application_id, "status": r.status,
            "spent_yuan": str(yuan(r.spent_fen))}


@router.post("/funding/calls", response={201: CallOut}, summary="Open a call of the science fund (office)")
def call_create(request: HttpRequest, body: CallIn) -> Status:
    user = actor(request)
    city = OrgUnit.objects.filter(level="city").order_by("code").first()
    units = list(OrgUnit.objects.filter(code__in=body.eligible_units))
    if city is None or len(units) != len(set(body.eligible_units)):
        raise Http404("No such org unit.")
    c = services.call_create(actor=user, org_unit=city, title=body.title, budget=body.budget, unit=body.unit,
                             opens=body.opens, closes=body.closes, eligible_units=units,
                             description=body.description)
    return Status(201, {"id": c.pk, "title": c.title, "budget_yuan": str(yuan(c.budget_fen)), "awarded_yuan": "0.00",
                        "opens": c.opens, "closes": c.closes, "eligible_units": [u.code for u in units]})


@router.get("/funding/budgets/{budget_id}/spending", response=list[SpendingOut], summary="A budget's spending reports")
def spending_list(request: HttpRequest, budget_id: Id) -> list[dict[str, Any]]:
    user = actor(request)
    budget = _budget(user, budget_id)
    return [_spending_out(r) for r in selectors.spending_reports_visible(user).filter(budget=budget)]


@router.post("/funding/budgets/{budget_id}/spending", response={201: SpendingOut}, summary="Report spending")
def spending_submit(request: HttpRequest, budget_id: Id, body: SpendingIn) -> Status:
    """Actual spending by category against an approved budget (amounts in `unit`)."""
    user = actor(request)
    lines = {str(k): v for k, v in body.lines.items()}
    r = services.spending_report_submit(actor=user, budget=_budget(user, budget_id), lines=lines,
                                        unit=body.unit, note=body.note)
    return Status(201, _spending_out(r))


@router.post("/funding/spending/{report_id}/review", response=SpendingOut, summary="Accept or return spending")
def spending_review(request: HttpRequest, report_id: Id, body: FundDecisionIn) -> dict[str, Any]:
    user = actor(request)
    report = selectors.spending_reports_visible(user).filter(pk=report_id).first()
    if report is None:
        raise Http404(f"No spending report {report_id} in your scope.")
    return _spending_out(services.spending_report_review(actor=user, report=report, accept=body.accept,
                                                         comment=body.comment))


@router.post("/funding/applications/{application_id}/completion", response={201: CompletionOut},
             summary="Submit a completion report")
def completion_submit(request: HttpRequest, application_id: Id, body: CompletionIn) -> Status:
    user = actor(request)
    app = _application(user, application_id)
    award = FundAward.objects.filter(application=app).first()
    if award is None:
        raise Http404(f"Application {application_id} was not funded.")
    r = services.completion_submit(actor=user, award=award, summary=body.summary, spent=body.spent, unit=body.unit)
    return Status(201, _completion_out(r))


@router.post("/funding/completion/{report_id}/review", response=CompletionOut, summary="Accept or return completion")
def completion_review(request: HttpRequest, report_id: Id, body: FundDecisionIn) -> dict[str, Any]:
    user = actor(request)
    report = CompletionReport.objects.select_related("award").filter(pk=report_id).first()
    if report is None or not selectors.applications_visible(user).filter(pk=report.award.application_id).exists():
        raise Http404(f"No completion report {report_id} in your scope.")
    return _completion_out(services.completion_review(actor=user, report=report, accept=body.accept,
                                                      comment=body.comment))


# last: its {step} would otherwise take the paths above (…/change, …/spending)
@router.post("/funding/budgets/{budget_id}/{step}", response=BudgetOut, summary="Submit, approve or return a budget")
def budget_step(request: HttpRequest, budget_id: Id, step: Literal["submit", "approve", "return"],
                body: CommentIn) -> dict[str, Any]:
    user = actor(request)
    b = _budget(user, budget_id)
    if step == "submit":
        b = services.budget_submit(actor=user, budget=b)
    elif step == "approve":
        b = services.budget_approve(actor=user, budget=b, comment=body.comment)
    else:
        b = services.budget_return(actor=user, budget=b, comment=body.comment)
    return selectors.budget_row(b)
