"""Every upload is bounded and opened safely (kepu.core.uploads): size and rows checked before
parsing, zip and dimension bombs refused, real rows counted, YAML aliases bounded and duplicate keys
refused, long CSV fields named by row and column, non-finite numbers and over-long codes and names
refused before the database sees them, codes are slugs, and XLSX Kepu writes holds no formulas."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from conftest import REGION_FILE
from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.services import region_import
from kepu.core.uploads import read_xlsx, xlsx_bytes, yaml_load
from kepu.literacy.tables import read_table
from kepu.plans import excel
from kepu.plans.models import Observation, Plan
from kepu.plans.plan_import import plan_import
from tests.conftest import fill, target_of, template_of, xlsx

pytestmark = pytest.mark.usefixtures("english")


def _workbook(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    return xlsx(wb)


def _rewrite_member(content: bytes, member: str, edit: Any) -> bytes:
    """The same .xlsx with one zip member's text changed by edit(text)."""
    src = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == member:
                data = edit(data.decode()).encode()
            dst.writestr(info.filename, data)
    return out.getvalue()


@pytest.fixture
def no_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if openpyxl is asked to parse anything (the checks must come first)."""
    import openpyxl

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl was called before the upload was checked")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


# -- size and rows ---------------------------------------------------------------------------------

def test_oversized_template_is_refused_before_parsing(settings: Any, no_openpyxl: None) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"template": {"max_bytes": 1000}}
    with pytest.raises(InputError) as info:
        read_xlsx(b"PK" + b"\0" * 2000, name="big.xlsx", kind="template")
    assert str(info.value) == "File big.xlsx is 2 KB, above the limit of 1 KB; split it and upload the parts."


def test_oversized_upload_on_the_page_saves_nothing(users: dict[str, Any], plan: Plan, client: Any,
                                                    settings: Any) -> None:
    # Given 武进区's filled template, and a template limit smaller than the file
    wb = template_of(plan, users["wujin"])
    fill(wb, {"HQ_FARMERS": 900})
    content = xlsx(wb)
    settings.KEPU_UPLOAD_LIMITS = {"template": {"max_bytes": len(content) - 1}}
    client.force_login(users["wujin"])
    # When it is uploaded on the data-entry page
    upload = io.BytesIO(content)
    upload.name = "kepu-320412-2024.xlsx"
    r = client.post("/report/upload/", {"file": upload}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    # Then the page says the file is too big, and nothing was saved
    assert re.search(r"kepu-320412-2024\.xlsx is [\d.]+ KB, above the limit of [\d.]+ KB", r.content.decode())
    assert not Observation.objects.exists()


def test_respondent_csv_over_the_row_limit_is_refused(settings: Any) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"respondents": {"max_rows": 5}}
    content = "respondent_id,stratum\n" + "".join(f"r{i},s\n" for i in range(6))
    with pytest.raises(InputError, match=re.escape("r.csv has more than the limit of 5 rows")):
        read_table(content.encode(), "r.csv")
    # and five rows (plus the header) are fine
    header, rows = read_table(("respondent_id,stratum\n" + "".join(f"r{i},s\n" for i in range(5))).encode(), "r.csv")
    assert (header, len(rows)) == (["respondent_id", "stratum"], 5)


def test_respondent_xlsx_over_the_row_limit_is_refused(settings: Any) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"respondents": {"max_rows": 5}}
    content = _workbook([["respondent_id", "stratum"], *[[f"r{i}", "s"] for i in range(6)]])
    with pytest.raises(InputError, match=re.escape("r.xlsx has more than the limit of 5 rows")):
        read_table(content, "r.xlsx")


def test_a_wrong_dimension_does_not_drop_rows() -> None:
    # Given a sheet of 10 data rows whose <dimension> claims it ends at B2
    content = _workbook([["respondent_id", "stratum"], *[[f"r{i}", "s"] for i in range(10)]])
    content = _rewrite_member(content, "xl/worksheets/sheet1.xml",
                              lambda xml: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:B2"', xml))
    assert load_workbook(io.BytesIO(content), read_only=True).worksheets[0].max_row == 2  # what a naive reader sees
    # When it is read, every real row is there
    _header, rows = read_table(content, "r.xlsx")
    assert [r[0] for r in rows] == [f"r{i}" for i in range(10)]


def test_a_dimension_bomb_is_refused() -> None:
    # Given a sheet claiming A1:XFD1048576 and holding a cell in the last column
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["respondent_id", "stratum"])
    ws.cell(row=2, column=16384, value="x")
    with pytest.raises(InputError, match=re.escape("r.xlsx: row 2 has 16384 columns, above the limit of 1000")):
        read_table(xlsx(wb), "r.xlsx")


def test_a_zip_bomb_is_refused_before_parsing(no_openpyxl: None) -> None:
    # Given an .xlsx with a member that inflates a thousandfold (4 MB of zeros)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/sharedStrings.xml", b"\0" * (4 * 1024 * 1024))
    with pytest.raises(InputError, match=r"r\.xlsx unpacks to too much .* looks malicious; refused"):
        read_table(out.getvalue(), "r.xlsx")


def test_xml_entities_in_an_xlsx_are_refused() -> None:
    # Given a sheet whose XML declares an entity (the billion-laughs pattern); defusedxml refuses it
    content = _workbook([["respondent_id", "stratum"], ["r1", "s"]])
    content = _rewrite_member(content, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        "<worksheet", '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><worksheet', 1))
    with pytest.raises(InputError, match=r"r\.xlsx is not a valid Excel \.xlsx file and cannot be read"):
        read_table(content, "r.xlsx")


def test_csv_field_over_the_limit_names_row_and_column() -> None:
    content = "respondent_id,stratum\nr1,s\nr2," + "x" * 20_000 + "\n"
    with pytest.raises(InputError) as info:
        read_table(content.encode(), "r.csv")
    assert str(info.value) == "r.csv: row 3, column stratum is longer than the limit of 10,000 characters."
    # A longer field is named by its row and column too (the columnar reader has no smaller field limit)
    content = "respondent_id,stratum\nr1,\"" + "x" * 200_000 + "\"\n"
    with pytest.raises(InputError, match=r"r.csv: row 2, column stratum is longer than the limit"):
        read_table(content.encode(), "r.csv")
    # and so is a runaway quote (5 MB with no closing quote)
    content = "respondent_id,stratum\nr1,s\nr2,\"" + "x" * 5_000_000 + "\n"
    with pytest.raises(InputError, match=r"r.csv: row 3, column stratum is longer than the limit"):
        read_table(content.encode(), "r.csv")


def test_item_bank_file_is_bounded(settings: Any, tmp_path: Path) -> None:
    from kepu.literacy.items import read_item_file

    settings.KEPU_UPLOAD_LIMITS = {"items": {"max_bytes": 100}}
    path = tmp_path / "bank.yaml"
    path.write_text("items:\n" + "  - code: X\n" * 20, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape("File bank.yaml is 1 KB, above the limit of 1 KB")):
        read_item_file(path)


# -- YAML ------------------------------------------------------------------------------------------

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


def test_yaml_billion_laughs_is_refused() -> None:
    with pytest.raises(InputError, match=r"laughs.yaml: its YAML aliases \(&/\*\) expand to more than 1,000,000 nodes"):
        yaml_load(LAUGHS, name="laughs.yaml", kind="plan")
    # while a few aliases are fine
    assert yaml_load("a: &x [1, 2]\nb: *x\n", name="ok.yaml", kind="plan") == {"a": [1, 2], "b": [1, 2]}


def test_recursive_yaml_alias_is_refused() -> None:
    with pytest.raises(InputError, match="expand to more than"):
        yaml_load("a: &a [1, *a]\n", name="loop.yaml", kind="plan")


def test_yaml_duplicate_key_is_refused_with_its_line() -> None:
    with pytest.raises(InputError) as info:
        yaml_load("plan:\n  code: a\n  code: b\n", name="dup.yaml", kind="plan")
    assert str(info.value) == "dup.yaml: not valid YAML at line 3, column 3: duplicate key 'code'"


def test_plan_file_with_a_billion_laughs_is_refused(plan: Plan, tmp_path: Path, counts: Any) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    before = counts()
    with pytest.raises(InputError, match="expand to more than"):
        plan_import(path=path)
    assert counts() == before


def test_region_file_with_a_duplicate_key_is_refused(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "region.yaml"
    path.write_text("units:\n  - code: '320400'\n    code: '320401'\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate key 'code'"):
        region_import(path=path)
    assert not OrgUnit.objects.exists()


# -- numbers, codes and names --------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "message"), [
    (float("inf"), "expected a finite number, got inf."),
    (float("nan"), "expected a finite number, got nan."),
    (1e308, "the number 1e+308 is out of any sensible range"),
])
def test_non_finite_or_absurd_plan_numbers_are_refused(plan: Plan, edited_plan: Any, counts: Any, value: float,
                                                       message: str) -> None:
    path = edited_plan(lambda doc: target_of(doc, "T06").update(value=value))
    before = counts()
    with pytest.raises(InputError) as info:
        plan_import(path=path)
    assert info.value.errors[0].startswith(f"{path.name}: targets[5].value: {message}")
    assert counts() == before


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "1e308", 1e308])
def test_non_finite_or_absurd_template_values_are_refused(users: dict[str, Any], plan: Plan, counts: Any,
                                                          raw: object) -> None:
    wb = template_of(plan, users["wujin"])
    fill(wb, {"HQ_FARMERS": raw})
    before = counts()
    with pytest.raises(InputError, match=r"HQ_FARMERS: (expected a finite number|the number .* is out of any)"):
        excel.template_upload(user=users["wujin"], content=xlsx(wb))
    assert counts() == before


def test_infinite_wave_weight_is_refused_naming_row_and_column(plan: Plan) -> None:
    from kepu.literacy.models import Respondent
    from kepu.literacy.services import wave_create
    from kepu.literacy.tests.factories import load_items
    from kepu.literacy.waves import respondents_import
    from tests.test_literacy_waves import respondent_csv

    load_items()
    wave = wave_create(code="t-2025", year=2025)

    def edit(rows: list[dict[str, Any]]) -> None:
        rows[3]["base_weight"] = "inf"
        rows[4]["base_weight"] = "1e308"

    with pytest.raises(InputError) as info:
        respondents_import(wave=wave, content=respondent_csv(edit=edit), name="r.csv")
    assert "r.csv: row 5, column base_weight: expected a positive number, got 'inf'" in info.value.errors
    assert "r.csv: row 6, column base_weight: expected a positive number, got '1e308'" in info.value.errors
    assert not Respondent.objects.exists()


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda doc: target_of(doc, "T06").update(code="cz/2027"), "targets[5].code: 'cz/2027' does not match"),
    (lambda doc: target_of(doc, "T06").update(code="T06."), "targets[5].code: 'T06.' does not match"),
    (lambda doc: target_of(doc, "T06").update(code="T" * 65), "targets[5].code: '" + "T" * 65 + "' is too long"),
    (lambda doc: doc["indicators"][0].update(name_zh="长" * 301),
     "indicators[0].name_zh: '" + "长" * 301 + "' is too long"),
    (lambda doc: doc["departments"][0].update(code="d" * 41), "departments[0].code: '" + "d" * 41 + "' is too long"),
    (lambda doc: doc["departments"][0].update(name_zh="部" * 101),
     "departments[0].name_zh: '" + "部" * 101 + "' is too long"),
    (lambda doc: doc["indicators"][0].update(unit="人" * 21), "indicators[0].unit: '" + "人" * 21 + "' is too long"),
])
def test_bad_codes_and_over_long_names_in_plan_files_are_refused(plan: Plan, edited_plan: Any, counts: Any,
                                                                 mutate: Any, message: str) -> None:
    # The same on SQLite (which would store anything) and PostgreSQL (which would fail mid-import)
    path = edited_plan(mutate)
    before = counts()
    with pytest.raises(InputError) as info:
        plan_import(path=path)
    assert info.value.errors[0].startswith(f"{path.name}: {message}")
    assert counts() == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("code", "cz/2027", "units[0].code: a code may contain only letters, digits"),
    ("code", "3" * 33, "units[0].code: a code has at most 32 characters, this one has 33."),
    ("name_zh", "区" * 101, "units[0].name_zh: at most 100 characters, this has 101."),
])
def test_bad_codes_and_over_long_names_in_region_files_are_refused(db: Any, tmp_path: Path, field: str, value: str,
                                                                   message: str) -> None:
    doc = yaml.safe_load(REGION_FILE.read_text(encoding="utf-8"))
    doc["units"][0][field] = value
    path = tmp_path / "region.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        region_import(path=path)
    assert str(info.value).startswith(f"region.yaml: {message}")
    assert not OrgUnit.objects.exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"code": "cz/2027"}, "code: a code may contain only letters, digits"),
    ({"code": "c" * 41}, "code: a code has at most 40 characters, this one has 41."),
    ({"code": "cz-2027", "name": "调" * 201}, "name: at most 200 characters, this has 201."),
])
def test_bad_wave_codes_and_names_are_refused(plan: Plan, kwargs: dict[str, Any], message: str) -> None:
    from kepu.literacy.models import Wave
    from kepu.literacy.services import wave_create

    with pytest.raises(InputError) as info:
        wave_create(year=2025, **kwargs)
    assert str(info.value).startswith(message)
    assert not Wave.objects.exists()


def test_wave_page_refuses_a_code_that_would_break_its_url(users: dict[str, Any], client: Any) -> None:
    from kepu.literacy.models import Wave

    client.force_login(users["office"])
    upload = io.BytesIO(b"respondent_id\n")
    upload.name = "r.csv"
    r = client.post("/literacy/", {"code": "cz/2027", "year": "2025", "file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422
    assert "a code may contain only letters, digits" in r.content.decode()
    assert not Wave.objects.exists()
    # and the page still renders
    assert client.get("/literacy/").status_code == 200


# -- what Kepu writes -------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/","点此")'


def test_typed_text_is_written_as_text_never_as_a_formula(users: dict[str, Any], plan: Plan, report: Any) -> None:
    # Given 武进区 saved a draft whose comment looks like a formula
    report(users["wujin"], "HQ_FARMERS", "320412", 2024, 900, submit=False, comment=FORMULA)
    # When it downloads its template
    wb = template_of(plan, users["wujin"])
    ws = wb[excel.SHEET]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == FORMULA)
    # Then the comment is a text cell, not a formula
    assert cell.data_type == "s"
    # And the helper every writer uses does the same for any sheet
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", FORMULA])
    again = load_workbook(io.BytesIO(xlsx_bytes(book)))
    assert [(c.value, c.data_type) for c in again.active["B"]] == [(FORMULA, "s")]  # type: ignore[index]


def test_item_export_keeps_a_formula_like_stem_as_text(plan: Plan) -> None:
    from kepu.literacy.items import items_export_xlsx
    from kepu.literacy.models import Item

    item = Item(code="F1", dimension="knowledge", type="true_false", stem_zh=FORMULA, stem_en="=1+1", key=True)
    wb = load_workbook(io.BytesIO(items_export_xlsx([item])))
    cells = {c.value: c.data_type for row in wb.active.iter_rows() for c in row}  # type: ignore[union-attr]
    assert cells[FORMULA] == "s" and cells["=1+1"] == "s"


def test_respondent_reader_counts_blank_separated_rows() -> None:
    # rows after a gap of empty rows are still read (the reader never stops at a blank row)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerows([["respondent_id", "stratum"], ["r1", "s"], [], ["", ""], ["r2", "s"]])
    _header, rows = read_table(buf.getvalue().encode(), "r.csv")
    assert [r[0] for r in rows] == ["r1", "r2"]


def test_item_codes_are_slugs(plan: Plan) -> None:
    from kepu.literacy.items import items_import
    from kepu.literacy.models import Item
    from kepu.literacy.tests.factories import item_rows

    rows = item_rows()[:1]
    rows[0]["code"] = "K/001"
    with pytest.raises(InputError, match=r"\(K/001\)\.code: a code may contain only letters, digits"):
        items_import(rows=rows, source="bank.yaml")
    assert not Item.objects.exists()


@pytest.mark.parametrize(("section", "value", "message"), [
    ("totals", float("inf"), "population.totals[0].value: expected a whole number ≥ 0, got inf."),
    ("totals", 1e308, "population.totals[0].value: expected a whole number ≥ 0, got 1e+308."),
    ("urban_share", float("nan"), "population.urban_share[0].value: expected a share between 0 and 1, got nan."),
])
def test_non_finite_region_populations_are_refused(db: Any, tmp_path: Path, section: str, value: float,
                                                   message: str) -> None:
    doc = yaml.safe_load(REGION_FILE.read_text(encoding="utf-8"))
    doc["population"][section][0]["value"] = value
    path = tmp_path / "region.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        region_import(path=path)
    assert str(info.value) == f"region.yaml: {message}"
    assert not OrgUnit.objects.exists()
