"""What a DEA record shows besides its entries is append-only by database trigger
(issue #15 items 1 and 2), on SQLite and PostgreSQL. Every row is also sealed.

Registrants, storage locations, products, suppliers and lots never change once
written: no action edits them (a new supplier or product is a new record, a lot is
found or created on receipt). A receipt's invoice scan is attached once (the file, its
type, hash and size, while it has none); nothing else on a receipt changes. A
container (a vial) keeps its identity (registrant at receipt aside, product, lot, vial
number, receipt, initial volume, when received); its balance, status and opening time
follow each ledger entry, which states them, and a transfer moves it to another safe
(and that safe's registrant). No row is deleted.
"""

from django.db import migrations

from neuroclinic.audit.triggers import Guard, Step, install, remove

GUARDS = [
    Guard("ledger_registrant"),
    Guard("ledger_storagelocation"),
    Guard("ledger_product"),
    Guard("ledger_supplier"),
    Guard("ledger_lot"),
    Guard(
        "ledger_receipt",
        steps=(
            Step(
                "OLD.scan_sha256 = '' AND NEW.scan_sha256 <> ''",
                ("invoice_scan", "scan_content_type", "scan_sha256", "scan_size_bytes"),
            ),
        ),
    ),
    Guard(
        "ledger_container",
        steps=(
            Step(
                # Every change of a vial is a ledger entry, whatever its status.
                "1 = 1",
                ("balance_ml", "status", "opened_at", "storage_location_id", "registrant_id"),
            ),
        ),
    ),
]


def forwards(apps, schema_editor):
    install(schema_editor, GUARDS)


def backwards(apps, schema_editor):
    remove(schema_editor, GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_append_only_triggers"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
