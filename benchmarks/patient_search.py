"""Patient search at clinic-network scale: server time and queries per search.

    python benchmarks/patient_search.py [--patients 100000] [--searches 300]
                                        [--database sqlite|postgres|both]

For each engine the script makes a scratch database (a temporary SQLite file,
or a fresh PostgreSQL database nc_bench_<pid>), migrates it, bulk-inserts
synthetic patients, signs in one nurse and times as-you-type searches through
the whole Django stack (django.test.Client) and at the ORM level. Each engine
runs in a subprocess of its own, since the settings read DATABASE_URL at
import. Scratch databases and files are removed at the end, also when a run
fails, times out or is interrupted. See benchmarks/README.md.
"""

import argparse
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.test import Client

    from neuroclinic.accounts.models import User

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder is first on the path, and its fhir.py would hide
# the fhir.resources package the app imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
MRN_PREFIX = "BM"
SEARCH_URL = "/patients/"

# What the browser sends: the top bar's as-you-type search targets the
# popover #global-search-results (templates/base.html). None: the ORM alone.
PATHS: dict[str, str | None] = {"view": "global-search-results", "ORM": None}

# Invented family names, built from syllables no real surname is made of, so
# nobody mistakes a benchmark row for a person: "Zorvaquix", "Thrimelworble".
NAME_STARTS = [
    "Zor", "Quel", "Vax", "Thrim", "Brix", "Drav", "Kyl", "Mox", "Nyx", "Pral",
    "Quor", "Rix", "Syl", "Tov", "Ulx", "Vor", "Wex", "Xan", "Yor", "Zeph",
    "Glim", "Frob", "Jinx", "Plo", "Grax", "Hux", "Snir", "Blen", "Ozz", "Kelv",
]  # fmt: skip
NAME_MIDDLES = ["a", "e", "i", "o", "u", "an", "el", "ix"]
NAME_ENDS = [
    "quix", "vortle", "zandry", "plimsk", "worble", "xenby",
    "grubble", "snorvik", "tazzle", "mirkwell", "fennix", "dobrazz",
]  # fmt: skip

# Given names as the demo clinic has them (neuroclinic.clinics.demo), copied
# so that the data stay the same for a given seed whatever the demo does.
GIVEN_NAMES = [
    "Alex", "Blair", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper",
    "Indigo", "Jordan", "Kai", "Logan", "Morgan", "Nico", "Oakley", "Parker",
    "Quinn", "Riley", "Sage", "Taylor", "Umber", "Val", "Wren", "Xen", "Yael",
    "Zion", "Maya", "Omar", "Lena", "Tariq",
]  # fmt: skip

# The mix of what staff type, by weight.
QUERY_KINDS = {
    "family prefix": 35,  # 2-4 letters of a family name
    "family given": 25,  # "zorva ka": family name (or its start) then given name start
    "DOB": 15,  # 1987-04-12
    "MRN": 15,  # BM-001234
    "phone": 10,  # 312-555-0142
}


@dataclass(frozen=True)
class Person:
    mrn: str
    family: str
    given: str
    preferred: str
    birth_date: date
    sex: str
    phone: str


# --- shared helpers ----------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with pct% of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def synthetic_people(count: int, rng: random.Random) -> list[Person]:
    """Invented patients with a realistic skew: a few family names are common."""
    families = [s + m + e for s in NAME_STARTS for m in NAME_MIDDLES for e in NAME_ENDS]
    rng.shuffle(families)
    # Zipf-like (s=0.5): the commonest name is ~1% of patients, like US surnames.
    weights = [1 / math.sqrt(rank) for rank in range(1, len(families) + 1)]
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    chosen = rng.choices(families, cum_weights=cumulative, k=count)
    sexes = ["female"] * 49 + ["male"] * 49 + ["intersex", "unknown"]
    people = []
    for n, family in enumerate(chosen, start=1):
        given = rng.choice(GIVEN_NAMES)
        roll = rng.random()
        preferred = (
            given[:3] if roll < 0.08 else rng.choice(GIVEN_NAMES) if roll < 0.15 else ""
        )
        people.append(
            Person(
                mrn=f"{MRN_PREFIX}-{n:06d}",
                family=family,
                given=given,
                preferred=preferred,
                birth_date=date(1938, 1, 1) + timedelta(days=rng.randrange(70 * 365)),
                sex=rng.choice(sexes),
                # 555-0100..0199 is reserved for fiction in every area code.
                phone=f"{rng.randint(201, 989)}-555-01{rng.randrange(100):02d}",
            )
        )
    return people


