"""Questionnaire responses are never edited: the database refuses UPDATE and DELETE.

An amendment is a new row pointing at the one it replaces. Same pattern as
the audit log (audit 0002); on SQLite, a later migration that rebuilds this
table must create the triggers again.
"""

from django.db import migrations

TABLE = "measures_questionnaireresponse"

SQLITE_UP = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END""",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]
POSTGRES_UP = [
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION neuroclinic_refuse_change()""",
]
POSTGRES_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}"]


def forwards(apps, schema_editor):
    statements = SQLITE_UP if schema_editor.connection.vendor == "sqlite" else POSTGRES_UP
    for sql in statements:
        schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    statements = SQLITE_DOWN if schema_editor.connection.vendor == "sqlite" else POSTGRES_DOWN
    for sql in statements:
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
