"""Hot paths against their floors: scoring and patient search vs a bare endpoint.

    .venv/bin/python benchmarks/hot_paths.py [--patients 5000] [--requests 400] [--database sqlite|postgres]
        [--vitals | --all] [--connections kept|both] [--only scoring|search]

For each engine, in a subprocess of its own (settings read the environment at
import), with DEBUG=False as `make run` serves the app:

1. A scratch database (a SQLite file in a temporary directory, or a fresh
   PostgreSQL database `nc_bench_hot_<pid>`, dropped at the end), migrated,
   with N synthetic patients bulk-inserted (no per-patient audit events: fine
   for a benchmark, never for real data), planner statistics refreshed as
   autovacuum and `neuroclinic optimize` would have, and one nurse with an
   API token.
2. Beside the real URLs, a bare ninja API with two operations that do the
   work without the product around it: `POST /bare/score` (no auth, no
   throttle: parses the answers and sums them) and `POST /bare/search` (the
   same `Patient.objects...search(q)[:20]` query, no auth and no audit).
3. Times, through the whole Django stack in process (django.test.Client, one
   client: the request_finished signal closes or keeps the connection as a
   server would), R calls of each: PHQ-9 scoring anonymous and with the
   nurse's bearer token vs /bare/score, and the search with the token vs
   /bare/search. Each pair alternates in rounds so both see the same load.
4. Runs the whole thing twice: connections kept (DATABASE_CONN_MAX_AGE=600,
   the default now) and one per request (0, as before).

With --vitals it measures the monitor feed instead: a running infusion (set up as
benchmarks/infusions.py does), readings posted with the nurse's bearer token in
batches of 10 and one per request, against `POST /bare/vitals` (no auth, no
checks: one bulk INSERT of the same rows). Targets: batches at least 1/3 of the
bare endpoint in readings per second, single readings at least 1/4.

`--only scoring` or `--only search` times that path and its floor alone (while
iterating on one). HOT_PATHS_PROFILE=PREFIX profiles each case once more,
untimed, into PREFIX-<case>.pstats (scoring/search and the monitor feed).

With --all it runs both, one after the other, in one command (issue 17 asks
for all four ratios from one run).

It prints requests per second, the ratio to the floor (target: scoring and
search at least 1/2 of the bare endpoint), and the machine. In-process numbers
leave out the HTTP server and run one client; a server run with concurrent
clients (issue 17's table) puts both sides behind the same HTTP cost.
"""

import argparse
import functools
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

sys.path.insert(0, str(ROOT))

from benchmarks.patient_search import machine_info  # noqa: E402

PG_BASE = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
PHQ9 = {f"phq9-{n}": 1 for n in range(1, 10)}
urlpatterns: list[Any] = []  # filled in the child, then made the ROOT_URLCONF


def _bare_urls() -> list[Any]:
    from django.http import HttpRequest
    from django.urls import include, path
    from ninja import NinjaAPI, Schema

    from neuroclinic.patients.models import Patient

    bare = NinjaAPI(urls_namespace="bare", docs_url=None, openapi_url=None)

    class Answers(Schema):
        answers: dict[str, int]

    class Query(Schema):
        q: str

    @bare.post("/score", auth=None)
    def score(request: HttpRequest, payload: Answers) -> dict[str, Any]:
        return {"total": sum(payload.answers.values())}

    @bare.post("/search", auth=None)
    def search(request: HttpRequest, payload: Query) -> list[dict[str, str]]:
        return [
            {"id": str(p.uuid), "mrn": p.mrn, "family_name": p.family_name}
            for p in Patient.objects.search(payload.q.strip())[:20]
        ]

    return [path("bare/", bare.urls), path("", include("neuroclinic.urls"))]


