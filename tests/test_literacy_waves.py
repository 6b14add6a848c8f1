"""Survey waves end to end: import (all or nothing, errors naming row and column), scoring
profiles, raking, estimation, and publishing into the plan's literacy-rate indicator."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from kepu.core.errors import InputError
from kepu.literacy.tests.factories import load_items

pytestmark = pytest.mark.django_db

DISTRICTS = ["320402", "320404", "320411", "320412", "320413", "320481", "changzhou_edz"]


def respondent_csv(n_per_psu: int = 12, *, seed: int = 1, edit: Any = None) -> bytes:
    rnd = random.Random(seed)
    from kepu.literacy.models import Item

    items = list(Item.objects.order_by("code"))
    rows = []
    for d in DISTRICTS:
        for psu in (1, 2, 3):
            for k in range(n_per_psu):
                able = rnd.random() < 0.3
                row = {
                    "respondent_id": f"{d}-{psu}-{k}",
                    "stratum": d,
                    "psu": psu,
                    "base_weight": round(rnd.uniform(300, 900), 2),
                    "district": d,
                    "sex": rnd.choice("MF"),
                    "age": rnd.randint(16, 74),
                    "area": rnd.choice(["urban", "rural"]),
                    "education": rnd.choice(["junior", "senior", "bachelor"]),
                    "occupation": "worker",
                }
                for it in items:
                    right = able or rnd.random() < 0.4
                    if it.type == "true_false":
                        row[it.code] = str(it.key if right else not it.key).lower()
                    else:
                        row[it.code] = it.key if right else "A"
                rows.append(row)
    if edit:
        edit(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def two_pl_answers(rows: list[dict[str, Any]], seed: int = 5) -> None:
    """Re-draw every item answer from a 2PL model (abilities N(0, 1)), for the IRT profile. The default
    answers (30 % answer everything right, the rest guess) have no finite 2PL fit: every slope runs away."""
    import numpy as np

    from kepu.literacy.models import Item

    rng = np.random.default_rng(seed)
    items = list(Item.objects.order_by("code"))
    a, b = rng.uniform(0.8, 2.0, len(items)), rng.uniform(-1.5, 1.5, len(items))
    for row in rows:
        theta = rng.normal()
        for it, aj, bj in zip(items, a, b, strict=True):
            right = bool(rng.random() < 1.0 / (1.0 + np.exp(-aj * (theta - bj))))
            row[it.code] = str(it.key if right else not it.key).lower() if it.type == "true_false" else (
                it.key if right else "A")


@pytest.fixture
def wave(plan: Any) -> Any:
    from kepu.literacy.services import wave_create

    load_items()
    return wave_create(code="t-2025", year=2025)


def test_import_scores_and_stores_pseudonymously(wave: Any) -> None:
    from kepu.literacy.models import Respondent
    from kepu.literacy.waves import respondents_import

    n = respondents_import(wave=wave, content=respondent_csv(), name="r.csv")
    assert n == len(DISTRICTS) * 3 * 12
    r = Respondent.objects.filter(wave=wave).first()
    assert r is not None and len(r.key) == 64 and "-" not in r.key  # the survey's id is not stored
    assert r.score is not None and r.passed is not None and r.tier
    assert sum(r.possible.values()) == 30  # all 30 items were answered


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows: rows[4].update(age="abc"), "row 6, column age: expected whole years"),
        (lambda rows: rows[0].update(base_weight="0"), "row 2, column base_weight: expected a positive number"),
        (lambda rows: rows[2].update(district="999999"), "row 4, column district"),
        (lambda rows: rows[1].update(sex="X"), "row 3, column sex"),
        (lambda rows: rows[3].update(K002="E"), "row 5, column K002"),
        (lambda rows: rows[7].update(respondent_id=rows[6]["respondent_id"]), "row 9, column respondent_id: duplicate"),
    ],
)
def test_bad_rows_name_row_and_column_and_nothing_is_written(wave: Any, edit: Any, message: str, english: None) -> None:
    from kepu.literacy.models import Respondent
    from kepu.literacy.waves import respondents_import

    with pytest.raises(InputError) as exc:
        respondents_import(wave=wave, content=respondent_csv(edit=edit), name="r.csv")
    assert any(message in e for e in exc.value.errors), exc.value.errors
    assert Respondent.objects.count() == 0


def test_missing_contract_column(wave: Any, english: None) -> None:
    from kepu.literacy.waves import respondents_import

    content = respondent_csv().decode().replace("stratum,", "zone,", 1).encode()
    with pytest.raises(InputError, match="missing column"):
        respondents_import(wave=wave, content=content, name="r.csv")


def test_respondent_file_errors_are_in_chinese_by_default(wave: Any) -> None:
    from kepu.literacy.waves import respondents_import

    with pytest.raises(InputError) as exc:
        respondents_import(wave=wave, content=respondent_csv(edit=lambda rows: rows[1].update(sex="X", K002="E")),
                           name="r.csv")
    assert "r.csv：第 3 行，sex 列：应为M/F 或 男/女，实际为“X”" in exc.value.errors
    assert "r.csv：第 3 行，K002 列：应为选项字母 A, B, C, D，实际为“E”" in exc.value.errors


def test_unknown_column_is_refused(wave: Any) -> None:
    from kepu.literacy.waves import respondents_import

    content = respondent_csv().decode().replace("occupation", "phone", 1).encode()
    with pytest.raises(InputError, match="phone"):
        respondents_import(wave=wave, content=content, name="r.csv")


def test_rescoring_with_another_profile_is_reproducible(wave: Any) -> None:
    from kepu.literacy.waves import respondents_import, wave_rescore

    respondents_import(wave=wave, content=respondent_csv(), name="r.csv")
    first = list(wave.respondents.order_by("pk").values_list("score", "passed"))
    wave_rescore(wave=wave, profile_code="jizhun2016")
    other = list(wave.respondents.order_by("pk").values_list("score", "passed"))
    wave_rescore(wave=wave, profile_code="cast_newera")
    again = list(wave.respondents.order_by("pk").values_list("score", "passed"))
    assert again == first and other != first


def test_weight_estimate_publish_into_the_plan(wave: Any, plan: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kepu.literacy.estimates import wave_estimate, wave_weight
    from kepu.literacy.indicators import wave_publish
    from kepu.literacy.models import Respondent
    from kepu.literacy.waves import respondents_import
    from kepu.plans.models import Observation, TargetStatus

    respondents_import(wave=wave, content=respondent_csv(), name="r.csv")
    report = wave_weight(wave=wave, variables=["district", "sex", "area"])
    assert report.converged and report.kish_deff >= 1.0
    rows = wave_estimate(wave=wave)
    overall = next(r for r in rows if r.variable == "overall")
    in_scope = Respondent.objects.filter(wave=wave, age__gte=18, age__lte=69)
    assert overall.n == in_scope.count() < Respondent.objects.filter(wave=wave).count()
    assert overall.ci_low < overall.estimate < overall.ci_high and overall.se > 0
    districts = [r for r in rows if r.variable == "district"]
    assert {r.level for r in districts} == set(DISTRICTS)
    # The NCHS standard decides (kepu.stats.presentation): suppressed exactly when a suppress_* flag is set.
    direct = [r for r in rows if r.method == "direct"]
    assert all(r.suppressed == any(f.startswith("suppress_") for f in r.flags) for r in direct)
    assert overall.df == 21 - 7 and overall.ci_kg_low < overall.estimate < overall.ci_kg_high
    assert 0 < overall.effective_n <= overall.n and not overall.suppressed
    assert all(r.df == 2 and "review_df" in r.flags for r in districts)  # 3 PSUs in 1 stratum each
    with django_capture_on_commit_callbacks(execute=True):
        wave_publish(wave=wave, plan=plan)
    city = Observation.objects.get(indicator__code="LIT_RATE", org_unit__code="320400", year=2025)
    assert city.value == pytest.approx(100 * overall.estimate, abs=1e-3)
    assert city.se == pytest.approx(100 * overall.se, abs=1e-3)
    assert (city.ci_low, city.ci_high) == pytest.approx((100 * overall.ci_kg_low, 100 * overall.ci_kg_high), abs=1e-3)
    assert city.ci_low < city.value < city.ci_high and city.source == "literacy" and city.status == "approved"
    published = Observation.objects.filter(indicator__code="LIT_RATE", year=2025, source="literacy")
    assert published.count() == 1 + sum(not r.suppressed for r in districts)
    assert TargetStatus.objects.filter(target__code="T01", org_unit__code="320400").exists()


def test_online_responses_join_a_wave_only_as_opt_in(wave: Any) -> None:
    from kepu.core.models import OrgUnit
    from kepu.literacy.models import Respondent
    from kepu.literacy.online import Profile, test_answer, test_start
    from kepu.literacy.waves import wave_attach_online

    session, token = test_start(
        profile=Profile(40, "M", OrgUnit.objects.get(code="320412"), None, "urban", "senior", "worker"), seed=1
    )
    while session.finished_at is None:
        code = session.item_codes[session.position]
        from kepu.literacy.models import Item

        item = Item.objects.get(code=code)
        session = test_answer(token=token, item_code=code, raw="true" if item.type == "true_false" else "B")
    n = wave_attach_online(wave=wave, respondents=Respondent.objects.filter(sample="opt_in"))
    assert n == 1
    r = Respondent.objects.get(sample="opt_in")
    assert r.wave == wave and r.sample == "opt_in"
    # The probability-sample estimate never includes it
    from kepu.literacy.estimates import in_scope

    assert r not in in_scope(wave)


def test_irt_profile_sets_the_scale_once_and_links_later_waves(wave: Any) -> None:
    from kepu.literacy.models import ScoringProfile
    from kepu.literacy.services import wave_create
    from kepu.literacy.waves import respondents_import, wave_rescore

    respondents_import(wave=wave, content=respondent_csv(edit=two_pl_answers), name="r.csv")
    wave_rescore(wave=wave, profile_code="irt_scaled")
    profile = ScoringProfile.objects.get(code="irt_scaled")
    anchors = profile.config["anchor_params"]
    assert set(anchors) == {"K001", "M001", "S001", "A001"}  # the factory's anchor items
    scores = [s for s in wave.respondents.values_list("score", flat=True)]
    assert all(0 <= s <= 100 for s in scores) and len(set(scores)) > 5
    # A second wave is scored with the anchors held at the first wave's parameters.
    later = wave_create(code="t-2026", year=2026, profile="irt_scaled")
    content = respondent_csv(seed=2, edit=lambda rows: two_pl_answers(rows, 6))
    respondents_import(wave=later, content=content, name="r2.csv")
    profile.refresh_from_db()
    assert profile.config["anchor_params"] == anchors
    assert later.respondents.filter(score__isnull=True).count() == 0


def test_irt_profile_refuses_to_publish_scores_from_a_fit_with_a_separated_item(wave: Any) -> None:
    from kepu.literacy.models import Item, ScoringProfile
    from kepu.literacy.waves import respondents_import, wave_rescore

    items = list(Item.objects.order_by("code"))
    target = next(it for it in items if not it.anchor)

    def answer(it: Any, right: bool) -> str:
        if it.type == "true_false":
            return str(it.key if right else not it.key).lower()
        return str(it.key if right else "A")

    def separate(rows: list[dict[str, Any]]) -> None:
        # 2PL answers, except that the target item is right exactly for the upper half of the others' score
        two_pl_answers(rows)
        rest = [sum(row[it.code] == answer(it, True) for it in items if it is not target) for row in rows]
        cut = sorted(rest)[len(rest) // 2]
        for row, r in zip(rows, rest, strict=True):
            row[target.code] = answer(target, r >= cut)

    respondents_import(wave=wave, content=respondent_csv(edit=separate), name="r.csv")
    before = list(wave.respondents.order_by("pk").values_list("score", flat=True))
    with pytest.raises(InputError, match=f"IRT 标定未收敛.*{target.code}"):
        wave_rescore(wave=wave, profile_code="irt_scaled")
    wave.refresh_from_db()
    assert wave.profile.code != "irt_scaled"  # nothing was changed or published
    assert list(wave.respondents.order_by("pk").values_list("score", flat=True)) == before
    assert "anchor_params" not in ScoringProfile.objects.get(code="irt_scaled").config


def test_cli_wave_import_and_weight_with_supplied_margins(plan: Any, tmp_path: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from kepu.literacy.models import Wave

    load_items()
    data = tmp_path / "r.csv"
    data.write_bytes(respondent_csv())
    out = StringIO()
    call_command("literacy", "wave", "import", "cli-2025", str(data), "--year", "2025", stdout=out)
    assert "252 respondents imported" in out.getvalue()
    margins = tmp_path / "sex_area.csv"
    margins.write_text("sex,area,population\nM,urban,2100000\nM,rural,600000\nF,urban,1970000\nF,rural,600000\n")
    out = StringIO()
    call_command("literacy", "wave", "weight", "cli-2025", "--margins-file", str(margins), "--publish", stdout=out)
    wave = Wave.objects.get(code="cli-2025")
    assert wave.weighting["margins"] == ["sex|area"] and wave.weighting["converged"]
    assert "Published to changzhou-2021-2035" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("gender,population\nM,1\n")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="gender"):
        call_command("literacy", "wave", "weight", "cli-2025", "--margins-file", str(bad))


def test_xlsx_respondent_file_imports_like_csv(wave: Any) -> None:
    from openpyxl import Workbook

    from kepu.literacy.waves import respondents_import

    rows = list(csv.reader(io.StringIO(respondent_csv().decode())))
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    assert respondents_import(wave=wave, content=buf.getvalue(), name="r.xlsx") == len(rows) - 1
    with pytest.raises(InputError, match=r"broken\.xlsx 不是 Excel \.xlsx 文件"):
        respondents_import(wave=wave, content=b"not a zip", name="broken.xlsx")
    assert wave.respondents.count() == len(rows) - 1
