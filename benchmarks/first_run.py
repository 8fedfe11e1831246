"""How long a new database takes to be ready under `make run` (issue 18, item 10: under 30 s).

    python benchmarks/first_run.py [--var-dir DIR] [--keep] [--sequential | --separate]

Runs the steps `make run` runs on a new SQLite database, in the same order and
with the same settings (DEBUG=False, a secret-key file), each as its own
process, and prints the seconds each took and the total (wall clock). As `make
run` does, the static files are collected beside the other steps (they need no
database), from the start; the demo skips the system checks migrate has just
run. The steps beside the chain run at a lower priority (`nice -n 10`), as in
`make run`. --sequential runs the steps one after another as `make run` once did (with
an `optimize` before the demo, which the demo command runs again at its end). Everything goes to a
fresh var folder (a temporary one unless --var-dir names an empty folder), so
the developer's var/ and its database are never touched. The static files are
collected cold, as on a first run. Prints the machine's load, since the
wall clock depends on it, and each step's CPU time (user + system), which
depends on it much less (a step that waits for a core is not charged for it).
"""

import argparse
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PREPARE_DEMO = ("prepare --demo-if-new", ["prepare", "--demo-if-new"])
MIGRATE = ("migrate", ["migrate", "--no-input", "-v0"])
CACHE_TABLE = ("createcachetable", ["createcachetable"])
OPTIMIZE = ("optimize", ["optimize", "-v0"])
DEMO = ("demo", ["demo"])
DEMO_UNCHECKED = ("demo", ["demo", "--skip-checks"])
STATIC = ("collectstatic", ["collectstatic", "--no-input", "-v0"])
Step = tuple[str, list[str]]
# `make run`'s steps on a new database (Makefile, target `run`): the first list
# starts at once and runs beside the second, whose steps run one after another.
MAKE_RUN: tuple[list[Step], list[Step]] = (
    [STATIC],
    [PREPARE_DEMO],
)
# `make run`'s steps before `prepare` (one process for migrate, the cache table
# and the demo, with the system checks beside it): --separate.
SEPARATE: tuple[list[Step], list[Step]] = (
    [STATIC],
    [MIGRATE, CACHE_TABLE, DEMO_UNCHECKED],
)
SEQUENTIAL: tuple[list[Step], list[Step]] = (
    [],
    [MIGRATE, CACHE_TABLE, OPTIMIZE, DEMO, STATIC],
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, default=None)
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary var folder"
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="the steps one after another, as make run did before",
    )
    parser.add_argument(
        "--separate",
        action="store_true",
        help="migrate, the cache table and the demo as three processes, as make run did "
        "before the prepare command",
    )
    args = parser.parse_args()
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="nc-first-run-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    if any(var_dir.iterdir()):
        sys.exit(f"{var_dir} is not empty: a first run needs an empty var folder.")
    key_file = var_dir / "secret-key"
    key_file.write_text(secrets.token_urlsafe(50))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "STATIC_ROOT", "DJANGO_SETTINGS_MODULE")
    } | {
        "NEUROCLINIC_VAR_DIR": str(var_dir),
        "DEBUG": "False",
        "HTTPS": "False",
        "SECRET_KEY_FILE": str(key_file),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "PYTHONPATH": str(ROOT),
    }
    print(f"var folder: {var_dir}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average before "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    cpu_total = 0.0
    beside, chain = (
        SEQUENTIAL if args.sequential else SEPARATE if args.separate else MAKE_RUN
    )
    started = time.monotonic()

    def launch(
        step: Step, *, nice: bool = False
    ) -> tuple[str, float, subprocess.Popen[bytes]]:
        name, command = step
        # `make run` starts the steps beside the chain with `nice -n 10`.
        process = subprocess.Popen(
            [
                *(["nice", "-n", "10"] if nice else []),
                sys.executable,
                "-m",
                "neuroclinic",
                *command,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return name, time.monotonic(), process

    running = [launch(step, nice=True) for step in beside]
    queue = list(chain)
    current = launch(queue.pop(0)) if queue else None
    if current:
        running.append(current)
    while running:  # each step's own time, whichever ends first
        time.sleep(0.05)
        for step in list(running):
            name, began, process = step
            # wait4, not poll: it also gives the step's CPU time, which says more
            # than the wall clock on a machine that is busy with other work.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == 0:
                continue
            running.remove(step)
            code = process.returncode = os.waitstatus_to_exitcode(status)
            if code != 0:
                sys.exit(f"{name} failed ({code}); run it alone to see why.")
            cpu = usage.ru_utime + usage.ru_stime
            cpu_total += cpu
            side = "  (beside the others)" if step is not current else ""
            print(
                f"{name:<18} {time.monotonic() - began:7.1f} s   CPU {cpu:6.1f} s{side}",
                flush=True,
            )
            if step is current:
                current = launch(queue.pop(0)) if queue else None
                if current:
                    running.append(current)
    total = time.monotonic() - started
    print(f"{'total':<18} {total:7.1f} s   CPU {cpu_total:6.1f} s")
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.keep and args.var_dir is None:
        shutil.rmtree(var_dir)


if __name__ == "__main__":
    main()
