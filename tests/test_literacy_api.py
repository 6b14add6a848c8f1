"""Literacy in the API: waves, their estimates and item statistics, read-only and scoped as on the
wave page (a district user sees their own district only; unpublished waves only the office)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from django.test import Client

from tests.test_literacy_waves import respondent_csv

PROBLEM = "application/problem+json"
ESTIMATE_FIELDS = {"variable", "level", "unit", "method", "n", "estimate", "se", "ci_low", "ci_high", "ci_logit_low",
                   "ci_logit_high", "deff", "ci_kg_low", "ci_kg_high", "df", "n_eff", "flags", "presentable"}
WITHHELD = ("estimate", "se", "ci_low", "ci_high", "ci_logit_low", "ci_logit_high", "deff", "ci_kg_low",
            "ci_kg_high")
OTHER_DISTRICTS = {"320402", "320404", "320411", "320413", "320481", "changzhou_edz"}


def _strict(response: Any) -> Any:
    """The body parsed by a parser that refuses NaN and Infinity, as strict JSON parsers do."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant} in {response.content[:200]!r}")

    return json.loads(response.content, parse_constant=refuse)


@pytest.fixture
def waves(users: dict[str, Any], plan: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """t-2025: weighted, estimated and published (with a rare education level, to be suppressed);
    t-2026: weighted and estimated, not published."""
    import datetime as dt

    from kepu.literacy.estimates import wave_estimate, wave_weight
    from kepu.literacy.indicators import wave_publish
    from kepu.literacy.services import wave_create
    from kepu.literacy.tests.factories import load_items
    from kepu.literacy.waves import respondents_import

    load_items()

    def twelve_psus_and_few_primary(rows: list[dict[str, Any]]) -> None:
        # 12 PSUs per district, so that a district's own rate has the degrees of freedom to be shown
        for row in rows:
            row["psu"] = f"{row['psu']}{int(row['respondent_id'].rsplit('-', 1)[1]) % 4}"
        for row in rows[::40]:
            row.update(education="primary", age=40)

    published = wave_create(code="t-2025", year=2025, design={"strata": "辖市(区)", "psu": "镇(街道)"})
    published.fieldwork_start, published.fieldwork_end = dt.date(2025, 5, 1), dt.date(2025, 6, 30)
    published.save()
    content = respondent_csv(n_per_psu=40, edit=twelve_psus_and_few_primary)
    respondents_import(wave=published, content=content, name="r.csv")
    wave_weight(wave=published, variables=["district", "sex", "area"])
    wave_estimate(wave=published)
    with django_capture_on_commit_callbacks(execute=True):
        wave_publish(wave=published, plan=plan)
    draft = wave_create(code="t-2026", year=2026)
    respondents_import(wave=draft, content=respondent_csv(n_per_psu=12, seed=2), name="r2.csv")
    wave_weight(wave=draft, variables=["district", "sex", "area"])
    wave_estimate(wave=draft)
    published.refresh_from_db()
    return {"published": published, "draft": draft}


# -- waves ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_office_lists_published_and_draft_waves_with_design_and_fieldwork(users: dict[str, Any], api_client: Any,
                                                                         waves: dict[str, Any]) -> None:
    # When the office lists the waves
    r = api_client(users["office"]).get("/api/literacy/waves")
    # Then both come, newest first, with their status
    assert r.status_code == 200
    body = _strict(r)
    assert body["count"] == 2
    assert [(w["code"], w["status"]) for w in body["items"]] == [("t-2026", "estimated"), ("t-2025", "published")]
    # And each wave says its design, fieldwork and weighting
    wave = body["items"][1]
    assert wave == {
        "code": "t-2025", "name_zh": "2025年公民科学素质调查", "name_en": "2025 citizen science literacy survey",
        "year": 2025, "region": "320400", "mode": "face_to_face", "fieldwork_start": "2025-05-01",
        "fieldwork_end": "2025-06-30", "design": {"strata": "辖市(区)", "psu": "镇(街道)"},
        "profile": "cast_newera", "age_min": 18, "age_max": 69, "lonely_psu": "adjust", "variance": "taylor",
        "weighting": {"margins": ["district", "sex", "area"], "converged": True,
                      "iterations": waves["published"].weighting["iterations"],
                      "kish_deff": pytest.approx(waves["published"].weighting["kish_deff"]), "trimmed": 0},
        "status": "published", "published_at": wave["published_at"],
    }
    assert wave["published_at"].startswith(waves["published"].published_at.date().isoformat()[:4])
    # And the list pages and filters like the others
    client = api_client(users["office"])
    assert [w["code"] for w in client.get("/api/literacy/waves?limit=1&offset=1").json()["items"]] == ["t-2025"]
    assert client.get("/api/literacy/waves?year=2026").json()["count"] == 1
    assert client.get("/api/literacy/waves/t-2026").json()["status"] == "estimated"
    # And the variance method chosen on the wave page is there
    from kepu.literacy.models import Wave

    Wave.objects.filter(code="t-2026").update(variance="jkn")
    assert client.get("/api/literacy/waves/t-2026").json()["variance"] == "jkn"


