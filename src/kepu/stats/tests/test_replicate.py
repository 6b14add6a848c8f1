"""kepu.stats.replicate (delete-one-PSU jackknife, re-raked replicates) against R's survey package
(reference/replicate_reference.json, made by reference/make_replicate_reference.R), against a brute-force
jackknife, and its errors."""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kepu.stats.presentation import REVIEW_DF, assess
from kepu.stats.raking import Margin, rake
from kepu.stats.replicate import ReplicateRakingError, jackknife
from kepu.stats.survey import Design, Estimate, LonelyPSUError, SurveyError, korn_graubard_ci

REF_DIR = Path(__file__).parent / "reference"
TOL = 1e-7  # SEs, CI bounds, design effects (relative), as the issue asks


@cache
def reference() -> dict[str, Any]:
    with (REF_DIR / "replicate_reference.json").open() as fh:
        return dict(json.load(fh))


@cache
def columns(dataset: str) -> dict[str, np.ndarray]:
    with (REF_DIR / f"{dataset}.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    for k in ("w", "y", "score"):
        out[k] = out[k].astype(float)
    return out


CASES = [
    (name, kind, opt)
    for name, block in reference()["datasets"].items()
    for kind in ("jkn", "raked")
    for opt in block[kind]
    if "error" not in block[kind][opt]
]


def build(name: str, kind: str, opt: str) -> Any:
    data = columns(name)
    design = Design.from_arrays(strata=data["stratum"], psu=data["psu"], weights=data["w"], lonely_psu=opt)
    block = reference()["datasets"][name]
    margins = [Margin(v, data[v], t) for v, t in block["margins"].items()] if kind == "raked" else []
    return jackknife(design, margins, psu=data["psu"], tol=1e-13, max_iter=1000)


def close(a: float, b: float, tol: float = TOL) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return math.isnan(a)
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol * 1e-3)


def design_df(data: dict[str, np.ndarray], mask: np.ndarray) -> int:
    """The domain's design df, counted here directly: PSUs minus strata with domain members."""
    return len(set(zip(data["stratum"][mask], data["psu"][mask], strict=True))) - len(set(data["stratum"][mask]))


