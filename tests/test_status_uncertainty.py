"""Issue 7, point 7: a target judged from survey estimates knows the estimate is a sample. Past the
deadline a shortfall inside the 95 % CI is "与目标无显著差异", not "严重滞后"; before it the probability
uses the SEs and is shown with its interval; the dashboard, the target page and the annual assessment
(service, PDF and XLSX) say the same."""

from __future__ import annotations

import html
import io
import re
from typing import Any, get_args

import pytest
from django.test import Client

from kepu.stats.forecast import Status, assess, judge_final, survey_ci

CITY, WUJIN = "320400", "320412"
# The issue's example: the city's 2025 literacy rate 21.3 % (95 % CI 18.7–24.3) against 21.5 % by 2025.
EXAMPLE = {2022: (18.9, 17.6, 20.3), 2023: (19.8, 18.3, 21.4), 2024: (20.6, 18.9, 22.4), 2025: (21.3, 18.7, 24.3)}


def _judge(value: float, ci: tuple[float, float] | None, se: float | None = None) -> Any:
    years = [2022, 2023, 2024, 2025]
    values = [18.9, 19.8, 20.6, value]
    cis = [(17.6, 20.3), (18.3, 21.4), (18.9, 22.4), ci]
    return assess("rate", target=21.5, deadline_year=2025, evaluation_year=2025, years=years, values=values,
                  ses=[0.7, 0.8, 0.9, se], cis=cis, baseline=(2020, 15.2))


# -- the rule (kepu.stats.forecast) ---------------------------------------------------------------------

def test_issue_example_past_deadline_is_not_distinguishable_not_off_track() -> None:
    r = _judge(21.3, (18.7, 24.3), se=1.43)
    assert (r.status, r.rule) == ("not_distinguishable", "ci_contains_target")
    assert (r.ci_low, r.ci_high) == (18.7, 24.3)
    assert r.probability is None and r.projected == 21.3


def test_ci_wholly_below_the_target_is_missed() -> None:
    r = _judge(19.5, (18.0, 21.2), se=0.8)
    assert (r.status, r.rule, r.probability) == ("off_track", "deadline_passed", 0.0)
    assert (r.ci_low, r.ci_high) == (18.0, 21.2)  # the interval that shows the miss


def test_point_estimate_reaching_the_target_is_met() -> None:
    r = _judge(21.5, (18.9, 24.4), se=1.4)
    assert (r.status, r.rule) == ("met", "met_already")
    assert r.ci_low is None and r.ci_high is None


def test_without_a_published_ci_the_se_gives_it() -> None:
    # 21.3 ± 1.96 × 0.05 does not reach 21.5; 21.3 ± 1.96 × 0.2 does
    assert _judge(21.3, None, se=0.05).status == "off_track"
    r = _judge(21.3, None, se=0.2)
    assert r.status == "not_distinguishable"
    assert r.ci_low == pytest.approx(21.3 - 1.959964 * 0.2) and r.ci_high == pytest.approx(21.3 + 1.959964 * 0.2)
    # A value reported without any sampling error is judged on the point alone
    plain = assess("rate", target=21.5, deadline_year=2025, evaluation_year=2025, years=[2024, 2025],
                   values=[20.6, 21.3])
    assert plain.status == "off_track" and plain.ci_low is None


def test_judge_final_and_survey_ci() -> None:
    assert judge_final(21.5, 21.5, None) == ("met", "met_already")
    assert judge_final(21.3, 21.5, (18.7, 24.3)) == ("not_distinguishable", "ci_contains_target")
    assert judge_final(21.3, 21.5, (18.7, 21.4)) == ("off_track", "deadline_passed")
    assert survey_ci(21.3, 1.0, 18.7, 24.3) == (18.7, 24.3)
    assert survey_ci(21.3, None, None, None) is None
    assert survey_ci(21.3, 0.0) is None  # an SE of 0 is not a survey estimate
    assert survey_ci(21.3, 1.0, 24.3, 18.7) == pytest.approx((21.3 - 1.959964, 21.3 + 1.959964))  # disordered CI


def test_before_the_deadline_the_probability_uses_the_ses() -> None:
    # The same three surveys (2021–2023) heading for 20.6 % in 2025 against 21.5 %: precise surveys make
    # the miss near-certain, imprecise ones leave a real chance; the interval widens with the SEs.
    def forecast(se: float) -> Any:
        return assess("rate", target=21.5, deadline_year=2025, evaluation_year=2025, years=[2021, 2022, 2023],
                      values=[18.0, 18.6, 19.3], ses=[se, se, se], baseline=None)

    precise, noisy = forecast(0.05), forecast(1.0)
    assert precise.projected == pytest.approx(noisy.projected)  # equal SEs: the same line
    assert precise.probability is not None and noisy.probability is not None
    assert precise.probability < 0.05 and noisy.probability > 0.3
    assert (precise.status, noisy.status) == ("off_track", "at_risk")
    assert precise.low is not None and precise.high is not None and noisy.low is not None and noisy.high is not None
    assert (noisy.high - noisy.low) > 5 * (precise.high - precise.low)
    assert precise.ci_low is None and noisy.ci_low is None  # no CI before the deadline: a forecast


