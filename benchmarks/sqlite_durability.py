"""What `PRAGMA synchronous=FULL` costs the default SQLite deployment.

    .venv/bin/python benchmarks/sqlite_durability.py [--transactions 2000] [--dir PATH]

The default deployment keeps the DEA ledger in SQLite (WAL mode). With
synchronous=NORMAL a commit is durable only at the next checkpoint: a power cut
can lose the last transactions, which a controlled-substance record may not do.
FULL syncs the WAL on every commit. This script times the write the app makes
most, an audit append (BEGIN IMMEDIATE; read the chain head; insert an event
of about 600 bytes; move the head; COMMIT), in a scratch database file under
--dir (default: a temporary directory beside the repository, on the same disk
as var/, not a tmpfs), with NORMAL and with FULL, alternating in rounds so both
see the same disk. It prints commits per second, the mean commit time and the
ratio, and the machine. Nothing in var/ is touched.
"""

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENT = json.dumps(
    {"action": "infusions.vitals_recorded", "data": {"x": "y" * 480}, "seq": 0}
)


def open_database(path: Path, synchronous: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("PRAGMA busy_timeout=5000")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS head (name TEXT PRIMARY KEY, seq INTEGER, hash TEXT)"
    )
    connection.execute(
        "CREATE TABLE IF NOT EXISTS event (seq INTEGER PRIMARY KEY, body TEXT, hash TEXT)"
    )
    connection.execute("INSERT OR IGNORE INTO head VALUES ('audit', 0, '')")
    return connection


def append(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    (seq,) = connection.execute("SELECT seq FROM head WHERE name='audit'").fetchone()
    connection.execute(
        "INSERT INTO event VALUES (?, ?, ?)", (seq + 1, EVENT, f"{seq + 1:064x}")
    )
    connection.execute(
        "UPDATE head SET seq=?, hash=? WHERE name='audit'", (seq + 1, f"{seq + 1:064x}")
    )
    connection.execute("COMMIT")


def run(path: Path, synchronous: str, transactions: int) -> float:
    """Seconds for `transactions` appends."""
    connection = open_database(path, synchronous)
    for _ in range(20):  # warm-up
        append(connection)
    started = time.perf_counter()
    for _ in range(transactions):
        append(connection)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        ("platform", platform.platform()),
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("load average", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=ROOT.parent)
    args = parser.parse_args()
    filesystem = (
        subprocess.run(["df", "-T", str(args.dir)], capture_output=True, text=True)
        .stdout.splitlines()[-1]
        .split()[1]
    )
    timings: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="nc-bench-") as scratch:
        for round_number in range(args.rounds):
            for synchronous in ("NORMAL", "FULL"):
                path = Path(scratch) / f"{synchronous}-{round_number}.sqlite3"
                timings[synchronous].append(run(path, synchronous, args.transactions))
    print(
        f"SQLite durability: {args.transactions} audit appends x {args.rounds} rounds"
    )
    for key, value in [*machine(), ("filesystem", filesystem)]:
        print(f"  {key:13} {value}")
    print()
    print("| synchronous | commits/s (median) | ms per commit | vs NORMAL |")
    print("|---|---|---|---|")
    normal = statistics.median(timings["NORMAL"])
    for synchronous in ("NORMAL", "FULL"):
        seconds = statistics.median(timings[synchronous])
        print(
            f"| {synchronous} | {args.transactions / seconds:,.0f} "
            f"| {1000 * seconds / args.transactions:.3f} | {seconds / normal:.2f}x |"
        )


if __name__ == "__main__":
    main()
