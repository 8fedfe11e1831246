"""The infusion session, its alarms and its questionnaires are append-only by database
trigger (issue #15 item 1), on SQLite and PostgreSQL, except for the steps of their
life cycle. Every row is also sealed (neuroclinic/audit/seals.py).

An infusion session moves checked in -> infusing (running, paused) -> recovery ->
discharged -> closed (the note signed), or checked in -> cancelled. Each step may
change only the columns that step records:

- checked in: the checklist (weight, height, fasting times, escort, pregnancy, the
  nurse's confirmation and its snapshot), then the start (status, start time, rate,
  the checklist as it stood) or the cancellation (status, time, reason);
- infusing: pause and resume (status), the rate, then the stop (status, end time and
  reason, whether early, volume and dose given);
- recovery: the discharge (status, who, when, escort, instructions);
- discharged: the note's signature closes it (status, time).

Who, which patient, plan, order, room, which infusion of the series, and the check-in
never change; a closed or cancelled session changes no more. No session is deleted.

An alarm is cleared once (and, while active, follows the newest reading that keeps it
up: its message and that reading's time) and acknowledged once (time, who, note).
A questionnaire link never changes.
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, Step, install, remove

CHECKLIST = (
    "weight_kg",
    "weight_entered",
    "weight_recorded_at",
    "height_cm",
    "last_solids_at",
    "last_clear_liquids_at",
    "escort_name",
    "escort_phone",
    "escort_confirmed",
    "pregnancy_status",
    "pregnancy_note",
    "checklist_confirmed_by_id",
    "checklist_confirmed_at",
    "checklist_snapshot",
)
INFUSING = "('running', 'paused')"

GUARDS = [
    Guard(
        "infusions_infusionsession",
        steps=(
            Step("OLD.status = 'checked_in' AND NEW.status = 'checked_in'", CHECKLIST),
            Step(
                "OLD.status = 'checked_in' AND NEW.status = 'running'",
                ("status", "started_at", "rate_ml_per_hour", "checklist_snapshot"),
            ),
            Step(
                "OLD.status = 'checked_in' AND NEW.status = 'cancelled'",
                ("status", "cancelled_at", "cancel_reason"),
            ),
            Step(
                f"OLD.status IN {INFUSING} AND NEW.status IN {INFUSING}",
                ("status", "rate_ml_per_hour"),
            ),
            Step(
                f"OLD.status IN {INFUSING} AND NEW.status = 'recovery'",
                (
                    "status",
                    "ended_at",
                    "end_reason",
                    "stopped_early",
                    "volume_infused_ml",
                    "mg_given",
                    "mg_per_kg_given",
                ),
            ),
            Step(
                "OLD.status = 'recovery' AND NEW.status = 'discharged'",
                (
                    "status",
                    "discharged_at",
                    "discharged_by_id",
                    "discharge_escort_name",
                    "instructions_channel",
                    "instructions_given_at",
                ),
            ),
            Step(
                "OLD.status = 'discharged' AND NEW.status = 'closed'",
                ("status", "closed_at"),
            ),
        ),
    ),
    Guard(
        "infusions_sessionalarm",
        steps=(
            Step(
                "OLD.cleared_at IS NULL",
                ("cleared_at", "message", "reading_taken_at"),
            ),
            Step(
                "OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL",
                ("acknowledged_at", "acknowledged_by_id", "acknowledgment_note"),
            ),
        ),
    ),
    Guard("infusions_sessionquestionnaire"),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("infusions", "0006_lead_notes_doses_append_only"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
