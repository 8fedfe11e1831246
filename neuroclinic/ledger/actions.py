"""Every write to the controlled-substance ledger goes through a function here.

Each action checks nothing about permissions (views and API handlers check
capabilities first), runs in one transaction, locks what it moves (containers,
then the registrant's chain head), appends hash-chained entries through
`chain.append`, and records an audit event. A refusal raises LedgerError, and
the transaction rolls back: nothing is written.

The infusion app calls `draw_for_session`, `record_administration`,
`waste_remainder` and `session_summary` with its session's UUID.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.ledger.chain import (
    ZERO,
    Movement,
    append,
    lock_container,
    lock_containers,
    lock_head,
)
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    CountLine,
    Discrepancy,
    DiscrepancyLine,
    Form106Draft,
    Inventory,
    InventoryLine,
    LedgerEntry,
    LedgerHead,
    Lot,
    Product,
    Receipt,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.rules import (
    LedgerRuleError,
    check_draw,
    check_movement_quantity,
    check_session_reconciles,
    count_variance,
    discrepancy_due_dates,
    mg_from_ml,
    validate_dea_number,
)
from neuroclinic.ledger.scans import check_scan
from neuroclinic.ledger.witness import (
    METHOD_SYNTHETIC,
    WitnessConfirmation,
    check_witness_for,
)
from neuroclinic.lib.hashchain import GENESIS_HASH
from neuroclinic.patients.models import Patient

logger = logging.getLogger(__name__)

# A witness confirms at the moment of the act: a confirmation older than this is stale.
WITNESS_MAX_AGE = timedelta(minutes=2)
# Entered times may be a little ahead of the server's clock, never more.
CLOCK_SKEW = timedelta(minutes=5)
MAX_CONTAINERS_PER_ITEM = 200


# --- helpers ------------------------------------------------------------------------


def _quantity(value: Decimal | int, field: str) -> Decimal:
    try:
        return check_movement_quantity(value, field=field)
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field=field) from None


def _when(occurred_at: datetime | None) -> datetime:
    now = timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise LedgerError(
            "Give the time with its time zone.", field="occurred_at", code="naive_time"
        )
    if occurred_at > now + CLOCK_SKEW:
        raise LedgerError(
            "That time is in the future.", field="occurred_at", code="future_time"
        )
    return occurred_at


def local_date(registrant: Registrant, moment: datetime) -> date:
    """The calendar date at the registered location (what the DEA reads)."""
    return moment.astimezone(ZoneInfo(registrant.location.time_zone)).date()


def _session_ref(value: str | uuid.UUID) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise LedgerError(
            "The session reference must be a UUID.",
            field="session_ref",
            code="session_ref_invalid",
        ) from None


def _witness(
    confirmation: WitnessConfirmation | None, *, actor: User, field: str = "witness"
) -> WitnessConfirmation:
    """Re-check a confirmation inside the action: present, someone else, permitted, fresh."""
    if confirmation is None:
        raise LedgerError("A witness is required.", field=field, code="witness_missing")
    witness = confirmation.witness
    if witness.organization_id != actor.organization_id or not witness.is_active:
        raise LedgerError(
            "The witness must be active staff at this clinic.",
            field=field,
            code="witness_unknown",
        )
    check_witness_for(actor, witness)
    # Synthetic (demo) confirmations carry the historical time they stand for.
    stale = timezone.now() - confirmation.confirmed_at > WITNESS_MAX_AGE
    if stale and confirmation.method != METHOD_SYNTHETIC:
        raise LedgerError(
            "The witness confirmed too long ago; they must confirm again now.",
            field=field,
            code="witness_stale",
        )
    return confirmation


def _same_organization(actor: User, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise LedgerError(
                "That record belongs to another clinic.", code="wrong_organization"
            )


def _in_stock(container: Container) -> None:
    if not container.is_in_stock:
        raise LedgerError(
            f"Vial {container.vial_identifier} is {container.get_status_display().lower()}: "
            "nothing can be taken from it.",
            field="container",
            code="container_not_in_stock",
        )


def _registrant_of(container: Container) -> Registrant:
    return Registrant.objects.select_related("location").get(pk=container.registrant_id)


def send_safely(subject: str, body: str, recipients: list[str]) -> None:
    """Email that must not undo the committed record if the mail server is down."""
    try:
        send_mail(
            subject=f"[Neuroclinic] {subject}",
            message=body,
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the record stands; the failure is logged for the admins
        logger.exception("Could not email %s about %r", recipients, subject)


def _notify_custodians(organization_id: int, subject: str, body: str) -> list[str]:
    """Email the organization's custodians (and medical directors) after commit."""
    recipients = sorted(
        {
            u.email
            for u in User.objects.filter(
                organization_id=organization_id,
                is_active=True,
                groups__name__in=[Role.CUSTODIAN.value, Role.MEDICAL_DIRECTOR.value],
            )
            if u.email
        }
    )
    if recipients:
        transaction.on_commit(lambda: send_safely(subject, body, recipients))
    return recipients


# --- setup --------------------------------------------------------------------------


@transaction.atomic
def register_registrant(
    location: Location,
    *,
    name: str,
    address_line1: str,
    address_line2: str = "",
    city: str,
    state: str,
    postal_code: str,
    dea_number: str,
    schedules: str = "CII,CIII,CIV,CV",
    registration_expiry_date: date | None = None,
    registered_by: User,
) -> Registrant:
    try:
        number = validate_dea_number(dea_number)
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field="dea_number") from None
    if "CIII" not in {s.strip() for s in schedules.split(",")}:
        raise LedgerError(
            "Ketamine is Schedule III: the registration must include CIII.",
            field="schedules",
            code="schedule_missing",
        )
    if Registrant.objects.filter(dea_number=number).exists():
        raise LedgerError(
            "That DEA number is already registered here.",
            field="dea_number",
            code="dea_number_taken",
        )
    if Registrant.objects.filter(location=location).exists():
        raise LedgerError(
            "That location already has a DEA registration.",
            field="location",
            code="location_taken",
        )
    registrant = Registrant.objects.create(
        organization_id=location.organization_id,
        location=location,
        name=name,
        address_line1=address_line1,
        address_line2=address_line2,
        city=city,
        state=state,
        postal_code=postal_code,
        dea_number=number,
        schedules=schedules,
        registration_expiry_date=registration_expiry_date,
    )
    LedgerHead.objects.create(
        organization_id=location.organization_id,
        registrant=registrant,
        seq=0,
        hash=GENESIS_HASH,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=registered_by,
        subject=registrant,
        what="registrant",
        dea_number=number,
    )
    return registrant


