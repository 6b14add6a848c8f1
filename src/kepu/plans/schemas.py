from __future__ import annotations

from ninja import Schema
from pydantic import Field


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
    probability: float | None
    status: str
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
    plan: str
    indicator: str
    org_unit: str
    year: int
    quarter: int = Field(0, ge=0, le=4)
    value: float | str
    comment: str = ""
    submit: bool = True


class ReviewIn(Schema):
    comment: str = ""


class Page(Schema):
    count: int
    items: list[ObservationOut]