def make_queries(
    people: Sequence[Person], count: int, rng: random.Random
) -> list[tuple[str, str]]:
    """(kind, text) pairs for patients that exist, so common names come up often."""
    kinds = list(QUERY_KINDS)
    weights = list(QUERY_KINDS.values())
    queries = []
    for _ in range(count):
        kind = rng.choices(kinds, weights=weights)[0]
        person = rng.choice(people)
        if kind == "family prefix":
            text = person.family[: rng.randint(2, 4)]
        elif kind == "family given":
            family = person.family[: rng.randint(3, len(person.family))]
            text = f"{family} {person.given[: rng.randint(2, len(person.given))]}"
        elif kind == "DOB":
            text = person.birth_date.isoformat()
        elif kind == "MRN":
            text = person.mrn
        else:
            text = person.phone
        if rng.random() < 0.5:
            text = text.lower()  # people type in lower case about half the time
        queries.append((kind, text))
    return queries


def describe_sql(sql: str) -> str:
    """A short label for one statement: "SELECT patients_patient", "SAVEPOINT"."""
    text = sql.strip()
    verb = text.split(None, 1)[0].upper()
    if verb in {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}:
        return verb
    insert = re.search(r"\bINSERT\s+INTO\b", text, re.IGNORECASE)
    if verb == "WITH" and insert is not None:
        # The audit event's one statement (PostgreSQL): name the table it inserts into.
        verb, text = "INSERT", text[insert.start() :]
    match = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', text, re.IGNORECASE)
    label = f"{verb} {match.group(1) if match else '?'}"
    if "FOR UPDATE" in text.upper():
        label += " FOR UPDATE"
    return label


# --- the child: one engine, inside Django ------------------------------------


def _bulk_insert(people: Sequence[Person], batch_size: int = 2000) -> tuple[Any, float]:
    """Insert the patients in a few big statements, as an import would.

    This bypasses actions.register_patient, so no per-patient audit events
    are written: fine for a search benchmark, never for real data.
    """
    from django.db import transaction

    from neuroclinic.clinics.models import Organization
    from neuroclinic.patients.models import Patient

    started = time.perf_counter()
    with transaction.atomic():
        organization = Organization.objects.create(
            name="Benchmark Clinic (synthetic)", mrn_prefix=MRN_PREFIX
        )
        for start in range(0, len(people), batch_size):
            batch = []
            for offset, person in enumerate(people[start : start + batch_size]):
                n = start + offset
                patient = Patient(
                    organization=organization,
                    mrn=person.mrn,
                    family_name=person.family,
                    given_name=person.given,
                    preferred_name=person.preferred,
                    birth_date=person.birth_date,
                    sex_at_birth=person.sex,
                    phone=person.phone,
                    email=f"{person.given.lower()}.{person.family.lower()}{n}@example.com",
                    address_line1=f"{100 + n % 9900} Example Street",
                    city="Springfield",
                    state="IL",
                    postal_code="62701",
                )
                patient.refresh_search_keys()
                batch.append(patient)
            Patient.objects.bulk_create(batch, batch_size=batch_size)
        Organization.objects.filter(pk=organization.pk).update(next_mrn=len(people) + 1)
    return organization, time.perf_counter() - started


def _nurse(organization: Any) -> "User":
    from django.contrib.auth.models import Group

    from neuroclinic.accounts.models import Authenticator, User
    from neuroclinic.accounts.roles import Role

    user = User(
        username="bench-nurse",
        first_name="Benchmark",
        last_name="Nurse",
        organization=organization,
    )
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=Role.NURSE.value)])
    Authenticator.objects.create(user=user, name="benchmark", confirmed=True)
    return user


