"""The technician's session: the daily check and start, intensity changes, side effects, the end.

Refusals (each with nothing written): a course on a seizure hold or stopped; a patient
whose latest safety screen is not cleared; no motor threshold; an intensity above the
protocol's maximum % MT or the session unit's maximum output; a unit that is not an
active TMS unit of the clinic (or none when no default is clear); a hard stop in the daily check;
a second session the same day outside an accelerated protocol or inside its interval;
a session beyond the course; pulses delivered above planned.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Device
from neuroclinic.measures.actions.alerts import (
    raise_safety_alert,
    safety_alert_blocks_treatment,
)
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.tms import course_plan, intensity, protocols, reads, screening
from neuroclinic.tms.actions.adverse import file_manic_switch_report
from neuroclinic.tms.actions.common import (
    lock_course,
    lock_session,
    now_or,
    require_open,
    require_physician,
)
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    IntensityChange,
    Interruption,
    MotorThreshold,
    SessionAddendum,
    SideEffect,
    TmsCourse,
    TmsSession,
)


def _intensity(
    parameters: protocols.ProtocolParameters,
    threshold: MotorThreshold,
    percent: Decimal,
    *,
    device_max_output_percent: int,
) -> intensity.Intensity:
    try:
        return intensity.treatment_intensity(
            threshold_percent_output=threshold.value_percent_output,
            percent_of_mt=percent,
            max_percent_of_mt=parameters.max_percent_of_mt,
            device_max_output_percent=device_max_output_percent,
        )
    except intensity.IntensityError as exc:
        raise TmsError(exc.message, field=exc.field) from None


def check_may_treat(course: TmsCourse) -> None:
    """The course-level refusals, for the screen to show before anyone fills in the check."""
    if reads.is_stopped(course):
        raise TmsError("A physician stopped this course after a seizure.")
    if reads.unreviewed_seizures(course).exists():
        raise TmsError(
            "This course is on hold after a seizure until a physician documents a review."
        )
    screen = reads.latest_screen(course.patient)
    if screen is None or not screen.is_cleared:
        raise TmsError("The patient's latest TMS safety screen is not cleared.")
    # The same suicide-risk hold as an infusion: an unassessed alert, or one closed
    # as high risk, stops TMS too until a prescriber signs that treatment may resume.
    held = safety_alert_blocks_treatment(course.patient)
    if held is not None:
        raise TmsError(held)


def session_unit(
    course: TmsCourse,
    threshold: MotorThreshold,
    device: Device | None,
    *,
    at: datetime,
    appointment: uuid.UUID | None = None,
) -> Device:
    """The unit the session runs on: the one chosen, which must be an active TMS unit of
    the clinic, or the default (reads.default_unit: first the unit the calendar booked
    for the visit) when none is chosen. A named calendar visit must be a booked visit
    of this course."""
    if (
        appointment is not None
        and reads.booked_appointment(course, at=at, appointment=appointment) is None
    ):
        raise TmsError(
            "That calendar appointment is not a booked visit of this course.",
            field="appointment",
        )
    if device is None:
        unit = reads.default_unit(course, threshold, at=at, appointment=appointment)
        if unit is None:
            raise TmsError("Choose the TMS unit the session runs on.", field="device")
        return unit
    unit = reads.tms_units(course.organization_id).filter(pk=device.pk).first()
    if unit is None:
        raise TmsError("Choose an active TMS unit of this clinic.", field="device")
    return unit


@transaction.atomic
def start_session(
    course: TmsCourse,
    *,
    daily_check: Mapping[str, object],
    supervising_physician: User | None,
    trains: int | None = None,
    device: Device | None = None,
    appointment: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> TmsSession:
    """Starts the course's next session on `device` (default: reads.default_unit, the
    calendar's booked unit first; `appointment` names the visit it was opened from)."""
    course = lock_course(course)
    check_may_treat(course)
    try:
        daily = screening.evaluate_daily_check(daily_check)
    except screening.ScreenInputError as exc:
        raise TmsError(
            "Answer every question of the daily check.", errors=exc.errors
        ) from None
    if not daily.may_proceed:
        errors = {
            key: [screening.DAILY_BY_KEY[key].message] for key in daily.hard_stops
        }
        raise TmsError(
            "Hard stop: " + " ".join(errors[k][0] for k in daily.hard_stops),
            errors=errors,
        )
    physician = require_physician(
        supervising_physician, course.organization_id, field="supervising_physician"
    )
    parameters = reads.parameters_of(course)
    threshold = reads.latest_threshold(course.patient)
    if threshold is None:
        raise TmsError(
            "No motor threshold on file: determine it before the first session."
        )
    at = now_or(now)
    unit = session_unit(course, threshold, device, at=at, appointment=appointment)
    dose = _intensity(
        parameters,
        threshold,
        course.percent_of_mt,
        device_max_output_percent=unit.max_output_percent,
    )
    try:
        planned = protocols.pulses_planned(parameters, trains=trains)
    except protocols.ProtocolError as exc:
        raise TmsError(exc.message, field=exc.field) from None
    sessions = list(course.sessions.order_by("number"))
    if any(s.is_open for s in sessions):
        raise TmsError("A session of this course is still open: end it first.")
    total = len(reads.sessions_to_book(course))
    if len(sessions) >= total:
        raise TmsError(f"All {total} sessions of this course are recorded.")
    today = reads.local_date(course, at)
    same_day = [s for s in sessions if reads.local_date(course, s.started_at) == today]
    minutes = None
    if same_day:
        last = same_day[-1]
        minutes = int(((at - (last.ended_at or last.started_at)).total_seconds()) // 60)
    try:
        course_plan.check_interval(parameters, minutes_since_last_today=minutes)
    except protocols.ProtocolError as exc:
        raise TmsError(exc.message) from None
    previous_start = sessions[-1].started_at if sessions else None
    new_threshold = (
        previous_start is not None and threshold.recorded_at > previous_start
    )
    cpt = course_plan.cpt_code(
        first_session_of_course=not sessions, new_threshold=new_threshold
    )
    # A chart change that can move the threshold is kept on the session as a caution
    # (the screen prompts a re-determination before it; the physician decides).
    cautions = list(daily.cautions) + [
        "Medication change since the motor threshold: " + p.text
        for p in reads.rethreshold_prompts(course.patient, latest=threshold)
    ]
    if threshold.device_id is not None and threshold.device_id != unit.pk:
        # The threshold is in % of another unit's output: the physician decides whether
        # it carries over (a new determination on this unit is the safe course).
        cautions.append(
            f"The motor threshold was determined on another unit; this session runs on {unit.name}."
        )
    session = TmsSession.objects.create(
        course=course,
        patient=course.patient,
        number=len(sessions) + 1,
        started_at=at,
        daily_check=dict(daily_check),
        daily_cautions=cautions,
        threshold=threshold,
        new_threshold=new_threshold,
        device=unit,
        percent_of_mt=course.percent_of_mt,
        output_percent=dose.output_percent,
        coil_position=course.target_text[:250],
        trains_planned=planned // parameters.pulses_per_train,
        pulses_planned=planned,
        cpt_code=cpt.value,
        operator=by,
        supervising_physician=physician,
    )
    record(
        AuditEvent.Action.TMS_SESSION_STARTED,
        actor=by,
        patient=course.patient,
        subject=session,
        number=session.number,
        output_percent=dose.output_percent,
        device=str(unit.uuid),
        max_output_percent=unit.max_output_percent,
        cpt=cpt.value,
    )
    return session


@transaction.atomic
def change_intensity(
    session: TmsSession,
    *,
    percent_of_mt: Decimal,
    reason: str,
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> IntensityChange:
    """A change during the session (e.g. a ramp-up for tolerability), never above the order.

    A replay of an entry already recorded (the same `client_key`) returns it unchanged.
    """
    session = lock_session(session)
    if client_key is not None:
        done = IntensityChange.objects.filter(client_key=client_key).first()
        if done is not None:
            return done
    require_open(session, doing="change the intensity")
    if not reason.strip():
        raise TmsError("Say why the intensity changes.", field="reason")
    if percent_of_mt > session.course.percent_of_mt:
        raise TmsError(
            f"The order is {session.course.percent_of_mt.normalize():f} % MT: not above it.",
            field="percent_of_mt",
        )
    parameters = reads.parameters_of(session.course)
    dose = _intensity(
        parameters,
        session.threshold,
        percent_of_mt,
        device_max_output_percent=reads.session_max_output_percent(session),
    )
    change = IntensityChange.objects.create(
        session=session,
        from_percent_of_mt=session.percent_of_mt,
        to_percent_of_mt=percent_of_mt,
        output_percent=dose.output_percent,
        reason=reason.strip()[:300],
        changed_by=by,
        changed_at=now_or(now),
        client_key=client_key,
    )
    session.percent_of_mt = percent_of_mt
    session.output_percent = dose.output_percent
    session.save(update_fields=["percent_of_mt", "output_percent"])
    record(
        AuditEvent.Action.TMS_INTENSITY_CHANGED,
        actor=by,
        patient=session.patient,
        subject=session,
        to_percent_of_mt=str(percent_of_mt),
        output_percent=dose.output_percent,
    )
    return change


@transaction.atomic
def record_side_effect(
    session: TmsSession,
    *,
    kind: str,
    severity: str,
    description: str = "",
    client_key: uuid.UUID | None = None,
    now: datetime | None = None,
    by: User,
) -> SideEffect:
    """A side effect; a possible manic switch also raises a safety alert. A replay of an
    entry already recorded (the same `client_key`) returns it unchanged."""
    session = lock_session(session)
    if client_key is not None:
        done = SideEffect.objects.filter(client_key=client_key).first()
        if done is not None:
            return done
    errors: dict[str, list[str]] = {}
    if kind not in SideEffect.Kind.values:
        errors["kind"] = ["Choose the side effect."]
    if severity not in SideEffect.Severity.values:
        errors["severity"] = ["Choose how severe it is."]
    if kind == SideEffect.Kind.OTHER and not description.strip():
        errors["description"] = ["Describe it."]
    if errors:
        raise TmsError(next(iter(errors.values()))[0], errors=errors)
    effect = SideEffect.objects.create(
        session=session,
        kind=kind,
        severity=severity,
        description=description.strip()[:300],
        recorded_by=by,
        recorded_at=now_or(now),
        client_key=client_key,
    )
    record(
        AuditEvent.Action.TMS_SIDE_EFFECT,
        actor=by,
        patient=session.patient,
        subject=session,
        kind=kind,
        severity=severity,
    )
    if kind == SideEffect.Kind.MANIC_SWITCH:
        # A possible switch (T9, T11) goes to the prescriber at once through the
        # measures alert routing (medical director when there is none); until it is
        # assessed, further TMS (and infusions) are held like any open safety alert.
        raise_safety_alert(
            session.patient,
            reason=SafetyAlert.Reason.MANIC_SWITCH,
            detail=f"Recorded in TMS session {session.number} of {session.course.protocol_name}.",
            by=by,
        )
        # And its own adverse-event report, for the physician's signed review.
        file_manic_switch_report(
            session,
            severity=severity,
            description=description,
            at=effect.recorded_at,
            by=by,
        )
    return effect


@transaction.atomic
def end_session(
    session: TmsSession,
    *,
    pulses_delivered: int,
    trains_delivered: int | None = None,
    interruption_reason: str = "",
    interruption_detail: str = "",
    note: str = "",
    now: datetime | None = None,
    by: User,
) -> TmsSession:
    """Pulses delivered (never above planned); fewer than planned needs the reason. Signs the note."""
    session = lock_session(session)
    require_open(session, doing="end it again")
    try:
        protocols.check_delivered(
            planned=session.pulses_planned, delivered=pulses_delivered
        )
    except protocols.ProtocolError as exc:
        raise TmsError(exc.message, field=exc.field) from None
    if (
        trains_delivered is not None
        and not 0 <= trains_delivered <= session.trains_planned
    ):
        raise TmsError(
            f"Trains delivered are 0 to {session.trains_planned}.",
            field="trains_delivered",
        )
    short = pulses_delivered < session.pulses_planned
    if short and interruption_reason not in Interruption.Reason.values:
        raise TmsError(
            "Fewer pulses than planned: choose why the session ended early.",
            field="interruption_reason",
        )
    at = now_or(now)
    if short:
        Interruption.objects.create(
            session=session,
            reason=interruption_reason,
            after_pulses=pulses_delivered,
            detail=interruption_detail.strip()[:300],
            recorded_by=by,
            recorded_at=at,
        )
    parameters = reads.parameters_of(session.course)
    session.pulses_delivered = pulses_delivered
    session.trains_delivered = (
        trains_delivered
        if trains_delivered is not None
        else pulses_delivered // parameters.pulses_per_train
    )
    session.status = (
        TmsSession.Status.INTERRUPTED if short else TmsSession.Status.COMPLETED
    )
    session.ended_at = at
    session.note = note.strip()[:4000]
    session.save(
        update_fields=[
            "pulses_delivered",
            "trains_delivered",
            "status",
            "ended_at",
            "note",
        ]
    )
    record(
        AuditEvent.Action.TMS_SESSION_ENDED,
        actor=by,
        patient=session.patient,
        subject=session,
        pulses_delivered=pulses_delivered,
        pulses_planned=session.pulses_planned,
        status=session.status,
    )
    return session


@transaction.atomic
def add_addendum(
    session: TmsSession, *, text: str, now: datetime | None = None, by: User
) -> SessionAddendum:
    """An addendum after the note is signed; the signed note itself is never edited."""
    session = TmsSession.objects.select_for_update().get(pk=session.pk)
    if session.is_open:
        raise TmsError(
            "The session is still open: chart it in the session, and add addenda after it is signed."
        )
    if not text.strip():
        raise TmsError("Write the addendum.", field="text")
    if len(text.strip()) > 4000:
        raise TmsError("An addendum is at most 4000 characters.", field="text")
    addendum = SessionAddendum.objects.create(
        session=session, text=text.strip(), written_by=by, written_at=now_or(now)
    )
    record(
        AuditEvent.Action.TMS_ADDENDUM_ADDED,
        actor=by,
        patient=session.patient,
        subject=session,
    )
    return addendum
