"""The calendar pages: a location's day with rooms as columns, its week, and the
check-in and cancel buttons. Views stay thin: access, form, action, render."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Room
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.scheduling.access import (
    check_in_capabilities,
    get_appointment_for_user,
    require,
)
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.forms import CancelForm, CheckInForm
from neuroclinic.scheduling.models import Appointment, AppointmentType


def _locations(request: AuthenticatedHttpRequest) -> list[Location]:
    return list(
        Location.objects.filter(
            organization_id=request.user.organization_id or 0, is_active=True
        ).order_by("name", "id")
    )


def _chosen(
    request: AuthenticatedHttpRequest, locations: list[Location]
) -> Location | None:
    wanted = request.GET.get("location", "")
    for location in locations:
        if str(location.uuid) == wanted:
            return location
    return locations[0] if locations else None


def _day(request: AuthenticatedHttpRequest, location: Location) -> date:
    today = timezone.now().astimezone(ZoneInfo(location.time_zone)).date()
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return today


def _rows(location: Location, start: datetime, end: datetime) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            location=location, starts_at__gte=start, starts_at__lt=end
        )
        .select_related(
            "appointment_type",
            "patient",
            "room",
            "staff",
            "infusion_session",
            "tms_course",
        )
        .order_by("starts_at", "id")
    )


def _audit(
    request: AuthenticatedHttpRequest,
    location: Location,
    rows: list[Appointment],
    **data: Any,
) -> None:
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=request.user,
        organization=location.organization,
        location=str(location.uuid),
        patients=sorted({str(a.patient.uuid) for a in rows}),
        **data,
    )


@require_GET
@require_capability(Capability.VIEW_SCHEDULE)
def day(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One day at a location: a column per room (and one for visits without a room)."""
    locations = _locations(request)
    location = _chosen(request, locations)
    context: dict[str, Any] = {"locations": locations, "location": location}
    if location is not None:
        tz = ZoneInfo(location.time_zone)
        on = _day(request, location)
        start = datetime.combine(on, time(0), tzinfo=tz)
        rows = _rows(location, start, start + timedelta(days=1))
        rooms = list(
            Room.objects.filter(location=location, is_active=True).order_by(
                "kind", "name", "id"
            )
        )
        type_filter = request.GET.get("type", "")
        if type_filter:
            rows = [a for a in rows if a.appointment_type.code == type_filter]
        columns = [
            {"room": room, "visits": [a for a in rows if a.room_id == room.pk]}
            for room in rooms
        ]
        roomless = [a for a in rows if a.room_id is None]
        if roomless:
            columns.append({"room": None, "visits": roomless})
        today = timezone.now().astimezone(tz).date()
        context |= {
            "on": on,
            "today": today,
            "previous": on - timedelta(days=1),
            "next": on + timedelta(days=1),
            "columns": columns,
            "count": len(rows),
            "type_filter": type_filter,
            "type_choices": AppointmentType.Code.choices,
            "can_book": request.user.can(Capability.BOOK_APPOINTMENTS),
            "can_override_rhythm": request.user.can(Capability.RUN_INFUSIONS),
            "can_run_tms": request.user.can(Capability.RUN_TMS),
            "can_check_in": {
                a.pk
                for a in rows
                if on == today
                and a.is_holding
                and a.status != Appointment.Status.CHECKED_IN
                and all(request.user.can(c) for c in check_in_capabilities(a))
            },
        }
        _audit(request, location, rows, day=on.isoformat())
    return render(request, "scheduling/day.html", context)


@require_GET
@require_capability(Capability.VIEW_SCHEDULE)
def week(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Seven days from Monday at a location, a column per day."""
    locations = _locations(request)
    location = _chosen(request, locations)
    context: dict[str, Any] = {"locations": locations, "location": location}
    if location is not None:
        tz = ZoneInfo(location.time_zone)
        on = _day(request, location)
        monday = on - timedelta(days=on.weekday())
        start = datetime.combine(monday, time(0), tzinfo=tz)
        rows = _rows(location, start, start + timedelta(days=7))
        days = [monday + timedelta(days=n) for n in range(7)]
        context |= {
            "on": on,
            "monday": monday,
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "days": [
                {
                    "day": d,
                    "visits": [
                        a for a in rows if a.starts_at.astimezone(tz).date() == d
                    ],
                }
                for d in days
            ],
        }
        _audit(request, location, rows, week=monday.isoformat())
    return render(request, "scheduling/week.html", context)


def _back(appointment: Appointment) -> HttpResponse:
    tz = ZoneInfo(appointment.location.time_zone)
    on = appointment.starts_at.astimezone(tz).date()
    response = redirect("scheduling:day")
    response["Location"] += (
        f"?location={appointment.location.uuid}&date={on.isoformat()}"
    )
    return response


@require_POST
@require_capability(Capability.CHECK_IN_PATIENTS)
def check_in(
    request: AuthenticatedHttpRequest, appointment_uuid: uuid.UUID
) -> HttpResponse:
    appointment = get_appointment_for_user(
        request.user, appointment_uuid, capability=Capability.CHECK_IN_PATIENTS
    )
    require(request.user, *check_in_capabilities(appointment))
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (500 characters at most).")
        return _back(appointment)
    try:
        done = appointments.check_in(
            appointment,
            spacing_override_reason=form.cleaned_data["spacing_override_reason"],
            by=request.user,
        )
    except SchedulingError as exc:
        messages.error(request, exc.message)
        return _back(appointment)
    if done.infusion_session is not None:
        if request.user.can(Capability.RUN_INFUSIONS):
            messages.success(request, "Checked in: the infusion is open.")
            return redirect(
                "infusions:session", session_uuid=done.infusion_session.uuid
            )
        messages.success(request, "Checked in: the infusion is ready for the nurse.")
        return _back(appointment)
    messages.success(request, "Checked in.")
    return _back(appointment)


@require_POST
@require_capability(Capability.BOOK_APPOINTMENTS)
def cancel(
    request: AuthenticatedHttpRequest, appointment_uuid: uuid.UUID
) -> HttpResponse:
    appointment = get_appointment_for_user(
        request.user, appointment_uuid, capability=Capability.BOOK_APPOINTMENTS
    )
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the visit is cancelled.")
        return _back(appointment)
    try:
        appointments.cancel_appointment(
            appointment, reason=form.cleaned_data["reason"], by=request.user
        )
    except SchedulingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "Cancelled: the room, staff member and devices are free again."
        )
    return _back(appointment)


@require_GET
@require_capability(Capability.VIEW_SCHEDULE)
def day_sheet(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The day at a location as one printable list, in time order: the sheet on the desk."""
    locations = _locations(request)
    location = _chosen(request, locations)
    context: dict[str, Any] = {"location": location}
    if location is not None:
        tz = ZoneInfo(location.time_zone)
        on = _day(request, location)
        start = datetime.combine(on, time(0), tzinfo=tz)
        rows = _rows(location, start, start + timedelta(days=1))
        context |= {
            "on": on,
            "visits": [a for a in rows if a.is_holding],
            "released": [a for a in rows if not a.is_holding],
        }
        _audit(request, location, rows, day=on.isoformat(), sheet=True)
    return render(request, "scheduling/day_sheet.html", context)
