"""Receiving stock: invoices, lots, vials and their numbers, scans; and the registration it needs.

Every refusal writes nothing (assertions.refused checks it)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger.actions.receiving import (
    ReceiptItem,
    attach_invoice_scan,
    receive_invoice,
)
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    LedgerHead,
    Receipt,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.assertions import refused
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.verify import verify_ledger

D = Decimal


def test_receiving_an_invoice_makes_lots_vials_and_one_entry_each(
    stock: Stock, custodian: User
) -> None:
    receipt = Receipt.objects.get()

    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [e.kind for e in entries] == ["receive", "receive"]
    assert [e.container_balance_after_ml for e in entries] == [D("10.00"), D("10.00")]
    assert [e.lot_balance_after_ml for e in entries] == [D("10.00"), D("20.00")]
    assert entries[-1].stock_on_hand_after_mg == D("1000.00")
    assert entries[0].details["supplier_dea_number"] == factories.SUPPLIER_DEA
    assert entries[0].details["invoice_number"] == "INV-1001"
    assert receipt.supplier_name == "Example Medical Supply"
    assert {v.status for v in stock.vials} == {Container.Status.SEALED}
    assert LedgerHead.objects.get(registrant=stock.registrant).seq == 2
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LEDGER_RECEIVED).get()
    assert event.actor == custodian
    assert event.data["items"] == [
        {"ndc": "0409-2051-05", "lot": "LOT-A1", "containers": 2}
    ]
    assert all(r.ok for r in verify_ledger())


def test_a_scan_is_kept_by_its_content_and_a_fake_is_refused(
    stock: Stock, custodian: User, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    pdf = SimpleUploadedFile("invoice.pdf", b"%PDF-1.7\n% a scanned invoice\n")
    receipt = receive_invoice(
        stock.registrant,
        supplier=stock.supplier,
        invoice_number="INV-2002",
        invoice_date=factories.clinic_today(),
        storage_location=stock.safe,
        items=[
            ReceiptItem(
                product=stock.product,
                lot_number="LOT-B2",
                expiry_date=factories.clinic_today() + timedelta(days=300),
                container_count=1,
            )
        ],
        by=custodian,
        scan=pdf,
    )

    assert receipt.scan_content_type == "application/pdf"
    name = receipt.invoice_scan.name or ""
    assert name.endswith(".pdf")
    assert (tmp_path / name).read_bytes().startswith(b"%PDF-")

    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not really a pdf")
    with refused("scan_type", "invoice_scan"):
        receive_invoice(
            stock.registrant,
            supplier=stock.supplier,
            invoice_number="INV-2003",
            invoice_date=factories.clinic_today(),
            storage_location=stock.safe,
            items=[
                ReceiptItem(
                    product=stock.product,
                    lot_number="LOT-B2",
                    expiry_date=receipt.containers.get().lot.expiry_date,
                    container_count=1,
                )
            ],
            by=custodian,
            scan=fake,
        )
    assert list(tmp_path.rglob("*")) == [
        p for p in tmp_path.rglob("*") if p.is_dir() or p.name.endswith(".pdf")
    ]


def test_an_oversized_scan_is_refused(
    stock: Stock, custodian: User, settings: Any
) -> None:
    settings.MEDIA_ROOT = "/nonexistent-should-not-be-written"
    big = SimpleUploadedFile(
        "scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * (10 * 1024 * 1024)
    )
    with refused("scan_too_large", "invoice_scan"):
        attach_invoice_scan(Receipt.objects.get(), scan=big, by=custodian)


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"invoice_number": "INV-1001"}, "invoice_duplicate", "invoice_number"),
        ({"invoice_date": 1}, "future_date", "invoice_date"),
        ({"count": 0}, "container_count_invalid", "items.0.container_count"),
        ({"expiry": -1}, "lot_expired", "items.0.expiry_date"),
        (
            {"lot_number": "LOT-A1", "expiry": 10},
            "lot_expiry_mismatch",
            "items.0.expiry_date",
        ),
        ({"items": []}, "required", "items"),
    ],
)
def test_bad_receipts_are_refused_and_write_nothing(
    stock: Stock, custodian: User, change: dict[str, Any], code: str, field: str
) -> None:
    today = factories.clinic_today()
    item = ReceiptItem(
        product=stock.product,
        lot_number=change.get("lot_number", "LOT-NEW"),
        expiry_date=today + timedelta(days=change.get("expiry", 365)),
        container_count=change.get("count", 1),
    )
    containers = Container.objects.count()

    with refused(code, field):
        receive_invoice(
            stock.registrant,
            supplier=stock.supplier,
            invoice_number=change.get("invoice_number", "INV-9"),
            invoice_date=today + timedelta(days=change.get("invoice_date", 0)),
            storage_location=stock.safe,
            items=change.get("items", [item]),
            by=custodian,
        )
    assert Container.objects.count() == containers


def test_a_registrant_needs_a_valid_dea_number(
    organization: Any, custodian: User
) -> None:
    with refused("dea_check_digit", "dea_number"):
        factories.make_registrant(organization, by=custodian, dea_number="BL1234560")


def test_two_registrations_whose_dea_numbers_end_alike_number_vials_apart(
    stock: Stock, organization: Organization, custodian: User
) -> None:
    # BM3214563 and the clinic's BL1234563 share their last four characters.
    second = factories.make_registrant(
        organization, by=custodian, dea_number="BM3214563"
    )
    safe = factories.make_safe(second, by=custodian)

    vials = factories.receive(
        second,
        by=custodian,
        product=stock.product,
        supplier=stock.supplier,
        safe=safe,
        invoice_number="INV-2002",
    )

    assert [v.vial_identifier for v in vials] == ["BM3214563-00001", "BM3214563-00002"]
    assert {v.vial_identifier for v in stock.vials}.isdisjoint(
        v.vial_identifier for v in vials
    )
