"""Snapshots and restores of the database itself, one pair per engine.

SQLite: the online backup API copies a consistent snapshot while the clinic
keeps working (WAL readers and writers carry on). PostgreSQL: `pg_dump` in
custom format inside an exported REPEATABLE READ snapshot, so the row counts
and chain heads in the manifest describe exactly the rows in the dump.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connections, transaction

from neuroclinic.operations.integrity import read_heads


class DatabaseBackupError(Exception):
    pass


@dataclass
class Snapshot:
    vendor: str
    dump_path: Path
    member_name: str
    tables: dict[str, int]
    heads: dict[str, list[dict[str, str]]]
    migrations: list[str]


def vendor() -> str:
    return str(connections["default"].vendor)


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(
    cursor: Any, tables: list[str], quote: Callable[[str], str]
) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - names from the catalogue
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _migrations(cursor: Any, quote: Callable[[str], str]) -> list[str]:
    cursor.execute(
        f"SELECT app, name FROM {quote('django_migrations')} ORDER BY app, name"  # noqa: S608
    )
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


def sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [row[0] for row in cursor.fetchall()]


def postgres_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    )
    return [row[0] for row in cursor.fetchall()]


def snapshot(workdir: Path) -> Snapshot:
    if vendor() == "sqlite":
        return _sqlite_snapshot(workdir)
    if vendor() == "postgresql":
        return _postgres_snapshot(workdir)
    raise DatabaseBackupError(f"backups of {vendor()} databases are not supported")


def _sqlite_snapshot(workdir: Path) -> Snapshot:
    dump_path = workdir / "database.sqlite3"
    connection = connections["default"]
    connection.ensure_connection()
    target = sqlite3.connect(dump_path)
    try:
        # One step (pages=-1): a consistent snapshot; WAL readers and writers carry on.
        connection.connection.backup(target)
        cursor = target.cursor()
        tables = _counts(cursor, sqlite_tables(cursor), _sqlite_quote)
        heads = read_heads(cursor, _sqlite_quote)
        migrations = _migrations(cursor, _sqlite_quote)
    finally:
        target.close()
    return Snapshot("sqlite", dump_path, "database.sqlite3", tables, heads, migrations)


def pg_environment(alias: str = "default") -> dict[str, str]:
    """libpq's environment for pg_dump / pg_restore, from Django's settings for `alias`."""
    settings = connections[alias].settings_dict
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings.get(key):
            env[var] = str(settings[key])
    if sslmode := settings.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = str(sslmode)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DatabaseBackupError(
            f"{name} is not installed: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client), the same major version as the server"
        )
    return path


def _postgres_snapshot(workdir: Path) -> Snapshot:
    dump_path = workdir / "database.pgdump"
    connection = connections["default"]
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={dump_path}",
            ],
            env=pg_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise DatabaseBackupError(f"pg_dump failed: {completed.stderr.strip()}")
        tables = _counts(cursor, postgres_tables(cursor), quote)
        heads = read_heads(cursor, quote)
        migrations = _migrations(cursor, quote)
    return Snapshot(
        "postgresql", dump_path, "database.pgdump", tables, heads, migrations
    )


# -- restore ---------------------------------------------------------------


def existing_tables() -> list[str]:
    connection = connections["default"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            return sqlite_tables(cursor)
        return postgres_tables(cursor)


def database_label() -> str:
    settings = connections["default"].settings_dict
    if vendor() == "sqlite":
        return str(settings["NAME"])
    return f"{settings.get('NAME')} on {settings.get('HOST') or 'localhost'}"


@contextmanager
def restoring(member_vendor: str) -> Iterator[Callable[[IO[bytes]], None]]:
    """Yield a function that loads the dump from a stream into the (empty) default database."""
    if member_vendor != vendor():
        raise DatabaseBackupError(
            f"this backup is of a {member_vendor} database but DATABASE_URL names a "
            f"{vendor()} one: restore into the same engine"
        )
    connections["default"].close()
    if member_vendor == "sqlite":
        yield _sqlite_restore
    else:
        yield _postgres_restore
    connections["default"].close()


def _sqlite_restore(stream: IO[bytes]) -> None:
    target = Path(str(connections["default"].settings_dict["NAME"]))
    partial = target.with_name(f".{target.name}.restoring")
    with partial.open("wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
        out.flush()
        os.fsync(out.fileno())
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)  # the empty database's, not the backup's
    partial.replace(target)


def _postgres_restore(stream: IO[bytes]) -> None:
    with (
        tempfile.TemporaryFile() as errors
    ):  # a file, not a pipe: no deadlock while we feed stdin
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connections['default'].settings_dict['NAME']}",
            ],
            env=pg_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        assert process.stdin is not None
        try:
            shutil.copyfileobj(stream, process.stdin, 1024 * 1024)
            process.stdin.close()
        except BrokenPipeError:
            pass  # pg_restore stopped early: its errors say why
        if process.wait() != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise DatabaseBackupError(f"pg_restore failed: {message}")


def restored_state() -> tuple[
    dict[str, int], dict[str, list[dict[str, str]]], list[str]
]:
    """Row counts, chain heads and applied migrations of the restored database."""
    connection = connections["default"]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = (
            sqlite_tables(cursor)
            if connection.vendor == "sqlite"
            else postgres_tables(cursor)
        )
        return (
            _counts(cursor, tables, quote),
            read_heads(cursor, quote),
            _migrations(cursor, quote),
        )
