"""What was charged, estimated and paid is append-only by database trigger (issue #15).

Estimates, package sales, invoices and their lines, payments (refunds and
credits are payments of their own kind, pointing at what they reverse) and
superbills never change once written. Every row is also sealed
(neuroclinic/audit/seals.py). Price lists, packages and the invoice number
sequence are settings, not records, and stay editable.
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, install, remove

GUARDS = [
    Guard("billing_goodfaithestimate"),
    Guard("billing_packagesale"),
    Guard("billing_invoice"),
    Guard("billing_invoiceline"),
    Guard("billing_payment"),
    Guard("billing_superbill"),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
