"""Diagnoses, medications and allergies are append-only by database trigger (issue #15
item 1), on SQLite and PostgreSQL, except for ending: an entry that no longer applies
(or was entered in error) is ended once, with who, when and why. No other column ever
changes and no entry is deleted. Each is also sealed (audit 0008). The patient row
itself stays sealed only: demographics are corrected in place (docs/security.md).
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, Step, install, remove

ENDED = ("ended_at", "ended_by_id", "end_reason")
END_ONCE = Step("OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL", ENDED)

GUARDS = [
    Guard("patients_diagnosis", steps=(END_ONCE,)),
    Guard("patients_medication", steps=(END_ONCE,)),
    Guard("patients_allergy", steps=(END_ONCE,)),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_phone_search_reversed"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
