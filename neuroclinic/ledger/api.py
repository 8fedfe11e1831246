"""The ledger's JSON API, mounted at /api/ledger/. Same actions as the web pages.

Every handler: capability check -> objects of the caller's organization by UUID
(404 otherwise) -> witness confirmation where needed -> action -> Out schema. A
refused action is a 422 problem document naming the field.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_auth import staff_auth
from neuroclinic.api_errors import FieldErrors
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
    record_theft_or_loss,
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
from neuroclinic.ledger.actions.report_access import record_report_access
from neuroclinic.ledger.actions.sessions import (
    draw_for_session,
    record_administration,
    return_to_stock,
    session_summary,
    waste_remainder,
)
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    ComplianceTask,
    Container,
    Count,
    Discrepancy,
    Inventory,
    LedgerCheck,
    LedgerEntry,
    Product,
    Receipt,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.reports import ReportKind, build_report
from neuroclinic.ledger.schemas import (
    AdministrationIn,
    CheckOut,
    ContainerOut,
    ContainerWasteIn,
    CountIn,
    CountOut,
    DestructionIn,
    DiscrepancyOut,
    DrawIn,
    EntryOut,
    EscalateIn,
    InventoryIn,
    InventoryOut,
    InventoryStatusOut,
    LossIn,
    NotesIn,
    ProductOut,
    ReceiptIn,
    ReceiptOut,
    RegistrantOut,
    ReportOut,
    ReturnIn,
    ReversalIn,
    ReverseDistributorIn,
    SessionOut,
    SessionWasteIn,
    StorageLocationOut,
    SupplierOut,
    TaskDoneIn,
    TaskOut,
    TransferIn,
    TransferOut,
    WitnessIn,
)
from neuroclinic.ledger.status import inventory_status, latest_check
from neuroclinic.ledger.witness import WitnessConfirmation, confirm_witness
from neuroclinic.patients.access import get_patient_for_user

router = Router(tags=["ledger"])


class Needs:
    """Operation auth: the API's own authenticators, then the capability.

    Checked before the body is parsed, so a role without the capability gets
    403, never a 422 about a body it may not send.
    """

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def __call__(self, request: HttpRequest) -> User | None:
        for authenticate in staff_auth():
            user = authenticate(request)
            if isinstance(user, User):
                if not user.can(self.capability):
                    raise HttpError(403, "Your role does not allow this.")
                return user
        return None


def _staff(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)  # the API's auth guarantees a signed-in staff user
    if not user.can(capability):
        raise HttpError(403, "Your role does not allow this.")
    return user


def _get[M: Model](model: type[M], user: User, uuid: UUID | str, **filters: Any) -> M:
    """An object of the caller's organization, or 404 (not-found and not-yours look alike)."""
    manager: QuerySet[M] = model._default_manager.all()
    return get_object_or_404(
        manager, uuid=uuid, organization_id=user.organization_pk, **filters
    )


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused action answers 422 naming the field; nothing was written."""
    try:
        yield
    except LedgerError as exc:
        field = "body" if exc.field == "__all__" else exc.field
        raise FieldErrors({field: [exc.message]}) from None


def _witness(
    user: User, witness: WitnessIn, *, prefix: str = "witness"
) -> WitnessConfirmation:
    try:
        return confirm_witness(
            actor=user,
            witness_username=witness.username,
            password=witness.password,
            otp_code=witness.otp_code,
        )
    except LedgerError as exc:
        field = {
            "witness": f"{prefix}.username",
            "witness_password": f"{prefix}.password",
            "witness_code": f"{prefix}.otp_code",
        }.get(exc.field, prefix)
        raise FieldErrors({field: [exc.message]}) from None


# --- serialisation --------------------------------------------------------------------


def container_out(c: Container) -> dict[str, Any]:
    return {
        "uuid": c.uuid,
        "vial_identifier": c.vial_identifier,
        "registrant": c.registrant.uuid,
        "product": c.product.uuid,
        "product_name": c.product.name,
        "ndc": c.product.ndc,
        "lot_number": c.lot.lot_number,
        "expiry_date": c.lot.expiry_date,
        "storage_location": c.storage_location.name,
        "status": c.status,
        "initial_volume_ml": c.initial_volume_ml,
        "balance_ml": c.balance_ml,
        "balance_mg": c.balance_mg,
        "received_at": c.received_at,
        "opened_at": c.opened_at,
    }


def entry_out(e: LedgerEntry) -> dict[str, Any]:
    return {
        "uuid": e.uuid,
        "seq": e.seq,
        "registrant": e.registrant.uuid,
        "kind": e.kind,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "container": e.container.uuid,
        "vial_identifier": e.container.vial_identifier,
        "lot_number": e.lot.lot_number,
        "quantity_ml": e.quantity_ml,
        "quantity_mg": e.quantity_mg,
        "container_change_ml": e.container_change_ml,
        "session_change_ml": e.session_change_ml,
        "container_balance_after_ml": e.container_balance_after_ml,
        "lot_balance_after_ml": e.lot_balance_after_ml,
        "session_balance_after_ml": e.session_balance_after_ml,
        "stock_on_hand_after_mg": e.stock_on_hand_after_mg,
        "session_ref": e.session_ref,
        "patient": e.patient.uuid if e.patient else None,
        "actor": e.actor.username,
        "witness": e.witness.username if e.witness else None,
        "witness_confirmed_at": e.witness_confirmed_at,
        "reason": e.reason,
        "reverses": e.reverses.uuid if e.reverses else None,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _entries(queryset: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    return queryset.select_related(
        "registrant", "container", "lot", "patient", "actor", "witness", "reverses"
    )


def _entry_list(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    fresh = _entries(
        LedgerEntry.objects.filter(pk__in=[e.pk for e in entries])
    ).order_by("registrant_id", "seq")
    return [entry_out(e) for e in fresh]


def registrant_out(r: Registrant) -> dict[str, Any]:
    return {
        "uuid": r.uuid,
        "name": r.name,
        "address": r.address,
        "dea_number": r.dea_number,
        "schedules": r.schedules,
        "location": r.location.uuid,
        "head_seq": r.head.seq,
        "head_hash": r.head.hash,
        "stock_on_hand_mg": r.head.stock_on_hand_mg,
    }


def receipt_out(receipt: Receipt) -> dict[str, Any]:
    containers = receipt.containers.select_related(
        "registrant", "product", "lot", "storage_location"
    ).order_by("id")
    return {
        "uuid": receipt.uuid,
        "registrant": receipt.registrant.uuid,
        "supplier_name": receipt.supplier_name,
        "supplier_address": receipt.supplier_address,
        "supplier_dea_number": receipt.supplier_dea_number,
        "invoice_number": receipt.invoice_number,
        "invoice_date": receipt.invoice_date,
        "received_at": receipt.received_at,
        "received_by": receipt.received_by.username,
        "has_scan": bool(receipt.invoice_scan),
        "scan_sha256": receipt.scan_sha256,
        "containers": [container_out(c) for c in containers],
    }


def count_out(count: Count) -> dict[str, Any]:
    discrepancy = count.discrepancies.first()
    return {
        "uuid": count.uuid,
        "kind": count.kind,
        "counted_at": count.counted_at,
        "counted_by": count.counted_by.username,
        "second_counter": count.second_counter.username,
        "has_variance": count.has_variance,
        "discrepancy": discrepancy.uuid if discrepancy else None,
        "lines": [
            {
                "vial_identifier": line.container.vial_identifier,
                "expected_ml": line.expected_ml,
                "counted_ml": line.counted_ml,
                "estimated": line.estimated,
                "variance_ml": line.variance_ml,
                "is_discrepancy": line.is_discrepancy,
            }
            for line in count.lines.select_related("container")
        ],
    }


def inventory_out(inventory: Inventory) -> dict[str, Any]:
    return {
        "uuid": inventory.uuid,
        "kind": inventory.kind,
        "taken_at": inventory.taken_at,
        "taken_date": inventory.taken_date,
        "time_of_day": inventory.time_of_day,
        "taken_by": inventory.taken_by.username,
        "second_taker": inventory.second_taker.username
        if inventory.second_taker
        else None,
        "registrant_name": inventory.registrant_name,
        "registrant_address": inventory.registrant_address,
        "registrant_dea_number": inventory.registrant_dea_number,
        "lines": [
            {
                "product_name": line.product_name,
                "ndc": line.ndc,
                "strength": line.strength,
                "dosage_form": line.dosage_form,
                "container_volume_ml": line.container_volume_ml,
                "lot_number": line.lot_number,
                "vial_identifier": line.container.vial_identifier,
                "opened": line.opened,
                "estimated": line.estimated,
                "quantity_ml": line.quantity_ml,
                "quantity_mg": line.quantity_mg,
            }
            for line in inventory.lines.select_related("container")
        ],
    }


def task_out(task: ComplianceTask) -> dict[str, Any]:
    return {
        "uuid": task.uuid,
        "kind": task.kind,
        "title": task.get_kind_display(),
        "due_date": task.due_date,
        "status": task.status,
        "reference": task.reference,
    }


def discrepancy_out(d: Discrepancy) -> dict[str, Any]:
    form_106 = getattr(d, "form_106", None)
    return {
        "uuid": d.uuid,
        "status": d.status,
        "discovered_at": d.discovered_at,
        "discovered_by": d.discovered_by.username,
        "variance_ml": d.variance_ml,
        "variance_mg": d.variance_mg,
        "investigation_notes": d.investigation_notes,
        "resolution_notes": d.resolution_notes,
        "loss_kind": d.loss_kind,
        "closed_at": d.closed_at,
        "lines": [
            {
                "vial_identifier": line.container.vial_identifier,
                "expected_ml": line.expected_ml,
                "counted_ml": line.counted_ml,
                "variance_ml": line.variance_ml,
            }
            for line in d.lines.select_related("container")
        ],
        "tasks": [task_out(t) for t in d.tasks.all()],
        "form_106": None
        if form_106 is None
        else {
            "registrant_name": form_106.registrant_name,
            "registrant_address": form_106.registrant_address,
            "registrant_dea_number": form_106.registrant_dea_number,
            "discovered_date": form_106.discovered_date,
            "due_date": form_106.due_date,
            "loss_kind": form_106.loss_kind,
            "items": form_106.items,
            "narrative": form_106.narrative,
        },
    }


def check_out(check: LedgerCheck) -> dict[str, Any]:
    return {
        "uuid": check.uuid,
        "registrant": check.registrant.uuid,
        "ran_at": check.ran_at,
        "source": check.source,
        "ok": check.ok,
        "entries_checked": check.entries_checked,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
        "head_seq": check.head_seq,
        "head_hash": check.head_hash,
    }


# --- reference data -------------------------------------------------------------------


@router.get(
    "/registrants", response=list[RegistrantOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_registrants(request: HttpRequest) -> list[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return [
        registrant_out(r)
        for r in Registrant.objects.filter(organization_id=user.organization_pk)
        .select_related("location", "head")
        .order_by("name", "id")
    ]


@router.get(
    "/storage-locations",
    response=list[StorageLocationOut],
    auth=Needs(Capability.LEDGER_VIEW),
)
def list_storage_locations(request: HttpRequest) -> list[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return [
        {
            "uuid": s.uuid,
            "name": s.name,
            "description": s.description,
            "registrant": s.registrant.uuid,
            "is_active": s.is_active,
        }
        for s in StorageLocation.objects.filter(organization_id=user.organization_pk)
        .select_related("registrant")
        .order_by("registrant_id", "name", "id")
    ]


@router.get("/products", response=list[ProductOut], auth=Needs(Capability.LEDGER_VIEW))
def list_products(request: HttpRequest) -> QuerySet[Product]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return Product.objects.filter(organization_id=user.organization_pk, is_active=True)


@router.get(
    "/suppliers", response=list[SupplierOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_suppliers(request: HttpRequest) -> QuerySet[Supplier]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return Supplier.objects.filter(organization_id=user.organization_pk, is_active=True)


# --- stock and entries ------------------------------------------------------------


class ContainerFilter(Schema):
    registrant: UUID | None = None
    in_stock: bool = True


@router.get(
    "/containers", response=list[ContainerOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_containers(
    request: HttpRequest, filters: Query[ContainerFilter]
) -> list[dict[str, Any]]:
    """Vials: on hand by default (sealed or opened), soonest expiry first."""
    user = _staff(request, Capability.LEDGER_VIEW)
    containers = Container.objects.filter(
        organization_id=user.organization_pk
    ).select_related("registrant", "product", "lot", "storage_location")
    if filters.registrant is not None:
        containers = containers.filter(registrant__uuid=filters.registrant)
    if filters.in_stock:
        containers = containers.filter(
            status__in=[Container.Status.SEALED, Container.Status.OPEN]
        )
    return [container_out(c) for c in containers]


@router.get(
    "/containers/{container_id}",
    response=ContainerOut,
    auth=Needs(Capability.LEDGER_VIEW),
)
def read_container(request: HttpRequest, container_id: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return container_out(_get(Container, user, container_id))


class EntryFilter(Schema):
    registrant: UUID | None = None
    kind: str | None = None
    container: UUID | None = None
    session_ref: UUID | None = None


@router.get("/entries", response=list[EntryOut], auth=Needs(Capability.LEDGER_VIEW))
@paginate(PageNumberPagination, page_size=100)
def list_entries(request: HttpRequest, filters: Query[EntryFilter]) -> Any:
    """The chain, newest first."""
    user = _staff(request, Capability.LEDGER_VIEW)
    entries = _entries(LedgerEntry.objects.filter(organization_id=user.organization_pk))
    if filters.registrant is not None:
        entries = entries.filter(registrant__uuid=filters.registrant)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.container is not None:
        entries = entries.filter(container__uuid=filters.container)
    if filters.session_ref is not None:
        entries = entries.filter(session_ref=str(filters.session_ref))
    return _EntryPage(entries.order_by("-recorded_at", "-seq"))


class _EntryPage:
    """A lazily sliced queryset that pagination can count and slice, serialised per page."""

    def __init__(self, entries: QuerySet[LedgerEntry]) -> None:
        self.entries = entries

    def count(self) -> int:
        return self.entries.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return [entry_out(e) for e in self.entries[index]]


@router.get(
    "/entries/{entry_id}", response=EntryOut, auth=Needs(Capability.LEDGER_VIEW)
)
def read_entry(request: HttpRequest, entry_id: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return entry_out(_get(LedgerEntry, user, entry_id))


# --- receiving ----------------------------------------------------------------------


@router.post(
    "/receipts", response={201: ReceiptOut}, auth=Needs(Capability.LEDGER_RECEIVE)
)
def receive(request: HttpRequest, payload: ReceiptIn) -> Status[dict[str, Any]]:
    """Receive a supplier's invoice: lots, vials and one receive entry per vial."""
    user = _staff(request, Capability.LEDGER_RECEIVE)
    registrant = _get(Registrant, user, payload.registrant)
    items = [
        ReceiptItem(
            product=_get(Product, user, item.product),
            lot_number=item.lot_number,
            expiry_date=item.expiry_date,
            container_count=item.container_count,
            vial_identifiers=item.vial_identifiers,
        )
        for item in payload.items
    ]
    with _refusals():
        receipt = receive_invoice(
            registrant,
            supplier=_get(Supplier, user, payload.supplier),
            invoice_number=payload.invoice_number,
            invoice_date=payload.invoice_date,
            storage_location=_get(StorageLocation, user, payload.storage_location),
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
    user = _staff(request, Capability.LEDGER_VIEW)
    return receipt_out(_get(Receipt, user, receipt_id))


@router.post(
    "/receipts/{receipt_id}/scan",
    response=ReceiptOut,
    auth=Needs(Capability.LEDGER_RECEIVE),
)
def attach_scan(
    request: HttpRequest, receipt_id: UUID, scan: File[UploadedFile]
) -> dict[str, Any]:
    """Attach the invoice scan (PDF, JPEG or PNG, up to 10 MB) to a receipt without one."""
    user = _staff(request, Capability.LEDGER_RECEIVE)
    receipt = _get(Receipt, user, receipt_id)
    with _refusals():
        receipt = attach_invoice_scan(receipt, scan=scan, by=user)
    return receipt_out(receipt)


# --- sessions -----------------------------------------------------------------------


@router.post("/draws", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DRAW))
def draw(request: HttpRequest, payload: DrawIn) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_DRAW)
    container = _get(Container, user, payload.container)
    patient = get_patient_for_user(
        user, payload.patient, capability=Capability.LEDGER_DRAW
    )
    with _refusals():
        entry = draw_for_session(
            container,
            session_ref=payload.session_ref,
            patient=patient,
            volume_ml=payload.volume_ml,
            by=user,
            occurred_at=payload.occurred_at,
        )
    return Status(201, _entry_list([entry])[0])


