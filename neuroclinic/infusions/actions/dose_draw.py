"""The ketamine: the dose (calculated from the order, checked by a second nurse), and
every milliliter drawn, given and wasted, handed to the ledger under the session's UUID.

This is the one module of the infusion app that calls the ledger's actions; the ledger
knows nothing of infusions. Each action runs in one transaction with its audit event.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.infusions.actions.common import (
    current_dose,
    ledger_error,
    lock_session,
    require_status,
    timeline_event,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.ledger_authority import locked_session
from neuroclinic.infusions.models import (
    DoseRecord,
    InfusionSession,
    SessionEvent,
)
from neuroclinic.infusions.vials import VialPlan, plan_draw
from neuroclinic.ledger.actions import sessions as ledger
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container, LedgerEntry
from neuroclinic.ledger.witness import WitnessConfirmation
from neuroclinic.lib import dosing


@transaction.atomic
def calculate_dose(
    session: InfusionSession,
    *,
    concentration_mg_per_ml: Decimal,
    diluent_volume_ml: Decimal | None = None,
    now: datetime | None = None,
    by: User,
) -> DoseRecord:
    """Run the calculator with the order's dose, duration, weight rule and caps and today's weight."""
    session = lock_session(session)
    require_status(
        session, InfusionSession.Status.CHECKED_IN, doing="calculate the dose"
    )
    if session.checklist_confirmed_at is None:
        raise InfusionError("Confirm the checklist first.", field="checklist")
    if drawn_ml(session) > 0:
        raise InfusionError(
            "Ketamine is already drawn for this dose: waste it (witnessed) before recalculating.",
            field="concentration_mg_per_ml",
        )
    order = session.order
    if session.weight_kg is None:
        raise InfusionError("Record today's weight first.", field="weight")
    sex = (
        session.patient.sex_at_birth
        if session.patient.sex_at_birth in ("male", "female")
        else None
    )
    diluent = (
        order.diluent_volume_ml if diluent_volume_ml is None else diluent_volume_ml
    )
    try:
        result = dosing.calculate_dose(
            weight_kg=session.weight_kg,
            dose_mg_per_kg=order.dose_mg_per_kg,
            concentration_mg_per_ml=concentration_mg_per_ml,
            diluent_volume_ml=diluent,
            duration_minutes=order.duration_minutes,
            dosing_weight_rule=order.dosing_weight_rule,
            height_cm=session.height_cm,
            sex=sex,
            max_dose_mg=order.max_dose_mg,
            max_dose_mg_per_kg=order.max_dose_mg_per_kg,
        )
    except dosing.DoseInputError as exc:
        field = {"sex": "patient", "weight_kg": "weight"}.get(exc.field, exc.field)
        message = exc.message
        if exc.field == "sex":
            message = "The order's weight rule needs the Devine formula, which needs sex at birth male or female: ask the prescriber for an actual-weight order."
        raise InfusionError(message, field=field) from None
    # Checked against the order: the calculator was given its caps, so these hold by
    # construction; they are asserted again here because a wrong dose is never fine.
    if result.dose_mg > order.max_dose_mg or result.dose_mg > (
        order.max_dose_mg_per_kg * result.dosing_weight_kg
    ).quantize(Decimal("0.1"), ROUND_HALF_UP):
        raise InfusionError("The dose is above the order's ceiling.", field="dose")
    now = now or timezone.now()
    dose = DoseRecord.objects.create(
        session=session,
        weight_kg=session.weight_kg,
        height_cm=session.height_cm,
        sex=sex or "",
        dose_mg_per_kg=order.dose_mg_per_kg,
        dosing_weight_rule=order.dosing_weight_rule,
        concentration_mg_per_ml=concentration_mg_per_ml,
        diluent_volume_ml=diluent,
        duration_minutes=order.duration_minutes,
        max_dose_mg=order.max_dose_mg,
        max_dose_mg_per_kg=order.max_dose_mg_per_kg,
        dosing_weight_kg=result.dosing_weight_kg,
        dose_mg=result.dose_mg,
        drug_volume_ml=result.drug_volume_ml,
        total_volume_ml=result.total_volume_ml,
        final_concentration_mg_per_ml=result.final_concentration_mg_per_ml,
        rate_ml_per_hour=result.rate_ml_per_hour,
        dose_rate_mg_per_min=result.dose_rate_mg_per_min,
        capped=result.capped,
        cap_reason=str(result.cap_reason or ""),
        warnings=list(result.warnings),
        working=list(result.working),
        calculated_by=by,
        calculated_at=now,
    )
    timeline_event(
        session,
        SessionEvent.Kind.DOSE_CALCULATED,
        at=now,
        data={
            "dose_mg": result.dose_mg,
            "rate_ml_per_hour": result.rate_ml_per_hour,
            "capped": result.capped,
        },
        by=by,
    )
    record(
        AuditEvent.Action.INFUSION_DOSE_CALCULATED,
        actor=by,
        patient=session.patient,
        subject=session,
        dose_mg=result.dose_mg,
        dosing_weight_kg=result.dosing_weight_kg,
        rate_ml_per_hour=result.rate_ml_per_hour,
        capped=result.capped,
    )
    return dose


@transaction.atomic
def check_dose(
    session: InfusionSession, *, checker: WitnessConfirmation, by: User
) -> DoseRecord:
    """A second nurse, confirmed with password and code, checks the calculated dose."""
    session = lock_session(session)
    require_status(session, InfusionSession.Status.CHECKED_IN, doing="check the dose")
    dose = current_dose(session)
    if dose is None:
        raise InfusionError("Calculate the dose first.", field="dose")
    second = checker.witness
    if second.pk == by.pk or second.pk == dose.calculated_by_id:
        raise InfusionError(
            "The second check must be by someone other than who calculated it.",
            field="witness",
        )
    if not second.can(Capability.RUN_INFUSIONS):
        raise InfusionError(
            f"{second.display_name} does not run infusions.", field="witness"
        )
    now = timezone.now()
    dose.checked_by, dose.checked_at = second, now
    dose.save(update_fields=["checked_by", "checked_at"])
    timeline_event(
        session,
        SessionEvent.Kind.DOSE_CHECKED,
        at=now,
        data={"dose_mg": dose.dose_mg},
        by=second,
    )
    record(
        AuditEvent.Action.INFUSION_DOSE_CHECKED,
        actor=by,
        patient=session.patient,
        subject=session,
        checked_by=second.username,
        dose_mg=dose.dose_mg,
    )
    return dose


def drawn_ml(session: InfusionSession) -> Decimal:
    summary = ledger.session_summary(
        session.uuid, organization_id=session.organization_id
    )
    return summary.drawn_ml - summary.returned_ml


def draw_containers(session: InfusionSession) -> list[Container]:
    """Vials at this location's DEA registration that match the dose's strength."""
    dose = current_dose(session)
    registrant = getattr(session.location, "registrant", None)
    if registrant is None:
        return []
    vials = Container.objects.filter(
        registrant=registrant,
        status__in=[Container.Status.SEALED, Container.Status.OPEN],
    ).select_related("product", "lot")
    if dose is not None:
        vials = vials.filter(
            product__concentration_mg_per_ml=dose.concentration_mg_per_ml
        )
    return list(vials.order_by("lot__expiry_date", "vial_identifier", "id"))


def vial_plan(session: InfusionSession, *, now: datetime | None = None) -> VialPlan:
    """The vials to offer for the next draw, and which one to suggest (vials.py)."""
    dose = current_dose(session)
    needed = (dose.drug_volume_ml - drawn_ml(session)) if dose else Decimal("0.00")
    today = (now or timezone.now()).astimezone(ZoneInfo(session.location.time_zone))
    return plan_draw(draw_containers(session), needed_ml=needed, today=today.date())


@transaction.atomic
def draw(
    session: InfusionSession,
    *,
    container: Container,
    volume_ml: Decimal,
    now: datetime | None = None,
    by: User,
) -> LedgerEntry:
    """Draw ketamine for this session through the ledger (its session_ref is our UUID)."""
    session = lock_session(session)
    require_status(session, InfusionSession.Status.CHECKED_IN, doing="draw")
    dose = current_dose(session)
    if dose is None:
        raise InfusionError("Calculate the dose first.", field="dose")
    if session.order.protocol.second_check_required and dose.checked_at is None:
        raise InfusionError(
            "A second nurse must check the dose before the draw.", field="dose"
        )
    registrant = getattr(session.location, "registrant", None)
    if registrant is None or container.registrant_id != registrant.pk:
        raise InfusionError(
            f"Draw from stock registered at {session.location.name}.", field="container"
        )
    if container.product.concentration_mg_per_ml != dose.concentration_mg_per_ml:
        raise InfusionError(
            f"The dose was calculated for {dose.concentration_mg_per_ml.normalize():f} mg/mL; "
            f"vial {container.vial_identifier} is "
            f"{container.product.concentration_mg_per_ml.normalize():f} mg/mL.",
            field="container",
        )
    try:
        with locked_session(session, dose):
            entry = ledger.draw_for_session(
                container,
                session_ref=session.uuid,
                patient=session.patient,
                volume_ml=volume_ml,
                by=by,
                occurred_at=now,
            )
    except LedgerError as exc:
        raise ledger_error(exc) from None
    timeline_event(
        session,
        SessionEvent.Kind.DRAWN,
        at=entry.occurred_at,
        data={
            "vial": container.vial_identifier,
            "volume_ml": volume_ml,
            "ledger_entry": str(entry.uuid),
        },
        by=by,
    )
    return entry


@transaction.atomic
def waste(
    session: InfusionSession,
    *,
    volume_ml: Decimal,
    witness: WitnessConfirmation,
    reason: str = "Remainder after the infusion",
    now: datetime | None = None,
    by: User,
) -> InfusionSession:
    """Waste what was drawn and not given, witnessed, through the ledger."""
    session = lock_session(session)
    require_status(
        session,
        InfusionSession.Status.CHECKED_IN,
        InfusionSession.Status.RECOVERY,
        InfusionSession.Status.DISCHARGED,
        doing="waste",
    )
    try:
        entries = ledger.waste_remainder(
            session.uuid,
            volume_ml=volume_ml,
            by=by,
            witness=witness,
            reason=reason.strip() or "Remainder after the infusion",
            occurred_at=now,
        )
    except LedgerError as exc:
        raise ledger_error(exc) from None
    timeline_event(
        session,
        SessionEvent.Kind.WASTED,
        at=entries[0].occurred_at,
        data={"volume_ml": volume_ml, "witness": witness.witness.username},
        by=by,
    )
    record(
        AuditEvent.Action.INFUSION_WASTED,
        actor=by,
        patient=session.patient,
        subject=session,
        volume_ml=volume_ml,
        witness=witness.witness.username,
    )
    return session


def record_administered(
    session: InfusionSession,
    *,
    dose: DoseRecord,
    volume_ml: Decimal,
    at: datetime,
    by: User,
) -> None:
    """What went in, to the ledger (an administration under the session's UUID). Called
    inside the stop's transaction, with the session it locked (as saved) and its
    current dose."""
    try:
        with locked_session(session, dose):
            ledger.record_administration(
                session.uuid,
                volume_ml=volume_ml,
                by=by,
                patient=session.patient,
                occurred_at=at,
            )
    except LedgerError as exc:
        raise ledger_error(exc) from None


def check_reconciled(session: InfusionSession) -> None:
    """Refuse unless the ledger balances for this session (drawn = given + wasted).

    The ledger's summary is read once: the nurse's wording of an imbalance
    (reconciliation_problem) comes first, as it did when both were read."""
    try:
        summary = ledger.check_session_reconciled(
            session.uuid, organization_id=session.organization_id
        )
    except LedgerError as exc:
        problem = reconciliation_problem(session)
        if problem is not None:
            raise InfusionError(problem, field="ledger") from None
        raise ledger_error(exc) from None
    problem = _unaccounted(summary)
    if problem is not None:
        raise InfusionError(problem, field="ledger")
    # What the ledger says was given is what the chart says, within the order's ceiling.
    ledger_mg = sum(
        (
            e.quantity_mg if e.kind == LedgerEntry.Kind.ADMINISTER else -e.quantity_mg
            for e in summary.entries
            if e.kind == LedgerEntry.Kind.ADMINISTER
            or (
                e.kind == LedgerEntry.Kind.REVERSAL
                and e.reverses is not None
                and e.reverses.kind == LedgerEntry.Kind.ADMINISTER
            )
        ),
        Decimal(0),
    )
    charted_mg = session.mg_given or Decimal(0)
    if ledger_mg != charted_mg:
        raise InfusionError(
            f"The ledger records {ledger_mg} mg administered; the chart records "
            f"{charted_mg} mg given. They must agree before the note is signed.",
            field="ledger",
        )
    if charted_mg > session.order.max_dose_mg:
        raise InfusionError(
            f"{charted_mg} mg given is above the order's ceiling of "
            f"{session.order.max_dose_mg} mg.",
            field="ledger",
        )


def ledger_summary(session: InfusionSession) -> ledger.SessionSummary:
    return ledger.session_summary(session.uuid, organization_id=session.organization_id)


def reconciliation_problem(session: InfusionSession) -> str | None:
    """Why the ledger does not balance for this session (drawn = administered + wasted), or None."""
    return _unaccounted(ledger_summary(session))


def _unaccounted(summary: ledger.SessionSummary) -> str | None:
    if not summary.entries:
        return None
    if summary.outstanding_ml != 0:
        return (
            f"Drawn {summary.drawn_ml - summary.returned_ml} mL, administered "
            f"{summary.administered_ml} mL, wasted {summary.wasted_ml} mL: "
            f"{summary.outstanding_ml} mL is not accounted for. Waste it with a witness."
        )
    return None