@transaction.atomic
def add_storage_location(
    registrant: Registrant, *, name: str, description: str = "", added_by: User
) -> StorageLocation:
    if StorageLocation.objects.filter(registrant=registrant, name=name).exists():
        raise LedgerError(
            "There is already a safe with that name.", field="name", code="name_taken"
        )
    storage = StorageLocation.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        location_id=registrant.location_id,
        name=name,
        description=description,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=added_by,
        subject=storage,
        what="storage_location",
        name=name,
    )
    return storage


@transaction.atomic
def add_product(
    organization: Organization,
    *,
    name: str,
    ndc: str,
    concentration_mg_per_ml: Decimal,
    container_volume_ml: Decimal,
    dosage_form: str = "Injection, solution",
    schedule: str = "CIII",
    dea_drug_code: str = "7285",
    added_by: User,
) -> Product:
    if concentration_mg_per_ml <= 0:
        raise LedgerError(
            "The concentration must be more than 0 mg/mL.",
            field="concentration_mg_per_ml",
            code="concentration_not_positive",
        )
    _quantity(container_volume_ml, "container_volume_ml")
    if Product.objects.filter(organization=organization, ndc=ndc).exists():
        raise LedgerError(
            "There is already a product with that NDC.", field="ndc", code="ndc_taken"
        )
    product = Product.objects.create(
        organization=organization,
        name=name,
        ndc=ndc,
        dosage_form=dosage_form,
        concentration_mg_per_ml=concentration_mg_per_ml,
        container_volume_ml=container_volume_ml,
        schedule=schedule,
        dea_drug_code=dea_drug_code,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=added_by,
        subject=product,
        what="product",
        ndc=ndc,
    )
    return product


@transaction.atomic
def add_supplier(
    organization: Organization,
    *,
    name: str,
    address: str,
    dea_number: str,
    kind: str = Supplier.Kind.DISTRIBUTOR,
    added_by: User,
) -> Supplier:
    try:
        number = validate_dea_number(dea_number)
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field="dea_number") from None
    if Supplier.objects.filter(
        organization=organization, dea_number=number, kind=kind
    ).exists():
        raise LedgerError(
            "There is already a supplier with that DEA number.",
            field="dea_number",
            code="dea_number_taken",
        )
    supplier = Supplier.objects.create(
        organization=organization,
        kind=kind,
        name=name,
        address=address,
        dea_number=number,
    )
    record(
        AuditEvent.Action.LEDGER_SETUP_SAVED,
        actor=added_by,
        subject=supplier,
        what="supplier",
        dea_number=number,
    )
    return supplier


# --- receiving ----------------------------------------------------------------------


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
    received_by: User,
    received_at: datetime | None = None,
    scan: "UploadedFile[bytes] | None" = None,
    notes: str = "",
) -> Receipt:
    """Receive stock on a supplier's invoice (Schedule III: no Form 222), one entry per vial."""
    _same_organization(received_by, registrant, supplier, storage_location)
    when = _when(received_at)
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
        received_by=received_by,
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
            head, receipt, registrant, items, storage_location, received_by, when, today
        )
    except BaseException:
        if saved_name:
            receipt.invoice_scan.storage.delete(saved_name)
        raise
    record(
        AuditEvent.Action.LEDGER_RECEIVED,
        actor=received_by,
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
    receipt: Receipt, *, scan: "UploadedFile[bytes]", attached_by: User
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
        actor=attached_by,
        subject=receipt,
        scan_sha256=checked.sha256,
    )
    return receipt


# --- sessions: draw, administer, waste, return ----------------------------------------


@dataclass(frozen=True)
class SessionSummary:
    session_ref: str
    registrant_id: int | None
    patient_id: int | None
    drawn_ml: Decimal
    administered_ml: Decimal
    wasted_ml: Decimal
    returned_ml: Decimal
    outstanding_ml: Decimal
    entries: list[LedgerEntry]

    @property
    def reconciled(self) -> bool:
        return bool(self.entries) and self.outstanding_ml == 0


def session_summary(
    session_ref: str | uuid.UUID, *, organization_id: int
) -> SessionSummary:
    """What was drawn, administered, wasted and returned for a session, and what is left."""
    ref = _session_ref(session_ref)
    entries = list(
        LedgerEntry.objects.filter(organization_id=organization_id, session_ref=ref)
        .select_related("container", "product", "lot", "patient", "reverses")
        .order_by("registrant_id", "seq")
    )
    totals: dict[str, Decimal] = {}
    for entry in entries:
        kind = entry.kind
        if kind == LedgerEntry.Kind.REVERSAL and entry.reverses is not None:
            kind = entry.reverses.kind
            totals[kind] = totals.get(kind, ZERO) - entry.quantity_ml
        else:
            totals[kind] = totals.get(kind, ZERO) + entry.quantity_ml
    outstanding = sum((e.session_change_ml for e in entries), ZERO)
    first = entries[0] if entries else None
    return SessionSummary(
        session_ref=ref,
        registrant_id=first.registrant_id if first else None,
        patient_id=first.patient_id if first else None,
        drawn_ml=totals.get(LedgerEntry.Kind.DRAW, ZERO),
        administered_ml=totals.get(LedgerEntry.Kind.ADMINISTER, ZERO),
        wasted_ml=totals.get(LedgerEntry.Kind.WASTE, ZERO),
        returned_ml=totals.get(LedgerEntry.Kind.RETURN_TO_STOCK, ZERO),
        outstanding_ml=outstanding,
        entries=entries,
    )


def check_session_reconciled(
    session_ref: str | uuid.UUID, *, organization_id: int
) -> SessionSummary:
    """The summary if drawn = administered + wasted (+ returned); LedgerError if not."""
    summary = session_summary(session_ref, organization_id=organization_id)
    try:
        check_session_reconciles(
            drawn_ml=summary.drawn_ml - summary.returned_ml,
            administered_ml=summary.administered_ml,
            wasted_ml=summary.wasted_ml,
        )
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field="session_ref") from None
    return summary