@router.post(
    "/administrations",
    response={201: list[EntryOut]},
    auth=Needs(Capability.LEDGER_DRAW),
)
def administer(
    request: HttpRequest, payload: AdministrationIn
) -> Status[list[dict[str, Any]]]:
    user = _staff(request, Capability.LEDGER_DRAW)
    patient = (
        get_patient_for_user(user, payload.patient, capability=Capability.LEDGER_DRAW)
        if payload.patient is not None
        else None
    )
    with _refusals():
        entries = record_administration(
            payload.session_ref,
            volume_ml=payload.volume_ml,
            by=user,
            patient=patient,
            occurred_at=payload.occurred_at,
        )
    return Status(201, _entry_list(entries))


@router.post(
    "/wastes", response={201: list[EntryOut]}, auth=Needs(Capability.LEDGER_DRAW)
)
def waste(
    request: HttpRequest, payload: SessionWasteIn
) -> Status[list[dict[str, Any]]]:
    """Waste what a session drew and did not give, witnessed (password + TOTP now)."""
    user = _staff(request, Capability.LEDGER_DRAW)
    witness = _witness(user, payload.witness)
    with _refusals():
        entries = waste_remainder(
            payload.session_ref,
            volume_ml=payload.volume_ml,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, _entry_list(entries))