def _signed_in_client(user: "User") -> tuple["Client", str]:
    """A browser-like client: session plus a verified second factor (as
    conftest.login does), CSRF checks on, and the CSRF token a page would carry."""
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from neuroclinic.accounts.models import Authenticator

    device = Authenticator.objects.get(user=user, confirmed=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    page = client.get(SEARCH_URL)  # the page the search box sits on
    if page.status_code != 200:
        raise SystemExit(f"GET {SEARCH_URL} as the nurse -> {page.status_code}")
    cookie = client.cookies.get(settings.CSRF_COOKIE_NAME)
    return client, cookie.value if cookie is not None else ""


def _htmx_headers(target: str, csrf_token: str) -> dict[str, str]:
    """What htmx sends with the as-you-type search (hx-headers carries the token)."""
    return {"HX-Request": "true", "HX-Target": target, "X-CSRFToken": csrf_token}


def _searcher(
    client: "Client", user: "User", target: str | None, method: str, csrf_token: str
) -> Callable[[str], int]:
    """One search by a path; returns the result size (rows, or response bytes)."""
    from neuroclinic.patients.models import SEARCH_LIMIT, Patient

    if target is None:

        def orm(text: str) -> int:
            return len(
                list(Patient.objects.visible_to(user).search(text)[:SEARCH_LIMIT])
            )

        return orm

    headers = _htmx_headers(target, csrf_token)
    send = client.post if method == "POST" else client.get

    def view(text: str) -> int:
        response = send(SEARCH_URL, {"q": text}, headers=headers)
        if response.status_code != 200:
            raise SystemExit(
                f"{method} {SEARCH_URL} q={text!r} -> {response.status_code}"
            )
        return len(response.content)

    return view


def _search_method(client: "Client", csrf_token: str, mrn: str) -> str:
    """GET ?q= or POST q=: whichever the view answers with a real, audited search.

    Checked rather than assumed, so that timing the wrong request (say, the
    plain patient list) fails loudly instead of looking fast.
    """
    from neuroclinic.audit.models import AuditEvent

    searched = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENTS_SEARCHED)
    headers = _htmx_headers(str(PATHS["view"]), csrf_token)
    for method in ("POST", "GET"):
        before = searched.count()
        send = client.post if method == "POST" else client.get
        response = send(SEARCH_URL, {"q": mrn}, headers=headers)
        if (
            response.status_code == 200
            and mrn.encode() in response.content
            and searched.count() == before + 1
        ):
            return method
    raise SystemExit(f"Neither GET nor POST {SEARCH_URL} ran an audited search")


def _timed(
    search: Callable[[str], int], queries: Sequence[tuple[str, str]]
) -> tuple[list[float], list[float]]:
    """Wall time and this process's CPU time per search, in ms."""
    times = []
    cpu = []
    for _, text in queries:
        started = time.perf_counter_ns()
        cpu_started = time.process_time_ns()
        search(text)
        cpu.append((time.process_time_ns() - cpu_started) / 1e6)
        times.append((time.perf_counter_ns() - started) / 1e6)
    return times, cpu


