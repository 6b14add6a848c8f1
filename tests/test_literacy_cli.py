"""`kepu literacy estimate`: the scripts' JSON contract and a clear error for each kind of bad input."""

from __future__ import annotations

import csv
import json
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

E_KEYS = {"n", "estimate", "se", "ci_low", "ci_high", "ci_logit_low", "ci_logit_high", "deff", "flags",
          "ci_kg_low", "ci_kg_high", "df", "n_eff", "presentable"}


def write_sample(path: Path, *, lonely: bool = False, outcome: str | None = None, weight: str | None = None) -> Path:
    rnd = random.Random(3)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["stratum", "psu", "weight", "lit", "region", "sex"])
        for h in ("A", "B", "C"):
            for psu in (1,) if (lonely and h == "C") else (1, 2, 3):
                for _ in range(15):
                    w.writerow(
                        [
                            h,
                            psu,
                            weight or round(rnd.uniform(50, 150), 3),
                            outcome or int(rnd.random() < 0.2),
                            rnd.choice("xy"),
                            rnd.choice("MF"),
                        ]
                    )
    return path


def run(*args: str) -> dict:
    out = StringIO()
    call_command("literacy", "estimate", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def base_args(f: Path) -> list[str]:
    return [str(f), "--strata", "stratum", "--psu", "psu", "--weight", "weight", "--outcome", "lit"]


def test_json_contract_with_domains_and_raking(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    m = tmp_path / "m.csv"
    m.write_text("region,population\nx,6000\ny,4000\n")
    plain = run(*base_args(f), "--by", "region")
    raked = run(*base_args(f), "--by", "region", "--rake", str(m))
    for r, flag in ((plain, False), (raked, True)):
        assert set(r) == {"n", "overall", "by", "raked", "variance"} and r["raked"] is flag and r["n"] == 135
        assert r["variance"] == "taylor"
        assert set(r["overall"]) == E_KEYS and set(r["by"]["region"]) == {"x", "y"}
        o = r["overall"]
        assert o["ci_low"] < o["estimate"] < o["ci_high"] and o["ci_logit_low"] < o["estimate"] < o["ci_logit_high"]
        assert sum(v["n"] for v in r["by"]["region"].values()) == r["n"]
    assert raked["overall"]["estimate"] != plain["overall"]["estimate"]


def test_json_korn_graubard_df_n_eff_and_presentation(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    r = run(*base_args(f), "--by", "region")
    o = r["overall"]
    # 3 strata x 3 PSUs: 6 degrees of freedom, under NCHS's 8
    assert o["df"] == 6 and isinstance(o["df"], int)
    assert 0 < o["ci_kg_low"] < o["estimate"] < o["ci_kg_high"] < 1
    assert o["n_eff"] == pytest.approx(o["estimate"] * (1 - o["estimate"]) / o["se"] ** 2)
    # the Korn–Graubard interval is wider than the logit one here (few degrees of freedom, n_eff < n)
    assert o["ci_kg_high"] - o["ci_kg_low"] > o["ci_logit_high"] - o["ci_logit_low"]
    assert o["presentable"] is not any(f.startswith("suppress_") for f in o["flags"])
    assert "review_df" in o["flags"]
    for e in r["by"]["region"].values():
        assert e["df"] == 6 and e["ci_kg_low"] < e["estimate"] < e["ci_kg_high"]
        width = e["ci_kg_high"] - e["ci_kg_low"]
        if width >= 0.30:
            assert e["presentable"] is False and "suppress_width" in e["flags"]


def test_joint_margins_file(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    m = tmp_path / "joint.csv"
    m.write_text("region,sex,population\nx,M,3000\nx,F,3100\ny,M,1900\ny,F,2000\n")
    assert run(*base_args(f), "--rake", str(m))["raked"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--outcome", "nope"], "no column 'nope'"),
        (["--strata", "zone"], "no column 'zone'"),
    ],
)
def test_missing_column(tmp_path: Path, change: list[str], message: str) -> None:
    f = write_sample(tmp_path / "s.csv")
    args = base_args(f)
    i = args.index(change[0])
    args[i + 1] = change[1]
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_non_binary_outcome(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv", outcome="2")
    with pytest.raises(CommandError, match=r"row 2, column lit: the outcome must be 0 or 1"):
        run(*base_args(f))


@pytest.mark.parametrize("bad", ["0", "-3"])
def test_non_positive_weight(tmp_path: Path, bad: str) -> None:
    f = write_sample(tmp_path / "s.csv", weight=bad)
    with pytest.raises(CommandError, match="weights must be positive"):
        run(*base_args(f))


def test_lonely_psu_fails_by_default_and_is_handled_on_request(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv", lonely=True)
    with pytest.raises(CommandError, match="C"):
        run(*base_args(f))
    adjusted = run(*base_args(f), "--lonely-psu", "adjust")
    removed = run(*base_args(f), "--lonely-psu", "remove")
    assert adjusted["overall"]["estimate"] == pytest.approx(removed["overall"]["estimate"], abs=1e-12)
    assert adjusted["overall"]["se"] != removed["overall"]["se"]


def test_margin_categories_must_match_data(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    m = tmp_path / "m.csv"
    m.write_text("region,population\nx,6000\nz,4000\n")
    with pytest.raises(CommandError, match=r"categories y occur in the data but have no population total"):
        run(*base_args(f), "--rake", str(m))
    m.write_text("region,population\nx,6000\ny,3000\nz,1000\n")
    with pytest.raises(CommandError, match=r"categories z have a population total but no respondents"):
        run(*base_args(f), "--rake", str(m))


def test_margins_file_needs_population_column(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    m = tmp_path / "m.csv"
    m.write_text("region,total\nx,6000\ny,4000\n")
    with pytest.raises(CommandError, match="final 'population' column"):
        run(*base_args(f), "--rake", str(m))


def test_raking_that_cannot_converge(tmp_path: Path) -> None:
    # Margins with different grand totals cannot both be met.
    f = write_sample(tmp_path / "s.csv")
    a = tmp_path / "a.csv"
    a.write_text("region,population\nx,6000\ny,4000\n")
    b = tmp_path / "b.csv"
    b.write_text("sex,population\nM,9000\nF,9000\n")
    with pytest.raises(CommandError, match=r"(?i)converge"):
        run(*base_args(f), "--rake", str(a), "--rake", str(b))


def test_text_output_without_json(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    out = StringIO()
    call_command("literacy", "estimate", *base_args(f), "--by", "region", stdout=out)
    text = out.getvalue()
    assert text.startswith("n=135") and "region=x" in text


def test_the_analysts_file_has_its_own_bound_not_the_upload_limit(tmp_path: Path, settings: object) -> None:
    """`estimate` reads an analyst's own (possibly national-scale) file: the page's respondent-upload
    row limit does not apply, its own bound does."""
    f = write_sample(tmp_path / "s.csv")  # 135 rows
    settings.KEPU_UPLOAD_LIMITS = {"respondents": {"max_rows": 5}}  # type: ignore[attr-defined]
    assert run(*base_args(f))["n"] == 135
    settings.KEPU_UPLOAD_LIMITS = {"analysis": {"max_rows": 5}}  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="5"):
        run(*base_args(f))


def test_variance_jkn_rerakes_replicates_and_says_so(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    m = tmp_path / "m.csv"
    m.write_text("region,population\nx,6000\ny,4000\n")
    taylor = run(*base_args(f), "--by", "region", "--rake", str(m))
    jkn = run(*base_args(f), "--by", "region", "--rake", str(m), "--variance", "jkn")
    assert jkn["variance"] == "jkn" and taylor["variance"] == "taylor"
    assert set(jkn["overall"]) == E_KEYS and jkn["raked"] is True
    pairs = [(taylor["overall"], jkn["overall"]), *((taylor["by"]["region"][k], jkn["by"]["region"][k]) for k in "xy")]
    for t, j in pairs:
        assert j["estimate"] == pytest.approx(t["estimate"], abs=1e-9)  # the same raked weights
        assert j["se"] != t["se"] and 0.5 < j["se"] / t["se"] < 2
    # 3 strata x 3 PSUs: the design df PSUs - strata = 6 under both methods (not the raked replicate design's
    # degf, replicates - 1 = 8; see kepu.stats.replicate).
    assert jkn["overall"]["df"] == taylor["overall"]["df"] == 6


def test_variance_jkn_one_psu_stratum_follows_the_lonely_psu_rule(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv", lonely=True)
    with pytest.raises(CommandError, match="stratum 'C' has only one PSU"):
        run(*base_args(f), "--variance", "jkn")
    removed = run(*base_args(f), "--variance", "jkn", "--lonely-psu", "remove")
    adjusted = run(*base_args(f), "--variance", "jkn", "--lonely-psu", "adjust")
    assert removed["variance"] == "jkn" and adjusted["overall"]["se"] > removed["overall"]["se"] > 0


def test_variance_jkn_replicate_raking_that_fails_names_the_replicate(tmp_path: Path) -> None:
    # Only PSU 3 of stratum B has (a=z, b=p): without it all of a=z (60 %) would have to be b=q (40 %).
    f = tmp_path / "s.csv"
    rows = ["A,1,y,p", "A,1,z,q", "A,2,y,p", "A,2,z,q", "B,1,y,p", "B,1,z,q", "B,2,y,q", "B,3,z,p"]
    body = "".join(f"{h},{c},10,{i % 2},{a},{b}\n" for i, (h, c, a, b) in enumerate(r.split(",") for r in rows))
    f.write_text("stratum,psu,weight,lit,a,b\n" + body)
    ma, mb = tmp_path / "a.csv", tmp_path / "b.csv"
    ma.write_text("a,population\ny,40\nz,60\n")
    mb.write_text("b,population\np,60\nq,40\n")
    args = [*base_args(f), "--rake", str(ma), "--rake", str(mb)]
    assert run(*args)["variance"] == "taylor"  # the full sample can be raked
    with pytest.raises(CommandError, match=r"replicate that deletes PSU '3' of stratum 'B'"):
        run(*args, "--variance", "jkn")


def test_a_bad_value_is_named_by_row_and_column_after_bulk_conversion(tmp_path: Path) -> None:
    from django.utils import translation

    f = write_sample(tmp_path / "s.csv")
    lines = f.read_text().splitlines()
    lines[6] = "A,1,abc,0,x,M"  # row 7 (the header is row 1)
    f.write_text("\n".join(lines) + "\n")
    with translation.override("en"), pytest.raises(
        CommandError, match=r"s\.csv: row 7, column weight: expected a number, got “abc”\."
    ):
        run(*base_args(f))


def test_a_blank_design_label_is_named(tmp_path: Path) -> None:
    f = write_sample(tmp_path / "s.csv")
    lines = f.read_text().splitlines()
    lines[3] = ",1,100,0,x,M"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match=r"row 4, column stratum: empty \(every respondent needs a stratum\)"):
        run(*base_args(f))


def test_only_the_needed_columns_are_read_so_others_may_hold_anything(tmp_path: Path) -> None:
    # A free-text column with commas, quotes and line breaks, and a column the estimate does not use
    f = write_sample(tmp_path / "s.csv")
    lines = f.read_text().splitlines()
    lines = [lines[0] + ",note"] + [line + ',"a, ""quoted""\nnote"' for line in lines[1:]]
    f.write_text("\n".join(lines) + "\n")
    assert run(*base_args(f))["n"] == 135
