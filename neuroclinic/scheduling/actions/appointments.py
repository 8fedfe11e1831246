"""One appointment's life: book, move, cancel, no-show, confirm, ask to move, check in."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Device, Location, Room
from neuroclinic.infusions.actions import session_flow
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling import availability, rules
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Series,
    WaitlistOffer,
)
from neuroclinic.treatment.actions.orders import active_order
from neuroclinic.treatment.actions.plans import active_plan
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

# How far around a visit the calendar is loaded: the longest visit plus turnover.
CONTEXT = timedelta(hours=12)


# PostgreSQL's exclusion constraint (migration 0002): one holding visit per room at a time.
ROOM_CONSTRAINT = "scheduling_appointment_room_no_overlap"


@contextmanager
def one_visit_per_room() -> Iterator[None]:
    """Writes that hold a room: the database's own refusal becomes the booking rules' answer.

    The location lock (lock_resources) makes this unreachable through the actions; it
    answers for anything that reaches the table another way."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if ROOM_CONSTRAINT in str(exc):
            raise SchedulingError(
                "The room is booked for another visit then.", field="room"
            ) from None
        raise


def refused(refusals: list[rules.Refusal]) -> SchedulingError:
    errors: dict[str, list[str]] = {}
    for refusal in refusals:
        messages = errors.setdefault(refusal.field, [])
        if refusal.message not in messages:
            messages.append(refusal.message)
    first = refusals[0] if refusals else rules.Refusal("refused", "__all__", "Refused.")
    return SchedulingError(first.message, field=first.field, errors=errors)


# What the audit log names as the actor when the patient booked or moved a visit
# themselves (the patient has no staff account; the event's `patient` names them).
PATIENT_ACTORS = {
    Appointment.BookedVia.PATIENT_PORTAL: "(patient, portal)",
    Appointment.BookedVia.WAITLIST_LINK: "(patient, waitlist offer link)",
}


def _actor(by: User | None, via: str) -> tuple[User | None, str]:
    """(actor, actor_username) for the audit event: the staff member, or the patient's
    channel. A staff booking must name its staff member, a patient's must name none."""
    if via == Appointment.BookedVia.STAFF:
        if by is None:
            raise ValueError("A staff booking names the staff member who made it.")
        return by, ""
    if by is not None or via not in PATIENT_ACTORS:
        raise ValueError("A patient's own booking names no staff member.")
    return None, PATIENT_ACTORS[Appointment.BookedVia(via)]


def history(
    appointment: Appointment,
    status: str,
    *,
    at: datetime,
    by: User | None,
    reason: str = "",
    **data: str,
) -> AppointmentStatusChange:
    return AppointmentStatusChange.objects.create(
        appointment=appointment, status=status, at=at, by=by, reason=reason, data=data
    )


def lock_resources(
    *,
    patient: Patient,
    room: Room | None,
    staff: User | None,
    devices: tuple[Device, ...],
    location: Location,
) -> None:
    """Lock what a booking will hold, always in one order, so concurrent bookings queue.

    The location first, then the patient: two bookings at one location queue on the
    location, and two bookings of one patient at two locations queue on the patient, so
    the second sees the first's visit in its interval and rhythm checks. A booking
    transaction holds one patient (a batch books each series in its own transaction), so
    this order cannot deadlock against another booking."""
    Location.objects.select_for_update().filter(pk=location.pk).first()
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    if room is not None:
        list(Room.objects.select_for_update().filter(pk=room.pk))
    if staff is not None:
        list(User.objects.select_for_update().filter(pk=staff.pk))
    if devices:
        list(
            Device.objects.select_for_update()
            .filter(pk__in=[d.pk for d in devices])
            .order_by("pk")
        )


def require_treatment(
    patient: Patient, appointment_type: AppointmentType
) -> TreatmentPlan | None:
    """An infusion needs an active plan with a signed order of its kind (eligibility and
    consent come before a prescriber can sign one)."""
    if not appointment_type.is_infusion:
        return active_plan(patient)
    plan = active_plan(patient)
    if plan is None:
        raise SchedulingError(
            "The patient has no active treatment plan: a prescriber must create one first.",
            field="patient",
        )
    kind = (
        InfusionOrder.Kind.INDUCTION
        if appointment_type.code == AppointmentType.Code.INFUSION
        else InfusionOrder.Kind.BOOSTER
    )
    if active_order(plan, kind) is None:
        raise SchedulingError(
            f"The patient has no signed {kind.label.lower()} order: a prescriber must sign one first.",
            field="patient",
        )
    return plan