@pytest.mark.django_db
def test_a_wave_without_estimates_is_imported(users: dict[str, Any], api_client: Any, plan: Any) -> None:
    from kepu.literacy.services import wave_create

    wave_create(code="t-2027", year=2027)
    r = api_client(users["office"]).get("/api/literacy/waves/t-2027")
    assert (r.json()["status"], r.json()["weighting"]) == ("imported", None)


@pytest.mark.django_db
def test_other_roles_see_only_published_waves(users: dict[str, Any], api_client: Any,
                                              waves: dict[str, Any]) -> None:
    for username in ("wujin", "viewer_wujin", "reviewer", "edu"):
        client = api_client(users[username])
        # When any role other than the region's office lists the waves
        body = client.get("/api/literacy/waves").json()
        # Then only the published wave is there
        assert [w["code"] for w in body["items"]] == ["t-2025"] and body["count"] == 1, username
        # And the unpublished wave, its estimates and its item statistics are a 404, as if it did not exist
        for path in ("", "/estimates", "/items"):
            r = client.get(f"/api/literacy/waves/t-2026{path}")
            assert r.status_code == 404, (username, path)
            assert r["Content-Type"] == PROBLEM
            assert r.json()["detail"] == "No survey wave 't-2026' in your scope."


@pytest.mark.django_db
def test_a_user_outside_the_region_sees_no_wave(make_user: Any, api_client: Any, waves: dict[str, Any]) -> None:
    from kepu.core.models import OrgUnit

    # Given a viewer whose scope is a unit outside Changzhou
    outside = OrgUnit.objects.create(code="999999", name_zh="外市", name_en="Elsewhere", level="city", path="/999999/")
    stranger = make_user("stranger", ("viewer", outside.code, None))
    client = api_client(stranger)
    # Then there are no waves for them
    assert client.get("/api/literacy/waves").json() == {"count": 0, "items": []}
    assert client.get("/api/literacy/waves/t-2025/estimates").status_code == 404


# -- estimates -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_office_gets_the_region_estimates_with_every_field(users: dict[str, Any], api_client: Any,
                                                           waves: dict[str, Any]) -> None:
    from kepu.literacy.models import WaveEstimate

    r = api_client(users["office"]).get("/api/literacy/waves/t-2025/estimates")
    assert r.status_code == 200
    body = _strict(r)
    assert (body["wave"], body["unit"], body["count"]) == ("t-2025", "320400", len(body["items"]))
    # The headline (the city's rate) comes first, with every field of the stored estimate
    head = body["items"][0]
    assert set(head) == ESTIMATE_FIELDS
    stored = WaveEstimate.objects.get(wave=waves["published"], variable="overall")
    assert (head["variable"], head["level"], head["unit"], head["method"]) == ("overall", "all", None, "direct")
    assert head["presentable"] is True and head["n"] == stored.n
    for field in ("estimate", "se", "ci_low", "ci_high", "ci_logit_low", "ci_logit_high", "deff", "ci_kg_low",
                  "ci_kg_high", "n_eff"):
        assert head[field] == pytest.approx(getattr(stored, field)), field
    assert head["df"] == stored.df and isinstance(head["df"], int) and head["flags"] == stored.flags
    # And every district's rate and the city-wide breakdowns follow, none of a single district's own breakdowns
    districts = {e["level"] for e in body["items"] if e["variable"] == "district"}
    assert districts == OTHER_DISTRICTS | {"320412"}
    assert {"age_band", "sex", "education"} <= {e["variable"] for e in body["items"]}
    assert all(e["unit"] is None for e in body["items"])


