"""Seal the office-visit time rules and each visit invoice's coding that existed before.

Both are append-only by trigger since billing 0006; issue #15 item 1 asks that what
was charged is also sealed, and the coding is the basis of a visit invoice's code.
The same baseline as 0005, 0006 and 0008; only rows without a seal are sealed.
"""

from django.db import migrations

BATCH = 2000
LABELS = ("billing.emruleversion", "billing.visitcoding")


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from neuroclinic.audit.seals import seal_existing

    seal_existing(apps, schema_editor, LABELS, batch=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_tamper15d_seal_lists_notes"),
        ("billing", "0006_billing12d_em_rule_versions"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
