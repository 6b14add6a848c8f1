"""Issue 6, points 1–4: a district user's dashboard, Chinese-only plan pages, status labels that
agree with themselves, and charts a person can read."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import target_of

ROLES = ("office", "wujin", "edu", "viewer_wujin")
# Words allowed in the Chinese interface: the product name, the language switch and file formats.
ALLOWED_WORDS = {"Kepu", "English", "PDF", "Excel", "Kish"}
DEVELOPER_TEXT = [
    re.compile(r"\b[a-z]+_[a-z_]+\b"),  # raw keys: deadline_passed, cast_newera, age_band, key_group …
    re.compile(r"\b[a-z]+\.[a-z_]+\b"),  # action ids: observation.derive …
    re.compile(r"\b[A-Z][A-Za-z]+\("),  # Python reprs: WeightReport(…)
    re.compile(r"\[—, —\]"),
    re.compile(r"\d\.\d+ ?次"),  # a fraction of a yearly count
]


def _login(username: str) -> Client:
    """A logged-in client (the demo resets the demo users' passwords, so no password is used)."""
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _visible_text(page: str) -> str:
    """What a person reads: no scripts, no chart options, no tags, entities decoded."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'data-option="[^"]*"', " ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def _developer_text(page: str) -> list[str]:
    """Developer keys and English words a person would see (login names are people's data)."""
    from django.contrib.auth.models import User

    text = _visible_text(page)
    for username in User.objects.values_list("username", flat=True):
        text = re.sub(rf"(?<![A-Za-z_]){re.escape(username)}(?![A-Za-z_])", " ", text)
    found = [m.group(0) for rx in DEVELOPER_TEXT for m in rx.finditer(text)]
    found += [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED_WORDS]
    return found


def _option(page: str, element_id: str) -> dict[str, Any]:
    m = re.search(rf'id="{element_id}" class="chart" data-option="([^"]*)"', page)
    assert m, f"no chart #{element_id}"
    option: dict[str, Any] = json.loads(html.unescape(m.group(1)))
    return option


@pytest.fixture
def demo(users: dict[str, Any], plan: Any) -> Any:
    """The plan's demo data (2021 to this year, this year partly reported), statuses computed."""
    from kepu.plans.demo import demo_generate

    demo_generate(plan=plan)
    return plan


def _obs(plan: Any, indicator: str, unit: str, year: int, value: float, *, quarter: int = 0,
         se: float | None = None) -> Any:
    from kepu.core.models import OrgUnit
    from kepu.plans.models import Observation

    ci = (value - 1.96 * se, value + 1.96 * se) if se else (None, None)
    return Observation.objects.update_or_create(
        indicator=plan.indicators.get(code=indicator), org_unit=OrgUnit.objects.get(code=unit), year=year,
        quarter=quarter,
        defaults={"value": value, "se": se, "ci_low": ci[0], "ci_high": ci[1], "status": "approved"},
    )[0]


def _refresh(plan: Any) -> None:
    from kepu.plans.status import status_refresh

    status_refresh(plan)


def _status(target: str, unit: str) -> Any:
    from kepu.plans.models import TargetStatus

    return TargetStatus.objects.get(target__code=target, org_unit__code=unit)


# -- 1. District dashboard ----------------------------------------------------------------------------

def test_district_dashboard_leads_with_own_district(users: dict[str, Any], plan: Any) -> None:
    from kepu.plans.models import TargetAllocation, TargetStatus

    # Given 武进区's approved literacy rates with their CIs, and the city's
    for year, value in [(2022, 18.4), (2023, 19.2), (2024, 20.1)]:
        _obs(plan, "LIT_RATE", "320412", year, value, se=1.3)
        _obs(plan, "LIT_RATE", "320400", year, value - 1, se=0.5)
    _refresh(plan)
    # When 武进区's reporter opens the dashboard
    page = _login("wujin").get("/").content.decode()
    # Then the headline card shows 武进区's rate (not "—") and names the district
    headline = re.search(r'data-testid="headline-value">(.*?)</div>', page, flags=re.S)
    assert headline and _visible_text(headline.group(1)).strip() == "20.1%"
    assert "公民具备科学素质比例 · 武进区" in _visible_text(page)
    # And the four counters count 武进区's own targets
    own = list(TargetStatus.objects.filter(org_unit__code="320412"))
    assert own
    for key in ("met", "on_track", "at_risk", "off_track"):
        counter = re.search(rf'data-testid="count-{key}"><div class="n[^"]*"[^>]*>(\d+)<', page)
        assert counter and int(counter.group(1)) == sum(1 for s in own if s.status == key), key
    # And each target shows the district's own allocation beside the city target (T06: 300 人 · 本区分解 73人)
    t06 = TargetAllocation.objects.get(target__code="T06", org_unit__code="320412").value
    row = re.search(r'<tr data-target="T06">.*?</tr>', page, flags=re.S)
    assert row and f"300人 · 每年 · 本区分解 {int(t06)}人" in _visible_text(row.group(0))
    # And no city column of empty cells
    assert 'data-unit="city"' not in page and "<th>全市</th>" not in page
    # And the trend is 武进区's series with its CI bars
    trend = _option(page, "trend")
    line = trend["series"][0]
    assert line["name"] == "武进区" and line["data"] == [18.4, 19.2, 20.1]
    bars = next(s for s in trend["series"] if s.get("kepu") == "errorbars")
    assert bars["data"][0] == [0, round(18.4 - 1.96 * 1.3, 1), round(18.4 + 1.96 * 1.3, 1)]


def test_city_users_still_see_the_city_and_every_district(users: dict[str, Any], plan: Any) -> None:
    _obs(plan, "LIT_RATE", "320400", 2024, 19.4, se=0.5)
    _refresh(plan)
    page = _login("office").get("/").content.decode()
    headline = re.search(r'data-testid="headline-value">(.*?)</div>', page, flags=re.S)
    assert headline and _visible_text(headline.group(1)).strip() == "19.4%"
    assert "<th>全市</th>" in page and 'data-testid="own-allocation"' not in page
    assert _option(page, "trend")["series"][0]["name"] == "常州市"
    assert _option(page, "compare")["yAxis"]["data"][-1] == "常州经济开发区"


# -- 3. Status labels agree with themselves ----------------------------------------------------------

def test_yearly_target_reached_by_the_districts_so_far_is_met_everywhere(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    # Given T06 (300 counsellors a year, split by population) reported in full for three earlier
    # years, and this year by two districts only whose sum already exceeds the city's 300
    from kepu.plans.models import TargetAllocation

    allocs = {a.org_unit.code: a.value for a in TargetAllocation.objects.filter(target__code="T06")
              .select_related("org_unit")}
    for y in range(year - 3, year):
        for code, alloc in allocs.items():
            _obs(plan, "SCI_COUNSELLORS_TRAINED", code, y, round(alloc * 0.9))
    _obs(plan, "SCI_COUNSELLORS_TRAINED", "320412", year, 200)
    _obs(plan, "SCI_COUNSELLORS_TRAINED", "320411", year, 120)
    _refresh(plan)
    # Then the city is met on this year's partial sum, on the dashboard and on the target page alike
    city = _status("T06", "320400")
    assert (city.status, city.current, city.current_year) == ("met", 320.0, year)
    dash = _login("office").get("/").content.decode()
    cell = re.search(r'<tr data-target="T06">.*?data-unit="city">(.*?)</td>', dash, flags=re.S)
    assert cell and "已达成" in cell.group(1) and "进展顺利" not in cell.group(1)
    detail = _login("office").get("/targets/T06/").content.decode()
    city_row = re.search(r"<tr>\s*<td>常州市.*?</tr>", detail, flags=re.S)
    assert city_row and "已达成" in city_row.group(0) and "进展顺利" not in city_row.group(0)


def test_partial_sum_below_target_is_forecast_not_judged_missed(users: dict[str, Any], plan: Any) -> None:
    year = timezone.localdate().year
    for y in range(year - 3, year):
        _obs(plan, "SCI_COUNSELLORS_TRAINED", "320412", y, 80)
    # Two quarters of this year are in, below 武进区's yearly 73 in sum … and then above it
    _obs(plan, "SCI_COUNSELLORS_TRAINED", "320412", year, 30, quarter=1)
    _obs(plan, "SCI_COUNSELLORS_TRAINED", "320412", year, 20, quarter=2)
    _refresh(plan)
    st = _status("T06", "320412")
    assert st.status == "on_track" and st.rule != "deadline_passed" and st.current_year == year - 1
    _obs(plan, "SCI_COUNSELLORS_TRAINED", "320412", year, 40, quarter=3)
    _refresh(plan)
    st = _status("T06", "320412")
    assert (st.status, st.current, st.current_year) == ("met", 90.0, year)


def test_level_target_reached_in_its_deadline_year_stays_met() -> None:
    from kepu.stats.forecast import assess

    # 22.5 in the deadline year 2025, a dip to 21.0 in 2026: reached on time
    r = assess("rate", target=21.5, deadline_year=2025, evaluation_year=2026,
               years=[2023, 2024, 2025, 2026], values=[20.0, 21.0, 22.5, 21.0])
    assert (r.status, r.projected) == ("met", 22.5)
    # Never reached: off track, with the deadline year's value as the projection
    r = assess("rate", target=21.5, deadline_year=2025, evaluation_year=2026,
               years=[2023, 2024, 2025, 2026], values=[20.0, 21.0, 21.2, 21.0])
    assert (r.status, r.rule, r.projected) == ("off_track", "deadline_passed", 21.2)


@pytest.mark.parametrize(("code", "words"), [
    ("T01", "水平目标(比率、覆盖率)：最新数值或期限年 2025 的数值达到目标即为“已达成”"),
    ("T03", "累计目标：自 2021 年起各年新增数之和。"),
    ("T06", "年度目标：每年单独判断，现在判断的是"),
])
def test_target_page_states_the_one_rule_of_its_kind(demo: Any, code: str, words: str) -> None:
    page = _login("office").get(f"/targets/{code}/").content.decode()
    rule = re.search(r'data-testid="status-rule">(.*?)</div>\s*</div>', page, flags=re.S)
    assert rule and words in _visible_text(rule.group(1))
    others = {"T01": "累计目标", "T03": "年度目标", "T06": "水平目标"}[code]
    assert others not in _visible_text(rule.group(1))


def test_forecast_column_says_why_there_is_no_interval(demo: Any) -> None:
    from kepu.plans.models import TargetStatus

    # Every target page, as the office: no "[—, —]", and every row either has an interval or a reason
    for s in TargetStatus.objects.filter(org_unit__code="320400").select_related("target"):
        page = _login("office").get(f"/targets/{s.target.code}/").content.decode()
        assert "[—, —]" not in page and "[, ]" not in page
        for cell in re.findall(r'data-testid="forecast">(.*?)</td>', page, flags=re.S):
            text = _visible_text(cell)
            assert re.search(r"\[[\d,.]+, [\d,.]+\]", text) or re.search(r"无需预测|无法给出区间|无法预测", text), text
    met = TargetStatus.objects.filter(status="met", low__isnull=True).select_related("target").first()
    assert met is not None
    page = _login("office").get(f"/targets/{met.target.code}/").content.decode()
    assert "已达成，无需预测" in page


# -- 2. No developer or English text -----------------------------------------------------------------

def test_plan_pages_have_no_developer_or_english_text(demo: Any, plan: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.plans.models import Observation
    from kepu.plans.services import observation_publish

    # A value derived by the literacy app, as its publication writes it
    derived = observation_publish(
        indicator=plan.indicators.get(code="LIT_RATE"), org_unit=OrgUnit.objects.get(code="320412"), year=2023,
        value=19.87, source="literacy", se=1.2, ci_low=17.5, ci_high=22.2,
        note="素质测评 cz-2023：18–69 岁，样本 610 人",
    )
    manual = Observation.objects.filter(org_unit__code="320412", indicator__code="HQ_FARMERS").first()
    assert manual is not None
    pages = ["/", "/plan/", "/audit/", "/audit/?page=2", f"/observations/{derived.pk}/",
             f"/observations/{manual.pk}/", *(f"/targets/T{n:02d}/" for n in range(1, 22))]
    found: dict[tuple[str, str], list[str]] = {}
    for role in ROLES:
        client = _login(role)
        for url in pages:
            r = client.get(url)
            if r.status_code == 404:  # an observation outside the role's scope
                continue
            assert r.status_code == 200, (role, url)
            found[(role, url)] = _developer_text(r.content.decode())
    assert {k: v for k, v in found.items() if v} == {}


def test_audit_log_reads_in_words(users: dict[str, Any], plan: Any, report: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.plans.services import observation_publish

    observation_publish(indicator=plan.indicators.get(code="LIT_RATE"), org_unit=OrgUnit.objects.get(code="320412"),
                        year=2023, value=19.87, source="literacy", note="素质测评 cz-2023：18–69 岁，样本 610 人")
    report(users["wujin"], "SCI_COUNSELLORS_TRAINED", "320412", 2024, 40)
    page = _visible_text(_login("office").get("/audit/").content.decode())
    # The action, the object and the change in words, the system as the actor
    assert "系统 由平台记录生成数据 数据 公民具备科学素质比例 · 武进区 · 2023 数值 ∅ → 19.87 素质测评 cz-2023" in page
    assert "observation.derive" not in page and "LIT_RATE" not in page and "literacy" not in page
    # Roles and names of the plan's own records are in words too
    assert "修改角色" in page and "角色 ∅ → 辖市(区)填报员(320412)" in page
    # Searching by the indicator's name finds entries stored under its code
    found = _visible_text(_login("office").get("/audit/?q=培训科技辅导员").content.decode())
    assert "培训科技辅导员人数 · 武进区 · 2024" in found and "公民具备科学素质比例 · 武进区" not in found


def test_every_audited_action_has_words() -> None:
    from kepu.core.models import AuditEntry
    from kepu.web.audit import ACTIONS, VERBS, action_label

    src = Path(__file__).resolve().parents[1] / "src" / "kepu"
    actions = set()
    for path in src.rglob("*.py"):
        actions |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert actions
    for action in sorted(actions):
        entry = AuditEntry(action=action, object_type="plans.target")
        label = action_label(entry)
        assert re.search(r"[\u4e00-\u9fff]", label), action
        assert action in ACTIONS or action.rsplit(".", 1)[-1] in VERBS, action


def test_plan_notes_are_bilingual(users: dict[str, Any], plan: Any) -> None:
    zh = _login("office").get("/targets/T21/").content.decode()
    note = re.search(r'data-testid="target-note">(.*?)</dd>', zh, flags=re.S)
    assert note and note.group(1).startswith("对每个区的要求")
    client = _login("office")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    en = client.get("/targets/T21/").content.decode()
    note = re.search(r'data-testid="target-note">(.*?)</dd>', en, flags=re.S)
    assert note and note.group(1).startswith("A per-district requirement")


def test_legacy_single_note_is_still_read(region: Any, edited_plan: Any) -> None:
    from kepu.plans.models import Target
    from kepu.plans.plan_import import plan_import

    def legacy(doc: dict[str, Any]) -> None:
        for code, note in (("T02", "Provincial designation."), ("T03", "按市级称号计。")):
            t = target_of(doc, code)
            t.pop("note_zh"), t.pop("note_en")
            t["note"] = note

    plan_import(path=edited_plan(legacy))
    t02, t03 = Target.objects.get(code="T02"), Target.objects.get(code="T03")
    assert (t02.note_zh, t02.note_en) == ("", "Provincial designation.")
    assert (t03.note_zh, t03.note_en) == ("按市级称号计。", "")
    assert t02.note("zh-hans") == "" and t03.note("en") == "按市级称号计。"


def test_yearly_counts_are_whole_numbers(users: dict[str, Any], plan: Any, report: Any, english: Any) -> None:
    from kepu.core.errors import InputError

    year = timezone.localdate().year - 1
    # A yearly count cannot be entered as 1.3 …
    with pytest.raises(InputError):
        report(users["wujin"], "DISTRICT_LITERACY_HEARINGS", "320412", year, "1.3")
    # … and the city figure of "every district at least once" is the lowest district's count
    from kepu.core.models import OrgUnit

    for unit in OrgUnit.objects.filter(parent__code="320400", level="district"):
        _obs(plan, "DISTRICT_LITERACY_HEARINGS", unit.code, year, 1 if unit.code == "320413" else 2)
    _refresh(plan)
    city = _status("T21", "320400")
    assert city.current == 1.0
    page = _login("office").get("/").content.decode()
    row = re.search(r'<tr data-target="T21">.*?</tr>', page, flags=re.S)
    assert row
    values = re.findall(r'data-testid="cell-value">([^<]*)<', row.group(0))
    assert values and all(re.fullmatch(r"\d+(\(\d{4}年\))?", v) for v in values), values


def test_values_at_the_indicators_precision() -> None:
    from kepu.plans.selectors import format_value

    assert format_value(0.0, True) == "0" and format_value(1177.4, True) == "1,177"
    assert format_value(100.0, False) == "100.0" and format_value(21.34, False) == "21.3"


# -- 4. Charts ---------------------------------------------------------------------------------------

def test_compare_chart_bars_from_zero_full_names_and_matching_legend(demo: Any) -> None:
    page = _login("office").get("/").content.decode()
    option = _option(page, "compare")
    assert option["xAxis"]["min"] == 0 and "scale" not in option["xAxis"]
    assert option["grid"]["containLabel"] is True and option["yAxis"]["axisLabel"]["interval"] == 0
    assert "常州经济开发区" in option["yAxis"]["data"]
    bars = [s for s in option["series"] if s["type"] == "bar"]
    colours = {s["name"]: s["itemStyle"]["color"] for s in bars}
    assert option["legend"]["data"] == [*colours, "目标"]
    # every bar carries its status colour, and its value has one decimal (a rate)
    for s in bars:
        assert all(v is None or round(v, 1) == v for v in s["data"])
    assert sum(v is not None for s in bars for v in s["data"]) == len(option["yAxis"]["data"])


def test_trend_and_target_charts_keep_ci_inside_and_round(demo: Any) -> None:
    page = _login("office").get("/").content.decode()
    trend = _option(page, "trend")
    bars = next(s for s in trend["series"] if s.get("kepu") == "errorbars")
    lows, highs = [r[1] for r in bars["data"]], [r[2] for r in bars["data"]]
    assert trend["yAxis"]["min"] <= min(lows) and trend["yAxis"]["max"] >= max(highs)
    legend = [e if isinstance(e, str) else e["name"] for e in trend["legend"]["data"]]
    assert legend == ["常州市", "95% 置信区间", "目标"]
    # The T01 chart: the city highlighted, the seven districts listed but off until asked for
    t01 = _option(_login("office").get("/targets/T01/").content.decode(), "chart")
    city = next(s for s in t01["series"] if s["name"] == "常州市")
    assert city["lineStyle"]["width"] == 3
    districts = ["天宁区", "钟楼区", "新北区", "武进区", "金坛区", "溧阳市", "常州经济开发区"]
    assert {n: False for n in districts} == t01["legend"]["selected"]
    names = [e if isinstance(e, str) else e["name"] for e in t01["legend"]["data"]]
    drawn = {s["name"] for s in t01["series"]}
    assert set(names) == drawn
    ci = next(s for s in t01["series"] if s.get("kepu") == "errorbars")
    assert t01["yAxis"]["min"] <= min(r[1] for r in ci["data"]) and t01["yAxis"]["max"] >= max(r[2] for r in ci["data"])
    # A count target: whole numbers, cumulative axis from 0
    t03 = _option(_login("office").get("/targets/T03/").content.decode(), "chart")
    assert t03["yAxis"]["min"] == 0
    assert all(v is None or float(v).is_integer() for s in t03["series"] for v in s.get("data", [])
               if not isinstance(v, list))