def child(patients: int, requests: int, only: str = "") -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import clear_url_caches

    from benchmarks.patient_search import _bulk_insert, _nurse, synthetic_people
    from neuroclinic.accounts.actions import create_api_token

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    rng = random.Random(17)
    people = synthetic_people(patients, rng)
    organization, _ = _bulk_insert(people)
    # Planner statistics, as benchmarks/patient_search.py has them: without them
    # PostgreSQL guesses the organization filter (the access check the bare
    # endpoint leaves out) matches 2 rows and reads every patient of the clinic.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum would have done by the time anyone searches.
            cursor.execute("VACUUM ANALYZE patients_patient")
    # What the worker does daily and `make run`/`demo` do after loading.
    call_command("optimize", verbosity=0)
    nurse = _nurse(organization)
    _, raw = create_api_token(nurse, name="benchmark", by=nurse)
    token = {"Authorization": f"Bearer {raw}"}
    urlpatterns[:] = _bare_urls()
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    # The scoring limit is per address (60 a minute) or per person (600): the
    # benchmark measures the path, not the limiter refusing it.
    from neuroclinic.measures import api as measures_api

    measures_api.SCORE_LIMIT_ANONYMOUS = measures_api.SCORE_LIMIT_SIGNED_IN = 10**9
    for operation in measures_api.router.path_operations.values():
        for op in operation.operations:
            for throttle in op.throttle_objects:
                throttle.anonymous = throttle.signed_in = 10**9  # type: ignore[attr-defined]

    client = Client()
    score_body = json.dumps({"answers": PHQ9})
    names = [p.family[:4] for p in people]

    def post(url: str, body: str, headers: dict[str, str] | None = None) -> None:
        response = client.post(
            url, body, content_type="application/json", headers=headers or {}
        )
        if response.status_code != 200:
            raise SystemExit(
                f"{url} -> {response.status_code} {response.content[:200]!r}"
            )

    cases: dict[str, Callable[[int], None]] = {
        "scoring, anonymous": lambda i: post("/api/instruments/phq9/score", score_body),
        "scoring, bearer token": lambda i: post(
            "/api/instruments/phq9/score", score_body, token
        ),
        "bare score": lambda i: post("/bare/score", score_body),
        "search, bearer token": lambda i: post(
            "/api/patients/search", json.dumps({"q": names[i % len(names)]}), token
        ),
        "bare search": lambda i: post(
            "/bare/search", json.dumps({"q": names[i % len(names)]})
        ),
    }
    if only:  # the path's cases and its floor ("scoring" -> "bare score")
        cases = {
            name: call
            for name, call in cases.items()
            if name.startswith((only, f"bare {only.removesuffix('ing')}"))
        }
    totals = dict.fromkeys(cases, 0.0)
    for call in cases.values():  # warm up
        for i in range(20):
            call(i)
    rounds = 4
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, call in cases.items():
            started = time.perf_counter()
            for i in range(per_round):
                call(i)
            totals[name] += time.perf_counter() - started
    queries = itertools.count()  # the profiled calls go on through the names
    _profile(
        {
            name: (functools.partial(_next, call, queries), 1)
            for name, call in cases.items()
        },
        per_round,
    )
    return {name: per_round * rounds / seconds for name, seconds in totals.items()}


def _next(call: Callable[[int], None], counter: "itertools.count[int]") -> None:
    call(next(counter))


def _bare_vitals_urls() -> list[Any]:
    from datetime import datetime

    from django.http import HttpRequest
    from django.urls import include, path
    from ninja import NinjaAPI

    from neuroclinic.infusions.models import InfusionSession, VitalReading

    bare = NinjaAPI(urls_namespace="bare", docs_url=None, openapi_url=None)

    @bare.post("/vitals/{session_id}", auth=None)
    def vitals(request: HttpRequest, session_id: str) -> dict[str, int]:
        body = json.loads(request.body)
        readings = (
            body["readings"]
            if isinstance(body, dict) and "readings" in body
            else [body]
        )
        session = InfusionSession.objects.only("id", "organization_id").get(
            uuid=session_id
        )
        received = datetime.now().astimezone()
        rows = [
            VitalReading(
                organization_id=session.organization_id,
                session_id=session.pk,
                taken_at=datetime.fromisoformat(r["taken_at"]),
                received_at=received,
                source=VitalReading.Source.MONITOR,
                phase=VitalReading.Phase.BASELINE,
                device_key="bare-" + r["device"],
                systolic_mmhg=r["systolic_mmhg"],
                diastolic_mmhg=r["diastolic_mmhg"],
                heart_rate_bpm=r["heart_rate_bpm"],
                spo2_percent=r["spo2_percent"],
                respiratory_rate_per_min=r["respiratory_rate_per_min"],
            )
            for r in readings
        ]
        VitalReading.objects.bulk_create(rows, ignore_conflicts=True)
        return {"accepted": len(rows)}

    return [path("bare/", bare.urls), path("", include("neuroclinic.urls"))]


