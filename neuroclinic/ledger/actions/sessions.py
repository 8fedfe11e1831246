"""A patient's session: draw from a vial, administer, waste or return what was drawn.

Every amount is tied to the session's reference (the infusion's UUID), so a session
reconciles: drawn = administered + wasted (+ returned). The infusion app calls
these with its session's UUID.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.ledger.actions.guards import (
    checked_quantity,
    checked_session_ref,
    checked_time,
    checked_witness,
    registrant_of,
    require_in_stock,
    require_same_organization,
)
from neuroclinic.ledger.authority import SessionClaim, SessionStep, require_session
from neuroclinic.ledger.chain import (
    ZERO,
    Movement,
    append,
    lock_container,
    lock_containers,
    lock_head,
)
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, LedgerEntry, Product
from neuroclinic.ledger.rules import (
    LedgerRuleError,
    check_draw,
    check_session_reconciles,
)
from neuroclinic.ledger.witness import WitnessConfirmation
from neuroclinic.lib.compiled import STAND_IN_IDS, STAND_IN_REF, Compiled, CompiledGet
from neuroclinic.patients.models import Patient

# A session's entries with what its pages show of them (the summary), and the few
# columns its actions decide by (who, which vial, how much), first entered first:
# statements compiled once per connection (neuroclinic.lib.compiled).
_SUMMARY_ENTRIES = Compiled(
    lambda organization_id, ref: (
        LedgerEntry.objects.filter(organization_id=organization_id, session_ref=ref)
        .select_related("container", "product", "lot", "patient", "reverses")
        .order_by("registrant_id", "seq")
    ),
    STAND_IN_IDS[0],
    STAND_IN_REF,
)
_SESSION_ROWS = Compiled(
    lambda organization_id, ref: (
        LedgerEntry.objects.filter(organization_id=organization_id, session_ref=ref)
        .order_by("seq")
        .values_list(
            "container_id",
            "kind",
            "session_change_ml",
            "patient_id",
            "registrant_id",
            "product_id",
        )
    ),
    STAND_IN_IDS[0],
    STAND_IN_REF,
)
# A patient as a session's entries name it (select_related's manager: no filtering).
_PATIENT = CompiledGet(lambda: Patient._base_manager.all())


@dataclass(frozen=True)
class _Row:
    """One of a session's entries, as its actions read it (`_SESSION_ROWS`)."""

    container_id: int
    kind: str
    session_change_ml: Decimal
    patient_id: int | None
    registrant_id: int
    product_id: int