def _counted(
    search: Callable[[str], int], queries: Sequence[tuple[str, str]]
) -> tuple[list[int], Counter[str], list[int]]:
    """Queries per search, the statement signatures seen, and result sizes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    signatures: Counter[str] = Counter()
    sizes = []
    for _, text in queries:
        with CaptureQueriesContext(connection) as captured:
            sizes.append(search(text))
        labels = [describe_sql(q["sql"]) for q in captured.captured_queries]
        counts.append(len(labels))
        signatures[" | ".join(labels)] += 1
    return counts, signatures, sizes


def child_main(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    rng = random.Random(args.seed)
    report: dict[str, Any] = {"engine": connection.vendor, "patients": args.patients}

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    report["migrate_s"] = time.perf_counter() - started
    # DEBUG is off, so templates need the static manifest, as in production.
    # The same manifest without WhiteNoise's gzip/brotli copies (no static file
    # is served here), which saves a quarter of a minute.
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        manifest_only = settings.STORAGES | {
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
            }
        }
        with override_settings(STORAGES=manifest_only):
            call_command("collectstatic", verbosity=0, interactive=False)

    people = synthetic_people(args.patients, rng)
    organization, report["insert_s"] = _bulk_insert(people)
    print(
        f"  {connection.vendor}: inserted {args.patients:,} synthetic patients in "
        f"{report['insert_s']:.1f} s with bulk_create (no per-patient audit events)",
        flush=True,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum would have done by the time anyone searches.
            cursor.execute("VACUUM ANALYZE patients_patient")
            cursor.execute("SHOW server_version")
            report["server_version"] = cursor.fetchone()[0]
        else:
            cursor.execute("select sqlite_version()")
            report["server_version"] = cursor.fetchone()[0]
    if not args.no_optimize:
        # What the clinic's worker does daily and `make run`/`demo` do after
        # loading: refresh planner statistics (neuroclinic optimize).
        from django.core.management import call_command

        call_command("optimize", verbosity=0)
    report["sqlite_analyze"] = not args.no_optimize

    user = _nurse(organization)
    client, csrf_token = _signed_in_client(user)
    # The oldest MRN: never on the first page of the plain (newest first) list.
    method = report["method"] = _search_method(client, csrf_token, people[0].mrn)
    warmup = make_queries(people, args.warmup, rng)
    queries = make_queries(people, args.searches, rng)
    searchers = {
        path: _searcher(client, user, target, method, csrf_token)
        for path, target in PATHS.items()
    }

    for search in searchers.values():
        for _, text in warmup:
            search(text)

    report["paths"] = {}
    report["load_before"] = os.getloadavg()[0]
    for path, search in searchers.items():
        times, cpu = _timed(search, queries)
        counts, signatures, sizes = _counted(search, queries)
        by_kind: dict[str, list[float]] = {}
        for (kind, _), ms in zip(queries, times, strict=True):
            by_kind.setdefault(kind, []).append(ms)
        report["paths"][path] = {
            "times": times,
            "cpu": cpu,
            "query_counts": counts,
            "signatures": signatures.most_common(),
            "sizes": sizes,
            "by_kind": by_kind,
        }
        print(
            f"  {connection.vendor}: timed {len(queries)} searches by {path}",
            flush=True,
        )
    report["load_after"] = os.getloadavg()[0]
    report["kinds"] = [kind for kind, _ in queries]
    connection.close()
    Path(args.result).write_text(json.dumps(report))
    return 0


# --- the parent: scratch databases, subprocesses, the report -----------------


def _pg_admin(pg_url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{pg_url}/postgres", autocommit=True, connect_timeout=10)


def _pg_create(pg_url: str, name: str) -> None:
    from psycopg import sql

    with _pg_admin(pg_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _pg_drop(pg_url: str, name: str) -> None:
    from psycopg import sql

    with _pg_admin(pg_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def run_engine(engine: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """One engine in a subprocess; its scratch database is gone when this returns."""
    pg_database = None
    sqlite_file = scratch / f"{engine}.sqlite3"
    try:
        if engine == "sqlite":
            database_url = f"sqlite:///{sqlite_file}"
        else:
            pg_database = f"nc_bench_{os.getpid()}"
            _pg_create(args.pg_url, pg_database)
            database_url = f"{args.pg_url}/{pg_database}"
        result = scratch / f"{engine}.json"
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "neuroclinic.settings",
            "DATABASE_URL": database_url,
            # Collected static files: made by the first engine, reused by the next.
            "NEUROCLINIC_VAR_DIR": str(scratch / "var"),
            # As `make run` serves it: DEBUG off, a real key, plain HTTP.
            "DEBUG": "False",
            "HTTPS": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "PUBLIC_BASE_URL": "http://testserver",
            "LOG_LEVEL": "WARNING",
        }
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "--result",
            str(result),
            "--patients",
            str(args.patients),
            "--searches",
            str(args.searches),
            "--warmup",
            str(args.warmup),
            "--seed",
            str(args.seed),
        ]
        if args.no_optimize:
            command.append("--no-optimize")
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=args.timeout)
        report: dict[str, Any] = json.loads(result.read_text())
        report["wall_s"] = time.perf_counter() - started
        return report
    finally:
        if pg_database is not None:
            _pg_drop(args.pg_url, pg_database)
        for leftover in scratch.glob(f"{engine}.sqlite3*"):  # with -wal and -shm
            leftover.unlink()


def code_version() -> str:
    """The commit measured, and whether the work tree differed from it (read-only git)."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    if changed:
        return f"{head} with {len(changed)} tracked files modified"
    return head