# The longest written reason for booking a booster outside its interval (as check-in's).
OVERRIDE_REASON_MAX = 500


def booster_interval(
    patient: Patient,
    *,
    appointment_type: AppointmentType,
    location: Location,
    starts_at: datetime,
    now: datetime,
    override_reason: str,
    by: User | None,
    ref: str = "",
) -> tuple[list[str], str]:
    """A booster falls inside the booster protocol's interval after the last infusion
    (given or booked) and keeps the next booked booster its interval, or it is refused
    naming the dates allowed. A prescriber (write_orders) may book it outside with a
    written reason, as a nurse may check in over the protocol's rhythm: the answer is then
    the rules overridden and the reason, for the history and the audit event."""
    if appointment_type.code != AppointmentType.Code.BOOSTER:
        return [], ""
    reason = override_reason.strip()
    if len(reason) > OVERRIDE_REASON_MAX:
        raise SchedulingError(
            f"The reason is too long ({OVERRIDE_REASON_MAX} characters at most).",
            field="interval_override_reason",
        )
    refusals = availability.booster_refusals_for(
        patient.pk, location=location, starts_at=starts_at, now=now, ref=ref
    )
    if not refusals:
        return [], ""
    if not reason:
        raise refused(refusals)
    if by is None or not by.can(Capability.WRITE_ORDERS):
        raise SchedulingError(
            " ".join(r.message for r in refusals)
            + " Only a prescriber may book a booster outside the protocol's interval, "
            "with a written reason.",
            field="interval_override_reason",
        )
    return [r.message for r in refusals], reason


def place(
    patient: Patient,
    *,
    appointment_type: AppointmentType,
    location: Location,
    starts_at: datetime,
    room: Room | None,
    staff: User | None,
    devices: tuple[Device, ...] | None,
    now: datetime,
    ref: str = "",
) -> availability.Choice:
    """Find (or check) the room, staff member and devices for a visit; raise with every reason."""
    if starts_at < now:
        raise SchedulingError("That time has already passed.", field="starts_at")
    if room is not None and (room.location_id != location.pk or not room.is_active):
        raise SchedulingError("Choose a room at this location.", field="room")
    if (
        room is not None
        and appointment_type.room_kind
        and room.kind != appointment_type.room_kind
    ):
        raise SchedulingError(
            f"This visit needs a {Room.Kind(appointment_type.room_kind).label.lower()}.",
            field="room",
        )
    if staff is not None and (
        staff.organization_id != location.organization_id
        or appointment_type.staff_role not in {r.value for r in staff.roles}
    ):
        raise SchedulingError(
            "Choose a staff member with the role this visit needs.", field="staff"
        )
    lock_resources(
        patient=patient,
        room=room,
        staff=staff,
        devices=devices or (),
        location=location,
    )
    calendar = availability.calendar_for(
        location, starts_at - CONTEXT, starts_at + CONTEXT, patient_id=patient.pk
    )
    found = availability.choose_resources(
        appointment_type,
        patient_id=patient.pk,
        starts_at=starts_at,
        calendar=calendar,
        resources=availability.resources_at(location),
        room=room,
        staff=staff,
        devices=devices,
        ref=ref,
        now=now,
    )
    if not isinstance(found, availability.Choice):
        raise refused(found)
    return found