@pytest.mark.django_db
def test_a_suppressed_cell_is_presentable_false_with_its_figures_withheld(users: dict[str, Any], api_client: Any,
                                                                           waves: dict[str, Any]) -> None:
    from kepu.literacy.models import WaveEstimate

    # Given the rare education level, suppressed by the presentation standard
    stored = WaveEstimate.objects.get(wave=waves["published"], variable="education", level="primary", unit="")
    assert stored.suppressed and stored.estimate is not None
    # When the office reads the estimates
    items = api_client(users["office"]).get("/api/literacy/waves/t-2025/estimates").json()["items"]
    cell = next(e for e in items if (e["variable"], e["level"]) == ("education", "primary"))
    # Then it is there as the page shows it: not presentable, its figures withheld, its flags saying why
    assert cell["presentable"] is False
    assert all(cell[f] is None for f in WITHHELD), cell
    assert cell["n"] == stored.n and cell["flags"] == stored.flags
    assert any(flag.startswith("suppress_") for flag in cell["flags"]), cell["flags"]
    # And presentable cells keep their numbers
    shown = [e for e in items if e["presentable"]]
    assert shown and all(e["estimate"] is not None for e in shown)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["wujin", "viewer_wujin"])
def test_district_user_sees_only_their_own_district(users: dict[str, Any], api_client: Any, waves: dict[str, Any],
                                                    username: str) -> None:
    from kepu.literacy.models import WaveEstimate

    client = api_client(users[username])
    r = client.get("/api/literacy/waves/t-2025/estimates")
    assert r.status_code == 200
    body = _strict(r)
    # Then the results are 武进区's own: its rate first, then breakdowns of its own respondents
    assert body["unit"] == "320412"
    head = body["items"][0]
    own = WaveEstimate.objects.get(wave=waves["published"], variable="district", level="320412", unit="")
    assert not own.suppressed
    assert (head["variable"], head["level"], head["estimate"]) == ("district", "320412", pytest.approx(own.estimate))
    assert all(e["unit"] == "320412" for e in body["items"][1:]) and len(body["items"]) > 1
    # And nothing of the city or of another district: no overall rate, no other district's rows
    assert "overall" not in {e["variable"] for e in body["items"]}
    assert not [e for e in body["items"] if e["level"] in OTHER_DISTRICTS or e["unit"] in OTHER_DISTRICTS]
    # And asking for another district, or for the city, is a 404, not a quiet fallback to their own
    for unit in ("320411", "320400"):
        other = client.get(f"/api/literacy/waves/t-2025/estimates?unit={unit}")
        assert other.status_code == 404, unit
        assert other["Content-Type"] == PROBLEM
    assert client.get("/api/literacy/waves/t-2025/estimates?unit=320412").json() == body


@pytest.mark.django_db
def test_region_users_choose_among_the_units_the_page_offers_them(users: dict[str, Any], api_client: Any,
                                                                   waves: dict[str, Any]) -> None:
    client = api_client(users["office"])
    # The wave page offers the office the region's results (every district's rate among them) ...
    assert client.get("/api/literacy/waves/t-2025/estimates?unit=320400").json()["unit"] == "320400"
    # ... and not a district's own breakdowns, so neither does the API
    assert client.get("/api/literacy/waves/t-2025/estimates?unit=320411").status_code == 404


@pytest.mark.django_db
def test_region_wide_roles_get_the_region_results(users: dict[str, Any], api_client: Any,
                                                  waves: dict[str, Any]) -> None:
    for username in ("reviewer", "edu"):
        body = api_client(users[username]).get("/api/literacy/waves/t-2025/estimates").json()
        assert body["unit"] == "320400" and body["items"][0]["variable"] == "overall", username


@pytest.mark.django_db
def test_office_reads_the_estimates_of_a_wave_not_yet_published(users: dict[str, Any], api_client: Any,
                                                                waves: dict[str, Any]) -> None:
    r = api_client(users["office"]).get("/api/literacy/waves/t-2026/estimates")
    assert r.status_code == 200 and r.json()["items"][0]["variable"] == "overall"


