"""Every write to an infusion session goes through a function here.

Each action runs in one transaction, locks the session row, checks the session is
at the right step, records an audit event and a timeline event, and raises
InfusionError (nothing written) when refused. Controlled-substance movements go
through the ledger's actions with the session's UUID as `session_ref`; measures
are scheduled and recorded through measures' actions; the plan's infusion count
through treatment's. Vital signs and alarms are in `monitoring`.
"""

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability, Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Room
from neuroclinic.infusions import checklist, delivery, recovery
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    AdverseEvent,
    DoseRecord,
    InfusionNote,
    InfusionSession,
    NoteAddendum,
    PrnGiven,
    RecoveryAssessment,
    SedationScore,
    SessionEvent,
    SessionQuestionnaire,
    VitalReading,
)
from neuroclinic.infusions.readiness import hard_stops, session_checklist, snapshot
from neuroclinic.ledger import actions as ledger
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.witness import WitnessConfirmation
from neuroclinic.lib import dosing
from neuroclinic.lib.messaging import send_email, send_sms
from neuroclinic.measures import actions as measures
from neuroclinic.measures import schedules
from neuroclinic.measures.instruments import InvalidResponse
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.notifications.actions import notify
from neuroclinic.patients.models import Contact, Patient
from neuroclinic.treatment import actions as treatment
from neuroclinic.treatment.actions import TreatmentError
from neuroclinic.treatment.models import InfusionOrder, PrnOrder

# Times a nurse enters (or a tablet replays after a dropped connection) may be this
# far behind; further back is a typing error, not a delayed send.
MAX_BACKDATE = timedelta(hours=12)
CLOCK_SKEW = timedelta(minutes=2)
ZERO = Decimal(0)


def _when(
    session: InfusionSession,
    occurred_at: datetime | None,
    *,
    field: str = "occurred_at",
    now: datetime | None = None,
) -> datetime:
    """The time an entry happened: now, or a time the nurse (or a replaying tablet) gave,
    which must lie between the check-in and now."""
    now = now or timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise InfusionError("Give the time with its time zone.", field=field)
    if occurred_at > now + CLOCK_SKEW:
        raise InfusionError("That time is in the future.", field=field)
    if (
        occurred_at < now - MAX_BACKDATE
        or occurred_at < session.checked_in_at - CLOCK_SKEW
    ):
        raise InfusionError("That time is before this infusion began.", field=field)
    return occurred_at


def _lock(session: InfusionSession) -> InfusionSession:
    return (
        InfusionSession.objects.select_for_update(of=("self",))
        .select_related(
            "patient",
            "location",
            "room",
            "order__protocol",
            "order__signed_by",
            "plan__induction_protocol",
        )
        .get(pk=session.pk)
    )


def _require(session: InfusionSession, *statuses: str, doing: str) -> None:
    if session.status not in statuses:
        raise InfusionError(
            f"Cannot {doing}: the infusion is {session.get_status_display().lower()}.",
            field="status",
        )


def _event(
    session: InfusionSession,
    kind: SessionEvent.Kind,
    *,
    by: User,
    at: datetime,
    reason: str = "",
    rate: Decimal | None = None,
    client_key: uuid.UUID | None = None,
    **data: Any,
) -> SessionEvent:
    return SessionEvent.objects.create(
        session=session,
        kind=kind,
        occurred_at=at,
        by=by,
        reason=reason[:300],
        rate_ml_per_hour=rate,
        data={k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()},
        client_key=client_key,
    )


def _replayed(client_key: uuid.UUID | None) -> bool:
    return (
        client_key is not None
        and SessionEvent.objects.filter(client_key=client_key).exists()
    )


def local_date(session: InfusionSession, moment: datetime) -> Any:
    return moment.astimezone(ZoneInfo(session.location.time_zone)).date()


def current_dose(session: InfusionSession) -> DoseRecord | None:
    return session.doses.order_by("-calculated_at", "-id").first()


def _ledger_error(exc: LedgerError) -> InfusionError:
    return InfusionError(exc.message, field=exc.field.split(".")[0])


# --- check-in and checklist ------------------------------------------------------------


@transaction.atomic
def check_in(
    patient: Patient,
    *,
    room: Room,
    checked_in_by: User,
    nurse: User | None = None,
    now: datetime | None = None,
    schedule: bool = True,
) -> InfusionSession:
    """Open today's infusion for a patient with an active plan and order, in an infusion room."""
    if room.kind != Room.Kind.INFUSION or not room.is_active:
        raise InfusionError("Choose an infusion room.", field="room")
    location = room.location
    if location.organization_id != patient.organization_id:
        raise InfusionError("Choose an infusion room.", field="room")
    plan = treatment.active_plan(patient)
    if plan is None:
        raise InfusionError(
            "There is no active treatment plan: a prescriber must create one first.",
            field="patient",
        )
    order = treatment.active_order(
        plan, InfusionOrder.Kind.INDUCTION
    ) or treatment.active_order(plan, InfusionOrder.Kind.BOOSTER)
    if order is None:
        raise InfusionError(
            "There is no signed active order: a prescriber must sign one first.",
            field="patient",
        )
    now = now or timezone.now()
    if order.kind == InfusionOrder.Kind.INDUCTION:
        number, total = (
            len(plan.induction_dates) + 1,
            plan.induction_protocol.infusion_count,
        )
    else:
        number, total = plan.booster_count + 1, 0
    escort = (
        patient.contacts.filter(kind=Contact.Kind.ESCORT)
        .order_by("-created_at")
        .first()
    )
    previous = (
        InfusionSession.objects.filter(patient=patient, height_cm__isnull=False)
        .order_by("-checked_in_at")
        .first()
    )
    session = InfusionSession(
        organization_id=patient.organization_id,
        patient=patient,
        plan=plan,
        order=order,
        location=location,
        room=room,
        sequence_number=number,
        sequence_total=total,
        service_date=now.astimezone(ZoneInfo(location.time_zone)).date(),
        checked_in_by=checked_in_by,
        checked_in_at=now,
        nurse=nurse or checked_in_by,
        escort_name=escort.name if escort else "",
        escort_phone=escort.phone if escort else "",
        height_cm=previous.height_cm if previous else None,
    )
    try:
        with transaction.atomic():
            session.save(force_insert=True)
    except IntegrityError:
        if InfusionSession.objects.filter(
            patient=patient, status__in=InfusionSession.OPEN_STATUSES
        ).exists():
            raise InfusionError(
                "The patient already has an infusion open today.", field="patient"
            ) from None
        raise InfusionError(
            f"{room.name} already has a patient in it.", field="room"
        ) from None
    _event(
        session, SessionEvent.Kind.CHECKED_IN, by=checked_in_by, at=now, room=room.name
    )
    trigger = (
        schedules.Trigger.BEFORE_INFUSION
        if order.kind == InfusionOrder.Kind.INDUCTION
        else schedules.Trigger.BEFORE_BOOSTER
    )
    if schedule:
        measures.schedule_measures(
            patient,
            trigger=trigger,
            event_at=now,
            event_ref=f"infusion:{session.uuid}",
            scheduled_by=checked_in_by,
        )
    record(
        AuditEvent.Action.INFUSION_CHECKED_IN,
        actor=checked_in_by,
        patient=patient,
        subject=session,
        room=room.name,
        order=str(order.uuid),
        sequence=session.progress,
    )
    return session