@transaction.atomic
def book_appointment(
    patient: Patient,
    *,
    appointment_type: AppointmentType,
    location: Location,
    starts_at: datetime,
    room: Room | None = None,
    staff: User | None = None,
    devices: tuple[Device, ...] | None = None,
    series: Series | None = None,
    now: datetime | None = None,
    booked_via: str = Appointment.BookedVia.STAFF,
    audit_data: dict[str, str] | None = None,
    interval_override_reason: str = "",
    by: User | None,
) -> Appointment:
    """Book one visit. Without a room, staff member or devices, the first free ones are taken.

    A booster must fall inside the booster protocol's interval (`booster_interval`);
    `interval_override_reason` is a prescriber's written reason to book it outside.

    Staff book with `by`; a patient booking for themselves (a booster picked in the
    portal, a waitlist offer accepted from its link) books with by=None and `booked_via`
    saying where, so the visit and its audit event name the patient, not a staff member."""
    now = now or timezone.now()
    actor, actor_username = _actor(by, booked_via)
    if patient.organization_id != location.organization_id or (
        appointment_type.organization_id != location.organization_id
    ):
        raise SchedulingError(
            "Choose a location of the patient's clinic.", field="location"
        )
    if not appointment_type.is_active:
        raise SchedulingError(
            "That appointment type is no longer offered.", field="appointment_type"
        )
    plan = require_treatment(patient, appointment_type)
    if starts_at < now:
        raise SchedulingError("That time has already passed.", field="starts_at")
    # The clinical rule first: its refusal names the dates allowed.
    overridden, override_reason = booster_interval(
        patient,
        appointment_type=appointment_type,
        location=location,
        starts_at=starts_at,
        now=now,
        override_reason=interval_override_reason,
        by=by,
    )
    choice = place(
        patient,
        appointment_type=appointment_type,
        location=location,
        starts_at=starts_at,
        room=room,
        staff=staff,
        devices=devices,
        now=now,
    )
    with one_visit_per_room():
        appointment = Appointment.objects.create(
            organization_id=location.organization_id,
            location=location,
            patient=patient,
            appointment_type=appointment_type,
            starts_at=starts_at,
            ends_at=choice.booking.visit.end,
            held_until=choice.booking.held.end,
            room=choice.room,
            staff=choice.staff,
            series=series,
            plan=plan,
            booked_by=by,
            booked_via=booked_via,
        )
    appointment.devices.set(choice.devices)
    extra: dict[str, Any] = dict(audit_data or {})
    if overridden:
        history(
            appointment,
            Appointment.Status.BOOKED,
            at=now,
            by=by,
            reason=override_reason[:300],
            interval_overridden=" ".join(overridden),
            interval_override_reason=override_reason,
        )
        extra |= {
            "interval_overridden": overridden,
            "interval_override_reason": override_reason,
        }
    else:
        history(appointment, Appointment.Status.BOOKED, at=now, by=by)
    if booked_via != Appointment.BookedVia.STAFF:
        extra["booked_via"] = booked_via
    record(
        AuditEvent.Action.APPOINTMENT_BOOKED,
        actor=actor,
        actor_username=actor_username,
        patient=patient,
        subject=appointment,
        type=appointment_type.code,
        starts_at=starts_at.isoformat(),
        room=choice.room.name if choice.room else "",
        **extra,
    )
    return appointment


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("appointment_type", "location", "patient", "room", "staff")
        .get(pk=appointment.pk)
    )


def _require_holding(appointment: Appointment, doing: str) -> None:
    if (
        not appointment.is_holding
        or appointment.status == Appointment.Status.CHECKED_IN
    ):
        raise SchedulingError(
            f"A {appointment.get_status_display().lower()} appointment cannot be {doing}.",
            field="status",
        )


