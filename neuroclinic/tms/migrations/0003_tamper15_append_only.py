"""TMS records are append-only by database trigger on SQLite and PostgreSQL (issue #15).

Screens, decisions, thresholds, course orders and what happened in a session
never change once written: a correction is a new record (an addendum, a new
threshold). A session is open while it runs: its intensity, pulses, status,
end and note change until it ends, nothing else ever does, and once it has
ended nothing changes. Every row is also sealed (neuroclinic/audit/seals.py).
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [
    Guard("tms_safetyscreen"),
    Guard("tms_screendecision"),
    Guard("tms_motorthreshold"),
    Guard("tms_tmscourse"),
    Guard(
        "tms_tmssession",
        open_while="OLD.status = 'in_progress'",
        open_columns=(
            "percent_of_mt",
            "output_percent",
            "pulses_delivered",
            "trains_delivered",
            "status",
            "ended_at",
            "note",
        ),
    ),
    Guard("tms_intensitychange"),
    Guard("tms_sideeffect"),
    Guard("tms_interruption"),
    Guard("tms_seizureevent"),
    Guard("tms_seizurereview"),
    Guard("tms_sessionaddendum"),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("tms", "0002_tms10_session_addenda"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
