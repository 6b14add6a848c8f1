from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictFloat

# Codes of plans, indicators and org units as the plan and region files allow them; checking the
# shape here keeps NUL bytes, slashes and kilobyte strings away from the database.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
PlanCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["changzhou-2021-2035"])]
IndicatorCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["SCI_COUNSELLORS_TRAINED"])]
UnitCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["320412"])]
TargetCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64, examples=["T07"])]
# Wide enough for any plan; the plan's own years are checked against the plan.
Year = Annotated[int, Field(ge=1900, le=2200, examples=[2024])]
ObservationId = Annotated[int, Field(ge=1, le=2**63 - 1, examples=[1])]
# Free text a person typed: bounded, and without the NUL byte PostgreSQL cannot store.
Text = Annotated[str, Field(max_length=4000, pattern=r"^[^\x00]*$")]
ObservationStatus = Literal["draft", "submitted", "approved", "returned"]
TargetStatusValue = Literal["met", "not_distinguishable", "on_track", "at_risk", "off_track", "no_data"]


class PlanOut(Schema):
    code: str
    name_zh: str
    name_en: str
    region: str
    start_year: int
    end_year: int
    version: int


class BaselinePointOut(Schema):
    year: int
    value: float


class BaselineOut(Schema):
    year: int
    value: float
    history: list[BaselinePointOut] = []


class TargetOut(Schema):
    code: str
    name_zh: str
    name_en: str
    kind: str
    value: float
    unit: str
    deadline_year: int | None
    per: str | None
    org_unit: str
    responsible_units: list[str]
    baseline: BaselineOut | None
    indicator: str
    denominator: str | None = Field(description="The region file's denominator the target is split by, if any.")
    allocations: dict[str, float] = Field(description="Each org unit's part of the target, by org-unit code.")


class StatusOut(Schema):
    target: str
    org_unit: str
    target_value: float
    evaluation_year: int
    current: float | None
    current_year: int | None
    achieved_pct: float | None
    required_pace: float | None
    actual_pace: float | None
    projected: float | None
    low: float | None
    high: float | None
    probability: float | None = Field(description="Before the deadline: P(value at the deadline >= target).")
    ci_low: float | None = Field(
        description="Past the deadline, when the value judged is a survey estimate: its 95% confidence interval."
    )
    ci_high: float | None = Field(
        description="Past the deadline, when the value judged is a survey estimate: its 95% confidence interval."
    )
    status: TargetStatusValue = Field(
        description="not_distinguishable: past the deadline, a survey estimate below the target whose 95% "
        "confidence interval contains the target."
    )
    rule: str


class ObservationOut(Schema):
    id: int
    indicator: str
    org_unit: str
    year: int
    quarter: int
    value: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    status: str
    comment: str
    review_comment: str
    source: str


class ObservationIn(Schema):
    plan: PlanCode
    indicator: IndicatorCode
    org_unit: UnitCode
    year: Year
    quarter: int = Field(0, ge=0, le=4)
    # Strict: a lax float would also take a numeric string of any length (past the string's maxLength) and
    # true/false as 1/0; a number arrives as a JSON number, anything else as the bounded string.
    value: StrictFloat | Annotated[str, Field(max_length=64, pattern=r"^[^\x00]*$")]
    comment: Text = ""
    submit: StrictBool = True


class ReviewIn(Schema):
    comment: Text = ""


class SharesIn(Schema):
    shares: dict[UnitCode, float] = Field(description="Each district's share in percent; they must sum to 100.")
    comment: Text = ""


class Page(Schema):
    count: int
    items: list[ObservationOut]