@transaction.atomic
def move_appointment(
    appointment: Appointment,
    *,
    starts_at: datetime,
    room: Room | None = None,
    staff: User | None = None,
    reason: str = "",
    now: datetime | None = None,
    moved_via: str = Appointment.BookedVia.STAFF,
    audit_data: dict[str, str] | None = None,
    interval_override_reason: str = "",
    by: User | None,
) -> Appointment:
    """Move a visit; the resources are found again unless given. A booster keeps to the
    booster protocol's interval as when booked (`booster_interval`). A series visit must keep
    the series valid (rules.check_series), else nothing moves and the answer says what breaks.
    The time it leaves is offered to the waitlist. by=None with `moved_via`: the patient
    moved it themselves (a waitlist offer accepted from its link)."""
    now = now or timezone.now()
    actor, actor_username = _actor(by, moved_via)
    appointment = _lock(appointment)
    _require_holding(appointment, "moved")
    if starts_at < now:
        raise SchedulingError("That time has already passed.", field="starts_at")
    overridden, override_reason = booster_interval(
        appointment.patient,
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        starts_at=starts_at,
        now=now,
        override_reason=interval_override_reason,
        by=by,
        ref=str(appointment.uuid),
    )
    choice = place(
        appointment.patient,
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        starts_at=starts_at,
        room=room,
        staff=staff,
        devices=None,
        now=now,
        ref=str(appointment.uuid),
    )
    if appointment.series_id is not None and appointment.plan is not None:
        tz = ZoneInfo(appointment.location.time_zone)
        siblings = [
            a.starts_at.astimezone(tz).date()
            for a in Appointment.objects.filter(
                series_id=appointment.series_id, status__in=Appointment.HOLDING
            ).exclude(pk=appointment.pk)
        ]
        breaks = rules.check_series(
            [*siblings, starts_at.astimezone(tz).date()],
            availability.spacing_of(appointment.plan),
        )
        if breaks:
            raise refused(
                [rules.Refusal(r.code, "starts_at", r.message) for r in breaks]
            )
    old = appointment.starts_at
    old_end, old_staff = appointment.ends_at, appointment.staff
    appointment.starts_at = starts_at
    appointment.ends_at = choice.booking.visit.end
    appointment.held_until = choice.booking.held.end
    appointment.room = choice.room
    appointment.staff = choice.staff
    appointment.status = Appointment.Status.MOVED
    with one_visit_per_room():
        appointment.save(
            update_fields=[
                "starts_at",
                "ends_at",
                "held_until",
                "room",
                "staff",
                "status",
            ]
        )
    appointment.devices.set(choice.devices)
    interval: dict[str, str] = (
        {
            "interval_overridden": " ".join(overridden),
            "interval_override_reason": override_reason,
        }
        if overridden
        else {}
    )
    history(
        appointment,
        Appointment.Status.MOVED,
        at=now,
        by=by,
        reason=reason,
        **interval,
        old_starts_at=old.isoformat(),
        new_starts_at=starts_at.isoformat(),
        # What the move changed besides the start, so the visit's earlier
        # versions can be told (the FHIR Appointment history).
        old_ends_at=old_end.isoformat(),
        old_staff=str(old_staff.uuid) if old_staff is not None else "",
    )
    extra: dict[str, Any] = dict(audit_data or {})
    if overridden:
        extra |= {
            "interval_overridden": overridden,
            "interval_override_reason": override_reason,
        }
    if moved_via != Appointment.BookedVia.STAFF:
        extra["moved_via"] = moved_via
    record(
        AuditEvent.Action.APPOINTMENT_MOVED,
        actor=actor,
        actor_username=actor_username,
        patient=appointment.patient,
        subject=appointment,
        old_starts_at=old.isoformat(),
        new_starts_at=starts_at.isoformat(),
        **extra,
    )
    # The time it left goes to the waitlist (imported here: the waitlist books through this module).
    from neuroclinic.scheduling.actions import waitlist

    waitlist.offer_freed_time(
        appointment, now=now, starts_at=old, because=WaitlistOffer.Freed.MOVED
    )
    return appointment


def _set_status(
    appointment: Appointment,
    status: Appointment.Status,
    action: AuditEvent.Action,
    *,
    now: datetime,
    by: User | None,
    reason: str = "",
) -> Appointment:
    appointment.status = status
    appointment.save(update_fields=["status"])
    history(appointment, status, at=now, by=by, reason=reason)
    record(
        action,
        actor=by,
        patient=appointment.patient,
        subject=appointment,
        reason=reason,
    )
    return appointment


def cancellation_status(appointment: Appointment, now: datetime) -> Appointment.Status:
    """Cancelled, or a late cancel when inside the clinic's notice period (a clinic setting,
    SchedulingSettings.late_cancel_hours; 0 turns it off) [D]."""
    hours = availability.settings_for(appointment.organization_id).late_cancel_hours
    if hours and appointment.starts_at - now < timedelta(hours=hours):
        return Appointment.Status.LATE_CANCEL
    return Appointment.Status.CANCELLED


@transaction.atomic
def cancel_appointment(
    appointment: Appointment,
    *,
    reason: str,
    now: datetime | None = None,
    by: User | None,
) -> Appointment:
    """Cancel with a reason (by=None: the patient, from the portal); frees the resources.
    Inside the clinic's notice period it is recorded as a late cancel."""
    now = now or timezone.now()
    if not reason.strip():
        raise SchedulingError("Say why the visit is cancelled.", field="reason")
    appointment = _lock(appointment)
    _require_holding(appointment, "cancelled")
    cancelled = _set_status(
        appointment,
        cancellation_status(appointment, now),
        AuditEvent.Action.APPOINTMENT_CANCELLED,
        now=now,
        by=by,
        reason=reason.strip()[:300],
    )
    # The freed time goes to the waitlist (imported here: the waitlist books through this module).
    from neuroclinic.scheduling.actions import waitlist

    waitlist.offer_freed_time(cancelled, now=now)
    return cancelled


