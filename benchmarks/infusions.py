"""The monitor feed and the nurse-station board under a 20-room load, against real gunicorn.

    python benchmarks/infusions.py [--database sqlite|postgres|both] [--rooms 20]
                                   [--seconds 30] [--burst-seconds 15] [--workers 4]

For each engine: a scratch database (a temporary SQLite file, or a fresh PostgreSQL
database nc_bench_infusions_<pid>) is migrated and given one location with N infusion
rooms, a monitor each, and N patients checked in (through the real actions). gunicorn
serves it on loopback with DEBUG off, as `make run` does. This process (a second
process, without Django) then:

1. steady load: every room's monitor sends one reading a second to
   POST /api/infusions/sessions/{id}/vitals, for --seconds;
2. board latency, during the steady load: the first room's readings each carry a heart
   rate not used in the last minute, and a board client polls the board fragment every
   second, as htmx does; latency = from sending a reading to the first poll that shows
   it (a reading replaced by the next before any poll shows it is counted as not shown);
3. burst: every room sends as fast as it can, for --burst-seconds (capped at
   --burst-max readings per room), to show the headroom.

Everything is bounded in time (--timeout per engine) and count; the scratch database
and files are removed at the end, also on failure. See benchmarks/INFUSIONS.md.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and benchmarks/fhir.py
# would then be imported as the package `fhir` (fhir.resources) when Django starts.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
BIN = Path(sys.executable).parent


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# --- the child: scratch data, made with Django -------------------------------------------


def setup_child(rooms: int, out: Path) -> None:
    """Migrate, and make a location with `rooms` rooms, monitors and checked-in patients."""
    import django

    django.setup()
    from datetime import date, timedelta

    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY

    from neuroclinic.accounts import actions as account_actions
    from neuroclinic.accounts.models import Authenticator, User
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import Device, Location, Organization, Room
    from neuroclinic.infusions.actions import session_flow
    from neuroclinic.intake.models import (
        ConsentDocument,
        ConsentSignature,
        EligibilityDecision,
    )
    from neuroclinic.patients import actions as patient_actions
    from neuroclinic.patients.models import Patient
    from neuroclinic.treatment.actions.orders import _sign_order, protocol_prn
    from neuroclinic.treatment.actions.plans import create_plan
    from neuroclinic.treatment.actions.protocols import install_default_protocols
    from neuroclinic.treatment.defaults import ProtocolKind

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    password = secrets.token_urlsafe(16)
    organization = Organization.objects.create(name="Benchmark clinic", mrn_prefix="BM")
    location = Location.objects.create(
        organization=organization,
        name="Benchmark site",
        address_line1="1 Example Way",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="America/Chicago",
    )

    def staff(username: str, role: Role) -> User:
        user = User(
            username=username, organization=organization, first_name=username.title()
        )
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        Authenticator.objects.create(user=user, name="bench", confirmed=True)
        return user

    director = staff("director", Role.MEDICAL_DIRECTOR)
    prescriber = staff("prescriber", Role.PRESCRIBER)
    nurse = staff("nurse", Role.NURSE)
    protocols = {
        p.kind: p
        for p in install_default_protocols(organization, by=director, password=password)
    }
    documents: dict[str, ConsentDocument] = {
        kind: ConsentDocument.objects.create(
            organization=organization,
            kind=kind,
            version=1,
            title=f"{kind} v1",
            body="Text.",
        )
        for kind in ConsentDocument.Kind
    }
    sessions = []
    for n in range(rooms):
        room = Room.objects.create(
            location=location, name=f"Room {n + 1:02d}", kind=Room.Kind.INFUSION
        )
        monitor = Device.objects.create(
            location=location,
            room=room,
            kind=Device.Kind.MONITOR,
            name=f"Monitor {n + 1}",
            serial_number=f"BM{n:03d}",
        )
        patient = patient_actions.register_patient(
            organization,
            by=None,
            family_name=f"Benchmarkova{n}",
            given_name="Synthetic",
            birth_date=date(1980, 1, 1) + timedelta(days=n * 97),
            sex_at_birth=Patient.SexAtBirth.MALE,
        )
        patient.prescriber = prescriber
        patient.save(update_fields=["prescriber"])
        EligibilityDecision.objects.create(
            organization=organization,
            patient=patient,
            outcome=EligibilityDecision.Outcome.ELIGIBLE,
            rules_version="bench",
            patient_message="-",
            decided_by=prescriber,
        )
        for kind in ("ketamine", "privacy", "financial"):
            ConsentSignature.objects.create(
                organization=organization,
                patient=patient,
                document=documents[kind],
                typed_name=patient.legal_name,
                signature_image="intake/signatures/x.png",
                signed_text="Text.",
                text_sha256="0" * 64,
                channel=ConsentSignature.Channel.PORTAL,
            )
        plan = create_plan(
            patient,
            induction_protocol=protocols[ProtocolKind.INDUCTION],
            booster_protocol=protocols[ProtocolKind.BOOSTER],
            indication="Benchmark",
            by=prescriber,
        )
        protocol = protocols[ProtocolKind.INDUCTION]
        _sign_order(
            plan,
            kind=ProtocolKind.INDUCTION,
            by=prescriber,
            dose_mg_per_kg=protocol.dose_mg_per_kg,
            duration_minutes=protocol.duration_minutes,
            dosing_weight_rule=protocol.dosing_weight_rule,
            max_dose_mg_per_kg=protocol.max_dose_mg_per_kg,
            max_dose_mg=protocol.max_dose_mg,
            diluent_volume_ml=protocol.diluent_volume_ml,
            rate_min_percent=protocol.rate_min_percent,
            rate_max_percent=protocol.rate_max_percent,
            titration_instructions="",
            prn=protocol_prn(protocol),
        )
        session = session_flow.check_in(patient, room=room, by=nurse, schedule=False)
        sessions.append(
            {
                "session": str(session.uuid),
                "device": str(monitor.uuid),
                "room": room.name,
            }
        )
    _, token = account_actions.create_api_token(nurse, name="benchmark", by=nurse)
    client = Client()
    client.force_login(nurse)
    browser_session = client.session
    device = Authenticator.objects.get(user=nurse)
    browser_session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    browser_session.save()
    out.write_text(
        json.dumps(
            {
                "sessions": sessions,
                "token": token,
                "cookie": client.cookies["sessionid"].value,
                "location": str(location.uuid),
                "made_at": timezone.now().isoformat(),
            }
        )
    )


# --- the driver: HTTP only, no Django -----------------------------------------------------


@dataclass
class Tally:
    sent: int = 0
    accepted: int = 0
    refused: int = 0  # any answer but 200 with accepted >= 1
    errors: int = 0  # no answer
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latency: float, accepted: int, ok: bool) -> None:
        with self.lock:
            self.sent += 1
            self.accepted += accepted
            self.refused += 0 if ok else 1
            self.latencies.append(latency)


def reading(device: str, heart_rate: int, n: int) -> dict[str, Any]:
    return {
        "device": device,
        "taken_at": datetime.now(tz=UTC).isoformat(),
        "systolic_mmhg": 120 + n % 9,
        "diastolic_mmhg": 78 + n % 5,
        "heart_rate_bpm": heart_rate,
        "spo2_percent": 97 + n % 3,
        "respiratory_rate_per_min": 14,
    }


def post_reading(
    base: str, token: str, session: str, body: dict[str, Any]
) -> tuple[float, int, bool]:
    parts = urllib.parse.urlsplit(base)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=10
    )
    try:
        connection.request(
            "POST",
            f"/api/infusions/sessions/{session}/vitals",
            body=json.dumps(body),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    accepted = 0
    if response.status == 200:
        accepted = int(json.loads(payload).get("accepted", 0))
    return elapsed, accepted, response.status == 200 and accepted >= 1


def get_board(base: str, cookie: str, location: str) -> tuple[float, str]:
    parts = urllib.parse.urlsplit(base)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=10
    )
    try:
        connection.request(
            "GET",
            f"/infusions/board/{location}/rooms",
            headers={"Cookie": f"sessionid={cookie}", "HX-Request": "true"},
        )
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"board answered {response.status}")
    return time.perf_counter() - started, body


def card_heart_rate(html: str, room: str) -> str | None:
    start = html.find(f'data-room="{room}"')
    if start < 0:
        return None
    card = html[start : html.find("</li>", start)]
    found = re.findall(r"<dt>HR</dt><dd>(\d+)</dd>", card)
    return found[0] if found else None


def steady_sender(
    base: str,
    token: str,
    room: dict[str, str],
    tally: Tally,
    until: float,
    index: int,
    sent_log: dict[int, float] | None = None,
) -> None:
    """One room's monitor: a reading every second. With `sent_log`, each reading carries a
    heart rate not used in the last minute, logged with the time it was sent."""
    n = 0
    next_at = (
        time.perf_counter() + (index % 10) / 10
    )  # spread the rooms over the second
    while True:
        now = time.perf_counter()
        if now >= until:
            return
        if now < next_at:
            time.sleep(next_at - now)
            continue
        heart_rate = 60 + n % 60 if sent_log is not None else 70 + n % 9
        if sent_log is not None:
            sent_log[heart_rate] = time.perf_counter()
        try:
            latency, accepted, ok = post_reading(
                base, token, room["session"], reading(room["device"], heart_rate, n)
            )
            tally.add(latency, accepted, ok)
        except OSError:
            with tally.lock:
                tally.sent += 1
                tally.errors += 1
        n += 1
        next_at += 1.0


def burst_sender(
    base: str, token: str, room: dict[str, str], tally: Tally, until: float, cap: int
) -> None:
    for n in range(cap):
        if time.perf_counter() >= until:
            return
        try:
            latency, accepted, ok = post_reading(
                base, token, room["session"], reading(room["device"], 70 + n % 9, n)
            )
            tally.add(latency, accepted, ok)
        except OSError:
            with tally.lock:
                tally.sent += 1
                tally.errors += 1


@dataclass
class BoardResult:
    latencies: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)
    missed: int = 0


def board_watch(
    base: str,
    cookie: str,
    location: str,
    room: str,
    sent_log: dict[int, float],
    until: float,
    result: BoardResult,
) -> None:
    """Poll the board fragment every second, as htmx does, and time each reading of the
    watched room from its send to the first poll that shows it. A reading replaced by
    the next one between two polls is never on screen: counted as `missed`."""
    shown: dict[int, float] = {}  # heart rate -> the send time it was shown for
    next_poll = time.perf_counter() + 1.0
    while time.perf_counter() < until:
        time.sleep(max(0.0, next_poll - time.perf_counter()))
        next_poll += 1.0
        took, html = get_board(base, cookie, location)
        result.render.append(took)
        seen_at = time.perf_counter()
        value = card_heart_rate(html, room)
        if value is None:
            continue
        sent = sent_log.get(int(value))
        if sent is None or shown.get(int(value)) == sent:
            continue
        shown[int(value)] = sent
        result.latencies.append(seen_at - sent)
    result.missed = max(0, len(set(sent_log.values())) - len(result.latencies))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_engine(engine: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    pg_database = None
    server: subprocess.Popen[bytes] | None = None
    try:
        if engine == "sqlite":
            database_url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        else:
            pg_database = f"nc_bench_infusions_{os.getpid()}"
            _pg(args.pg_url, f"CREATE DATABASE {pg_database}")
            database_url = f"{args.pg_url}/{pg_database}"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {
            "DJANGO_SETTINGS_MODULE": "neuroclinic.settings",
            "DATABASE_URL": database_url,
            "NEUROCLINIC_VAR_DIR": str(scratch / "var"),
            "DEBUG": "False",
            "HTTPS": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
        setup = scratch / f"{engine}-setup.json"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
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
        data = json.loads(setup.read_text())
        setup_s = time.perf_counter() - started
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "neuroclinic.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(scratch / f"{engine}-server.log").open("w"),
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(
                        (scratch / f"{engine}-server.log").read_text()
                    ) from None
                time.sleep(0.2)
        rooms = data["sessions"]
        get_board(base, data["cookie"], data["location"])  # warm up

        steady = Tally()
        board = BoardResult()
        sent_log: dict[int, float] = {}
        until = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(
                target=steady_sender,
                args=(base, data["token"], room, steady, until, i),
                kwargs={"sent_log": sent_log if i == 0 else None},
            )
            for i, room in enumerate(rooms)
        ]
        threads.append(
            threading.Thread(
                target=board_watch,
                args=(
                    base,
                    data["cookie"],
                    data["location"],
                    rooms[0]["room"],
                    sent_log,
                    until,
                    board,
                ),
            )
        )
        steady_started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
        steady_s = time.perf_counter() - steady_started

        burst = Tally()
        until = time.perf_counter() + args.burst_seconds
        burst_threads = [
            threading.Thread(
                target=burst_sender,
                args=(base, data["token"], room, burst, until, args.burst_max),
            )
            for room in rooms
        ]
        burst_started = time.perf_counter()
        for thread in burst_threads:
            thread.start()
        for thread in burst_threads:
            thread.join(timeout=args.burst_seconds + 60)
        burst_s = time.perf_counter() - burst_started
        return {
            "engine": engine,
            "setup_s": setup_s,
            "rooms": len(rooms),
            "workers": args.workers,
            "steady": {
                "seconds": steady_s,
                "sent": steady.sent,
                "accepted": steady.accepted,
                "refused": steady.refused,
                "errors": steady.errors,
                "per_s": steady.accepted / steady_s,
                "p50_ms": percentile(steady.latencies, 50) * 1000,
                "p95_ms": percentile(steady.latencies, 95) * 1000,
                "max_ms": max(steady.latencies, default=0) * 1000,
            },
            "board": {
                "readings": len(board.latencies) + board.missed,
                "seen": len(board.latencies),
                "missed": board.missed,
                "p50_ms": percentile(board.latencies, 50) * 1000,
                "p95_ms": percentile(board.latencies, 95) * 1000,
                "max_ms": max(board.latencies, default=0) * 1000,
                "render_p50_ms": percentile(board.render, 50) * 1000,
                "render_p95_ms": percentile(board.render, 95) * 1000,
            },
            "burst": {
                "seconds": burst_s,
                "sent": burst.sent,
                "accepted": burst.accepted,
                "refused": burst.refused,
                "errors": burst.errors,
                "per_s": burst.accepted / burst_s,
                "p50_ms": percentile(burst.latencies, 50) * 1000,
                "p95_ms": percentile(burst.latencies, 95) * 1000,
            },
            "load": os.getloadavg()[0],
        }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if pg_database is not None:
            _pg(args.pg_url, f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")


def _pg(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(
        f"{pg_url}/postgres", autocommit=True, connect_timeout=10
    ) as connection:
        connection.execute(statement.encode())


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| Engine | Rooms | Steady: accepted/s | sent | accepted | refused | POST p50 / p95 (ms) | Burst: accepted/s | POST p50 / p95 (ms) | Board latency p50 / p95 / max (ms) | shown / sent | Board fragment p50 / p95 (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s, b, board = r["steady"], r["burst"], r["board"]
        lines.append(
            f"| {r['engine']} | {r['rooms']} | {s['per_s']:.1f} | {s['sent']} | {s['accepted']} | "
            f"{s['refused'] + s['errors']} | {s['p50_ms']:.0f} / {s['p95_ms']:.0f} | {b['per_s']:.1f} | "
            f"{b['p50_ms']:.0f} / {b['p95_ms']:.0f} | {board['p50_ms']:.0f} / {board['p95_ms']:.0f} / "
            f"{board['max_ms']:.0f} | {board['seen']} / {board['readings']} | "
            f"{board['render_p50_ms']:.0f} / {board['render_p95_ms']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="sqlite"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--seconds",
        type=float,
        default=30,
        help="steady load: one reading a second per room",
    )
    parser.add_argument("--burst-seconds", type=float, default=15)
    parser.add_argument(
        "--burst-max",
        type=int,
        default=500,
        help="readings per room at most in the burst",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="seconds allowed for setup per engine",
    )
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        setup_child(args.rooms, Path(args.child))
        return 0
    if not 2 <= args.rooms <= 100:
        parser.error("--rooms must be 2-100")
    engines = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    scratch = Path(tempfile.mkdtemp(prefix="nc-bench-infusions-"))
    results = []
    try:
        for engine in engines:
            print(f"{engine}: setting up {args.rooms} rooms...", file=sys.stderr)
            results.append(run_engine(engine, args, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(report(results))
    print(f"\n{os.cpu_count()} CPUs; load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
