"""Seal the TMS, letters and billing records that existed before they were sealed.

The same baseline as 0005 for the apps that landed later (issue #15 item 1 asks
for TMS sessions, letters, invoices and payments). Only rows without a seal are
sealed, so a database where 0005 already saw these tables gets no duplicates.
"""

from django.db import migrations

BATCH = 2000
LABELS = (
    "tms.safetyscreen",
    "tms.screendecision",
    "tms.motorthreshold",
    "tms.tmscourse",
    "tms.tmssession",
    "tms.intensitychange",
    "tms.sideeffect",
    "tms.interruption",
    "tms.seizureevent",
    "tms.seizurereview",
    "tms.sessionaddendum",
    "letters.letter",
    "letters.lettersend",
    "letters.letteraddendum",
    "letters.part2consent",
    "billing.goodfaithestimate",
    "billing.packagesale",
    "billing.invoice",
    "billing.invoiceline",
    "billing.payment",
    "billing.superbill",
)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from neuroclinic.audit.seals import seal_existing

    seal_existing(apps, schema_editor, LABELS, batch=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_integrity_seal_existing"),
        ("tms", "0002_tms10_session_addenda"),
        ("letters", "0002_letters12_addenda_part2_email"),
        ("billing", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
