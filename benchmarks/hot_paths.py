"""Hot paths against their floors: scoring and patient search vs a bare endpoint.

    .venv/bin/python benchmarks/hot_paths.py [--patients 5000] [--requests 400] [--database sqlite|postgres]

For each engine, in a subprocess of its own (settings read the environment at
import), with DEBUG=False as `make run` serves the app:

1. A scratch database (a SQLite file in a temporary directory, or a fresh
   PostgreSQL database `nc_bench_hot_<pid>`, dropped at the end), migrated,
   with N synthetic patients bulk-inserted (no per-patient audit events: fine
   for a benchmark, never for real data) and one nurse with an API token.
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

It prints requests per second, the ratio to the floor (target: scoring and
search at least 1/2 of the bare endpoint), and the machine. In-process numbers
leave out the HTTP server and run one client; a server run with concurrent
clients (issue 17's table) puts both sides behind the same HTTP cost.
"""

import argparse
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


def child(patients: int, requests: int) -> dict[str, Any]:
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
    return {name: per_round * rounds / seconds for name, seconds in totals.items()}


def run(engine: str, conn_max_age: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nc-hot-") as scratch:
        env = dict(os.environ)
        env |= {
            "DEBUG": "False",
            "HTTPS": "False",
            "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopq",
            "ALLOWED_HOSTS": "testserver",
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
                    "--child",
                    str(args.patients),
                    str(args.requests),
                ],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
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
        rates: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return rates


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description="Hot paths against their floors.")
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    print(f"Hot paths: {args.patients} patients, {args.requests} requests per case")
    for key, value in machine_info(PG_BASE if args.database == "postgres" else None):
        print(f"  {key:13} {value}")
    print(f"  {'load average':13} {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print("| engine | connections | path | req/s | floor req/s | ratio to floor |")
    print("|---|---|---|---|---|---|")
    for conn_max_age in (600, 0):
        rates = run(args.database, conn_max_age, args)
        label = "kept (600 s)" if conn_max_age else "per request"
        for path, floor in [
            ("scoring, anonymous", "bare score"),
            ("scoring, bearer token", "bare score"),
            ("search, bearer token", "bare search"),
        ]:
            print(
                f"| {args.database} | {label} | {path} | {rates[path]:,.0f} "
                f"| {rates[floor]:,.0f} | {rates[path] / rates[floor]:.2f} |"
            )


if __name__ == "__main__":
    main()
