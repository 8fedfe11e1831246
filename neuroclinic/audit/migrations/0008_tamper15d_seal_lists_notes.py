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
    from neuroclinic.audit.seals import seals_for

    using = schema_editor.connection.alias
    Seal = apps.get_model("audit", "Seal")
    for label in LABELS:
        app_label, name = label.split(".")
        model = apps.get_model(app_label, name)
        sealed = set(
            Seal._base_manager.using(using)
            .filter(model=label)
            .values_list("object_id", flat=True)
        )
        pks = [
            pk
            for pk in model._base_manager.using(using)
            .order_by("pk")
            .values_list("pk", flat=True)
            if str(pk) not in sealed
        ]
        for start in range(0, len(pks), BATCH):
            seals = seals_for(
                model,
                pks[start : start + BATCH],
                using=using,
                seal_model=Seal,
                label=label,
            )
            Seal._base_manager.using(using).bulk_create(seals)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_scale17b_audit_chain_per_organization"),
        ("patients", "0004_tamper15d_lists_append_only"),
        ("intake", "0004_tamper15d_consult_notes_append_only"),
        ("measures", "0008_tamper15d_resumption_append_only"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
