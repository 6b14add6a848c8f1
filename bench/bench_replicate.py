"""Benchmark: the delete-one-PSU jackknife (JKn) with every replicate re-raked, beside Taylor linearisation.

Generates one synthetic stratified cluster sample with numpy (fixed seed; default 1,000,000 respondents in
1,667 strata × 4 PSUs = 6,668 PSUs, hence 6,668 replicates; PSU labels repeat across strata; unequal weights;
a 0/1 outcome with ~20 % prevalence and PSU effects; districts (7) made of whole strata; age bands (5)), and
times, in this process with the data in memory:

  Taylor  design, raking to two margins (district, age_band), overall mean + SE, 7 district means + SEs
  JKn     design, jackknife (raking the full sample, then every replicate's cell table), the same estimates

then the whole command in a fresh process (``kepu literacy estimate FILE --rake district.csv --rake
age_band.csv --by district --json``, reading the CSV included) with ``--variance taylor`` and ``--variance jkn``.

R (``--r``, when Rscript is installed): R's ``as.svrepdesign(type="JKn", mse=TRUE)`` + ``rake()`` keeps an
n × replicates weight matrix (1,000,000 × 6,668 doubles = 53 GB here), so it runs on a smaller sample of the
same design (``--r-strata`` strata, default 100 × 4 PSUs × ``--r-per-psu`` 150 = 60,000 rows) and the script
prints R's time beside Kepu's on that same sample, with the largest SE difference.

Run: .venv/bin/python bench/bench_replicate.py [--strata 1667] [--psu 4] [--n 1000000] [--no-cli] [--r]
Goal (issue 7 point 5): 1M rows with 6,668 PSUs, raked to two margins, in ≤ 10 s."""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MARGINS = ("district", "age_band")


