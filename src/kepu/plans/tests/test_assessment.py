"""The annual district assessment: scoring, ranking, the city-wide section, the PDF/XLSX renderings in
Chinese (the official version) and English, requests, the assessment page and the CLI."""

from __future__ import annotations

import io
import re
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
CITY = "320400"
CITY_ONLY = ("T02", "T04", "T19", "T20", "T22", "T23", "T24", "T25")  # targets with no district allocation
OFFICE_ZH = "常州市全民科学素质工作领导小组办公室"
OFFICE_EN = "Office of the Changzhou Municipal Leading Group for Citizen Science Literacy"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


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
    assert "武进区" in text and "评估方法" in text and "综合排名" in text


def test_xlsx_has_the_five_sheets_and_a_row_per_district(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 0.8)
    a = assessment_compute(plan, 2024)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(a)))
    assert wb.sheetnames == ["排名", "全市目标", "得分明细", "完整性", "方法"]
    ranking = wb["排名"]
    rows = list(ranking.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(a.districts) == 7
    assert rows[0][2] == "武进区" and rows[0][0] == 1
    assert len(ranking._charts) == 1
    scores = wb["得分明细"]
    assert scores.max_row - 1 == sum(len(d.scores) for d in a.districts)


# -- requests, the task and the command ----------------------------------------------------------------

def test_report_request_rejects_bad_format_and_years(plan: Plan) -> None:
    user = AnonymousUser()
    with pytest.raises(InputError, match="PDF"):
        report_request(plan=plan, year=2024, fmt="docx", user=user)
    with pytest.raises(InputError, match="en"):
        report_request(plan=plan, year=2024, fmt="pdf", lang="fr", user=user)
    with pytest.raises(InputError, match="2021"):
        report_request(plan=plan, year=2020, fmt="pdf", user=user)
    with pytest.raises(InputError, match=str(timezone.localdate().year + 1)):
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


# -- the official Chinese version, the English version and the city-wide section -----------------------

def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def city_page(pages: list[str], heading: str) -> str:
    return next(text for text in pages if heading in text)


def test_city_section_scores_every_target_including_the_city_only_ones(plan: Plan) -> None:
    t02 = Target.objects.get(plan=plan, code="T02")  # stock, 10 schools by 2025, city only
    for y in (2021, 2022, 2023, 2024):
        observe(t02, CITY, y, 2)
    t06 = Target.objects.get(plan=plan, code="T06")  # flow, allocated: the city value is the districts' sum
    for code in TargetAllocation.objects.filter(target=t06).values_list("org_unit__code", flat=True):
        observe(t06, code, 2024, 50)
    a = assessment_compute(plan, 2024)

    city_only = {t.code for t in Target.objects.filter(pk__in=a.city_only)}
    assert city_only == set(CITY_ONLY)
    by_code = {s.target.code: s for s in a.city}
    assert set(CITY_ONLY) | {t.code for t in a.targets} == set(by_code)
    assert all(s.unit.code == CITY for s in a.city)
    t02_city = by_code["T02"]
    assert t02_city.value == 8 and t02_city.allocation == t02.value == 10
    assert t02_city.milestone == pytest.approx(10 * 4 / 5)  # the straight path at 2024 of 2021–2025
    assert t02_city.score == pytest.approx(100)
    t06_city = by_code["T06"]
    districts = TargetAllocation.objects.filter(target=t06).count()
    assert t06_city.value == 50 * districts and t06_city.milestone == t06.value
    assert by_code["T19"].no_data and by_code["T19"].score == 0


def test_chinese_pdf_is_the_official_version(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 0.8)
    observe(Target.objects.get(plan=plan, code="T02"), CITY, 2024, 3)
    a = assessment_compute(plan, 2024)
    pages = pdf_pages(render_pdf(a, "zh-hans"))
    text = "\n".join(pages)

    cover = pages[0]
    assert OFFICE_ZH in cover  # the issuing unit, from the plan file
    date = a.generated_at.date()
    assert f"{date.year}年{date.month}月{date.day}日" in cover
    assert "2024年度辖市（区）目标任务评估报告" in cover
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页共{len(pages)}页" in re.sub(r"\s", "", page)
    city = city_page(pages, "三、全市目标完成情况")
    for code in CITY_ONLY:
        assert code in city
    assert city.count("仅考核全市") >= len(CITY_ONLY) + 1  # the intro names it, then one per target
    # Chinese labels only: no English label, no raw key, and rates/scores with one decimal.
    latin = set(re.findall(r"[A-Za-z]{2,}", text))
    assert latin <= {"Kepu", "min"}, latin  # the platform's name and the method's min(100, …)
    assert "100.0" in text and "80.0" in text


def test_landscape_pages_carry_their_footer_at_the_bottom_right(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 0.8)
    reader = PdfReader(io.BytesIO(render_pdf(assessment_compute(plan, 2024))))
    total = len(reader.pages)
    frame_bottom = 16 / 25.4 * 72  # the text frame's bottom margin: only footers may sit below it
    orientations = set()
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        orientations.add(width > height)
        low: list[tuple[str, float, float]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any, low: list[Any] = low) -> None:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]  # the text matrix's origin in page space
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and y < frame_bottom:
                low.append((text, x, y))

        page.extract_text(visitor_text=visit)
        right = [f for f in low if f[1] > width / 2]
        left = [f for f in low if f[1] <= width / 2]
        assert re.sub(r"\s", "", "".join(f[0] for f in right)) == f"第{number}页共{total}页"
        assert re.sub(r"\s", "", "".join(f[0] for f in left)).startswith(OFFICE_ZH)
        # Right-aligned to this page's own width (a portrait-positioned footer would end mid-page).
        assert min(f[1] for f in right) > width - 130, (number, width, right)
        assert all(0 < f[2] < frame_bottom for f in low)
    assert orientations == {True, False}  # both portrait and landscape pages were checked


