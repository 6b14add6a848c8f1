"""Benchmark: design-based literacy estimates on a 1,000,000-respondent stratified cluster sample.

Generates one synthetic sample with numpy (fixed seed; default 100 strata × 40 PSUs × 250 respondents, PSU
labels repeating across strata, unequal weights, a 0/1 outcome with ~20 % prevalence and PSU effects, five
domain variables) and times, side by side in the same run and each engine in its own subprocess:
  1. the overall mean with its SE (building the design included),
  2. five domain breakdowns with SEs (district 7 levels, age_band 5, sex 2, area 2, education 5),
  3. raking to two margins (district, age_band) until fully converged,
  4. the overall mean with its SE on the raked design,
for Kepu (kepu.stats.survey / kepu.stats.raking), samplics (TaylorEstimator, SampleWeight.rake) and, when
Rscript is installed, R's survey package (svydesign(nest=TRUE), svymean, svyby, calibrate(calfun="raking");
bench_literacy.R). Kepu's rake() uses its default variance="calibrate", whose raked SE is that of R's
calibrate(calfun="raking") (R's rake() gives the same weights but a slightly different SE); samplics' SE ignores
the calibration.
Loading the data is not timed in these steps. Each step is repeated (--reps, default 3; every repetition starts from a
fresh design) and the median is reported, with the ratios samplics/Kepu and R/Kepu, the peak memory (max
RSS) of each engine's process, and the largest differences of every result from Kepu's.
Then the WHOLE PROCESS, as a user runs it: each engine in a fresh process reads data.csv, estimates the overall
share and the shares by district with SEs, and prints JSON (`kepu literacy estimate … --by district --json`;
samplics after pandas.read_csv; R's svymean/svyby after data.table::fread, bench_literacy.R DIR whole); the wall
time of each, side by side, with the ratios to Kepu and the largest difference of the results from Kepu's.
Run: .venv/bin/python bench/bench_literacy.py [--n 1000000] [--reps 3] [--whole-reps 3] [--whole-only] [--timeout 1800]
[--no-r]
Goals (issues 5 and 7): steps ≥ 10× faster than samplics and ≥ 20× faster than R, with equal results; the whole
process ≤ 1.5 s for 1,000,000 respondents and ≥ 30× faster than samplics."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
N_STRATA, N_PSU = 100, 40
DOMAINS = ("district", "age_band", "sex", "area", "education")
RAKE_MARGINS = ("district", "age_band")
COLUMNS = ("stratum", "psu", "w", "y", *DOMAINS)
STEPS = ("overall", "domains", "rake", "raked_mean")
STEP_LABELS = {
    "overall": "overall mean + SE",
    "domains": "5 domain breakdowns",
    "rake": "raking, 2 margins",
    "raked_mean": "mean + SE, raked",
}
RAKE_TOL = 1e-12  # every engine rakes to full convergence (its own criterion at this tolerance)
RAKE_MAX_ITER = 1000


# ---------------------------------------------------------------------------------------------------------------
# Data


def generate(n: int, seed: int = 20240611) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """The sample (integer labels, weights that are multiples of 1/64 so they survive a CSV round trip exactly)
    and population totals for the raking margins (both summing to the same integer N)."""
    per_psu = n // (N_STRATA * N_PSU)
    if per_psu < 2:
        raise SystemExit(f"--n must be at least {2 * N_STRATA * N_PSU}")
    rng = np.random.default_rng(seed)
    n = N_STRATA * N_PSU * per_psu
    n_psu_total = N_STRATA * N_PSU
    psu_global = np.repeat(np.arange(n_psu_total), per_psu)  # 0 .. 3999, strata-major
    stratum = psu_global // N_PSU + 1
    psu = psu_global % N_PSU + 1  # labels 1..40 repeat in every stratum (nested)
    district = (stratum - 1) % 7 + 1  # strata lie within districts
    area = np.where(rng.random(n_psu_total) < 0.4, 1, 2)[psu_global]  # urban/rural is a PSU property
    sex = rng.integers(1, 3, n)
    age_band = rng.choice(np.arange(1, 6), size=n, p=[0.22, 0.24, 0.22, 0.18, 0.14])
    edu_latent = 3.3 - 0.35 * (age_band - 1) + 0.5 * (area == 1) + rng.normal(0, 1.0, n)
    education = np.clip(np.rint(edu_latent), 1, 5).astype(np.int64)

    stratum_w = rng.uniform(20, 200, N_STRATA)[stratum - 1]
    psu_w = rng.lognormal(0, 0.3, n_psu_total)[psu_global]
    w = stratum_w * psu_w * rng.lognormal(0, 0.25, n)
    w = np.maximum(np.rint(w * 64), 1) / 64

    lp = (
        0.45 * (age_band - 3)
        - 0.5 * (education - 3)
        + 0.25 * (sex == 2)
        - 0.3 * (area == 1)
        + np.linspace(-0.4, 0.4, 7)[district - 1]
        + rng.normal(0, 0.6, n_psu_total)[psu_global]
    )
    lo, hi = -10.0, 10.0  # intercept for ~20 % prevalence
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(mid + lp)))) < 0.2:
            lo = mid
        else:
            hi = mid
    y = (rng.random(n) < 1 / (1 + np.exp(-(lo + lp)))).astype(np.int64)

    data = {
        "stratum": stratum.astype(np.int64),
        "psu": psu.astype(np.int64),
        "w": w,
        "y": y,
        "district": district.astype(np.int64),
        "age_band": age_band.astype(np.int64),
        "sex": sex.astype(np.int64),
        "area": area.astype(np.int64),
        "education": education,
    }
    population = round(float(w.sum()) * 1.05)
    margins: dict[str, dict[str, float]] = {}
    for name in RAKE_MARGINS:
        codes = data[name]
        levels = np.unique(codes)
        share = np.bincount(codes, weights=w)[levels] / w.sum()
        share = share * np.exp(rng.normal(0, 0.08, levels.size))
        totals = np.rint(population * share / share.sum())
        totals[-1] = population - totals[:-1].sum()
        margins[name] = {str(int(lev)): float(t) for lev, t in zip(levels, totals, strict=True)}
    return data, margins


def write_data(data: dict[str, np.ndarray], margins: dict[str, dict[str, float]], folder: Path, csv: bool) -> None:
    np.savez(folder / "data.npz", **data)  # type: ignore[arg-type]  # numpy's stub types **kwds too narrowly
    (folder / "margins.json").write_text(json.dumps(margins))
    if csv:
        table = np.column_stack([data[c].astype(np.float64) for c in COLUMNS])
        fmt = ["%d", "%d", "%.6f", *(["%d"] * (len(COLUMNS) - 3))]
        np.savetxt(folder / "data.csv", table, fmt=fmt, delimiter=",", header=",".join(COLUMNS), comments="")
        rows = [f"{m},{lev},{tot:.1f}" for m, tots in margins.items() for lev, tot in tots.items()]
        (folder / "margins.csv").write_text("margin,level,total\n" + "\n".join(rows) + "\n")


def load(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    with np.load(folder / "data.npz") as z:
        data = {k: z[k] for k in z.files}
    return data, json.loads((folder / "margins.json").read_text())


def peak_rss_mib() -> float:
    """VmHWM (peak resident set so far) of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