def generate(n_strata: int, n_psu: int, per_psu: int, seed: int = 20261202) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_psu_total = n_strata * n_psu
    psu_global = np.repeat(np.arange(n_psu_total), per_psu)
    stratum = psu_global // n_psu + 1
    psu = psu_global % n_psu + 1
    district = (stratum - 1) % 7 + 1
    age_band = rng.choice(np.arange(1, 6), size=psu_global.size, p=[0.22, 0.24, 0.22, 0.18, 0.14])
    w = np.round(rng.uniform(20, 200, n_strata)[stratum - 1] * np.exp(rng.normal(0, 0.3, psu_global.size)) * 64) / 64
    eta = -1.4 - 0.25 * (age_band - 1) + rng.normal(0, 0.4, n_psu_total)[psu_global]
    y = (rng.random(psu_global.size) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    return {"stratum": stratum, "psu": psu, "w": w, "y": y, "district": district, "age_band": age_band}


def population(data: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Margins with one grand total (an integer): the sample's shares, shifted a little, scaled up."""
    total = float(np.round(data["w"].sum() * 1.08))
    out: dict[str, dict[str, float]] = {}
    for m in MARGINS:
        levels, counts = np.unique(data[m], return_counts=True)
        shares = counts / counts.sum() * np.linspace(0.95, 1.05, levels.size)
        shares = shares / shares.sum()
        cells = np.floor(shares * total)
        cells[-1] = total - cells[:-1].sum()
        out[m] = {str(k): float(v) for k, v in zip(levels, cells, strict=True)}
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def in_process(data: dict[str, np.ndarray], pop: dict[str, dict[str, float]]) -> dict[str, Any]:
    from kepu.stats import raking, replicate, survey

    y = data["y"].astype(np.float64)
    margins = [raking.Margin(m, data[m], pop[m]) for m in MARGINS]
    res: dict[str, Any] = {}
    t_design, design = timed(
        lambda: survey.Design.from_arrays(strata=data["stratum"], psu=data["psu"], weights=data["w"])
    )
    t_rake, raked = timed(lambda: raking.rake(design, margins).design)
    t_mean, overall = timed(lambda: raked.mean(y))
    t_by, by = timed(lambda: raked.by(y, data["district"]))
    res["taylor"] = {
        "design": t_design,
        "rake / jackknife": t_rake,
        "overall": t_mean,
        "by district": t_by,
        "se": overall.se,
        "df": overall.df,
        "by_se": {k: e.se for k, e in by.items()},
    }
    t_design, design = timed(
        lambda: survey.Design.from_arrays(strata=data["stratum"], psu=data["psu"], weights=data["w"])
    )
    t_jk, jk = timed(lambda: replicate.jackknife(design, margins, psu=data["psu"]))
    t_mean, overall = timed(lambda: jk.mean(y))
    t_by, by = timed(lambda: jk.by(y, data["district"]))
    res["jkn"] = {
        "design": t_design,
        "rake / jackknife": t_jk,
        "overall": t_mean,
        "by district": t_by,
        "se": overall.se,
        "df": overall.df,
        "replicates": jk.n_replicates,
        "by_se": {k: e.se for k, e in by.items()},
    }
    return res


def write_files(data: dict[str, np.ndarray], pop: dict[str, dict[str, float]], folder: Path) -> tuple[Path, list[Path]]:
    sample = folder / "sample.csv"
    cols = ["stratum", "psu", "w", "y", "district", "age_band"]
    with sample.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        writer.writerows(zip(*(data[c].tolist() for c in cols), strict=True))
    files = []
    for m in MARGINS:
        path = folder / f"{m}.csv"
        path.write_text(f"{m},population\n" + "".join(f"{k},{v:.0f}\n" for k, v in pop[m].items()))
        files.append(path)
    return sample, files


def whole_process(sample: Path, margins: list[Path], variance: str) -> tuple[float, dict[str, Any]]:
    cmd = [
        str(ROOT / ".venv/bin/kepu"),
        "literacy",
        "estimate",
        str(sample),
        "--strata",
        "stratum",
        "--psu",
        "psu",
        "--weight",
        "w",
        "--outcome",
        "y",
        "--by",
        "district",
        "--variance",
        variance,
        "--json",
    ]
    for m in margins:
        cmd += ["--rake", str(m)]
    env = {**os.environ, "KEPU_DATA_DIR": os.environ.get("KEPU_DATA_DIR", tempfile.mkdtemp(prefix="bench-rep-"))}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"kepu literacy estimate --variance {variance} failed:\n{done.stderr}")
    return elapsed, json.loads(done.stdout)


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
pop <- lapply(c("district", "age_band"), function(m) read.csv(file.path(dirname(args[1]), paste0(m, ".csv"))))
names(pop[[1]])[2] <- "Freq"; names(pop[[2]])[2] <- "Freq"
t0 <- proc.time()[["elapsed"]]
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
rep <- as.svrepdesign(des, type = "JKn", mse = TRUE)
rk <- rake(rep, list(~district, ~age_band), pop, control = list(maxit = 100, epsilon = 1e-6))
m <- svymean(~y, rk)
b <- svyby(~y, ~district, rk, svymean)
cat(proc.time()[["elapsed"]] - t0, SE(m), SE(b), "\n")
"""


def r_comparison(args: argparse.Namespace) -> None:
    if shutil.which("Rscript") is None:
        print("\nR: Rscript not installed; skipped")
        return
    data = generate(args.r_strata, args.psu, args.r_per_psu)
    pop = population(data)
    with tempfile.TemporaryDirectory() as tmp:
        sample, _files = write_files(data, pop, Path(tmp))
        script = Path(tmp) / "jkn.R"
        script.write_text(R_SCRIPT)
        done = subprocess.run(
            ["Rscript", str(script), str(sample)], capture_output=True, text=True, check=False, timeout=args.r_timeout
        )
    if done.returncode != 0:
        print(f"\nR failed:\n{done.stderr[-2000:]}")
        return
    values = [float(v) for v in done.stdout.split()]
    r_time, r_se, r_by = values[0], values[1], values[2:]
    kepu = in_process(data, pop)["jkn"]
    k_time = kepu["design"] + kepu["rake / jackknife"] + kepu["overall"] + kepu["by district"]
    k_by = [kepu["by_se"][k] for k in sorted(kepu["by_se"], key=int)]
    diff = max(abs(r_se - kepu["se"]), *(abs(a - b) for a, b in zip(r_by, k_by, strict=True)))
    print(
        f"\nR survey on a smaller sample ({data['y'].size:,} rows, {args.r_strata * args.psu:,} PSUs; "
        "design + as.svrepdesign + rake + svymean + svyby, CSV reading excluded):"
    )
    print(
        f"  R {r_time:8.2f} s   Kepu {k_time:8.3f} s   R/Kepu {r_time / k_time:6.0f}x   "
        f"largest SE difference {diff:.2e} (R's rake() stops at epsilon=1e-6 here)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", type=int, default=1667)
    parser.add_argument("--psu", type=int, default=4, help="PSUs per stratum")
    parser.add_argument("--n", type=int, default=1_000_000, help="respondents (rounded to whole PSUs)")
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-process runs of the command")
    parser.add_argument("--r", action="store_true", help="also time R on a smaller sample of the same design")
    parser.add_argument("--r-strata", type=int, default=100)
    parser.add_argument("--r-per-psu", type=int, default=150)
    parser.add_argument("--r-timeout", type=int, default=1800)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    per_psu = max(2, -(-args.n // (args.strata * args.psu)))  # at least --n respondents
    data = generate(args.strata, args.psu, per_psu)
    pop = population(data)
    n = data["y"].size
    print(
        f"{n:,} respondents, {args.strata:,} strata × {args.psu} PSUs = {args.strata * args.psu:,} PSUs; "
        f"raked to {' and '.join(MARGINS)}; outcome y, by district (7)\n"
    )
    res = in_process(data, pop)
    steps = ("design", "rake / jackknife", "overall", "by district")
    print(f"{'step (seconds)':<22}{'Taylor':>10}{'JKn':>10}")
    for step in steps:
        print(f"{step:<22}{res['taylor'][step]:>10.3f}{res['jkn'][step]:>10.3f}")
    totals = {k: sum(res[k][s] for s in steps) for k in ("taylor", "jkn")}
    print(f"{'total':<22}{totals['taylor']:>10.3f}{totals['jkn']:>10.3f}")
    print(
        f"\noverall SE: Taylor {res['taylor']['se']:.6g} (df {res['taylor']['df']}), "
        f"JKn {res['jkn']['se']:.6g} (df {res['jkn']['df']}, {res['jkn']['replicates']:,} replicates)"
    )
    if not args.no_cli:
        with tempfile.TemporaryDirectory() as tmp:
            sample, margins = write_files(data, pop, Path(tmp))
            print("\nwhole process, fresh process (kepu literacy estimate ... --by district --rake x2 --json):")
            for variance in ("taylor", "jkn"):
                elapsed, out = whole_process(sample, margins, variance)
                print(f"  --variance {variance:<7}{elapsed:8.2f} s   overall SE {out['overall']['se']:.6g}")
    print(f"\ngoal: JKn in ≤ 10 s → {'met' if totals['jkn'] <= 10 else 'NOT met'} ({totals['jkn']:.2f} s in process)")
    if args.r:
        r_comparison(args)


if __name__ == "__main__":
    main()