@router.post(
    "/returns", response={201: list[EntryOut]}, auth=Needs(Capability.LEDGER_DRAW)
)
def return_unused(
    request: HttpRequest, payload: ReturnIn
) -> Status[list[dict[str, Any]]]:
    user = _staff(request, Capability.LEDGER_DRAW)
    witness = _witness(user, payload.witness)
    with _refusals():
        entries = return_to_stock(
            payload.session_ref,
            volume_ml=payload.volume_ml,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, _entry_list(entries))


@router.get(
    "/sessions/{session_ref}", response=SessionOut, auth=Needs(Capability.LEDGER_VIEW)
)
def read_session(request: HttpRequest, session_ref: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_VIEW)
    summary = session_summary(session_ref, organization_id=user.organization_pk)
    if not summary.entries:
        raise HttpError(404, "No such session in the ledger.")
    patient = summary.entries[0].patient
    return {
        "session_ref": summary.session_ref,
        "patient": patient.uuid if patient else None,
        "drawn_ml": summary.drawn_ml,
        "administered_ml": summary.administered_ml,
        "wasted_ml": summary.wasted_ml,
        "returned_ml": summary.returned_ml,
        "outstanding_ml": summary.outstanding_ml,
        "reconciled": summary.reconciled,
        "entries": _entry_list(summary.entries),
    }


