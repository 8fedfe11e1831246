"""How long `neuroclinic ledger verify` takes on a million entries, against the floor.

The floor is hashlib alone: SHA-256 over exactly the canonical bytes verify hashes,
one digest per entry. Verify also fetches the rows, rebuilds each canonical
document, checks links and re-adds every running balance; the ratio says what that
costs. Then the balance queries' server time at that size (EXPLAIN ANALYZE on
PostgreSQL; wall time on SQLite).

    .venv/bin/python benchmarks/ledger_verify.py                  # PostgreSQL, 1,000,000
    .venv/bin/python benchmarks/ledger_verify.py --entries 100000 --database sqlite

It makes its own database (dropped afterwards), builds a valid synthetic chain
quickly (COPY on PostgreSQL), and prints a table with the machine it ran on.
Results: benchmarks/LEDGER.md.
"""

import argparse
import csv
import hashlib
import io
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

sys.path.insert(0, str(ROOT))

VIAL_ML = Decimal("10.00")
DRAW_ML = Decimal("0.80")
GIVE_ML = Decimal("0.70")
WASTE_ML = Decimal("0.10")
MG_PER_ML = Decimal("50.00")
SESSIONS_PER_VIAL = 12  # 1 receipt + 12 x (draw, administer, waste) = 37 entries a vial
LOTS = 100
BATCH = 50_000


@dataclass
class Timing:
    verify_seconds: float
    hashlib_seconds: float
    canonical_bytes: int
    entries: int


def _machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("Memory", memory),
        ("Python", platform.python_version()),
        ("OS", platform.platform()),
    ]


def _create_database(kind: str, keep: str = "") -> tuple[str, Any]:
    """A fresh database URL and a function that removes it.

    With `keep` (a SQLite file or a PostgreSQL database name) the database is made
    there and left for `--reuse`; the returned function does nothing.
    """
    if keep:
        if kind == "sqlite":
            Path(keep).parent.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{Path(keep).resolve()}", lambda: None
        import psycopg

        base = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        )
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {keep}")
        return urlsplit(base)._replace(path=f"/{keep}").geturl(), lambda: None
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="nc-bench-")
        path = Path(folder) / "bench.sqlite3"

        def drop() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            Path(folder).rmdir()

        return f"sqlite:///{path}", drop
    import psycopg

    base = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    name = f"nc_bench_ledger_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")

    def drop_pg() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return urlsplit(base)._replace(path=f"/{name}").geturl(), drop_pg


def _setup_django(url: str, *, migrate: bool = True) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroclinic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0, skip_checks=True)


def _floor(registrant_id: int, seq: int, day: int) -> tuple[float, float, int, Any]:
    """hashlib alone over the canonical bytes of entries 1..seq.

    Returns (wall seconds, CPU seconds, bytes, the anchor at seq - day). The bytes
    are rebuilt from the rows untimed, a batch at a time, and only the SHA-256
    digests are timed; measured beside each verify so that both see the same load
    on a shared machine. The same pass re-adds the balances (untimed) to make the
    anchor a signed checkpoint at seq - day would hold.
    """
    from django.db import connection

    from neuroclinic.ledger.models import Product
    from neuroclinic.ledger.verify import (
        _HASH,
        _SEQ,
        Anchor,
        _raw_rows,
        _readd,
        fast_canonical,
    )
    from neuroclinic.lib.hashchain import GENESIS_HASH

    per_ml = {
        pk: int(v * 100)
        for pk, v in Product.objects.values_list("pk", "concentration_mg_per_ml")
    }
    state = Anchor(seq=0, hash=GENESIS_HASH)
    anchor = None
    vendor = connection.vendor
    seconds = cpu = 0.0
    total = 0
    blobs: list[bytes] = []

    def hash_batch() -> None:
        nonlocal seconds, cpu, total
        began, began_cpu = time.perf_counter(), time.process_time()
        for blob in blobs:
            hashlib.sha256(blob).hexdigest()
        seconds += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
        total += sum(len(b) for b in blobs)
        blobs.clear()

    for row in _raw_rows(registrant_id, 0, seq):
        blobs.append(fast_canonical(row, vendor)[0])
        if anchor is None:
            _readd(row, state, per_ml)
            state.seq, state.hash = row[_SEQ], row[_HASH]
            if state.seq == seq - day:
                anchor = Anchor.from_json(state.as_json())
        if len(blobs) >= BATCH:
            hash_batch()
    hash_batch()
    return seconds, cpu, total, anchor


