"""A prescriber's signed decision to resume treatment after a safety alert is
append-only by database trigger (issue #15 item 1: signed decisions), on SQLite and
PostgreSQL: one per alert, never edited or deleted. It is also sealed (audit 0008).
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [Guard("measures_treatmentresumption")]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0007_tms10c_hamd17_choices"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