def child_vitals(requests: int) -> dict[str, Any]:
    from datetime import datetime, timedelta

    from benchmarks.infusions import setup_child

    rooms = 5  # four infusions for the real path, one for the bare endpoint
    with tempfile.TemporaryDirectory(prefix="nc-hot-vitals-") as scratch:
        out = Path(scratch) / "setup.json"
        setup_child(rooms, out)  # django.setup(), migrate, checked-in infusions
        made = json.loads(out.read_text())
    from django.conf import settings
    from django.test import Client
    from django.urls import clear_url_caches

    urlpatterns[:] = _bare_vitals_urls()
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    client = Client()
    sessions = made["sessions"]
    token = {"Authorization": f"Bearer {made['token']}"}
    # A monitor sends about once a second: device timestamps a second apart from
    # just after check-in, so the alarm rules' window (the last few minutes) holds
    # what a real feed gives. Each request goes to the next infusion in turn.
    start = datetime.fromisoformat(made["made_at"]) - timedelta(minutes=29)
    counters = [iter(range(10**9)) for _ in sessions]
    turn = iter(range(10**9))

    def reading(room: int) -> dict[str, Any]:
        n = next(counters[room])
        return {
            "device": sessions[room]["device"],
            "taken_at": (start + timedelta(seconds=n)).isoformat(),
            "systolic_mmhg": 120 + n % 9,
            "diastolic_mmhg": 78 + n % 5,
            "heart_rate_bpm": 70 + n % 7,
            "spo2_percent": 97 + n % 3,
            "respiratory_rate_per_min": 14,
        }

    def post(bare: bool, size: int) -> None:
        room = rooms - 1 if bare else next(turn) % (rooms - 1)
        session = sessions[room]["session"]
        url = (
            f"/bare/vitals/{session}"
            if bare
            else f"/api/infusions/sessions/{session}/vitals"
        )
        readings = [reading(room) for _ in range(size)]
        body = {"readings": readings} if size > 1 else readings[0]
        response = client.post(
            url,
            json.dumps(body),
            content_type="application/json",
            headers={} if bare else token,
        )
        if response.status_code != 200 or response.json()["accepted"] != size:
            raise SystemExit(
                f"{url} -> {response.status_code} {response.content[:300]!r}"
            )

    cases: dict[str, tuple[Callable[[], None], int]] = {
        "vitals, batches of 10": (lambda: post(False, 10), 10),
        "bare vitals, batches of 10": (lambda: post(True, 10), 10),
        "vitals, one per request": (lambda: post(False, 1), 1),
        "bare vitals, one per request": (lambda: post(True, 1), 1),
    }
    totals = dict.fromkeys(cases, 0.0)
    for call, _size in cases.values():  # warm up
        for _ in range(10):
            call()
    rounds = 4
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, (call, _size) in cases.items():
            started = time.perf_counter()
            for _ in range(per_round):
                call()
            totals[name] += time.perf_counter() - started
    _profile(cases, per_round)
    # readings per second
    return {
        name: per_round * rounds * cases[name][1] / seconds
        for name, seconds in totals.items()
    }


def _profile(cases: dict[str, tuple[Callable[[], None], int]], calls: int) -> None:
    """With HOT_PATHS_PROFILE=PREFIX, profile each case once more (untimed): PREFIX-<case>.pstats."""
    prefix = os.environ.get("HOT_PATHS_PROFILE")
    if not prefix:
        return
    import cProfile

    for name, (call, _size) in cases.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            call()
        profiler.disable()
        slug = "".join(c if c.isalnum() else "-" for c in name)
        profiler.dump_stats(f"{prefix}-{slug}.pstats")