def _fixtures() -> dict[str, Any]:
    """The rows entries point at: a clinic, two staff, a patient, a safe, a product, lots."""
    from django.contrib.auth.models import Group

    from neuroclinic.accounts.models import User
    from neuroclinic.clinics.models import Location, Organization
    from neuroclinic.ledger.actions.setup import (
        add_product,
        add_storage_location,
        register_registrant,
    )
    from neuroclinic.ledger.models import Lot
    from neuroclinic.patients.models import Patient

    organization = Organization.objects.create(name="Benchmark clinic", mrn_prefix="BM")
    location = Location.objects.create(
        organization=organization,
        name="Main",
        address_line1="1 Bench St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="UTC",
    )
    nurse = User.objects.create(username="bench-nurse", organization=organization)
    nurse.groups.set([Group.objects.get(name="nurse")])
    custodian = User.objects.create(
        username="bench-custodian", organization=organization
    )
    custodian.groups.set([Group.objects.get(name="cs_custodian")])
    patient = Patient.objects.create(
        organization=organization,
        mrn="BM-000001",
        family_name="Benchmark",
        given_name="Synthetic",
        birth_date=date(1980, 1, 1),
        sex_at_birth="unknown",
    )
    registrant = register_registrant(
        location,
        name="Benchmark clinic",
        address_line1="1 Bench St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        dea_number="BL1234563",
        by=custodian,
    )
    safe = add_storage_location(registrant, name="Safe", by=custodian)
    product = add_product(
        organization,
        name="Ketamine HCl injection (synthetic)",
        ndc="99999-0501-10",
        concentration_mg_per_ml=MG_PER_ML,
        container_volume_ml=VIAL_ML,
        by=custodian,
    )
    lots = Lot.objects.bulk_create(
        Lot(
            organization=organization,
            product=product,
            lot_number=f"BENCH-{n:03d}",
            expiry_date=date(2099, 12, 31),
        )
        for n in range(LOTS)
    )
    return {
        "organization": organization,
        "registrant": registrant,
        "safe": safe,
        "product": product,
        "lots": lots,
        "nurse": nurse,
        "custodian": custodian,
        "patient": patient,
    }


