"""`neuroclinic prepare`: `make run`'s one process for the checks, migrate, the cache table and the demo.

The first test builds a new SQLite database in its own process, as `make run` does.
"""

import gc
import os
import secrets
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError

from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.demo import DEMO_ORGANIZATION
from neuroclinic.clinics.models import Organization

ROOT = Path(__file__).resolve().parents[3]
SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


@pytest.mark.skipif(
    not SQLITE,
    reason="make run's new-database path is a new SQLite file; the SQLite run covers it",
)
def test_a_new_database_is_checked_migrated_and_given_the_demo_in_one_process(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret-key").write_text(secrets.token_urlsafe(50))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "TEST_SQLITE_NAME")
    } | {
        "NEUROCLINIC_VAR_DIR": str(tmp_path),
        "DEBUG": "False",
        "HTTPS": "False",
        "SECRET_KEY_FILE": str(tmp_path / "secret-key"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "PYTHONPATH": str(ROOT),
    }

    def neuroclinic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "neuroclinic", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )

    # Any command creates the SQLite file, with no tables, when it loads the settings
    # (`make test` before `make run` did): the database is still new, and gets the demo.
    assert neuroclinic("check").returncode == 0
    assert (tmp_path / "neuroclinic.sqlite3").exists()

    done = neuroclinic("prepare", "--demo-if-new", "--patients", "2")

    assert done.returncode == 0, done.stderr
    assert "New database: migrating and loading the demo clinic" in done.stdout
    assert "Loaded Lakeside Interventional Psychiatry (demo)" in done.stdout
    database = sqlite3.connect(tmp_path / "neuroclinic.sqlite3")
    tables = {row[0] for row in database.execute("select name from sqlite_master")}
    assert "neuroclinic_cache" in tables  # createcachetable ran
    assert database.execute("select count(*) from sqlite_stat1").fetchone()[0] > 0
    unapplied = neuroclinic("migrate", "--check", "--skip-checks")
    assert unapplied.returncode == 0, unapplied.stdout + unapplied.stderr
    verified = neuroclinic("verify", "--skip-checks")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # the next `make run` finds the clinic there and leaves it as it is
    again = neuroclinic("prepare", "--demo-if-new", "--skip-checks")
    assert again.returncode == 0, again.stderr
    assert "Planner statistics refreshed" in again.stdout
    assert "demo" not in again.stdout
    organizations = database.execute("select count(*) from clinics_organization")
    assert organizations.fetchone()[0] == 1


def test_a_failing_system_check_stops_it_before_anything_is_written(db: None) -> None:
    def broken(**kwargs: object) -> list[checks.CheckMessage]:
        return [checks.Error("A deliberately broken setting.", id="test.E001")]

    checks.register(broken)
    try:
        with pytest.raises(SystemCheckError, match="deliberately broken"):
            call_command("prepare", "--demo", skip_checks=False, stdout=StringIO())
    finally:
        checks.registry.registry.registered_checks.discard(broken)

    assert not Organization.objects.exists()


def test_on_a_database_in_use_it_migrates_and_refreshes_statistics_without_the_demo(
    db: None,
) -> None:
    out = StringIO()
    threshold = gc.get_threshold()

    call_command("prepare", "--skip-checks", stdout=out)

    assert "Planner statistics refreshed" in out.getvalue()
    assert not Organization.objects.exists()
    assert gc.get_threshold() == threshold


def test_demo_if_new_on_a_migrated_database_leaves_it_without_the_demo(
    db: None,
) -> None:
    out = StringIO()

    call_command("prepare", "--skip-checks", "--demo-if-new", stdout=out)

    assert "Planner statistics refreshed" in out.getvalue()
    assert "New database" not in out.getvalue()
    assert not Organization.objects.exists()


def test_demo_and_demo_if_new_together_are_refused(db: None) -> None:
    with pytest.raises(CommandError, match="not both"):
        call_command(
            "prepare", "--skip-checks", "--demo", "--demo-if-new", stdout=StringIO()
        )

    assert not Organization.objects.exists()


def test_with_the_demo_it_loads_the_clinic(db: None) -> None:
    out = StringIO()

    call_command("prepare", "--skip-checks", "--demo", "--patients", "1", stdout=out)

    assert Organization.objects.filter(name=DEMO_ORGANIZATION).count() == 1
    assert "Loaded Lakeside Interventional Psychiatry (demo)" in out.getvalue()


def test_a_bad_demo_argument_is_refused_and_writes_nothing(db: None) -> None:
    threshold = gc.get_threshold()

    with pytest.raises(CommandError, match="zero or more"):
        call_command(
            "prepare", "--skip-checks", "--demo", "--patients", "-1", stdout=StringIO()
        )
    with pytest.raises(CommandError, match="is not a time zone name"):
        call_command(
            "prepare",
            "--skip-checks",
            "--demo",
            "--time-zone",
            "Mars/Olympus",
            stdout=StringIO(),
        )

    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()
    assert gc.get_threshold() == threshold
