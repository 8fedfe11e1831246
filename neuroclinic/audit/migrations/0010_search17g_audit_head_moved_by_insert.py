"""On SQLite, inserting an audit event moves its chain's head (PostgreSQL does it in the INSERT).

`audit.record()` appends an event in one statement: it reads and locks the
chain's head, numbers and hashes the event and, on PostgreSQL, moves the head
in a data-modifying WITH of the same statement. SQLite has no data-modifying
WITH, so this trigger moves the head the event was linked to (the head of its
organization's chain, or the system chain's, whose hash is the event's
previous hash). An event that links to another hash moves no head.

Careful: a SQLite table rebuild of audit_auditevent drops this trigger too;
a migration that alters the table must create it again (the chain tests fail
if it does not: the head stays behind and verify reports the chain cut back).
"""

from django.db import migrations

SQLITE_UP = """CREATE TRIGGER audit_auditevent_moves_head AFTER INSERT ON audit_auditevent
FOR EACH ROW BEGIN
    UPDATE audit_chainhead SET seq = NEW.seq, hash = NEW.hash
    WHERE name = CASE WHEN NEW.organization_id IS NULL THEN 'system'
                      ELSE 'org:' || NEW.organization_id END
      AND hash = NEW.prev_hash;
END"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_auditevent_moves_head"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN, None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_lead_seal_em_rules_coding")]
    operations = [migrations.RunPython(forwards, backwards)]
