"""Benchmark driver for precise outreach (issue 9, point 11).

Generates N synthetic citizen profiles (users, citizens, push consents for ~60 %, a few interactions)
— on PostgreSQL with COPY (default 5,000,000), on SQLite with batched inserts (default 200,000) — and
prints:

1. segment count time: the issue's example segment (武进区 farmers aged 50+ who have not viewed
   health content in 30 days), the same with push consent, and a profile-only segment; median of 5
   runs after one warm-up (goal ≤ 1 s);
2. the feed for 10,000 citizens (recommend.feed_many, in chunks of 1,000): total and per citizen;
3. campaign fan-out deliveries/s per worker — bench/outreach_fanout.py::fanout() when present;
4. contest answer submissions/s through the real HTTP stack as a ratio to a bare Django JSON view —
   bench/outreach_quiz_http.py::submissions() when present.

    .venv/bin/python bench/bench_outreach.py --db sqlite [--profiles 200000]
    KEPU_DATABASE_URL=postgres://kepu@127.0.0.1:55433/kepu_x .venv/bin/python bench/bench_outreach.py --db postgres \\
        [--profiles 5000000] [--feed 10000] [--fanout 100000] [--no-quiz] [--reuse]

On PostgreSQL the database in KEPU_DATABASE_URL is used (and migrated); profiles from an earlier run
(tagged) are kept with --reuse. SQLite runs in a throw-away file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BANDS = np.array(["18-29", "30-39", "40-49", "50-59", "60-69", "70+"])
BAND_P = np.array([0.18, 0.18, 0.18, 0.18, 0.16, 0.12])
OCCUPATIONS = np.array(["student", "farmer", "worker", "official", "professional", "service", "retired", "other"])
OCC_P = np.array([0.06, 0.14, 0.22, 0.04, 0.14, 0.2, 0.14, 0.06])
TOPICS = ["health", "farming", "phone", "safety", "environment", "space"]
PREFIX = "benchseg"

EXAMPLE = {"all": [
    {"field": "district", "op": "in", "value": ["320412"]},
    {"field": "key_groups", "op": "contains", "value": "farmers"},
    {"field": "age_band", "op": "in", "value": ["50-59", "60-69", "70+"]},
    {"not_engaged": {"topic": "health", "kind": "view", "days": 30}},
]}
WITH_PUSH = {"all": [*EXAMPLE["all"], {"field": "consent", "op": "granted", "value": "push"}]}
PROFILE_ONLY = {"all": [
    {"field": "district", "op": "in", "value": ["320412", "320411"]},
    {"field": "age_band", "op": "in", "value": ["60-69", "70+"]},
    {"field": "elder_mode", "op": "is", "value": True},
]}


def _setup_django(db: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="kepu-bench-outreach-"))
    os.environ.setdefault("KEPU_DATA_DIR", str(tmp))
    if db == "sqlite":
        os.environ["KEPU_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    elif not os.environ.get("KEPU_DATABASE_URL", "").startswith("postgres"):
        sys.exit("--db postgres needs KEPU_DATABASE_URL=postgres://… (a database you may fill)")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kepu.settings"
    os.environ["KEPU_EMBEDDED"] = "1"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


def _region() -> dict[str, Any]:
    from kepu.core.models import OrgUnit
    from kepu.core.services import region_import

    if not OrgUnit.objects.filter(code="320412").exists():
        region_import(path=REPO / "data/regions/changzhou.yaml")
    districts = list(OrgUnit.objects.filter(level=OrgUnit.Level.DISTRICT, parent__code="320400", valid_to__isnull=True))
    towns = {d.pk: list(OrgUnit.objects.filter(parent=d, level=OrgUnit.Level.TOWN).values_list("pk", flat=True))
             for d in districts}
    return {"districts": districts, "towns": towns}


def _key_groups(occ: str, band: str) -> list[str]:
    by_occupation = {"student": ["youth"], "farmer": ["farmers"], "worker": ["workers"], "official": ["officials"]}
    groups = by_occupation.get(occ, [])
    if band in ("60-69", "70+"):
        groups = [*groups, "elderly"]
    return groups


def _rows(n: int, start_user: int, start_citizen: int, region: dict[str, Any], rng: np.random.Generator) -> Any:
    """Yields (user row, citizen row, push consent or None) for n profiles."""
    districts = region["districts"]
    weights = np.array([d.population or 1 for d in districts], dtype=float)
    d_idx = rng.choice(len(districts), size=n, p=weights / weights.sum())
    bands = rng.choice(BANDS, size=n, p=BAND_P)
    occs = rng.choice(OCCUPATIONS, size=n, p=OCC_P)
    push = rng.random(n) < 0.6
    n_int = rng.integers(1, 4, size=n)
    elder = rng.random(n)
    for k in range(n):
        d = districts[d_idx[k]]
        towns = region["towns"][d.pk]
        band, occ = str(bands[k]), str(occs[k])
        interests = sorted({TOPICS[j] for j in rng.integers(0, len(TOPICS), size=n_int[k])})
        uid, cid = start_user + k, start_citizen + k
        yield (
            (uid, f"{PREFIX}-{uid}"),
            (cid, uid, f"{PREFIX}{uid:056d}", band, d.pk, towns[k % len(towns)] if towns else None, occ,
             json.dumps(_key_groups(occ, band)), json.dumps(interests), bool(band == "70+" and elder[k] < 0.5)),
            cid if push[k] else None,
        )


def load_profiles(n: int, region: dict[str, Any], seed: int = 11) -> float:
    """Insert n profiles; returns seconds taken."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from kepu.citizens.models import Citizen

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    start_user = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    start_citizen = (Citizen.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    now = dt.datetime.now(dt.UTC)
    chunk = 250_000
    for lo in range(0, n, chunk):
        size = min(chunk, n - lo)
        sub = np.random.default_rng(rng.integers(1 << 30))
        rows = list(_rows(size, start_user + lo, start_citizen + lo, region, sub))
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _copy(rows, now)
            else:
                _insert(rows, now)
        print(f"  profiles {lo + size:,}/{n:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in ("auth_user", "citizens_citizen", "citizens_consent"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return time.perf_counter() - t0


def _copy(rows: list[Any], now: dt.datetime) -> None:
    from django.db import connection

    def text(values: list[tuple[Any, ...]]) -> io.StringIO:
        buf = io.StringIO()
        for v in values:
            buf.write("\t".join("\\N" if x is None else ("t" if x is True else "f" if x is False else str(x))
                                for x in v))
            buf.write("\n")
        buf.seek(0)
        return buf

    stamp = now.isoformat()
    users = [(uid, name, "!", "", "", "", False, False, True, stamp) for (uid, name), _c, _p in rows]
    citizens = [(*c[:3], "", c[3], c[4], c[5], c[6], "", c[7], c[8], c[9], stamp) for _u, c, _p in rows]
    consents = [(cid, "push", True, stamp, "2026-1") for _u, _c, cid in rows if cid is not None]
    with connection.cursor() as cur:
        raw = cur.cursor
        for table, cols, data in (
            ("auth_user", "id, username, password, first_name, last_name, email, is_superuser, is_staff, "
             "is_active, date_joined", users),
            ("citizens_citizen", "id, user_id, pseudonym, phone, age_band, district_id, town_id, occupation, "
             "industry, key_groups, interests, elder_mode, created_at", citizens),
            ("citizens_consent", "citizen_id, purpose, granted, at, version", consents),
        ):
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(text(data).getvalue())


def _insert(rows: list[Any], now: dt.datetime) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO auth_user (id, username, password, first_name, last_name, email, is_superuser, is_staff, "
            "is_active, date_joined) VALUES (%s, %s, '!', '', '', '', 0, 0, 1, %s)",
            [(uid, name, now.isoformat()) for (uid, name), _c, _p in rows])
        cur.executemany(
            "INSERT INTO citizens_citizen (id, user_id, pseudonym, phone, age_band, district_id, town_id, occupation, "
            "industry, key_groups, interests, elder_mode, created_at) VALUES (%s, %s, %s, '', %s, %s, %s, %s, '', "
            "%s, %s, %s, %s)",
            [(*c, now.isoformat()) for _u, c, _p in rows])
        cur.executemany(
            "INSERT INTO citizens_consent (citizen_id, purpose, granted, at, version) VALUES (%s, 'push', 1, %s, "
            "'2026-1')", [(cid, now.isoformat()) for _u, _c, cid in rows if cid is not None])


def catalogue_and_interactions(n_events: int, seed: int = 12) -> None:
    """A few published resources per topic and n_events interactions by random bench citizens."""
    from django.db import connection
    from django.utils import timezone

    from kepu.citizens.models import Citizen
    from kepu.outreach.engagement_models import Interaction
    from kepu.outreach.models import Resource, Topic

    rng = np.random.default_rng(seed)
    resources = []
    for t in TOPICS:
        topic, _ = Topic.objects.get_or_create(code=t, defaults={"name_zh": t, "name_en": t})
        for k in range(5):
            r, _ = Resource.objects.get_or_create(
                code=f"{PREFIX}-{t}-{k}",
                defaults={"title_zh": f"{t} {k}", "status": "published", "published_at": timezone.now(),
                          "dimensions": [["knowledge", "method", "spirit", "application"][k % 4]]})
            r.topics.add(topic)
            resources.append(r)
    n_events -= Interaction.objects.filter(pseudonym__startswith=PREFIX).count()  # --reuse: top up
    if n_events <= 0:
        return
    lo = Citizen.objects.order_by("pk").values_list("pk", flat=True).first() or 0
    hi = Citizen.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    now = timezone.now()
    ids = rng.integers(lo, hi + 1, size=n_events)
    res = rng.integers(0, len(resources), size=n_events)
    ages = rng.uniform(0, 60, size=n_events)
    kinds = rng.choice(["view", "view", "view", "complete", "like"], size=n_events)
    existing = set(Citizen.objects.filter(pk__in=ids.tolist()).values_list("pk", flat=True))
    objs = [Interaction(pseudonym=f"{PREFIX}{int(c)}", citizen_id=int(c), resource_id=resources[int(r)].pk,
                        kind=str(k), at=now - dt.timedelta(days=float(a)))
            for c, r, a, k in zip(ids, res, ages, kinds, strict=True) if int(c) in existing]
    Interaction.objects.bulk_create(objs, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE citizens_citizen")
            cur.execute("VACUUM ANALYZE citizens_consent")
            cur.execute("VACUUM ANALYZE outreach_interaction")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def time_segments(reps: int = 5) -> dict[str, Any]:
    from kepu.outreach.segments import count

    out = {}
    for name, rules in (("example", EXAMPLE), ("example+push", WITH_PUSH), ("profile_only", PROFILE_ONLY)):
        n = count(rules)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            count(rules)
            times.append(time.perf_counter() - t0)
        out[name] = {"count": n, "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}
    return out


def time_feeds(n: int, seed: int = 13) -> dict[str, Any]:
    from kepu.citizens.models import Citizen, Consent
    from kepu.outreach.recommend import feed_many

    ids = list(Citizen.objects.order_by("?").values_list("pk", flat=True)[:n]) if n <= 20_000 else []
    # Half of them allow personalisation, so both rankings are timed.
    Consent.objects.bulk_create([Consent(citizen_id=c, purpose="personalise", granted=True) for c in ids[::2]],
                                batch_size=5000)
    t0 = time.perf_counter()
    total = 0
    for lo in range(0, len(ids), 1000):
        citizens = list(Citizen.objects.filter(pk__in=ids[lo:lo + 1000]).select_related("district", "town"))
        total += sum(len(f) for f in feed_many(citizens, limit=20))
    elapsed = time.perf_counter() - t0
    return {"citizens": len(ids), "items": total, "seconds": round(elapsed, 2),
            "ms_per_citizen": round(1000 * elapsed / max(1, len(ids)), 2)}


def _optional(name: str) -> Any:
    path = BENCH / f"{name}.py"
    if not path.exists():
        return None
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="sqlite")
    ap.add_argument("--profiles", type=int, default=None, help="default 5,000,000 (postgres) / 200,000 (sqlite)")
    ap.add_argument("--feed", type=int, default=10_000, help="citizens whose feed is timed (default 10,000)")
    ap.add_argument("--events", type=int, default=None, help="interactions (default profiles / 20)")
    ap.add_argument("--fanout", type=int, default=100_000, help="citizens in the fan-out campaign (0: skip)")
    ap.add_argument("--no-quiz", action="store_true", help="skip the contest submission benchmark")
    ap.add_argument("--reuse", action="store_true", help="keep the profiles an earlier run loaded")
    args = ap.parse_args()
    n = args.profiles if args.profiles is not None else (5_000_000 if args.db == "postgres" else 200_000)
    _setup_django(args.db)
    from django.db import connection

    from kepu.citizens.models import Citizen

    region = _region()
    result: dict[str, Any] = {"database": connection.vendor}
    have = Citizen.objects.filter(pseudonym__startswith=PREFIX).count()
    if not (args.reuse and have >= n):
        result["load_s"] = round(load_profiles(n - (have if args.reuse else 0), region), 1)
    result["profiles"] = Citizen.objects.count()
    catalogue_and_interactions(args.events if args.events is not None else max(1000, n // 20))
    result["segment_count"] = time_segments()
    print(json.dumps(result, indent=1), flush=True)
    result["feed"] = time_feeds(args.feed)
    print(json.dumps({"feed": result["feed"]}, indent=1), flush=True)
    fan = _optional("outreach_fanout")
    if fan is not None and args.fanout:
        result["fanout"] = fan.fanout(args.fanout)
        print(json.dumps({"fanout": result["fanout"]}, indent=1), flush=True)
    quiz = _optional("outreach_quiz_http")
    if quiz is not None and not args.no_quiz:
        result["quiz_http"] = quiz.submissions()
        print(json.dumps({"quiz_http": result["quiz_http"]}, indent=1), flush=True)
    seg = result["segment_count"]
    print(f"\nprofiles {result['profiles']:,} on {connection.vendor}: segment count "
          + ", ".join(f"{k} {v['median_s']:.3f} s ({v['count']:,})" for k, v in seg.items())
          + " (goal ≤ 1 s)")
    print(f"feed for {result['feed']['citizens']:,} citizens: {result['feed']['seconds']} s "
          f"({result['feed']['ms_per_citizen']} ms each)")
    if "fanout" in result:
        f = result["fanout"]
        print("fan-out: " + ", ".join(f"{k} {v}" for k, v in f.items() if not isinstance(v, (dict, list))))
    if "quiz_http" in result:
        q = result["quiz_http"]
        print(f"contest submissions {q['submit_rps']}/s vs bare view {q['bare_rps']}/s → ratio {q['ratio']} "
              f"(goal ≥ 0.40); lost {q['lost']}, duplicates {q['duplicates']}")


if __name__ == "__main__":
    main()