def test_api_status_values_are_the_models() -> None:
    from kepu.plans.models import TargetStatus
    from kepu.plans.schemas import TargetStatusValue

    assert set(get_args(TargetStatusValue)) == set(TargetStatus.Status.values) == set(get_args(Status))


# -- the pages, the API and the assessment ---------------------------------------------------------

def _obs(plan: Any, unit: str, year: int, value: float, low: float | None, high: float | None,
         se: float | None = None, indicator: str = "LIT_RATE") -> None:
    from kepu.core.models import OrgUnit
    from kepu.plans.models import Observation

    Observation.objects.update_or_create(
        indicator=plan.indicators.get(code=indicator), org_unit=OrgUnit.objects.get(code=unit), year=year,
        quarter=0, defaults={"value": value, "se": se, "ci_low": low, "ci_high": high, "status": "approved"})


def _login(username: str) -> Client:
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _text(fragment: str) -> str:
    fragment = re.sub(r"<[^>]+>", " ", fragment)
    return re.sub(r"\s+", " ", html.unescape(fragment)).strip()


def _row(page: str, code: str) -> str:
    m = re.search(rf'<tr data-target="{code}">.*?</tr>', page, flags=re.S)
    assert m, code
    return m.group(0)


def _cell(row: str, unit: str) -> str:
    m = re.search(rf'<td data-unit="{unit}">(.*?)</td>', row, flags=re.S)
    assert m, unit
    return m.group(1)


def _headline(page: str) -> str:
    """The headline card's status and the uncertainty beside it."""
    m = re.search(r'data-testid="headline-status">(.*?)</div>(?:<div class="l" data-testid="headline-uncertainty">'
                  r"(.*?)</div>)?", page, flags=re.S)
    assert m
    return _text(f"{m.group(1)} {m.group(2) or ''}")


@pytest.fixture
def example(users: dict[str, Any], plan: Any) -> Any:
    """The issue's city series; 武进区 with a 2025 estimate whose CI lies wholly below 21.5 %."""
    from kepu.plans.status import status_refresh

    for year, (value, low, high) in EXAMPLE.items():
        _obs(plan, CITY, year, value, low, high)
    for year, (value, low, high) in {2023: (17.0, 15.0, 19.1), 2024: (17.6, 15.6, 19.7),
                                     2025: (18.2, 16.1, 20.4)}.items():
        _obs(plan, WUJIN, year, value, low, high)
    status_refresh(plan, today_year=2026)
    return plan


def test_stored_status_for_city_and_district(example: Any) -> None:
    from kepu.plans.models import TargetStatus

    city = TargetStatus.objects.get(target__code="T01", org_unit__code=CITY)
    assert (city.status, city.rule, city.ci_low, city.ci_high) == ("not_distinguishable", "ci_contains_target",
                                                                    18.7, 24.3)
    assert city.get_status_display() == "与目标无显著差异"
    wujin = TargetStatus.objects.get(target__code="T01", org_unit__code=WUJIN)
    assert (wujin.status, wujin.rule, wujin.ci_high) == ("off_track", "deadline_passed", 20.4)


def test_dashboard_shows_the_status_its_interval_and_legend(example: Any) -> None:
    page = _login("office").get("/").content.decode()
    city = _text(_cell(_row(page, "T01"), "city"))
    assert city.startswith("与目标无显著差异") and "严重滞后" not in city
    assert "21.3 / 21.5" in city and "2025年估计值 21.3，95%置信区间 18.7–24.3" in city
    wujin = _text(_cell(_row(page, "T01"), WUJIN))
    assert wujin.startswith("严重滞后") and "2025年估计值 18.2，95%置信区间 16.1–20.4" in wujin
    # The headline card (T01 leads the dashboard) says the same, and the counter counts it
    assert _headline(page) == "与目标无显著差异 2025年估计值 21.3，95%置信区间 18.7–24.3"
    counter = re.search(r'data-testid="count-not_distinguishable"><div class="n c-near">(\d+)<', page)
    assert counter and int(counter.group(1)) >= 1
    legend = re.search(r'data-testid="status-legend">(.*?)</p>', page, flags=re.S)
    assert legend and 'class="badge st-not_distinguishable">与目标无显著差异<' in legend.group(1)
    assert "95% 置信区间包含目标值的，为“与目标无显著差异”" in _text(legend.group(1))


def test_district_reporter_sees_their_districts_judgement(example: Any) -> None:
    page = _login("wujin").get("/").content.decode()
    cell = _text(_cell(_row(page, "T01"), WUJIN))
    assert cell.startswith("严重滞后") and "2025年估计值 18.2，95%置信区间 16.1–20.4" in cell
    assert _headline(page) == "严重滞后 2025年估计值 18.2，95%置信区间 16.1–20.4"