def _session_rows(organization_id: int, ref: str) -> list[_Row]:
    return [_Row(*row) for row in _SESSION_ROWS.rows(organization_id, ref)]


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
    ref = checked_session_ref(session_ref)
    entries = _SUMMARY_ENTRIES.objects(organization_id, ref)
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
    occurred_at: datetime | None = None,
    by: User,
) -> LedgerEntry:
    """Draw from a vial for one patient's session. Two nurses cannot overdraw a vial:
    the second waits for the first's lock and then sees the lower balance."""
    require_same_organization(by, container, patient)
    ref = checked_session_ref(session_ref)
    when = checked_time(occurred_at)
    volume = checked_quantity(volume_ml, "volume_ml")
    container = lock_container(container)
    require_in_stock(container)
    registrant = registrant_of(container)
    try:
        check_draw(
            container_balance_ml=container.balance_ml,
            draw_ml=volume,
            lot_expiry_date=container.lot.expiry_date,
            on_date=local_date(registrant, when),
        )
    except LedgerRuleError as exc:
        raise LedgerError.from_rule(exc) from None
    require_session(
        SessionClaim(
            step=SessionStep.DRAW,
            session_ref=uuid.UUID(ref),
            patient=patient,
            registrant_id=registrant.pk,
            volume_ml=volume,
            concentration_mg_per_ml=container.product.concentration_mg_per_ml,
            by=by,
        )
    )
    head = lock_head(registrant)
    # Read under the locks, once: the session's entries so far.
    earlier = _session_rows(container.organization_id, ref)
    if any(row.patient_id != patient.pk for row in earlier):
        raise LedgerError(
            "This session already belongs to another patient.",
            field="patient",
            code="session_patient_mismatch",
        )
    if any(row.registrant_id != registrant.pk for row in earlier):
        raise LedgerError(
            "This session already drew from another registration's stock.",
            field="container",
            code="session_registrant_mismatch",
        )
    outstanding = sum((row.session_change_ml for row in earlier), ZERO)
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
            actor=by,
            occurred_at=when,
        ),
    )
    record(
        AuditEvent.Action.LEDGER_DRAWN,
        actor=by,
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
    organization_id = actor.organization_pk
    earlier = _session_rows(organization_id, session_ref)
    if not earlier:
        raise LedgerError(
            "Nothing has been drawn for this session.",
            field="session_ref",
            code="session_unknown",
        )
    containers = lock_containers(sorted({row.container_id for row in earlier}))
    first = earlier[0]  # the session's first entry: entries are never changed
    if patient is not None and first.patient_id != patient.pk:
        raise LedgerError(
            "This session belongs to another patient.",
            field="patient",
            code="session_patient_mismatch",
        )
    session_patient: Patient | None
    if first.patient_id is None:
        session_patient = None
    elif patient is not None:
        session_patient = patient  # the same row: its id was checked just now
    else:
        session_patient = _PATIENT(first.patient_id)
    if kind == LedgerEntry.Kind.ADMINISTER:
        assert session_patient is not None
        first_product = containers[first.container_id].product
        if first_product.pk != first.product_id:
            first_product = Product.objects.get(pk=first.product_id)
        require_session(
            SessionClaim(
                step=SessionStep.ADMINISTER,
                session_ref=uuid.UUID(session_ref),
                patient=session_patient,
                registrant_id=first.registrant_id,
                volume_ml=volume,
                concentration_mg_per_ml=first_product.concentration_mg_per_ml,
                by=actor,
            )
        )
    head = lock_head(first.registrant_id)
    # Re-read under the locks: another writer may have taken from the session meanwhile.
    outstanding: dict[int, Decimal] = {}
    draw_order: list[int] = []
    for row in _session_rows(organization_id, session_ref):
        outstanding[row.container_id] = (
            outstanding.get(row.container_id, ZERO) + row.session_change_ml
        )
        if row.kind == LedgerEntry.Kind.DRAW:
            draw_order.append(row.container_id)
    if not outstanding.keys() <= containers.keys():
        # A draw from another vial landed between the first read and the locks: that
        # vial is not locked, so nothing is taken from it; the user tries again.
        raise LedgerError(
            "Another vial was drawn for this session while this was being recorded; "
            "nothing was recorded. Try again.",
            field="session_ref",
            code="session_changed",
        )
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
                    patient=session_patient,
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
    patient: Patient | None = None,
    occurred_at: datetime | None = None,
    by: User,
) -> list[LedgerEntry]:
    """Record what reached the patient, from what was drawn for the session."""
    ref = checked_session_ref(session_ref)
    volume = checked_quantity(volume_ml, "volume_ml")
    when = checked_time(occurred_at)
    entries = _session_takes(
        session_ref=ref,
        volume=volume,
        kind=LedgerEntry.Kind.ADMINISTER,
        actor=by,
        when=when,
        patient=patient,
        witness=None,
        reason="",
        container_change=False,
    )
    record(
        AuditEvent.Action.LEDGER_ADMINISTERED,
        actor=by,
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
    witness: WitnessConfirmation | None,
    reason: str = "Remainder after administration",
    occurred_at: datetime | None = None,
    by: User,
) -> list[LedgerEntry]:
    """Waste what was drawn and not given, with a witness who confirmed just now."""
    ref = checked_session_ref(session_ref)
    volume = checked_quantity(volume_ml, "volume_ml")
    when = checked_time(occurred_at)
    confirmation = checked_witness(witness, actor=by)
    entries = _session_takes(
        session_ref=ref,
        volume=volume,
        kind=LedgerEntry.Kind.WASTE,
        actor=by,
        when=when,
        patient=None,
        witness=confirmation,
        reason=reason,
        container_change=False,
    )
    record(
        AuditEvent.Action.LEDGER_WASTED,
        actor=by,
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
    witness: WitnessConfirmation | None,
    reason: str,
    occurred_at: datetime | None = None,
    by: User,
) -> list[LedgerEntry]:
    """Refused: drug drawn into a syringe never goes back into a vial's count, even
    sealed and labelled (a diversion path: the returned volume cannot be verified).
    Waste it, witnessed (`waste_remainder`). Only unopened containers go back to stock
    (transfers). Kept so the page, API and command line answer with the rule."""
    raise LedgerError(
        "Drawn ketamine cannot go back into stock: waste it, with a witness. Only "
        "unopened containers are returned.",
        field="session_ref",
        code="drawn_not_returnable",
    )
