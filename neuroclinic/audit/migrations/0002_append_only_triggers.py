"""Database triggers that refuse UPDATE and DELETE on the audit log.

Application code never changes an event; these triggers make the database
refuse too, on SQLite and PostgreSQL alike. TRUNCATE is left to the table's
owner on PostgreSQL (tests reset tables with it); production should also
revoke UPDATE, DELETE and TRUNCATE from the application's role (docs/security.md).

Careful: on SQLite, most AlterField operations rebuild the table, and the
rebuild drops its triggers. A migration that alters audit_auditevent must
create these triggers again (the append-only tests fail if it does not).
"""

from django.db import migrations

TABLE = "audit_auditevent"

SQLITE_UP = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END""",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]

POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION neuroclinic_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
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
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
