"""Whole-vial movements: waste, transfer, destruction, reverse distributor, theft or
loss; and the reversal that corrects a mistaken entry with a new one."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.actions.guards import (
    checked_quantity,
    checked_time,
    checked_witness,
    registrant_of,
    require_in_stock,
    require_same_organization,
)
from neuroclinic.ledger.chain import ZERO, Movement, append, lock_container, lock_head
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    Container,
    LedgerEntry,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.witness import WitnessConfirmation


@transaction.atomic
def waste_from_container(
    container: Container,
    *,
    volume_ml: Decimal,
    reason: str,
    witness: WitnessConfirmation | None,
    occurred_at: datetime | None = None,
    by: User,
) -> LedgerEntry:
    """Waste straight from a vial: breakage, spillage, or an opened vial past its use date."""
    require_same_organization(by, container)
    volume = checked_quantity(volume_ml, "volume_ml")
    when = checked_time(occurred_at)
    confirmation = checked_witness(witness, actor=by)
    if not reason.strip():
        raise LedgerError(
            "Say what happened (e.g. vial broken).", field="reason", code="required"
        )
    container = lock_container(container)
    require_in_stock(container)
    head = lock_head(container.registrant_id)
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.WASTE,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=by,
            occurred_at=when,
            witness=confirmation,
            reason=reason,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_WASTED,
        actor=by,
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
    reason: str = "",
    occurred_at: datetime | None = None,
    by: User,
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move a whole vial to another safe: the out and the in are written together.

    Between two registrations of the same organization, the out goes on the
    source's chain and the in on the destination's (Schedule III distribution
    between registrants is on an invoice, D2: note its number in `reason`).
    """
    require_same_organization(by, container, to_storage_location)
    when = checked_time(occurred_at)
    container = lock_container(container)
    require_in_stock(container)
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
            actor=by,
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
            actor=by,
            occurred_at=when,
            reason=reason,
            details=details,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_TRANSFERRED,
        actor=by,
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
    witness: WitnessConfirmation | None,
    reason: str = "Expired or unwanted stock",
    occurred_at: datetime | None = None,
    by: User,
) -> LedgerEntry:
    """Send the whole vial to a DEA-registered reverse distributor (who files Form 41)."""
    require_same_organization(by, container, reverse_distributor)
    when = checked_time(occurred_at)
    confirmation = checked_witness(witness, actor=by)
    if reverse_distributor.kind != Supplier.Kind.REVERSE_DISTRIBUTOR:
        raise LedgerError(
            "Choose a reverse distributor.",
            field="reverse_distributor",
            code="not_reverse_distributor",
        )
    container = lock_container(container)
    require_in_stock(container)
    head = lock_head(container.registrant_id)
    volume = container.balance_ml
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.REVERSE_DISTRIBUTOR,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=by,
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
        actor=by,
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
    witness: WitnessConfirmation | None,
    reason: str = "Expired stock",
    occurred_at: datetime | None = None,
    by: User,
) -> LedgerEntry:
    """Destroy what is left in a vial on site, rendered non-retrievable before two
    authorized people (DEA Form 41 facts go in `details`)."""
    require_same_organization(by, container)
    when = checked_time(occurred_at)
    confirmation = checked_witness(witness, actor=by)
    if not method.strip():
        raise LedgerError(
            "Say how it was destroyed (e.g. chemical digestion kit).",
            field="method",
            code="required",
        )
    container = lock_container(container)
    require_in_stock(container)
    head = lock_head(container.registrant_id)
    registrant = registrant_of(container)
    volume = container.balance_ml
    product = container.product
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.DESTRUCTION,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=by,
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
        actor=by,
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
    occurred_at: datetime | None = None,
    by: User,
) -> LedgerEntry:
    """Take a lost or stolen quantity off the books (after escalating its discrepancy)."""
    require_same_organization(by, container)
    volume = checked_quantity(volume_ml, "volume_ml")
    when = checked_time(occurred_at)
    if not reason.strip():
        raise LedgerError("Say what happened.", field="reason", code="required")
    container = lock_container(container)
    require_in_stock(container)
    head = lock_head(container.registrant_id)
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.THEFT_LOSS,
            container=container,
            quantity_ml=volume,
            container_change_ml=-volume,
            actor=by,
            occurred_at=when,
            reason=reason,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_THEFT_LOSS,
        actor=by,
        subject=entry,
        vial=container.vial_identifier,
        volume_ml=volume,
    )
    return entry


# --- corrections -----------------------------------------------------------------------

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
    witness: WitnessConfirmation | None,
    by: User,
) -> LedgerEntry:
    """Correct a mistaken entry with one that undoes it and points at it. Witnessed."""
    require_same_organization(by, entry)
    confirmation = checked_witness(witness, actor=by)
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
            actor=by,
            occurred_at=timezone.now(),
            witness=confirmation,
            reason=reason,
            reverses=entry,
            details={"reverses_seq": entry.seq, "reverses_kind": entry.kind},
        ),
    )
    record(
        AuditEvent.Action.LEDGER_REVERSED,
        actor=by,
        patient=entry.patient,
        subject=reversal,
        reverses_seq=entry.seq,
        reverses_kind=entry.kind,
        witness=confirmation.witness.username,
    )
    return reversal
