"""Outcomes benchmark: the director's dashboard and the booster worklist at clinic-network scale.

    .venv/bin/python benchmarks/outcomes.py [--patients 2000] [--responses-per-patient 20]
        [--runs 5] [--database sqlite|postgres] [--reference]
        [--database-name NAME [--reuse [--skip-rebuild]]] [--daily-job]

A scratch database (a temporary SQLite file, or a fresh PostgreSQL database dropped at
the end; with --database-name, that PostgreSQL database, created if missing and kept)
is migrated, then filled with BENCHMARK FIXTURES: synthetic patients, one plan each,
six induction infusions, 0-3 boosters and N PHQ-9 totals per patient, written in bulk
(bulk_create for patients, plans and orders; on PostgreSQL, COPY for infusions and
responses). Fixtures skip every action: no audit events, no seals, no scoring; they
exist only to be read. With --reuse a kept database that already holds the synthetic
clinic at that size is measured again without regenerating it; --skip-rebuild also keeps
its stored summaries (only the rebuild's closing VACUUM (ANALYZE) is run). It then times, in
process:
- `summaries.refresh_all` (the nightly rebuild of the stored episode summaries) and
  `summaries.refresh_patients` for one patient (what the ten-minute job does per change);
- `dashboard.from_table` (what /outcomes/dashboard/ computes: sums of the stored per-day
  counts and the Kaplan-Meier inputs), p50/p95/max, after one warm-up run (the first
  lifelines import), each run followed by `dashboard.from_rows` (the same figures
  counted from the episode rows, the earlier read) so both see the same load;
- with --reference, `dashboard.build` over every plan (the old per-request recomputation);
- the booster worklist read (`worklist.open_suggestions` and `recent_decisions`, as the page);
- the clinic rates the dashboard page also shows (`rates.clinic_rates`), p50/p95, and
  the page's whole computation (`from_table` then `clinic_rates`), p50/p95;
- the load average (1, 5, 15 minutes) when the runs end: the machine is shared.
- with --daily-job, `refresh_booster_suggestions` once (the daily job); without it, open
  suggestions for 2% of plans are written as fixtures so the worklist has rows to read.
The issue's target is 100,000 patients and 2,000,000 responses on PostgreSQL; the
figures printed say what this run reached.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

sys.path.insert(0, str(ROOT))

from benchmarks.patient_search import machine_info, percentile  # noqa: E402

PG_BASE = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
BATCH = 5000
BENCH_PASSWORD = "bench-pass-123"  # noqa: S105 - a scratch database, removed after


INDICATIONS = (
    "Major depressive disorder, recurrent, severe (F33.2)",
    "Major depressive disorder, single episode, severe (F32.2)",
    "Persistent depressive disorder (F34.1)",
    "Post-traumatic stress disorder (F43.10)",
)
DOSES_MG_PER_KG = ("0.50", "0.75", "1.00")
ORGANIZATION_NAME = "Benchmark Clinic (synthetic)"
SESSION_FIELDS = [
    "patient_id",
    "plan_id",
    "order_id",
    "location_id",
    "room_id",
    "sequence_number",
    "sequence_total",
    "service_date",
    "checked_in_at",
    "started_at",
    "ended_at",
]
RESPONSE_FIELDS = ["patient_id", "total", "completed_at"]


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL COPY text format (the fixtures' plain values only)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "obj"):  # psycopg's Jsonb wrapper
        return json.dumps(value.obj)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    assert not any(c in text for c in "\t\n\\"), text
    return text


def copy_fixtures(
    model: Any, template: Any, varying: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Write benchmark fixtures: `template`'s values with the `varying` fields per row.

    PostgreSQL: one COPY, no model instance per row; SQLite: bulk_create. Values are
    prepared as bulk_create prepares them (pre_save, get_db_prep_save), so defaults and
    auto_now_add apply; signals and seals do not, as with bulk_create. A fresh UUID is
    made per row for a unique `uuid` field.
    """
    import uuid

    from django.db import connection
    from psycopg import sql

    if connection.vendor != "postgresql":
        objects = []
        for row in rows:
            obj = model(
                **{
                    f.attname: getattr(template, f.attname)
                    for f in model._meta.concrete_fields
                    if not f.primary_key
                }
            )
            obj.uuid = uuid.uuid4()
            for name, value in zip(varying, row, strict=True):
                setattr(obj, name, value)
            objects.append(obj)
        model.objects.bulk_create(objects, batch_size=5000)
        return
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
    ]
    base = [
        _copy_text(f.get_db_prep_save(f.pre_save(template, True), connection))
        for f in fields
    ]
    names = [f.attname for f in fields]
    slots = [names.index(name) for name in varying]
    uuid_slot = names.index("uuid")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table),
        sql.SQL(", ").join(sql.Identifier(f.column) for f in fields),
    )
    lines = []
    for row in rows:
        line = base.copy()
        line[uuid_slot] = str(uuid.uuid4())
        for slot, value in zip(slots, row, strict=True):
            line[slot] = _copy_text(value)
        lines.append("\t".join(line))
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write("\n".join(lines) + "\n")