def test_english_pdf_has_no_chinese_and_says_page_x_of_y(plan: Plan) -> None:
    fill(plan, WUJIN, 2024, 0.8)
    pages = pdf_pages(render_pdf(assessment_compute(plan, 2024), "en"))
    text = "\n".join(pages)
    assert not CJK.findall(text), sorted(set(CJK.findall(text)))
    assert f"Issued by {OFFICE_EN}" in " ".join(pages[0].split())
    assert "Wujin" in text and "Annual Assessment of Districts 2024" in text
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    city = city_page(pages, "3. City-wide targets")
    for code in CITY_ONLY:
        assert code in city
    tables = "\n".join(pages[2:])  # past the method, whose prose names flows and stocks
    for raw in ("no_data", "carried_forward", "stock", "flow"):
        assert raw not in tables


def test_issuing_unit_comes_from_the_plan(plan: Plan) -> None:
    plan.office_zh = "湖滨市科学素质办公室"
    plan.save(update_fields=["office_zh"])
    assert "湖滨市科学素质办公室" in pdf_pages(render_pdf(assessment_compute(plan, 2024)))[0]
    plan.office_zh = ""  # a plan file without `office`: the plan's publisher issues it
    plan.save(update_fields=["office_zh"])
    cover = pdf_pages(render_pdf(assessment_compute(plan, 2024)))[0]
    assert plan.source["publisher"] in cover and OFFICE_ZH not in cover


def test_xlsx_matches_the_pdf_in_each_language(plan: Plan) -> None:
    t02 = Target.objects.get(plan=plan, code="T02")
    observe(t02, CITY, 2021, 2)
    observe(t02, CITY, 2024, 3)
    fill(plan, WUJIN, 2024, 0.8)
    a = assessment_compute(plan, 2024)

    zh = openpyxl.load_workbook(io.BytesIO(render_xlsx(a, "zh-hans")))
    rows = {r[0]: r for r in zh["全市目标"].iter_rows(min_row=2, values_only=True)}
    assert set(CITY_ONLY) <= set(rows)
    t02_row = rows["T02"]
    assert t02_row[3] == 10 and isinstance(t02_row[3], int)  # counts are whole numbers
    assert t02_row[6] == 5 and isinstance(t02_row[6], int)
    assert t02_row[10] == "仅考核全市；部分年份未报"
    attainment = t02_row[9]
    city = city_page(pdf_pages(render_pdf(a, "zh-hans")), "三、全市目标完成情况")
    assert f"{attainment:.1f}" in city  # the same figure, at the same precision
    method = [r[0] for r in zh["方法"].iter_rows(values_only=True)]
    assert OFFICE_ZH in method

    en = openpyxl.load_workbook(io.BytesIO(render_xlsx(a, "en")))
    assert en.sheetnames == ["Ranking", "City targets", "Scores", "Completeness", "Method"]
    for ws in en.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and CJK.search(v) for v in row), row
    en_rows = {r[0]: r for r in en["City targets"].iter_rows(min_row=2, values_only=True)}
    assert en_rows["T02"][10] == "city only; some years not reported"
    assert en_rows["T02"][9] == attainment


