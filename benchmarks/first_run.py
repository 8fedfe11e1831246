"""How long a new database takes to be ready under `make run` (issue 18, item 10: under 30 s).

    python benchmarks/first_run.py [--var-dir DIR] [--keep] [--sequential]

Runs the steps `make run` runs on a new SQLite database, in the same order and
with the same settings (DEBUG=False, a secret-key file), each as its own
process, and prints the seconds each took and the total (wall clock). As `make
run` does, the static files are collected while the demo loads; --sequential
runs the steps one after another as `make run` did before (with an `optimize`
before the demo, which the demo command runs again at its end). Everything goes to a
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

MIGRATE = ("migrate", ["migrate", "--no-input", "-v0"])
CACHE_TABLE = ("createcachetable", ["createcachetable"])
OPTIMIZE = ("optimize", ["optimize", "-v0"])
DEMO = ("demo", ["demo"])
STATIC = ("collectstatic", ["collectstatic", "--no-input", "-v0"])
# `make run`'s steps on a new database (Makefile, target `run`): one list is run
# one step after another; the steps inside a tuple run at the same time.
MAKE_RUN: list[list[tuple[str, list[str]]]] = [[MIGRATE], [CACHE_TABLE], [DEMO, STATIC]]
SEQUENTIAL: list[list[tuple[str, list[str]]]] = [
    [MIGRATE],
    [CACHE_TABLE],
    [OPTIMIZE],
    [DEMO],
    [STATIC],
]


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
    total = cpu_total = 0.0
    for group in SEQUENTIAL if args.sequential else MAKE_RUN:
        started = time.monotonic()
        running = [
            (
                name,
                time.monotonic(),
                subprocess.Popen(
                    [sys.executable, "-m", "neuroclinic", *command],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
            )
            for name, command in group
        ]
        while running:  # each step's own time, whichever ends first
            time.sleep(0.1)
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
                print(
                    f"{name:<18} {time.monotonic() - began:7.1f} s   CPU {cpu:6.1f} s",
                    flush=True,
                )
        seconds = time.monotonic() - started
        total += seconds
        if len(group) > 1:
            print(f"{'  (side by side)':<18} {seconds:7.1f} s wall clock", flush=True)
    print(f"{'total':<18} {total:7.1f} s   CPU {cpu_total:6.1f} s")
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.keep and args.var_dir is None:
        shutil.rmtree(var_dir)


if __name__ == "__main__":
    main()
