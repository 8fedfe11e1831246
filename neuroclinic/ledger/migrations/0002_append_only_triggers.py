"""Database triggers that refuse UPDATE and DELETE on the ledger's append-only tables.

Application code never changes a ledger entry, a count, an inventory or a check
result: a correction is a reversing entry. These triggers make the database
refuse too, on SQLite and PostgreSQL alike. PostgreSQL reuses the audit app's
`neuroclinic_refuse_change()` function (audit migration 0002).

Careful: on SQLite, most AlterField operations rebuild the table, and the
rebuild drops its triggers. A migration that alters one of these tables must
create its triggers again (the append-only tests fail if it does not).
"""

from django.db import migrations

TABLES = [
    "ledger_ledgerentry",
    "ledger_count",
    "ledger_countline",
    "ledger_inventory",
    "ledger_inventoryline",
    "ledger_ledgercheck",
]


def _sqlite_up(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END""",
    ]


def _sqlite_down(table):
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
    ]


def _postgres_up(table):
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION neuroclinic_refuse_change()"""
    ]


def _postgres_down(table):
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]


def forwards(apps, schema_editor):
    make = _sqlite_up if schema_editor.connection.vendor == "sqlite" else _postgres_up
    for table in TABLES:
        for sql in make(table):
            schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    drop = _sqlite_down if schema_editor.connection.vendor == "sqlite" else _postgres_down
    for table in TABLES:
        for sql in drop(table):
            schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