def check(e: Estimate, r: dict[str, Any], binary: bool, jk: Any, data: dict[str, np.ndarray], mask: Any) -> None:
    """``e`` (the estimate in domain ``mask``, all rows if None) against R's values ``r``. SE, deff and estimate
    are R's; R's ``degf()`` of the replicate (sub)design is ``jk.replicate_df``; ``e.df`` is the domain's design
    df, as for Taylor (not R's degf: see kepu.stats.replicate), and so is the Korn–Graubard interval's df. R's
    interval (on its degf) is reproduced from Kepu's SE with R's df."""
    assert e.n == r["n"]
    assert close(e.estimate, r["estimate"], 1e-9)
    assert close(e.se, r["se"]), (e.se, r["se"])
    assert close(e.deff, r["deff"]), (e.deff, r["deff"])
    assert close(e.weight_sum, r["weight_sum"], 1e-9)
    assert jk.replicate_df(mask) == r["df"]
    rows = np.ones(jk.n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    assert e.df == design_df(data, rows)
    if binary and e.estimate in (0.0, 1.0):
        # R's n.eff is 0/0 there (NaN bounds); Kepu takes n_eff = n, as the NCHS standard says (survey.py).
        assert math.isnan(r["ci_kg_low"]) and e.n_eff == e.n
    elif binary:
        (lo_r,), (hi_r,) = korn_graubard_ci(e.estimate, e.se, e.n, r["df"])
        assert close(lo_r, r["ci_kg_low"]), (lo_r, r["ci_kg_low"])
        assert close(hi_r, r["ci_kg_high"]), (hi_r, r["ci_kg_high"])
        (lo, _), (hi, _) = korn_graubard_ci([e.estimate, 0.5], [e.se, 0.1], [e.n, 10], [e.df, 1])
        assert (e.ci_kg_low, e.ci_kg_high) == (lo, hi)
        if e.df != r["df"]:
            assert e.ci_kg_high - e.ci_kg_low != pytest.approx(hi_r - lo_r, rel=1e-9)


@pytest.mark.parametrize(("name", "kind", "opt"), CASES)
def test_overall_equals_r(name: str, kind: str, opt: str) -> None:
    jk = build(name, kind, opt)
    ref = reference()["datasets"][name][kind][opt]
    assert jk.n_replicates == ref["replicates"]
    data = columns(name)
    check(jk.mean(data["y"]), ref["overall"]["y"], True, jk, data, None)
    check(jk.mean(data["score"]), ref["overall"]["score"], False, jk, data, None)


@pytest.mark.parametrize(("name", "kind", "opt"), CASES)
def test_domains_equal_r_svyby(name: str, kind: str, opt: str) -> None:
    jk = build(name, kind, opt)
    ref = reference()["datasets"][name][kind][opt]
    data = columns(name)
    for group, levels in ref["by"].items():
        got = jk.by(data["y"], data[group])
        assert sorted(got) == sorted(levels)
        for level, r in levels.items():
            check(got[level], r, True, jk, data, data[group] == level)
    for level, r in ref["by_score"]["age"].items():
        check(jk.by(data["score"], data["age"])[level], r, False, jk, data, data["age"] == level)


def test_domain_mask_equals_by() -> None:
    jk = build("d1", "raked", "fail")
    data = columns("d1")
    by = jk.by(data["y"], data["sex"])["F"]
    mask = jk.mean(data["y"], domain=data["sex"] == "F")
    assert (mask.n, mask.df) == (by.n, by.df)
    assert math.isclose(mask.se, by.se, rel_tol=1e-12)
    assert math.isclose(mask.ci_kg_high, by.ci_kg_high, rel_tol=1e-12)


def test_small_domain_after_raking_has_the_taylor_design_df_and_is_flagged() -> None:
    # A domain in few PSUs of a raked replicate design: R's degf() of the subset is about the number of
    # replicates - 1, but the domain's information comes from its own PSUs. Its df (and the Korn–Graubard
    # interval's and the presentation flags') are the Taylor design df of the domain, as NCHS prescribes.
    data = columns("d1")
    jk = build("d1", "raked", "fail")
    small = (data["stratum"] == "1") & (data["sex"] == "F")
    e = jk.mean(data["y"], domain=small)
    taylor = rake(jk.design, [Margin(v, data[v], t) for v, t in reference()["datasets"]["d1"]["margins"].items()])
    assert e.df == taylor.design.mean(data["y"], domain=small).df == design_df(data, small) < 8
    assert jk.replicate_df(small) > e.df  # what R's degf() would have said
    assert REVIEW_DF in assess(e).flags
    (lo_rep,), (hi_rep,) = korn_graubard_ci(e.estimate, e.se, e.n, jk.replicate_df(small))
    assert e.ci_kg_high - e.ci_kg_low > hi_rep - lo_rep  # fewer df: a wider interval


def test_one_psu_stratum_fails_like_r() -> None:
    assert "one PSU" in reference()["datasets"]["d3"]["jkn"]["fail"]["error"]
    with pytest.raises(LonelyPSUError, match="'S3' has only one PSU"):
        build("d3", "jkn", "fail")


def test_lonely_adjust_adds_a_replicate_and_average_scales() -> None:
    assert build("d3", "jkn", "adjust").n_replicates == build("d3", "jkn", "remove").n_replicates + 1
    data = columns("d3")
    removed = build("d3", "jkn", "remove").mean(data["y"]).se
    averaged = build("d3", "jkn", "average").mean(data["y"]).se
    assert averaged > removed


# -- brute force: explicit replicate weights, each raked by kepu.stats.raking.rake --------------------------------


def brute_force_se(
    strata: np.ndarray, psu: np.ndarray, w: np.ndarray, y: np.ndarray, margins: list[Margin], domain: np.ndarray
) -> float:
    def estimate(weights: np.ndarray) -> float:
        if margins:
            keep = weights > 0
            sub = Design.from_arrays(strata=strata[keep], psu=psu[keep], weights=weights[keep])
            sub_margins = [Margin(m.column, m.categories[keep], m.totals) for m in margins]
            raked = np.zeros_like(weights)
            raked[keep] = rake(sub, sub_margins, tol=1e-13, max_iter=1000).weights
            weights = raked
        wd = np.where(domain, weights, 0.0)
        return float(np.dot(wd, y) / wd.sum())

    full = estimate(w)
    var = 0.0
    for h in np.unique(strata):
        psus = np.unique(psu[strata == h])
        nh = len(psus)
        for c in psus:
            factor = np.where(strata == h, nh / (nh - 1), 1.0)
            factor = np.where((strata == h) & (psu == c), 0.0, factor)
            var += (nh - 1) / nh * (estimate(w * factor) - full) ** 2
    return math.sqrt(var)


@pytest.mark.parametrize("raked", [False, True])
def test_fast_replicates_equal_brute_force(raked: bool) -> None:
    rng = np.random.default_rng(7)
    n = 400
    strata = rng.integers(0, 6, n)
    psu = rng.integers(0, 2 + strata % 3, n)  # 2 to 4 PSUs per stratum
    w = rng.uniform(20, 80, n)
    y = (rng.random(n) < 0.3).astype(float)
    sex, age = rng.integers(0, 2, n), rng.integers(0, 3, n)
    total = 1.1 * w.sum()
    margins = (
        [
            Margin("sex", sex, {"0": 0.5 * total, "1": 0.5 * total}),
            Margin("age", age, {"0": 0.3 * total, "1": 0.3 * total, "2": 0.4 * total}),
        ]
        if raked
        else []
    )
    design = Design.from_arrays(strata=strata, psu=psu, weights=w)
    jk = jackknife(design, margins, tol=1e-13, max_iter=1000)
    domain = rng.random(n) < 0.2
    got = jk.mean(y, domain=domain)
    assert math.isclose(got.se, brute_force_se(strata, psu, w, y, margins, domain), rel_tol=1e-9)
    assert math.isclose(jk.mean(y).se, brute_force_se(strata, psu, w, y, margins, np.ones(n, bool)), rel_tol=1e-9)


# -- errors ---------------------------------------------------------------------------------------------------------


def small_design() -> tuple[Design, dict[str, np.ndarray]]:
    # Stratum "B": PSU "b2" holds the only (a=y, b=q) respondent, PSU "b3" the only (a=z, b=p) one.
    rows = [
        ("A", "a1", "y", "p"),
        ("A", "a1", "z", "q"),
        ("A", "a2", "y", "p"),
        ("A", "a2", "z", "q"),
        ("B", "b1", "y", "p"),
        ("B", "b1", "z", "q"),
        ("B", "b2", "y", "q"),
        ("B", "b3", "z", "p"),
    ]
    cols = {k: np.array(v) for k, v in zip(("stratum", "psu", "a", "b"), zip(*rows, strict=True), strict=True)}
    design = Design.from_arrays(strata=cols["stratum"], psu=cols["psu"], weights=np.full(len(rows), 10.0))
    return design, cols


def test_replicate_without_a_category_names_the_deleted_psu() -> None:
    design, cols = small_design()
    cats = np.where(cols["psu"] == "b2", "x", cols["a"])
    margins = [Margin("a", cats, {"x": 15, "y": 30, "z": 45})]
    with pytest.raises(ReplicateRakingError, match=r"deletes PSU 'b2' of stratum 'B'.*category 'x' of margin 'a'") as e:
        jackknife(design, margins, psu=cols["psu"])
    assert (e.value.stratum, e.value.psu, e.value.margin) == ("B", "b2", "a")


def test_replicate_that_does_not_converge_names_the_deleted_psu() -> None:
    # Without PSU b3 no respondent has (z, p), so all of a=z (60) would have to be in b=q (40): the replicate's
    # raking cannot converge. The full sample and every other replicate can be raked.
    design, cols = small_design()
    margins = [Margin("a", cols["a"], {"y": 40, "z": 60}), Margin("b", cols["b"], {"p": 60, "q": 40})]
    with pytest.raises(ReplicateRakingError, match=r"did not converge.*deletes PSU 'b3' of stratum 'B'") as e:
        jackknife(design, margins, psu=cols["psu"])
    assert (e.value.stratum, e.value.psu) == ("B", "b3")


def test_calibrated_design_is_refused() -> None:
    design, cols = small_design()
    raked = rake(design, [Margin("a", cols["a"], {"y": 50, "z": 50})]).design
    with pytest.raises(SurveyError, match="before raking"):
        jackknife(raked)


def test_domains_in_chunks_equal_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import kepu.stats.replicate as replicate_module

    data = columns("d2")
    jk = build("d2", "raked", "fail")
    whole = jk.by(data["y"], data["age"])
    monkeypatch.setattr(replicate_module, "CHUNK_ENTRIES", 1)  # one domain column at a time
    assert {k: e.se for k, e in jk.by(data["y"], data["age"]).items()} == {k: e.se for k, e in whole.items()}


def test_a_replicate_without_the_domain_is_discarded_as_in_r() -> None:
    # R's svrVar discards a replicate with no estimate ("1 replicates gave NA results and were discarded").
    ref = reference()["discarded"]
    strata, psu = np.array(ref["stratum"]), np.array(ref["psu"])
    design = Design.from_arrays(strata=strata, psu=psu, weights=np.array(ref["w"], dtype=float))
    jk = jackknife(design, psu=psu)
    y = np.array(ref["y"], dtype=float)
    only_b2 = jk.mean(y, domain=psu == "b2")
    assert only_b2.n == 1 and only_b2.se == pytest.approx(ref["se_psu_b2"], abs=1e-12)
    assert jk.mean(y, domain=strata == "A").se == pytest.approx(ref["se_stratum_A"], rel=1e-12)
