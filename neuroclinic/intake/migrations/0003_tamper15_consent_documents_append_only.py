"""A published consent text is never changed: a new version is a new row (issue #15).

What a patient signed must read the same later; the signatures are append-only
already (intake 0002). Every row is also sealed (neuroclinic/audit/seals.py).
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [Guard("intake_consentdocument")]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0002_integrity_append_only"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
