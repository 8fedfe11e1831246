"""Audit writers of two organizations at once, on PostgreSQL: one chain each vs one shared chain.

    .venv/bin/python benchmarks/audit_chains.py [--seconds 10] [--hold-ms 0 5] [--pg-url URL]

Makes a scratch PostgreSQL database `nc_bench_audit_<pid>` (dropped at the
end), migrates it and makes two organizations. Then, for each hold time, it
runs writer processes (each its own Django process and connection) for the
same number of seconds, each committing transactions that record one audit
event with `audit.record()` and then hold the transaction open for the hold
time (`pg_sleep`), standing in for the rest of an action's transaction (a
vitals insert, a ledger entry) during which the chain's head stays locked:

- one organization, one writer: the rate one clinic gets alone;
- two organizations, one writer each, one chain each (what `record()` does now);
- two organizations, one writer each, one shared chain (as before migration
  audit 0007: every event into one chain; the run patches `chain_name` so the
  same code path is measured with one head row).

It prints events per second for each and the ratio of two organizations to one
(2.0 is perfectly linear), with the load average before and after: the machine
is shared, so compare the rows of one run, not runs.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")


def _setup_django() -> None:
    import django

    django.setup()


def child_setup() -> None:
    _setup_django()
    from django.core.management import call_command

    from neuroclinic.clinics.models import Organization

    call_command("migrate", verbosity=0)
    ids = [Organization.objects.create(name=f"Bench clinic {n}").pk for n in (1, 2)]
    print(json.dumps(ids))


def child_writer(
    organization_id: int, hold_ms: int, start_at: float, seconds: float, shared: bool
) -> None:
    _setup_django()
    from django.db import connection, transaction

    from neuroclinic.audit import record as audit_record
    from neuroclinic.audit.models import AuditEvent
    from neuroclinic.clinics.models import Organization

    if shared:
        audit_record.chain_name = lambda organization_id: "bench-shared"
    organization = Organization.objects.get(pk=organization_id)
    connection.ensure_connection()
    time.sleep(max(0.0, start_at - time.time()))
    stop = start_at + seconds
    count = 0
    while time.time() < stop:
        with transaction.atomic():
            audit_record.record(
                AuditEvent.Action.CHART_VIEWED,
                actor=None,
                organization=organization,
                actor_username="benchmark",
                n=count,
            )
            if hold_ms:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(%s)", [hold_ms / 1000])
        count += 1
    print(json.dumps({"events": count, "seconds": time.time() - start_at}))


def _env(database: str, scratch: str) -> dict[str, str]:
    env = dict(os.environ)
    env |= {
        "DEBUG": "False",
        "HTTPS": "False",
        "ALLOWED_HOSTS": "testserver",
        "PUBLIC_BASE_URL": "http://testserver",
        "NEUROCLINIC_VAR_DIR": scratch,
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopq",
        "DATABASE_URL": f"{PG_BASE}/{database}",
        "DJANGO_SETTINGS_MODULE": "neuroclinic.settings",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    return env


def _scenario(
    env: dict[str, str], writers: list[tuple[int, bool]], hold_ms: int, seconds: float
) -> float:
    """Events per second committed by all writers together."""
    start_at = time.time() + 10  # every writer has set Django up and connected by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--writer",
                str(org),
                str(hold_ms),
                str(start_at),
                str(seconds),
                str(int(shared)),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for org, shared in writers
    ]
    events = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 120)
        if proc.returncode != 0:
            raise SystemExit("a writer failed")
        events += json.loads(out.strip().splitlines()[-1])["events"]
    return events / seconds


def main() -> None:
    if sys.argv[1:2] == ["--setup"]:
        child_setup()
        return
    if sys.argv[1:2] == ["--writer"]:
        org, hold, start, seconds, shared = sys.argv[2:7]
        child_writer(int(org), int(hold), float(start), float(seconds), shared == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--hold-ms", type=int, nargs="+", default=[0, 5])
    parser.add_argument(
        "--database",
        help="an existing scratch database to use and keep (migrated again, two "
        "organizations added) instead of a new one",
    )
    args = parser.parse_args()

    database = args.database or f"nc_bench_audit_{os.getpid()}"
    if not args.database:
        subprocess.run(
            ["psql", PG_BASE, "-qc", f"CREATE DATABASE {database}"], check=True
        )
    scratch = tempfile.mkdtemp(prefix="nc-audit-bench-")
    env = _env(database, scratch)
    try:
        setup = subprocess.run(
            [sys.executable, __file__, "--setup"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        first, second = json.loads(setup.stdout.strip().splitlines()[-1])
        print(
            f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; cores: {os.cpu_count()}"
        )
        rows: list[dict[str, Any]] = []
        for hold in args.hold_ms:
            one_rate = _scenario(env, [(first, False)], hold, args.seconds)
            two_rate = _scenario(
                env, [(first, False), (second, False)], hold, args.seconds
            )
            shared_rate = _scenario(
                env, [(first, True), (second, True)], hold, args.seconds
            )
            rows.append(
                {
                    "hold_ms": hold,
                    "one_org": one_rate,
                    "two_orgs": two_rate,
                    "two_orgs_shared_chain": shared_rate,
                }
            )
            print(
                f"hold {hold} ms: one organization {one_rate:,.0f} events/s; two "
                f"organizations, a chain each {two_rate:,.0f} events/s "
                f"({two_rate / one_rate:.2f}x); two organizations, one shared chain "
                f"{shared_rate:,.0f} events/s ({shared_rate / one_rate:.2f}x)",
                flush=True,
            )
        print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        print(json.dumps(rows))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not args.database:
            subprocess.run(
                [
                    "psql",
                    PG_BASE,
                    "-qc",
                    f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                ],
                check=False,
            )


if __name__ == "__main__":
    main()
