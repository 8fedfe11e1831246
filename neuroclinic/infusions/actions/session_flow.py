"""The session's flow: check-in, the checklist, the pump (start, pause, resume, rate,
stop) and cancel.

Each action runs in one transaction, locks the session row, checks the session is at
the right step, records a timeline event and an audit event, and raises InfusionError
(nothing written) when refused. A tablet's resend (the same `client_key`) is charted
once. The stop hands what was given to the ledger (`dose_draw.record_administered`),
counts the infusion on the plan (treatment) and schedules the measures after it.
"""

import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Room
from neuroclinic.infusions import checklist, delivery
from neuroclinic.infusions.actions.common import (
    CLOCK_SKEW,
    ZERO,
    current_dose,
    lock_session,
    pump_time,
    reason_given,
    replayed,
    require_status,
    timeline_event,
)
from neuroclinic.infusions.actions.dose_draw import (
    drawn_ml,
    reconciliation_problem,
    record_administered,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import (
    DoseRecord,
    InfusionSession,
    SessionEvent,
)
from neuroclinic.infusions.readiness import hard_stops, session_checklist, snapshot
from neuroclinic.lib import dosing
from neuroclinic.lib.compiled import CompiledObjects, CompiledRows
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.due_measures import schedule_measures
from neuroclinic.patients.models import Contact, Patient
from neuroclinic.treatment.actions.orders import active_order
from neuroclinic.treatment.actions.plans import active_plan, record_infusion_given
from neuroclinic.treatment.models import InfusionOrder
from neuroclinic.treatment.phases import spacing_problems

# What the check-in reads of the patient (the escort to prefill, the last height
# measured, the days infused), compiled once per connection (lib.compiled).
_ESCORT = CompiledObjects(
    lambda patient_id: Contact.objects.filter(
        patient_id=patient_id, kind=Contact.Kind.ESCORT
    ).order_by("-created_at")[:1]
)
_LAST_HEIGHT = CompiledRows(
    lambda patient_id: (
        InfusionSession.objects.filter(patient_id=patient_id, height_cm__isnull=False)
        .order_by("-checked_in_at")
        .values_list("height_cm")[:1]
    )
)
_STARTED_AT = CompiledRows(
    lambda patient_id: (
        InfusionSession.objects.filter(patient_id=patient_id, started_at__isnull=False)
        .exclude(status=InfusionSession.Status.CANCELLED)
        .values_list("started_at")
    )
)


@transaction.atomic
def check_in(
    patient: Patient,
    *,
    room: Room,
    nurse: User | None = None,
    now: datetime | None = None,
    schedule: bool = True,
    spacing_override_reason: str = "",
    by: User,
) -> InfusionSession:
    """Open today's infusion for a patient with an active plan and order, in an infusion room.

    Too soon after the last infusion, over the protocol's weekly maximum or inside the
    booster interval is refused unless `spacing_override_reason` says why (issue #14).
    """
    if room.kind != Room.Kind.INFUSION or not room.is_active:
        raise InfusionError("Choose an infusion room.", field="room")
    location = room.location
    if location.organization_id != patient.organization_id:
        raise InfusionError("Choose an infusion room.", field="room")
    plan = active_plan(patient)
    if plan is None:
        raise InfusionError(
            "There is no active treatment plan: a prescriber must create one first.",
            field="patient",
        )
    order = active_order(plan, InfusionOrder.Kind.INDUCTION) or active_order(
        plan, InfusionOrder.Kind.BOOSTER
    )
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
    service_date = now.astimezone(ZoneInfo(location.time_zone)).date()
    overridden = spacing_problems_for(
        patient, order, on=service_date, zone=location.time_zone
    )
    override_reason = spacing_override_reason.strip()
    if overridden and not override_reason:
        raise InfusionError(
            " ".join(overridden) + " Check in over it only with a written reason.",
            field="spacing_override_reason",
        )
    if overridden and not by.can(Capability.RUN_INFUSIONS):
        # Overriding the protocol's rhythm is a clinical call: the front desk's check-in
        # is refused with the rule, and a nurse or prescriber checks in with the reason.
        raise InfusionError(
            " ".join(overridden)
            + " Only a nurse or prescriber may check in over it, with a written reason.",
            field="spacing_override_reason",
        )
    if not overridden:
        override_reason = ""
    escort = _ESCORT.first(patient.pk)
    height = next(iter(_LAST_HEIGHT.rows(patient.pk)), (None,))[0]
    session = InfusionSession(
        organization_id=patient.organization_id,
        patient=patient,
        plan=plan,
        order=order,
        location=location,
        room=room,
        sequence_number=number,
        sequence_total=total,
        service_date=service_date,
        checked_in_by=by,
        checked_in_at=now,
        nurse=nurse or by,
        escort_name=escort.name if escort else "",
        escort_phone=escort.phone if escort else "",
        height_cm=height,
        spacing_override_reason=override_reason,
        spacing_overridden=overridden,
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
    event_data: dict[str, object] = {"room": room.name}
    if overridden:
        event_data |= {"spacing_overridden": overridden, "reason": override_reason}
    timeline_event(
        session, SessionEvent.Kind.CHECKED_IN, at=now, data=event_data, by=by
    )
    trigger = (
        schedules.Trigger.BEFORE_INFUSION
        if order.kind == InfusionOrder.Kind.INDUCTION
        else schedules.Trigger.BEFORE_BOOSTER
    )
    if schedule:
        schedule_measures(
            patient,
            trigger=trigger,
            event_at=now,
            event_ref=f"infusion:{session.uuid}",
            by=by,
        )
    record(
        AuditEvent.Action.INFUSION_CHECKED_IN,
        actor=by,
        patient=patient,
        subject=session,
        room=room.name,
        order=str(order.uuid),
        sequence=session.progress,
        spacing_overridden=len(overridden),
    )
    return session


def infused_dates(patient: Patient, *, zone: str) -> list[date]:
    """The clinic days on which the patient's infusions ran (started and not cancelled)."""
    tz = ZoneInfo(zone)
    return [
        started.astimezone(tz).date()
        for (started,) in _STARTED_AT.rows(patient.pk)
        if started is not None
    ]


def spacing_problems_for(
    patient: Patient, order: InfusionOrder, *, on: date, zone: str
) -> list[str]:
    """The protocol's rhythm rules (treatment.phases.spacing_problems) for one more infusion."""
    protocol = order.protocol
    return spacing_problems(
        given_dates=infused_dates(patient, zone=zone),
        on=on,
        min_days_between_infusions=protocol.min_days_between_infusions,
        infusions_per_week_max=protocol.infusions_per_week_max,
        booster_interval_days_min=(
            protocol.booster_interval_days_min
            if order.kind == InfusionOrder.Kind.BOOSTER
            else None
        ),
    )


@transaction.atomic
def save_checklist(
    session: InfusionSession,
    *,
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
    by: User,
) -> InfusionSession:
    """Record what the nurse found. A blank weight keeps the one already recorded."""
    session = lock_session(session)
    require_status(
        session, InfusionSession.Status.CHECKED_IN, doing="change the checklist"
    )
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
                and drawn_ml(session) > 0
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
    session: InfusionSession, *, now: datetime | None = None, by: User
) -> InfusionSession:
    session = lock_session(session)
    require_status(
        session, InfusionSession.Status.CHECKED_IN, doing="confirm the checklist"
    )
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
    timeline_event(session, SessionEvent.Kind.CHECKLIST_CONFIRMED, at=now, by=by)
    record(
        AuditEvent.Action.INFUSION_CHECKLIST_CONFIRMED,
        actor=by,
        patient=session.patient,
        subject=session,
    )
    return session


@transaction.atomic
def start(
    session: InfusionSession,
    *,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    late_reason: str = "",
    now: datetime | None = None,
    by: User,
) -> InfusionSession:
    """Start the pump at the calculated rate, after every hard stop is checked once more."""
    session = lock_session(session)
    if replayed(client_key):
        return session
    require_status(session, InfusionSession.Status.CHECKED_IN, doing="start")
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
    drawn = drawn_ml(session)
    if drawn < dose.drug_volume_ml:
        raise InfusionError(
            f"Draw {dose.drug_volume_ml} mL for this dose first ({drawn} mL drawn).",
            field="draw",
        )
    at = pump_time(session, occurred_at, reason=late_reason, doing="start", now=now)
    session.status = InfusionSession.Status.RUNNING
    session.started_at = at
    session.rate_ml_per_hour = dose.rate_ml_per_hour
    session.checklist_snapshot = snapshot(items)
    session.save(
        update_fields=["status", "started_at", "rate_ml_per_hour", "checklist_snapshot"]
    )
    timeline_event(
        session,
        SessionEvent.Kind.STARTED,
        at=at,
        rate=dose.rate_ml_per_hour,
        client_key=client_key,
        by=by,
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


@transaction.atomic
def pause(
    session: InfusionSession,
    *,
    reason: str,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> InfusionSession:
    session = lock_session(session)
    if replayed(client_key):
        return session
    require_status(session, InfusionSession.Status.RUNNING, doing="pause")
    why = reason_given(reason, doing="pause")
    at = pump_time(session, occurred_at, reason=why, doing="pause", now=now)
    session.status = InfusionSession.Status.PAUSED
    session.save(update_fields=["status"])
    timeline_event(
        session,
        SessionEvent.Kind.PAUSED,
        at=at,
        reason=why,
        client_key=client_key,
        by=by,
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
    reason: str = "",
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> InfusionSession:
    session = lock_session(session)
    if replayed(client_key):
        return session
    require_status(session, InfusionSession.Status.PAUSED, doing="resume")
    at = pump_time(session, occurred_at, reason=reason, doing="resume", now=now)
    session.status = InfusionSession.Status.RUNNING
    session.save(update_fields=["status"])
    timeline_event(
        session,
        SessionEvent.Kind.RESUMED,
        at=at,
        reason=reason.strip(),
        rate=session.rate_ml_per_hour,
        client_key=client_key,
        by=by,
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
    rate_ml_per_hour: Decimal,
    reason: str,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> InfusionSession:
    """A new pump rate within the order's titration limits."""
    session = lock_session(session)
    if replayed(client_key):
        return session
    require_status(
        session,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        doing="change the rate",
    )
    why = reason_given(reason, doing="change the rate")
    limits = rate_limits(session)
    assert limits is not None
    low, high = limits
    if not low <= rate_ml_per_hour <= high:
        raise InfusionError(
            f"The order allows {low}-{high} mL/h ({session.order.rate_min_percent}-"
            f"{session.order.rate_max_percent}% of the calculated rate).",
            field="rate_ml_per_hour",
        )
    at = pump_time(session, occurred_at, reason=why, doing="change the rate", now=now)
    before = session.rate_ml_per_hour
    session.rate_ml_per_hour = rate_ml_per_hour
    session.save(update_fields=["rate_ml_per_hour"])
    timeline_event(
        session,
        SessionEvent.Kind.RATE_CHANGED,
        at=at,
        reason=why,
        rate=rate_ml_per_hour,
        client_key=client_key,
        data={"previous": before},
        by=by,
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


PUMP_STEPS = {
    SessionEvent.Kind.STARTED: delivery.PumpStep.STARTED,
    SessionEvent.Kind.PAUSED: delivery.PumpStep.PAUSED,
    SessionEvent.Kind.RESUMED: delivery.PumpStep.RESUMED,
    SessionEvent.Kind.RATE_CHANGED: delivery.PumpStep.RATE_CHANGED,
    SessionEvent.Kind.STOPPED: delivery.PumpStep.STOPPED,
}
# The pump's steps in order, compiled once per connection (lib.compiled).
_PUMP_STEPS = CompiledRows(
    lambda session_id: (
        SessionEvent.objects.filter(session_id=session_id, kind__in=list(PUMP_STEPS))
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "kind", "rate_ml_per_hour")
    )
)


def pump_events(session: InfusionSession) -> list[delivery.PumpEvent]:
    return [
        delivery.PumpEvent(at, PUMP_STEPS[SessionEvent.Kind(kind)], rate)
        for at, kind, rate in _PUMP_STEPS.rows(session.pk)
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


def _require_plausible_completion(
    *, ran: timedelta, volume_ml: Decimal, dose: DoseRecord
) -> None:
    """ "Completed as ordered" must reach the ordered duration and the bag's volume,
    within the clinic's tolerance (INFUSION_COMPLETION_TOLERANCE_PERCENT)."""
    tolerance = Decimal(settings.INFUSION_COMPLETION_TOLERANCE_PERCENT) / 100
    short = 1 - tolerance
    minutes = Decimal(ran.total_seconds()) / 60
    if minutes < dose.duration_minutes * short:
        raise InfusionError(
            f"Completed as ordered after {minutes:.0f} of {dose.duration_minutes} "
            "minutes? Mark it stopped early and say why.",
            field="completed",
        )
    if volume_ml < dose.total_volume_ml * short:
        raise InfusionError(
            f"Completed as ordered with {volume_ml} of {dose.total_volume_ml} mL? "
            "Mark it stopped early and say why.",
            field="completed",
        )


@transaction.atomic
def stop(
    session: InfusionSession,
    *,
    reason: str,
    completed: bool,
    volume_infused_ml: Decimal | None = None,
    occurred_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    schedule: bool = True,
    by: User,
) -> InfusionSession:
    """Stop the pump, record what went in (ledger administration), count the infusion,
    and schedule the 24-hour PHQ-9 (and the weekly ones when the series is complete)."""
    session = lock_session(session)
    if replayed(client_key):
        return session
    require_status(
        session,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        doing="stop",
    )
    dose = current_dose(session)
    assert dose is not None
    at = pump_time(session, occurred_at, reason=reason, doing="stop", now=now)
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
    margin = Decimal(settings.INFUSION_PUMP_VOLUME_MARGIN_PERCENT) / 100
    if abs(volume - estimate) > dose.total_volume_ml * margin and not reason.strip():
        raise InfusionError(
            f"{volume} mL differs from the pump's estimate ({estimate} mL) by more than "
            f"{settings.INFUSION_PUMP_VOLUME_MARGIN_PERCENT}% of the bag: say why.",
            field="reason",
        )
    if completed:
        assert session.started_at is not None
        _require_plausible_completion(
            ran=at - session.started_at, volume_ml=volume, dose=dose
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
    timeline_event(
        session,
        SessionEvent.Kind.STOPPED,
        at=at,
        reason=why,
        client_key=client_key,
        data={
            "completed": completed,
            "volume_infused_ml": volume,
            "estimated_ml": estimate,
        },
        by=by,
    )
    if given.drug_volume_ml > 0:
        record_administered(
            session, dose=dose, volume_ml=given.drug_volume_ml, at=at, by=by
        )
        timeline_event(
            session,
            SessionEvent.Kind.ADMINISTERED,
            at=at,
            data={"volume_ml": given.drug_volume_ml, "mg": given.mg},
            by=by,
        )
        completes = record_infusion_given(
            session.order, ended_at=at, on=session.service_date
        )
        if completes and schedule:
            schedule_measures(
                session.patient,
                trigger=schedules.Trigger.AFTER_INDUCTION_WEEKLY,
                event_at=at,
                event_ref=f"plan:{session.plan.uuid}",
                by=by,
            )
    if schedule:
        schedule_measures(
            session.patient,
            trigger=schedules.Trigger.AFTER_INFUSION,
            event_at=at,
            event_ref=f"infusion:{session.uuid}",
            by=by,
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


@transaction.atomic
def cancel(
    session: InfusionSession, *, reason: str, now: datetime | None = None, by: User
) -> InfusionSession:
    """Cancel before the start. What was drawn must be wasted or returned first."""
    session = lock_session(session)
    require_status(session, InfusionSession.Status.CHECKED_IN, doing="cancel")
    why = reason_given(reason, doing="cancel")
    problem = reconciliation_problem(session)
    if problem is not None:
        raise InfusionError(problem, field="ledger")
    now = now or timezone.now()
    session.status = InfusionSession.Status.CANCELLED
    session.cancelled_at, session.cancel_reason = now, why[:200]
    session.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    timeline_event(session, SessionEvent.Kind.CANCELLED, at=now, reason=why, by=by)
    record(
        AuditEvent.Action.INFUSION_CANCELLED,
        actor=by,
        patient=session.patient,
        subject=session,
        reason=why,
    )
    return session
