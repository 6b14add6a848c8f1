"""bench/bench_coverage.py on a tiny configuration, so the coverage bench does not rot.

Checks the machinery (population, two-stage sampling, scoring against the population's true values,
tallying), not coverage figures or timing."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_coverage.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_coverage", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_coverage"] = module  # dataclasses need the module registered while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(bench):
    cfg = bench.Config(strata=12, pop_psus=(8, 12), psu_size=40.0, take=8)
    return cfg, bench.make_population(cfg, seed=3)


def test_true_values_are_the_population_proportions(bench, tiny):
    _, pop = tiny
    district = np.repeat(pop.psu_district, pop.size)
    assert pop.truth["overall"] == pytest.approx(pop.y.mean(), abs=0)
    assert pop.truth["district"] == pytest.approx(pop.y[district == bench.SMALL_DISTRICT].mean(), abs=0)
    for name in bench.RAKE_MARGINS:
        assert sum(pop.margins[name].values()) == pop.y.size


def test_a_sample_is_two_stage_with_inverse_probability_weights(bench, tiny):
    cfg, pop = tiny
    sample = bench.draw_sample(pop, np.random.default_rng(1))
    n_psus = int(pop.n_draw.sum())
    assert sample["y"].size == n_psus * cfg.take
    psus, counts = np.unique(sample["psu"], return_counts=True)
    assert psus.size == n_psus and set(counts) == {cfg.take}
    assert (np.bincount(pop.psu_stratum[psus])[1:] == pop.n_draw).all()
    c = sample["psu"][0]
    h = pop.psu_stratum[c]
    expected = pop.stratum_psus[h - 1].size / pop.n_draw[h - 1] * pop.size[c] / cfg.take
    assert sample["w"][0] == pytest.approx(expected)


def test_simulation_tallies_every_cell_with_shares_between_0_and_1(bench, tiny):
    _, pop = tiny
    variances = bench.VARIANCES
    cells = bench.simulate(pop, samples=20, seed=5, workers=1, variances=variances)
    assert set(cells) == {(v, w, d) for v in variances for w in bench.WEIGHTINGS for d in bench.DOMAINS}
    assert cells[("taylor", "unraked", "overall")].failed == 0
    for t in cells.values():
        assert t.failed < 20
        for ci in bench.CIS:
            assert len(t.covered[ci]) + t.undefined[ci] + t.failed == 20
            c, se = bench.share(t.covered[ci])
            assert 0.0 <= c <= 1.0 and se >= 0.0
        assert 0.0 <= bench.share(t.suppressed)[0] <= 1.0
        assert len(t.covered_shown) <= t.suppressed.count(False)
    text = bench.report(cells, 20)
    assert "district1" in text and "Goal 95 ± 1.5 % (jkn, raked, overall), Korn–Graubard" in text


def test_coverage_is_judged_against_the_population_truth(bench, tiny):
    _, pop = tiny
    impossible = dataclasses.replace(pop, truth={"overall": 2.0, "district": -1.0})
    cells = bench.simulate(impossible, samples=5, seed=5, workers=1, variances=("taylor",))
    for t in cells.values():
        for ci in bench.CIS:
            assert not any(t.covered[ci])


def test_results_do_not_depend_on_the_number_of_workers(bench, tiny):
    _, pop = tiny
    one = bench.simulate(pop, samples=4, seed=9, workers=1, variances=("taylor",))
    two = bench.simulate(pop, samples=4, seed=9, workers=2, variances=("taylor",))
    assert {k: t.estimates for k, t in one.items()} == {k: t.estimates for k, t in two.items()}
