"""Literacy pages and exports: scope (a district sees its own district only), suppression, the
item bank's review rights, and the wave's estimate reaching the dashboard with its CI."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from conftest import PASSWORD
from tests.test_literacy_waves import respondent_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def estimated(users: dict[str, Any], plan: Any, django_capture_on_commit_callbacks: Any) -> Any:
    from kepu.literacy.estimates import wave_estimate, wave_weight
    from kepu.literacy.indicators import wave_publish
    from kepu.literacy.services import wave_create
    from kepu.literacy.tests.factories import load_items
    from kepu.literacy.waves import respondents_import

    load_items()
    wave = wave_create(code="t-2025", year=2025)

    def few_primary(rows: list[dict[str, Any]]) -> None:  # a rare category, to be suppressed
        for row in rows[::40]:
            row.update(education="primary", age=40)

    respondents_import(wave=wave, content=respondent_csv(n_per_psu=25, edit=few_primary), name="r.csv")
    wave_weight(wave=wave, variables=["district", "sex", "area"])
    wave_estimate(wave=wave)
    with django_capture_on_commit_callbacks(execute=True):
        wave_publish(wave=wave, plan=plan)
    return wave


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def xlsx_cells(content: bytes) -> list[list[object]]:
    wb = load_workbook(io.BytesIO(content))
    return [[ws.title, *row] for ws in wb.worksheets for row in ws.iter_rows(values_only=True)]


def client_for(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=PASSWORD)
    return c


def test_office_sees_every_breakdown(estimated: Any) -> None:
    html = client_for("office").get("/literacy/waves/t-2025/").content.decode()
    assert 'data-testid="overall"' in html
    for district in ("武进区", "新北区", "溧阳市"):
        assert district in html
    for table in ("breakdown-district", "breakdown-age_band", "breakdown-sex", "item-analysis"):
        assert f'data-testid="{table}"' in html


def test_breakdown_charts_keep_every_ci_whisker_inside_the_plot(estimated: Any) -> None:
    response = client_for("office").get("/literacy/waves/t-2025/")
    for _b, chart in response.context["breakdowns"]:
        option = json.loads(chart)
        whiskers = next(s for s in option["series"] if s.get("kepu") == "errorbars")["data"]
        assert option["yAxis"]["min"] == 0 and max(hi for _i, _lo, hi in whiskers) <= option["yAxis"]["max"]


def test_district_reporter_sees_only_own_district(estimated: Any) -> None:
    from kepu.literacy.models import WaveEstimate

    c = client_for("wujin")
    html = c.get("/literacy/waves/t-2025/").content.decode()
    assert "武进区" in html and "新北区" not in html and "溧阳市" not in html
    own = WaveEstimate.objects.get(wave=estimated, variable="district", level="320412", unit="")
    # The headline is Wujin's row: 3 PSUs give it 2 degrees of freedom and too wide an interval to show.
    assert own.suppressed and "suppress_width" in own.flags
    assert 'data-testid="overall-suppressed">—' in html and f"样本 {own.n} 人：置信区间过宽，按 NCHS" in html
    assert 'data-testid="district-scope"' in html and 'data-testid="item-analysis"' not in html
    wb = load_workbook(io.BytesIO(c.get("/literacy/waves/t-2025/export.xlsx").content))
    cells = {str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v is not None}
    assert "武进区" in cells and "新北区" not in cells


# -- the NCHS presentation standard on the page, in XLSX and PDF (issue 7 point 4) -------------------

SUPPRESSED_NOTE = "— 样本量或有效样本量不足 30，或置信区间过宽，按 NCHS 比例数据发布标准不予显示。"
REVIEW_DF_NOTE = "* 自由度小于 8，结果需审慎解读。"


def _cells(html: str, testid: str) -> list[list[str]]:
    """The rows of a table on the page as visible text, one list of cell texts per row."""
    table = html[html.index(f'data-testid="{testid}"'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
            for r in rows]


def test_the_nchs_standard_replaces_the_n_below_50_rule(estimated: Any) -> None:
    from kepu.literacy.models import WaveEstimate

    # City-wide: 148 respondents with 高中(含中专), shown before (n ≥ 50), now suppressed for the interval's width.
    senior = WaveEstimate.objects.get(wave=estimated, variable="education", level="senior", unit="")
    assert senior.n >= 50 and senior.suppressed and senior.flags == ["suppress_width"]
    html = client_for("office").get("/literacy/waves/t-2025/").content.decode()
    row = next(r for r in _cells(html, "breakdown-education") if r[0] == "高中(含中专)")
    assert row == ["高中(含中专)", str(senior.n), "—", "—", "—"]
    assert SUPPRESSED_NOTE in html

    # Wujin's urban residents: 33 respondents (suppressed before, n < 50), now shown, with the df mark.
    urban = WaveEstimate.objects.get(wave=estimated, variable="area", level="urban", unit="320412")
    assert 30 <= urban.n < 50 and not urban.suppressed and urban.flags == ["review_df"] and urban.df == 2
    lo, hi = urban.ci_kg_low, urban.ci_kg_high
    html = client_for("wujin").get("/literacy/waves/t-2025/").content.decode()
    row = next(r for r in _cells(html, "breakdown-area") if r[0] == "城镇")
    assert row[:4] == ["城镇", "33", f"{100 * urban.estimate:.1f}%*", f"{100 * lo:.1f}%–{100 * hi:.1f}%"]
    assert REVIEW_DF_NOTE in html and SUPPRESSED_NOTE in html  # Wujin's rural row is suppressed


def test_exports_show_suppressed_cells_and_marks_with_footnotes(estimated: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.literacy.models import WaveEstimate

    senior = WaveEstimate.objects.get(wave=estimated, variable="education", level="senior", unit="")
    edz = WaveEstimate.objects.get(wave=estimated, variable="district", level="changzhou_edz", unit="")
    assert edz.n >= 50 and not edz.suppressed and edz.flags == ["review_df"]
    office = client_for("office")
    rows = xlsx_cells(office.get("/literacy/waves/t-2025/export.xlsx").content)
    head = next(r for r in rows if r[1] == "分组")
    by_name = {(r[1], r[2]): dict(zip(head, r, strict=True)) for r in rows if len(r) == len(head)}
    cell = by_name[("文化程度", "高中(含中专)")]
    assert cell["样本量"] == senior.n and cell["比例(%)"] == "—" and cell["95% 置信区间下限(%)"] == "—"
    edz_name = OrgUnit.objects.get(code="changzhou_edz").name_zh
    cell = by_name[("辖市(区)", edz_name)]
    assert cell["比例(%)"] == round(100 * edz.estimate, 1) and cell["注"] == "*"
    assert cell["95% 置信区间下限(%)"] == round(100 * edz.ci_kg_low, 1) and cell["自由度"] == 2
    notes = [r[1] for r in rows if r[0] == "估计结果"]
    assert SUPPRESSED_NOTE in notes and REVIEW_DF_NOTE in notes

    text = pdf_text(office.get("/literacy/waves/t-2025/export.pdf").content)
    flat = re.sub(r"\s+", " ", text)
    assert f"文化程度 高中(含中专) {senior.n} " in flat and f"{senior.n} {senior.effective_n:.1f} — — — —" in flat
    assert f"{edz_name} {edz.n} {edz.effective_n:.1f} {100 * edz.estimate:.1f}* " in flat
    assert SUPPRESSED_NOTE in flat and REVIEW_DF_NOTE in flat and "NCHS" in flat
    assert "样本量不足 50" not in flat


def test_each_mark_has_its_footnote_and_a_suppressed_cell_none() -> None:
    from django.utils import translation

    from kepu.literacy.models import WaveEstimate
    from kepu.literacy.selectors import footnotes

    def row(flags: list[str]) -> WaveEstimate:
        return WaveEstimate(n=40, estimate=0.9, se=0.05, ci_low=0.8, ci_high=1.0, flags=flags,
                            suppressed=any(f.startswith("suppress_") for f in flags))

    rows = [row(["review_complement"]), row(["suppress_n", "suppress_width", "review_df"]), row(["review_p_0_or_1"])]
    assert [e.marks for e in rows] == ["†", "", "‡"]  # a suppressed cell shows "—", never a mark
    assert [note[0] for note in footnotes(rows)] == ["—", "†", "‡"]
    assert rows[1].suppressed_because == "样本量不足 30、置信区间过宽"
    with translation.override("en"):
        assert rows[1].suppressed_because == "fewer than 30 respondents, confidence interval too wide"
    assert footnotes([row(["review_df"])]) == [REVIEW_DF_NOTE]


def test_a_suppressed_headline_says_why_in_every_format(estimated: Any) -> None:
    from kepu.literacy.models import WaveEstimate

    own = WaveEstimate.objects.get(wave=estimated, variable="district", level="320412", unit="")
    assert own.flags == ["suppress_width", "review_df"]
    wujin = client_for("wujin")
    reason = f"样本 {own.n} 人：置信区间过宽，按 NCHS 比例数据发布标准不予显示"
    assert reason in wujin.get("/literacy/waves/t-2025/").content.decode()
    assert any(f"武进区{reason}。" == v for r in xlsx_cells(wujin.get("/literacy/waves/t-2025/export.xlsx").content)
               for v in r)
    assert f"武进区{reason}。" in pdf_text(wujin.get("/literacy/waves/t-2025/export.pdf").content)


def test_pages_need_login_and_the_test_is_public(estimated: Any) -> None:
    anon = Client()
    for url in ("/literacy/", "/literacy/waves/t-2025/", "/literacy/items/", "/literacy/waves/t-2025/export.xlsx"):
        assert anon.get(url).status_code == 302
    assert anon.get("/test/").status_code == 200


def test_only_reviewers_change_item_status(estimated: Any) -> None:
    from kepu.literacy.models import Item

    assert client_for("wujin").post("/literacy/items/K002/status/", {"to": "retired"}).status_code == 403
    assert Item.objects.get(code="K002").status == "live"
    reviewer = client_for("reviewer")
    asked = reviewer.post("/literacy/items/K002/status/", {"to": "retired"})  # first click: a confirmation
    assert asked.status_code == 200 and 'data-testid="confirm-retire"' in asked.content.decode()
    assert Item.objects.get(code="K002").status == "live"
    reviewer.post("/literacy/items/K002/status/", {"to": "retired", "confirm": "yes"})
    assert Item.objects.get(code="K002").status == "retired"


def test_the_wave_reaches_the_dashboard_with_its_confidence_interval(estimated: Any) -> None:
    from kepu.plans.models import Observation

    city = Observation.objects.get(indicator__code="LIT_RATE", org_unit__code="320400", year=2025)
    response = client_for("office").get("/")
    chart = json.loads(response.context["trend_chart"])
    years = chart["xAxis"]["data"]
    bars = next(s for s in chart["series"] if s.get("kepu") == "errorbars")["data"]
    assert [years.index("2025"), round(city.ci_low, 1), round(city.ci_high, 1)] in bars  # the indicator's precision


def test_office_uploads_a_wave_and_others_cannot(users: dict[str, Any], plan: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kepu.literacy.models import Respondent, Wave
    from kepu.literacy.tests.factories import load_items

    load_items()
    good = respondent_csv(n_per_psu=8)
    form = {"code": "up-2026", "year": "2026", "name": "", "mode": "face_to_face", "start": "2026-05-01",
            "end": "2026-06-30"}
    denied = client_for("wujin").post("/literacy/", {**form, "file": SimpleUploadedFile("r.csv", good)})
    assert denied.status_code == 403 and not Wave.objects.exists()
    bad = good.decode().replace(",M,", ",X,", 1).encode()
    refused = client_for("office").post("/literacy/", {**form, "file": SimpleUploadedFile("r.csv", bad)})
    assert refused.status_code == 422 and "sex 列：应为M/F 或 男/女" in refused.content.decode()
    assert not Respondent.objects.exists()
    done = client_for("office").post("/literacy/", {**form, "file": SimpleUploadedFile("r.csv", good)})
    assert done.status_code == 302
    wave = Wave.objects.get(code="up-2026")
    assert (wave.fieldwork_start.isoformat(), wave.mode, wave.weighting["converged"]) == ("2026-05-01", "face_to_face",
                                                                                        True)
    assert wave.estimates.filter(variable="overall").exists()


# -- a district user's view holds nothing computed from other districts (issue 6 point 16) --------

def _seen_by(c: Client) -> dict[str, Any]:
    """Everything a user gets for the wave: the page, the XLSX and the PDF (less per-request noise)."""
    html = c.get("/literacy/waves/t-2025/").content.decode()
    main = html[html.index("<main"):html.index("</main>")]
    pdf = pdf_text(c.get("/literacy/waves/t-2025/export.pdf").content)
    return {
        "html": re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main),
        "xlsx": xlsx_cells(c.get("/literacy/waves/t-2025/export.xlsx").content),
        "pdf": re.sub(r"生成于 [0-9-]+ [0-9:]+", "", pdf),
    }


def _reestimate(wave: Any) -> Any:
    from kepu.literacy.estimates import wave_estimate, wave_weight
    from kepu.literacy.models import WaveEstimate

    wave_weight(wave=wave, variables=["district", "sex", "area"])
    wave_estimate(wave=wave)
    return WaveEstimate.objects.get(wave=wave, variable="overall")


def test_a_district_user_cannot_recover_the_city_overall(estimated: Any) -> None:
    """If nothing a Wujin user sees changes when every other district's answers change (and the
    city rate with them), no combination of what they see can give the city rate."""
    from kepu.literacy.models import Respondent, WaveEstimate

    wujin = client_for("wujin")
    before = _seen_by(wujin)
    city_before = WaveEstimate.objects.get(wave=estimated, variable="overall")
    top_tier = estimated.profile.config["tiers"][0]["label_zh"]
    others = Respondent.objects.filter(wave=estimated).exclude(district__code="320412")
    others.update(passed=True, score=99.0, tier=top_tier)
    city_after = _reestimate(estimated)
    assert city_after.estimate - city_before.estimate > 0.3  # the city figure moved a lot …
    assert _seen_by(wujin) == before  # … and the Wujin user's page, XLSX and PDF did not move at all

    # The comparison is sensitive: a change inside Wujin does show.
    Respondent.objects.filter(wave=estimated, district__code="320412", sex="F").update(passed=True)
    _reestimate(estimated)
    assert _seen_by(wujin)["html"] != before["html"]


def test_district_breakdowns_are_the_districts_own(estimated: Any) -> None:
    from kepu.literacy.models import WaveEstimate

    response = client_for("wujin").get("/literacy/waves/t-2025/")
    shown = [e for b, _chart in response.context["breakdowns"] for e in b.rows]
    assert shown and {e.unit for e in shown} == {"320412"}
    assert {b.variable for b, _c in response.context["breakdowns"]} >= {"sex", "age_band"}
    assert not WaveEstimate.objects.filter(wave=estimated, unit="320412", variable="district").exists()
    assert client_for("wujin").get("/literacy/waves/t-2025/?unit=320400").context["r"].unit.code == "320412"


# -- the wave results page and exports (issue 6 point 9) ------------------------------------------

def test_item_n_never_exceeds_the_sample_and_alpha_is_given(estimated: Any) -> None:
    response = client_for("office").get("/literacy/waves/t-2025/")
    html = response.content.decode()
    analysis, headline = response.context["analysis"], response.context["r"].headline
    assert analysis.sample_n == headline.n  # the respondents aged 18–69, not everyone in the file
    assert analysis.items and max(s.n for s in analysis.items) <= headline.n
    assert 'data-testid="item-n-note"' in html and f"共 {headline.n} 人" in html
    assert [a.alpha is not None for a in analysis.reliability] == [True] * 5  # four dimensions and all items
    assert 'data-testid="reliability"' in html


def test_categories_are_in_their_natural_order(estimated: Any) -> None:
    response = client_for("office").get("/literacy/waves/t-2025/")
    by = {b.variable: [e.level for e in b.rows] for b, _chart in response.context["breakdowns"]}
    assert by["education"] == ["primary", "junior", "senior", "bachelor"]
    assert by["age_band"] == ["18-29", "30-39", "40-49", "50-59", "60-69"]
    assert by["district"][:3] == ["320402", "320404", "320411"]
    html = response.content.decode()
    assert html.index("小学及以下") < html.index("初中") < html.index("本科及以上")


RAW_KEYS = ("age_band", "key_group", "cast_newera", "converged", "kish_deff", "Group", "by education",
            "fay_herriot", "district ×")


def test_the_literacy_pdf_opens_with_the_headline_and_has_page_numbers(estimated: Any) -> None:
    from kepu.literacy.models import WaveEstimate

    city = WaveEstimate.objects.get(wave=estimated, variable="overall")
    text = pdf_text(client_for("office").get("/literacy/waves/t-2025/export.pdf").content)
    first = text[:200]
    assert f"具备科学素质的比例 {100 * city.estimate:.1f}%" in first
    assert f"95% 置信区间 {100 * city.ci_kg_low:.1f}%–{100 * city.ci_kg_high:.1f}%" in first  # Korn–Graubard
    assert "第 1 页" in text and "文化程度" in text and "小学及以下" in text and "信度(Cronbach α)" in text
    assert [k for k in RAW_KEYS if k in text] == []

    own = WaveEstimate.objects.get(wave=estimated, variable="district", level="320412", unit="")
    district_text = pdf_text(client_for("wujin").get("/literacy/waves/t-2025/export.pdf").content)
    assert own.suppressed and f"武进区样本 {own.n} 人：" in district_text[:200]  # Wujin's own headline


def test_exports_and_page_use_chinese_labels(estimated: Any) -> None:
    c = client_for("office")
    cells = [str(v) for row in xlsx_cells(c.get("/literacy/waves/t-2025/export.xlsx").content) for v in row if v]
    assert [k for k in RAW_KEYS if any(k in v for v in cells)] == []
    assert "年龄组" in cells and "18–29 岁" in cells and "辖市(区) × 性别 × 城乡" in cells
    html = c.get("/literacy/waves/t-2025/").content.decode()
    main = html[html.index("<main"):html.index("</main>")]
    visible = re.sub(r"<[^>]+>", " ", main)
    assert [k for k in RAW_KEYS if k in visible] == []
    assert "新时代公民科学素质测评(百分制)" in visible


def test_literacy_audit_entries_read_as_sentences(estimated: Any) -> None:
    from kepu.core.models import AuditEntry

    entries = AuditEntry.objects.filter(object_type="literacy.wave")
    actions = set(entries.values_list("action", flat=True))
    assert {"wave.import", "wave.weight", "wave.estimate", "wave.publish"} <= actions
    for e in entries:
        assert e.comment and re.search(r"[\u4e00-\u9fff]", e.comment), e.comment
        assert "Report(" not in e.comment and "=" not in e.comment, e.comment
    assert "已收敛" in entries.get(action="wave.weight").comment


# -- the wave upload on the page is all or nothing (issue 6 point 15) ------------------------------

def test_a_failed_wave_upload_writes_nothing(users: dict[str, Any], plan: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kepu.core.models import AuditEntry
    from kepu.literacy.models import Respondent, Wave, WaveEstimate
    from kepu.literacy.tests.factories import load_items

    load_items()

    def too_old(rows: list[dict[str, Any]]) -> None:  # imports fine, but nobody is in the 18–69 scope
        for row in rows:
            row["age"] = 75

    def snapshot() -> tuple[int, ...]:
        return tuple(m.objects.count() for m in (Wave, Respondent, WaveEstimate, AuditEntry))

    before = snapshot()
    form = {"code": "up-2026", "year": "2026", "name": "", "mode": "face_to_face", "start": "", "end": ""}
    refused = client_for("office").post(
        "/literacy/", {**form, "file": SimpleUploadedFile("r.csv", respondent_csv(n_per_psu=8, edit=too_old))}
    )
    assert refused.status_code == 422
    assert snapshot() == before


def test_an_upload_never_replaces_an_existing_wave(estimated: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kepu.literacy.models import Respondent

    n = Respondent.objects.filter(wave=estimated).count()
    form = {"code": "t-2025", "year": "2025", "name": "", "mode": "face_to_face", "start": "", "end": ""}
    refused = client_for("office").post("/literacy/", {**form, "file": SimpleUploadedFile("r.csv", respondent_csv(8))})
    assert refused.status_code == 422 and "已被另一次调查使用" in refused.content.decode()
    assert Respondent.objects.filter(wave=estimated).count() == n


def test_alpha_when_forms_differ_or_the_reason_it_is_missing(users: dict[str, Any], plan: Any) -> None:
    import random

    from kepu.literacy.estimates import wave_estimate, wave_weight
    from kepu.literacy.selectors import item_analysis
    from kepu.literacy.services import wave_create
    from kepu.literacy.tests.factories import load_items
    from kepu.literacy.waves import respondents_import

    load_items()
    wave = wave_create(code="forms-2025", year=2025)
    rnd = random.Random(3)

    def forms(rows: list[dict[str, Any]]) -> None:
        """Each respondent gets half the knowledge items and a single method item."""
        for row in rows:
            for code in rnd.sample([f"K{i:03d}" for i in range(1, 13)], 6):
                row[code] = ""
            keep = rnd.choice([f"M{i:03d}" for i in range(1, 7)])
            for i in range(1, 7):
                if f"M{i:03d}" != keep:
                    row[f"M{i:03d}"] = ""

    respondents_import(wave=wave, content=respondent_csv(n_per_psu=25, edit=forms), name="forms.csv")
    wave_weight(wave=wave, variables=["district", "sex", "area"])
    wave_estimate(wave=wave)
    by = {a.label: a for a in item_analysis(wave).reliability}
    knowledge, method = by["科学知识"], by["科学方法"]
    assert knowledge.method == "pairwise" and knowledge.items == 6 and knowledge.alpha is not None
    assert knowledge.n >= 30
    assert method.alpha is None and "只有 1 道题" in method.reason
    html = client_for("office").get("/literacy/waves/forms-2025/").content.decode()
    assert "只有 1 道题，无法计算内部一致性" in html and "标准化 α" in html


def test_towns_are_listed_only_where_the_model_adds_something(estimated: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.literacy.models import WaveEstimate

    town = OrgUnit.objects.filter(parent__code="320412", level="town").order_by("code").first()
    WaveEstimate.objects.create(wave=estimated, variable="town", level=town.code, n=40, estimate=0.3, se=0.05,
                                ci_low=0.2, ci_high=0.4, method="fay_herriot")
    model = {"adequate": True, "sigma2_u_at_zero": True, "shown": 1, "areas": 12, "reason_codes": []}

    def town_view(user: str) -> tuple[list[str], str]:
        r = client_for(user).get("/literacy/waves/t-2025/").context["r"]
        return [e.level for e in r.towns], r.town_note

    estimated.town_model = model
    estimated.save()
    towns, note = town_view("office")
    assert towns == [] and "不逐一列出" in note  # σ²ᵤ = 0: every town equals its district

    estimated.town_model = {**model, "adequate": False, "reason_codes": ["outliers", "non_normal"]}
    estimated.save()
    towns, note = town_view("office")
    assert towns == [] and "偏离过大" in note and "正态" in note and "outliers" not in note

    estimated.town_model = {**model, "sigma2_u_at_zero": False, "sigma2_u": 0.002}
    estimated.save()
    assert town_view("office")[0] == [town.code]
    assert town_view("wujin")[0] == [town.code]
    assert town_view("xinbei")[0] == []


def test_an_unpublished_wave_is_the_offices_until_published(estimated: Any) -> None:
    """Pages, exports and the API show a wave's results to others only once the office has published it."""
    from kepu.literacy.models import Wave

    Wave.objects.filter(pk=estimated.pk).update(published_at=None)
    for user in ("wujin", "reviewer"):
        c = client_for(user)
        assert "t-2025" not in c.get("/literacy/").content.decode()
        for url in ("/literacy/waves/t-2025/", "/literacy/waves/t-2025/export.xlsx", "/api/literacy/waves/t-2025"):
            assert c.get(url).status_code in (403, 404), (user, url)
    office = client_for("office")
    assert "t-2025" in office.get("/literacy/").content.decode()
    assert office.get("/literacy/waves/t-2025/").status_code == 200