def test_target_page_shows_the_status_the_ci_and_the_rule(example: Any) -> None:
    page = _login("office").get("/targets/T01/").content.decode()
    table = re.search(r'data-testid="target-status">(.*?)</table>', page, flags=re.S)
    assert table
    city_row = next(r for r in re.findall(r"<tr>.*?</tr>", table.group(1), flags=re.S) if "常州市" in r)
    text = _text(city_row)
    assert "与目标无显著差异" in text and "严重滞后" not in text
    assert "期限已到，估计值低于目标，但 95% 置信区间包含目标值" in text
    assert "21.3 (2025) 2025年估计值 21.3，95%置信区间 18.7–24.3 已有实际值，无需预测" in text
    rule = re.search(r'data-testid="status-rule">(.*?)</div>', page, flags=re.S)
    assert rule and "低于目标、但其 95% 置信区间包含目标值时为“与目标无显著差异”" in _text(rule.group(1))


def test_english_target_page_words(example: Any, settings: Any) -> None:
    client = _login("office")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = html.unescape(client.get("/targets/T01/").content.decode())
    assert "Not significantly different from target" in page
    assert "2025 estimate 21.3, 95% CI 18.7–24.3" in page
    assert "whose 95% confidence interval contains the target is “not significantly different from target”" in page


def test_before_the_deadline_pages_show_probability_with_interval(users: dict[str, Any], plan: Any) -> None:
    from kepu.plans.models import TargetStatus
    from kepu.plans.status import status_refresh

    for year, (value, low, high) in {2022: (18.9, 17.6, 20.3), 2023: (19.8, 18.3, 21.4)}.items():
        _obs(plan, CITY, year, value, low, high)
    # and a yearly count reported without sampling error (its forecast stays on the target page)
    for year, value in {2021: 280.0, 2022: 290.0, 2023: 295.0}.items():
        _obs(plan, CITY, year, value, None, None, indicator="SCI_COUNSELLORS_TRAINED")
    status_refresh(plan, today_year=2024)
    s = TargetStatus.objects.get(target__code="T01", org_unit__code=CITY)
    assert s.probability is not None and 0 < s.probability < 1 and s.low is not None and s.high is not None
    assert s.ci_low is None
    interval = f"{s.low:.1f}–{s.high:.1f}"
    page = _login("office").get("/").content.decode()
    city = _text(_cell(_row(page, "T01"), "city"))
    assert f"达成概率 {s.probability:.2f}；2025年预测区间(80%) {interval}" in city
    assert _headline(page).endswith(f"达成概率 {s.probability:.2f}；2025年预测区间(80%) {interval}")
    t06 = TargetStatus.objects.get(target__code="T06", org_unit__code=CITY)
    assert t06.probability is not None and t06.low is not None and not t06.survey and s.survey
    assert 'data-testid="uncertainty"' not in _cell(_row(page, "T06"), "city")
    target_page = _text(_login("office").get("/targets/T01/").content.decode())
    assert f"[{s.low:.1f}, {s.high:.1f}]" in target_page and f"{s.probability:.2f}" in target_page


def test_api_status_has_the_new_status_and_its_ci(example: Any, users: dict[str, Any], api_client: Any) -> None:
    r = api_client(users["office"]).get("/api/plans/changzhou-2021-2035/status", {"org_unit": CITY})
    assert r.status_code == 200
    t01 = next(s for s in r.json() if s["target"] == "T01")
    assert (t01["status"], t01["ci_low"], t01["ci_high"], t01["probability"]) == (
        "not_distinguishable", 18.7, 24.3, None)


def test_assessment_uses_the_same_rule(example: Any) -> None:
    from kepu.plans.assessment import NOT_DISTINGUISHABLE, assessment_compute

    a = assessment_compute(example, 2025)
    city = next(s for s in a.city if s.target.code == "T01")
    assert NOT_DISTINGUISHABLE in city.flags and city.ci == (18.7, 24.3)
    assert city.score == pytest.approx(100 * 21.3 / 21.5)  # partial credit, as the method says
    wujin = next(d for d in a.districts if d.unit.code == WUJIN).scores[city.target.pk]
    assert NOT_DISTINGUISHABLE not in wujin.flags and wujin.ci == (16.1, 20.4)
    # Before the deadline year the milestone is a path, not the target: no such judgement
    earlier = next(s for s in assessment_compute(example, 2024).city if s.target.code == "T01")
    assert NOT_DISTINGUISHABLE not in earlier.flags
    # The method states the score
    assert any("与目标无显著差异" in m and "部分分" in m for m in a.method_zh)
    assert any("not significantly different from target" in m and "partially" in m for m in a.method_en)


def test_assessment_pdf_and_xlsx_say_it(example: Any) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from kepu.plans.assessment import assessment_compute
    from kepu.plans.reports import render_pdf, render_xlsx

    a = assessment_compute(example, 2025)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(a))).pages)
    flat = re.sub(r"\s+", "", text)
    assert "与目标无显著差异（95%置信区间18.7–24.3）" in flat
    assert "≈与目标无显著差异" in flat  # the score matrix's mark is explained
    wb = load_workbook(io.BytesIO(render_xlsx(a, "en")))
    ws = wb.worksheets[1]
    t01 = next(r for r in ws.iter_rows(values_only=True) if r[0] == "T01")
    assert t01[-1] == "not significantly different from target (95% CI 18.7–24.3)"