@transaction.atomic
def mark_no_show(
    appointment: Appointment, *, now: datetime | None = None, by: User
) -> Appointment:
    """The patient did not come: recorded once the visit has begun; frees the resources."""
    now = now or timezone.now()
    appointment = _lock(appointment)
    _require_holding(appointment, "marked a no-show")
    if now < appointment.starts_at:
        raise SchedulingError(
            "A visit that has not begun cannot be a no-show.", field="status"
        )
    marked = _set_status(
        appointment,
        Appointment.Status.NO_SHOW,
        AuditEvent.Action.APPOINTMENT_NO_SHOW,
        now=now,
        by=by,
    )
    # What is left of the visit's time goes to the waitlist, when enough of it is left.
    from neuroclinic.scheduling.actions import waitlist

    waitlist.offer_rest_of_no_show(marked, now=now)
    return marked


@transaction.atomic
def confirm_appointment(
    appointment: Appointment, *, now: datetime | None = None, by: User | None
) -> Appointment:
    """The patient confirms (by=None from the portal, or staff on the phone)."""
    now = now or timezone.now()
    appointment = _lock(appointment)
    _require_holding(appointment, "confirmed")
    if appointment.starts_at < now:
        raise SchedulingError("That visit has already begun.", field="status")
    return _set_status(
        appointment,
        Appointment.Status.CONFIRMED,
        AuditEvent.Action.APPOINTMENT_CONFIRMED,
        now=now,
        by=by,
    )


@transaction.atomic
def request_move(
    appointment: Appointment,
    *,
    note: str = "",
    now: datetime | None = None,
    by: User | None,
) -> Appointment:
    """The patient asks to move a visit: the front desk sees it and moves it (it keeps its slot meanwhile)."""
    now = now or timezone.now()
    appointment = _lock(appointment)
    _require_holding(appointment, "moved")
    if appointment.starts_at < now:
        raise SchedulingError("That visit has already begun.", field="status")
    return _set_status(
        appointment,
        Appointment.Status.MOVE_REQUESTED,
        AuditEvent.Action.APPOINTMENT_MOVE_REQUESTED,
        now=now,
        by=by,
        reason=note.strip()[:300],
    )


@transaction.atomic
def check_in(
    appointment: Appointment,
    *,
    spacing_override_reason: str = "",
    now: datetime | None = None,
    by: User,
) -> Appointment:
    """The patient has arrived. An infusion opens its infusion session (infusions' own check-in,
    with the appointment's room and nurse); its refusals come back as this app's, and
    `spacing_override_reason` is the clinician's reason for checking in over the protocol's
    rhythm (issue #14 item 9), as on the chart."""
    now = now or timezone.now()
    appointment = _lock(appointment)
    _require_holding(appointment, "checked in")
    tz = ZoneInfo(appointment.location.time_zone)
    if appointment.starts_at.astimezone(tz).date() != now.astimezone(tz).date():
        raise SchedulingError("Only today's visits can be checked in.", field="status")
    if appointment.appointment_type.is_infusion:
        if appointment.room is None:
            raise SchedulingError("The infusion has no room.", field="room")
        if appointment.staff is None:
            # Never the person checking in (the front desk) by default: a nurse watches it.
            raise SchedulingError(
                "The infusion has no nurse: move it to give it one.", field="staff"
            )
        try:
            session = session_flow.check_in(
                appointment.patient,
                room=appointment.room,
                nurse=appointment.staff,
                now=now,
                spacing_override_reason=spacing_override_reason,
                by=by,
            )
        except InfusionError as exc:
            field = (
                "spacing_override_reason"
                if exc.field == "spacing_override_reason"
                else "status"
            )
            raise SchedulingError(exc.message, field=field) from None
        appointment.infusion_session = session
        appointment.save(update_fields=["infusion_session"])
    return _set_status(
        appointment,
        Appointment.Status.CHECKED_IN,
        AuditEvent.Action.APPOINTMENT_CHECKED_IN,
        now=now,
        by=by,
    )