def make_fixtures(patients: int, per_patient: int) -> tuple[Any, float]:
    """The synthetic clinic, written in bulk (see the module docstring); (org, seconds)."""
    import random

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction

    from neuroclinic.accounts.models import User
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import Location, Organization, Room
    from neuroclinic.infusions.models import InfusionSession
    from neuroclinic.measures.models import QuestionnaireResponse
    from neuroclinic.patients.models import Patient
    from neuroclinic.treatment.actions.protocols import install_default_protocols
    from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

    rng = random.Random(11)
    started = time.perf_counter()
    org = Organization.objects.create(name=ORGANIZATION_NAME, mrn_prefix="BZ")
    locations = [
        Location.objects.create(
            organization=org,
            name=name,
            address_line1="1 Example St",
            city="Springfield",
            state="IL",
            postal_code="62701",
            time_zone="UTC",
        )
        for name in ("Bench North", "Bench South")
    ]
    rooms = [
        Room.objects.create(location=loc, name="Bay 1", kind=Room.Kind.INFUSION)
        for loc in locations
    ]
    director = User.objects.create(
        username="bench-director",
        organization=org,
        password=make_password(BENCH_PASSWORD),
    )
    group, _ = Group.objects.get_or_create(name=Role.MEDICAL_DIRECTOR.value)
    director.groups.add(group)
    director = User.objects.get(pk=director.pk)
    protocols = {
        p.kind: p
        for p in install_default_protocols(org, by=director, password=BENCH_PASSWORD)
    }
    induction, booster = protocols["induction"], protocols["booster"]
    today = datetime.now(UTC).date()
    made_at = datetime.now(UTC)
    session_template = InfusionSession(
        organization=org,
        status="closed",
        checked_in_by=director,
        nurse=director,
        location=locations[0],
        room=rooms[0],
    )
    response_template = QuestionnaireResponse(
        organization=org,
        instrument_code="phq9",
        instrument_version="1",
        answers={},
        source="staff",
        created_at=made_at,
    )
    for start in range(0, patients, BATCH):
        n = min(BATCH, patients - start)
        with transaction.atomic():
            patients_made = Patient.objects.bulk_create(
                [
                    Patient(
                        organization=org,
                        mrn=f"BZ{start + i:07d}",
                        family_name=f"Synth{start + i}",
                        given_name="Bench",
                        birth_date=date(1950 + (start + i) % 50, 1, 1),
                        sex_at_birth="female",
                        created_by=director,
                        family_name_search=f"synth{start + i}",
                        given_name_search="bench",
                    )
                    for i in range(n)
                ]
            )
            plans = []
            for p in patients_made:
                first = today - timedelta(days=rng.randint(60, 400))
                end = datetime.combine(
                    first + timedelta(days=10), datetime.min.time(), UTC
                )
                plans.append(
                    TreatmentPlan(
                        organization=org,
                        patient=p,
                        induction_protocol=induction,
                        booster_protocol=booster,
                        indication=rng.choice(INDICATIONS),
                        induction_dates=[
                            (first + timedelta(days=2 * k)).isoformat()
                            for k in range(6)
                        ],
                        induction_completed_at=end,
                        last_infusion_at=end,
                        created_by=director,
                    )
                )
            plans = TreatmentPlan.objects.bulk_create(plans)
            orders: list[Any] = []
            for pl in plans:
                dose = Decimal(rng.choice(DOSES_MG_PER_KG))
                for kind, protocol in (("induction", induction), ("booster", booster)):
                    orders.append(
                        InfusionOrder(
                            organization=org,
                            patient_id=pl.patient_id,
                            plan=pl,
                            protocol=protocol,
                            kind=kind,
                            infusion_count=6 if kind == "induction" else 1,
                            dose_mg_per_kg=dose,
                            duration_minutes=40,
                            dosing_weight_rule="actual",
                            max_dose_mg_per_kg=1,
                            max_dose_mg=100,
                            diluent_volume_ml=100,
                            rate_min_percent=50,
                            rate_max_percent=150,
                            titration_instructions="",
                            signed_by=director,
                            signed_at=made_at,
                            content_sha256="0" * 64,
                        )
                    )
            orders = InfusionOrder.objects.bulk_create(orders)
            by_plan = {(o.plan_id, o.kind): o for o in orders}
            sessions, responses = [], []
            for index, pl in enumerate(plans):
                first = date.fromisoformat(pl.induction_dates[0])
                days = [first + timedelta(days=2 * k) for k in range(6)]
                b = 10
                for _ in range(rng.randint(0, 3)):
                    b += rng.randint(21, 49)
                    if first + timedelta(days=b) < today:
                        days.append(first + timedelta(days=b))
                location, room = locations[index % 2], rooms[index % 2]
                for k, on in enumerate(days):
                    kind = "induction" if k < 6 else "booster"
                    at = datetime.combine(on, datetime.min.time(), UTC) + timedelta(
                        hours=10
                    )
                    sessions.append(
                        (
                            pl.patient_id,
                            pl.pk,
                            by_plan[(pl.pk, kind)].pk,
                            location.pk,
                            room.pk,
                            k + 1 if k < 6 else 1,
                            6 if k < 6 else 1,
                            on,
                            at,
                            at,
                            at + timedelta(hours=1),
                        )
                    )
                level = rng.randint(12, 25)
                for k in range(per_patient):
                    # Every 3 days from the day before the series: 20 scores fit
                    # before today for every patient (first infusion >= 60 days ago).
                    on = first - timedelta(days=1) + timedelta(days=3 * k)
                    if on > today:
                        break
                    if k:
                        level = max(
                            0, min(27, level + rng.randint(-5, 3 if k > 8 else 1))
                        )
                    responses.append(
                        (
                            pl.patient_id,
                            level,
                            datetime.combine(on, datetime.min.time(), UTC)
                            + timedelta(hours=8),
                        )
                    )
            copy_fixtures(InfusionSession, session_template, SESSION_FIELDS, sessions)
            copy_fixtures(
                QuestionnaireResponse, response_template, RESPONSE_FIELDS, responses
            )
        print(
            f"fixtures: {start + n} patients, {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    tidy_fixture_tables()
    return org, time.perf_counter() - started


def tidy_fixture_tables() -> None:
    """VACUUM (ANALYZE) the tables the fixtures filled in bulk (PostgreSQL).

    A clinic's tables grow a little at a time and autovacuum keeps their statistics and
    visibility maps current; a table just filled by COPY has neither, so an index-only
    count still reads every heap page (the 11c run's clinic rates). Measured as the
    clinic would be, not as the fixtures left it.
    """
    from django.db import connection

    from neuroclinic.infusions.models import InfusionSession
    from neuroclinic.measures.models import QuestionnaireResponse
    from neuroclinic.patients.models import Patient
    from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

    if connection.vendor != "postgresql":
        return
    for model in (
        Patient,
        TreatmentPlan,
        InfusionOrder,
        InfusionSession,
        QuestionnaireResponse,
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}"
            )