def machine_info(pg_url: str | None) -> list[tuple[str, str]]:
    import django

    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    info = [
        ("platform", platform.platform()),
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("RAM", ram),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("code", code_version()),
    ]
    if pg_url is not None:
        with _pg_admin(pg_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        info.append(("PostgreSQL", str(version[0]) if version else "unknown"))
    return info


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _engine_label(report: dict[str, Any]) -> str:
    engine = str(report["engine"])
    return engine + ("" if report.get("sqlite_analyze") else " (no ANALYZE)")


def print_report(
    machine: list[tuple[str, str]],
    reports: list[dict[str, Any]],
    args: argparse.Namespace,
) -> None:
    print()
    print("Patient search benchmark (benchmarks/patient_search.py)")
    for key, value in machine:
        print(f"  {key + ':':<11} {value}")
    print(
        f"  run:        {args.patients:,} synthetic patients, {args.searches} searches "
        f"per path after {args.warmup} warm-up searches, seed {args.seed}"
    )
    methods = sorted({report["method"] for report in reports})
    print(
        f"  request:    {'/'.join(methods)} {SEARCH_URL} q=<query> with HX-Request: true, "
        f"HX-Target: {PATHS['view']}, X-CSRFToken (CSRF checks on), as one "
        "signed-in, two-factor-verified nurse; DEBUG=False"
    )
    print(
        "  server time = wall time of the in-process request through the full "
        "Django stack (django.test.Client: middleware, session, 2FA check, view, "
        "audit write, template); no network, no WSGI server"
    )
    print(
        "  patients were bulk-inserted with bulk_create, bypassing "
        "register_patient's per-patient audit events on purpose"
    )
    print()
    header = ["engine", "path", "N patients", "searches", "p50 ms", "p95 ms"]
    header += ["max ms", "queries/search"]
    print(_row(header))
    print(_row(["---"] * len(header)))
    for report in reports:
        for path, data in report["paths"].items():
            times = data["times"]
            counts = data["query_counts"]
            low, high = min(counts), max(counts)
            print(
                _row(
                    [
                        _engine_label(report),
                        path,
                        f"{report['patients']:,}",
                        len(times),
                        f"{percentile(times, 50):.1f}",
                        f"{percentile(times, 95):.1f}",
                        f"{max(times):.1f}",
                        str(low) if low == high else f"{low}-{high}",
                    ]
                )
            )
    target_ms = 50.0
    for report in reports:
        view_p95 = percentile(report["paths"]["view"]["times"], 95)
        verdict = "meets" if view_p95 < target_ms else "MISSES"
        print(
            f"\n{_engine_label(report)} {report['server_version']}: view p95 "
            f"{view_p95:.1f} ms {verdict} the {target_ms:.0f} ms target "
            f"(migrate {report['migrate_s']:.1f} s, insert {report['insert_s']:.1f} s, "
            f"engine total {report['wall_s']:.0f} s)"
        )
        cpu = report["paths"]["view"]["cpu"]
        print(
            f"  view CPU time in this process p50/p95 {percentile(cpu, 50):.1f}/"
            f"{percentile(cpu, 95):.1f} ms; load average (1 min) "
            f"{report['load_before']:.1f} before timing, {report['load_after']:.1f} "
            f"after, on {os.cpu_count()} cores"
        )
        kinds = list(QUERY_KINDS)
        print("  p50 / p95 ms by query kind, and mean result size:")
        for path, data in report["paths"].items():
            parts = []
            for kind in kinds:
                times = data["by_kind"].get(kind, [])
                if times:
                    parts.append(
                        f"{kind} {percentile(times, 50):.1f}/{percentile(times, 95):.1f}"
                    )
            sizes = data["sizes"]
            unit = "rows" if path == "ORM" else "bytes"
            mean = sum(sizes) / len(sizes)
            print(f"    {path}: " + ", ".join(parts) + f"; mean {mean:,.0f} {unit}")
        print("  statements per search (how many searches ran each sequence):")
        for path, data in report["paths"].items():
            for signature, seen in data["signatures"]:
                count = signature.count(" | ") + 1 if signature else 0
                print(f"    {path}: {count} x{seen}: {signature}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both"
    )
    parser.add_argument("--warmup", type=int, default=30, help="untimed searches first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="PostgreSQL server to make the scratch database on (trust auth)",
    )
    parser.add_argument(
        "--timeout", type=int, default=600, help="seconds allowed per engine"
    )
    parser.add_argument(
        "--no-optimize",
        action="store_true",
        help="skip `neuroclinic optimize` (ANALYZE) after the insert, to see a database without planner statistics",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.patients < 1 or args.searches < 1:
        parser.error("--patients and --searches must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    os.environ["DJANGO_SETTINGS_MODULE"] = "neuroclinic.settings"
    engines = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    machine = machine_info(args.pg_url if "postgres" in engines else None)
    reports = []
    failed = []
    scratch = Path(tempfile.mkdtemp(prefix="nc_bench_"))
    try:
        for engine in engines:
            print(
                f"{engine}: scratch database, migrate, insert, search ...", flush=True
            )
            try:
                reports.append(run_engine(engine, args, scratch))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                print(f"{engine}: FAILED ({error}); its scratch database is removed")
                failed.append(engine)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if reports:
        print_report(machine, reports, args)
    if failed:
        print(f"\nNo result for {', '.join(failed)}: see the errors above.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