@transaction.atomic
def draw_for_session(
    container: Container,
    *,
    session_ref: str | uuid.UUID,
    patient: Patient,
    volume_ml: Decimal,
    drawn_by: User,
    occurred_at: datetime | None = None,
) -> LedgerEntry:
    """Draw from a vial for one patient's session. Two nurses cannot overdraw a vial:
    the second waits for the first's lock and then sees the lower balance."""
    _same_organization(drawn_by, container, patient)
    ref = _session_ref(session_ref)
    when = _when(occurred_at)
    volume = _quantity(volume_ml, "volume_ml")
    container = lock_container(container)
    _in_stock(container)
    registrant = _registrant_of(container)
    try:
        check_draw(
            container_balance_ml=container.balance_ml,
            draw_ml=volume,
            lot_expiry_date=container.lot.expiry_date,
            on_date=local_date(registrant, when),
        )
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc) from None
    head = lock_head(registrant)
    earlier = LedgerEntry.objects.filter(
        organization_id=container.organization_id, session_ref=ref
    )
    other_patient = earlier.exclude(patient=patient).exists()
    if other_patient:
        raise LedgerError(
            "This session already belongs to another patient.",
            field="patient",
            code="session_patient_mismatch",
        )
    if earlier.exclude(registrant=registrant).exists():
        raise LedgerError(
            "This session already drew from another registration's stock.",
            field="container",
            code="session_registrant_mismatch",
        )
    outstanding = earlier.aggregate(total=Sum("session_change_ml"))["total"] or ZERO
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.DRAW,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            session_change_ml=volume,
            session_ref=ref,
            session_balance_after_ml=outstanding + volume,
            patient=patient,
            actor=drawn_by,
            occurred_at=when,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_DRAWN,
        actor=drawn_by,
        patient=patient,
        subject=entry,
        session_ref=ref,
        vial=container.vial_identifier,
        volume_ml=volume,
        mg=entry.quantity_mg,
    )
    return entry


def _session_takes(
    *,
    session_ref: str,
    volume: Decimal,
    kind: LedgerEntry.Kind,
    actor: User,
    when: datetime,
    patient: Patient | None,
    witness: WitnessConfirmation | None,
    reason: str,
    container_change: bool,
) -> list[LedgerEntry]:
    """Administer, waste or return drawn drug: allocated to the session's vials, first drawn first."""
    earlier = LedgerEntry.objects.filter(
        organization_id=actor.organization_pk, session_ref=session_ref
    )
    by_container = (
        earlier.values("container_id")
        .annotate(outstanding=Sum("session_change_ml"))
        .order_by("container_id")
    )
    outstanding = {row["container_id"]: row["outstanding"] for row in by_container}
    if not outstanding:
        raise LedgerError(
            "Nothing has been drawn for this session.",
            field="session_ref",
            code="session_unknown",
        )
    containers = lock_containers(sorted(outstanding))
    first = earlier.select_related("patient").order_by("seq").first()
    assert first is not None
    if patient is not None and first.patient_id != patient.pk:
        raise LedgerError(
            "This session belongs to another patient.",
            field="patient",
            code="session_patient_mismatch",
        )
    head = lock_head(first.registrant_id)
    # Re-read under the locks: another writer may have taken from the session meanwhile.
    outstanding = {
        row["container_id"]: row["outstanding"]
        for row in earlier.values("container_id")
        .annotate(outstanding=Sum("session_change_ml"))
        .order_by("container_id")
    }
    total = sum(outstanding.values(), ZERO)
    if volume > total:
        verb = {
            LedgerEntry.Kind.ADMINISTER: "administer",
            LedgerEntry.Kind.WASTE: "waste",
            LedgerEntry.Kind.RETURN_TO_STOCK: "return",
        }[kind]
        raise LedgerError(
            f"Cannot {verb} {volume} mL: only {total} mL was drawn for this session and "
            "is not yet administered, wasted or returned.",
            field="volume_ml",
            code="exceeds_session_balance",
        )
    draw_order = list(
        earlier.filter(kind=LedgerEntry.Kind.DRAW)
        .order_by("seq")
        .values_list("container_id", flat=True)
    )
    order = list(dict.fromkeys(draw_order + sorted(outstanding)))
    left = volume
    entries = []
    running = total
    for container_id in order:
        available = outstanding.get(container_id, ZERO)
        if left == 0 or available <= 0:
            continue
        part = min(available, left)
        left -= part
        running -= part
        entries.append(
            append(
                head,
                Movement(
                    kind=kind,
                    container=containers[container_id],
                    quantity_ml=part,
                    container_change_ml=part if container_change else ZERO,
                    session_change_ml=-part,
                    session_ref=session_ref,
                    session_balance_after_ml=running,
                    patient=first.patient,
                    actor=actor,
                    occurred_at=when,
                    witness=witness,
                    reason=reason,
                ),
            )
        )
    return entries


@transaction.atomic
def record_administration(
    session_ref: str | uuid.UUID,
    *,
    volume_ml: Decimal,
    administered_by: User,
    patient: Patient | None = None,
    occurred_at: datetime | None = None,
) -> list[LedgerEntry]:
    """Record what reached the patient, from what was drawn for the session."""
    ref = _session_ref(session_ref)
    volume = _quantity(volume_ml, "volume_ml")
    when = _when(occurred_at)
    entries = _session_takes(
        session_ref=ref,
        volume=volume,
        kind=LedgerEntry.Kind.ADMINISTER,
        actor=administered_by,
        when=when,
        patient=patient,
        witness=None,
        reason="",
        container_change=False,
    )
    record(
        AuditEvent.Action.LEDGER_ADMINISTERED,
        actor=administered_by,
        patient=entries[0].patient,
        subject=entries[0],
        session_ref=ref,
        volume_ml=volume,
        mg=sum((e.quantity_mg for e in entries), ZERO),
    )
    return entries


