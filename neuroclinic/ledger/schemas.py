"""Ledger API schemas: <Thing>In for requests, <Thing>Out for answers. Objects by UUID."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from neuroclinic.lib.bidi import NoBidiSchema


class WitnessIn(Schema):
    """The witness, present now: their username, password and current authenticator code."""

    username: str = Field(max_length=150)
    password: str = Field(max_length=200)
    otp_code: str = Field(max_length=12)


class RegistrantOut(Schema):
    uuid: UUID
    name: str
    address: str
    dea_number: str
    schedules: str
    location: UUID
    head_seq: int
    head_hash: str
    stock_on_hand_mg: Decimal


class StorageLocationOut(Schema):
    uuid: UUID
    name: str
    description: str
    registrant: UUID
    is_active: bool


class ProductOut(Schema):
    uuid: UUID
    name: str
    ndc: str
    dosage_form: str
    concentration_mg_per_ml: Decimal
    container_volume_ml: Decimal
    schedule: str


class SupplierOut(Schema):
    uuid: UUID
    kind: str
    name: str
    address: str
    dea_number: str


class ContainerOut(Schema):
    uuid: UUID
    vial_identifier: str
    registrant: UUID
    product: UUID
    product_name: str
    ndc: str
    lot_number: str
    expiry_date: date
    storage_location: str
    status: str
    initial_volume_ml: Decimal
    balance_ml: Decimal
    balance_mg: Decimal
    received_at: datetime
    opened_at: datetime | None


class EntryOut(Schema):
    uuid: UUID
    seq: int
    registrant: UUID
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    container: UUID
    vial_identifier: str
    lot_number: str
    quantity_ml: Decimal
    quantity_mg: Decimal
    container_change_ml: Decimal
    session_change_ml: Decimal
    container_balance_after_ml: Decimal
    lot_balance_after_ml: Decimal
    session_balance_after_ml: Decimal | None
    stock_on_hand_after_mg: Decimal
    session_ref: str
    patient: UUID | None
    actor: str
    witness: str | None
    witness_confirmed_at: datetime | None
    reason: str
    reverses: UUID | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class ReceiptItemIn(NoBidiSchema):
    product: UUID
    lot_number: str = Field(max_length=40)
    expiry_date: date
    container_count: int
    vial_identifiers: list[str] = Field(default_factory=list)


class ReceiptIn(NoBidiSchema):
    registrant: UUID
    supplier: UUID
    storage_location: UUID
    invoice_number: str = Field(max_length=60)
    invoice_date: date
    received_at: datetime | None = None
    items: list[ReceiptItemIn]
    notes: str = ""


class ReceiptOut(Schema):
    uuid: UUID
    registrant: UUID
    supplier_name: str
    supplier_address: str
    supplier_dea_number: str
    invoice_number: str
    invoice_date: date
    received_at: datetime
    received_by: str
    has_scan: bool
    scan_sha256: str
    containers: list[ContainerOut]


class DrawIn(Schema):
    container: UUID
    patient: UUID
    session_ref: UUID
    volume_ml: Decimal
    occurred_at: datetime | None = None


class AdministrationIn(Schema):
    session_ref: UUID
    volume_ml: Decimal
    patient: UUID | None = None
    occurred_at: datetime | None = None


class SessionWasteIn(Schema):
    session_ref: UUID
    volume_ml: Decimal
    reason: str = Field("Remainder after administration", max_length=500)
    witness: WitnessIn


class ReturnIn(Schema):
    session_ref: UUID
    volume_ml: Decimal
    reason: str = Field(max_length=500)
    witness: WitnessIn


class ContainerWasteIn(Schema):
    container: UUID
    volume_ml: Decimal
    reason: str = Field(max_length=500)
    witness: WitnessIn


class TransferIn(Schema):
    container: UUID
    to_storage_location: UUID
    reason: str = Field("", max_length=500)


class TransferOut(Schema):
    transfer_out: EntryOut
    transfer_in: EntryOut


class ReverseDistributorIn(Schema):
    container: UUID
    reverse_distributor: UUID
    reason: str = Field("Expired or unwanted stock", max_length=500)
    witness: WitnessIn


class DestructionIn(Schema):
    container: UUID
    method: str = Field(max_length=200)
    reason: str = Field("Expired stock", max_length=500)
    witness: WitnessIn


class LossIn(Schema):
    container: UUID
    volume_ml: Decimal
    reason: str = Field(max_length=500)


class ReversalIn(Schema):
    entry: UUID
    reason: str = Field(max_length=500)
    witness: WitnessIn


class SessionOut(Schema):
    session_ref: str
    patient: UUID | None
    drawn_ml: Decimal
    administered_ml: Decimal
    wasted_ml: Decimal
    returned_ml: Decimal
    outstanding_ml: Decimal
    reconciled: bool
    entries: list[EntryOut]


class CountLineIn(Schema):
    container: UUID
    counted_ml: Decimal


class CountIn(Schema):
    storage_location: UUID
    kind: str = "daily"
    lines: list[CountLineIn]
    second_counter: WitnessIn
    notes: str = ""


class CountLineOut(Schema):
    vial_identifier: str
    expected_ml: Decimal
    counted_ml: Decimal
    estimated: bool
    variance_ml: Decimal
    is_discrepancy: bool


class CountOut(Schema):
    uuid: UUID
    kind: str
    counted_at: datetime
    counted_by: str
    second_counter: str
    has_variance: bool
    discrepancy: UUID | None
    lines: list[CountLineOut]


class InventoryIn(Schema):
    registrant: UUID
    kind: str
    time_of_day: str
    lines: list[CountLineIn]
    second_taker: WitnessIn | None = None
    notes: str = ""


class InventoryLineOut(Schema):
    product_name: str
    ndc: str
    strength: str
    dosage_form: str
    container_volume_ml: Decimal
    lot_number: str
    vial_identifier: str
    opened: bool
    estimated: bool
    quantity_ml: Decimal
    quantity_mg: Decimal


class InventoryOut(Schema):
    uuid: UUID
    kind: str
    taken_at: datetime
    taken_date: date
    time_of_day: str
    taken_by: str
    second_taker: str | None
    registrant_name: str
    registrant_address: str
    registrant_dea_number: str
    lines: list[InventoryLineOut]


class DiscrepancyLineOut(Schema):
    vial_identifier: str
    expected_ml: Decimal
    counted_ml: Decimal
    variance_ml: Decimal


class TaskOut(Schema):
    uuid: UUID
    kind: str
    title: str
    due_date: date
    status: str
    reference: str


class DiscrepancyOut(Schema):
    uuid: UUID
    status: str
    discovered_at: datetime
    discovered_by: str
    variance_ml: Decimal
    variance_mg: Decimal
    investigation_notes: str
    resolution_notes: str
    loss_kind: str
    closed_at: datetime | None
    lines: list[DiscrepancyLineOut]
    tasks: list[TaskOut]
    form_106: dict[str, Any] | None


class NotesIn(Schema):
    notes: str = Field(max_length=5000)


class EscalateIn(Schema):
    loss_kind: str
    notes: str = Field(max_length=5000)


class TaskDoneIn(Schema):
    reference: str = Field(max_length=100)


class ReportOut(Schema):
    report: str
    title: str
    registrant: UUID
    start_date: date
    end_date: date
    columns: list[str]
    rows: list[dict[str, str]]


class CheckOut(Schema):
    uuid: UUID
    registrant: UUID
    ran_at: datetime
    source: str
    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    problem: str
    head_seq: int
    head_hash: str


class InventoryStatusOut(Schema):
    registrant: UUID
    last_inventory_date: date | None
    biennial_due_date: date | None
    overdue: bool
    has_initial: bool
