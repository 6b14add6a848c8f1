"""Literacy pages and exports: scope (a district sees its own district only), suppression, the
item bank's review rights, and the wave's estimate reaching the dashboard with its CI."""

from __future__ import annotations

import io
import json
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


def test_district_reporter_sees_only_own_district(estimated: Any) -> None:
    c = client_for("wujin")
    html = c.get("/literacy/waves/t-2025/").content.decode()
    assert "武进区" in html and "新北区" not in html and "溧阳市" not in html
    assert 'data-testid="overall"' not in html
    wb = load_workbook(io.BytesIO(c.get("/literacy/waves/t-2025/export.xlsx").content))
    cells = {str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v is not None}
    assert "武进区" in cells and "新北区" not in cells


def test_small_cells_are_suppressed(estimated: Any) -> None:
    from kepu.literacy.models import WaveEstimate

    small = WaveEstimate.objects.filter(wave=estimated, n__lt=50).exclude(variable="town")
    assert small.exists() and all(e.suppressed for e in small)
    html = client_for("office").get("/literacy/waves/t-2025/").content.decode()
    assert "样本量不足 50" in html
    pdf = client_for("office").get("/literacy/waves/t-2025/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_pages_need_login_and_the_test_is_public(estimated: Any) -> None:
    anon = Client()
    for url in ("/literacy/", "/literacy/waves/t-2025/", "/literacy/items/", "/literacy/waves/t-2025/export.xlsx"):
        assert anon.get(url).status_code == 302
    assert anon.get("/test/").status_code == 200


def test_only_reviewers_change_item_status(estimated: Any) -> None:
    from kepu.literacy.models import Item

    assert client_for("wujin").post("/literacy/items/K002/status/", {"to": "retired"}).status_code == 403
    assert Item.objects.get(code="K002").status == "live"
    client_for("reviewer").post("/literacy/items/K002/status/", {"to": "retired"})
    assert Item.objects.get(code="K002").status == "retired"


def test_the_wave_reaches_the_dashboard_with_its_confidence_interval(estimated: Any) -> None:
    from kepu.plans.models import Observation

    city = Observation.objects.get(indicator__code="LIT_RATE", org_unit__code="320400", year=2025)
    response = client_for("office").get("/")
    chart = json.loads(response.context["trend_chart"])
    years = chart["xAxis"]["data"]
    bars = next(s for s in chart["series"] if s.get("kepu") == "errorbars")["data"]
    assert [years.index("2025"), round(city.ci_low, 3), round(city.ci_high, 3)] in bars


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
    assert refused.status_code == 422 and "column sex" in refused.content.decode()
    assert not Respondent.objects.exists()
    done = client_for("office").post("/literacy/", {**form, "file": SimpleUploadedFile("r.csv", good)})
    assert done.status_code == 302
    wave = Wave.objects.get(code="up-2026")
    assert (wave.fieldwork_start.isoformat(), wave.mode, wave.weighting["converged"]) == ("2026-05-01", "face_to_face",
                                                                                        True)
    assert wave.estimates.filter(variable="overall").exists()
