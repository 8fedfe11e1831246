"""How long `neuroclinic serve` takes to answer, on a first start and on a restart.

    python benchmarks/serve_startup.py --var-dir DIR [--database-url URL] [--runs 2]

Uses an existing, migrated database (the demo clinic is a good one) and the
var folder that goes with it. The first start is made cold: the start-up state
(var/startup-state.json) and the collected static files are removed, so it
migrates (a no-op on a migrated database, but it checks), creates the cache
table, refreshes planner statistics and collects and compresses every static
file, as a first deployment does (with STATIC_ROOT pointing at files an image
build collected, that step is skipped as in a container). The later starts
find nothing changed. Each
time is from launching the process to the first 200 from /healthz, with
DEBUG=False as in production. Prints a table and the machine.
"""

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def start_once(env: dict[str, str], log: Path) -> tuple[float, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "neuroclinic", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not healthy(url):
            if process.poll() is not None or time.monotonic() - started > 900:
                raise RuntimeError(log.read_text())
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    ran = [line for line in log.read_text().splitlines() if line.endswith("...")]
    return elapsed, ", ".join(
        line.rstrip(".") for line in ran
    ) or "nothing (all unchanged)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", required=True, type=Path)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ) | {
        "NEUROCLINIC_VAR_DIR": str(args.var_dir),
        "DEBUG": "False",
        "HTTPS": "False",
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "benchmark-only-secret-key-0123456789-abcdefghijklmnop"
        ),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    (args.var_dir / "startup-state.json").unlink(missing_ok=True)
    shutil.rmtree(args.var_dir / "static", ignore_errors=True)
    rows = []
    for run in range(1, args.runs + 1):
        seconds, work = start_once(env, args.var_dir / f"serve-{run}.log")
        rows.append((run, seconds, work))
    print("| Start | To first /healthz 200 | Work done before serving |")
    print("|---|---|---|")
    for run, seconds, work in rows:
        label = "first (cold)" if run == 1 else f"restart {run - 1}"
        print(f"| {label} | {seconds:.1f} s | {work} |")
    engine = env.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    print(
        f"\n{engine}; {os.cpu_count()} CPUs; {platform.platform()}; Python "
        f"{platform.python_version()}; load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
