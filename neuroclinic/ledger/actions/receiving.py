"""Receiving stock on a supplier's invoice (Schedule III: no Form 222), and its scan."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.actions.guards import checked_time, require_same_organization
from neuroclinic.ledger.chain import ZERO, Movement, append, lock_head
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    LedgerHead,
    Lot,
    Product,
    Receipt,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.scans import check_scan

MAX_CONTAINERS_PER_ITEM = 200


@dataclass(frozen=True)
class ReceiptItem:
    product: Product
    lot_number: str
    expiry_date: date
    container_count: int
    vial_identifiers: Sequence[str] = ()  # blank: numbered by the ledger


@transaction.atomic
def receive_invoice(
    registrant: Registrant,
    *,
    supplier: Supplier,
    invoice_number: str,
    invoice_date: date,
    storage_location: StorageLocation,
    items: Sequence[ReceiptItem],
    received_at: datetime | None = None,
    scan: "UploadedFile[bytes] | None" = None,
    notes: str = "",
    by: User,
) -> Receipt:
    """Receive stock on a supplier's invoice (Schedule III: no Form 222), one entry per vial."""
    require_same_organization(by, registrant, supplier, storage_location)
    when = checked_time(received_at)
    today = local_date(registrant, when)
    invoice_number = invoice_number.strip()
    if not invoice_number:
        raise LedgerError(
            "Give the invoice number.", field="invoice_number", code="required"
        )
    if supplier.kind != Supplier.Kind.DISTRIBUTOR or not supplier.is_active:
        raise LedgerError(
            "Choose an active supplier.", field="supplier", code="supplier_invalid"
        )
    if invoice_date > today:
        raise LedgerError(
            "The invoice date is in the future.",
            field="invoice_date",
            code="future_date",
        )
    if (
        storage_location.registrant_id != registrant.pk
        or not storage_location.is_active
    ):
        raise LedgerError(
            "Choose an active safe of this registration.",
            field="storage_location",
            code="storage_invalid",
        )
    if Receipt.objects.filter(
        organization_id=registrant.organization_id,
        supplier=supplier,
        invoice_number=invoice_number,
    ).exists():
        raise LedgerError(
            f"Invoice {invoice_number} from {supplier.name} was already received.",
            field="invoice_number",
            code="invoice_duplicate",
        )
    if not items:
        raise LedgerError(
            "List at least one item from the invoice.", field="items", code="required"
        )
    checked_scan = check_scan(scan) if scan is not None else None

    head = lock_head(registrant)
    receipt = Receipt(
        organization_id=registrant.organization_id,
        registrant=registrant,
        supplier=supplier,
        supplier_name=supplier.name,
        supplier_address=supplier.address,
        supplier_dea_number=supplier.dea_number,
        invoice_number=invoice_number,
        invoice_date=invoice_date,
        received_at=when,
        received_by=by,
        storage_location=storage_location,
        notes=notes,
    )
    saved_name = ""
    try:
        if checked_scan is not None:
            receipt.invoice_scan.save(
                f"scan.{checked_scan.extension}", checked_scan.content, save=False
            )
            saved_name = receipt.invoice_scan.name or ""
            receipt.scan_content_type = checked_scan.content_type
            receipt.scan_sha256 = checked_scan.sha256
            receipt.scan_size_bytes = checked_scan.size_bytes
        receipt.save(force_insert=True)
        summary = _receive_items(
            head, receipt, registrant, items, storage_location, by, when, today
        )
    except BaseException:
        if saved_name:
            receipt.invoice_scan.storage.delete(saved_name)
        raise
    record(
        AuditEvent.Action.LEDGER_RECEIVED,
        actor=by,
        subject=receipt,
        supplier_dea_number=supplier.dea_number,
        invoice_number=invoice_number,
        items=summary,
        scan_sha256=receipt.scan_sha256,
    )
    return receipt


