"""The squashed migrations build the same database as the migrations they replace.

A new database applies each app's squashed migration (`*_squashed_*_newdb18g`,
written by scripts/squash_migrations.py); a database that applied the old
migrations keeps them and Django counts the squashes as applied. Both are built
here from empty, each by its own `neuroclinic` process, on the database the
tests run on (SQLite, or PostgreSQL under DATABASE_URL), and their schemas
compared from the catalog: tables, columns with their types, nullability and
defaults, indexes, constraints, triggers and functions by name and body, and
sequences.

One difference is allowed, the order of a table's columns: on SQLite an old
AlterField rebuilt its table with the altered column last (treatment 0003 moved
`supersedes_id`), where a squash creates the columns in the model's order. So a
SQLite table's definition is compared as the set of its column and constraint
clauses, and a trigger's list of guarded columns (`OLD."c" IS NOT NEW."c" OR ...`,
written in the table's column order) as a set of columns.
"""

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[1]
VENDOR = (
    "sqlite"
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else "postgresql"
)

# Migrates a database through the old migrations only: the squashes are taken out
# of the graph (their dependants pointed back at what they replace), then the rows
# Django writes for them are removed, as on a database migrated before they existed.
OLD_CHAIN = """
import django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

executor = MigrationExecutor(connection)
executor.loader = MigrationLoader(connection, replace_migrations=False)
graph = executor.loader.graph
squashes = dict(executor.loader.replacements)
for key, migration in squashes.items():
    graph.remove_replacement_node(key, migration.replaces)
executor.migrate(graph.leaf_nodes())
recorded = MigrationRecorder(connection).migration_qs
for app, name in squashes:
    recorded.filter(app=app, name=name).delete()
print(len(squashes), "squashes left out")
"""


GUARD = r'OLD\."\w+" (?:IS NOT|IS DISTINCT FROM) NEW\."\w+"'
GUARDS = re.compile(rf"{GUARD}(?: OR {GUARD})*")


def guards_sorted(sql: str) -> str:
    """The SQL with each run of guarded columns in name order (see the module's docstring)."""
    return GUARDS.sub(lambda run: " OR ".join(sorted(run.group(0).split(" OR "))), sql)


def clauses(table_sql: str) -> tuple[str, list[str]]:
    """CREATE TABLE's head and its column and constraint clauses, in name order."""
    head, _, body = table_sql.partition("(")
    depth, current, found = 0, "", []
    for character in body[:-1]:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            found.append(current.strip())
            current = ""
        else:
            current += character
    return head, sorted([*found, current.strip()])


def squashes() -> dict[tuple[str, str], Any]:
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    return dict(loader.replacements)


def test_each_squash_replaces_a_run_of_its_app_s_migrations_none_twice() -> None:
    """A squash replaces consecutive migrations of its own app; no migration is replaced twice."""
    found = squashes()
    assert len(found) >= 18
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    replaced: list[tuple[str, str]] = []
    for (app, _), migration in found.items():
        old = sorted(
            name
            for node_app, name in loader.graph.nodes
            if node_app == app and (node_app, name) not in found
        )
        names = [name for replaced_app, name in migration.replaces]
        assert {replaced_app for replaced_app, _ in migration.replaces} == {app}
        first = old.index(names[0])
        assert names == old[first : first + len(names)]
        replaced += migration.replaces
    assert len(replaced) == len(set(replaced))
    # Every app with a squash starts from one: a new database applies no old migration of it
    # except accounts 0005, which depends on django-otp's migrations (docs/decisions.md).
    assert {app for app, name in replaced if name.startswith("0001_")} == {
        app for app, _ in found
    }