# ---------------------------------------------------------------------------------------------------------------
# Engines (each runs in its own process: `bench_literacy.py --worker kepu|samplics DIR`)


def run_kepu(folder: Path, reps: int) -> dict[str, Any]:
    from kepu.stats.raking import Margin, rake
    from kepu.stats.survey import Design

    data, margins = load(folder)
    y = data["y"]
    after_load = peak_rss_mib()
    times: dict[str, list[float]] = {s: [] for s in STEPS}
    out: dict[str, Any] = {}
    iterations = 0
    for _ in range(reps):
        t0 = time.perf_counter()
        design = Design.from_arrays(strata=data["stratum"], psu=data["psu"], weights=data["w"], lonely_psu="fail")
        overall = design.mean(y)
        t1 = time.perf_counter()
        domains = {g: design.by(y, data[g]) for g in DOMAINS}
        t2 = time.perf_counter()
        raked = rake(  # default variance="calibrate": SEs as R's calibrate(calfun="raking")
            design,
            [Margin(m, data[m], margins[m]) for m in RAKE_MARGINS],
            tol=RAKE_TOL,
            max_iter=RAKE_MAX_ITER,
        )
        t3 = time.perf_counter()
        raked_mean = raked.design.mean(y)
        t4 = time.perf_counter()
        for step, (a, b) in zip(STEPS, [(t0, t1), (t1, t2), (t2, t3), (t3, t4)], strict=True):
            times[step].append(b - a)
        iterations = raked.iterations
        out = {
            "overall": [overall.estimate, overall.se],
            "domains": {g: {k: [e.estimate, e.se] for k, e in res.items()} for g, res in domains.items()},
            "raked": [raked_mean.estimate, raked_mean.se],
        }
        weights = raked.weights
    # Not timed: the SE that ignores the raking (raked weights used as plain sampling weights), which is what
    # samplics reports after raking, to show where its SE differs.
    plain = Design.from_arrays(strata=data["stratum"], psu=data["psu"], weights=weights, lonely_psu="fail")
    out["raked_plain_se"] = plain.mean(y).se
    np.save(folder / "weights_kepu.npy", weights)
    return {"times": times, "results": out, "rss_after_load_mib": after_load, "rake_iterations": iterations}


