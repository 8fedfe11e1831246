"""What `neuroclinic serve` does before it serves: only the work whose inputs changed.

Migrations run when the migration files, the database, or the database's own
record of applied migrations differ from the last start; planner statistics
are refreshed after migrations (the worker refreshes them nightly);
collectstatic runs when a static source file changed or the collected files
are missing. The fingerprints live in var/startup-state.json. A restart with
nothing changed costs one query.
"""

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection

STATE_FILE = "startup-state.json"
STATIC_MARKER = ".source-fingerprint"


@dataclass
class StartupReport:
    steps: list[tuple[str, float]] = field(default_factory=list)  # (what ran, seconds)
    skipped: list[str] = field(default_factory=list)


def _fingerprint(files: Iterable[Path], root_label: Callable[[Path], str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        stat = path.stat()
        digest.update(
            f"{root_label(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()


def migration_files() -> list[Path]:
    found = []
    for app in apps.get_app_configs():
        folder = Path(app.path) / "migrations"
        if folder.is_dir():
            found += [p for p in folder.glob("*.py") if p.name != "__init__.py"]
    return found


def static_files() -> list[Path]:
    roots = [Path(app.path) / "static" for app in apps.get_app_configs()]
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(str(entry[1] if isinstance(entry, tuple) else entry)))
    return [
        p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file()
    ]


def database_identity() -> str:
    s = connection.settings_dict
    return (
        f"{connection.vendor}:{s.get('HOST') or ''}:{s.get('PORT') or ''}:{s['NAME']}"
    )


def applied_migration_rows() -> int | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM django_migrations")
            return int(cursor.fetchone()[0])
    except DatabaseError:
        return None  # a new database: nothing applied yet


def _collected() -> bool:
    root = Path(settings.STATIC_ROOT)
    backend = str(settings.STORAGES["staticfiles"]["BACKEND"])
    if "Manifest" in backend:
        return (root / "staticfiles.json").exists()
    return root.is_dir()


def prepare(
    *, write: Callable[[str], None] = print, static_only: bool = False
) -> StartupReport:
    report = StartupReport()
    state_path = Path(settings.VAR_DIR) / STATE_FILE
    try:
        state: dict[str, object] = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}

    def step(name: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        write(f"{name}...")
        action()
        report.steps.append((name, time.monotonic() - started))

    if not static_only:
        _prepare_database(state, report, step)

    # The static fingerprint lives with the collected files, so an image can
    # collect (and compress) them at build time and its first start skip it.
    static = _fingerprint(static_files(), lambda p: p.name)
    marker = Path(settings.STATIC_ROOT) / STATIC_MARKER
    recorded = marker.read_text() if marker.exists() else ""
    if recorded != static or not _collected():
        step(
            "Collecting static files",
            lambda: call_command("collectstatic", interactive=False, verbosity=0),
        )
        marker.write_text(static)
    else:
        report.skipped.append("static files (unchanged)")

    if not static_only:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(state, indent=1))
        connection.close()  # gunicorn forks its workers from this process
    return report


def _prepare_database(
    state: dict[str, object],
    report: StartupReport,
    step: Callable[[str, Callable[[], object]], None],
) -> None:
    migrations = _fingerprint(
        migration_files(), lambda p: f"{p.parent.parent.name}/{p.name}"
    )
    rows = applied_migration_rows()
    if (
        state.get("migrations") != migrations
        or state.get("database") != database_identity()
        or rows is None
        or state.get("migration_rows") != rows
    ):
        step(
            "Applying migrations",
            lambda: call_command("migrate", interactive=False, verbosity=0),
        )
        step(
            "Creating the cache table",
            lambda: call_command("createcachetable", verbosity=0),
        )
        step(
            "Refreshing planner statistics",
            lambda: call_command("optimize", verbosity=0, stdout=_Null()),
        )
        state |= {
            "migrations": migrations,
            "database": database_identity(),
            "migration_rows": applied_migration_rows(),
        }
    else:
        report.skipped.append("migrations and statistics (unchanged)")


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
