"""One audit chain per organization: the global chain is closed at its head, new chains start from it.

Events already written stay where they are, in the global chain named "audit",
whose head row is no longer moved: rewriting them into per-organization chains
would change their hashes, which is what tampering looks like. From here on,
each organization's events form a chain of their own (head row "org:<id>",
made on first use) and events without an organization the "system" chain;
each new chain's first event links to the global chain's final hash.

`seq` stays unique across all events. On PostgreSQL it comes from a sequence
made here (starting after the highest number used), so writers of different
organizations never wait on one row; on SQLite the single write lock already
serializes writers. No table is altered (the append-only triggers stay).
"""

from django.db import migrations

SEQUENCE = "audit_event_seq"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    highest = max(
        [AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0]
        + list(ChainHead.objects.values_list("seq", flat=True))
    )
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS bigint MINVALUE 1")
    schema_editor.execute("SELECT setval(%s, %s, %s)", [SEQUENCE, max(highest, 1), highest > 0])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_seal_tms_letters_billing")]
    operations = [migrations.RunPython(forwards, backwards)]
