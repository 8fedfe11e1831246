"""Safety alerts are append-only by database trigger (issue #15 item 1), on SQLite and
PostgreSQL, except for the steps of their life cycle. Every row is also sealed.

An alert raised by an answer is linked once to the response that carried it (when the
portal raised it before the response was stored); it is escalated once, while nobody
has acknowledged it (when and to whom); it is acknowledged once, with the risk
assessment and disposition (when, who, the assessment or the C-SSRS that documents it,
the risk level, what happens next and why). Who it is about, why it was raised, by
whom, when and to whom it was routed never change, nothing changes in an acknowledged
alert but that one link, and no alert is deleted.
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, Step, install, remove

GUARDS = [
    Guard(
        "measures_safetyalert",
        steps=(
            Step(
                "OLD.response_id IS NULL AND NEW.response_id IS NOT NULL",
                ("response_id",),
            ),
            Step(
                "OLD.escalated_at IS NULL AND OLD.acknowledged_at IS NULL"
                " AND NEW.escalated_at IS NOT NULL",
                ("escalated_at", "escalated_to_id"),
            ),
            Step(
                "OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL",
                (
                    "acknowledged_at",
                    "acknowledged_by_id",
                    "assessment",
                    "assessment_response_id",
                    "risk_level",
                    "disposition",
                    "disposition_note",
                ),
            ),
        ),
    ),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0005_tms10b_tms_triggers"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
