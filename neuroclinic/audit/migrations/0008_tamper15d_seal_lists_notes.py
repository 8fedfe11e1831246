"""Seal the problem lists, consult notes and treatment resumptions that existed before.

Issue #15 item 1 asks for every signed or charted clinical record; these were
neither sealed nor append-only (found walking the issue, tamper15d). The same
baseline as 0005 and 0006; only rows without a seal are sealed.
"""

from django.db import migrations

BATCH = 2000
LABELS = (
    "patients.diagnosis",
    "patients.medication",
    "patients.allergy",
    "intake.consultnote",
    "measures.treatmentresumption",
)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from neuroclinic.audit.seals import seal_existing

    seal_existing(apps, schema_editor, LABELS, batch=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_scale17b_audit_chain_per_organization"),
        ("patients", "0004_tamper15d_lists_append_only"),
        ("intake", "0004_tamper15d_consult_notes_append_only"),
        ("measures", "0008_tamper15d_resumption_append_only"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
