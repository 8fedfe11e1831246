"""Series booking time against a busy calendar.

    python benchmarks/scheduling.py [--rooms 10] [--nurses 6] [--appointments 2000]
                                    [--series 20] [--database sqlite|postgres]

A scratch database (a temporary SQLite file, or a fresh PostgreSQL database
nc_bench_scheduling_<pid>) is migrated and given one location open 08:00-18:00
every day, N infusion rooms with a pump and a monitor each, M nurses and a
prescriber on shift for six weeks, and a calendar already holding
--appointments infusion visits spread over those weeks (inserted directly: the
benchmark measures the planner, not the inserts). Then, for --series new
patients, it times `propose_series` (reading the calendar, checking every start
time against the rules, and the CP-SAT solve) and `book_series` (the same checks
again under row locks, and the writes), and prints p50/p95 with the machine and the
total.

`--batch 300` (with `--appointments 0 --series 0`) is the issue's batch: series for 300
new patients proposed at once by the joint planner (actions/batch.py: one CP-SAT model
over every patient), starting within `--batch-start-days` of the first day. It prints
the time, the solver's status, objective, proven bound and gap, preferred times met and
days to finish. A third of the patients prefer 09:00, a third 13:00, a third nothing.

The scratch database is removed at the end, also on failure.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a scratch database, removed at the end


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--nurses", type=int, default=6)
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--batch-start-days", type=int, default=49)
    parser.add_argument("--batch-time-limit", type=float, default=40.0)
    parser.add_argument("--batch-workers", type=int, default=2)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="nc-bench-scheduling-")
    if args.database == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
        pg_name = ""
    else:
        pg_name = f"nc_bench_scheduling_{os.getpid()}"
        os.environ["DATABASE_URL"] = f"{DEFAULT_PG_URL}/{pg_name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroclinic.settings")
    os.environ.setdefault("NEUROCLINIC_VAR_DIR", scratch)
    import django

    if pg_name:
        import psycopg

        with psycopg.connect(f"{DEFAULT_PG_URL}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
    try:
        django.setup()
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if pg_name:
            import psycopg

            with psycopg.connect(f"{DEFAULT_PG_URL}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
        for path in Path(scratch).glob("*"):
            path.unlink()
        os.rmdir(scratch)


def run(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from neuroclinic.accounts.models import User
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import (
        Device,
        Location,
        OpeningHours,
        Organization,
        Room,
    )
    from neuroclinic.patients.actions import register_patient
    from neuroclinic.scheduling.actions import series, setup
    from neuroclinic.scheduling.models import Appointment, AppointmentType, StaffShift
    from neuroclinic.treatment.actions.protocols import install_default_protocols
    from neuroclinic.treatment.defaults import ProtocolKind
    from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

    org = Organization.objects.create(name="Benchmark Clinic (synthetic)")
    zone = "America/Chicago"
    tz = ZoneInfo(zone)
    location = Location.objects.create(
        organization=org,
        name="Bench site",
        address_line1="1 Example Way",
        city="Example",
        state="IL",
        postal_code="00000",
        time_zone=zone,
    )
    for weekday in range(7):
        OpeningHours.objects.create(
            location=location, weekday=weekday, opens_at=clock(8), closes_at=clock(18)
        )

    def user(name: str, role: Role) -> User:
        made = User(
            username=name, first_name=name.title(), last_name="Bench", organization=org
        )
        made.set_password(PASSWORD)
        made.save()
        made.groups.set([Group.objects.get(name=role.value)])
        return made

    director = user("director", Role.MEDICAL_DIRECTOR)
    prescriber = user("prescriber", Role.PRESCRIBER)
    desk = user("desk", Role.FRONT_DESK)
    nurses = [user(f"nurse{n}", Role.NURSE) for n in range(args.nurses)]
    rooms = []
    for n in range(args.rooms):
        room = Room.objects.create(
            location=location, name=f"Infusion {n + 1:02d}", kind=Room.Kind.INFUSION
        )
        Device.objects.create(
            location=location,
            room=room,
            kind=Device.Kind.INFUSION_PUMP,
            name=f"Pump {n + 1}",
        )
        Device.objects.create(
            location=location,
            room=room,
            kind=Device.Kind.MONITOR,
            name=f"Monitor {n + 1}",
        )
        rooms.append(room)
    setup.install_default_types(org, by=director)
    itype = AppointmentType.objects.get(organization=org, code="infusion")
    protocols = {
        p.kind: p
        for p in install_default_protocols(org, password=PASSWORD, by=director)
    }

    start_day = (datetime.now(UTC) + timedelta(days=7)).astimezone(tz).date()
    start_day -= timedelta(days=start_day.weekday())
    # Enough whole weeks (at least six) to hold --appointments at four visits a day in all
    # rooms but two (so there is always room for the new series).
    per_day = 4 * max(1, args.rooms - 2)
    weeks = max(6, -(-args.appointments // (per_day * 7)))
    if args.batch:
        weeks = max(weeks, -(-(args.batch_start_days + 21) // 7) + 1)
    days = [start_day + timedelta(days=n) for n in range(7 * weeks)]
    shifts = []
    for day in days:
        opens = datetime.combine(day, clock(8), tzinfo=tz)
        closes = datetime.combine(day, clock(18), tzinfo=tz)
        for person in [prescriber, *nurses]:
            shifts.append(
                StaffShift(
                    organization=org,
                    location=location,
                    user=person,
                    starts_at=opens,
                    ends_at=closes,
                )
            )
    StaffShift.objects.bulk_create(shifts)

    def patient(n: int) -> "TreatmentPlan":
        p = register_patient(
            org,
            family_name=f"Benchmark{n:05d}",
            given_name="Synthetic",
            birth_date=date(1980, 1, 1),
            sex_at_birth="female",
            by=desk,
        )
        return TreatmentPlan.objects.create(
            organization=org,
            patient=p,
            induction_protocol=protocols[ProtocolKind.INDUCTION],
            indication="Synthetic benchmark",
            created_by=prescriber,
        )

    # The busy calendar: two-hour visits at 08:00, 10:15, 12:30, 14:45 (the slots that fit the
    # 15-minute turnover), filling rooms in turn, nurses at two infusions each at most.
    filler = [patient(n) for n in range(max(1, args.appointments // 6))]
    rows = []
    slots = [(8, 0), (10, 15), (12, 30), (14, 45)]
    n = 0
    for day in days:
        for hour, minute in slots:
            for r, room in enumerate(rooms[: max(1, args.rooms - 2)]):
                if n >= args.appointments:
                    break
                starts = datetime.combine(day, clock(hour, minute), tzinfo=tz)
                rows.append(
                    Appointment(
                        organization=org,
                        location=location,
                        patient=filler[n % len(filler)].patient,
                        appointment_type=itype,
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=2),
                        held_until=starts + timedelta(hours=2, minutes=15),
                        room=room,
                        staff=nurses[(r // 2) % len(nurses)],
                        booked_by=desk,
                    )
                )
                n += 1
    # Distinct patients per slot so the patient rule does not hide the resource rules.
    Appointment.objects.bulk_create(rows, batch_size=500)
    held = Appointment.objects.count()

    propose_s: list[float] = []
    book_s: list[float] = []
    optimal = 0
    gaps: list[float] = []
    failed = 0
    induction = protocols[ProtocolKind.INDUCTION]

    def signed_order(plan: "TreatmentPlan") -> None:
        # A signed order, inserted directly (signing is not what this measures).
        InfusionOrder.objects.create(
            organization=org,
            patient=plan.patient,
            plan=plan,
            protocol=induction,
            kind=InfusionOrder.Kind.INDUCTION,
            infusion_count=induction.infusion_count,
            dose_mg_per_kg=induction.dose_mg_per_kg,
            duration_minutes=induction.duration_minutes,
            dosing_weight_rule=induction.dosing_weight_rule,
            max_dose_mg_per_kg=induction.max_dose_mg_per_kg,
            max_dose_mg=induction.max_dose_mg,
            diluent_volume_ml=induction.diluent_volume_ml,
            rate_min_percent=induction.rate_min_percent,
            rate_max_percent=induction.rate_max_percent,
            titration_instructions="",
            signed_by=prescriber,
            signed_at=datetime.now(UTC),
            content_sha256="0" * 64,
        )

    for k in range(args.series):
        plan = patient(100000 + k)
        signed_order(plan)
        t0 = time.perf_counter()
        proposal = series.propose_series(
            plan, location=location, start=start_day + timedelta(days=k % 14)
        )
        propose_s.append(time.perf_counter() - t0)
        if not proposal.feasible:
            failed += 1
            continue
        optimal += proposal.optimal
        gaps.append(proposal.gap)
        t0 = time.perf_counter()
        series.book_series(
            plan,
            location=location,
            starts=[v.starts_at for v in proposal.visits],
            by=desk,
        )
        book_s.append(time.perf_counter() - t0)

    from django.db import connection

    if args.batch:
        run_batch(
            args,
            location,
            [patient(200000 + k) for k in range(args.batch)],
            start_day,
            signed_order,
        )
        return
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {connection.vendor}"
    )
    print(
        f"Calendar: {args.rooms} rooms, {args.nurses} nurses, {held} appointments held before the first series; "
        f"{args.series} series of 6 proposed and booked one after another ({failed} found no fit)"
    )
    print()
    print("| Step | n | p50 s | p95 s | max s |")
    print("|---|---|---|---|---|")
    for name, values in (
        ("propose_series (rules + CP-SAT)", propose_s),
        ("book_series (locks + rules + writes)", book_s),
    ):
        if values:
            print(
                f"| {name} | {len(values)} | {statistics.median(values):.3f} | {percentile(values, 95):.3f} | {max(values):.3f} |"
            )
    print()
    print(
        f"Total: {sum(propose_s) + sum(book_s):.1f} s for {args.series} series "
        f"(proposing {sum(propose_s):.1f} s, booking {sum(book_s):.1f} s)"
    )
    if gaps:
        print()
        print(
            f"Solver: {optimal} of {len(gaps)} proposals proven optimal; largest gap {max(gaps) * 100:.2f} %"
        )


def run_batch(args, location, plans, start_day, signed_order) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from neuroclinic.scheduling.actions import batch as batch_actions

    for plan in plans:
        signed_order(plan)
    items = [
        batch_actions.BatchItem(
            plan, preferred_times=[[clock(9)], [clock(13)], []][n % 3]
        )
        for n, plan in enumerate(plans)
    ]
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    proposal = batch_actions.propose_batch(
        items,
        location=location,
        start=start_day,
        latest_start=start_day + timedelta(days=args.batch_start_days),
        time_limit_s=args.batch_time_limit,
        workers=args.batch_workers,
    )
    total_s = time.perf_counter() - t0
    load_after = os.getloadavg()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {connection.vendor}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (1 min)"
    )
    print(
        f"Batch: {len(plans)} new patients, {args.rooms} rooms, {args.nurses} nurses, "
        f"starts within {args.batch_start_days} days, solver limit {args.batch_time_limit:.0f} s, "
        f"{args.batch_workers} workers"
    )
    print()
    finishes = sorted(proposal.finish_days.values())
    placed = sum(len(v) for v in proposal.series.values())
    print("| Figure | Value |")
    print("|---|---|")
    print(f"| Total time (read calendar, model, solve, place) | {total_s:.1f} s |")
    print(f"| Planner (model + LP bound + CP-SAT) | {proposal.solve_s:.1f} s |")
    print(f"| Solver status | {proposal.status} |")
    print(
        f"| Objective (100 x days to finish + visits off preferred time) | {proposal.objective:,.0f} |"
    )
    print(f"| Proven bound | {proposal.best_bound:,.0f} |")
    print(f"| Gap | {proposal.gap * 100:.2f} % |")
    print(
        f"| Series proposed / placed by the rules | {len(proposal.finish_days)} / {len(proposal.series)} |"
    )
    print(f"| Visits placed | {placed} |")
    print(
        f"| Preferred times met | {proposal.preferred_met} of {2 * len(plans) // 3 * 6} asked |"
    )
    if finishes:
        print(
            f"| Days from first possible start to last infusion (mean / median / max) | "
            f"{statistics.mean(finishes):.1f} / {statistics.median(finishes):.0f} / {max(finishes)} |"
        )
    for plan_id, why in list(proposal.unplaced.items())[:5]:
        print(f"Not placed: plan {plan_id}: {why}")


if __name__ == "__main__":
    main()