# --- vial movements -----------------------------------------------------------------


@router.post(
    "/container-wastes", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DRAW)
)
def waste_from_vial(
    request: HttpRequest, payload: ContainerWasteIn
) -> Status[dict[str, Any]]:
    """Breakage, spillage, or an opened vial discarded: witnessed."""
    user = _staff(request, Capability.LEDGER_DRAW)
    container = _get(Container, user, payload.container)
    witness = _witness(user, payload.witness)
    with _refusals():
        entry = waste_from_container(
            container,
            volume_ml=payload.volume_ml,
            reason=payload.reason,
            by=user,
            witness=witness,
        )
    return Status(201, _entry_list([entry])[0])


@router.post(
    "/transfers", response={201: TransferOut}, auth=Needs(Capability.LEDGER_RECEIVE)
)
def transfer(request: HttpRequest, payload: TransferIn) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_RECEIVE)
    container = _get(Container, user, payload.container)
    target = _get(StorageLocation, user, payload.to_storage_location)
    with _refusals():
        out, into = transfer_container(
            container, to_storage_location=target, by=user, reason=payload.reason
        )
    both = _entry_list([out, into])
    return Status(201, {"transfer_out": both[0], "transfer_in": both[1]})


@router.post(
    "/reverse-distributions",
    response={201: EntryOut},
    auth=Needs(Capability.LEDGER_DESTROY),
)
def reverse_distribution(
    request: HttpRequest, payload: ReverseDistributorIn
) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_DESTROY)
    container = _get(Container, user, payload.container)
    distributor = _get(Supplier, user, payload.reverse_distributor)
    witness = _witness(user, payload.witness)
    with _refusals():
        entry = send_to_reverse_distributor(
            container,
            reverse_distributor=distributor,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, _entry_list([entry])[0])


