"""A consult request's notes are append-only by database trigger (issue #15 item 1:
notes), on SQLite and PostgreSQL: a note is only ever added (the model always said
so), never edited or deleted. Each is also sealed (audit 0008).
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [Guard("intake_consultnote")]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_tamper15_consent_documents_append_only"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