def _receive_items(
    head: LedgerHead,
    receipt: Receipt,
    registrant: Registrant,
    items: Sequence[ReceiptItem],
    storage_location: StorageLocation,
    received_by: User,
    when: datetime,
    today: date,
) -> list[dict[str, Any]]:
    summary = []
    seen_identifiers: set[str] = set()
    for index, item in enumerate(items):
        prefix = f"items.{index}"
        product = item.product
        if (
            product.organization_id != registrant.organization_id
            or not product.is_active
        ):
            raise LedgerError(
                "Choose an active product.",
                field=f"{prefix}.product",
                code="product_invalid",
            )
        if not 1 <= item.container_count <= MAX_CONTAINERS_PER_ITEM:
            raise LedgerError(
                f"The number of containers must be 1 to {MAX_CONTAINERS_PER_ITEM}.",
                field=f"{prefix}.container_count",
                code="container_count_invalid",
            )
        lot_number = item.lot_number.strip()
        if not lot_number:
            raise LedgerError(
                "Give the lot number.", field=f"{prefix}.lot_number", code="required"
            )
        if item.expiry_date < today:
            raise LedgerError(
                f"Lot {lot_number} expired on {item.expiry_date:%Y-%m-%d}: do not receive "
                "expired stock; return it to the supplier.",
                field=f"{prefix}.expiry_date",
                code="lot_expired",
            )
        lot, _ = Lot.objects.get_or_create(
            organization_id=registrant.organization_id,
            product=product,
            lot_number=lot_number,
            defaults={"expiry_date": item.expiry_date},
        )
        if lot.expiry_date != item.expiry_date:
            raise LedgerError(
                f"Lot {lot_number} is on file with expiry {lot.expiry_date:%Y-%m-%d}, "
                f"not {item.expiry_date:%Y-%m-%d}: check the label.",
                field=f"{prefix}.expiry_date",
                code="lot_expiry_mismatch",
            )
        identifiers = [v.strip() for v in item.vial_identifiers if v.strip()]
        if identifiers and len(identifiers) != item.container_count:
            raise LedgerError(
                f"Give {item.container_count} vial identifiers, or none to have them numbered.",
                field=f"{prefix}.vial_identifiers",
                code="vial_identifiers_count",
            )
        if not identifiers:
            identifiers = []
            for _ in range(item.container_count):
                # The whole DEA number: unique per registration, so two
                # registrations of one organization never number alike.
                identifiers.append(
                    f"{registrant.dea_number}-{head.next_vial_number:05d}"
                )
                head.next_vial_number += 1
            head.save(update_fields=["next_vial_number"])
        for identifier in identifiers:
            if (
                identifier in seen_identifiers
                or Container.objects.filter(
                    organization_id=registrant.organization_id,
                    vial_identifier=identifier,
                ).exists()
            ):
                raise LedgerError(
                    f"Vial identifier {identifier} is already in use.",
                    field=f"{prefix}.vial_identifiers",
                    code="vial_identifier_taken",
                )
            seen_identifiers.add(identifier)
            container = Container.objects.create(
                organization_id=registrant.organization_id,
                registrant=registrant,
                product=product,
                lot=lot,
                storage_location=storage_location,
                receipt=receipt,
                vial_identifier=identifier,
                status=Container.Status.SEALED,
                initial_volume_ml=product.container_volume_ml,
                balance_ml=ZERO,
                received_at=when,
            )
            append(
                head,
                Movement(
                    kind=LedgerEntry.Kind.RECEIVE,
                    container=container,
                    quantity_ml=product.container_volume_ml,
                    container_change_ml=product.container_volume_ml,
                    actor=received_by,
                    occurred_at=when,
                    receipt=receipt,
                    details={
                        "supplier_name": receipt.supplier_name,
                        "supplier_address": receipt.supplier_address,
                        "supplier_dea_number": receipt.supplier_dea_number,
                        "invoice_number": receipt.invoice_number,
                        "invoice_date": receipt.invoice_date,
                    },
                ),
            )
        summary.append(
            {
                "ndc": product.ndc,
                "lot": lot_number,
                "containers": len(identifiers),
            }
        )
    return summary


@transaction.atomic
def attach_invoice_scan(
    receipt: Receipt, *, scan: "UploadedFile[bytes]", by: User
) -> Receipt:
    """Attach the scan to a receipt that has none; a scan is never replaced."""
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.invoice_scan:
        raise LedgerError(
            "This receipt already has its scan; scans are never replaced.",
            field="invoice_scan",
            code="scan_exists",
        )
    checked = check_scan(scan)
    receipt.invoice_scan.save(f"scan.{checked.extension}", checked.content, save=False)
    receipt.scan_content_type = checked.content_type
    receipt.scan_sha256 = checked.sha256
    receipt.scan_size_bytes = checked.size_bytes
    receipt.save(
        update_fields=[
            "invoice_scan",
            "scan_content_type",
            "scan_sha256",
            "scan_size_bytes",
        ]
    )
    record(
        AuditEvent.Action.LEDGER_SCAN_ATTACHED,
        actor=by,
        subject=receipt,
        scan_sha256=checked.sha256,
    )
    return receipt