@router.post(
    "/destructions", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DESTROY)
)
def destruction(request: HttpRequest, payload: DestructionIn) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_DESTROY)
    container = _get(Container, user, payload.container)
    witness = _witness(user, payload.witness)
    with _refusals():
        entry = destroy_on_site(
            container,
            method=payload.method,
            by=user,
            witness=witness,
            reason=payload.reason,
        )
    return Status(201, _entry_list([entry])[0])


@router.post("/losses", response={201: EntryOut}, auth=Needs(Capability.LEDGER_DESTROY))
def loss(request: HttpRequest, payload: LossIn) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_DESTROY)
    container = _get(Container, user, payload.container)
    with _refusals():
        entry = record_theft_or_loss(
            container,
            volume_ml=payload.volume_ml,
            reason=payload.reason,
            by=user,
        )
    return Status(201, _entry_list([entry])[0])


@router.post(
    "/reversals", response={201: EntryOut}, auth=Needs(Capability.LEDGER_ADJUST)
)
def reversal(request: HttpRequest, payload: ReversalIn) -> Status[dict[str, Any]]:
    """Correct a mistaken entry: a new entry that undoes it and points at it. Witnessed."""
    user = _staff(request, Capability.LEDGER_ADJUST)
    entry = _get(LedgerEntry, user, payload.entry)
    witness = _witness(user, payload.witness)
    with _refusals():
        reversing = reverse_entry(
            entry, reason=payload.reason, by=user, witness=witness
        )
    return Status(201, _entry_list([reversing])[0])