@transaction.atomic
def waste_remainder(
    session_ref: str | uuid.UUID,
    *,
    volume_ml: Decimal,
    wasted_by: User,
    witness: WitnessConfirmation | None,
    reason: str = "Remainder after administration",
    occurred_at: datetime | None = None,
) -> list[LedgerEntry]:
    """Waste what was drawn and not given, with a witness who confirmed just now."""
    ref = _session_ref(session_ref)
    volume = _quantity(volume_ml, "volume_ml")
    when = _when(occurred_at)
    confirmation = _witness(witness, actor=wasted_by)
    entries = _session_takes(
        session_ref=ref,
        volume=volume,
        kind=LedgerEntry.Kind.WASTE,
        actor=wasted_by,
        when=when,
        patient=None,
        witness=confirmation,
        reason=reason,
        container_change=False,
    )
    record(
        AuditEvent.Action.LEDGER_WASTED,
        actor=wasted_by,
        patient=entries[0].patient,
        subject=entries[0],
        session_ref=ref,
        volume_ml=volume,
        witness=confirmation.witness.username,
    )
    return entries


@transaction.atomic
def return_to_stock(
    session_ref: str | uuid.UUID,
    *,
    volume_ml: Decimal,
    returned_by: User,
    witness: WitnessConfirmation | None,
    reason: str,
    occurred_at: datetime | None = None,
) -> list[LedgerEntry]:
    """Put drawn, unused drug back into its vial's count (e.g. a session cancelled before
    the infusion started, the syringe still sealed and labelled). Witnessed."""
    ref = _session_ref(session_ref)
    volume = _quantity(volume_ml, "volume_ml")
    when = _when(occurred_at)
    confirmation = _witness(witness, actor=returned_by)
    if not reason.strip():
        raise LedgerError("Say why it is returned.", field="reason", code="required")
    entries = _session_takes(
        session_ref=ref,
        volume=volume,
        kind=LedgerEntry.Kind.RETURN_TO_STOCK,
        actor=returned_by,
        when=when,
        patient=None,
        witness=confirmation,
        reason=reason,
        container_change=True,
    )
    record(
        AuditEvent.Action.LEDGER_RETURNED,
        actor=returned_by,
        patient=entries[0].patient,
        subject=entries[0],
        session_ref=ref,
        volume_ml=volume,
        witness=confirmation.witness.username,
    )
    return entries


# --- container movements: waste, transfer, destruction, reverse distributor, loss ----


@transaction.atomic
def waste_from_container(
    container: Container,
    *,
    volume_ml: Decimal,
    reason: str,
    wasted_by: User,
    witness: WitnessConfirmation | None,
    occurred_at: datetime | None = None,
) -> LedgerEntry:
    """Waste straight from a vial: breakage, spillage, or an opened vial past its use date."""
    _same_organization(wasted_by, container)
    volume = _quantity(volume_ml, "volume_ml")
    when = _when(occurred_at)
    confirmation = _witness(witness, actor=wasted_by)
    if not reason.strip():
        raise LedgerError(
            "Say what happened (e.g. vial broken).", field="reason", code="required"
        )
    container = lock_container(container)
    _in_stock(container)
    head = lock_head(container.registrant_id)
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.WASTE,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=wasted_by,
            occurred_at=when,
            witness=confirmation,
            reason=reason,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_WASTED,
        actor=wasted_by,
        subject=entry,
        vial=container.vial_identifier,
        volume_ml=volume,
        witness=confirmation.witness.username,
    )
    return entry