def run(
    engine: str, conn_max_age: int, args: argparse.Namespace, *, vitals: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nc-hot-") as scratch:
        env = dict(os.environ)
        env |= {
            "DEBUG": "False",
            "HTTPS": "False",
            "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopq",
            "ALLOWED_HOSTS": "testserver",
            "PUBLIC_BASE_URL": "http://testserver",
            "NEUROCLINIC_VAR_DIR": scratch,
            "STATIC_ROOT": str(Path(scratch) / "static"),
            "DATABASE_CONN_MAX_AGE": str(conn_max_age),
            "DJANGO_SETTINGS_MODULE": "neuroclinic.settings",
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
        }
        database = ""
        if engine == "postgres":
            database = f"nc_bench_hot_{os.getpid()}_{conn_max_age}"
            subprocess.run(
                ["psql", PG_BASE, "-qc", f"CREATE DATABASE {database}"], check=True
            )
            env["DATABASE_URL"] = f"{PG_BASE}/{database}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
        try:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child-vitals" if vitals else "--child",
                    str(args.patients),
                    str(args.requests),
                    args.only,
                ],
                env=env,
                cwd=ROOT,
                check=False,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(
                    f"the child failed:\n{out.stderr[-3000:]}{out.stdout[-500:]}"
                )
        finally:
            if database:
                subprocess.run(
                    [
                        "psql",
                        PG_BASE,
                        "-qc",
                        f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                    ],
                    check=False,
                )
        rates: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return rates


def main() -> None:
    if sys.argv[1:2] == ["--child-vitals"]:
        print(json.dumps(child_vitals(int(sys.argv[3]))))
        return
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description="Hot paths against their floors.")
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--vitals",
        action="store_true",
        help="the monitor feed instead of scoring/search",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="scoring, search and the monitor feed in one run (the four ratios of issue 17)",
    )
    parser.add_argument(
        "--only",
        choices=["", "scoring", "search"],
        default="",
        help="time only this path and its floor (while iterating on one of them)",
    )
    parser.add_argument(
        "--connections",
        choices=["kept", "both"],
        default="both",
        help="kept: only persistent connections (the default setting)",
    )
    args = parser.parse_args()
    print(f"Hot paths: {args.patients} patients, {args.requests} requests per case")
    for key, value in machine_info(PG_BASE if args.database == "postgres" else None):
        print(f"  {key:13} {value}")
    print(f"  {'load average':13} {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    parts = [False, True] if args.all else [args.vitals]
    print(
        "| engine | connections | path | per s | floor per s | ratio to floor | target |"
    )
    print("|---|---|---|---|---|---|---|")
    for conn_max_age in (600,) if args.connections == "kept" else (600, 0):
        label = "kept (600 s)" if conn_max_age else "per request"
        for vitals in parts:
            rates = run(args.database, conn_max_age, args, vitals=vitals)
            pairs = (
                [
                    ("vitals, batches of 10", "bare vitals, batches of 10", "1/3"),
                    ("vitals, one per request", "bare vitals, one per request", "1/4"),
                ]
                if vitals
                else [
                    ("scoring, anonymous", "bare score", "1/2"),
                    ("scoring, bearer token", "bare score", "1/2"),
                    ("search, bearer token", "bare search", "1/2"),
                ]
            )
            unit = "readings" if vitals else "requests"
            for path, floor, target in pairs:
                if path not in rates:
                    continue
                print(
                    f"| {args.database} | {label} | {path} ({unit}) | {rates[path]:,.0f} "
                    f"| {rates[floor]:,.0f} | {rates[path] / rates[floor]:.2f} | {target} |",
                    flush=True,
                )
    print(
        f"  {'load average':13} {' '.join(f'{x:.2f}' for x in os.getloadavg())} (at the end)"
    )


if __name__ == "__main__":
    main()
