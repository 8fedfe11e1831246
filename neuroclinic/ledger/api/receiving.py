"""Receiving a supplier's invoice, and attaching its scan."""

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile

from neuroclinic.accounts.roles import Capability
from neuroclinic.ledger.actions.receiving import (
    ReceiptItem,
    attach_invoice_scan,
    receive_invoice,
)
from neuroclinic.ledger.api.access import Needs, get_own, refusals, staff_user
from neuroclinic.ledger.api.serialize import receipt_out
from neuroclinic.ledger.models import (
    Product,
    Receipt,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.schemas import (
    ReceiptIn,
    ReceiptOut,
)

router = Router()


@router.post(
    "/receipts", response={201: ReceiptOut}, auth=Needs(Capability.LEDGER_RECEIVE)
)
def receive(request: HttpRequest, payload: ReceiptIn) -> Status[dict[str, Any]]:
    """Receive a supplier's invoice: lots, vials and one receive entry per vial."""
    user = staff_user(request, Capability.LEDGER_RECEIVE)
    registrant = get_own(Registrant, user, payload.registrant)
    items = [
        ReceiptItem(
            product=get_own(Product, user, item.product),
            lot_number=item.lot_number,
            expiry_date=item.expiry_date,
            container_count=item.container_count,
            vial_identifiers=item.vial_identifiers,
        )
        for item in payload.items
    ]
    with refusals():
        receipt = receive_invoice(
            registrant,
            supplier=get_own(Supplier, user, payload.supplier),
            invoice_number=payload.invoice_number,
            invoice_date=payload.invoice_date,
            storage_location=get_own(StorageLocation, user, payload.storage_location),
            items=items,
            by=user,
            received_at=payload.received_at,
            notes=payload.notes,
        )
    return Status(201, receipt_out(receipt))


@router.get(
    "/receipts/{receipt_id}", response=ReceiptOut, auth=Needs(Capability.LEDGER_VIEW)
)
def read_receipt(request: HttpRequest, receipt_id: UUID) -> dict[str, Any]:
    user = staff_user(request, Capability.LEDGER_VIEW)
    return receipt_out(get_own(Receipt, user, receipt_id))


@router.post(
    "/receipts/{receipt_id}/scan",
    response=ReceiptOut,
    auth=Needs(Capability.LEDGER_RECEIVE),
)
def attach_scan(
    request: HttpRequest, receipt_id: UUID, scan: File[UploadedFile]
) -> dict[str, Any]:
    """Attach the invoice scan (PDF, JPEG or PNG, up to 10 MB) to a receipt without one."""
    user = staff_user(request, Capability.LEDGER_RECEIVE)
    receipt = get_own(Receipt, user, receipt_id)
    with refusals():
        receipt = attach_invoice_scan(receipt, scan=scan, by=user)
    return receipt_out(receipt)
