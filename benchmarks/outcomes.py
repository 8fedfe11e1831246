"""Outcomes benchmark: the director's dashboard and the booster worklist at clinic-network scale.

    .venv/bin/python benchmarks/outcomes.py [--patients 2000] [--responses-per-patient 20]
        [--runs 5] [--database sqlite|postgres] [--reference]

A scratch database (a temporary SQLite file, or a fresh PostgreSQL database dropped at
the end) is migrated, then filled by bulk inserts with synthetic patients, one plan each,
six induction infusions, 0-3 boosters and N PHQ-9 totals per patient (the audit chain is
not involved in the setup). It then times, in process:
- `summaries.refresh_all` (the nightly rebuild of the stored episode summaries) and
  `summaries.refresh_patients` for one patient (what the ten-minute job does per change);
- `dashboard.from_table` (what /outcomes/dashboard/ computes: SQL aggregates over the
  stored summaries), p50/p95/max, after one warm-up run (the first lifelines import);
- with --reference, `dashboard.build` over every plan (the old per-request recomputation);
- the booster worklist read (open suggestions with patients, urgency under their rules);
- `refresh_booster_suggestions` once (the daily job).
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.patient_search import machine_info, percentile  # noqa: E402

PG_BASE = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432")
BATCH = 5000
BENCH_PASSWORD = "bench-pass-123"  # noqa: S105 - a scratch database, removed after


def child(
    patients: int, per_patient: int, runs: int, reference: bool
) -> dict[str, Any]:
    import random

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from neuroclinic.accounts.models import User
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import Location, Organization, Room
    from neuroclinic.infusions.models import InfusionSession
    from neuroclinic.measures.models import QuestionnaireResponse
    from neuroclinic.outcomes import dashboard
    from neuroclinic.outcomes.actions import boosters, summaries
    from neuroclinic.outcomes.models import BoosterSuggestion
    from neuroclinic.patients.models import Patient
    from neuroclinic.treatment.actions.protocols import install_default_protocols
    from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

    rng = random.Random(11)
    started = time.perf_counter()
    org = Organization.objects.create(
        name="Benchmark Clinic (synthetic)", mrn_prefix="BZ"
    )
    location = Location.objects.create(
        organization=org,
        name="Bench",
        address_line1="1 Example St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="UTC",
    )
    room = Room.objects.create(location=location, name="Bay 1", kind=Room.Kind.INFUSION)
    director = User.objects.create(
        username="bench-director",
        organization=org,
        password=make_password(BENCH_PASSWORD),
    )
    director.set_roles({Role.MEDICAL_DIRECTOR}) if hasattr(
        director, "set_roles"
    ) else None
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=Role.MEDICAL_DIRECTOR.value)
    director.groups.add(group)
    director = User.objects.get(pk=director.pk)
    protocols = {
        p.kind: p
        for p in install_default_protocols(org, by=director, password=BENCH_PASSWORD)
    }
    induction, booster = protocols["induction"], protocols["booster"]
    today = datetime.now(UTC).date()
    made_patients = made_responses = 0
    for start in range(0, patients, BATCH):
        n = min(BATCH, patients - start)
        with transaction.atomic():
            rows = [
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
            Patient.objects.bulk_create(rows)
            patients_made = list(
                Patient.objects.filter(organization=org).order_by("-id")[:n]
            )
            plans, first_days = [], []
            for p in patients_made:
                first = today - timedelta(days=rng.randint(60, 400))
                first_days.append(first)
                plans.append(
                    TreatmentPlan(
                        organization=org,
                        patient=p,
                        induction_protocol=induction,
                        booster_protocol=booster,
                        indication="Depression (F33.2)",
                        induction_dates=[
                            (first + timedelta(days=2 * k)).isoformat()
                            for k in range(6)
                        ],
                        induction_completed_at=datetime.combine(
                            first + timedelta(days=10), datetime.min.time(), UTC
                        ),
                        last_infusion_at=datetime.combine(
                            first + timedelta(days=10), datetime.min.time(), UTC
                        ),
                        created_by=director,
                    )
                )
            TreatmentPlan.objects.bulk_create(plans)
            plans = list(
                TreatmentPlan.objects.filter(organization=org).order_by("-id")[:n]
            )[::-1]
            patients_made = [pl.patient for pl in plans]
            orders: list[Any] = []
            for pl in plans:
                for kind, protocol in (("induction", induction), ("booster", booster)):
                    orders.append(
                        InfusionOrder(
                            organization=org,
                            patient_id=pl.patient_id,
                            plan=pl,
                            protocol=protocol,
                            kind=kind,
                            infusion_count=6 if kind == "induction" else 1,
                            dose_mg_per_kg=protocol.dose_mg_per_kg,
                            duration_minutes=40,
                            dosing_weight_rule="actual",
                            max_dose_mg_per_kg=1,
                            max_dose_mg=100,
                            diluent_volume_ml=100,
                            rate_min_percent=50,
                            rate_max_percent=150,
                            titration_instructions="",
                            signed_by=director,
                            signed_at=datetime.now(UTC),
                            content_sha256="0" * 64,
                        )
                    )
            InfusionOrder.objects.bulk_create(orders)
            by_plan: dict[int, dict[str, InfusionOrder]] = {}
            for o in InfusionOrder.objects.filter(plan__in=plans):
                by_plan.setdefault(o.plan_id, {})[o.kind] = o
            sessions, responses = [], []
            for pl in plans:
                first = date.fromisoformat(pl.induction_dates[0])
                days = [first + timedelta(days=2 * k) for k in range(6)]
                b = 10
                for _ in range(rng.randint(0, 3)):
                    b += rng.randint(21, 49)
                    if first + timedelta(days=b) < today:
                        days.append(first + timedelta(days=b))
                for k, on in enumerate(days):
                    kind = "induction" if k < 6 else "booster"
                    at = datetime.combine(on, datetime.min.time(), UTC) + timedelta(
                        hours=10
                    )
                    sessions.append(
                        InfusionSession(
                            organization=org,
                            patient_id=pl.patient_id,
                            plan=pl,
                            order=by_plan[pl.pk][kind],
                            location=location,
                            room=room,
                            status="closed",
                            sequence_number=k + 1 if k < 6 else 1,
                            sequence_total=6 if k < 6 else 1,
                            service_date=on,
                            checked_in_by=director,
                            checked_in_at=at,
                            nurse=director,
                            started_at=at,
                            ended_at=at + timedelta(hours=1),
                        )
                    )
                base = rng.randint(12, 25)
                level = base
                for k in range(per_patient):
                    on = first - timedelta(days=1) + timedelta(days=4 * k)
                    if on > today:
                        break
                    if k:
                        level = max(
                            0, min(27, level + rng.randint(-5, 3 if k > 8 else 1))
                        )
                    responses.append(
                        QuestionnaireResponse(
                            organization=org,
                            patient_id=pl.patient_id,
                            instrument_code="phq9",
                            instrument_version="1",
                            answers={},
                            total=level,
                            source="staff",
                            completed_at=datetime.combine(on, datetime.min.time(), UTC)
                            + timedelta(hours=8),
                        )
                    )
            InfusionSession.objects.bulk_create(sessions, batch_size=2000)
            QuestionnaireResponse.objects.bulk_create(responses, batch_size=5000)
            made_patients += n
            made_responses += len(responses)
    setup_s = time.perf_counter() - started

    plans_all = list(TreatmentPlan.objects.filter(organization=org))
    t = time.perf_counter()
    summary_rows = summaries.refresh_all(org)
    rebuild_s = time.perf_counter() - t
    one = []
    for pl in plans_all[: max(runs, 10)]:
        t = time.perf_counter()
        summaries.refresh_patients(org.pk, [pl.patient_id])
        one.append(time.perf_counter() - t)
    dashboard.from_table(org.pk, today=today)  # warm-up: imports lifelines
    dash = []
    for _ in range(runs):
        t = time.perf_counter()
        data = dashboard.from_table(org.pk, today=today)
        dash.append(time.perf_counter() - t)
    old = []
    for _ in range(runs if reference else 0):
        t = time.perf_counter()
        dashboard.build(
            list(TreatmentPlan.objects.filter(organization=org)), today=today
        )
        old.append(time.perf_counter() - t)
    t = time.perf_counter()
    made = boosters.refresh_booster_suggestions(org, today=today)
    refresh_s = time.perf_counter() - t
    work = []
    for _ in range(max(runs, 10)):
        t = time.perf_counter()
        suggestions = list(
            BoosterSuggestion.objects.filter(organization=org, status="open")
            .select_related("patient")
            .order_by("due_on", "id")[:500]
        )
        for suggestion in suggestions:
            boosters.urgency_today(suggestion, today)
        work.append(time.perf_counter() - t)
    return {
        "patients": made_patients,
        "responses": made_responses,
        "plans": len(plans_all),
        "setup_s": round(setup_s, 1),
        "episodes": data.episodes,
        "summary_rows": summary_rows,
        "rebuild_s": round(rebuild_s, 1),
        "refresh_one_p50_ms": round(percentile(one, 50) * 1000),
        "dashboard_p50_ms": round(percentile(dash, 50) * 1000),
        "dashboard_p95_ms": round(percentile(dash, 95) * 1000),
        "dashboard_max_ms": round(max(dash) * 1000),
        "reference_p50_ms": round(percentile(old, 50) * 1000) if old else "-",
        "refresh_s": round(refresh_s, 1),
        "suggestions": len(made),
        "worklist_p50_ms": round(percentile(work, 50) * 1000, 1),
        "worklist_p95_ms": round(percentile(work, 95) * 1000, 1),
    }


def run_child(database: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="neuroclinic.settings")
    scratch = Path(tempfile.mkdtemp(prefix="nc-bench-outcomes-"))
    pg_name = None
    if database == "postgres":
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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                child(
                    args.patients, args.responses_per_patient, args.runs, args.reference
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
