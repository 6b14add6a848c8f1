"""Benchmark: contest answer submissions per second through the real HTTP stack (gunicorn, every
middleware, session auth with CSRF, the rate limiter, server-side timing and the row locks of
`kepu.quiz.services.contest_answer`), as a ratio to a bare Django JSON view served by the same
gunicorn in the same run, and a check that no answer is lost or stored twice.

Each client thread plays its own citizens' attempts: POST /api/quiz/attempts/{id}/answer answers the
current question and the reply shows the next one (whose clock the server starts), so every request
is one submission. Afterwards every 200 reply must match exactly one stored answer, and each
attempt's position must equal its stored answers.

Run: .venv/bin/python bench/outreach_quiz_http.py [--citizens 400] [--seconds 5] [--threads 4] [--workers 2]
(throw-away SQLite by default; KEPU_DATABASE_URL=postgres://… for PostgreSQL). Goal: ratio ≥ 0.40.

When gunicorn loads this module as its URLconf (ROOT_URLCONF of the generated settings), it serves
Kepu's URLs plus the bare view at /me/bench/bare.json."""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CSRF = "b" * 32  # any well-formed token: the cookie and the header must agree


def __getattr__(name: str) -> Any:
    # URLconf for the benchmark's gunicorn: resolved lazily so importing this file needs no Django.
    if name == "urlpatterns":
        from django.http import HttpRequest, JsonResponse
        from django.urls import path

        from kepu.urls import urlpatterns

        def bare(request: HttpRequest) -> JsonResponse:
            return JsonResponse({"ok": True})

        def bare_citizen(request: HttpRequest) -> JsonResponse:
            # The same, but it looks up who is asking (session, user, citizen), as any citizen view must.
            from kepu.citizens.selectors import citizen_of

            return JsonResponse({"ok": citizen_of(request.user) is not None})

        return [path("me/bench/bare.json", bare), path("me/bench/bare-citizen.json", bare_citizen), *urlpatterns]
    raise AttributeError(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(citizens: int, questions: int) -> tuple[Any, list[tuple[int, str, int, str]]]:
    """A city, live items, a contest, `citizens` citizens with a started attempt whose first question
    is shown, and a session for each. Returns the contest and (attempt id, session key, position, item)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from kepu.citizens.models import Citizen
    from kepu.core.models import OrgUnit
    from kepu.literacy.models import Item
    from kepu.quiz import services
    from kepu.quiz.models import Contest

    city = OrgUnit.objects.filter(level="city").first() or OrgUnit.objects.create(
        code="QB", name_zh="基准市", name_en="Bench City", level="city", path="/QB/")
    district = OrgUnit.objects.filter(level="district", parent=city).first() or OrgUnit.objects.create(
        code="QBD", name_zh="基准区", name_en="Bench District", level="district", parent=city, path="/QB/QBD/")
    live = Item.objects.filter(status=Item.Status.LIVE).count()
    dims = ["knowledge", "method", "spirit", "application"]
    Item.objects.bulk_create([
        Item(code=f"QB{n:04d}", dimension=dims[n % 4], type="true_false", stem_zh=f"基准判断题 {n}",
             stem_en=f"Bench item {n}", key=n % 2 == 0, status=Item.Status.LIVE, explanation_zh="解析")
        for n in range(max(0, questions - live))
    ])
    now = timezone.now()
    contest = Contest.objects.create(title_zh="基准竞赛", org_unit=city, starts_at=now - dt.timedelta(hours=1),
                                     ends_at=now + dt.timedelta(days=1), question_count=questions,
                                     seconds_per_question=600, prizes=0)
    stamp = int(time.time())
    users = User.objects.bulk_create([User(username=f"qb{stamp}_{n}", password="!") for n in range(citizens)])
    rows = Citizen.objects.bulk_create([
        Citizen(user=u, pseudonym=f"qb{stamp}_{u.pk}", district=district, age_band="50-59", key_groups=["farmers"])
        for u in users
    ])
    plays = []
    for citizen, user in zip(rows, users, strict=True):
        attempt = services.contest_start(contest=contest, citizen=citizen)
        shown = services.attempt_show(attempt_id=attempt.pk, citizen=citizen)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = next(b for b in settings.AUTHENTICATION_BACKENDS if "ModelBackend" in b)
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        plays.append((attempt.pk, str(session.session_key), 0, shown.item.code))  # type: ignore[union-attr]
    return contest, plays


def _answer_of(code: str) -> Any:
    # The bench items' keys alternate; a real client sends whatever the person chose.
    return "true"


def _run(port: int, seconds: float, threads: int, work: list[list[tuple[int, str, int, str]]] | None,
         cookie: str = "", bare_path: str = "/me/bench/bare.json") -> dict[str, Any]:
    """Requests for `seconds` from `threads` keep-alive clients: the bare view (work None, with a
    citizen's cookies, as a browser sends them) or submissions."""
    stop = time.perf_counter() + seconds
    ok = [0] * threads
    other: dict[int, int] = {}
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        queue = list(work[k]) if work is not None else []
        while time.perf_counter() < stop:
            if work is None:
                conn.request("GET", bare_path, headers={"Cookie": cookie})
            else:
                if not queue:
                    break
                attempt, session, position, item = queue[0]
                body = json.dumps({"position": position, "item": item, "answer": _answer_of(item)})
                conn.request("POST", f"/api/quiz/attempts/{attempt}/answer", body=body, headers={
                    "Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF,
                    "Content-Type": "application/json", "Referer": f"http://127.0.0.1:{port}/"})
            response = conn.getresponse()
            data = response.read()
            if response.status == 200:
                ok[k] += 1
                if work is not None:
                    nxt = json.loads(data).get("next")
                    if nxt is None:
                        queue.pop(0)
                    else:
                        queue[0] = (attempt, session, nxt["position"], nxt["item"])
            else:
                with lock:
                    other[response.status] = other.get(response.status, 0) + 1
                if work is not None:
                    queue.pop(0)  # never retried: a refusal is counted, not papered over
        conn.close()

    pool = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"ok": sum(ok), "errors": sum(other.values()), "statuses": other, "elapsed_ms": int(elapsed * 1000)}


def submissions(*, citizens: int = 400, questions: int = 50, seconds: float = 5.0, threads: int = 4,
                workers: int = 2) -> dict[str, Any]:
    """Run the measurement against the configured database (Django set up and migrated). Returns
    req/s of the bare JSON view and of answer submissions, their ratio, and the loss check."""
    from django.db import connection
    from django.db.models import Sum

    from kepu.quiz.models import Attempt, QuizAnswer

    contest, plays = _setup(citizens, questions)
    tmp = Path(tempfile.mkdtemp(prefix="kepu-quiz-bench-"))
    # The rate limiter still runs on every answer; the bench's one address just may send many.
    (tmp / "quiz_bench_settings.py").write_text(
        "from kepu.settings import *  # noqa: F401,F403\n"
        "ROOT_URLCONF = 'outreach_quiz_http'\n"
        "KEPU_QUIZ = {'answers_per_minute': 10**9, 'starts_per_day': 10**9}\n")
    # A throw-away local server, like `kepu demo --serve`: the embedded keys are accepted.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quiz_bench_settings", "KEPU_EMBEDDED": "1",
           "PYTHONPATH": os.pathsep.join([str(tmp), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    port = _free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen([gunicorn, "kepu.wsgi:application", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--log-level", "warning"], env=env)
    try:
        deadline = time.perf_counter() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/me/bench/bare.json")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.perf_counter() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        cookie = f"sessionid={plays[0][1]}; csrftoken={CSRF}"
        bare = _run(port, seconds, threads, None, cookie=cookie)
        bare_citizen = _run(port, seconds, threads, None, cookie=cookie, bare_path="/me/bench/bare-citizen.json")
        work: list[list[tuple[int, str, int, str]]] = [plays[k::threads] for k in range(threads)]
        submit = _run(port, seconds, threads, work)
    finally:
        proc.terminate()
        proc.wait()
    stored = QuizAnswer.objects.filter(attempt__contest=contest).count()
    positions = Attempt.objects.filter(contest=contest).aggregate(s=Sum("position"))["s"] or 0
    bare_rps = bare["ok"] / (bare["elapsed_ms"] / 1000)
    citizen_rps = bare_citizen["ok"] / (bare_citizen["elapsed_ms"] / 1000)
    submit_rps = submit["ok"] / (submit["elapsed_ms"] / 1000)
    return {
        "database": connection.vendor, "workers": workers, "threads": threads, "seconds": seconds,
        "bare_rps": round(bare_rps, 1), "submit_rps": round(submit_rps, 1),
        "ratio": round(submit_rps / bare_rps, 3) if bare_rps else None,
        "bare_citizen_rps": round(citizen_rps, 1),
        "ratio_to_bare_citizen": round(submit_rps / citizen_rps, 3) if citizen_rps else None,
        "submitted_ok": submit["ok"], "refused": submit["statuses"], "stored": stored,
        "lost": submit["ok"] - stored if stored <= submit["ok"] else 0,
        "duplicates": stored - submit["ok"] if stored > submit["ok"] else 0,
        "positions_match": positions == stored,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--citizens", type=int, default=400)
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kepu-bench-"))
    os.environ.setdefault("KEPU_DATA_DIR", str(tmp))
    os.environ.setdefault("KEPU_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kepu.settings"
    os.environ["KEPU_EMBEDDED"] = "1"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    result = submissions(citizens=args.citizens, questions=args.questions, seconds=args.seconds,
                         threads=args.threads, workers=args.workers)
    print(json.dumps(result, indent=1))
    print(f"contest answer submissions: {result['submit_rps']:.0f}/s vs bare JSON view {result['bare_rps']:.0f}/s "
          f"→ ratio {result['ratio']} (goal ≥ 0.40); vs the bare view that looks up the citizen "
          f"{result['bare_citizen_rps']:.0f}/s → {result['ratio_to_bare_citizen']}; "
          f"{result['submitted_ok']} accepted, {result['stored']} stored, "
          f"lost {result['lost']}, duplicates {result['duplicates']}")


if __name__ == "__main__":
    main()