def _vials(f: dict[str, Any], count: int) -> list[int]:
    from neuroclinic.ledger.models import Container

    received = datetime(2026, 1, 1, tzinfo=UTC)
    made = Container.objects.bulk_create(
        (
            Container(
                organization=f["organization"],
                registrant=f["registrant"],
                product=f["product"],
                lot=f["lots"][n % LOTS],
                storage_location=f["safe"],
                vial_identifier=f"B{n:07d}",
                status=Container.Status.OPEN,
                initial_volume_ml=VIAL_ML,
                balance_ml=VIAL_ML - SESSIONS_PER_VIAL * DRAW_ML,
                received_at=received,
                opened_at=received,
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    return [c.pk for c in made]


def _chain(
    f: dict[str, Any], vial_ids: list[int], entries: int, sink: Any
) -> tuple[int, str, Decimal, float, int]:
    """Build the chain row by row (valid links and balances), handing batches to `sink`.

    Returns (seq, head hash, stock on hand mg, hashlib seconds, canonical bytes).
    """
    from neuroclinic.ledger.models import as_quantity
    from neuroclinic.ledger.verify import canonical_bytes
    from neuroclinic.lib.hashchain import GENESIS_HASH

    registrant, product, patient = f["registrant"], f["product"], f["patient"]
    nurse, custodian = f["nurse"], f["custodian"]
    lots = f["lots"]
    base = {
        "organization_id": registrant.organization_id,
        "registrant_id": registrant.pk,
        "product_id": product.pk,
        "storage_location_id": f["safe"].pk,
        "reverses_id": None,
        "receipt_id": None,
        "discrepancy_id": None,
        "reason": "",
    }
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lot_balance: dict[int, Decimal] = {}
    stock = Decimal("0.00")
    prev = GENESIS_HASH
    seq = 0
    hash_seconds = 0.0
    total_bytes = 0
    batch: list[dict[str, Any]] = []
    blobs: list[bytes] = []

    def emit(row: dict[str, Any]) -> None:
        nonlocal prev, seq
        content = {k: row[k] for k in row}
        for key in (
            "quantity_ml",
            "quantity_mg",
            "container_change_ml",
            "session_change_ml",
            "container_balance_after_ml",
            "lot_balance_after_ml",
            "session_balance_after_ml",
            "stock_on_hand_after_mg",
        ):
            content[key] = as_quantity(row[key])
        blob = canonical_bytes(content)  # what verify hashes; equal to canonical_json
        row["hash"] = hashlib.sha256(blob).hexdigest()
        prev = row["hash"]
        batch.append(row)
        blobs.append(blob)

    def flush() -> None:
        nonlocal hash_seconds, total_bytes
        if not batch:
            return
        # The floor: hashlib alone over exactly these bytes, one digest per entry.
        began = time.perf_counter()
        for blob in blobs:
            hashlib.sha256(blob).hexdigest()
        hash_seconds += time.perf_counter() - began
        total_bytes += sum(len(b) for b in blobs)
        sink(batch)
        batch.clear()
        blobs.clear()

    def row(
        kind: str,
        vial: int,
        lot_id: int,
        quantity: Decimal,
        change: Decimal,
        session_change: Decimal,
        vial_after: Decimal,
        session: str,
        session_after: Decimal | None,
        witness: bool,
    ) -> None:
        nonlocal seq, stock
        seq += 1
        lot_balance[lot_id] = lot_balance.get(lot_id, Decimal("0.00")) + change
        mg = (abs(change) * MG_PER_ML).quantize(Decimal("0.01"))
        stock += -mg if change < 0 else mg
        when = start + timedelta(seconds=seq)
        emit(
            base
            | {
                "seq": seq,
                "uuid": str(uuid.uuid4()),
                "kind": kind,
                "occurred_at": when,
                "recorded_at": when,
                "container_id": vial,
                "lot_id": lot_id,
                "quantity_ml": quantity,
                "quantity_mg": (quantity * MG_PER_ML).quantize(Decimal("0.01")),
                "container_change_ml": change,
                "session_change_ml": session_change,
                "container_balance_after_ml": vial_after,
                "lot_balance_after_ml": lot_balance[lot_id],
                "session_balance_after_ml": session_after,
                "stock_on_hand_after_mg": stock,
                "session_ref": session,
                "patient_id": patient.pk if session else None,
                "actor_id": custodian.pk if kind == "receive" else nurse.pk,
                "actor_name": "Bench Custodian" if kind == "receive" else "Bench Nurse",
                "witness_id": custodian.pk if witness else None,
                "witness_name": "Bench Custodian" if witness else "",
                "witness_confirmed_at": when if witness else None,
                "details": {"witness_method": "synthetic (demo data)"}
                if witness
                else {},
                "prev_hash": prev,
            }
        )
        if len(batch) >= BATCH:
            flush()

    zero = Decimal("0.00")
    for index, vial in enumerate(vial_ids):
        if seq >= entries:
            break
        lot_id = lots[index % LOTS].pk
        balance = VIAL_ML
        row("receive", vial, lot_id, VIAL_ML, VIAL_ML, zero, balance, "", None, False)
        for _ in range(SESSIONS_PER_VIAL):
            if seq + 3 > entries:
                break
            session = str(uuid.uuid4())
            balance -= DRAW_ML
            row(
                "draw",
                vial,
                lot_id,
                DRAW_ML,
                -DRAW_ML,
                DRAW_ML,
                balance,
                session,
                DRAW_ML,
                False,
            )
            row(
                "administer",
                vial,
                lot_id,
                GIVE_ML,
                zero,
                -GIVE_ML,
                balance,
                session,
                WASTE_ML,
                False,
            )
            row(
                "waste",
                vial,
                lot_id,
                WASTE_ML,
                zero,
                -WASTE_ML,
                balance,
                session,
                zero,
                True,
            )
    flush()
    return seq, prev, stock, hash_seconds, total_bytes


COLUMNS = [
    "uuid", "organization_id", "registrant_id", "seq", "kind", "occurred_at", "recorded_at",
    "container_id", "lot_id", "product_id", "storage_location_id", "quantity_ml", "quantity_mg",
    "container_change_ml", "session_change_ml", "container_balance_after_ml",
    "lot_balance_after_ml", "session_balance_after_ml", "stock_on_hand_after_mg", "session_ref",
    "patient_id", "actor_id", "actor_name", "witness_id", "witness_name",
    "witness_confirmed_at", "reason", "reverses_id", "receipt_id", "discrepancy_id", "details",
    "prev_hash", "hash",
]  # fmt: skip


def _sink(vendor: str) -> Any:
    from django.db import connection

    def cell(value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value)
        if isinstance(value, datetime):
            return (
                value.isoformat()
                if vendor == "postgresql"
                else value.strftime("%Y-%m-%d %H:%M:%S.%f")
            )
        if isinstance(value, Decimal):
            return str(value)
        if (
            vendor == "sqlite"
            and isinstance(value, str)
            and len(value) == 36
            and value.count("-") == 4
        ):
            return value  # session refs stay as text; the uuid column is handled below
        return value

    def to_postgres(rows: list[dict[str, Any]]) -> None:
        out = io.StringIO()
        # None unquoted is NULL to COPY; everything else quoted, so "" stays an empty string.
        writer = csv.writer(out, quoting=csv.QUOTE_NOTNULL)
        for row in rows:
            writer.writerow([None if row[c] is None else cell(row[c]) for c in COLUMNS])
        out.seek(0)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's cursor, for COPY
            with raw.copy(
                f"COPY ledger_ledgerentry ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
            ) as copy:
                copy.write(out.getvalue())

    def to_sqlite(rows: list[dict[str, Any]]) -> None:
        values = [
            [uuid.UUID(row[c]).hex if c == "uuid" else cell(row[c]) for c in COLUMNS]
            for row in rows
        ]
        marks = ", ".join("%s" for _ in COLUMNS)
        insert = (
            f"INSERT INTO ledger_ledgerentry ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608 - our own column names
        )
        with connection.cursor() as cursor:
            cursor.executemany(insert, values)

    return to_postgres if vendor == "postgresql" else to_sqlite


def _balance_queries(
    registrant_id: int, vial_id: int, vendor: str
) -> list[tuple[str, float]]:
    from django.db import connection

    queries = [
        (
            "Stock page: vials on hand with balances (cached, 1 registrant)",
            "SELECT c.id, c.vial_identifier, c.balance_ml FROM ledger_container c "
            "WHERE c.registrant_id = %s AND c.status IN ('sealed', 'open') "
            "ORDER BY c.vial_identifier LIMIT 200",
            [registrant_id],
        ),
        (
            "One vial's balance re-added from its entries",
            "SELECT SUM(container_change_ml) FROM ledger_ledgerentry WHERE container_id = %s",
            [vial_id],
        ),
        (
            "Stock on hand from the head row",
            "SELECT stock_on_hand_mg FROM ledger_ledgerhead WHERE registrant_id = %s",
            [registrant_id],
        ),
        (
            "Every vial's balance re-added from all entries",
            "SELECT container_id, SUM(container_change_ml) FROM ledger_ledgerentry "
            "WHERE registrant_id = %s GROUP BY container_id",
            [registrant_id],
        ),
    ]
    results = []
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        for label, sql, params in queries:
            best = float("inf")
            for _ in range(5):
                if vendor == "postgresql":
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                    plan = cursor.fetchone()[0]
                    plan = json.loads(plan) if isinstance(plan, str) else plan
                    best = min(best, plan[0]["Execution Time"] / 1000)
                else:
                    began = time.perf_counter()
                    cursor.execute(sql, params)
                    cursor.fetchall()
                    best = min(best, time.perf_counter() - began)
            results.append((label, best))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--day",
        type=int,
        default=2_000,
        help="entries after the checkpoint for the incremental run (a busy day)",
    )
    parser.add_argument(
        "--database", choices=["postgres", "sqlite"], default="postgres"
    )
    parser.add_argument(
        "--keep",
        default="",
        help="build into this SQLite file or PostgreSQL database name and leave it",
    )
    parser.add_argument(
        "--reuse",
        default="",
        help="time a database an earlier --keep built (a SQLite file or a PostgreSQL name)",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="with --keep: build, then stop"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="floor-then-verify rounds (best of)"
    )
    options = parser.parse_args()

    def keep() -> None:
        """A reused database stays."""

    drop: Any = keep
    if options.reuse:
        if options.database == "sqlite":
            url = f"sqlite:///{Path(options.reuse).resolve()}"
        else:
            base = os.environ.get(
                "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
            )
            url = urlsplit(base)._replace(path=f"/{options.reuse}").geturl()
    else:
        url, drop = _create_database(options.database, options.keep)
    load_before = os.getloadavg()
    try:
        _setup_django(url, migrate=not options.reuse)
        from django.db import connection, transaction

        from neuroclinic.ledger.models import Container, LedgerHead, Registrant
        from neuroclinic.ledger.verify import verify_registrant

        vendor = connection.vendor
        began = time.perf_counter()
        if options.reuse:
            f = {"registrant": Registrant.objects.get()}
            seq = LedgerHead.objects.get(registrant=f["registrant"]).seq
            vial_ids = list(
                Container.objects.filter(registrant=f["registrant"])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            build_note = "built earlier, reused"
        else:
            with transaction.atomic():
                f = _fixtures()
                per_vial = 1 + 3 * SESSIONS_PER_VIAL
                vial_ids = _vials(f, -(-options.entries // per_vial))
                seq, head_hash, stock, _, _ = _chain(
                    f, vial_ids, options.entries, _sink(vendor)
                )
                LedgerHead.objects.filter(registrant=f["registrant"]).update(
                    seq=seq, hash=head_hash, stock_on_hand_mg=stock
                )
                # The last vial may have stopped part-way: set its cache to what its entries say.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE ledger_container SET balance_ml = (SELECT COALESCE(SUM("
                        "container_change_ml), 0) FROM ledger_ledgerentry e WHERE "
                        "e.container_id = ledger_container.id) WHERE id = %s",
                        [vial_ids[-1]],
                    )
            build_note = f"built in {time.perf_counter() - began:.0f} s"
            if options.build_only:
                print(f"Built {seq:,} entries into {url} ({build_note})")
                return

        # The floor and verify alternate, so both see the same load.
        runs, cpus, floors, floor_cpus = [], [], [], []
        for _ in range(options.rounds):
            hash_seconds, hash_cpu, total_bytes, anchor = _floor(
                f["registrant"].pk, seq, options.day
            )
            floors.append(hash_seconds)
            floor_cpus.append(hash_cpu)
            began, began_cpu = time.perf_counter(), time.process_time()
            report = verify_registrant(f["registrant"])
            runs.append(time.perf_counter() - began)
            cpus.append(time.process_time() - began_cpu)
            assert report.ok, report.describe()
            assert report.checked == seq
        verify_seconds, verify_cpu = min(runs), min(cpus)
        hash_seconds, hash_cpu = min(floors), min(floor_cpus)
        incremental = []
        for _ in range(3):
            began = time.perf_counter()
            report = verify_registrant(f["registrant"], since=anchor)
            incremental.append(time.perf_counter() - began)
            assert report.ok, report.describe()
            assert report.checked == options.day
        incremental_seconds = min(incremental)
        queries = _balance_queries(
            f["registrant"].pk, vial_ids[len(vial_ids) // 2], vendor
        )
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SHOW server_version")
                server = f"PostgreSQL {cursor.fetchone()[0]}"
            else:
                cursor.execute("SELECT sqlite_version()")
                server = f"SQLite {cursor.fetchone()[0]}"
    finally:
        drop()

    import django

    load_after = os.getloadavg()
    rows = [
        *_machine(),
        (
            "Load average (1, 5, 15 min) before / after",
            " ".join(f"{x:.1f}" for x in load_before)
            + " / "
            + " ".join(f"{x:.1f}" for x in load_after),
        ),
        ("Database", server),
        ("Django", django.get_version()),
        (
            "Entries",
            f"{seq:,} ({len(vial_ids):,} vials, {LOTS} lots; {build_note})",
        ),
        (
            "Canonical bytes hashed",
            f"{total_bytes / 1e6:,.0f} MB ({total_bytes / seq:.0f} B/entry)",
        ),
        (
            f"hashlib alone (SHA-256, same bytes, best of {options.rounds})",
            f"{hash_seconds:.2f} s",
        ),
        (
            f"ledger verify (best of {options.rounds})",
            f"{verify_seconds:.2f} s ({seq / verify_seconds:,.0f} entries/s)",
        ),
        ("Ratio verify / hashlib (wall time)", f"{verify_seconds / hash_seconds:.1f}x"),
        (
            "CPU time of this process: verify / hashlib",
            f"{verify_cpu:.2f} s / {hash_cpu:.2f} s = {verify_cpu / hash_cpu:.1f}x",
        ),
        (
            f"Incremental verify, last {options.day:,} entries (best of 3)",
            f"{incremental_seconds:.3f} s (from a checkpoint at #{seq - options.day:,})",
        ),
        *(
            (f"Query: {label}", f"{seconds * 1000:.2f} ms")
            for label, seconds in queries
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'What':<{width}}  Result")
    print(f"{'-' * width}  {'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
