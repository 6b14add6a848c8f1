"""Benchmark: target-status computation and the dashboard at scale.

Builds a synthetic plan of 200 targets × 7 districts × 70 towns × 15 years in a throw-away
SQLite database (or the database in KEPU_DATABASE_URL), then prints:
  - server time of the status computation (status_refresh: fit + forecast for every target × unit),
  - server time of the dashboard page (in-process, median of repeated requests, and its SQL queries),
  - the dashboard's throughput under gunicorn relative to a bare Django view (/healthz) on the
    same server, measured side by side in this run.
Run: .venv/bin/python bench/bench_dashboard.py [--targets 200] [--years 15] [--seconds 5]
Goal (issue #2): ≤ 100 ms server time for the dashboard at this size."""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

KINDS = ["rate", "stock", "flow", "coverage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_region(path: Path) -> None:
    units = [{"code": "BENCH", "name_zh": "基准市", "name_en": "Bench City", "level": "city", "parent": None}]
    totals = []
    for d in range(7):
        code = f"BD{d}"
        units.append({"code": code, "name_zh": f"区{d}", "name_en": f"District {d}", "level": "district",
                      "parent": "BENCH"})
        totals.append({"unit": code, "value": 300_000 + 90_000 * d})
        for t in range(10):
            units.append({"code": f"{code}T{t}", "name_zh": f"区{d}镇{t}", "name_en": f"Town {d}-{t}",
                          "level": "town", "parent": code})
    path.write_text(yaml.safe_dump({"units": units, "population": {"totals": totals}}, allow_unicode=True))


def write_plan(path: Path, n_targets: int, start: int) -> None:
    indicators, targets = [], []
    for i in range(n_targets):
        kind = KINDS[i % 4]
        level = kind in ("rate", "coverage")
        indicators.append({"code": f"I{i:03}", "name_zh": f"指标{i}", "name_en": f"Indicator {i}",
                           "unit": "%" if level else "个", "section": "S1",
                           "aggregation": "population_weighted_mean" if kind == "rate" else
                           ("unit_mean" if kind == "coverage" else "sum"),
                           "integer": not level, "min": 0, **({"max": 100} if level else {})})
        t = {"code": f"T{i:03}", "indicator": f"I{i:03}", "name_zh": f"目标{i}", "name_en": f"Target {i}",
             "kind": kind, "value": {"rate": 25.0, "coverage": 100, "stock": 700, "flow": 1400}[kind],
             "unit": "%" if level else "个", "quote": f"目标{i}", "section": "S1",
             "cascade": {"method": "same" if level else "population"}}
        if kind == "flow":
            t["period"] = {"start": start, "end": 2035}
        else:
            t["deadline_year"] = 2030
            t["period"] = {"start": start, "end": 2030}
        targets.append(t)
    doc = {
        "plan": {"code": "bench", "name_zh": "基准规划", "name_en": "Bench plan", "region": "BENCH",
                 "start_year": start, "end_year": 2035},
        "departments": [{"code": "office", "name_zh": "办公室", "name_en": "Office"}],
        "programmes": [{"code": "P1", "name_zh": "工程", "name_en": "Programme", "sections": [
            {"code": "S1", "name_zh": "任务", "name_en": "Section", "responsible_units": ["办公室"]}]}],
        "indicators": indicators, "targets": targets,
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))


def fill_observations(plan: object, years: range) -> int:
    from kepu.core.models import OrgUnit
    from kepu.plans.models import Observation

    rnd = random.Random(7)
    units = list(OrgUnit.objects.exclude(level="city"))
    city = OrgUnit.objects.get(level="city")
    rows = []
    for ind in plan.indicators.all():  # type: ignore[attr-defined]
        kind = KINDS[int(ind.code[1:]) % 4]
        for unit in [*units, *([city] if kind == "rate" else [])]:
            for i, y in enumerate(years):
                value = {"rate": 15 + 0.8 * i, "coverage": min(100.0, 10.0 * i), "stock": 12.0,
                         "flow": 190.0}[kind] * rnd.uniform(0.9, 1.1)
                rows.append(Observation(indicator=ind, org_unit=unit, year=y, value=round(value, 2),
                                        status="approved", source="bench"))
    Observation.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def load(url: str, cookie: str, seconds: float, threads: int) -> float:
    """Requests per second over `seconds`, `threads` keep-alive clients."""
    host, port = url.split(":")
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.perf_counter() < stop:
            conn.request("GET", path_of[0], headers={"Cookie": cookie})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"{path_of[0]} → {r.status}")
            done[k] += 1
        conn.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / (time.perf_counter() - t0)


path_of = ["/"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kepu-bench-"))
    os.environ["KEPU_DATA_DIR"] = str(tmp)
    os.environ.setdefault("KEPU_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kepu.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from kepu.core.services import region_import
    from kepu.plans.plan_import import plan_import
    from kepu.plans.status import status_refresh

    call_command("migrate", verbosity=0)
    start = 2026 - args.years + 1
    write_region(tmp / "region.yaml")
    write_plan(tmp / "plan.yaml", args.targets, start)
    region_import(path=tmp / "region.yaml")
    t0 = time.perf_counter()
    plan, _ = plan_import(path=tmp / "plan.yaml")
    import_s = time.perf_counter() - t0
    n_obs = fill_observations(plan, range(start, 2027))
    print(f"synthetic plan: {args.targets} targets × 7 districts × 70 towns × {args.years} years "
          f"= {n_obs:,} observations ({connection.vendor}); plan import {import_s * 1000:.0f} ms")

    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        n_status = status_refresh(plan, today_year=2026)
        runs.append(time.perf_counter() - t0)
    print(f"status computation (status_refresh, {n_status} target×unit judgements): "
          f"median {statistics.median(runs) * 1000:.0f} ms over {len(runs)} runs")

    user = get_user_model().objects.create_superuser("bench", password="bench-pass-1")
    client = Client()
    client.force_login(user)
    client.get("/")
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        r = client.get("/")
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.status_code
    bare = []
    for _ in range(15):
        t0 = time.perf_counter()
        client.get("/healthz")
        bare.append(time.perf_counter() - t0)
    print(f"dashboard server time (in-process, median of {len(times)}): {statistics.median(times) * 1000:.1f} ms, "
          f"{len(r.content) / 1024:.0f} KiB; "
          f"bare view {statistics.median(bare) * 1000:.2f} ms")

    port = free_port()
    env = dict(os.environ)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "kepu.wsgi:application",
                             "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"], env=env)
    try:
        deadline = time.perf_counter() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.perf_counter() > deadline:
                    raise
        session = client.cookies["sessionid"].value
        cookie = f"sessionid={session}"
        url = f"127.0.0.1:{port}"
        path_of[0] = "/healthz"
        bare_rps = load(url, cookie, args.seconds, args.threads)
        path_of[0] = "/"
        dash_rps = load(url, cookie, args.seconds, args.threads)
        print(f"throughput under gunicorn (2 workers, {args.threads} clients, {args.seconds:.0f} s each): "
              f"bare view {bare_rps:.0f} req/s, dashboard {dash_rps:.1f} req/s, ratio {dash_rps / bare_rps:.3f}")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