@transaction.atomic
def save_checklist(
    session: InfusionSession,
    *,
    by: User,
    weight: str = "",
    weight_unit: str = "kg",
    height_cm: Decimal | None = None,
    last_solids_at: datetime | None = None,
    last_clear_liquids_at: datetime | None = None,
    escort_name: str = "",
    escort_phone: str = "",
    escort_confirmed: bool = False,
    pregnancy_status: str = "",
    pregnancy_note: str = "",
    now: datetime | None = None,
) -> InfusionSession:
    """Record what the nurse found. A blank weight keeps the one already recorded."""
    session = _lock(session)
    _require(session, InfusionSession.Status.CHECKED_IN, doing="change the checklist")
    errors: dict[str, list[str]] = {}
    now = now or timezone.now()
    fields = [
        "height_cm",
        "last_solids_at",
        "last_clear_liquids_at",
        "escort_name",
        "escort_phone",
        "escort_confirmed",
        "pregnancy_status",
        "pregnancy_note",
    ]
    if weight.strip():
        try:
            weight_kg = checklist.parse_weight(weight, weight_unit)
        except dosing.DoseInputError as exc:
            errors.setdefault("weight", []).append(_weight_message(exc))
        else:
            session.weight_kg = weight_kg.quantize(Decimal("0.1"), ROUND_HALF_UP)
            session.weight_entered = f"{weight.strip()} {weight_unit}"
            session.weight_recorded_at = now
            fields += ["weight_kg", "weight_entered", "weight_recorded_at"]
            dose = current_dose(session)
            if (
                dose is not None
                and dose.weight_kg != session.weight_kg
                and _drawn_ml(session) > 0
            ):
                errors.setdefault("weight", []).append(
                    "Ketamine is already drawn for the earlier weight: waste it (witnessed) "
                    "before changing the weight."
                )
    if height_cm is not None:
        try:
            session.height_cm = dosing.check_height_cm(height_cm)
        except dosing.DoseInputError as exc:
            errors.setdefault("height_cm", []).append(exc.message)
    for name, moment in (
        ("last_solids_at", last_solids_at),
        ("last_clear_liquids_at", last_clear_liquids_at),
    ):
        if moment is not None and moment > now + CLOCK_SKEW:
            errors.setdefault(name, []).append("That time is in the future.")
    if pregnancy_status not in InfusionSession.PregnancyStatus.values:
        errors.setdefault("pregnancy_status", []).append("Choose a pregnancy status.")
    if escort_confirmed and not escort_name.strip():
        errors.setdefault("escort_name", []).append("Name the escort you confirmed.")
    if errors:
        first = next(iter(errors.values()))[0]
        raise InfusionError(first, errors=errors)
    session.last_solids_at = last_solids_at
    session.last_clear_liquids_at = last_clear_liquids_at
    session.escort_name = escort_name.strip()[:200]
    session.escort_phone = escort_phone.strip()[:30]
    session.escort_confirmed = escort_confirmed
    session.pregnancy_status = pregnancy_status
    session.pregnancy_note = pregnancy_note.strip()[:200]
    # Any change re-opens the checklist: the nurse confirms it again.
    session.checklist_confirmed_at = None
    session.checklist_confirmed_by = None
    session.save(
        update_fields=[*fields, "checklist_confirmed_at", "checklist_confirmed_by"]
    )
    record(
        AuditEvent.Action.INFUSION_CHECKLIST_SAVED,
        actor=by,
        patient=session.patient,
        subject=session,
        weight_kg=session.weight_kg,
        escort_confirmed=session.escort_confirmed,
        pregnancy_status=session.pregnancy_status,
    )
    return session


def _weight_message(exc: dosing.DoseInputError) -> str:
    text = exc.message.replace("weight_kg", "Weight").replace(" (use lb_to_kg)", "")
    return text + "." if not text.endswith(".") else text


