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
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

sys.path.insert(0, str(ROOT))

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

    from neuroclinic.ledger.models import Product
    from neuroclinic.ledger.verify import (
        _HASH,
        _SEQ,
        Anchor,
        _raw_rows,
        _readd,
        row_bytes,
    )
    from neuroclinic.lib.hashchain import GENESIS_HASH

    per_ml = {
        pk: int(v * 100)
        for pk, v in Product.objects.values_list("pk", "concentration_mg_per_ml")
    }
    state = Anchor(seq=0, hash=GENESIS_HASH)
    anchor = None
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
        blobs.append(row_bytes(row))
        if anchor is None:
            _readd(row, state, per_ml)
            state.seq, state.hash = row[_SEQ], row[_HASH]
            if state.seq == seq - day:
                anchor = Anchor.from_json(state.as_json())
        if len(blobs) >= BATCH:
            hash_batch()
    hash_batch()
    return seconds, cpu, total, anchor


def _backend_cpu() -> Any:
    """A function giving the CPU seconds this connection's PostgreSQL backend has used.

    On PostgreSQL the server formats the rows, and that work is not in this
    process's CPU time. Read from /proc, so only when the server runs on this
    machine and its processes are readable; otherwise None.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def seconds() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        seconds()
    except OSError:
        return None
    return seconds


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
            from benchmarks.ledger_chain import build

            if vendor == "sqlite":
                with connection.cursor() as cursor:  # a throw-away database: no fsync
                    cursor.execute("PRAGMA synchronous=OFF")
                    cursor.execute("PRAGMA cache_size=-1000000")
            with transaction.atomic():
                built = build(options.entries, vendor)
            seq = built.seq
            f = {"registrant": Registrant.objects.get()}
            vial_ids = list(
                Container.objects.filter(registrant=f["registrant"])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(built.kinds.items()))
            print(
                f"{built.days:,} clinic days, {built.sessions:,} sessions, "
                f"{built.receipts:,} receipts, {built.counts:,} count adjustments; {kinds}"
            )
            build_note = f"built in {time.perf_counter() - began:.0f} s"
            if options.build_only:
                print(f"Built {seq:,} entries into {url} ({build_note})")
                return

        # The floor and verify alternate, so both see the same load.
        runs, cpus, floors, floor_cpus, servers = [], [], [], [], []
        backend_cpu = _backend_cpu()
        for _ in range(options.rounds):
            hash_seconds, hash_cpu, total_bytes, anchor = _floor(
                f["registrant"].pk, seq, options.day
            )
            floors.append(hash_seconds)
            floor_cpus.append(hash_cpu)
            began_server = backend_cpu() if backend_cpu else 0.0
            began, began_cpu = time.perf_counter(), time.process_time()
            report = verify_registrant(f["registrant"])
            runs.append(time.perf_counter() - began)
            cpus.append(time.process_time() - began_cpu)
            if backend_cpu:
                servers.append(backend_cpu() - began_server)
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
            f"{seq:,} ({len(vial_ids):,} vials, 3 products, 3 safes; {build_note})",
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
        *(
            [
                (
                    "Server backend CPU during verify (best of "
                    f"{options.rounds}, from /proc)",
                    f"{min(servers):.2f} s",
                ),
                (
                    "CPU, this process + server backend: verify / hashlib",
                    f"{verify_cpu + min(servers):.2f} s / {hash_cpu:.2f} s = "
                    f"{(verify_cpu + min(servers)) / hash_cpu:.1f}x",
                ),
            ]
            if servers
            else []
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
