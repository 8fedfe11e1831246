"""HL7 v2 messages per second through the MLLP listener, into running sessions.

    python benchmarks/hl7.py [--database sqlite|postgres|both] [--rooms 10]
                             [--messages 300] [--timeout 900]

For each engine: a scratch database (a temporary SQLite file, or a fresh PostgreSQL
database nc_bench_hl7_<pid>), set up by benchmarks/infusions.py's set-up (one location,
N infusion rooms, a monitor in each, a patient checked in to each room through the
real actions). `neuroclinic mllp` then listens on loopback in its own process, as it
is deployed, and this process (no Django) runs the synthetic monitors of
`neuroclinic/interop/hl7/simulate.py`, each waiting for its ACK before sending the
next message, as monitors do:

1. one monitor, as fast as its ACKs come back (--messages messages): the rate one
   connection gets, and the ACK latency;
2. every room's monitor at once, as fast as ACKs come back (--messages each): the
   listener's throughput with N connections.

Every message is a full ORU^R01 (eight OBX); an AA means its reading was stored on
the room's session (validated, alarms checked, audited) and the message kept. The
scratch database is removed at the end, also on failure.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and this file
# would then be the package of the same name (`fhir.resources`, `hl7`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

from benchmarks.infusions import BIN, DEFAULT_PG_URL, _pg, free_port  # noqa: E402
from benchmarks.patient_search import machine_info, percentile  # noqa: E402
from neuroclinic.interop.hl7.simulate import Result, simulate  # noqa: E402


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("neuroclinic mllp exited before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("neuroclinic mllp did not listen in time")


def summary(result: Result) -> dict[str, Any]:
    ms = [t * 1000 for t in result.latencies]
    return {
        "sent": result.sent,
        "acks": dict(result.acks),
        "seconds": result.seconds,
        "per_second": result.rate,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
    }


def run_engine(engine: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    pg_database = None
    listener: subprocess.Popen[bytes] | None = None
    try:
        if engine == "sqlite":
            database_url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        else:
            pg_database = f"nc_bench_hl7_{os.getpid()}"
            _pg(args.pg_url, f"CREATE DATABASE {pg_database}")
            database_url = f"{args.pg_url}/{pg_database}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {
            "DJANGO_SETTINGS_MODULE": "neuroclinic.settings",
            "DATABASE_URL": database_url,
            "NEUROCLINIC_VAR_DIR": str(scratch / "var"),
            "DEBUG": "False",
            "SECRET_KEY": "hl7-benchmark-only-secret-key-0123456789-abcdefghijklmnop",
            "LOG_LEVEL": "WARNING",
            "PUBLIC_BASE_URL": "http://127.0.0.1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        setup = scratch / f"{engine}-setup.json"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "infusions.py"),
                "--child",
                str(setup),
                "--rooms",
                str(args.rooms),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=args.timeout,
        )
        devices = [s["device"] for s in json.loads(setup.read_text())["sessions"]]
        port = free_port()
        listener = subprocess.Popen(
            [str(BIN / "neuroclinic"), "mllp", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(port, listener, 120)
        load = [os.getloadavg()[0]]
        one = simulate(
            "127.0.0.1", port, devices[:1], count=args.messages, rate=0, seed=1
        )
        load.append(os.getloadavg()[0])
        every = simulate(
            "127.0.0.1", port, devices, count=args.messages, rate=0, seed=2
        )
        load.append(os.getloadavg()[0])
        return {
            "engine": engine,
            "rooms": len(devices),
            "one_monitor": summary(one),
            "every_monitor": summary(every),
            "load": load,
        }
    finally:
        if listener is not None:
            listener.terminate()
            listener.wait(timeout=30)
        if pg_database is not None:
            _pg(args.pg_url, f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| Engine | Monitors | Messages | AA / AE / AR | Messages/s | ACK p50 / p95 ms | Load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for label, key, at in (
            ("1", "one_monitor", 0),
            (str(r["rooms"]), "every_monitor", 1),
        ):
            s = r[key]
            acks = s["acks"]
            lines.append(
                f"| {r['engine']} | {label} | {s['sent']} | "
                f"{acks.get('AA', 0)} / {acks.get('AE', 0)} / {acks.get('AR', 0)} | "
                f"{s['per_second']:.1f} | {s['p50_ms']:.0f} / {s['p95_ms']:.0f} | "
                f"{r['load'][at]:.1f} to {r['load'][at + 1]:.1f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="sqlite"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--messages", type=int, default=300, help="per monitor")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    if not 1 <= args.rooms <= 100 or args.messages < 1:
        parser.error("--rooms must be 1-100 and --messages at least 1")
    engines = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    print("Machine")
    for key, value in machine_info(args.pg_url if "postgres" in engines else None):
        print(f"  {key:<11} {value}")
    scratch = Path(tempfile.mkdtemp(prefix="nc-bench-hl7-"))
    results = []
    try:
        for engine in engines:
            print(f"{engine}: setting up {args.rooms} rooms...", file=sys.stderr)
            results.append(run_engine(engine, args, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(report(results))
    print(f"\n{os.cpu_count()} CPUs; load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
