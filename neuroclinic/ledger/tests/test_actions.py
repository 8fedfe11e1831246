"""Ledger actions: what each writes, and that every refusal writes nothing."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger.actions.counts import (
    CountInput,
    complete_task,
    escalate_significant_loss,
    investigate_discrepancy,
    record_count,
    resolve_minor_variance,
)
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.actions.movements import (
    destroy_on_site,
    reverse_entry,
    send_to_reverse_distributor,
    transfer_container,
    waste_from_container,
)
from neuroclinic.ledger.actions.receiving import (
    ReceiptItem,
    attach_invoice_scan,
    receive_invoice,
)
from neuroclinic.ledger.actions.sessions import (
    check_session_reconciled,
    draw_for_session,
    record_administration,
    session_summary,
    waste_remainder,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    Form106Draft,
    Inventory,
    LedgerEntry,
    LedgerHead,
    Receipt,
    Supplier,
)
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.verify import verify_ledger
from neuroclinic.ledger.witness import confirm_witness
from neuroclinic.patients.models import Patient

D = Decimal


@contextmanager
def refused(code: str, field: str | None = None) -> Iterator[None]:
    """The block must raise LedgerError with this code, and write no entry and no event."""
    entries, events = LedgerEntry.objects.count(), AuditEvent.objects.count()
    with pytest.raises(LedgerError) as caught:
        yield
    assert caught.value.code == code, caught.value.message
    if field is not None:
        assert caught.value.field == field
    assert caught.value.message
    assert LedgerEntry.objects.count() == entries
    assert AuditEvent.objects.count() == events


def _draw(stock: Stock, nurse: User, patient: Patient, volume: str = "0.80") -> str:
    ref = str(uuid.uuid4())
    draw_for_session(
        stock.vials[0],
        session_ref=ref,
        patient=patient,
        volume_ml=D(volume),
        by=nurse,
    )
    return ref


# --- receiving ------------------------------------------------------------------------


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


# --- draw, administer, waste ------------------------------------------------------------


def test_a_session_draws_administers_and_wastes_to_a_reconciled_zero(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = _draw(stock, nurse, patient, "0.80")
    record_administration(ref, volume_ml=D("0.70"), by=nurse)
    waste_remainder(
        ref,
        volume_ml=D("0.10"),
        by=nurse,
        witness=factories.confirmed(custodian),
    )

    summary = session_summary(ref, organization_id=nurse.organization_pk)
    assert (summary.drawn_ml, summary.administered_ml, summary.wasted_ml) == (
        D("0.80"),
        D("0.70"),
        D("0.10"),
    )
    assert summary.reconciled
    check_session_reconciled(ref, organization_id=nurse.organization_pk)
    vial = Container.objects.get(pk=stock.vials[0].pk)
    assert vial.balance_ml == D("9.20")
    assert vial.status == Container.Status.OPEN
    assert vial.opened_at is not None
    waste = LedgerEntry.objects.get(kind="waste")
    assert waste.witness == custodian
    assert waste.patient == patient
    assert waste.quantity_mg == D("5.00")
    assert waste.session_balance_after_ml == D("0.00")
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.LEDGER_DRAWN, patient=patient
        ).count()
        == 1
    )
    assert all(r.ok for r in verify_ledger())


def test_an_unreconciled_session_says_what_is_unaccounted(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    ref = _draw(stock, nurse, patient, "0.80")
    record_administration(ref, volume_ml=D("0.70"), by=nurse)

    with pytest.raises(LedgerError, match=r"0.10 mL unaccounted for"):
        check_session_reconciled(ref, organization_id=nurse.organization_pk)


def test_administration_spans_two_vials_first_drawn_first(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    ref = str(uuid.uuid4())
    for vial in stock.vials:
        draw_for_session(
            vial, session_ref=ref, patient=patient, volume_ml=D("0.50"), by=nurse
        )

    entries = record_administration(ref, volume_ml=D("0.80"), by=nurse)

    assert [(e.container_id, e.quantity_ml) for e in entries] == [
        (stock.vials[0].pk, D("0.50")),
        (stock.vials[1].pk, D("0.30")),
    ]
    assert entries[-1].session_balance_after_ml == D("0.20")


@pytest.mark.parametrize(
    ("volume", "code"),
    [
        ("0", "draw_not_positive"),
        ("-1.00", "draw_not_positive"),
        ("10.01", "draw_exceeds_balance"),
        ("0.005", "quantity_too_precise"),
    ],
)
def test_bad_draw_quantities_are_refused_and_write_nothing(
    stock: Stock, nurse: User, patient: Patient, volume: str, code: str
) -> None:
    expected = "quantity_not_positive" if code == "draw_not_positive" else code
    with refused(expected, "volume_ml"):
        _draw(stock, nurse, patient, volume)
    assert Container.objects.get(pk=stock.vials[0].pk).balance_ml == D("10.00")


def test_an_expired_lot_cannot_be_drawn(
    stock: Stock, nurse: User, patient: Patient, custodian: User
) -> None:
    vial = stock.vials[0]
    vial.lot.expiry_date = factories.clinic_today() - timedelta(days=1)
    vial.lot.save(update_fields=["expiry_date"])

    with refused("lot_expired", "container"):
        _draw(stock, nurse, patient)


def test_more_than_was_drawn_cannot_be_administered_or_wasted(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = _draw(stock, nurse, patient, "0.80")

    with refused("exceeds_session_balance", "volume_ml"):
        record_administration(ref, volume_ml=D("0.81"), by=nurse)
    with refused("exceeds_session_balance", "volume_ml"):
        waste_remainder(
            ref,
            volume_ml=D("0.90"),
            by=nurse,
            witness=factories.confirmed(custodian),
        )
    with refused("quantity_not_positive", "volume_ml"):
        record_administration(ref, volume_ml=D("0"), by=nurse)
    with refused("session_unknown", "session_ref"):
        record_administration(uuid.uuid4(), volume_ml=D("0.10"), by=nurse)


def test_a_session_belongs_to_one_patient(
    stock: Stock, nurse: User, patient: Patient, front_desk: User
) -> None:
    ref = _draw(stock, nurse, patient)
    other = Patient.objects.create(
        organization=patient.organization,
        mrn="LK-999999",
        family_name="Otherova",
        given_name="Sam",
        birth_date=patient.birth_date,
        sex_at_birth=Patient.SexAtBirth.MALE,
    )

    with refused("session_patient_mismatch", "patient"):
        draw_for_session(
            stock.vials[1],
            session_ref=ref,
            patient=other,
            volume_ml=D("0.5"),
            by=nurse,
        )


# --- witnesses ------------------------------------------------------------------------


def test_waste_needs_a_witness(stock: Stock, nurse: User, patient: Patient) -> None:
    ref = _draw(stock, nurse, patient)

    with refused("witness_missing", "witness"):
        waste_remainder(ref, volume_ml=D("0.10"), by=nurse, witness=None)


def test_the_witness_cannot_be_the_person_wasting(
    stock: Stock, nurse: User, patient: Patient
) -> None:
    ref = _draw(stock, nurse, patient)

    with refused("witness_is_actor", "witness"):
        waste_remainder(
            ref,
            volume_ml=D("0.10"),
            by=nurse,
            witness=factories.confirmed(nurse),
        )


@pytest.mark.parametrize(
    "persona", ["front_desk", "billing", "auditor", "tms", "admin"]
)
def test_a_witness_without_a_witnessing_role_is_refused(
    stock: Stock,
    nurse: User,
    patient: Patient,
    persona: str,
    request: pytest.FixtureRequest,
) -> None:
    ref = _draw(stock, nurse, patient)
    bystander = request.getfixturevalue(persona)

    with refused("witness_role_not_permitted", "witness"):
        waste_remainder(
            ref,
            volume_ml=D("0.10"),
            by=nurse,
            witness=factories.confirmed(bystander),
        )


def test_a_stale_witness_confirmation_is_refused(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = _draw(stock, nurse, patient)
    old = factories.confirmed(custodian)
    stale = type(old)(
        witness=custodian, confirmed_at=timezone.now() - timedelta(minutes=5)
    )

    with refused("witness_stale", "witness"):
        waste_remainder(ref, volume_ml=D("0.10"), by=nurse, witness=stale)


def test_a_witness_confirms_with_their_password_and_current_code(
    nurse: User, custodian: User
) -> None:
    code = factories.current_code(custodian)

    confirmation = confirm_witness(
        actor=nurse,
        witness_username="custodian",
        password="correct-horse-battery-staple",
        otp_code=code,
    )

    assert confirmation.witness == custodian
    assert timezone.now() - confirmation.confirmed_at < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("username", "password", "code", "expected", "field"),
    [
        (
            "custodian",
            "wrong-password",
            "current",
            "witness_password_wrong",
            "witness_password",
        ),
        (
            "custodian",
            "correct-horse-battery-staple",
            "000000",
            "witness_code_wrong",
            "witness_code",
        ),
        (
            "custodian",
            "correct-horse-battery-staple",
            "abc",
            "witness_code_wrong",
            "witness_code",
        ),
        (
            "custodian",
            "correct-horse-battery-staple",
            "used",
            "witness_code_wrong",
            "witness_code",
        ),
        (
            "nurse",
            "correct-horse-battery-staple",
            "current",
            "witness_is_actor",
            "witness",
        ),
        (
            "front_desk",
            "correct-horse-battery-staple",
            "current",
            "witness_role_not_permitted",
            "witness",
        ),
        (
            "outsider",
            "correct-horse-battery-staple",
            "current",
            "witness_unknown",
            "witness",
        ),
        ("nobody", "x", "current", "witness_unknown", "witness"),
    ],
)
def test_a_wrong_witness_confirmation_is_refused_and_nothing_is_written(
    stock: Stock,
    nurse: User,
    custodian: User,
    front_desk: User,
    outsider: User,
    patient: Patient,
    username: str,
    password: str,
    code: str,
    expected: str,
    field: str,
) -> None:
    ref = _draw(stock, nurse, patient)
    witness = {
        "custodian": custodian,
        "front_desk": front_desk,
        "outsider": outsider,
    }.get(username, custodian)
    otp = {"current": factories.current_code(witness), "used": ""}.get(code, code)
    if code == "used":  # the code has just been used (e.g. to sign in): no replay
        otp = factories.current_code(custodian)
        factories.totp_device(custodian).verify_token(otp)

    def waste_with_confirmation() -> None:
        confirmation = confirm_witness(
            actor=nurse, witness_username=username, password=password, otp_code=otp
        )
        waste_remainder(ref, volume_ml=D("0.10"), by=nurse, witness=confirmation)

    with refused(expected, field):
        waste_with_confirmation()
    assert LedgerEntry.objects.filter(kind="waste").exists() is False


def test_wrong_codes_throttle_the_witness_device(nurse: User, custodian: User) -> None:
    device = factories.totp_device(custodian)
    with pytest.raises(LedgerError):
        confirm_witness(
            actor=nurse,
            witness_username="custodian",
            password="correct-horse-battery-staple",
            otp_code="000000",
        )

    with pytest.raises(LedgerError) as caught:
        confirm_witness(
            actor=nurse,
            witness_username="custodian",
            password="correct-horse-battery-staple",
            otp_code=factories.current_code(custodian),
        )

    assert caught.value.code == "witness_code_throttled"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


# --- other movements ------------------------------------------------------------------


def test_a_transfer_moves_both_sides_in_one_go(stock: Stock, custodian: User) -> None:
    cart = factories.make_safe(stock.registrant, by=custodian, name="Cart lockbox")

    out, into = transfer_container(
        stock.vials[0], to_storage_location=cart, by=custodian
    )

    assert (out.kind, out.container_change_ml, out.storage_location) == (
        "transfer_out",
        D("-10.00"),
        stock.safe,
    )
    assert (into.kind, into.container_change_ml, into.storage_location) == (
        "transfer_in",
        D("10.00"),
        cart,
    )
    vial = Container.objects.get(pk=stock.vials[0].pk)
    assert (vial.storage_location, vial.balance_ml, vial.status) == (
        cart,
        D("10.00"),
        "sealed",
    )
    assert into.stock_on_hand_after_mg == D("1000.00")
    assert all(r.ok for r in verify_ledger())


def test_a_transfer_to_another_registration_goes_on_both_chains(
    stock: Stock, custodian: User, organization: Any
) -> None:
    annex = factories.make_location(organization, name="Annex")
    other = factories.make_registrant(
        organization, by=custodian, dea_number="BL7654329", location=annex, name="Annex"
    )
    annex_safe = factories.make_safe(other, by=custodian, name="Annex safe")

    transfer_container(stock.vials[0], to_storage_location=annex_safe, by=custodian)

    assert (
        LedgerEntry.objects.filter(
            registrant=stock.registrant, kind="transfer_out"
        ).count()
        == 1
    )
    assert LedgerEntry.objects.filter(registrant=other, kind="transfer_in").count() == 1
    assert Container.objects.get(pk=stock.vials[0].pk).registrant == other
    assert [r.ok for r in verify_ledger()] == [True, True]


def test_destruction_and_reverse_distribution_empty_the_vial_with_a_witness(
    stock: Stock, custodian: User, nurse: User, organization: Any
) -> None:
    distributor = factories.make_supplier(
        organization,
        by=custodian,
        kind=Supplier.Kind.REVERSE_DISTRIBUTOR,
        dea_number=factories.REVERSE_DISTRIBUTOR_DEA,
    )

    destroyed = destroy_on_site(
        stock.vials[0],
        method="Chemical digestion kit",
        by=custodian,
        witness=factories.confirmed(nurse),
    )
    returned = send_to_reverse_distributor(
        stock.vials[1],
        reverse_distributor=distributor,
        by=custodian,
        witness=factories.confirmed(nurse),
    )

    assert destroyed.details["method"] == "Chemical digestion kit"
    assert (
        returned.details["reverse_distributor_dea_number"]
        == factories.REVERSE_DISTRIBUTOR_DEA
    )
    statuses = dict(Container.objects.values_list("pk", "status"))
    assert statuses[stock.vials[0].pk] == Container.Status.DESTROYED
    assert statuses[stock.vials[1].pk] == Container.Status.RETURNED
    assert returned.stock_on_hand_after_mg == D("0.00")
    with refused("container_not_in_stock", "container"):
        waste_from_container(
            stock.vials[0],
            volume_ml=D("1"),
            reason="x",
            by=custodian,
            witness=factories.confirmed(nurse),
        )


def test_a_supplier_is_not_a_reverse_distributor(
    stock: Stock, custodian: User, nurse: User
) -> None:
    with refused("not_reverse_distributor", "reverse_distributor"):
        send_to_reverse_distributor(
            stock.vials[0],
            reverse_distributor=stock.supplier,
            by=custodian,
            witness=factories.confirmed(nurse),
        )


def test_a_reversal_undoes_an_entry_and_points_at_it(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    ref = _draw(stock, nurse, patient, "0.80")
    wrong = record_administration(ref, volume_ml=D("0.80"), by=nurse)[0]

    reversal = reverse_entry(
        wrong,
        reason="Typed 0.80, gave 0.70",
        by=custodian,
        witness=factories.confirmed(nurse),
    )

    assert reversal.reverses == wrong
    assert reversal.session_change_ml == D("0.80")
    assert reversal.session_balance_after_ml == D("0.80")
    summary = session_summary(ref, organization_id=nurse.organization_pk)
    assert summary.administered_ml == D("0.00")
    assert summary.outstanding_ml == D("0.80")
    with refused("already_reversed", "entry"):
        reverse_entry(
            wrong,
            reason="again",
            by=custodian,
            witness=factories.confirmed(nurse),
        )
    with refused("not_reversible", "entry"):
        reverse_entry(
            reversal,
            reason="no",
            by=custodian,
            witness=factories.confirmed(nurse),
        )
    assert all(r.ok for r in verify_ledger())


def test_reversing_a_receipt_after_a_draw_would_go_below_zero(
    stock: Stock, nurse: User, custodian: User, patient: Patient
) -> None:
    _draw(stock, nurse, patient, "0.80")
    receive = LedgerEntry.objects.filter(kind="receive", container=stock.vials[0]).get()

    with refused("balance_below_zero", "volume_ml"):
        reverse_entry(
            receive,
            reason="wrong vial",
            by=custodian,
            witness=factories.confirmed(nurse),
        )


# --- counts and discrepancies ---------------------------------------------------------


def _count(stock: Stock, custodian: User, nurse: User, counted: list[str]) -> Count:
    return record_count(
        stock.safe,
        lines=[
            CountInput(container=v, counted_ml=D(c))
            for v, c in zip(stock.vials, counted, strict=True)
        ],
        by=custodian,
        witness=factories.confirmed(nurse),
    )


def test_a_matching_count_opens_no_discrepancy(
    stock: Stock, custodian: User, nurse: User
) -> None:
    count = _count(stock, custodian, nurse, ["10.00", "10.00"])

    assert count.has_variance is False
    assert count.second_counter == nurse
    assert Discrepancy.objects.exists() is False
    assert [line.variance_ml for line in count.lines.all()] == [D("0.00"), D("0.00")]


def test_a_count_must_include_every_vial_and_a_second_person(
    stock: Stock, custodian: User, nurse: User
) -> None:
    with refused("count_incomplete", "lines"):
        record_count(
            stock.safe,
            lines=[CountInput(stock.vials[0], D("10"))],
            by=custodian,
            witness=factories.confirmed(nurse),
        )
    with refused("witness_missing", "second_counter"):
        record_count(
            stock.safe,
            lines=[CountInput(v, D("10")) for v in stock.vials],
            by=custodian,
            witness=None,
        )
    assert Count.objects.exists() is False


def test_a_variance_is_investigated_and_resolved_as_minor(
    stock: Stock,
    custodian: User,
    nurse: User,
    patient: Patient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    _draw(stock, nurse, patient, "1.00")  # opens vial 0: now estimated
    with django_capture_on_commit_callbacks(execute=True):
        count = _count(stock, custodian, nurse, ["8.80", "10.00"])
    discrepancy = Discrepancy.objects.get()
    assert (count.has_variance, discrepancy.variance_ml, discrepancy.variance_mg) == (
        True,
        D("-0.20"),
        D("-10.00"),
    )
    assert count.lines.get(container=stock.vials[0]).estimated is True
    assert len(mail.outbox) == 1

    with refused("wrong_status", "status"):
        resolve_minor_variance(discrepancy, notes="too soon", by=custodian)
    investigate_discrepancy(discrepancy, notes="Re-measured: dead space.", by=custodian)
    resolve_minor_variance(
        discrepancy, notes="Estimating error on an opened vial.", by=custodian
    )

    discrepancy.refresh_from_db()
    assert discrepancy.status == Discrepancy.Status.RESOLVED_MINOR
    adjustment = LedgerEntry.objects.get(kind="count_adjustment")
    assert (adjustment.container_change_ml, adjustment.discrepancy) == (
        D("-0.20"),
        discrepancy,
    )
    assert Container.objects.get(pk=stock.vials[0].pk).balance_ml == D("8.80")
    assert ComplianceTask.objects.exists() is False
    assert all(r.ok for r in verify_ledger())


def test_an_estimate_within_the_clinic_tolerance_is_not_a_discrepancy(
    stock: Stock, custodian: User, nurse: User, patient: Patient
) -> None:
    stock.registrant.opened_estimate_tolerance_ml = D("0.30")
    stock.registrant.save(update_fields=["opened_estimate_tolerance_ml"])
    _draw(stock, nurse, patient, "1.00")

    count = _count(stock, custodian, nurse, ["8.80", "10.00"])

    assert count.has_variance is False
    assert Discrepancy.objects.exists() is False


def test_a_significant_loss_opens_the_dea_tasks_and_the_form_106_draft(
    stock: Stock,
    custodian: User,
    nurse: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        _count(stock, custodian, nurse, ["10.00", "0.00"])  # a sealed vial is missing
    discrepancy = Discrepancy.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        escalate_significant_loss(
            discrepancy,
            loss_kind=Discrepancy.LossKind.THEFT,
            notes="Vial missing from the locked safe.",
            by=custodian,
        )

    discrepancy.refresh_from_db()
    assert discrepancy.status == Discrepancy.Status.ESCALATED
    tasks = {t.kind: t for t in ComplianceTask.objects.all()}
    discovered = discrepancy.discovered_at.astimezone(
        ZoneInfo("America/Chicago")
    ).date()
    assert tasks["form_106"].due_date == discovered + timedelta(days=45)
    assert tasks["dea_notice"].due_date > discovered
    assert tasks["dea_notice"].due_date.weekday() < 5
    draft = Form106Draft.objects.get()
    assert draft.registrant_dea_number == factories.CLINIC_DEA
    assert draft.items[0]["quantity_lost_ml"] == "10.00"
    assert draft.items[0]["quantity_lost_mg"] == "500.00"
    loss = LedgerEntry.objects.get(kind="theft_loss")
    assert loss.container == stock.vials[1]
    assert Container.objects.get(pk=stock.vials[1].pk).status == Container.Status.LOST
    assert len(mail.outbox) == 2  # opened, then escalated
    assert "DEA notice due" in mail.outbox[1].subject
    task = tasks["dea_notice"]
    complete_task(task, reference="Faxed to the Chicago FDO", by=custodian)
    task.refresh_from_db()
    assert task.status == ComplianceTask.Status.DONE
    assert all(r.ok for r in verify_ledger())


def test_an_inventory_records_every_vial_and_opened_ones_as_estimated(
    stock: Stock, custodian: User, nurse: User, patient: Patient
) -> None:
    _draw(stock, nurse, patient, "1.00")

    inventory = take_inventory(
        stock.registrant,
        kind=Inventory.Kind.INITIAL,
        time_of_day=Inventory.TimeOfDay.CLOSE,
        lines=[
            CountInput(stock.vials[0], D("9.00")),
            CountInput(stock.vials[1], D("10.00")),
        ],
        by=custodian,
        second_taker=factories.confirmed(nurse),
    )

    lines = list(inventory.lines.order_by("container_id"))
    assert [(line.opened, line.estimated, line.quantity_mg) for line in lines] == [
        (True, True, D("450.00")),
        (False, False, D("500.00")),
    ]
    assert inventory.registrant_dea_number == factories.CLINIC_DEA
    with refused("initial_exists", "kind"):
        take_inventory(
            stock.registrant,
            kind=Inventory.Kind.INITIAL,
            time_of_day=Inventory.TimeOfDay.CLOSE,
            lines=[],
            by=custodian,
        )


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
