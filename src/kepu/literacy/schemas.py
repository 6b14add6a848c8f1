"""Schemas of the literacy router: survey waves, their estimates and item statistics (read-only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field

from kepu.plans.schemas import CODE_PATTERN

WaveCode = Annotated[str, Field(pattern=CODE_PATTERN, max_length=40, examples=["cz-2025"])]
WaveStatus = Literal["imported", "estimated", "published"]


class WeightingOut(Schema):
    margins: list[str] = Field(description="Raking margins, e.g. district, sex|area (a joint margin).")
    converged: bool
    iterations: int
    kish_deff: float | None = Field(description="Kish design effect of the final weights.")
    trimmed: int = Field(description="Weights trimmed to the bounds, if trimming was asked for.")


class WaveOut(Schema):
    code: str
    name_zh: str
    name_en: str
    year: int
    region: str
    mode: str = Field(description="face_to_face, online_invited, mixed or opt_in.")
    fieldwork_start: dt.date | None
    fieldwork_end: dt.date | None
    design: dict[str, Any] = Field(description="The wave's description of its sampling design.")
    profile: str = Field(description="Code of the scoring profile that decides who 具备科学素质.")
    age_min: int
    age_max: int
    lonely_psu: str
    variance: Literal["taylor", "jkn"] = Field(
        description="How the estimates' standard errors are computed: Taylor linearisation, or the "
        "delete-one-PSU jackknife with every replicate re-raked."
    )
    weighting: WeightingOut | None
    status: WaveStatus = Field(
        description="imported (respondents only), estimated (not yet published) or published. "
        "Only the region's office sees waves that are not published."
    )
    published_at: dt.datetime | None


class WavePage(Schema):
    count: int
    items: list[WaveOut]


class EstimateOut(Schema):
    """One stored estimate of the literacy rate. A cell the presentation standard suppresses is
    `presentable: false` with its figures null (as the page shows "—"); `flags` say why."""

    variable: str = Field(description="overall, district, age_band, sex, area, education, key_group or town.")
    level: str
    unit: str | None = Field(description="The district whose respondents alone this domain uses; null: region-wide.")
    method: str = Field(description="direct (design-based) or fay_herriot (model-based, towns).")
    n: int
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    ci_logit_low: float | None
    ci_logit_high: float | None
    deff: float | None
    ci_kg_low: float | None
    ci_kg_high: float | None
    df: int | None
    n_eff: float | None
    flags: list[str]
    presentable: bool


class WaveEstimatesOut(Schema):
    wave: str
    unit: str = Field(description="Whose results these are: the region, or one district (its own respondents).")
    count: int
    items: list[EstimateOut]


class ItemStatOut(Schema):
    item: str
    dimension: str
    n: int = Field(description="Respondents whose form had the item.")
    difficulty: float | None = Field(description="Weighted share answering correctly.")
    discrimination: float | None = Field(description="Corrected item–total (point-biserial) correlation.")


class ItemStatsOut(Schema):
    wave: str
    sample_n: int = Field(description="Respondents in the headline's scope (probability sample, ages in scope).")
    count: int
    items: list[ItemStatOut]