@pytest.mark.django_db
def test_undefined_numbers_are_null_never_nan(users: dict[str, Any], api_client: Any, waves: dict[str, Any]) -> None:
    from kepu.literacy.models import WaveEstimate

    # Given stored estimates whose design effect and effective sample size are infinite (all weights
    # equal, no variance) and whose logit interval is undefined (SQLite cannot store NaN: it reads as null)
    WaveEstimate.objects.filter(wave=waves["published"], variable="sex", unit="").update(
        deff=math.inf, n_eff=math.inf, ci_logit_low=None, suppressed=False)
    # When they are read
    r = api_client(users["office"]).get("/api/literacy/waves/t-2025/estimates")
    # Then the body is strict JSON with null in their place
    assert b"NaN" not in r.content and b"Infinity" not in r.content
    sex = [e for e in _strict(r)["items"] if e["variable"] == "sex"]
    assert sex and all(e["deff"] is None and e["n_eff"] is None and e["ci_logit_low"] is None for e in sex)
    assert all(e["estimate"] is not None and e["presentable"] for e in sex)


# -- item statistics -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_item_statistics_for_region_roles_without_item_content(users: dict[str, Any], api_client: Any,
                                                               waves: dict[str, Any]) -> None:
    from kepu.literacy.models import Item
    from kepu.literacy.selectors import item_analysis

    r = api_client(users["reviewer"]).get("/api/literacy/waves/t-2025/items")
    assert r.status_code == 200
    body = _strict(r)
    # Then every analysed item comes with its n, difficulty and discrimination, as on the page
    analysis = item_analysis(waves["published"])
    assert (body["wave"], body["sample_n"], body["count"]) == ("t-2025", analysis.sample_n, len(analysis.items))
    first, stat = body["items"][0], analysis.items[0]
    assert first == {"item": stat.item.code, "dimension": stat.item.dimension, "n": stat.n,
                     "difficulty": pytest.approx(stat.difficulty), "discrimination": pytest.approx(stat.discrimination)}
    # And nothing of the items' content: no stems, options, keys or explanations
    assert all(set(i) == {"item", "dimension", "n", "difficulty", "discrimination"} for i in body["items"])
    text = r.content.decode()
    for item in Item.objects.all():
        assert item.stem_zh not in text and item.explanation_zh not in text
    assert '"key"' not in text and '"options"' not in text


@pytest.mark.django_db
def test_district_users_get_no_item_statistics(users: dict[str, Any], api_client: Any,
                                               waves: dict[str, Any]) -> None:
    for username in ("wujin", "viewer_wujin"):
        r = api_client(users[username]).get("/api/literacy/waves/t-2025/items")
        assert r.status_code == 403, username
        assert r["Content-Type"] == PROBLEM
        assert r.json()["detail"] == "Item analysis is given only to users who see the whole region's results."


# -- authentication ------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/literacy/waves", "/api/literacy/waves/t-2025",
                                  "/api/literacy/waves/t-2025/estimates", "/api/literacy/waves/t-2025/items"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer kp_not-a-real-token"}], ids=["none", "invalid"])
def test_without_a_valid_token_or_session_it_is_401(users: dict[str, Any], path: str,
                                                    headers: dict[str, str]) -> None:
    r = Client(headers={**headers, "Accept-Language": "en"}).get(path)
    assert r.status_code == 401
    assert r["Content-Type"] == PROBLEM
    assert r.json()["title"] == "Unauthorized"


@pytest.mark.django_db
def test_a_logged_in_session_reads_like_a_token(users: dict[str, Any], waves: dict[str, Any]) -> None:
    from conftest import PASSWORD

    client = Client()
    assert client.login(username="wujin", password=PASSWORD)
    body = client.get("/api/literacy/waves/t-2025/estimates").json()
    assert body["unit"] == "320412"


@pytest.mark.django_db
def test_read_only(users: dict[str, Any], api_client: Any, waves: dict[str, Any]) -> None:
    from kepu.literacy.models import Wave

    client = api_client(users["office"])
    for method in ("post", "put", "patch", "delete"):
        r = getattr(client, method)("/api/literacy/waves/t-2025", data="{}", content_type="application/json")
        assert r.status_code in (404, 405), (method, r.status_code)
    assert Wave.objects.filter(code="t-2025").exists()


@pytest.mark.django_db
def test_a_malformed_wave_code_is_422(users: dict[str, Any], api_client: Any) -> None:
    r = api_client(users["office"]).get("/api/literacy/waves/a%00b")
    assert r.status_code in (404, 422)
    assert r["Content-Type"] == PROBLEM
