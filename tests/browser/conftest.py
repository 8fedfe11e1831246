"""A real Neuroclinic for browser tests: gunicorn serving a freshly migrated demo clinic.

The server runs in its own process against its own database (a temporary
SQLite file, or a fresh PostgreSQL database when DATABASE_URL points at
PostgreSQL), with DEBUG off and collected static files, as `make run` serves
it. Playwright drives Debian's Chromium (`scripts/install-chromium`).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "var" / "test-artifacts"


# Real places for the browser clinic, US zones first (a tie goes to the earlier one). Their
# offsets are read from zoneinfo at the moment of the run, so a zone that keeps summer time
# (America/Chicago, America/New_York) counts with the offset it has that day; together the
# whole-hour offsets they have in any season cover every hour from UTC-11 to UTC+14, each by
# a zone with no summer time among them.
MORNING_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Pacific/Pitcairn",
    "Pacific/Gambier",
    "America/Puerto_Rico",
    "Pacific/Pago_Pago",
    "America/Regina",
    "America/Bogota",
    "America/Sao_Paulo",
    "America/Noronha",
    "Atlantic/Cape_Verde",
    "Atlantic/Reykjavik",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Pacific/Noumea",
    "Pacific/Fiji",
    "Pacific/Tongatapu",
    "Pacific/Kiritimati",
)
MID_MORNING_MINUTES = 9 * 60 + 30


def mid_morning_zone(now: datetime | None = None) -> str:
    """A real place's zone in which it is between 09:00 and 10:00 now.

    The journeys book and check in "today" at the clinic, so they must not depend on
    the hour the suite runs: at 23:00 in Illinois no infusion fits before midnight, and
    a run that crosses midnight would find the demo's "today" gone. The demo clinic's
    sites are put in this zone for the browser run (`demo --time-zone`); the suite
    reaches its browser tests within the hour, inside the clinic's working day. The
    zone is a city's, not a fixed-offset Etc/GMT zone, because staff pages name it
    ("Times are America/Chicago") and the screenshots in docs/ show that line.
    """
    now = now or datetime.now(UTC)

    def distance(name: str) -> int:
        local = now.astimezone(ZoneInfo(name))
        return abs(local.hour * 60 + local.minute - MID_MORNING_MINUTES)

    return min(MORNING_ZONES, key=distance)  # the first of equals: list order


# Chosen once, when the tests are collected, so every browser test agrees on it.
DEMO_ZONE = mid_morning_zone()


@dataclass
class LiveClinic:
    url: str
    env: dict[str, str]
    # The server's standard output: the console email backend writes mail there.
    stdout: Path | None = None

    def sent_mail(self) -> str:
        return self.stdout.read_text() if self.stdout is not None else ""

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "neuroclinic"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"neuroclinic {' '.join(args)} exited {result.returncode}: "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        return result.stdout.strip()

    def totp(self, username: str) -> str:
        """A code the server will accept for this user now, without waiting.

        The code of the device's current time step, as the user's app shows it
        (and the `totp` command prints); or, when that step was already used
        (the server refuses any step up to the last one it accepted: replay
        protection), the next step's code, as an app whose clock runs a step
        fast shows it. The server accepts one step either side of the device's
        drift, so the next step is always inside its window; and the server
        never accepts a used step again, so this never hands out a spent code.
        The tests used to wait up to 30 s for the next step instead. Replay
        refusal itself is tested in accounts/tests (docs/decisions.md,
        "citime18h").
        """
        output = self.manage("shell", "-c", _UNUSED_CODE.format(username=username))
        return output.splitlines()[-1]


# Run in the live clinic's environment by LiveClinic.totp: the code of the later
# of the device's current step and the step after its last accepted one.
_UNUSED_CODE = """
import time
from django_otp.oath import hotp
from neuroclinic.accounts.models import Authenticator
d = Authenticator.objects.filter(user__username={username!r}, confirmed=True).get()
now_t = (int(time.time()) - d.t0) // d.step + d.drift
print(f"{{hotp(d.bin_key, max(now_t, d.last_t + 1), digits=d.digits):0{{d.digits}}d}}")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _postgres_admin(url: str, sql: str) -> None:
    parts = urlsplit(url)
    subprocess.run(
        [
            "psql",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def live_clinic() -> Iterator[LiveClinic]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: run scripts/install-chromium (make test does)."
        )
    workdir = Path(tempfile.mkdtemp(prefix="nc-browser-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))
    }
    base_url = os.environ.get("DATABASE_URL", "")
    pg_name = None
    if base_url.startswith("postgres"):
        pg_name = f"nc_browser_{os.getpid()}"
        _postgres_admin(base_url, f"CREATE DATABASE {pg_name}")
        parts = urlsplit(base_url)
        env["DATABASE_URL"] = parts._replace(path=f"/{pg_name}").geturl()
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'browser.sqlite3'}"
    env |= {
        "DEBUG": "False",
        "HTTPS": "False",
        "SECRET_KEY": "browser-test-only-secret-key-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "NEUROCLINIC_VAR_DIR": str(workdir),
    }
    port = _free_port()
    env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    clinic = LiveClinic(
        url=f"http://127.0.0.1:{port}", env=env, stdout=workdir / "server.out"
    )
    server = None
    # The static files need no database: collected beside `prepare`, at a lower
    # priority, as `make run` does, so the process that needs the database keeps a core.
    static = subprocess.Popen(
        [
            "nice",
            "-n",
            "10",
            str(BIN / "neuroclinic"),
            "collectstatic",
            "--no-input",
            "-v0",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "collectstatic.log").open("w"),
    )
    try:
        # As `make run`: the checks, migrate, the cache table and the demo in one process.
        clinic.manage("prepare", "--demo", "--patients", "40", "--time-zone", DEMO_ZONE)
        if static.wait() != 0:
            raise AssertionError(
                f"neuroclinic collectstatic exited {static.returncode}: "
                f"{(workdir / 'collectstatic.log').read_text().strip()}"
            )
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "neuroclinic.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                # The first request loads every view: slower than gunicorn's 30 s on a
                # machine that is also running other suites.
                "--timeout",
                "120",
                # Its own control socket: the SQLite and PostgreSQL suites run side by
                # side in CI, and gunicorn's default is one per user (~/.gunicorn).
                "--control-socket",
                str(workdir / "gunicorn.ctl"),
            ],
            env=env,
            cwd=ROOT,
            stdout=(workdir / "server.out").open("w"),
            stderr=(workdir / "server.log").open("w"),
        )
        deadline = (
            time.monotonic() + 90
        )  # a loaded 2-core CI machine is slow to boot it
        while True:
            try:
                with urllib.request.urlopen(
                    f"{clinic.url}/healthz", timeout=2
                ) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((workdir / "server.log").read_text()) from None
                time.sleep(0.2)
        yield clinic
    finally:
        if static.poll() is None:
            static.kill()
            static.wait()
        if server is not None:
            # gunicorn waits for busy workers on TERM; a loaded CI machine can take
            # longer than a quiet one, and a server that will not stop is killed.
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if pg_name is not None:
            _postgres_admin(base_url, f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test; any console error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location
            errors.append(
                f"{message.text} (at {where.get('url')}:{where.get('lineNumber')})"
            )

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    distinct = sorted(set(errors))
    assert errors == [], f"{len(errors)} JavaScript errors in the browser: {distinct}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