def open_suggestion_fixtures(org: Any, share: float = 0.02) -> int:
    """Open booster suggestions for a share of plans, as the daily job would leave them."""
    from neuroclinic.outcomes.boosters import BoosterRules
    from neuroclinic.outcomes.models import BoosterSuggestion
    from neuroclinic.treatment.models import TreatmentPlan

    if BoosterSuggestion.objects.filter(organization=org, status="open").exists():
        return 0
    today = datetime.now(UTC).date()
    rules = BoosterRules(version=0).as_dict()
    plans = TreatmentPlan.objects.filter(organization=org).values_list(
        "pk", "patient_id"
    )
    step = max(1, round(1 / share))
    rows = [
        BoosterSuggestion(
            organization=org,
            patient_id=patient_id,
            plan_id=plan_id,
            due_on=today + timedelta(days=(n % 21) - 10),
            urgency_when_made="due_now",
            basis=[
                {"rule": "rise_from_nadir", "on": today.isoformat(), "text": "fixture"}
            ],
            rules_version=0,
            rules=rules,
            last_infusion_on=today - timedelta(days=30),
            made_at=datetime.now(UTC),
        )
        for n, (plan_id, patient_id) in enumerate(list(plans)[::step])
    ]
    BoosterSuggestion.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def child(
    patients: int,
    per_patient: int,
    runs: int,
    reference: bool,
    reuse: bool = False,
    daily_job: bool = False,
    skip_rebuild: bool = False,
) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from neuroclinic.clinics.models import Organization
    from neuroclinic.measures.models import QuestionnaireResponse
    from neuroclinic.outcomes import dashboard, rates, worklist
    from neuroclinic.outcomes.actions import boosters, summaries
    from neuroclinic.outcomes.models import BoosterSuggestion, EpisodeSummaryRow
    from neuroclinic.patients.models import Patient
    from neuroclinic.treatment.models import TreatmentPlan

    org = Organization.objects.filter(name=ORGANIZATION_NAME).first()
    if org is not None and not (
        reuse and Patient.objects.filter(organization=org).count() == patients
    ):
        raise SystemExit(
            f"The database already holds a synthetic clinic of another size: use a "
            f"fresh one, or --reuse with --patients "
            f"{Patient.objects.filter(organization=org).count()}."
        )
    if org is None:
        org, setup_s = make_fixtures(patients, per_patient)
    else:
        setup_s = 0.0
        tidy_fixture_tables()  # quick when nothing changed since the last VACUUM
    made_patients = Patient.objects.filter(organization=org).count()
    made_responses = QuestionnaireResponse.objects.filter(organization=org).count()
    today = datetime.now(UTC).date()

    plans_all = list(TreatmentPlan.objects.filter(organization=org))
    rebuild_s: float | str = "-"
    recount_s: float | str = "-"
    if skip_rebuild:
        # Only the rebuild's closing steps: count every day again, then VACUUM (ANALYZE).
        t = time.perf_counter()
        summaries.recount(org.pk)
        recount_s = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        summaries.tidy_table()
        rebuild_s = f"skipped (tidy {time.perf_counter() - t:.1f})"
        summary_rows = EpisodeSummaryRow.objects.filter(organization=org).count()
    else:
        t = time.perf_counter()
        summary_rows = summaries.refresh_all(org)
        rebuild_s = round(time.perf_counter() - t, 1)
    one = []
    for pl in plans_all[: max(runs, 10)]:
        t = time.perf_counter()
        summaries.refresh_patients(org.pk, [pl.patient_id])
        one.append(time.perf_counter() - t)
    dashboard.from_table(org.pk, today=today)  # warm-up: imports lifelines
    dashboard.from_rows(org.pk, today=today)
    # The dashboard from the stored per-day counts (what the page reads) and, one run
    # after the other under the same load, counted from the episode rows (the 11c read).
    dash, rows_read = [], []
    for _ in range(runs):
        t = time.perf_counter()
        data = dashboard.from_table(org.pk, today=today)
        dash.append(time.perf_counter() - t)
        t = time.perf_counter()
        dashboard.from_rows(org.pk, today=today)
        rows_read.append(time.perf_counter() - t)
    old = []
    for _ in range(runs if reference else 0):
        t = time.perf_counter()
        dashboard.build(
            list(TreatmentPlan.objects.filter(organization=org)), today=today
        )
        old.append(time.perf_counter() - t)
    refresh_s: float | str = "-"
    if daily_job:
        t = time.perf_counter()
        boosters.refresh_booster_suggestions(org, today=today)
        refresh_s = round(time.perf_counter() - t, 1)
    else:
        open_suggestion_fixtures(org)
    open_count = BoosterSuggestion.objects.filter(
        organization=org, status="open"
    ).count()
    work = []
    for _ in range(max(runs, 20)):
        t = time.perf_counter()
        worklist.open_suggestions(org.pk, today)
        worklist.recent_decisions(org.pk)
        work.append(time.perf_counter() - t)
    clinic, page = [], []
    for _ in range(runs):
        t = time.perf_counter()
        rates.clinic_rates(org.pk)
        clinic.append(time.perf_counter() - t)
        # Everything the dashboard page computes: the dashboard and the clinic rates.
        t = time.perf_counter()
        dashboard.from_table(org.pk, today=today)
        rates.clinic_rates(org.pk)
        page.append(time.perf_counter() - t)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "patients": made_patients,
        "responses": made_responses,
        "plans": len(plans_all),
        "setup_s": round(setup_s, 1),
        "episodes": data.episodes,
        "summary_rows": summary_rows,
        "rebuild_s": rebuild_s,
        "recount_s": recount_s,
        "refresh_one_p50_ms": round(percentile(one, 50) * 1000),
        "dashboard_p50_ms": round(percentile(dash, 50) * 1000),
        "dashboard_p95_ms": round(percentile(dash, 95) * 1000),
        "dashboard_max_ms": round(max(dash) * 1000),
        "from_rows_p50_ms": round(percentile(rows_read, 50) * 1000),
        "from_rows_p95_ms": round(percentile(rows_read, 95) * 1000),
        "reference_p50_ms": round(percentile(old, 50) * 1000) if old else "-",
        "daily_job_s": refresh_s,
        "open_suggestions": open_count,
        "worklist_p50_ms": round(percentile(work, 50) * 1000, 1),
        "worklist_p95_ms": round(percentile(work, 95) * 1000, 1),
        "rates_p50_ms": round(percentile(clinic, 50) * 1000),
        "rates_p95_ms": round(percentile(clinic, 95) * 1000),
        "page_p50_ms": round(percentile(page, 50) * 1000),
        "page_p95_ms": round(percentile(page, 95) * 1000),
        "load_1_5_15": load,
    }