# --- counts, inventories, discrepancies ---------------------------------------------


def _count_lines(user: User, lines: list[Any]) -> list[CountInput]:
    return [
        CountInput(
            container=_get(Container, user, line.container), counted_ml=line.counted_ml
        )
        for line in lines
    ]


@router.post("/counts", response={201: CountOut}, auth=Needs(Capability.LEDGER_COUNT))
def count(request: HttpRequest, payload: CountIn) -> Status[dict[str, Any]]:
    """A two-person count of one safe; a variance opens a discrepancy."""
    user = _staff(request, Capability.LEDGER_COUNT)
    storage = _get(StorageLocation, user, payload.storage_location)
    lines = _count_lines(user, payload.lines)
    if payload.kind not in Count.Kind.values:
        raise FieldErrors({"kind": [f"Choose one of {', '.join(Count.Kind.values)}."]})
    witness = _witness(user, payload.second_counter, prefix="second_counter")
    with _refusals():
        made = record_count(
            storage,
            lines=lines,
            by=user,
            witness=witness,
            kind=payload.kind,
            notes=payload.notes,
        )
    return Status(201, count_out(made))


@router.get("/counts/{count_id}", response=CountOut, auth=Needs(Capability.LEDGER_VIEW))
def read_count(request: HttpRequest, count_id: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return count_out(_get(Count, user, count_id))


@router.post(
    "/inventories", response={201: InventoryOut}, auth=Needs(Capability.LEDGER_COUNT)
)
def inventory(request: HttpRequest, payload: InventoryIn) -> Status[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_COUNT)
    registrant = _get(Registrant, user, payload.registrant)
    lines = _count_lines(user, payload.lines)
    second = (
        _witness(user, payload.second_taker, prefix="second_taker")
        if payload.second_taker is not None
        else None
    )
    with _refusals():
        made = take_inventory(
            registrant,
            kind=payload.kind,
            time_of_day=payload.time_of_day,
            lines=lines,
            by=user,
            second_taker=second,
            notes=payload.notes,
        )
    return Status(201, inventory_out(made))


@router.get(
    "/inventories/{inventory_id}",
    response=InventoryOut,
    auth=Needs(Capability.LEDGER_REPORT),
)
def read_inventory(request: HttpRequest, inventory_id: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_REPORT)
    return inventory_out(_get(Inventory, user, inventory_id))


@router.get(
    "/inventory-status",
    response=list[InventoryStatusOut],
    auth=Needs(Capability.LEDGER_VIEW),
)
def read_inventory_status(request: HttpRequest) -> list[dict[str, Any]]:
    """Per registrant: the last initial or biennial inventory and when the next is due."""
    user = _staff(request, Capability.LEDGER_VIEW)
    result = []
    for registrant in Registrant.objects.filter(
        organization_id=user.organization_pk
    ).select_related("location"):
        status = inventory_status(registrant)
        result.append(
            {
                "registrant": registrant.uuid,
                "last_inventory_date": status.last_date,
                "biennial_due_date": status.due_date,
                "overdue": status.overdue,
                "has_initial": status.has_initial,
            }
        )
    return result


@router.get(
    "/discrepancies", response=list[DiscrepancyOut], auth=Needs(Capability.LEDGER_VIEW)
)
def list_discrepancies(request: HttpRequest) -> list[dict[str, Any]]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return [
        discrepancy_out(d)
        for d in Discrepancy.objects.filter(organization_id=user.organization_pk)
        .select_related("discovered_by", "form_106")
        .prefetch_related("tasks")
    ]


@router.get(
    "/discrepancies/{discrepancy_id}",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_VIEW),
)
def read_discrepancy(request: HttpRequest, discrepancy_id: UUID) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_VIEW)
    return discrepancy_out(_get(Discrepancy, user, discrepancy_id))


