"""A signed note's words and a calculated dose never change (issue #15 item 1).

The note may be co-signed once (its co-signature columns, while it has none) and the
dose checked once by a second nurse (its check columns, while it has none); every other
column is fixed from the start and, after that one step, none changes. Neither is ever
deleted. Both were already sealed (`neuroclinic verify` names a raw edit); now the
database refuses the edit. Corrections are addenda and new dose records.
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [
    Guard(
        "infusions_infusionnote",
        open_while="OLD.cosigned_at IS NULL",
        open_columns=("cosigned_by_id", "cosigned_at"),
    ),
    Guard(
        "infusions_doserecord",
        open_while="OLD.checked_at IS NULL",
        open_columns=("checked_by_id", "checked_at"),
    ),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("infusions", "0005_ux18_board_display_link"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
