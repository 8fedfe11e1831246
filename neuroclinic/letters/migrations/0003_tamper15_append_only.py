"""Signed letters, their sends, addenda and Part 2 consents are append-only (issue #15).

A letter is a draft until it is signed: its text may change and signing writes
the status, signer, time and hash; who and what it is about never changes, and
a draft may be discarded. Once signed, the database refuses every UPDATE and
DELETE (a correction is an addendum). Every row is also sealed
(neuroclinic/audit/seals.py).
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [
    Guard(
        "letters_letter",
        open_while="OLD.status = 'draft'",
        open_columns=("body", "status", "signed_by_id", "signed_at", "body_sha256"),
        delete_while_open=True,
    ),
    Guard("letters_lettersend"),
    Guard("letters_letteraddendum"),
    Guard("letters_part2consent"),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0002_letters12_addenda_part2_email"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
