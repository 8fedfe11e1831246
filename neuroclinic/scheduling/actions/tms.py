"""A TMS course booked through the calendar: each planned session a TMS visit.

The course's sessions, by day and slot, come from tms.reads.sessions_to_book (the
seam; this app reads it and writes nothing in tms). Each session is booked as a
"TMS session" appointment against a free TMS room, TMS unit and technician, at the
patient's preferred time or the first free time after it; on an accelerated day a
later session starts no earlier than its offset from the day's first (the protocol's
interval). All or nothing: when one session finds nothing, no session is booked and
the answer names it.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.scheduling import availability, rules
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.tms import reads as tms_reads
from neuroclinic.tms.models import TmsCourse


def _tms_type(course: TmsCourse) -> AppointmentType:
    found = AppointmentType.objects.filter(
        organization_id=course.organization_id,
        code=AppointmentType.Code.TMS_SESSION,
        is_active=True,
    ).first()
    if found is None:
        raise SchedulingError(
            "The clinic has no TMS session appointment type yet.",
            field="appointment_type",
        )
    return found


def _first_free(
    course: TmsCourse,
    itype: AppointmentType,
    *,
    day: date,
    not_before: datetime | None,
    preferred: time | None,
    now: datetime,
) -> datetime | list[rules.Refusal]:
    """The first start on `day` (from the preferred time, then from opening) that finds a
    free room, unit and technician; or the refusals of the last time tried."""
    location = course.location
    tz = ZoneInfo(location.time_zone)
    resources = availability.resources_at(location)
    spans = availability.opening_intervals(location, [day], resources.hours)
    if not spans:
        return [
            rules.Refusal("location_closed", "starts_at", "The location is closed.")
        ]
    calendar = availability.calendar_for(
        location,
        spans[0].start - timedelta(hours=1),
        spans[-1].end + timedelta(hours=1),
        patient_id=course.patient_id,
    )
    step = timedelta(
        minutes=availability.settings_for(course.organization_id).slot_minutes or 30
    )
    duration = timedelta(minutes=itype.duration_minutes)
    candidates: list[datetime] = []
    for span in spans:
        at = span.start
        while at + duration <= span.end:
            candidates.append(at)
            at += step
    if not_before is not None:
        candidates = [c for c in candidates if c >= not_before]
    if preferred is not None:
        wanted = datetime.combine(day, preferred, tzinfo=tz)
        # The preferred time and after first, then the earlier times of the day.
        candidates = [c for c in candidates if c >= wanted] + [
            c for c in candidates if c < wanted
        ]
    last: list[rules.Refusal] = [
        rules.Refusal("outside_hours", "starts_at", "No time is left that day.")
    ]
    for at in candidates:
        found = availability.choose_resources(
            itype,
            patient_id=course.patient_id,
            starts_at=at,
            calendar=calendar,
            resources=resources,
            now=now,
        )
        if isinstance(found, availability.Choice):
            return at
        last = found or last
    return last


@transaction.atomic
def book_tms_course(
    course: TmsCourse,
    *,
    preferred_time: time | None = None,
    now: datetime | None = None,
    by: User,
) -> list[Appointment]:
    """Book every planned session of a TMS course as a TMS visit (all or nothing)."""
    now = now or timezone.now()
    itype = _tms_type(course)
    if Appointment.objects.filter(
        tms_course=course, status__in=Appointment.HOLDING
    ).exists():
        raise SchedulingError(
            "This course already has sessions booked: move or cancel those instead.",
            field="course",
        )
    tz = ZoneInfo(course.location.time_zone)
    booked: list[Appointment] = []
    first_of_day: dict[date, datetime] = {}
    for planned in tms_reads.sessions_to_book(course):
        not_before = None
        if planned.on in first_of_day:
            not_before = first_of_day[planned.on] + timedelta(
                minutes=planned.earliest_offset_minutes
            )
        found = _first_free(
            course,
            itype,
            day=planned.on,
            not_before=not_before,
            preferred=preferred_time if planned.on not in first_of_day else None,
            now=now,
        )
        label = f"Session {planned.number} ({planned.on:%a %d %b})"
        if not isinstance(found, datetime):
            raise SchedulingError(
                f"{label}: {found[0].message if found else 'nothing is free.'}",
                field="course",
            )
        try:
            appointment = appointments.book_appointment(
                course.patient,
                appointment_type=itype,
                location=course.location,
                starts_at=found,
                now=now,
                by=by,
            )
        except SchedulingError as exc:
            raise SchedulingError(f"{label}: {exc.message}", field="course") from None
        appointment.tms_course = course
        appointment.save(update_fields=["tms_course"])
        booked.append(appointment)
        first_of_day.setdefault(planned.on, found)
    record(
        AuditEvent.Action.SERIES_BOOKED,
        actor=by,
        patient=course.patient,
        subject=course,
        visits=len(booked),
        kind="tms_course",
        first=booked[0].starts_at.astimezone(tz).isoformat() if booked else "",
    )
    return booked
