"""Charted records that are never changed once written: the database refuses UPDATE and DELETE.

A correction is a new record (issue #15). Every row of these tables is also
sealed (neuroclinic/audit/seals.py), so an edit made with the triggers switched
off is named by `neuroclinic verify`. On SQLite, a later migration that rebuilds
one of these tables must create its triggers again.
"""

from django.db import migrations

TABLES = [
    "infusions_vitalreading",
    "infusions_sessionevent",
    "infusions_noteaddendum",
    "infusions_prngiven",
    "infusions_sedationscore",
    "infusions_recoveryassessment",
    "infusions_adverseevent",
]


def forwards(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "sqlite":
            statements = [
                f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END""",
                f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END""",
            ]
        else:
            statements = [
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION neuroclinic_refuse_change()"""
            ]
        for sql in statements:
            schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "sqlite":
            statements = [
                f"DROP TRIGGER IF EXISTS {table}_no_update",
                f"DROP TRIGGER IF EXISTS {table}_no_delete",
            ]
        else:
            statements = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]
        for sql in statements:
            schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [
        ("infusions", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
