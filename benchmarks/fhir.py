"""FHIR benchmark: search latency and bulk export throughput on synthetic data.

    .venv/bin/python benchmarks/fhir.py [--patients 2000] [--responses 5] [--requests 50]
        [--database sqlite|postgres|both] [--pg-name NAME] [--heavy 500] [--profile]

A scratch database per engine holds N synthetic patients (bulk-inserted, obviously
fake names), each with one diagnosis and R PHQ-9 responses. Then, through the whole
Django stack with a bearer token:

1. Search: GET /fhir/Observation?patient=<id> and POST /fhir/Patient/_search family=<prefix>,
   p50/p95/max wall time in process and queries per request (--requests 0 skips them).
2. Bulk export: a Patient-level $export of Patient, Condition, QuestionnaireResponse
   and Observation run in process (`interop.export.run_export`, what the worker runs);
   reports resources written per second of wall time, and per second of this
   process's CPU time (steadier on a shared, loaded machine: it leaves out time spent
   waiting for a core, and, on PostgreSQL, the server's own work). With --profile,
   the export's costliest functions (cProfile counting CPU time, not wall time: on a
   shared machine wall time is mostly waiting for a core), by cumulative and by own
   time, say where the time goes.
3. `Patient/$everything` for one patient with --heavy PHQ-9 responses (500 by
   default): p50/p95/max over --requests calls.
4. Paging deep: GET /fhir/QuestionnaireResponse?_count=100 and its next links to the
   last page; the first page's time against the deepest page's (keyset cursors: the
   deep page should cost no more than the first).

--pg-name uses that PostgreSQL database (created if missing, kept afterwards: a rerun
skips the migrations and adds a new synthetic clinic beside the old ones; every query
is scoped to the clinic) instead of a throwaway one.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and this file
# would then be the package of the same name (`fhir.resources`, `hl7`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

from benchmarks.patient_search import machine_info, percentile  # noqa: E402

PG_BASE = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")


def child(
    patients: int,
    responses: int,
    requests: int,
    heavy: int,
    profile: bool,
    reuse: bool = False,
    build_only: bool = False,
    page_limit: int = 0,
) -> dict[str, Any]:
    import cProfile
    import io
    import pstats
    import random

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from conftest import make_staff
    from neuroclinic.accounts.actions import create_api_token
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import Organization
    from neuroclinic.interop import actions
    from neuroclinic.interop.export import run_export
    from neuroclinic.interop.models import BulkExport
    from neuroclinic.measures.demo import answers_for
    from neuroclinic.measures.instruments import score
    from neuroclinic.measures.models import QuestionnaireResponse
    from neuroclinic.patients.models import Diagnosis, Patient

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    run = os.getpid()
    rng = random.Random(7)
    # A kept clinic is named by its size; "(complete)" is added once every row is in.
    label = f"Benchmark Clinic {patients}x{responses}+{heavy} (synthetic)"
    kept = (
        Organization.objects.filter(name=f"{label} (complete)").order_by("-pk").first()
        if reuse
        else None
    )
    if kept is not None:
        organization = kept
        director = make_staff(
            organization, f"bench-director-{run}", Role.MEDICAL_DIRECTOR
        )
        people_qs = Patient.objects.filter(organization=organization).order_by("pk")
        heavy_patient = people_qs.first()
        assert heavy_patient is not None
        people = list(people_qs.only("pk", "uuid")[:5000])
    else:
        organization = Organization.objects.create(
            name=label if reuse else f"Benchmark Clinic {run} (synthetic)",
            mrn_prefix="BM",
        )
        director = make_staff(
            organization, f"bench-director-{run}", Role.MEDICAL_DIRECTOR
        )
        start = datetime.now(UTC) - timedelta(days=responses * 7)

        def new_response(p: Patient, when: datetime) -> QuestionnaireResponse:
            answers = answers_for("phq9", rng.randint(0, 27), rng)
            result = score("phq9", answers)
            return QuestionnaireResponse(
                organization=organization,
                patient=p,
                instrument_code="phq9",
                instrument_version="1.0",
                answers=answers,
                total=result.total,
                severity=str(result.severity or ""),
                flags=[str(f) for f in result.flags],
                subscales=result.subscales,
                raises_safety_alert=result.safety_alert,
                source=QuestionnaireResponse.Source.PORTAL,
                completed_at=when,
            )

        # In chunks, so 100,000 patients never sit in memory at once.
        chunk = 5000
        people = []
        for offset in range(0, patients, chunk):
            batch = []
            for n in range(offset, min(offset + chunk, patients)):
                p = Patient(
                    organization=organization,
                    mrn=f"BM-{n:06d}",
                    family_name=f"Benchmarkova{n % 97}",
                    given_name=f"Synth{n}",
                    birth_date=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                    sex_at_birth=Patient.SexAtBirth.FEMALE
                    if n % 2
                    else Patient.SexAtBirth.MALE,
                )
                p.refresh_search_keys()
                batch.append(p)
            Patient.objects.bulk_create(batch, batch_size=1000)
            batch = list(
                Patient.objects.filter(
                    organization=organization, mrn__in=[p.mrn for p in batch]
                ).order_by("pk")
            )
            Diagnosis.objects.bulk_create(
                [
                    Diagnosis(
                        patient=p,
                        recorded_by=director,
                        icd10_code="F33.1",
                        description="Synthetic MDD",
                    )
                    for p in batch
                ],
                batch_size=1000,
            )
            QuestionnaireResponse.objects.bulk_create(
                [
                    new_response(p, start + timedelta(days=7 * k))
                    for p in batch
                    for k in range(responses)
                ],
                batch_size=1000,
            )
            if len(people) < 5000:
                people.extend(batch[: 5000 - len(people)])
            if offset and offset % 20000 == 0:
                print(f"built {offset} patients", file=sys.stderr, flush=True)
        # One patient with `heavy` responses, for $everything.
        heavy_patient = people[0]
        heavy_start = datetime.now(UTC) - timedelta(days=heavy + 1)
        QuestionnaireResponse.objects.bulk_create(
            [
                new_response(heavy_patient, heavy_start + timedelta(days=k))
                for k in range(heavy)
            ],
            batch_size=1000,
        )
        if reuse:
            organization.name = f"{label} (complete)"
            organization.save(update_fields=["name"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if build_only:
        return {"built": organization.name}

    _, raw = create_api_token(director, name="bench", by=director)
    headers = {"Authorization": f"Bearer {raw}"}
    client = Client()
    searches: dict[str, dict[str, Any]] = {}

    def observations() -> Any:
        return client.get(
            f"/fhir/Observation?patient={rng.choice(people).uuid}", headers=headers
        )

    def by_family() -> Any:
        # Searches by name are POSTs, so names stay out of URLs.
        family = f"benchmarkova{rng.randint(0, 96)}"
        return client.post("/fhir/Patient/_search", {"family": family}, headers=headers)

    for label, call in (
        ("Observation?patient", observations),
        ("Patient/_search family", by_family),
    )[: 2 if requests else 0]:
        for _ in range(3):
            assert call().status_code == 200
        times, queries = [], []
        for _ in range(requests):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = call()
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            queries.append(len(captured))
        searches[label] = {
            "p50": percentile(times, 50),
            "p95": percentile(times, 95),
            "max": max(times),
            "queries": (min(queries), max(queries)),
        }

    def timed(call: Any, n: int) -> dict[str, float]:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
        return {
            "p50": percentile(times, 50),
            "p95": percentile(times, 95),
            "max": max(times),
        }

    everything: dict[str, Any] = {}
    if requests and heavy:
        path = f"/fhir/Patient/{heavy_patient.uuid}/$everything"
        first = client.get(path, headers=headers)
        assert first.status_code == 200
        everything = timed(lambda: client.get(path, headers=headers), requests)
        everything["entries"] = len(first.json()["entry"])

    # Walk every page of a search across all patients; time the first and the last.
    paging: dict[str, Any] = {}
    if requests:
        url: str | None = "/fhir/QuestionnaireResponse?_count=100"
        pages, page_times = 0, list[float]()
        while url is not None and not (page_limit and pages >= page_limit):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            page_times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            pages += 1
            links = [
                link["url"]
                for link in response.json()["link"]
                if link["relation"] == "next"
            ]
            url = "/fhir/" + links[0].split("/fhir/", 1)[1] if links else None
        paging = {
            "pages": pages,
            "first_ms": page_times[0],
            "median_ms": percentile(page_times, 50),
            "last_ms": page_times[-1],
        }

    export = actions.start_export(
        level=BulkExport.Level.PATIENT,
        resource_types=["Patient", "Condition", "QuestionnaireResponse", "Observation"],
        since=None,
        request_url="bench",
        by=director,
    )
    # CPU time, not wall time: on a shared machine a function's wall time is mostly
    # the time its process waited for a core.
    profiler = cProfile.Profile(time.process_time) if profile else None
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    cpu_started = time.process_time()
    if profiler is not None:
        profiler.enable()
    counts = run_export(export.uuid)
    if profiler is not None:
        profiler.disable()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    load_after = os.getloadavg()[0]
    total = sum(counts.values())
    hot = ""
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        hot = out.getvalue()
    return {
        "engine": connection.vendor,
        "patients": patients,
        "responses": responses,
        "requests": requests,
        "searches": searches,
        "export_resources": total,
        "export_seconds": elapsed,
        "export_rate": total / elapsed,
        "export_cpu_seconds": cpu,
        "export_cpu_rate": total / cpu,
        "export_load": (load_before, load_after),
        "everything": everything,
        "paging": paging,
        "profile": hot,
    }


def run_child(database: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="neuroclinic.settings")
    scratch = Path(tempfile.mkdtemp(prefix="nc-bench-fhir-"))
    pg_name = None
    if database == "postgres":
        pg_name = args.pg_name or f"nc_bench_fhir_{os.getpid()}"
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_name],
            check=not args.pg_name,  # a named database may exist already
            capture_output=True,
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
                "--patients",
                str(args.patients),
                "--responses",
                str(args.responses),
                "--requests",
                str(args.requests),
                "--heavy",
                str(args.heavy),
                *(["--profile"] if args.profile else []),
                *(["--reuse"] if args.reuse else []),
                *(["--build-only"] if args.build_only else []),
                "--pages",
                str(args.pages),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    finally:
        if pg_name is not None and not args.pg_name:
            subprocess.run(
                ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", pg_name],
                check=True,
            )
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--responses", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both"
    )
    parser.add_argument("--pg-name", default="", help="PostgreSQL database to use")
    parser.add_argument("--heavy", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --pg-name: measure the kept clinic of this size (build it once if missing)",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build the clinic, measure nothing"
    )
    parser.add_argument(
        "--pages", type=int, default=0, help="walk at most this many pages (0: all)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                child(
                    args.patients,
                    args.responses,
                    args.requests,
                    args.heavy,
                    args.profile,
                    args.reuse,
                    args.build_only,
                    args.pages,
                ),
                default=str,
            )
        )
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroclinic.settings")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print("Machine")
    for key, value in machine_info(PG_BASE if "postgres" in databases else None):
        print(f"  {key:<11} {value}")
    print()
    results = [run_child(d, args) for d in databases]
    if args.build_only:
        for r in results:
            print(f"Built: {r['built']}")
        return 0
    print(
        f"Search through the Django stack ({args.patients} patients, {args.responses}"
        f" PHQ-9 each, {args.requests} requests, default _count=20)"
    )
    print(
        f"  {'engine':<10} {'search':<22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}"
    )
    for r in results:
        for label, s in r["searches"].items():
            q = s["queries"]
            print(
                f"  {r['engine']:<10} {label:<22} {s['p50']:>8.1f} {s['p95']:>8.1f}"
                f" {s['max']:>8.1f} {q[0]:>3}-{q[1]:<4}"
            )
    print()
    print(
        "Bulk export (Patient, Condition, QuestionnaireResponse, Observation), in process"
    )
    print(
        f"  {'engine':<10} {'resources':>10} {'seconds':>8} {'resources/s':>12}"
        f" {'CPU s':>7} {'per CPU s':>10} {'load 1 min':>11}"
    )
    for r in results:
        print(
            f"  {r['engine']:<10} {r['export_resources']:>10,} {r['export_seconds']:>8.1f}"
            f" {r['export_rate']:>12,.0f} {r['export_cpu_seconds']:>7.1f}"
            f" {r['export_cpu_rate']:>10,.0f}"
            f" {r['export_load'][0]:>5.1f}-{r['export_load'][1]:<5.1f}"
        )
    print()
    print(f"Patient/$everything, one patient with {args.heavy} PHQ-9 responses")
    for r in results:
        e = r["everything"]
        if e:
            print(
                f"  {r['engine']:<10} {e['entries']:>6} entries  p50 {e['p50']:.0f} ms"
                f"  p95 {e['p95']:.0f} ms  max {e['max']:.0f} ms"
            )
    print()
    print("Paging QuestionnaireResponse?_count=100 to the last page (keyset cursors)")
    for r in results:
        g = r["paging"]
        if g:
            print(
                f"  {r['engine']:<10} {g['pages']:>6} pages  first {g['first_ms']:.0f} ms"
                f"  median {g['median_ms']:.0f} ms  last {g['last_ms']:.0f} ms"
            )
    for r in results:
        if r["profile"]:
            print()
            print(f"Where the export's time goes ({r['engine']}, cProfile, cumulative)")
            print(r["profile"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