def run_samplics(folder: Path, reps: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from samplics import PopParam, SampleWeight, TaylorEstimator

    data, margins = load(folder)
    y = data["y"].astype(np.float64)
    w = data["w"]
    stratum = data["stratum"]
    # samplics needs PSU ids that are unique across strata to treat PSUs as nested: stratum-qualified ids.
    psu = stratum * 1000 + data["psu"]
    controls = {m: {int(k): v for k, v in margins[m].items()} for m in RAKE_MARGINS}
    after_load = peak_rss_mib()
    times: dict[str, list[float]] = {s: [] for s in STEPS}
    out: dict[str, Any] = {}
    for _ in range(reps):
        t0 = time.perf_counter()
        est = TaylorEstimator(PopParam.mean)
        est.estimate(y, samp_weight=w, stratum=stratum, psu=psu)
        overall = [float(est.point_est), float(est.stderror)]
        t1 = time.perf_counter()
        domains: dict[str, dict[str, list[float]]] = {}
        for g in DOMAINS:
            est_g = TaylorEstimator(PopParam.mean)
            est_g.estimate(y, samp_weight=w, stratum=stratum, psu=psu, domain=data[g])
            domains[g] = {str(int(k)): [float(v), float(est_g.stderror[k])] for k, v in est_g.point_est.items()}
        t2 = time.perf_counter()
        raked_w = SampleWeight().rake(
            samp_weight=w,
            margins={m: data[m] for m in RAKE_MARGINS},  # type: ignore[misc]  # samplics' stub: arrays accepted
            control=controls,  # type: ignore[arg-type]
            tol=RAKE_TOL,
            ctrl_tol=RAKE_TOL,
            max_iter=RAKE_MAX_ITER,
        )
        t3 = time.perf_counter()
        est_r = TaylorEstimator(PopParam.mean)
        est_r.estimate(y, samp_weight=raked_w, stratum=stratum, psu=psu)
        raked = [float(est_r.point_est), float(est_r.stderror)]
        t4 = time.perf_counter()
        for step, (a, b) in zip(STEPS, [(t0, t1), (t1, t2), (t2, t3), (t3, t4)], strict=True):
            times[step].append(b - a)
        out = {"overall": overall, "domains": domains, "raked": raked}
    np.save(folder / "weights_samplics.npy", np.asarray(raked_w, dtype=np.float64))
    return {"times": times, "results": out, "rss_after_load_mib": after_load, "version": version("samplics")}


# ---------------------------------------------------------------------------------------------------------------
# Whole process: read data.csv, estimate the overall share and the shares by district with SEs, print JSON.
# Each engine starts in a fresh process, as a user runs it; the wall time from start to exit is measured.

WHOLE_TASK = "read data.csv → overall + by district (SEs) → JSON, fresh process"


def whole_samplics(folder: Path) -> None:
    """samplics doing the whole job: pandas reads the CSV (its default C parser), TaylorEstimator estimates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import pandas as pd
        from samplics import PopParam, TaylorEstimator

        d = pd.read_csv(folder / "data.csv")
        y = d["y"].to_numpy(dtype=np.float64)
        w = d["w"].to_numpy()
        stratum = d["stratum"].to_numpy()
        psu = stratum * 1000 + d["psu"].to_numpy()  # stratum-qualified: samplics' PSU ids must be unique
        est = TaylorEstimator(PopParam.mean)
        est.estimate(y, samp_weight=w, stratum=stratum, psu=psu)
        by = TaylorEstimator(PopParam.mean)
        by.estimate(y, samp_weight=w, stratum=stratum, psu=psu, domain=d["district"].to_numpy())
    out = {
        "n": int(y.size),
        "overall": {"estimate": float(est.point_est), "se": float(est.stderror)},
        "by": {"district": {str(k): {"estimate": float(v), "se": float(by.stderror[k])}
                            for k, v in by.point_est.items()}},
    }
    print(json.dumps(out))


def whole_commands(folder: Path, use_r: bool, use_samplics: bool) -> dict[str, list[str]]:
    csv = str(folder / "data.csv")
    kepu = str(Path(sys.executable).with_name("kepu"))
    cmds = {"kepu": [kepu, "literacy", "estimate", csv, "--strata", "stratum", "--psu", "psu", "--weight", "w",
                     "--outcome", "y", "--by", "district", "--json"]}
    if use_samplics:
        cmds["samplics"] = [sys.executable, str(Path(__file__).resolve()), "--whole-samplics", str(folder)]
    if use_r:
        cmds["R"] = ["Rscript", "--vanilla", str(HERE / "bench_literacy.R"), str(folder), "whole"]
    return cmds


def run_whole(folder: Path, cmds: dict[str, list[str]], reps: int, timeout: float) -> dict[str, Any]:
    """Median wall time of each command (each run a fresh process) and its JSON output."""
    out: dict[str, Any] = {}
    for name, cmd in cmds.items():
        times: list[float] = []
        for _ in range(reps if name == "kepu" else 1):  # the slow engines once: their spread is small beside it
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            times.append(time.perf_counter() - t)
            if proc.returncode != 0:
                out[name] = {"error": proc.stderr[-2000:]}
                break
        else:
            out[name] = {"seconds": statistics.median(times), "runs": len(times), "result": json.loads(proc.stdout)}
    return out


def print_whole(whole: dict[str, Any]) -> None:
    ok = {k: v for k, v in whole.items() if "error" not in v}
    print(f"Whole process ({WHOLE_TASK}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':<24}" + "".join(f"{k:>11}" for k in ok))
    print(f"{'wall seconds':<24}" + "".join(f"  {fmt_s(v['seconds'])}" for v in ok.values()))
    if "kepu" in ok:
        print(f"{'× Kepu':<24}" + "".join(f"{v['seconds'] / ok['kepu']['seconds']:>10.1f}×" for v in ok.values()))
        ref = ok["kepu"]["result"]
        for k, v in ok.items():
            if k == "kepu":
                continue
            res = v["result"]
            diffs = [abs(res["overall"][f] - ref["overall"][f]) for f in ("estimate", "se")]
            for lev, e in ref["by"]["district"].items():
                diffs += [abs(res["by"]["district"][lev][f] - e[f]) for f in ("estimate", "se")]
            print(f"  {k}: max |difference| from Kepu's overall and district estimates and SEs {max(diffs):.1e}")
    for k, v in whole.items():
        if "error" in v:
            print(f"{k}: FAILED — {v['error']}")


def worker(engine: str, folder: Path, reps: int) -> None:
    result = run_kepu(folder, reps) if engine == "kepu" else run_samplics(folder, reps)
    result["rss_peak_mib"] = peak_rss_mib()
    (folder / f"result_{engine}.json").write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------------------------
# Driver


def run_engine(name: str, cmd: list[str], folder: Path, timeout: float) -> dict[str, Any]:
    """Run one engine in a child process; its peak RSS comes from wait4() (max RSS of that child alone)."""
    log = folder / f"log_{name}.txt"
    start = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"error": f"timed out after {timeout:.0f} s", "wall": time.perf_counter() - start}
            time.sleep(0.1)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    result_file = folder / f"result_{name}.json"
    if proc.returncode != 0 or not result_file.exists():
        tail = log.read_text(errors="replace")[-2000:]
        return {"error": f"exit code {proc.returncode}:\n{tail}", "wall": wall}
    result: dict[str, Any] = json.loads(result_file.read_text())
    result["max_rss_mib"] = usage.ru_maxrss / 1024 if usage else math.nan
    result["wall"] = wall
    return result


def median_times(result: dict[str, Any]) -> dict[str, float]:
    med = {s: statistics.median(result["times"][s]) for s in STEPS}
    med["total"] = sum(med.values())
    return med


def fmt_s(x: float) -> str:
    return f"{x:9.3f}" if x < 100 else f"{x:9.1f}"


def print_timings(engines: dict[str, dict[str, Any]]) -> None:
    ok = {k: v for k, v in engines.items() if "error" not in v}
    med = {k: median_times(v) for k, v in ok.items()}
    others = [k for k in ok if k != "kepu"]
    head = f"{'step (median seconds)':<24}" + "".join(f"{k:>11}" for k in ok)
    head += "".join(f"{k + '/kepu':>15}" for k in others)
    print(head)
    print("-" * len(head))
    for step in (*STEPS, "total"):
        label = STEP_LABELS.get(step, "total")
        row = f"{label:<24}" + "".join(f"  {fmt_s(med[k][step])}" for k in ok)
        if "kepu" in med:
            row += "".join(f"{med[k][step] / med['kepu'][step]:>14.1f}×" for k in others)
        print(row)
    print()
    print(f"{'memory (MiB)':<24}" + "".join(f"{k:>11}" for k in ok))
    print(f"{'peak RSS after loading':<24}" + "".join(f"{ok[k]['rss_after_load_mib']:>11.0f}" for k in ok))
    print(f"{'peak RSS of the process':<24}" + "".join(f"{ok[k]['max_rss_mib']:>11.0f}" for k in ok))
    print(f"{'  increase by the steps':<24}"
          + "".join(f"{ok[k]['max_rss_mib'] - ok[k]['rss_after_load_mib']:>11.0f}" for k in ok))
    print(f"{'process wall time (s)':<24}" + "".join(f"{ok[k]['wall']:>11.1f}" for k in ok))
    for k, v in engines.items():
        if "error" in v:
            print(f"\n{k}: FAILED — {v['error']}")


def flat_domains(res: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    return {(g, lev): v for g, levels in res["domains"].items() for lev, v in levels.items()}


def print_agreement(engines: dict[str, dict[str, Any]], folder: Path) -> None:
    if "error" in engines.get("kepu", {"error": ""}):
        return
    ref = engines["kepu"]["results"]
    ref_dom = flat_domains(ref)
    others = [k for k, v in engines.items() if k != "kepu" and "error" not in v]
    if not others:
        return
    rows: list[tuple[str, list[str]]] = []
    cols: dict[str, dict[str, float]] = {}
    for k in others:
        res = engines[k]["results"]
        dom = flat_domains(res)
        if set(dom) != set(ref_dom):
            raise SystemExit(f"{k}: domain levels differ from Kepu's: {sorted(set(dom) ^ set(ref_dom))}")
        wk = np.load(folder / "weights_kepu.npy")
        wo = np.fromfile(folder / "weights_R.bin", dtype="<f8") if k == "R" else np.load(folder / f"weights_{k}.npy")
        cols[k] = {
            "overall estimate": abs(res["overall"][0] - ref["overall"][0]),
            "overall SE": abs(res["overall"][1] - ref["overall"][1]),
            f"domain estimates ({len(dom)})": max(abs(dom[key][0] - ref_dom[key][0]) for key in dom),
            f"domain SEs ({len(dom)})": max(abs(dom[key][1] - ref_dom[key][1]) for key in dom),
            "raked weights (relative)": float(np.max(np.abs(wo / wk - 1))),
            "raked estimate": abs(res["raked"][0] - ref["raked"][0]),
            "raked SE": abs(res["raked"][1] - ref["raked"][1]),
        }
    for label in cols[others[0]]:
        rows.append((label, [f"{cols[k][label]:>14.2e}" for k in others]))
    head = f"{'max |difference| from Kepu':<30}" + "".join(f"{k:>14}" for k in others)
    print(head)
    print("-" * len(head))
    for label, vals in rows:
        print(f"{label:<30}" + "".join(vals))
    print(f"\nKepu: overall {ref['overall'][0]:.6f} (SE {ref['overall'][1]:.6f}); raked {ref['raked'][0]:.6f} "
          f"(SE {ref['raked'][1]:.6f}, {engines['kepu']['rake_iterations']} raking passes)")
    if {"samplics", "R"} <= set(others):
        ws = np.load(folder / "weights_samplics.npy")
        wr = np.fromfile(folder / "weights_R.bin", dtype="<f8")
        print(f"Raked weights, samplics vs R: max relative difference {float(np.max(np.abs(ws / wr - 1))):.2e} "
              "(Kepu stops once every margin is met within the tolerance, R's calibrate() once its Newton steps "
              "meet them within it, samplics when a pass changes the margins by less than it).")
    if "samplics" in others:
        s = engines["samplics"]["results"]["raked"][1]
        plain = ref["raked_plain_se"]
        print(f"samplics' raked SE {s:.6f} ignores the calibration (it treats the raked weights as sampling weights); "
              f"Kepu's SE for that convention is {plain:.6f} (|difference| {abs(s - plain):.2e}). Kepu, like R's "
              "calibrate(), linearises the raking, hence the smaller SE.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="respondents (rounded down to a multiple of 4000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per step (median reported)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per engine")
    ap.add_argument("--no-r", action="store_true", help="skip R even when Rscript is installed")
    ap.add_argument("--no-samplics", action="store_true", help="skip samplics")
    ap.add_argument("--keep", type=Path, help="write the data and results to this folder and keep them")
    ap.add_argument("--whole-reps", type=int, default=3, help="whole-process runs of Kepu (median reported)")
    ap.add_argument("--whole-only", action="store_true", help="time only the whole processes, not the steps")
    ap.add_argument("--worker", nargs=2, metavar=("ENGINE", "DIR"), help=argparse.SUPPRESS)
    ap.add_argument("--whole-samplics", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.whole_samplics:
        whole_samplics(args.whole_samplics)
        return
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args.reps)
        return

    rscript = shutil.which("Rscript")
    use_r = rscript is not None and not args.no_r
    tmp = None
    if args.keep:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_literacy_")
        folder = Path(tmp.name)
    try:
        t0 = time.perf_counter()
        data, margins = generate(args.n)
        write_data(data, margins, folder, csv=True)
        n = data["y"].size
        per_psu = n // (N_STRATA * N_PSU)
        print(f"Sample: {n:,} respondents = {N_STRATA} strata × {N_PSU} PSUs × {per_psu}; prevalence "
              f"{np.average(data['y'], weights=data['w']):.3f}; weights {data['w'].min():.1f}–{data['w'].max():.1f}; "
              f"domains {', '.join(f'{g} ({np.unique(data[g]).size})' for g in DOMAINS)}; raking to "
              f"{' and '.join(RAKE_MARGINS)} (N = {sum(margins[RAKE_MARGINS[0]].values()):,.0f}); "
              f"generated in {time.perf_counter() - t0:.1f} s")
        print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}; "
              f"{args.reps} repetitions per step, loading not timed, timeout {args.timeout:.0f} s per engine")
        del data
        if args.whole_only:
            print_whole(run_whole(folder, whole_commands(folder, use_r, not args.no_samplics), args.whole_reps,
                                  args.timeout))
            return
        engines: dict[str, dict[str, Any]] = {}
        py = [sys.executable, str(Path(__file__).resolve()), "--reps", str(args.reps), "--worker"]
        engines["kepu"] = run_engine("kepu", [*py, "kepu", str(folder)], folder, args.timeout)
        if not args.no_samplics:
            engines["samplics"] = run_engine("samplics", [*py, "samplics", str(folder)], folder, args.timeout)
        if use_r:
            assert rscript is not None
            cmd = [rscript, "--vanilla", str(HERE / "bench_literacy.R"), str(folder), str(args.reps)]
            engines["R"] = run_engine("R", cmd, folder, args.timeout)
        elif not args.no_r:
            print("Rscript not found: R's survey package is skipped.")
        versions = []
        if "version" in engines.get("samplics", {}):
            versions.append(f"samplics {engines['samplics']['version']}")
        if "version" in engines.get("R", {}):
            versions.append(engines["R"]["version"])
        if versions:
            print("Engines: " + "; ".join(versions))
        print()
        print_timings(engines)
        print()
        print_agreement(engines, folder)
        print()
        cmds = whole_commands(folder, use_r, not args.no_samplics)
        print_whole(run_whole(folder, cmds, args.whole_reps, args.timeout))
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
