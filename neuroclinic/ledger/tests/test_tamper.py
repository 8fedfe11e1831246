"""What a DEA record shows besides its entries is append-only by trigger (issue #15 items
1 and 2, and its tamper suite): registrants, safes, products, suppliers, lots and
receipts never change (a receipt's scan is attached once); a vial keeps its identity
while its balance, status and place follow the ledger.

With a received stock and two sessions' entries: the database refuses UPDATE and DELETE
of each record, and with the triggers off `neuroclinic verify` names each edit, delete,
insert and reorder. SQLite and PostgreSQL.
"""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models, transaction

from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
    attack,
)
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    Lot,
    Product,
    Receipt,
    Registrant,
    StorageLocation,
    Supplier,
)

pytestmark = pytest.mark.django_db

# A column of each, as a DEA record shows it.
EDITED: dict[type[models.Model], str] = {
    Product: "name",
    Supplier: "name",
    Lot: "lot_number",
    Receipt: "invoice_number",
    Container: "vial_identifier",
}
REFERENCE: list[type[models.Model]] = [
    Registrant,
    StorageLocation,
    Product,
    Supplier,
    Lot,
    Receipt,
]


def test_reference_data_refuses_every_change_and_each_attack_is_named(
    history: list[LedgerEntry],
) -> None:
    assert verify_seals() == []
    call_command("verify", stdout=_Quiet())
    # Registrants and safes: `neuroclinic verify` names each attack first.
    for model in (Registrant, StorageLocation):
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        assert_refused(model, pks[-1])
        made = assert_attacks_named(model, pks[-1], pks[0] if len(pks) > 1 else None)
        assert {"edit", "delete", "insert"} <= set(made), model
    # What the entries point at. An edit is named first by the seal check, and so is a
    # deleted supplier or receipt. A deleted product, lot or vial is named first by the
    # ledger walk, which runs before the seal check: at the first entry of that product,
    # or at the balance of the vial (of that lot) that no longer adds up; the seal check
    # names the row itself too.
    checked: list[type[models.Model]] = [Product, Supplier, Lot, Receipt, Container]
    for target in checked:
        label = target._meta.label_lower
        table = target._meta.db_table
        pk = target._base_manager.order_by("-pk").values_list("pk", flat=True)[0]
        if target is not Container:
            assert_refused(target, pk)
        for statement in (
            f"DELETE FROM {table} WHERE id = %s",
            f"UPDATE {table} SET {EDITED[target]} = 'X' WHERE id = %s",
        ):
            expected = _named_first(target, pk, statement.startswith("DELETE"))
            with attack(table):
                with connection.cursor() as cursor:
                    cursor.execute(statement, [pk])
                found = {(p.model, p.object_id) for p in verify_seals(limit=1000)}
                assert (label, str(pk)) in found, f"{label}: {statement}"
                with pytest.raises(CommandError) as caught:
                    call_command("verify", stdout=_Quiet())
                first = str(caught.value).partition("; first: ")[2]
                assert first.startswith(expected), f"{statement}: {first}"
    assert verify_seals() == []


def _named_first(target: type[models.Model], pk: int, deleted: bool) -> str:
    """How `neuroclinic verify` begins its first problem when this row is attacked."""
    label = target._meta.label_lower
    if not deleted or target in (Supplier, Receipt):
        return f"record {label} #{pk}: "
    registrant = Registrant.objects.get()
    walk = f"{registrant.name} ({registrant.dea_number}): BROKEN at "
    if target is Product:
        entry = LedgerEntry.objects.filter(product_id=pk).order_by("seq").first()
        assert entry is not None
        return f"{walk}entry #{entry.seq} ({entry.uuid}): "
    vials = Container.objects.filter(lot_id=pk) if target is Lot else [Container(pk=pk)]
    vial = min(v.pk for v in vials)
    return f"{walk}its balances: vial {vial} shows "


def test_a_vial_keeps_its_identity_while_the_ledger_moves_it(
    history: list[LedgerEntry],
) -> None:
    vial = Container.objects.order_by("pk").first()
    assert vial is not None
    table = "ledger_container"
    for statement in (
        f"UPDATE {table} SET vial_identifier = 'V-9999' WHERE id = %s",
        f"UPDATE {table} SET lot_id = lot_id + 1 WHERE id = %s",
        f"UPDATE {table} SET initial_volume_ml = initial_volume_ml + 1 WHERE id = %s",
        f"UPDATE {table} SET received_at = opened_at WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [vial.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance_ml = 0, status = 'empty' WHERE id = %s",
            [vial.pk],
        )


def test_a_receipt_takes_its_scan_once(history: list[LedgerEntry]) -> None:
    receipt = Receipt.objects.order_by("pk").first()
    assert receipt is not None
    table = "ledger_receipt"
    assert_statement_refused(
        f"UPDATE {table} SET invoice_number = 'INV-1' WHERE id = %s", [receipt.pk]
    )
    if receipt.scan_sha256:
        assert_statement_refused(
            f"UPDATE {table} SET scan_sha256 = 'x' WHERE id = %s", [receipt.pk]
        )
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET scan_sha256 = 'x', invoice_scan = 'a.pdf' "
                "WHERE id = %s",
                [receipt.pk],
            )
        assert_statement_refused(
            f"UPDATE {table} SET scan_sha256 = 'y' WHERE id = %s", [receipt.pk]
        )


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