def _discrepancy_step(
    request: HttpRequest,
    discrepancy_id: UUID,
    step: Callable[[Discrepancy, User], Discrepancy],
) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_ADJUST)
    discrepancy = _get(Discrepancy, user, discrepancy_id)
    with _refusals():
        done = step(discrepancy, user)
    return discrepancy_out(Discrepancy.objects.get(pk=done.pk))


@router.post(
    "/discrepancies/{discrepancy_id}/investigate",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_ADJUST),
)
def investigate(
    request: HttpRequest, discrepancy_id: UUID, payload: NotesIn
) -> dict[str, Any]:
    return _discrepancy_step(
        request,
        discrepancy_id,
        lambda d, user: investigate_discrepancy(d, notes=payload.notes, by=user),
    )


@router.post(
    "/discrepancies/{discrepancy_id}/resolve",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_ADJUST),
)
def resolve(
    request: HttpRequest, discrepancy_id: UUID, payload: NotesIn
) -> dict[str, Any]:
    """Close as a documented minor variance; the ledger is adjusted to the count."""
    return _discrepancy_step(
        request,
        discrepancy_id,
        lambda d, user: resolve_minor_variance(d, notes=payload.notes, by=user),
    )


@router.post(
    "/discrepancies/{discrepancy_id}/escalate",
    response=DiscrepancyOut,
    auth=Needs(Capability.LEDGER_ADJUST),
)
def escalate(
    request: HttpRequest, discrepancy_id: UUID, payload: EscalateIn
) -> dict[str, Any]:
    """Theft or significant loss: DEA notice and Form 106 tasks with due dates, Form 106 draft."""
    return _discrepancy_step(
        request,
        discrepancy_id,
        lambda d, user: escalate_significant_loss(
            d, loss_kind=payload.loss_kind, notes=payload.notes, by=user
        ),
    )


