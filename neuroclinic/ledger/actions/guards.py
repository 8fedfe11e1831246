"""What every ledger action checks first, the same way: quantities, times, session
references, witnesses, the organization and the vial's state.

Each raises LedgerError naming the field, before anything is written.
"""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, Registrant
from neuroclinic.ledger.rules import LedgerRuleError, check_movement_quantity
from neuroclinic.ledger.witness import (
    METHOD_SYNTHETIC,
    WitnessConfirmation,
    check_witness_for,
)
from neuroclinic.lib.compiled import CompiledGet

# A witness confirms at the moment of the act: a confirmation older than this is stale.
WITNESS_MAX_AGE = timedelta(minutes=2)
# Entered times may be a little ahead of the server's clock, never more.
CLOCK_SKEW = timedelta(minutes=5)


def checked_quantity(value: Decimal | int, field: str) -> Decimal:
    try:
        return check_movement_quantity(value, field=field)
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc, field=field) from None


def checked_time(occurred_at: datetime | None) -> datetime:
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


def checked_session_ref(value: str | uuid.UUID) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise LedgerError(
            "The session reference must be a UUID.",
            field="session_ref",
            code="session_ref_invalid",
        ) from None


def checked_witness(
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


def require_same_organization(actor: User, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise LedgerError(
                "That record belongs to another clinic.", code="wrong_organization"
            )


def require_in_stock(container: Container) -> None:
    if not container.is_in_stock:
        raise LedgerError(
            f"Vial {container.vial_identifier} is {container.get_status_display().lower()}: "
            "nothing can be taken from it.",
            field="container",
            code="container_not_in_stock",
        )


_REGISTRANT = CompiledGet(lambda: Registrant.objects.select_related("location"))


def registrant_of(container: Container) -> Registrant:
    return _REGISTRANT(container.registrant_id)
