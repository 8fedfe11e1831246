"""The ledger pages: each form drives its action, and a refusal shows on the form."""

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger.actions.counts import CountInput
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.actions.sessions import draw_for_session, record_administration
from neuroclinic.ledger.models import (
    Container,
    Count,
    Discrepancy,
    Inventory,
    LedgerEntry,
    Receipt,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.patients.models import Patient


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_receiving_an_invoice_with_its_scan(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    client = as_persona("custodian")
    expiry = factories.clinic_today() + timedelta(days=500)

    response = client.post(
        f"/ledger/receive/?registrant={stock.registrant.uuid}",
        {
            "supplier": stock.supplier.uuid,
            "invoice_number": "WEB-1",
            "invoice_date": factories.clinic_today().isoformat(),
            "storage_location": stock.safe.uuid,
            "invoice_scan": SimpleUploadedFile("inv.jpg", b"\xff\xd8\xff\xe0 jpeg"),
            "items-TOTAL_FORMS": "3",
            "items-INITIAL_FORMS": "0",
            "items-0-product": stock.product.uuid,
            "items-0-lot_number": "WEB-LOT",
            "items-0-expiry_date": expiry.isoformat(),
            "items-0-container_count": "4",
        },
    )

    receipt = Receipt.objects.get(invoice_number="WEB-1")
    assert response.status_code == 302
    assert response["Location"] == f"/ledger/receipts/{receipt.uuid}/"
    assert receipt.containers.count() == 4
    assert receipt.scan_content_type == "image/jpeg"
    page = client.get(response["Location"]).content.decode()
    assert "Download the invoice scan" in page


def test_a_session_from_draw_to_witnessed_waste_in_the_browser_forms(
    stock: Stock,
    as_persona: Callable[[str], Client],
    custodian: User,
    patient: Patient,
) -> None:
    client = as_persona("nurse")
    factories.totp_device(custodian)

    drawn = client.post(
        f"/ledger/draw/?registrant={stock.registrant.uuid}",
        {
            "container": stock.vials[0].uuid,
            "patient_mrn": patient.mrn,
            "volume_ml": "0.80",
        },
    )
    assert drawn.status_code == 302, drawn.content.decode()
    session_url = drawn["Location"]
    client.post(session_url + "administer", {"administer-volume_ml": "0.70"})
    wrong = client.post(
        session_url + "waste",
        {
            "waste-volume_ml": "0.10",
            "waste-reason": "Remainder",
            "waste-witness": "custodian",
            "waste-witness_password": "correct-horse-battery-staple",
            "waste-witness_code": "000000",
        },
    )
    assert wrong.status_code == 200
    assert "That code from the witness" in wrong.content.decode()
    assert LedgerEntry.objects.filter(kind="waste").exists() is False

    factories.totp_device(custodian).throttle_reset()
    wasted = client.post(
        session_url + "waste",
        {
            "waste-volume_ml": "0.10",
            "waste-reason": "Remainder",
            "waste-witness": "custodian",
            "waste-witness_password": "correct-horse-battery-staple",
            "waste-witness_code": factories.current_code(custodian),
        },
    )

    assert wasted.status_code == 302
    page = client.get(session_url).content.decode()
    assert "Reconciled" in page
    assert LedgerEntry.objects.get(kind="waste").witness == custodian


def test_a_draw_for_an_unknown_mrn_is_refused(
    stock: Stock, as_persona: Callable[[str], Client]
) -> None:
    response = as_persona("nurse").post(
        f"/ledger/draw/?registrant={stock.registrant.uuid}",
        {
            "container": stock.vials[0].uuid,
            "patient_mrn": "LK-424242",
            "volume_ml": "1",
        },
    )

    assert response.status_code == 200
    assert "No patient with that MRN" in response.content.decode()
    assert LedgerEntry.objects.filter(kind="draw").exists() is False


def test_a_count_with_a_variance_then_investigated_and_resolved_on_the_pages(
    stock: Stock, as_persona: Callable[[str], Client], nurse: User
) -> None:
    client = as_persona("custodian")
    form = {
        f"counted_{stock.vials[0].uuid}": "10.00",
        f"counted_{stock.vials[1].uuid}": "9.90",
        "kind": "daily",
        "witness": "nurse",
        "witness_password": "correct-horse-battery-staple",
        "witness_code": factories.current_code(nurse),
    }

    counted = client.post(f"/ledger/safes/{stock.safe.uuid}/count", form)

    count = Count.objects.get()
    assert counted["Location"] == f"/ledger/counts/{count.uuid}/"
    discrepancy = Discrepancy.objects.get()
    url = f"/ledger/discrepancies/{discrepancy.uuid}/"
    client.post(url, {"step": "investigate", "investigate-notes": "Checked the log."})
    client.post(url, {"step": "resolve", "resolve-notes": "Minor spillage."})
    discrepancy.refresh_from_db()
    assert discrepancy.status == Discrepancy.Status.RESOLVED_MINOR
    assert Container.objects.get(pk=stock.vials[1].pk).balance_ml == Decimal("9.90")
    assert "Resolved: minor variance" in client.get(url).content.decode()


def test_the_dashboard_shows_stock_check_status_and_an_overdue_inventory(
    stock: Stock, as_persona: Callable[[str], Client], custodian: User
) -> None:
    take_inventory(
        stock.registrant,
        kind=Inventory.Kind.INITIAL,
        time_of_day=Inventory.TimeOfDay.OPENING,
        lines=[CountInput(v, v.balance_ml) for v in stock.vials],
        by=custodian,
    )
    client = as_persona("custodian")
    client.post("/ledger/checks/run", {"registrant": stock.registrant.uuid})

    page = client.get("/ledger/").content.decode()

    assert "1,000.00 mg" in page
    assert stock.vials[0].vial_identifier in page
    assert re.search(r"Chain check</strong>\s*<span>Intact: 2 entries", page)
    assert "Due by" in page  # taken today: due in two years


def test_an_inventory_older_than_two_years_shows_overdue(
    stock: Stock, as_persona: Callable[[str], Client], custodian: User
) -> None:
    take_inventory(
        stock.registrant,
        kind=Inventory.Kind.INITIAL,
        time_of_day=Inventory.TimeOfDay.OPENING,
        lines=[CountInput(v, v.balance_ml) for v in stock.vials],
        by=custodian,
        taken_at=timezone.now() - timedelta(days=2 * 365 + 5),
    )

    page = as_persona("auditor").get("/ledger/").content.decode()

    assert "OVERDUE since" in page


def test_reports_print_and_export_and_are_audited(
    stock: Stock, as_persona: Callable[[str], Client], nurse: User, patient: Patient
) -> None:
    ref = uuid.uuid4()
    draw_for_session(
        stock.vials[0],
        session_ref=ref,
        patient=patient,
        volume_ml=Decimal("1"),
        by=nurse,
    )
    record_administration(ref, volume_ml=Decimal("1"), by=nurse)
    client = as_persona("custodian")
    today = factories.clinic_today().isoformat()
    query = f"?registrant={stock.registrant.uuid}&kind=administrations&start_date={today}&end_date={today}"

    shown = client.get("/ledger/reports/" + query).content.decode()
    csv = client.get("/ledger/reports/" + query + "&format=csv")
    printed = client.get("/ledger/reports/" + query + "&format=print").content.decode()

    assert "Casey Testova" in shown
    assert csv["Content-Type"].startswith("text/csv")
    assert "Casey Testova" in csv.content.decode()
    assert "CONFIDENTIAL" in printed
    actions_seen = list(
        AuditEvent.objects.filter(action__startswith="ledger.report").values_list(
            "action", flat=True
        )
    )
    assert actions_seen.count("ledger.report_viewed") == 1
    assert actions_seen.count("ledger.report_exported") == 2


@pytest.mark.parametrize(
    "kind", ["receipts", "disposals", "lots", "balances", "discrepancies"]
)
def test_every_report_renders(
    stock: Stock, as_persona: Callable[[str], Client], kind: str
) -> None:
    today = factories.clinic_today().isoformat()

    response = as_persona("auditor").get(
        f"/ledger/reports/?registrant={stock.registrant.uuid}&kind={kind}&start_date={today}&end_date={today}"
    )

    assert response.status_code == 200


def test_an_inventory_downloads_as_pdf_and_csv(
    stock: Stock, as_persona: Callable[[str], Client], custodian: User, nurse: User
) -> None:
    inventory = take_inventory(
        stock.registrant,
        kind=Inventory.Kind.BIENNIAL,
        time_of_day=Inventory.TimeOfDay.CLOSE,
        lines=[CountInput(v, v.balance_ml) for v in stock.vials],
        by=custodian,
        second_taker=factories.confirmed(nurse),
    )
    client = as_persona("auditor")

    pdf = client.get(f"/ledger/inventories/{inventory.uuid}.pdf")
    csv = client.get(f"/ledger/inventories/{inventory.uuid}.csv").content.decode()

    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert "Biennial inventory" in csv
    assert "DEA BL1234563" in csv
    assert "close of business" in csv
    assert "Ketamine HCl injection,0409-2051-05,50 mg/mL" in csv


def test_a_mistaken_entry_is_reversed_on_its_page(
    stock: Stock, as_persona: Callable[[str], Client], nurse: User, patient: Patient
) -> None:
    ref = uuid.uuid4()
    drawn = draw_for_session(
        stock.vials[0],
        session_ref=ref,
        patient=patient,
        volume_ml=Decimal("2"),
        by=nurse,
    )
    client = as_persona("custodian")

    response = client.post(
        f"/ledger/entries/{drawn.uuid}/",
        {
            "reason": "Drew from the wrong vial",
            "witness": "nurse",
            "witness_password": "correct-horse-battery-staple",
            "witness_code": factories.current_code(nurse),
        },
    )

    reversal = LedgerEntry.objects.get(kind="reversal")
    assert response["Location"] == f"/ledger/entries/{reversal.uuid}/"
    assert Container.objects.get(pk=stock.vials[0].pk).balance_ml == Decimal("10.00")


def test_setup_registers_a_clinic(
    organization: Any, as_persona: Callable[[str], Client]
) -> None:
    location = factories.make_location(organization)
    client = as_persona("custodian")

    response = client.post(
        "/ledger/setup/",
        {
            "form": "registrant",
            "location": location.uuid,
            "name": "Lakeside",
            "address_line1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "dea_number": "BL1234560",
            "schedules": "CII,CIII",
        },
    )

    assert response.status_code == 200
    assert "check digit is 0 but should be 3" in response.content.decode()
