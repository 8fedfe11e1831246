"""Measures benchmark: scoring throughput and the trajectory page's server time.

    .venv/bin/python benchmarks/measures.py [--responses 500] [--requests 60] [--database sqlite|postgres]

1. Scoring: the pure `score()` of each instrument on a valid full answer set,
   repeated; reports scores per second (one core, in process).
2. Trajectory page: a scratch database with one patient holding N PHQ-9 and
   GAD-7 responses (bulk-inserted; the audit chain is not involved in the
   setup), then GET /measures/patients/<uuid>/ through the whole Django stack
   as a signed-in nurse; reports p50/p95/max wall time in process and the
   number of queries per request.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

sys.path.insert(0, str(ROOT))

from benchmarks.patient_search import machine_info, percentile  # noqa: E402

PG_BASE = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")


def scoring_rows(repeats: int) -> list[tuple[str, int, float]]:
    from neuroclinic.measures.instruments import INSTRUMENTS, score
    from neuroclinic.measures.tests.api_answers import lowest_answers

    rows = []
    for code, instrument in INSTRUMENTS.items():
        answers = lowest_answers(code)
        sex = "female" if instrument.sex_specific_cutoffs else None
        started = time.perf_counter()
        for _ in range(repeats):
            score(instrument, answers, sex=sex)
        elapsed = time.perf_counter() - started
        rows.append((code, len(instrument.items), repeats / elapsed))
    return rows


def trajectory_child(responses: int, requests: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY

    from conftest import make_staff
    from neuroclinic.accounts.models import Authenticator
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import Organization
    from neuroclinic.measures.demo import answers_for
    from neuroclinic.measures.instruments import score
    from neuroclinic.measures.models import QuestionnaireResponse
    from neuroclinic.patients import actions as patient_actions
    from neuroclinic.patients.models import Patient

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    organization = Organization.objects.create(
        name="Benchmark Clinic (synthetic)", mrn_prefix="BM"
    )
    nurse = make_staff(organization, "bench-nurse", Role.NURSE)
    patient = patient_actions.register_patient(
        organization,
        by=nurse,
        family_name="Benchmarkova",
        given_name="Synthia",
        birth_date=datetime(1980, 1, 1, tzinfo=UTC).date(),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    import random

    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=responses)
    rows = []
    for n in range(responses):
        code = "phq9" if n % 5 else "gad7"
        top = 27 if code == "phq9" else 21
        answers = answers_for(code, rng.randint(0, top), rng)
        result = score(code, answers)
        rows.append(
            QuestionnaireResponse(
                organization=organization,
                patient=patient,
                instrument_code=code,
                instrument_version="1.0",
                answers=answers,
                total=result.total,
                severity=str(result.severity or ""),
                flags=[str(f) for f in result.flags],
                subscales=result.subscales,
                raises_safety_alert=result.safety_alert,
                source=QuestionnaireResponse.Source.PORTAL,
                completed_at=start + timedelta(days=n),
            )
        )
    QuestionnaireResponse.objects.bulk_create(rows, batch_size=500)

    device = Authenticator.objects.create(user=nurse, name="bench", confirmed=True)
    client = Client()
    client.force_login(nurse)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = f"/measures/patients/{patient.uuid}/"
    for _ in range(3):  # warm up templates and caches
        assert client.get(url).status_code == 200
    times = []
    queries = []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        queries.append(len(captured))
    return {
        "engine": connection.vendor,
        "responses": responses,
        "requests": requests,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "max": max(times),
        "queries": (min(queries), max(queries)),
        "bytes": len(response.content),
    }


def run_child(database: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="neuroclinic.settings")
    scratch = Path(tempfile.mkdtemp(prefix="nc-bench-measures-"))
    pg_name = None
    if database == "postgres":
        pg_name = f"nc_bench_measures_{os.getpid()}"
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_name], check=True
        )
        env["DATABASE_URL"] = f"{PG_BASE}/{pg_name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    env["NEUROCLINIC_VAR_DIR"] = str(scratch)
    env["ALLOWED_HOSTS"] = "testserver"
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--responses",
                str(args.responses),
                "--requests",
                str(args.requests),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    finally:
        if pg_name is not None:
            subprocess.run(
                ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", pg_name],
                check=True,
            )
    import json

    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=500)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument(
        "--repeats", type=int, default=20000, help="scores per instrument"
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import json

        print(json.dumps(trajectory_child(args.responses, args.requests), default=str))
        return 0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroclinic.settings")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print("Machine")
    for key, value in machine_info(PG_BASE if "postgres" in databases else None):
        print(f"  {key:<11} {value}")
    print()
    print(f"Scoring throughput (pure score(), one core, {args.repeats} scores each)")
    print(f"  {'instrument':<16} {'items':>5} {'scores/s':>10}")
    for code, items, rate in scoring_rows(args.repeats):
        print(f"  {code:<16} {items:>5} {rate:>10,.0f}")
    print()
    print(
        f"Trajectory page: GET /measures/patients/<uuid>/, one patient with {args.responses} responses"
    )
    print(
        f"  {'engine':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'KiB':>6}"
    )
    for database in databases:
        r = run_child(database, args)
        queries = r["queries"]
        print(
            f"  {r['engine']:<10} {r['requests']:>8} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['max']:>8.1f} "
            f"{queries[0]}-{queries[1]:>5} {r['bytes'] / 1024:>6.0f}"
        )
    print(
        "\nServer time is the in-process wall time of the request through Django's test client."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