def env_for(database: str, var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "STATIC_ROOT", "DJANGO_SETTINGS_MODULE")
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    key_file = var_dir / "secret-key"
    key_file.write_text("squashed-migrations-test-key-" + "x" * 40)
    env |= {
        "NEUROCLINIC_VAR_DIR": str(var_dir),
        "SECRET_KEY_FILE": str(key_file),
        "DJANGO_SETTINGS_MODULE": "neuroclinic.settings",
        "PYTHONPATH": str(ROOT),
    }
    if VENDOR == "postgresql":
        env["DATABASE_URL"] = database
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Two empty databases: 'squashed' and 'old' (SQLite files, or PostgreSQL databases)."""
    if VENDOR == "sqlite":
        yield {
            name: str(tmp_path / name / "neuroclinic.sqlite3")
            for name in ("squashed", "old")
        }
        return
    import psycopg

    url = urlsplit(os.environ["DATABASE_URL"])
    base = url.path.lstrip("/")
    names = {name: f"{base}_{name}" for name in ("squashed", "old")}
    server = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    yield {
        key: urlunsplit(url._replace(path=f"/{name}")) for key, name in names.items()
    }
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def schema(database: str) -> dict[str, list[tuple[Any, ...]]]:
    if VENDOR == "sqlite":
        with sqlite3.connect(database) as connection:
            objects = connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
                " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
            ).fetchall()
            tables = [name for kind, name, _, _ in objects if kind == "table"]
            columns = [
                (table, *column[1:])
                for table in tables
                for column in connection.execute(f'PRAGMA table_xinfo("{table}")')
            ]
            foreign_keys = [
                (table, *key[2:])
                for table in tables
                for key in connection.execute(f'PRAGMA foreign_key_list("{table}")')
            ]
        return {
            "tables": sorted(tables),
            "columns": sorted(columns),
            "foreign keys": sorted(foreign_keys),
            "table definitions": [
                (name, clauses(sql))
                for kind, name, _, sql in objects
                if kind == "table"
            ],
            "indexes": [row for row in objects if row[0] == "index"],
            "triggers": [
                (name, table, guards_sorted(sql))
                for kind, name, table, sql in objects
                if kind == "trigger"
            ],
            "views": [row for row in objects if row[0] == "view"],
        }
    import psycopg

    queries = {
        "columns": """SELECT table_name, column_name, data_type, character_maximum_length,
                numeric_precision, numeric_scale, is_nullable, column_default, is_identity
            FROM information_schema.columns WHERE table_schema = 'public'""",
        "constraints": """SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
        "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
            FROM pg_trigger WHERE NOT tgisinternal""",
        "functions": """SELECT proname, pg_get_functiondef(oid)
            FROM pg_proc WHERE pronamespace = 'public'::regnamespace""",
        "sequences": """SELECT sequencename, data_type, start_value, min_value, max_value, increment_by
            FROM pg_sequences WHERE schemaname = 'public'""",
        "extensions": "SELECT extname FROM pg_extension",
    }
    with psycopg.connect(database) as connection:
        return {
            name: sorted(
                (
                    tuple(guards_sorted(v) if isinstance(v, str) else v for v in row)
                    for row in rows
                ),
                key=repr,
            )
            for name, query in queries.items()
            for rows in [connection.execute(query).fetchall()]
        }


def test_squashed_and_old_migrations_build_the_same_schema(
    databases: dict[str, str], tmp_path: Path
) -> None:
    squashed_env = env_for(databases["squashed"], (tmp_path / "squashed"))
    old_env = env_for(databases["old"], (tmp_path / "old"))
    if VENDOR == "sqlite":
        assert Path(databases["squashed"]).parent == tmp_path / "squashed"

    built = run(squashed_env, "-m", "neuroclinic", "migrate", "--no-input", "-v1")
    assert built.returncode == 0, built.stderr
    # A new database applies the squashes, and none of the migrations they replace.
    assert "_squashed_" in built.stdout
    assert "0002_append_only_triggers" not in built.stdout
    old = run(old_env, "-c", OLD_CHAIN)
    assert old.returncode == 0, old.stderr
    assert f"{len(squashes())} squashes left out" in old.stdout

    # A database that applied the old migrations has nothing to apply: every squash counts as applied.
    check = run(old_env, "-m", "neuroclinic", "migrate", "--check", "--no-input")
    assert check.returncode == 0, check.stdout + check.stderr
    shown = run(old_env, "-m", "neuroclinic", "showmigrations", "--plan")
    assert shown.returncode == 0, shown.stderr
    assert "[ ]" not in shown.stdout

    squashed_schema, old_schema = (
        schema(databases["squashed"]),
        schema(databases["old"]),
    )
    assert squashed_schema.keys() == old_schema.keys()
    for part in squashed_schema:
        assert squashed_schema[part] == old_schema[part], part
    # The comparison saw the append-only triggers, which the squashes install by replaying.
    assert any("auditevent" in repr(row) for row in squashed_schema["triggers"])