@transaction.atomic
def confirm_checklist(
    session: InfusionSession, *, by: User, now: datetime | None = None
) -> InfusionSession:
    session = _lock(session)
    _require(session, InfusionSession.Status.CHECKED_IN, doing="confirm the checklist")
    now = now or timezone.now()
    items = session_checklist(session, now=now)
    stops = hard_stops(items)
    if stops:
        raise InfusionError(" ".join(stops), field="checklist")
    session.checklist_snapshot = snapshot(items)
    session.checklist_confirmed_at, session.checklist_confirmed_by = now, by
    session.save(
        update_fields=[
            "checklist_confirmed_at",
            "checklist_confirmed_by",
            "checklist_snapshot",
        ]
    )
    _event(session, SessionEvent.Kind.CHECKLIST_CONFIRMED, by=by, at=now)
    record(
        AuditEvent.Action.INFUSION_CHECKLIST_CONFIRMED,
        actor=by,
        patient=session.patient,
        subject=session,
    )
    return session


# --- dose and draw ---------------------------------------------------------------------


@transaction.atomic
def calculate_dose(
    session: InfusionSession,
    *,
    by: User,
    concentration_mg_per_ml: Decimal,
    diluent_volume_ml: Decimal | None = None,
    now: datetime | None = None,
) -> DoseRecord:
    """Run the calculator with the order's dose, duration, weight rule and caps and today's weight."""
    session = _lock(session)
    _require(session, InfusionSession.Status.CHECKED_IN, doing="calculate the dose")
    if session.checklist_confirmed_at is None:
        raise InfusionError("Confirm the checklist first.", field="checklist")
    if _drawn_ml(session) > 0:
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
    _event(
        session,
        SessionEvent.Kind.DOSE_CALCULATED,
        by=by,
        at=now,
        dose_mg=result.dose_mg,
        rate_ml_per_hour=result.rate_ml_per_hour,
        capped=result.capped,
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
    session: InfusionSession, *, by: User, checker: WitnessConfirmation
) -> DoseRecord:
    """A second nurse, confirmed with password and code, checks the calculated dose."""
    session = _lock(session)
    _require(session, InfusionSession.Status.CHECKED_IN, doing="check the dose")
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
    _event(
        session, SessionEvent.Kind.DOSE_CHECKED, by=second, at=now, dose_mg=dose.dose_mg
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


def _drawn_ml(session: InfusionSession) -> Decimal:
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
    return list(vials.order_by("-status", "lot__expiry_date", "vial_identifier", "id"))


@transaction.atomic
def draw(
    session: InfusionSession,
    *,
    by: User,
    container: Container,
    volume_ml: Decimal,
    now: datetime | None = None,
) -> Any:
    """Draw ketamine for this session through the ledger (its session_ref is our UUID)."""
    session = _lock(session)
    _require(session, InfusionSession.Status.CHECKED_IN, doing="draw")
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
        entry = ledger.draw_for_session(
            container,
            session_ref=session.uuid,
            patient=session.patient,
            volume_ml=volume_ml,
            drawn_by=by,
            occurred_at=now,
        )
    except LedgerError as exc:
        raise _ledger_error(exc) from None
    _event(
        session,
        SessionEvent.Kind.DRAWN,
        by=by,
        at=entry.occurred_at,
        vial=container.vial_identifier,
        volume_ml=volume_ml,
        ledger_entry=str(entry.uuid),
    )
    return entry


# --- the infusion ----------------------------------------------------------------------


@transaction.atomic
def start(
    session: InfusionSession,
    *,
    by: User,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> InfusionSession:
    """Start the pump at the calculated rate, after every hard stop is checked once more."""
    session = _lock(session)
    if _replayed(client_key):
        return session
    _require(session, InfusionSession.Status.CHECKED_IN, doing="start")
    items = session_checklist(session, now=occurred_at or now)
    stops = hard_stops(items)
    if stops:
        raise InfusionError("Not started: " + " ".join(stops), field="checklist")
    if session.checklist_confirmed_at is None:
        raise InfusionError("Confirm the checklist first.", field="checklist")
    dose = current_dose(session)
    if dose is None:
        raise InfusionError("Calculate the dose first.", field="dose")
    if dose.weight_kg != session.weight_kg:
        raise InfusionError(
            "The weight changed since the dose was calculated: recalculate it.",
            field="dose",
        )
    if session.order.protocol.second_check_required and dose.checked_at is None:
        raise InfusionError("A second nurse must check the dose first.", field="dose")
    drawn = _drawn_ml(session)
    if drawn < dose.drug_volume_ml:
        raise InfusionError(
            f"Draw {dose.drug_volume_ml} mL for this dose first ({drawn} mL drawn).",
            field="draw",
        )
    at = _when(session, occurred_at, now=now)
    session.status = InfusionSession.Status.RUNNING
    session.started_at = at
    session.rate_ml_per_hour = dose.rate_ml_per_hour
    session.checklist_snapshot = snapshot(items)
    session.save(
        update_fields=["status", "started_at", "rate_ml_per_hour", "checklist_snapshot"]
    )
    _event(
        session,
        SessionEvent.Kind.STARTED,
        by=by,
        at=at,
        rate=dose.rate_ml_per_hour,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_STARTED,
        actor=by,
        patient=session.patient,
        subject=session,
        rate_ml_per_hour=dose.rate_ml_per_hour,
        dose_mg=dose.dose_mg,
    )
    return session


def _reason(reason: str, *, doing: str) -> str:
    if not reason.strip():
        raise InfusionError(f"Say why you {doing}.", field="reason")
    return reason.strip()


@transaction.atomic
def pause(
    session: InfusionSession,
    *,
    by: User,
    reason: str,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> InfusionSession:
    session = _lock(session)
    if _replayed(client_key):
        return session
    _require(session, InfusionSession.Status.RUNNING, doing="pause")
    why = _reason(reason, doing="pause")
    at = _when(session, occurred_at, now=now)
    session.status = InfusionSession.Status.PAUSED
    session.save(update_fields=["status"])
    _event(
        session,
        SessionEvent.Kind.PAUSED,
        by=by,
        at=at,
        reason=why,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_PAUSED,
        actor=by,
        patient=session.patient,
        subject=session,
        reason=why,
    )
    return session


@transaction.atomic
def resume(
    session: InfusionSession,
    *,
    by: User,
    reason: str = "",
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> InfusionSession:
    session = _lock(session)
    if _replayed(client_key):
        return session
    _require(session, InfusionSession.Status.PAUSED, doing="resume")
    at = _when(session, occurred_at, now=now)
    session.status = InfusionSession.Status.RUNNING
    session.save(update_fields=["status"])
    _event(
        session,
        SessionEvent.Kind.RESUMED,
        by=by,
        at=at,
        reason=reason.strip(),
        rate=session.rate_ml_per_hour,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_RESUMED,
        actor=by,
        patient=session.patient,
        subject=session,
    )
    return session


def rate_limits(session: InfusionSession) -> tuple[Decimal, Decimal] | None:
    dose = current_dose(session)
    if dose is None:
        return None
    return delivery.rate_limits_ml_per_hour(
        calculated_rate_ml_per_hour=dose.rate_ml_per_hour,
        min_percent=session.order.rate_min_percent,
        max_percent=session.order.rate_max_percent,
    )


@transaction.atomic
def change_rate(
    session: InfusionSession,
    *,
    by: User,
    rate_ml_per_hour: Decimal,
    reason: str,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> InfusionSession:
    """A new pump rate within the order's titration limits."""
    session = _lock(session)
    if _replayed(client_key):
        return session
    _require(
        session,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        doing="change the rate",
    )
    why = _reason(reason, doing="change the rate")
    limits = rate_limits(session)
    assert limits is not None
    low, high = limits
    if not low <= rate_ml_per_hour <= high:
        raise InfusionError(
            f"The order allows {low}-{high} mL/h ({session.order.rate_min_percent}-"
            f"{session.order.rate_max_percent}% of the calculated rate).",
            field="rate_ml_per_hour",
        )
    at = _when(session, occurred_at, now=now)
    before = session.rate_ml_per_hour
    session.rate_ml_per_hour = rate_ml_per_hour
    session.save(update_fields=["rate_ml_per_hour"])
    _event(
        session,
        SessionEvent.Kind.RATE_CHANGED,
        by=by,
        at=at,
        reason=why,
        rate=rate_ml_per_hour,
        client_key=client_key,
        previous=before,
    )
    record(
        AuditEvent.Action.INFUSION_RATE_CHANGED,
        actor=by,
        patient=session.patient,
        subject=session,
        rate_ml_per_hour=rate_ml_per_hour,
        previous=before,
        reason=why,
    )
    return session


def pump_events(session: InfusionSession) -> list[delivery.PumpEvent]:
    steps = {
        SessionEvent.Kind.STARTED: delivery.PumpStep.STARTED,
        SessionEvent.Kind.PAUSED: delivery.PumpStep.PAUSED,
        SessionEvent.Kind.RESUMED: delivery.PumpStep.RESUMED,
        SessionEvent.Kind.RATE_CHANGED: delivery.PumpStep.RATE_CHANGED,
        SessionEvent.Kind.STOPPED: delivery.PumpStep.STOPPED,
    }
    return [
        delivery.PumpEvent(
            e.occurred_at, steps[SessionEvent.Kind(e.kind)], e.rate_ml_per_hour
        )
        for e in session.events.filter(kind__in=list(steps)).order_by(
            "occurred_at", "id"
        )
    ]


def estimated_volume_ml(
    session: InfusionSession, *, at: datetime | None = None
) -> Decimal:
    dose = current_dose(session)
    if dose is None or session.started_at is None:
        return ZERO
    return delivery.infused_volume_ml(
        pump_events(session),
        until=at or timezone.now(),
        bag_volume_ml=dose.total_volume_ml,
    )


@transaction.atomic
def stop(
    session: InfusionSession,
    *,
    by: User,
    reason: str,
    completed: bool,
    volume_infused_ml: Decimal | None = None,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    schedule: bool = True,
) -> InfusionSession:
    """Stop the pump, record what went in (ledger administration), count the infusion,
    and schedule the 24-hour PHQ-9 (and the weekly ones when the series is complete)."""
    session = _lock(session)
    if _replayed(client_key):
        return session
    _require(
        session,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        doing="stop",
    )
    dose = current_dose(session)
    assert dose is not None
    at = _when(session, occurred_at, now=now)
    why = reason.strip() or ("Completed as ordered" if completed else "")
    if not why:
        raise InfusionError("Say why the infusion stopped early.", field="reason")
    estimate = delivery.infused_volume_ml(
        [*pump_events(session), delivery.PumpEvent(at, delivery.PumpStep.STOPPED)],
        until=at,
        bag_volume_ml=dose.total_volume_ml,
    )
    volume = estimate if volume_infused_ml is None else volume_infused_ml
    if not ZERO <= volume <= dose.total_volume_ml:
        raise InfusionError(
            f"The volume infused must be 0-{dose.total_volume_ml} mL (the bag).",
            field="volume_infused_ml",
        )
    given = delivery.delivered(
        volume_infused_ml=volume,
        bag_volume_ml=dose.total_volume_ml,
        drug_volume_ml=dose.drug_volume_ml,
        concentration_mg_per_ml=dose.concentration_mg_per_ml,
        dosing_weight_kg=dose.dosing_weight_kg,
    )
    session.status = InfusionSession.Status.RECOVERY
    session.ended_at = at
    session.end_reason = why[:200]
    session.stopped_early = not completed
    session.volume_infused_ml = volume
    session.mg_given = given.mg
    session.mg_per_kg_given = given.mg_per_kg
    session.save(
        update_fields=[
            "status",
            "ended_at",
            "end_reason",
            "stopped_early",
            "volume_infused_ml",
            "mg_given",
            "mg_per_kg_given",
        ]
    )
    _event(
        session,
        SessionEvent.Kind.STOPPED,
        by=by,
        at=at,
        reason=why,
        client_key=client_key,
        completed=completed,
        volume_infused_ml=volume,
        estimated_ml=estimate,
    )
    if given.drug_volume_ml > 0:
        try:
            ledger.record_administration(
                session.uuid,
                volume_ml=given.drug_volume_ml,
                administered_by=by,
                patient=session.patient,
                occurred_at=at,
            )
        except LedgerError as exc:
            raise _ledger_error(exc) from None
        _event(
            session,
            SessionEvent.Kind.ADMINISTERED,
            by=by,
            at=at,
            volume_ml=given.drug_volume_ml,
            mg=given.mg,
        )
        completes = treatment.record_infusion_given(
            session.order, ended_at=at, on=session.service_date
        )
        if completes and schedule:
            measures.schedule_measures(
                session.patient,
                trigger=schedules.Trigger.AFTER_INDUCTION_WEEKLY,
                event_at=at,
                event_ref=f"plan:{session.plan.uuid}",
                scheduled_by=by,
            )
    if schedule:
        measures.schedule_measures(
            session.patient,
            trigger=schedules.Trigger.AFTER_INFUSION,
            event_at=at,
            event_ref=f"infusion:{session.uuid}",
            scheduled_by=by,
        )
    record(
        AuditEvent.Action.INFUSION_STOPPED,
        actor=by,
        patient=session.patient,
        subject=session,
        reason=why,
        completed=completed,
        volume_infused_ml=volume,
        mg_given=given.mg,
        mg_per_kg=given.mg_per_kg,
    )
    return session


# --- events, sedation, dissociation ----------------------------------------------------


def _open(session: InfusionSession, *, doing: str) -> None:
    _require(
        session,
        InfusionSession.Status.CHECKED_IN,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        InfusionSession.Status.RECOVERY,
        doing=doing,
    )


def _already_sent[M: models.Model](
    model: type[M], session: InfusionSession, client_key: uuid.UUID | None
) -> M | None:
    """The row a tablet already sent under this key: a resend after a dropped
    connection returns it instead of charting the event twice."""
    if client_key is None:
        return None
    return model._default_manager.filter(client_key=client_key, session=session).first()


@transaction.atomic
def record_adverse_event(
    session: InfusionSession,
    *,
    by: User,
    kind: str,
    severity: str,
    onset_at: datetime | None = None,
    description: str = "",
    intervention: str = "",
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> AdverseEvent:
    session = _lock(session)
    existing = _already_sent(AdverseEvent, session, client_key)
    if existing is not None:
        return existing
    _open(session, doing="record an adverse event")
    errors: dict[str, list[str]] = {}
    if kind not in AdverseEvent.Kind.values:
        errors["kind"] = ["Choose what happened."]
    if severity not in AdverseEvent.Severity.values:
        errors["severity"] = ["Choose how severe it is."]
    if kind == AdverseEvent.Kind.OTHER and not description.strip():
        errors["description"] = ["Describe it."]
    if errors:
        raise InfusionError(next(iter(errors.values()))[0], errors=errors)
    at = _when(session, onset_at, field="onset_at", now=now)
    event = AdverseEvent.objects.create(
        session=session,
        kind=kind,
        severity=severity,
        onset_at=at,
        description=description.strip()[:500],
        intervention=intervention.strip()[:500],
        recorded_by=by,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_ADVERSE_EVENT,
        actor=by,
        patient=session.patient,
        subject=event,
        kind=kind,
        severity=severity,
    )
    return event


@transaction.atomic
def give_prn(
    session: InfusionSession,
    *,
    by: User,
    prn_order: PrnOrder,
    dose: Decimal | None = None,
    route: str = "",
    given_at: datetime | None = None,
    adverse_event: AdverseEvent | None = None,
    note: str = "",
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> PrnGiven:
    """An as-needed medication from the order: at most the ordered dose, by the ordered route."""
    session = _lock(session)
    existing = _already_sent(PrnGiven, session, client_key)
    if existing is not None:
        return existing
    _open(session, doing="give a medication")
    if prn_order.order_id != session.order_id:
        raise InfusionError(
            "That medication is not on this infusion's order.", field="prn_order"
        )
    amount = prn_order.dose if dose is None else dose
    if not ZERO < amount <= prn_order.dose:
        raise InfusionError(
            f"The order is for {prn_order.dose_text}: give at most that.", field="dose"
        )
    if (route or prn_order.route) != prn_order.route:
        raise InfusionError(
            f"The order says {prn_order.get_route_display()}.", field="route"
        )
    count = PrnGiven.objects.filter(session=session, prn_order=prn_order).count()
    if count >= prn_order.max_doses_per_session:
        raise InfusionError(
            f"{prn_order.drug} may be given {prn_order.max_doses_per_session} time(s) per "
            "infusion under this order: ask the prescriber.",
            field="prn_order",
        )
    if adverse_event is not None and adverse_event.session_id != session.pk:
        raise InfusionError(
            "That event belongs to another infusion.", field="adverse_event"
        )
    at = _when(session, given_at, field="given_at", now=now)
    given = PrnGiven.objects.create(
        session=session,
        prn_order=prn_order,
        adverse_event=adverse_event,
        drug=prn_order.drug,
        dose=amount,
        unit=prn_order.unit,
        route=prn_order.route,
        given_at=at,
        given_by=by,
        note=note.strip()[:300],
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_PRN_GIVEN,
        actor=by,
        patient=session.patient,
        subject=given,
        drug=given.drug,
        dose=f"{amount.normalize():f} {given.unit}",
        route=given.route,
    )
    return given


def _phase_now(session: InfusionSession) -> VitalReading.Phase:
    if session.started_at is None:
        return VitalReading.Phase.BASELINE
    if session.ended_at is None:
        return VitalReading.Phase.INFUSION
    return VitalReading.Phase.RECOVERY


@transaction.atomic
def record_sedation(
    session: InfusionSession,
    *,
    by: User,
    score: int,
    assessed_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> SedationScore:
    session = _lock(session)
    existing = _already_sent(SedationScore, session, client_key)
    if existing is not None:
        return existing
    _open(session, doing="score sedation")
    try:
        recovery.moaas_label(score)
    except recovery.RecoveryInputError:
        raise InfusionError("MOAA/S is 0-5.", field="score") from None
    at = _when(session, assessed_at, field="assessed_at", now=now)
    row = SedationScore.objects.create(
        session=session,
        score=score,
        assessed_at=at,
        phase=_phase_now(session),
        assessed_by=by,
        client_key=client_key,
    )
    record(
        AuditEvent.Action.INFUSION_SEDATION_SCORED,
        actor=by,
        patient=session.patient,
        subject=session,
        score=score,
    )
    return row


@transaction.atomic
def record_cadss6(
    session: InfusionSession,
    *,
    by: User,
    answers: Mapping[str, object],
    submission_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> SessionQuestionnaire:
    """CADSS-6 during or after the infusion, stored and scored by measures."""
    session = _lock(session)
    _open(session, doing="record CADSS-6")
    try:
        recorded = measures.record_response(
            session.patient,
            instrument_code="cadss6",
            answers=answers,
            source=QuestionnaireResponse.Source.STAFF,
            entered_by=by,
            submission_key=submission_key,
            completed_at=now,
        )
    except InvalidResponse as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(error.link_id or "answers", []).append(error.message)
        raise InfusionError("Answer every CADSS-6 item (0-4).", errors=errors) from None
    link, _ = SessionQuestionnaire.objects.get_or_create(
        response=recorded.response,
        defaults={"session": session, "phase": _phase_now(session)},
    )
    record(
        AuditEvent.Action.INFUSION_CADSS_RECORDED,
        actor=by,
        patient=session.patient,
        subject=session,
        total=recorded.response.total,
    )
    return link


# --- recovery and discharge ------------------------------------------------------------


def minutes_since_end(session: InfusionSession, *, now: datetime | None = None) -> int:
    if session.ended_at is None:
        return 0
    return max(
        0, int(((now or timezone.now()) - session.ended_at).total_seconds() // 60)
    )


def latest_assessment(session: InfusionSession) -> RecoveryAssessment | None:
    return session.recovery_assessments.order_by("-assessed_at", "-id").first()


def readiness(
    session: InfusionSession,
    *,
    escort_confirmed: bool | None = None,
    now: datetime | None = None,
) -> recovery.Readiness | None:
    assessment = latest_assessment(session)
    if assessment is None:
        return None
    protocol = session.order.protocol
    latest_sedation = session.sedation_scores.order_by("-assessed_at", "-id").first()
    moaas = assessment.moaas_score
    if (
        latest_sedation is not None
        and latest_sedation.assessed_at > assessment.assessed_at
    ):
        moaas = latest_sedation.score
    return recovery.discharge_readiness(
        aldrete_total=assessment.total,
        minutes_since_infusion_end=minutes_since_end(session, now=now),
        min_recovery_minutes=protocol.min_recovery_minutes,
        escort_confirmed=session.escort_confirmed
        if escort_confirmed is None
        else escort_confirmed,
        moaas_score=moaas,
        min_aldrete_total=protocol.min_aldrete_total,
        min_moaas_score=protocol.min_moaas_score,
    )


def suggested_aldrete(session: InfusionSession) -> dict[str, int]:
    """Circulation and SpO2 items from the latest vitals against the baseline (room air assumed)."""
    latest = session.vitals.order_by("-taken_at", "-id").first()
    baseline = (
        session.vitals.filter(phase=VitalReading.Phase.BASELINE)
        .order_by("-taken_at")
        .first()
    )
    found: dict[str, int] = {}
    if latest is not None and baseline is not None:
        found["circulation"] = recovery.aldrete_circulation_points(
            systolic_mmhg=latest.systolic_mmhg,
            baseline_systolic_mmhg=baseline.systolic_mmhg,
        )
    if latest is not None:
        found["spo2"] = recovery.aldrete_spo2_points(
            spo2_percent=latest.spo2_percent, on_supplemental_oxygen=False
        )
    return found


@transaction.atomic
def assess_recovery(
    session: InfusionSession,
    *,
    by: User,
    activity: int,
    respiration: int,
    circulation: int,
    consciousness: int,
    spo2: int,
    moaas_score: int | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
) -> RecoveryAssessment:
    session = _lock(session)
    existing = _already_sent(RecoveryAssessment, session, client_key)
    if existing is not None:
        return existing
    _require(session, InfusionSession.Status.RECOVERY, doing="assess recovery")
    try:
        score = recovery.score_aldrete(
            activity=activity,
            respiration=respiration,
            circulation=circulation,
            consciousness=consciousness,
            spo2=spo2,
        )
        if moaas_score is not None:
            recovery.moaas_label(moaas_score)
    except recovery.RecoveryInputError as exc:
        raise InfusionError(exc.message, field=exc.field) from None
    now = now or timezone.now()
    protocol = session.order.protocol
    ready = recovery.discharge_readiness(
        aldrete_total=score.total,
        minutes_since_infusion_end=minutes_since_end(session, now=now),
        min_recovery_minutes=protocol.min_recovery_minutes,
        escort_confirmed=session.escort_confirmed,
        moaas_score=moaas_score,
        min_aldrete_total=protocol.min_aldrete_total,
        min_moaas_score=protocol.min_moaas_score,
    )
    row = RecoveryAssessment.objects.create(
        session=session,
        assessed_at=now,
        assessed_by=by,
        activity=activity,
        respiration=respiration,
        circulation=circulation,
        consciousness=consciousness,
        spo2=spo2,
        total=score.total,
        moaas_score=moaas_score,
        ready=ready.ready,
        unmet=list(ready.unmet),
        client_key=client_key,
    )
    if moaas_score is not None:
        SedationScore.objects.create(
            session=session,
            score=moaas_score,
            assessed_at=now,
            phase=VitalReading.Phase.RECOVERY,
            assessed_by=by,
        )
    record(
        AuditEvent.Action.INFUSION_RECOVERY_ASSESSED,
        actor=by,
        patient=session.patient,
        subject=session,
        aldrete_total=score.total,
        moaas=moaas_score,
        ready=ready.ready,
    )
    return row


INSTRUCTION_CHANNELS = ("paper", "email", "sms")


def discharge_instructions(session: InfusionSession) -> list[str]:
    """What the patient takes home (domain.md 1.5; K20 [V], K22 [P]); the clinic's phone last."""
    phone = session.location.phone or session.organization.phone
    return [
        "Do not drive or operate machinery until tomorrow, after a night's sleep.",
        "A responsible adult should stay with you for the rest of today.",
        "No alcohol or cannabis for 24 hours; avoid opioids and sleeping pills for 4 hours "
        "unless your prescriber said otherwise.",
        "Do not make important decisions today.",
        "Nausea, headache or feeling 'floaty' usually pass within a few hours.",
        f"Questions or worries: call the clinic at {phone or 'the number on your appointment card'}. "
        "In an emergency call 911. If you have thoughts of harming yourself, call or text 988.",
        "You will get a short questionnaire (PHQ-9) to answer about 24 hours from now.",
    ]


@transaction.atomic
def discharge(
    session: InfusionSession,
    *,
    by: User,
    escort_name: str,
    instructions_channel: str,
    now: datetime | None = None,
) -> InfusionSession:
    """Discharge against the protocol's criteria, to a named escort, with instructions given."""
    session = _lock(session)
    _require(session, InfusionSession.Status.RECOVERY, doing="discharge")
    errors: dict[str, list[str]] = {}
    if not escort_name.strip():
        errors["escort_name"] = ["Name the adult who is taking the patient home (K11)."]
    if instructions_channel not in INSTRUCTION_CHANNELS:
        errors["instructions_channel"] = [
            "Choose how the discharge instructions were given."
        ]
    patient = session.patient
    if instructions_channel == "email" and not patient.email:
        errors["instructions_channel"] = ["There is no email address for this patient."]
    if instructions_channel == "sms" and not patient.phone:
        errors["instructions_channel"] = ["There is no phone number for this patient."]
    if errors:
        raise InfusionError(next(iter(errors.values()))[0], errors=errors)
    now = now or timezone.now()
    ready = readiness(session, escort_confirmed=True, now=now)
    if ready is None:
        raise InfusionError(
            "Assess recovery (modified Aldrete) first.", field="recovery"
        )
    if not ready.ready:
        raise InfusionError(
            "Not ready for discharge: " + " ".join(ready.unmet), field="recovery"
        )
    unacknowledged = session.alarms.filter(acknowledged_at__isnull=True).count()
    if unacknowledged:
        raise InfusionError("Acknowledge every alarm first.", field="alarms")
    session.status = InfusionSession.Status.DISCHARGED
    session.discharged_at, session.discharged_by = now, by
    session.discharge_escort_name = escort_name.strip()[:200]
    session.instructions_channel = instructions_channel
    session.instructions_given_at = now
    session.save(
        update_fields=[
            "status",
            "discharged_at",
            "discharged_by",
            "discharge_escort_name",
            "instructions_channel",
            "instructions_given_at",
        ]
    )
    _event(
        session,
        SessionEvent.Kind.DISCHARGED,
        by=by,
        at=now,
        escort=session.discharge_escort_name,
    )
    _event(
        session,
        SessionEvent.Kind.INSTRUCTIONS,
        by=by,
        at=now,
        channel=instructions_channel,
    )
    if instructions_channel in ("email", "sms"):
        text = "\n".join(f"- {line}" for line in discharge_instructions(session))
        subject = f"Your aftercare instructions from {session.organization.name}"
        if instructions_channel == "email":
            email = patient.email
            transaction.on_commit(lambda: send_email(email, subject, text))
        else:
            phone = patient.phone
            transaction.on_commit(lambda: send_sms(phone, f"{subject}:\n{text}"))
    record(
        AuditEvent.Action.INFUSION_DISCHARGED,
        actor=by,
        patient=patient,
        subject=session,
        escort=session.discharge_escort_name,
        minutes_after_end=minutes_since_end(session, now=now),
    )
    record(
        AuditEvent.Action.INFUSION_INSTRUCTIONS_GIVEN,
        actor=by,
        patient=patient,
        subject=session,
        channel=instructions_channel,
    )
    return session


# --- waste, note, cancel ---------------------------------------------------------------


@transaction.atomic
def waste(
    session: InfusionSession,
    *,
    by: User,
    volume_ml: Decimal,
    witness: WitnessConfirmation,
    reason: str = "Remainder after the infusion",
    now: datetime | None = None,
) -> InfusionSession:
    """Waste what was drawn and not given, witnessed, through the ledger."""
    session = _lock(session)
    _require(
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
            wasted_by=by,
            witness=witness,
            reason=reason.strip() or "Remainder after the infusion",
            occurred_at=now,
        )
    except LedgerError as exc:
        raise _ledger_error(exc) from None
    _event(
        session,
        SessionEvent.Kind.WASTED,
        by=by,
        at=entries[0].occurred_at,
        volume_ml=volume_ml,
        witness=witness.witness.username,
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


def ledger_summary(session: InfusionSession) -> ledger.SessionSummary:
    return ledger.session_summary(session.uuid, organization_id=session.organization_id)


def reconciliation_problem(session: InfusionSession) -> str | None:
    """Why the ledger does not balance for this session (drawn = administered + wasted), or None."""
    summary = ledger_summary(session)
    if not summary.entries:
        return None
    if summary.outstanding_ml != 0:
        return (
            f"Drawn {summary.drawn_ml - summary.returned_ml} mL, administered "
            f"{summary.administered_ml} mL, wasted {summary.wasted_ml} mL: "
            f"{summary.outstanding_ml} mL is not accounted for. Waste it with a witness."
        )
    return None


def sign_note(
    session: InfusionSession, *, by: User, password: str, now: datetime | None = None
) -> InfusionNote:
    """The nurse signs the note built from the chart; the session closes and the note locks."""
    try:
        # Outside the transaction, so a refused signature stays on the audit log.
        treatment.confirm_signature(by, password, what=f"infusion note {session.uuid}")
    except TreatmentError as exc:
        raise InfusionError(exc.message, field="password") from None
    note = _sign_note(session, by=by, now=now)
    prescriber = session.patient.prescriber or session.order.signed_by
    if prescriber.pk != by.pk:
        notify(
            prescriber,
            subject="Infusion note to co-sign",
            link=reverse("infusions:session", kwargs={"session_uuid": session.uuid}),
        )
    return note


@transaction.atomic
def _sign_note(
    session: InfusionSession, *, by: User, now: datetime | None
) -> InfusionNote:
    from neuroclinic.infusions.notes import build_note

    session = _lock(session)
    _require(session, InfusionSession.Status.DISCHARGED, doing="sign the note")
    problem = reconciliation_problem(session)
    if problem is not None:
        raise InfusionError(problem, field="ledger")
    try:
        ledger.check_session_reconciled(
            session.uuid, organization_id=session.organization_id
        )
    except LedgerError as exc:
        raise _ledger_error(exc) from None
    if session.alarms.filter(acknowledged_at__isnull=True).exists():
        raise InfusionError("Acknowledge every alarm first.", field="alarms")
    now = now or timezone.now()
    body = build_note(session, signed_by=by, signed_at=now)
    note = InfusionNote.objects.create(
        session=session,
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        signed_by=by,
        signed_at=now,
    )
    session.status = InfusionSession.Status.CLOSED
    session.closed_at = now
    session.save(update_fields=["status", "closed_at"])
    _event(session, SessionEvent.Kind.NOTE_SIGNED, by=by, at=now)
    record(
        AuditEvent.Action.INFUSION_NOTE_SIGNED,
        actor=by,
        patient=session.patient,
        subject=session,
        body_sha256=note.body_sha256,
    )
    return note


def cosign_note(
    note: InfusionNote, *, by: User, password: str, now: datetime | None = None
) -> InfusionNote:
    if Role.PRESCRIBER not in by.roles and Role.MEDICAL_DIRECTOR not in by.roles:
        raise InfusionError(
            "Only a prescriber co-signs infusion notes.", field="password"
        )
    try:
        treatment.confirm_signature(
            by, password, what=f"co-sign note {note.session.uuid}"
        )
    except TreatmentError as exc:
        raise InfusionError(exc.message, field="password") from None
    return _cosign_note(note, by=by, now=now)


@transaction.atomic
def _cosign_note(note: InfusionNote, *, by: User, now: datetime | None) -> InfusionNote:
    note = (
        InfusionNote.objects.select_for_update()
        .select_related("session__patient")
        .get(pk=note.pk)
    )
    if note.cosigned_at is not None:
        raise InfusionError("This note is already co-signed.", field="note")
    if note.signed_by_id == by.pk:
        raise InfusionError(
            "The co-signer must be someone other than the nurse who signed.",
            field="note",
        )
    now = now or timezone.now()
    note.cosigned_by, note.cosigned_at = by, now
    note.save(update_fields=["cosigned_by", "cosigned_at"])
    _event(note.session, SessionEvent.Kind.NOTE_COSIGNED, by=by, at=now)
    record(
        AuditEvent.Action.INFUSION_NOTE_COSIGNED,
        actor=by,
        patient=note.session.patient,
        subject=note.session,
    )
    return note


@transaction.atomic
def add_addendum(note: InfusionNote, *, by: User, text: str) -> NoteAddendum:
    if not text.strip():
        raise InfusionError("Write the addendum.", field="text")
    note = InfusionNote.objects.select_related("session__patient").get(pk=note.pk)
    addendum = NoteAddendum.objects.create(
        note=note, text=text.strip(), added_by=by, added_at=timezone.now()
    )
    record(
        AuditEvent.Action.INFUSION_ADDENDUM_ADDED,
        actor=by,
        patient=note.session.patient,
        subject=note.session,
        addendum=str(addendum.uuid),
    )
    return addendum


@transaction.atomic
def cancel(
    session: InfusionSession, *, by: User, reason: str, now: datetime | None = None
) -> InfusionSession:
    """Cancel before the start. What was drawn must be wasted or returned first."""
    session = _lock(session)
    _require(session, InfusionSession.Status.CHECKED_IN, doing="cancel")
    why = _reason(reason, doing="cancel")
    problem = reconciliation_problem(session)
    if problem is not None:
        raise InfusionError(problem, field="ledger")
    now = now or timezone.now()
    session.status = InfusionSession.Status.CANCELLED
    session.cancelled_at, session.cancel_reason = now, why[:200]
    session.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    _event(session, SessionEvent.Kind.CANCELLED, by=by, at=now, reason=why)
    record(
        AuditEvent.Action.INFUSION_CANCELLED,
        actor=by,
        patient=session.patient,
        subject=session,
        reason=why,
    )
    return session
