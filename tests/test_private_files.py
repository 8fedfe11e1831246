"""var/, the SQLite database and uploaded files are readable by the service's user only.

Issue #15 item 7.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from pytest_django.fixtures import Settings

REPO = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def start_with_var_dir(var: Path) -> None:
    """Load the settings as a server or a command does, with var/ at `var`."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")
    } | {"NEUROCLINIC_VAR_DIR": str(var), "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-c", "import neuroclinic.settings"],
        env=env,
        check=True,
        cwd=REPO,
    )


def test_a_new_var_directory_and_database_are_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    old = os.umask(0o022)  # the usual umask, which made them 0755 and 0644
    try:
        start_with_var_dir(var)
    finally:
        os.umask(old)

    assert mode(var) == 0o700
    database = var / "neuroclinic.sqlite3"
    assert mode(database) == 0o600
    # SQLite gives the WAL and shared-memory files the database file's mode.
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    assert mode(var / "neuroclinic.sqlite3-wal") == 0o600
    connection.close()


def test_an_existing_world_readable_var_and_database_are_tightened(
    tmp_path: Path,
) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    database = var / "neuroclinic.sqlite3"
    sqlite3.connect(database).close()
    database.chmod(0o644)

    start_with_var_dir(var)

    assert mode(var) == 0o700
    assert mode(database) == 0o600


def test_uploaded_files_are_0600_in_0700_directories(
    tmp_path: Path, settings: Settings
) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    storage = FileSystemStorage()
    old = os.umask(0o022)
    try:
        name = storage.save("intake/2026/letter.pdf", ContentFile(b"%PDF-1.7"))
    finally:
        os.umask(old)

    assert mode(Path(storage.path(name))) == 0o600
    assert mode(tmp_path / "files" / "intake") == 0o700
    assert mode(tmp_path / "files" / "intake" / "2026") == 0o700


def secret_key_with(var: Path, **environ: str) -> str:
    env = (
        {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE")
        }
        | {"NEUROCLINIC_VAR_DIR": str(var), "PYTHONPATH": str(REPO)}
        | environ
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import neuroclinic.settings as s; print(s.SECRET_KEY)",
        ],
        env=env,
        check=True,
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_commands_sign_with_the_servers_key_file_in_var(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret-key").write_text("the-servers-own-key-0123456789abcdefghij\n")

    assert secret_key_with(var) == "the-servers-own-key-0123456789abcdefghij"
    assert secret_key_with(var, SECRET_KEY="from-env") == "from-env"


def test_without_a_key_file_the_development_key_is_used(tmp_path: Path) -> None:
    assert secret_key_with(tmp_path / "var") == (
        "development-only-key-never-use-in-production"
    )
