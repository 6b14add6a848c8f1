"""Benchmark: `kepu literacy wave import` of a large respondent file on SQLite.

Sets up a throw-away SQLite database (migrate, the Changzhou region and plan, the item bank), writes a
respondent CSV (default 100,000 respondents × 40 items, 7 districts, fixed seed) and times
  1. the whole command `kepu literacy wave import CODE FILE --year 2026` in a fresh process
     (start-up, reading, checking every row, writing, scoring), and
  2. its steps, in a second run inside one process: reading the file (`read_rows`), checking and
     building the rows, scoring (`respondents_score_set`) and writing them (`_insert`, one executemany).
Run: .venv/bin/python bench/bench_wave_import.py [--n 100000] [--items 40] [--keep DIR]
Goal (issue 7): 100,000 respondents × 40 items imported in ≤ 30 s on SQLite."""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
KEPU = [str(ROOT / ".venv" / "bin" / "kepu")]
DISTRICTS = ["320402", "320404", "320411", "320412", "320413", "320481", "changzhou_edz"]


def bank_items(k: int) -> list[dict[str, Any]]:
    """k items of the starter bank taken in turn from each dimension (every scoring dimension needs items),
    single-answer and true/false ones (whose answers are one token)."""
    per_file = [
        [i for i in yaml.safe_load(f.read_text(encoding="utf-8"))["items"] if i["type"] != "multiple"]
        for f in sorted((ROOT / "data" / "literacy" / "items").glob("*.yaml"))
    ]
    turns = [it for group in zip(*per_file, strict=False) for it in group]
    if len(turns) < k:
        raise SystemExit(f"the bank has only {len(turns)} usable items in turn")
    return turns[:k]


def write_respondents(path: Path, n: int, items: list[dict[str, Any]], seed: int = 7) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    district = rng.integers(0, len(DISTRICTS), n)
    psu = rng.integers(1, 41, n)
    able = rng.random(n) < 0.3
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["respondent_id", "stratum", "psu", "base_weight", "district", "sex", "age", "area",
                    "education", "occupation", *(i["code"] for i in items)])
        right = able[:, None] | (rng.random((n, len(items))) < 0.45)
        weights = np.round(rng.uniform(300, 900, n), 2)
        ages = rng.integers(18, 70, n)
        sexes = rng.choice(["M", "F"], n)
        areas = rng.choice(["urban", "rural"], n)
        edus = rng.choice(["junior", "senior", "bachelor"], n)
        answers = []
        for it in items:
            if it["type"] == "true_false":
                key = str(bool(it["key"])).lower()
                answers.append((key, str(not it["key"]).lower()))
            else:
                wrong = next(o["key"] for o in it["options"] if o["key"] != it["key"])
                answers.append((str(it["key"]), str(wrong)))
        for r in range(n):
            d = DISTRICTS[district[r]]
            w.writerow([f"R{r:07d}", d, int(psu[r]), weights[r], d, sexes[r], int(ages[r]), areas[r], edus[r],
                        "worker", *(a[0] if right[r, j] else a[1] for j, a in enumerate(answers))])


def kepu(env: dict[str, str], *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([*KEPU, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def steps(data: Path) -> None:
    """Worker: the same import inside this process, each step timed (printed as one line per step)."""
    import django

    django.setup()
    from django.db import transaction

    from kepu.literacy import waves
    from kepu.literacy.services import wave_create

    times: dict[str, float] = {}

    def timed(label: str, fn: Any) -> Any:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                times[label] = times.get(label, 0.0) + time.perf_counter() - t

        return wrapper

    waves.read_rows = timed("read the file", waves.read_rows)  # type: ignore[attr-defined]
    waves.respondents_score_set = timed("score", waves.respondents_score_set)  # type: ignore[attr-defined]
    waves._insert = timed("write (one executemany)", waves._insert)  # type: ignore[attr-defined]
    content = data.read_bytes()
    t = time.perf_counter()
    with transaction.atomic():
        wave = wave_create(code=f"bench-steps-{time.time_ns()}", year=2026)
        n = waves.respondents_import(wave=wave, content=content, name=data.name)
    total = time.perf_counter() - t
    times["check rows and build objects"] = total - sum(times.values())
    times["total (in process)"] = total
    for label in ("read the file", "check rows and build objects", "score", "write (one executemany)",
                  "total (in process)"):
        print(f"  {label:<32}{times[label]:8.2f} s")
    print(f"  ({n:,} respondents)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="use this folder for the database and file, and keep it")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        steps(args.worker)
        return
    tmp = None
    if args.keep:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_wave_import_")
        folder = Path(tmp.name)
    try:
        env = {**os.environ, "KEPU_DATA_DIR": str(folder), "KEPU_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
               "DJANGO_SETTINGS_MODULE": "kepu.settings"}
        t = time.perf_counter()
        kepu(env, "migrate", "--verbosity", "0")
        kepu(env, "region", "import", str(ROOT / "data" / "regions" / "changzhou.yaml"))
        kepu(env, "plan", "import", str(ROOT / "data" / "plans" / "changzhou-2021-2035.yaml"))
        banks = sorted((ROOT / "data" / "literacy" / "items").glob("*.yaml"))
        kepu(env, "literacy", "items", "import", *map(str, banks))
        items = bank_items(args.items)
        data = folder / "respondents.csv"
        write_respondents(data, args.n, items)
        print(f"Set-up (database, region, plan, item bank, {data.stat().st_size / 1e6:.1f} MB file): "
              f"{time.perf_counter() - t:.1f} s")
        print(f"File: {args.n:,} respondents × {args.items} items, {len(DISTRICTS)} districts; SQLite; "
              f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
        whole = kepu(env, "literacy", "wave", "import", "bench-2026", str(data), "--year", "2026")
        print(f"whole command (fresh process)     {whole:8.2f} s   goal ≤ 30 s")
        print("steps (a second import in one process):")
        subprocess.run([sys.executable, __file__, "--worker", str(data)], env=env, check=True)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