@router.post(
    "/tasks/{task_id}/done", response=TaskOut, auth=Needs(Capability.LEDGER_ADJUST)
)
def task_done(
    request: HttpRequest, task_id: UUID, payload: TaskDoneIn
) -> dict[str, Any]:
    user = _staff(request, Capability.LEDGER_ADJUST)
    task = _get(ComplianceTask, user, task_id)
    with _refusals():
        done = complete_task(task, reference=payload.reference, by=user)
    return task_out(done)


# --- reports and checks ----------------------------------------------------------------


class ReportQuery(Schema):
    registrant: UUID
    start_date: date | None = None
    end_date: date | None = None


@router.get("/reports/{kind}", response=ReportOut, auth=Needs(Capability.LEDGER_REPORT))
def report(
    request: HttpRequest, kind: ReportKind, query: Query[ReportQuery]
) -> dict[str, Any]:
    """An inspection report for a date range (default: the last 30 days). Audited."""
    user = _staff(request, Capability.LEDGER_REPORT)
    registrant = _get(Registrant, user, query.registrant)
    end = query.end_date or local_date(registrant, timezone.now())
    start = query.start_date or end - timedelta(days=30)
    if start > end:
        raise FieldErrors({"start_date": ["The start date is after the end date."]})
    built = build_report(kind, registrant, start, end)
    record_report_access(
        registrant,
        report=kind,
        start_date=start,
        end_date=end,
        exported=True,
        by=user,
        rows=len(built.rows),
    )
    return {
        "report": kind.value,
        "title": built.title,
        "registrant": registrant.uuid,
        "start_date": start,
        "end_date": end,
        "columns": built.columns,
        "rows": built.as_dicts(),
    }


@router.get(
    "/checks/latest", response=list[CheckOut], auth=Needs(Capability.LEDGER_VIEW)
)
def latest_checks(request: HttpRequest) -> list[dict[str, Any]]:
    """The last verification of each registrant's chain."""
    user = _staff(request, Capability.LEDGER_VIEW)
    checks = []
    for registrant in Registrant.objects.filter(organization_id=user.organization_pk):
        check = latest_check(registrant)
        if check is not None:
            checks.append(check_out(check))
    return checks


class CheckIn(Schema):
    registrant: UUID


@router.post("/checks", response={201: CheckOut}, auth=Needs(Capability.LEDGER_REPORT))
def run_check_now(request: HttpRequest, payload: CheckIn) -> Status[dict[str, Any]]:
    """Verify a chain now (read-only on the ledger; the result is kept)."""
    user = _staff(request, Capability.LEDGER_REPORT)
    registrant = _get(Registrant, user, payload.registrant)
    check, _ = run_check(
        registrant, source=LedgerCheck.Source.WEB, notify=False, by=user
    )
    return Status(201, check_out(check))