@transaction.atomic
def transfer_container(
    container: Container,
    *,
    to_storage_location: StorageLocation,
    moved_by: User,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move a whole vial to another safe: the out and the in are written together.

    Between two registrations of the same organization, the out goes on the
    source's chain and the in on the destination's (Schedule III distribution
    between registrants is on an invoice, D2: note its number in `reason`).
    """
    _same_organization(moved_by, container, to_storage_location)
    when = _when(occurred_at)
    container = lock_container(container)
    _in_stock(container)
    if container.storage_location_id == to_storage_location.pk:
        raise LedgerError(
            "The vial is already in that safe.",
            field="to_storage_location",
            code="same_storage",
        )
    if not to_storage_location.is_active:
        raise LedgerError(
            "That safe is not in use.",
            field="to_storage_location",
            code="storage_invalid",
        )
    source_id = container.registrant_id
    target_id = to_storage_location.registrant_id
    heads = {rid: lock_head(rid) for rid in sorted({source_id, target_id})}
    source_storage = container.storage_location
    volume = container.balance_ml
    details = {
        "from_storage": source_storage.name,
        "to_storage": to_storage_location.name,
        "from_registrant": Registrant.objects.get(pk=source_id).dea_number,
        "to_registrant": to_storage_location.registrant.dea_number,
    }
    out = append(
        heads[source_id],
        Movement(
            kind=LedgerEntry.Kind.TRANSFER_OUT,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=moved_by,
            occurred_at=when,
            reason=reason,
            details=details,
        ),
    )
    container.storage_location = to_storage_location
    container.registrant_id = target_id
    container.save(update_fields=["storage_location", "registrant"])
    into = append(
        heads[target_id],
        Movement(
            kind=LedgerEntry.Kind.TRANSFER_IN,
            container=container,
            quantity_ml=volume,
            container_change_ml=volume,
            actor=moved_by,
            occurred_at=when,
            reason=reason,
            details=details,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_TRANSFERRED,
        actor=moved_by,
        subject=container,
        volume_ml=volume,
        route=details,
    )
    return out, into


@transaction.atomic
def send_to_reverse_distributor(
    container: Container,
    *,
    reverse_distributor: Supplier,
    shipped_by: User,
    witness: WitnessConfirmation | None,
    reason: str = "Expired or unwanted stock",
    occurred_at: datetime | None = None,
) -> LedgerEntry:
    """Send the whole vial to a DEA-registered reverse distributor (who files Form 41)."""
    _same_organization(shipped_by, container, reverse_distributor)
    when = _when(occurred_at)
    confirmation = _witness(witness, actor=shipped_by)
    if reverse_distributor.kind != Supplier.Kind.REVERSE_DISTRIBUTOR:
        raise LedgerError(
            "Choose a reverse distributor.",
            field="reverse_distributor",
            code="not_reverse_distributor",
        )
    container = lock_container(container)
    _in_stock(container)
    head = lock_head(container.registrant_id)
    volume = container.balance_ml
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.REVERSE_DISTRIBUTOR,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=shipped_by,
            occurred_at=when,
            witness=confirmation,
            reason=reason,
            details={
                "reverse_distributor_name": reverse_distributor.name,
                "reverse_distributor_address": reverse_distributor.address,
                "reverse_distributor_dea_number": reverse_distributor.dea_number,
                "opened": container.opened_at is not None,
            },
        ),
    )
    record(
        AuditEvent.Action.LEDGER_SENT_TO_REVERSE_DISTRIBUTOR,
        actor=shipped_by,
        subject=entry,
        vial=container.vial_identifier,
        volume_ml=volume,
        reverse_distributor_dea_number=reverse_distributor.dea_number,
        witness=confirmation.witness.username,
    )
    return entry


@transaction.atomic
def destroy_on_site(
    container: Container,
    *,
    method: str,
    destroyed_by: User,
    witness: WitnessConfirmation | None,
    reason: str = "Expired stock",
    occurred_at: datetime | None = None,
) -> LedgerEntry:
    """Destroy what is left in a vial on site, rendered non-retrievable before two
    authorized people (DEA Form 41 facts go in `details`)."""
    _same_organization(destroyed_by, container)
    when = _when(occurred_at)
    confirmation = _witness(witness, actor=destroyed_by)
    if not method.strip():
        raise LedgerError(
            "Say how it was destroyed (e.g. chemical digestion kit).",
            field="method",
            code="required",
        )
    container = lock_container(container)
    _in_stock(container)
    head = lock_head(container.registrant_id)
    registrant = _registrant_of(container)
    volume = container.balance_ml
    product = container.product
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.DESTRUCTION,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=destroyed_by,
            occurred_at=when,
            witness=confirmation,
            reason=reason,
            details={
                "method": method.strip(),
                "location": registrant.address,
                "ndc": product.ndc,
                "strength": product.strength,
                "form": product.dosage_form,
                "package": "partial" if container.opened_at else "full",
            },
        ),
    )
    record(
        AuditEvent.Action.LEDGER_DESTROYED,
        actor=destroyed_by,
        subject=entry,
        vial=container.vial_identifier,
        volume_ml=volume,
        method=method,
        witness=confirmation.witness.username,
    )
    return entry


@transaction.atomic
def record_theft_or_loss(
    container: Container,
    *,
    volume_ml: Decimal,
    reason: str,
    recorded_by: User,
    occurred_at: datetime | None = None,
) -> LedgerEntry:
    """Take a lost or stolen quantity off the books (after escalating its discrepancy)."""
    _same_organization(recorded_by, container)
    volume = _quantity(volume_ml, "volume_ml")
    when = _when(occurred_at)
    if not reason.strip():
        raise LedgerError("Say what happened.", field="reason", code="required")
    container = lock_container(container)
    _in_stock(container)
    head = lock_head(container.registrant_id)
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.THEFT_LOSS,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=recorded_by,
            occurred_at=when,
            reason=reason,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_THEFT_LOSS,
        actor=recorded_by,
        subject=entry,
        vial=container.vial_identifier,
        volume_ml=volume,
    )
    return entry


# --- corrections --------------------------------------------------------------------

NOT_REVERSIBLE = {
    LedgerEntry.Kind.REVERSAL: "a reversal cannot itself be reversed; record the right movement",
    LedgerEntry.Kind.TRANSFER_OUT: "a transfer is undone by transferring the vial back",
    LedgerEntry.Kind.TRANSFER_IN: "a transfer is undone by transferring the vial back",
}


@transaction.atomic
def reverse_entry(
    entry: LedgerEntry,
    *,
    reason: str,
    reversed_by: User,
    witness: WitnessConfirmation | None,
) -> LedgerEntry:
    """Correct a mistaken entry with one that undoes it and points at it. Witnessed."""
    _same_organization(reversed_by, entry)
    confirmation = _witness(witness, actor=reversed_by)
    if not reason.strip():
        raise LedgerError("Say what was wrong.", field="reason", code="required")
    if entry.kind in NOT_REVERSIBLE:
        raise LedgerError(
            f"Entry #{entry.seq} cannot be reversed: {NOT_REVERSIBLE[LedgerEntry.Kind(entry.kind)]}.",
            field="entry",
            code="not_reversible",
        )
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise LedgerError(
            f"Entry #{entry.seq} was already reversed.",
            field="entry",
            code="already_reversed",
        )
    container = lock_container(entry.container)
    if container.registrant_id != entry.registrant_id:
        raise LedgerError(
            "The vial has moved to another registration since; correct it there.",
            field="entry",
            code="container_moved",
        )
    head = lock_head(entry.registrant_id)
    session_after = None
    if entry.session_ref:
        current = (
            LedgerEntry.objects.filter(
                organization_id=entry.organization_id, session_ref=entry.session_ref
            ).aggregate(total=Sum("session_change_ml"))["total"]
            or ZERO
        )
        session_after = current - entry.session_change_ml
        if session_after < 0:
            raise LedgerError(
                "Reversing this would leave the session with less than nothing: "
                "reverse the later administration or waste first.",
                field="entry",
                code="balance_below_zero",
            )
    reversal = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.REVERSAL,
            container=container,
            quantity_ml=entry.quantity_ml,
            container_change_ml=-entry.container_change_ml,
            session_change_ml=-entry.session_change_ml,
            session_ref=entry.session_ref,
            session_balance_after_ml=session_after,
            patient=entry.patient,
            actor=reversed_by,
            occurred_at=timezone.now(),
            witness=confirmation,
            reason=reason,
            reverses=entry,
            details={"reverses_seq": entry.seq, "reverses_kind": entry.kind},
        ),
    )
    record(
        AuditEvent.Action.LEDGER_REVERSED,
        actor=reversed_by,
        patient=entry.patient,
        subject=reversal,
        reverses_seq=entry.seq,
        reverses_kind=entry.kind,
        witness=confirmation.witness.username,
    )
    return reversal


# --- counts, inventories, discrepancies ---------------------------------------------


@dataclass(frozen=True)
class CountInput:
    container: Container
    counted_ml: Decimal


def _counted_lines(
    registrant: Registrant,
    containers_in_scope: list[Container],
    lines: Sequence[CountInput],
) -> list[tuple[Container, Decimal, bool, Decimal, bool]]:
    """(container, counted, estimated, variance, is_discrepancy) for every container in scope."""
    counted = {line.container.pk: line.counted_ml for line in lines}
    unknown = set(counted) - {c.pk for c in containers_in_scope}
    if unknown:
        raise LedgerError(
            "A counted vial is not in stock in this safe.",
            field="lines",
            code="not_in_scope",
        )
    result = []
    for container in containers_in_scope:
        if container.pk not in counted:
            raise LedgerError(
                f"Count every vial in the safe: vial {container.vial_identifier} is missing "
                "from the count (enter 0 if it is not there).",
                field="lines",
                code="count_incomplete",
            )
        value = counted[container.pk]
        if value < 0 or value != value.quantize(Decimal("0.01")):
            raise LedgerError(
                f"Vial {container.vial_identifier}: the counted volume must be 0 or more, "
                "to 0.01 mL.",
                field="lines",
                code="counted_invalid",
            )
        if value > container.initial_volume_ml:
            raise LedgerError(
                f"Vial {container.vial_identifier}: {value} mL is more than the vial holds "
                f"({container.initial_volume_ml} mL).",
                field="lines",
                code="counted_invalid",
            )
        estimated = container.opened_at is not None
        variance = count_variance(
            expected_ml=container.balance_ml,
            counted_ml=value,
            estimated=estimated,
            estimate_tolerance_ml=registrant.opened_estimate_tolerance_ml,
        )
        result.append(
            (container, value, estimated, variance.variance_ml, variance.is_discrepancy)
        )
    return result


def _open_discrepancy(
    registrant: Registrant,
    *,
    flagged: list[tuple[Container, Decimal, bool, Decimal, bool]],
    discovered_by: User,
    when: datetime,
    count: Count | None = None,
    inventory: Inventory | None = None,
) -> Discrepancy:
    variance_ml = sum((v for _, _, _, v, _ in flagged), ZERO)
    variance_mg = sum(
        (
            (v * c.product.concentration_mg_per_ml).quantize(Decimal("0.01"))
            for c, _, _, v, _ in flagged
        ),
        ZERO,
    )
    discrepancy = Discrepancy.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        count=count,
        inventory=inventory,
        discovered_at=when,
        discovered_by=discovered_by,
        variance_ml=variance_ml,
        variance_mg=variance_mg,
    )
    DiscrepancyLine.objects.bulk_create(
        DiscrepancyLine(
            organization_id=registrant.organization_id,
            discrepancy=discrepancy,
            container=container,
            expected_ml=container.balance_ml,
            counted_ml=counted,
            variance_ml=variance,
        )
        for container, counted, _, variance, _ in flagged
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_OPENED,
        actor=discovered_by,
        subject=discrepancy,
        variance_ml=variance_ml,
        variance_mg=variance_mg,
        vials=[c.vial_identifier for c, *_ in flagged],
    )
    _notify_custodians(
        registrant.organization_id,
        "Controlled-substance discrepancy opened",
        f"A count at {registrant.name} ({registrant.dea_number}) differs from the ledger by "
        f"{variance_ml} mL ({variance_mg} mg). Open the ledger to investigate it today.",
    )
    return discrepancy


@transaction.atomic
def record_count(
    storage_location: StorageLocation,
    *,
    lines: Sequence[CountInput],
    counted_by: User,
    witness: WitnessConfirmation | None,
    kind: str = Count.Kind.DAILY,
    notes: str = "",
    counted_at: datetime | None = None,
) -> Count:
    """A two-person count of one safe; a variance opens a discrepancy the same moment."""
    _same_organization(counted_by, storage_location)
    confirmation = _witness(witness, actor=counted_by, field="second_counter")
    registrant = Registrant.objects.select_related("location").get(
        pk=storage_location.registrant_id
    )
    in_scope_ids = list(
        Container.objects.filter(
            storage_location=storage_location,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        ).values_list("pk", flat=True)
    )
    locked = lock_containers(in_scope_ids)
    scope = [locked[pk] for pk in sorted(locked)]
    counted = _counted_lines(registrant, scope, lines)
    now = _when(counted_at)
    flagged = [line for line in counted if line[4]]
    count = Count.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        storage_location=storage_location,
        kind=kind,
        counted_at=now,
        counted_by=counted_by,
        second_counter=confirmation.witness,
        second_confirmed_at=confirmation.confirmed_at,
        has_variance=bool(flagged),
        notes=notes,
    )
    CountLine.objects.bulk_create(
        CountLine(
            organization_id=registrant.organization_id,
            count=count,
            container=container,
            expected_ml=container.balance_ml,
            counted_ml=value,
            estimated=estimated,
            variance_ml=variance,
            is_discrepancy=is_discrepancy,
        )
        for container, value, estimated, variance, is_discrepancy in counted
    )
    record(
        AuditEvent.Action.LEDGER_COUNTED,
        actor=counted_by,
        subject=count,
        storage=storage_location.name,
        second_counter=confirmation.witness.username,
        containers=len(counted),
        variance=bool(flagged),
    )
    if flagged:
        _open_discrepancy(
            registrant, flagged=flagged, discovered_by=counted_by, when=now, count=count
        )
    return count


@transaction.atomic
def take_inventory(
    registrant: Registrant,
    *,
    kind: str,
    time_of_day: str,
    lines: Sequence[CountInput],
    taken_by: User,
    second_taker: WitnessConfirmation | None = None,
    notes: str = "",
    taken_at: datetime | None = None,
) -> Inventory:
    """An initial or biennial inventory of every container on hand (21 CFR 1304.11).

    Opened containers are estimated (allowed for Schedule III-V). An initial
    inventory with nothing on hand records zero. A variance opens a discrepancy.
    """
    _same_organization(taken_by, registrant)
    if kind not in Inventory.Kind.values:
        raise LedgerError("Choose the kind of inventory.", field="kind", code="invalid")
    if time_of_day not in Inventory.TimeOfDay.values:
        raise LedgerError(
            "Say whether it was taken at the opening or close of business.",
            field="time_of_day",
            code="invalid",
        )
    if (
        kind == Inventory.Kind.INITIAL
        and Inventory.objects.filter(
            registrant=registrant, kind=Inventory.Kind.INITIAL
        ).exists()
    ):
        raise LedgerError(
            "This registration already has its initial inventory; take a biennial one.",
            field="kind",
            code="initial_exists",
        )
    confirmation = (
        _witness(second_taker, actor=taken_by, field="second_taker")
        if second_taker is not None
        else None
    )
    registrant = Registrant.objects.select_related("location").get(pk=registrant.pk)
    in_scope_ids = list(
        Container.objects.filter(
            registrant=registrant,
            status__in=[Container.Status.SEALED, Container.Status.OPEN],
        ).values_list("pk", flat=True)
    )
    locked = lock_containers(in_scope_ids)
    scope = [locked[pk] for pk in sorted(locked)]
    counted = _counted_lines(registrant, scope, lines)
    now = _when(taken_at)
    inventory = Inventory.objects.create(
        organization_id=registrant.organization_id,
        registrant=registrant,
        kind=kind,
        taken_at=now,
        taken_date=local_date(registrant, now),
        time_of_day=time_of_day,
        taken_by=taken_by,
        second_taker=confirmation.witness if confirmation else None,
        registrant_name=registrant.name,
        registrant_address=registrant.address,
        registrant_dea_number=registrant.dea_number,
        notes=notes,
    )
    InventoryLine.objects.bulk_create(
        InventoryLine(
            organization_id=registrant.organization_id,
            inventory=inventory,
            product=container.product,
            container=container,
            product_name=container.product.name,
            ndc=container.product.ndc,
            strength=f"{container.product.concentration_mg_per_ml.normalize():f} mg/mL",
            dosage_form=container.product.dosage_form,
            container_volume_ml=container.initial_volume_ml,
            lot_number=container.lot.lot_number,
            opened=container.opened_at is not None,
            estimated=estimated,
            expected_ml=container.balance_ml,
            quantity_ml=value,
            quantity_mg=mg_from_ml(
                volume_ml=value,
                concentration_mg_per_ml=container.product.concentration_mg_per_ml,
            ),
        )
        for container, value, estimated, _, _ in counted
    )
    record(
        AuditEvent.Action.LEDGER_INVENTORY_TAKEN,
        actor=taken_by,
        subject=inventory,
        kind=kind,
        containers=len(counted),
    )
    flagged = [line for line in counted if line[4]]
    if flagged:
        _open_discrepancy(
            registrant,
            flagged=flagged,
            discovered_by=taken_by,
            when=now,
            inventory=inventory,
        )
    return inventory


def _lock_discrepancy(discrepancy: Discrepancy, *allowed: str) -> Discrepancy:
    locked = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    if locked.status not in allowed:
        raise LedgerError(
            f"This discrepancy is {locked.get_status_display().lower()}.",
            field="status",
            code="wrong_status",
        )
    return locked


@transaction.atomic
def investigate_discrepancy(
    discrepancy: Discrepancy, *, notes: str, investigated_by: User
) -> Discrepancy:
    """Record what the investigation found (the first step after a discrepancy opens)."""
    _same_organization(investigated_by, discrepancy)
    if not notes.strip():
        raise LedgerError(
            "Write down what was checked and found.", field="notes", code="required"
        )
    discrepancy = _lock_discrepancy(
        discrepancy, Discrepancy.Status.OPEN, Discrepancy.Status.INVESTIGATING
    )
    stamp = f"[{timezone.now():%Y-%m-%d %H:%M} UTC, {investigated_by.display_name}] "
    discrepancy.investigation_notes = (
        f"{discrepancy.investigation_notes}\n{stamp}{notes.strip()}".strip()
    )
    discrepancy.status = Discrepancy.Status.INVESTIGATING
    discrepancy.investigated_at = timezone.now()
    discrepancy.investigated_by = investigated_by
    discrepancy.save(
        update_fields=[
            "investigation_notes",
            "status",
            "investigated_at",
            "investigated_by",
        ]
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_INVESTIGATED,
        actor=investigated_by,
        subject=discrepancy,
        notes=notes,
    )
    return discrepancy


def _settle_lines(
    discrepancy: Discrepancy, *, actor: User, loss: bool, reason: str
) -> list[LedgerEntry]:
    """Bring the ledger to what was counted: adjustments, or theft/loss for shortages."""
    lines = list(discrepancy.lines.select_related("container"))
    locked = lock_containers([line.container_id for line in lines])
    head = lock_head(discrepancy.registrant_id)
    entries = []
    now = timezone.now()
    for line in lines:
        container = locked[line.container_id]
        if line.variance_ml == 0:
            continue
        if container.registrant_id != discrepancy.registrant_id:
            raise LedgerError(
                f"Vial {container.vial_identifier} has moved to another registration.",
                code="container_moved",
            )
        shortage = line.variance_ml < 0
        kind = (
            LedgerEntry.Kind.THEFT_LOSS
            if loss and shortage
            else LedgerEntry.Kind.COUNT_ADJUSTMENT
        )
        entries.append(
            append(
                head,
                Movement(
                    kind=kind,
                    container=container,
                    quantity_ml=abs(line.variance_ml),
                    container_change_ml=line.variance_ml,
                    actor=actor,
                    occurred_at=now,
                    reason=reason,
                    discrepancy=discrepancy,
                    details={
                        "expected_ml": line.expected_ml,
                        "counted_ml": line.counted_ml,
                    },
                ),
            )
        )
    return entries


@transaction.atomic
def resolve_minor_variance(
    discrepancy: Discrepancy, *, notes: str, resolved_by: User
) -> Discrepancy:
    """Close as a documented minor variance (no Form 106, D9) and adjust the ledger."""
    _same_organization(resolved_by, discrepancy)
    if not notes.strip():
        raise LedgerError(
            "Document why this is a minor variance.", field="notes", code="required"
        )
    discrepancy = _lock_discrepancy(discrepancy, Discrepancy.Status.INVESTIGATING)
    entries = _settle_lines(
        discrepancy,
        actor=resolved_by,
        loss=False,
        reason=f"Minor variance: {notes.strip()}",
    )
    discrepancy.status = Discrepancy.Status.RESOLVED_MINOR
    discrepancy.resolution_notes = notes.strip()
    discrepancy.closed_at = timezone.now()
    discrepancy.closed_by = resolved_by
    discrepancy.save(
        update_fields=["status", "resolution_notes", "closed_at", "closed_by"]
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_RESOLVED,
        actor=resolved_by,
        subject=discrepancy,
        notes=notes,
        adjustments=[e.seq for e in entries],
    )
    return discrepancy


@transaction.atomic
def escalate_significant_loss(
    discrepancy: Discrepancy,
    *,
    loss_kind: str,
    notes: str,
    escalated_by: User,
    holidays: Sequence[date] = (),
) -> Discrepancy:
    """Escalate as theft or significant loss: the DEA notice task (1 business day), the
    Form 106 task and draft (45 days), and the ledger takes the loss."""
    _same_organization(escalated_by, discrepancy)
    if loss_kind not in Discrepancy.LossKind.values:
        raise LedgerError(
            "Choose theft, significant loss or lost in transit.",
            field="loss_kind",
            code="invalid",
        )
    if not notes.strip():
        raise LedgerError(
            "Describe what happened and why it is significant.",
            field="notes",
            code="required",
        )
    discrepancy = _lock_discrepancy(
        discrepancy, Discrepancy.Status.OPEN, Discrepancy.Status.INVESTIGATING
    )
    registrant = Registrant.objects.select_related("location").get(
        pk=discrepancy.registrant_id
    )
    due = discrepancy_due_dates(
        discrepancy.discovered_at,
        clinic_timezone=ZoneInfo(registrant.location.time_zone),
        holidays=holidays,
    )
    entries = _settle_lines(
        discrepancy,
        actor=escalated_by,
        loss=True,
        reason=f"{Discrepancy.LossKind(loss_kind).label}: {notes.strip()}",
    )
    discrepancy.status = Discrepancy.Status.ESCALATED
    discrepancy.loss_kind = loss_kind
    discrepancy.resolution_notes = notes.strip()
    discrepancy.closed_at = timezone.now()
    discrepancy.closed_by = escalated_by
    discrepancy.save(
        update_fields=[
            "status",
            "loss_kind",
            "resolution_notes",
            "closed_at",
            "closed_by",
        ]
    )
    for kind, due_date in (
        (ComplianceTask.Kind.DEA_NOTICE, due.dea_notice_due_date),
        (ComplianceTask.Kind.FORM_106, due.form_106_due_date),
    ):
        ComplianceTask.objects.create(
            organization_id=registrant.organization_id,
            registrant=registrant,
            discrepancy=discrepancy,
            kind=kind,
            due_date=due_date,
        )
    items = [
        {
            "vial": line.container.vial_identifier,
            "product": line.container.product.name,
            "ndc": line.container.product.ndc,
            "strength": f"{line.container.product.concentration_mg_per_ml.normalize():f} mg/mL",
            "form": line.container.product.dosage_form,
            "container_volume_ml": str(line.container.initial_volume_ml),
            "lot": line.container.lot.lot_number,
            "quantity_lost_ml": str(-line.variance_ml),
            "quantity_lost_mg": str(
                mg_from_ml(
                    volume_ml=-line.variance_ml,
                    concentration_mg_per_ml=line.container.product.concentration_mg_per_ml,
                )
            ),
        }
        for line in discrepancy.lines.select_related(
            "container__product", "container__lot"
        )
        if line.variance_ml < 0
    ]
    Form106Draft.objects.create(
        organization_id=registrant.organization_id,
        discrepancy=discrepancy,
        registrant_name=registrant.name,
        registrant_address=registrant.address,
        registrant_dea_number=registrant.dea_number,
        discovered_date=local_date(registrant, discrepancy.discovered_at),
        due_date=due.form_106_due_date,
        loss_kind=loss_kind,
        items=items,
        narrative=notes.strip(),
    )
    record(
        AuditEvent.Action.LEDGER_DISCREPANCY_ESCALATED,
        actor=escalated_by,
        subject=discrepancy,
        loss_kind=loss_kind,
        dea_notice_due_date=due.dea_notice_due_date,
        form_106_due_date=due.form_106_due_date,
        entries=[e.seq for e in entries],
    )
    _notify_custodians(
        registrant.organization_id,
        "Theft or significant loss: DEA notice due",
        f"A discrepancy at {registrant.name} ({registrant.dea_number}) was escalated as "
        f"{Discrepancy.LossKind(loss_kind).label.lower()}. Written notice to the DEA Field "
        f"Division Office is due by {due.dea_notice_due_date:%A %d %B %Y}; DEA Form 106 by "
        f"{due.form_106_due_date:%d %B %Y}. The Form 106 draft is in the ledger.",
    )
    return discrepancy


@transaction.atomic
def complete_task(
    task: ComplianceTask, *, reference: str, done_by: User
) -> ComplianceTask:
    _same_organization(done_by, task)
    task = ComplianceTask.objects.select_for_update().get(pk=task.pk)
    if task.status == ComplianceTask.Status.DONE:
        raise LedgerError(
            "This task is already done.", field="status", code="wrong_status"
        )
    if not reference.strip():
        raise LedgerError(
            "Give a reference (e.g. the TLR confirmation number or the date the notice was sent).",
            field="reference",
            code="required",
        )
    task.status = ComplianceTask.Status.DONE
    task.done_at = timezone.now()
    task.done_by = done_by
    task.reference = reference.strip()
    task.save(update_fields=["status", "done_at", "done_by", "reference"])
    record(
        AuditEvent.Action.LEDGER_TASK_DONE,
        actor=done_by,
        subject=task,
        kind=task.kind,
        reference=task.reference,
    )
    return task


@transaction.atomic
def record_report_access(
    registrant: Registrant,
    *,
    report: str,
    start_date: date,
    end_date: date,
    exported: bool,
    by: User,
    rows: int,
) -> None:
    """Reports show patient names and addresses: every opening and export is audited."""
    record(
        AuditEvent.Action.LEDGER_REPORT_EXPORTED
        if exported
        else AuditEvent.Action.LEDGER_REPORT_VIEWED,
        actor=by,
        subject=registrant,
        report=report,
        start_date=start_date,
        end_date=end_date,
        rows=rows,
    )
