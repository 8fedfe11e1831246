"""Appending to a registrant's hash chain: the one function that writes LedgerEntry rows.

Lock order, everywhere: the containers moved (by primary key), then the
registrant's LedgerHead, then (inside `record()`) the audit chain head. One
order means two writers can wait for each other but never deadlock.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import (
    Container,
    Discrepancy,
    LedgerEntry,
    LedgerHead,
    Receipt,
    Registrant,
)
from neuroclinic.ledger.rules import (
    LedgerRuleError,
    check_balance_not_below_zero,
    mg_from_ml,
)
from neuroclinic.ledger.witness import WitnessConfirmation
from neuroclinic.lib.compiled import STAND_IN_IDS, Compiled
from neuroclinic.lib.hashchain import content_hash, json_safe
from neuroclinic.patients.models import Patient

ZERO = Decimal("0.00")

# Kinds that end a container's life when they empty it.
TERMINAL_STATUS = {
    LedgerEntry.Kind.DESTRUCTION: Container.Status.DESTROYED,
    LedgerEntry.Kind.REVERSE_DISTRIBUTOR: Container.Status.RETURNED,
    LedgerEntry.Kind.THEFT_LOSS: Container.Status.LOST,
}
# Kinds that open a sealed vial.
OPENING_KINDS = {LedgerEntry.Kind.DRAW, LedgerEntry.Kind.WASTE}


def _locking_containers() -> QuerySet[Container]:
    # Locks the vials' rows only (not their product's or lot's), with the product and
    # lot every movement reads (its strength, its lot's expiry and number).
    return Container.objects.select_for_update(of=("self",)).select_related(
        "product", "lot"
    )


_LOCK_ONE_CONTAINER = Compiled(
    lambda pk: _locking_containers().filter(pk=pk), STAND_IN_IDS[0]
)
_LOCK_HEAD = Compiled(
    lambda registrant_id: LedgerHead.objects.select_for_update().filter(
        registrant_id=registrant_id
    ),
    STAND_IN_IDS[0],
)
_LOT_BALANCE = Compiled(
    lambda registrant_id, lot_id: (
        LedgerEntry.objects.filter(registrant_id=registrant_id, lot_id=lot_id)
        .order_by("-seq")
        .values_list("lot_balance_after_ml")[:1]
    ),
    *STAND_IN_IDS,
)


def lock_containers(ids: list[int]) -> dict[int, Container]:
    """Lock these containers (in primary-key order) and return them fresh."""
    if len(ids) == 1:
        rows = _LOCK_ONE_CONTAINER.objects(ids[0])
    else:
        rows = list(_locking_containers().filter(pk__in=ids).order_by("pk"))
    return {c.pk: c for c in rows}


def lock_container(container: Container) -> Container:
    return lock_containers([container.pk])[container.pk]


def lock_head(registrant: Registrant | int) -> LedgerHead:
    registrant_id = registrant if isinstance(registrant, int) else registrant.pk
    heads = _LOCK_HEAD.objects(registrant_id)
    if not heads:
        raise LedgerHead.DoesNotExist("LedgerHead matching query does not exist.")
    return heads[0]


def mg_change(change_ml: Decimal, concentration_mg_per_ml: Decimal) -> Decimal:
    """The signed milligrams of a signed volume change (same rounding as quantity_mg)."""
    mg = mg_from_ml(
        volume_ml=abs(change_ml), concentration_mg_per_ml=concentration_mg_per_ml
    )
    return -mg if change_ml < 0 else mg


def lot_balance_ml(registrant_id: int, lot_id: int) -> Decimal:
    """The lot's balance in this registrant's chain; call with the head locked."""
    rows = _LOT_BALANCE.rows(registrant_id, lot_id)
    last: Decimal | None = rows[0][0] if rows else None
    return last if last is not None else ZERO


@dataclass
class Movement:
    """One entry to append. Quantities are already checked by the caller."""

    kind: LedgerEntry.Kind
    container: Container  # locked
    quantity_ml: Decimal
    container_change_ml: Decimal
    actor: User
    occurred_at: datetime
    session_change_ml: Decimal = ZERO
    session_ref: str = ""
    session_balance_after_ml: Decimal | None = None
    patient: Patient | None = None
    witness: WitnessConfirmation | None = None
    reason: str = ""
    reverses: LedgerEntry | None = None
    receipt: Receipt | None = None
    discrepancy: Discrepancy | None = None
    details: dict[str, Any] = field(default_factory=dict)


def append(head: LedgerHead, movement: Movement) -> LedgerEntry:
    """Append one entry to the locked head's chain and update the container's cache.

    Call inside the action's transaction, with the container and head locked.
    Refuses (LedgerError) a balance of the container or lot below zero.
    """
    container = movement.container
    product = container.product
    concentration = product.concentration_mg_per_ml
    try:
        container_after = check_balance_not_below_zero(
            balance_ml=container.balance_ml,
            change_ml=movement.container_change_ml,
            what=f"Vial {container.vial_identifier}",
        )
        lot_after = check_balance_not_below_zero(
            balance_ml=lot_balance_ml(head.registrant_id, container.lot_id),
            change_ml=movement.container_change_ml,
            what=f"Lot {container.lot.lot_number}",
        )
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc) from None
    stock_after = head.stock_on_hand_mg + mg_change(
        movement.container_change_ml, concentration
    )
    witness = movement.witness
    entry = LedgerEntry(
        organization_id=head.organization_id,
        registrant_id=head.registrant_id,
        seq=head.seq + 1,
        kind=movement.kind,
        occurred_at=movement.occurred_at,
        recorded_at=timezone.now(),
        container=container,
        lot_id=container.lot_id,
        product_id=container.product_id,
        storage_location_id=container.storage_location_id,
        quantity_ml=movement.quantity_ml,
        quantity_mg=mg_from_ml(
            volume_ml=movement.quantity_ml, concentration_mg_per_ml=concentration
        ),
        container_change_ml=movement.container_change_ml,
        session_change_ml=movement.session_change_ml,
        container_balance_after_ml=container_after,
        lot_balance_after_ml=lot_after,
        session_balance_after_ml=movement.session_balance_after_ml,
        stock_on_hand_after_mg=stock_after,
        session_ref=movement.session_ref,
        patient=movement.patient,
        actor=movement.actor,
        actor_name=movement.actor.display_name,
        witness=witness.witness if witness else None,
        witness_name=witness.witness.display_name if witness else "",
        witness_confirmed_at=witness.confirmed_at if witness else None,
        reason=movement.reason,
        reverses=movement.reverses,
        receipt=movement.receipt,
        discrepancy=movement.discrepancy,
        details=json_safe(
            movement.details | ({"witness_method": witness.method} if witness else {})
        ),
        prev_hash=head.hash,
    )
    entry.hash = content_hash(entry.hashed_content())
    entry.save(force_insert=True)

    head.seq = entry.seq
    head.hash = entry.hash
    head.stock_on_hand_mg = stock_after
    head.save(update_fields=["seq", "hash", "stock_on_hand_mg", "updated_at"])

    container.balance_ml = container_after
    if movement.kind in OPENING_KINDS and container.opened_at is None:
        container.opened_at = movement.occurred_at
    container.status = _status_after(container, movement.kind)
    container.save(update_fields=["balance_ml", "status", "opened_at"])
    return entry


def _status_after(container: Container, kind: str) -> str:
    if container.balance_ml > 0:
        if (
            container.opened_at is None
            and container.balance_ml == container.initial_volume_ml
        ):
            return Container.Status.SEALED
        return Container.Status.OPEN
    if kind in TERMINAL_STATUS:
        return TERMINAL_STATUS[LedgerEntry.Kind(kind)]
    if kind in (LedgerEntry.Kind.TRANSFER_OUT,):
        return container.status  # the transfer-in that follows restores it
    return Container.Status.EMPTY
