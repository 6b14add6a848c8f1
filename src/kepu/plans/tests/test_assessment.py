"""The annual district assessment: scoring, ranking, the PDF/XLSX renderings, requests and the CLI."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.utils import timezone
from pypdf import PdfReader

from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, OrgUnit
from kepu.core.services import region_import
from kepu.plans.assessment import (
    CARRIED_FORWARD,
    GAPS,
    Assessment,
    assessment_compute,
    competition_ranks,
    score_of,
)
from kepu.plans.models import Observation, Plan, ReportFile, Target, TargetAllocation
from kepu.plans.plan_import import plan_import
from kepu.plans.reports import render_pdf, render_xlsx, report_build, report_request

REPO = Path(__file__).resolve().parents[4]
WUJIN, TIANNING, ZHONGLOU, XINBEI = "320412", "320402", "320404", "320411"


@pytest.fixture
def plan(db: Any) -> Plan:
    region_import(path=REPO / "data/regions/changzhou.yaml")
    plan, _ = plan_import(path=REPO / "data/plans/changzhou-2021-2035.yaml")
    return plan


def observe(target: Target, unit_code: str, year: int, value: float, status: str = "approved") -> None:
    Observation.objects.update_or_create(
        indicator=target.indicator, org_unit=OrgUnit.objects.get(code=unit_code), year=year, quarter=0,
        defaults={"value": value, "status": status},
    )


def allocation(target: Target, unit_code: str) -> float:
    return TargetAllocation.objects.get(target=target, org_unit__code=unit_code).value


def fill(plan: Plan, unit_code: str, year: int, fraction: float) -> None:
    """Report `fraction` of every milestone the district has in `year` (all approved)."""
    allocations = TargetAllocation.objects.filter(target__plan=plan, org_unit__code=unit_code)
    for a in allocations.select_related("target"):
        t = a.target
        if t.kind == "stock":
            for y in range(t.period_start, year + 1):
                observe(t, unit_code, y, a.value / 5 * fraction)
        else:
            observe(t, unit_code, year, a.value * fraction)


def score(a: Assessment, unit_code: str, target_code: str) -> Any:
    unit = OrgUnit.objects.get(code=unit_code)
    return a.score(unit, Target.objects.get(plan=a.plan, code=target_code))


# -- scoring ----------------------------------------------------------------------------------------

def test_score_of_caps_floors_and_handles_zero_milestones() -> None:
    assert score_of(50, 100) == 50
    assert score_of(300, 100) == 100
    assert score_of(-5, 100) == 0
    assert score_of(None, 100) == 0
    assert score_of(0, 0) == 100  # nothing due yet: reporting meets it
    assert score_of(None, 0) == 0


def test_flow_scores_at_half_over_and_missing(plan: Plan) -> None:
    t06 = Target.objects.get(plan=plan, code="T06")
    observe(t06, WUJIN, 2024, allocation(t06, WUJIN))
    observe(t06, TIANNING, 2024, allocation(t06, TIANNING) / 2)
    observe(t06, ZHONGLOU, 2024, allocation(t06, ZHONGLOU) * 3)
    observe(t06, XINBEI, 2024, 999, status="submitted")  # not approved: does not count
    a = assessment_compute(plan, 2024)

    assert score(a, WUJIN, "T06").score == pytest.approx(100)
    assert score(a, WUJIN, "T06").milestone == allocation(t06, WUJIN)
    assert score(a, TIANNING, "T06").score == pytest.approx(50)
    assert score(a, ZHONGLOU, "T06").score == 100
    missing = score(a, XINBEI, "T06")
    assert missing.no_data and missing.score == 0 and missing.value is None
    # City-only targets (no allocation) are not district targets.
    assert "T02" not in {t.code for t in a.targets}
    assert score(a, WUJIN, "T02") is None


def test_stock_milestone_is_the_linear_path_and_gaps_are_flagged(plan: Plan) -> None:
    t03 = Target.objects.get(plan=plan, code="T03")  # 2021–2025
    alloc = allocation(t03, WUJIN)
    for y, v in ((2021, 0.2), (2022, 0.2), (2023, 0.2)):
        observe(t03, WUJIN, y, alloc * v)
    observe(t03, TIANNING, 2023, allocation(t03, TIANNING) * 0.3)
    a = assessment_compute(plan, 2023)

    s = score(a, WUJIN, "T03")
    assert s.milestone == pytest.approx(alloc * 3 / 5)
    assert s.value == pytest.approx(alloc * 0.6)
    assert s.score == pytest.approx(100) and not s.flags
    gap = score(a, TIANNING, "T03")
    assert gap.score == pytest.approx(50) and GAPS in gap.flags

    # From the deadline on the milestone is the allocation itself.
    later = assessment_compute(plan, 2026)
    assert score(later, WUJIN, "T03").milestone == alloc
    assert score(later, WUJIN, "T03").value == pytest.approx(alloc * 0.6)


def test_rate_milestone_from_city_or_own_baseline(plan: Plan) -> None:
    t01 = Target.objects.get(plan=plan, code="T01")  # 15.2 in 2020 → 21.5 in 2025
    city_path_2023 = 15.2 + 3 / 5 * (21.5 - 15.2)
    observe(t01, WUJIN, 2023, city_path_2023 / 2)
    observe(t01, TIANNING, 2021, 12.0)
    observe(t01, TIANNING, 2022, 14.0)
    a = assessment_compute(plan, 2023)

    wujin = score(a, WUJIN, "T01")
    assert wujin.milestone == pytest.approx(city_path_2023)
    assert wujin.score == pytest.approx(50)
    own = score(a, TIANNING, "T01")  # own baseline 12.0 in 2021, value carried from 2022
    assert own.milestone == pytest.approx(12 + 2 / 4 * (21.5 - 12))
    assert own.value == 14.0 and own.value_year == 2022 and CARRIED_FORWARD in own.flags
    assert own.score == pytest.approx(100 * 14 / own.milestone)


def test_competition_ranks_share_ties_and_skip() -> None:
    assert competition_ranks([80, 90, 80, None, 70]) == [2, 1, 2, None, 4]
    assert competition_ranks([80.04, 80.01]) == [1, 1]  # equal at the printed precision
    assert competition_ranks([]) == []


def test_totals_completeness_and_ranking(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 1.0)
    fill(plan, TIANNING, 2024, 0.5)
    a = assessment_compute(plan, 2024)
    by_code = {d.unit.code: d for d in a.districts}

    wujin, tianning = by_code[WUJIN], by_code[TIANNING]
    assert wujin.target_score == pytest.approx(100)
    assert wujin.completeness_pct == 100
    assert wujin.final_score == pytest.approx(100)
    assert wujin.no_data_count == 0
    assert 50 <= (tianning.target_score or 0) < 60
    assert tianning.final_score == pytest.approx(0.9 * (tianning.target_score or 0) + 10)
    assert [d.unit.code for d in a.districts[:2]] == [WUJIN, TIANNING]
    assert (wujin.rank, tianning.rank) == (1, 2)
    # Everyone else reported nothing: all targets flagged, 0 points, tied at rank 3.
    rest = a.districts[2:]
    assert len(rest) == 5
    assert {d.rank for d in rest} == {3}
    assert all(d.final_score == 0 and d.no_data_count == len(d.scores) for d in rest)


# -- renderings -------------------------------------------------------------------------------------

def test_pdf_embeds_the_cjk_font_and_has_pages(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 0.8)
    content = render_pdf(assessment_compute(plan, 2024))
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "武进区" in text and "评估方法" in text and "Ranking" in text


def test_xlsx_has_the_four_sheets_and_a_row_per_district(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 0.8)
    a = assessment_compute(plan, 2024)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(a)))
    assert wb.sheetnames == ["排名 Ranking", "得分明细 Scores", "完整性 Completeness", "方法 Method"]
    ranking = wb["排名 Ranking"]
    rows = list(ranking.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(a.districts) == 7
    assert rows[0][2] == "武进区" and rows[0][0] == 1
    assert len(ranking._charts) == 1
    scores = wb["得分明细 Scores"]
    assert scores.max_row - 1 == sum(len(d.scores) for d in a.districts)


# -- requests, the task and the command ----------------------------------------------------------------

def test_report_request_rejects_bad_format_and_years(plan: Plan) -> None:
    user = AnonymousUser()
    with pytest.raises(InputError, match="fmt"):
        report_request(plan=plan, year=2024, fmt="docx", user=user)
    with pytest.raises(InputError, match="2021"):
        report_request(plan=plan, year=2020, fmt="pdf", user=user)
    with pytest.raises(InputError, match="year"):
        report_request(plan=plan, year=timezone.localdate().year + 1, fmt="pdf", user=user)
    assert not ReportFile.objects.exists()


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("xlsx", b"PK")])
def test_report_request_builds_the_file(plan: Plan, django_capture_on_commit_callbacks: Any, fmt: str,
                                        magic: bytes) -> None:
    fill(plan, WUJIN, 2024, 1.0)
    user = get_user_model().objects.create_user("office", password="x")
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(plan=plan, year=2024, fmt=fmt, user=user)
    report.refresh_from_db()
    assert report.status == "done", report.error
    assert bytes(report.content or b"").startswith(magic)
    assert report.finished_at is not None and report.requested_by == user
    assert AuditEntry.objects.filter(action="report.request", object_id=str(report.pk)).exists()
    # Idempotent: a second run leaves the finished report alone.
    finished = report.finished_at
    report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.finished_at == finished


def test_report_build_records_failure(plan: Plan) -> None:
    report = ReportFile.objects.create(plan=plan, year=2024, fmt="odt")
    report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "failed" and "odt" in report.error and report.finished_at is not None


def test_command_writes_pdf_and_xlsx(plan: Plan, tmp_path: Path, capsys: Any) -> None:
    fill(plan, WUJIN, 2024, 1.0)
    call_command("report", "annual", "--year", "2024", "--out", str(tmp_path / "out"))
    pdf = tmp_path / "out" / f"kepu-assessment-{plan.code}-2024.pdf"
    xlsx = tmp_path / "out" / f"kepu-assessment-{plan.code}-2024.xlsx"
    assert pdf.read_bytes().startswith(b"%PDF") and xlsx.read_bytes().startswith(b"PK")
    assert capsys.readouterr().out.split() == [str(pdf), str(xlsx)]


def test_command_rejects_bad_year_and_plan(plan: Plan, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="2021"):
        call_command("report", "annual", "--year", "1999", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="unknown plan"):
        call_command("report", "annual", "--year", "2024", "--plan", "nope", "--out", str(tmp_path))