def run_child(database: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="neuroclinic.settings")
    scratch = Path(tempfile.mkdtemp(prefix="nc-bench-outcomes-"))
    pg_name = None  # a scratch database, dropped at the end
    if database == "postgres" and args.database_name:
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", args.database_name],
            check=False,  # kept from an earlier run
            capture_output=True,
        )
        env["DATABASE_URL"] = f"{PG_BASE}/{args.database_name}"
    elif database == "postgres":
        pg_name = f"nc_bench_outcomes_{os.getpid()}"
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_name], check=True
        )
        env["DATABASE_URL"] = f"{PG_BASE}/{pg_name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    env["NEUROCLINIC_VAR_DIR"] = str(scratch)
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--patients",
                str(args.patients),
                "--responses-per-patient",
                str(args.responses_per_patient),
                "--runs",
                str(args.runs),
                *(["--reference"] if args.reference else []),
                *(["--reuse"] if args.reuse else []),
                *(["--daily-job"] if args.daily_job else []),
                *(["--skip-rebuild"] if args.skip_rebuild else []),
            ],
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        ).stdout
    finally:
        if pg_name is not None:
            subprocess.run(
                [
                    "dropdb",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "--if-exists",
                    "--force",
                    pg_name,
                ],
                check=False,
            )
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--responses-per-patient", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="postgres"
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also time the old per-request recomputation (dashboard.build)",
    )
    parser.add_argument(
        "--database-name",
        help="PostgreSQL: use this database (created if missing) and keep it",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the synthetic clinic already in --database-name again",
    )
    parser.add_argument(
        "--daily-job",
        action="store_true",
        help="also time the daily suggestion job over every plan",
    )
    parser.add_argument(
        "--skip-rebuild",
        action="store_true",
        help="with --reuse: read the stored summaries as kept (no nightly rebuild timed)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.skip_rebuild and not args.reuse:
        parser.error("--skip-rebuild needs --reuse (a fresh clinic has no summaries)")
    if args.child:
        print(
            json.dumps(
                child(
                    args.patients,
                    args.responses_per_patient,
                    args.runs,
                    args.reference,
                    reuse=args.reuse,
                    daily_job=args.daily_job,
                    skip_rebuild=args.skip_rebuild,
                )
            )
        )
        return 0
    engines = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for name, value in machine_info(PG_BASE if "postgres" in engines else None):
        print(f"{name}: {value}")
    keys = None
    for engine in engines:
        result = run_child(engine, args)
        if keys is None:
            keys = list(result)
            print("| engine | " + " | ".join(keys) + " |")
            print("|---" * (len(keys) + 1) + "|")
        print(f"| {engine} | " + " | ".join(str(result[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
