"""Seal every record that existed before sealing began, so verify has a baseline.

Reads each sealed table as it is now: whatever it holds at migration time is
taken as what the application wrote (an edit made before this migration cannot
be detected by seals; the audit and ledger chains still cover their own rows).
"""

from django.db import migrations

BATCH = 2000


def forwards(apps, schema_editor):
    from neuroclinic.audit.seals import SEALED_MODELS, seals_for

    using = schema_editor.connection.alias
    Seal = apps.get_model("audit", "Seal")
    for label in SEALED_MODELS:
        app_label, name = label.split(".")
        try:
            model = apps.get_model(app_label, name)
        except LookupError:
            continue
        pks = list(
            model._base_manager.using(using).order_by("pk").values_list("pk", flat=True)
        )
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
        ("audit", "0004_integrity_seals"),
        ("accounts", "0002_roles"),
        ("infusions", "0001_initial"),
        ("intake", "0001_initial"),
        ("ledger", "0002_append_only_triggers"),
        ("measures", "0002_responses_append_only"),
        ("patients", "0003_phone_search_reversed"),
        ("treatment", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