def test_report_request_builds_the_english_version(plan: Plan, django_capture_on_commit_callbacks: Any) -> None:
    fill(plan, WUJIN, 2024, 1.0)
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(plan=plan, year=2024, fmt="pdf", lang="en", user=AnonymousUser())
    report.refresh_from_db()
    assert report.status == "done" and report.lang == "en"
    text = "\n".join(pdf_pages(bytes(report.content or b"")))
    assert "Annual Assessment of Districts 2024" in text and not CJK.search(text)


def test_command_writes_the_english_version_on_request(plan: Plan, tmp_path: Path, capsys: Any) -> None:
    call_command("report", "annual", "--year", "2024", "--lang", "en", "--out", str(tmp_path))
    pdf = tmp_path / f"kepu-assessment-{plan.code}-2024-en.pdf"
    xlsx = tmp_path / f"kepu-assessment-{plan.code}-2024-en.xlsx"
    assert capsys.readouterr().out.split() == [str(pdf), str(xlsx)]
    assert not CJK.search("\n".join(pdf_pages(pdf.read_bytes())))
    assert openpyxl.load_workbook(xlsx).sheetnames[0] == "Ranking"


# -- the assessment page ------------------------------------------------------------------------------

def test_assessment_page_requests_and_lists_reports(plan: Plan, client: Any, django_capture_on_commit_callbacks: Any,
                                                    settings: Any) -> None:
    from kepu.core.services import user_create

    office = user_create(username="office", password="pw-office-1", full_name="市科学素质办 管理员",
                         roles=[("office_admin", CITY, None)])
    client.force_login(office)
    page = client.get("/assessment/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="lang"' in html and 'value="en"' in html and "还没有生成过评估报告。" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/assessment/", {"year": "2024", "fmt": "pdf", "lang": "en"})
    report = ReportFile.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assessment/{report.pk}/"
    assert (report.lang, report.year, report.fmt, report.requested_by) == ("en", 2024, "pdf", office)
    ReportFile.objects.create(plan=plan, year=2023, fmt="xlsx", status="failed", requested_by=office)

    rows = client.get("/assessment/").content.decode()
    listed = rows[rows.index('data-testid="assessment-reports"'):]
    done = listed[listed.index(f'data-report="{report.pk}"'):]
    done = done[:done.index("</tr>")]
    for expected in ("2024", "PDF", "英文", "已完成", "市科学素质办 管理员", f'href="/assessment/{report.pk}/"',
                     "下载", report.created_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M")):
        assert expected in done, expected
    assert listed.index('data-report="') < listed.index(f'data-report="{report.pk}"')  # newest first
    assert "失败" in listed and "Excel 表格" in listed

    download = client.get(f"/assessment/{report.pk}/")
    assert download["Content-Disposition"] == f'attachment; filename="kepu-assessment-{plan.code}-2024-en.pdf"'


def test_assessment_page_is_for_the_office_only(plan: Plan, client: Any, settings: Any) -> None:
    from kepu.core.services import user_create

    client.force_login(user_create(username="wujin", password="pw-wujin-1",
                                   roles=[("district_reporter", WUJIN, None)]))
    assert client.get("/assessment/").status_code == 403
    assert client.post("/assessment/", {"year": "2024", "fmt": "pdf"}).status_code == 403
    assert not ReportFile.objects.exists()


def test_assessment_page_explains_a_refused_year_in_chinese(plan: Plan, client: Any, settings: Any) -> None:
    from kepu.core.services import user_create

    client.force_login(user_create(username="office", password="pw-office-1", roles=[("office_admin", CITY, None)]))
    response = client.post(f"/assessment/?plan={plan.code}", {"year": "1999", "fmt": "pdf", "lang": "zh-hans"},
                           follow=True)
    assert response.redirect_chain == [("/assessment/", 302)]
    assert "年度须在 2021（规划首年）至" in response.content.decode()
    assert not ReportFile.objects.exists()
