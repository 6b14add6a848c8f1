"""Korn–Graubard intervals, design degrees of freedom and effective sample sizes against R's
``svyciprop(method="beta")``, ``degf()`` and ``p (1 - p) / vcov`` (reference/kg_reference.json, made by
reference/make_kg_reference.R): overall and in domains, plain, raked (``rake()``) and calibrated
(``calibrate(calfun="raking")``, Kepu's default) designs, under every lonely-PSU option."""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import numpy as np
import pytest

from kepu.stats.survey import Estimate, LonelyPSUError, effective_sample_size, korn_graubard_ci
from kepu.stats.tests.test_survey import REF_DIR, columns, design_for

TOL = 1e-7  # the acceptance tolerance (relative)
MODES = ("plain", "rake", "calibrate")


@cache
def kg_reference() -> dict[str, Any]:
    with (REF_DIR / "kg_reference.json").open() as fh:
        return dict(json.load(fh))


@cache
def outcomes(dataset: str) -> dict[str, np.ndarray]:
    c = columns(dataset)
    east = c["region"] == "east"
    return {"y": c["y"], "y_east0": np.where(east, 0.0, c["y"]), "y_east1": np.where(east, 1.0, c["y"])}


def kg_cases() -> list[tuple[str, str, str]]:
    return [
        (name, mode, lonely)
        for name, block in kg_reference()["datasets"].items()
        for mode in MODES
        for lonely in block[mode]
    ]


CASES = kg_cases()
IDS = [f"{d}-{m}-{lonely}" for d, m, lonely in CASES]


def close(got: float, expected: float) -> bool:
    return got == pytest.approx(expected, rel=TOL, abs=1e-12)


def assert_kg(got: Estimate, r: dict[str, Any], what: str) -> None:
    assert got.n == r["n"], what
    assert got.df == r["df"], what
    assert close(got.estimate, r["estimate"]), what
    assert close(got.se, r["se"]), what
    if math.isnan(r["ci_kg_low"]):  # all 0 or all 1: R's n_eff is 0/0; Kepu uses n (NCHS)
        assert r["estimate"] in (0, 1), what
        assert got.n_eff == r["n"], what
        assert close(got.ci_kg_low, r["nchs_ci_kg_low"]), what
        assert close(got.ci_kg_high, r["nchs_ci_kg_high"]), what
        return
    assert close(got.n_eff, r["n_eff"]), what
    assert close(got.ci_kg_low, r["ci_kg_low"]), f"{what}: {got.ci_kg_low} vs {r['ci_kg_low']}"
    assert close(got.ci_kg_high, r["ci_kg_high"]), f"{what}: {got.ci_kg_high} vs {r['ci_kg_high']}"


def test_reference_covers_the_brief() -> None:
    ref = kg_reference()
    assert ref["meta"]["call"] == 'svyciprop(~y, design, method="beta")'
    assert set(ref["datasets"]["d3"]["plain"]) == {"fail", "remove", "adjust", "certainty", "average"}
    for block in ref["datasets"].values():
        assert set(block) == set(MODES)
    d1 = ref["datasets"]["d1"]
    # the df adjustment uses nrow(design): a domain of a calibrated design keeps every row, a plain one does not
    assert d1["calibrate"]["fail"]["by"]["y"]["sex"]["F"]["rows"] == d1["calibrate"]["fail"]["overall"]["y"]["n"]
    assert d1["plain"]["fail"]["by"]["y"]["sex"]["F"]["rows"] == d1["plain"]["fail"]["by"]["y"]["sex"]["F"]["n"]
    east0 = d1["plain"]["fail"]["by"]["y_east0"]["region"]["east"]
    assert east0["estimate"] == 0 and math.isnan(east0["ci_kg_low"]) and east0["nchs_ci_kg_high"] > 0


@pytest.mark.parametrize(("dataset", "mode", "lonely"), CASES, ids=IDS)
def test_overall_kg_matches_r(dataset: str, mode: str, lonely: str) -> None:
    des = design_for(dataset, lonely, mode)
    for outcome, r in kg_reference()["datasets"][dataset][mode][lonely]["overall"].items():
        y = outcomes(dataset)[outcome]
        if "error" in r:
            with pytest.raises(LonelyPSUError):
                des.mean(y)
        else:
            assert_kg(des.mean(y), r, outcome)


@pytest.mark.parametrize(("dataset", "mode", "lonely"), CASES, ids=IDS)
def test_domain_kg_matches_r(dataset: str, mode: str, lonely: str) -> None:
    des = design_for(dataset, lonely, mode)
    c = columns(dataset)
    for outcome, by in kg_reference()["datasets"][dataset][mode][lonely]["by"].items():
        y = outcomes(dataset)[outcome]
        for variable, levels in by.items():
            if any("error" in r for r in levels.values()):
                with pytest.raises(LonelyPSUError):
                    des.by(y, c[variable])
            else:
                got = des.by(y, c[variable])
                assert sorted(got) == sorted(levels)
                for lev, r in levels.items():
                    assert_kg(got[lev], r, f"{outcome} by {variable}={lev}")
            for lev, r in levels.items():  # one domain at a time, as subset(design, g == level)
                if "error" in r:
                    with pytest.raises(LonelyPSUError):
                        des.mean(y, domain=c[variable] == lev)
                else:
                    assert_kg(des.mean(y, domain=c[variable] == lev), r, f"{outcome} domain {variable}={lev}")


def test_kg_vectorised_and_defaults_to_n_rows_n() -> None:
    p = np.array([0.2, 0.0, 1.0, 0.4])
    se = np.array([0.05, 0.0, 0.0, 0.1])
    n, df = [100, 40, 40, 50], [20, 10, 10, 12]
    low, high = korn_graubard_ci(p, se, n, df)
    one = [korn_graubard_ci(float(p[i]), float(se[i]), n[i], df[i]) for i in range(4)]
    assert np.allclose(low, [lo[0] for lo, _ in one], rtol=0, atol=0)
    assert np.allclose(high, [hi[0] for _, hi in one], rtol=0, atol=0)
    assert low[1] == 0.0 and 0 < high[1] < 1 and high[2] == 1.0 and 0 < low[2] < 1
    assert korn_graubard_ci(0.2, 0.05, 100, 20, n_rows=1000)[0][0] != low[0]  # n_rows enters the df adjustment


@pytest.mark.parametrize(
    ("p", "se", "n", "df", "why"),
    [
        (0.2, 0.05, 100, 0, "no degrees of freedom"),
        (0.2, 0.05, 1, 3, "one row: qt(., 0) is NaN"),
        (0.2, math.nan, 100, 20, "undefined SE"),
        (0.2, 0.0, 100, 20, "zero variance inside (0, 1)"),
        (math.nan, 0.05, 100, 20, "undefined estimate"),
    ],
)
def test_kg_undefined(p: float, se: float, n: int, df: int, why: str) -> None:
    low, high = korn_graubard_ci(p, se, n, df)
    assert math.isnan(low[0]) and math.isnan(high[0]), why


def test_effective_sample_size() -> None:
    got = effective_sample_size([0.25, 0.0, 1.0, 0.3, 0.3], [0.05, 0.0, 0.0, 0.0, math.nan], [10, 7, 8, 9, 9])
    assert got[0] == pytest.approx(0.25 * 0.75 / 0.0025)  # 75: not capped at n (that is presentation's job)
    assert list(got[1:3]) == [7.0, 8.0]
    assert math.isnan(got[3]) and math.isnan(got[4])


def test_kg_level_is_checked() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        korn_graubard_ci(0.2, 0.05, 100, 20, level=95)
