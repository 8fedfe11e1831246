"""A patient's visits: confirm one, or ask the clinic to move it.

Reached two ways: the signed link in a reminder (`/v/<token>/`, valid until 30
days after it was sent; it names one visit and carries no personal data), and
the signed-in portal's list of upcoming visits. Writes go through the
scheduling app's actions with by=None (the patient acted); reads are audited.
"""

from datetime import timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import HtmxHttpRequest
from neuroclinic.patients.models import Patient
from neuroclinic.portal.session import frame, portal_required
from neuroclinic.scheduling import messages
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment

CHANGEABLE = (
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.MOVED,
    Appointment.Status.MOVE_REQUESTED,
)


def _act(request: HttpRequest, appointment: Appointment) -> str:
    """Apply the patient's choice; the message to show."""
    choice = request.POST.get("choice", "")
    try:
        if choice == "confirm":
            appointments.confirm_appointment(appointment, by=None)
            return "Thank you: your visit is confirmed."
        if choice == "move":
            appointments.request_move(
                appointment, note=request.POST.get("note", "")[:300], by=None
            )
            return "Thank you: we will call you to find another time."
    except SchedulingError as exc:
        return exc.message
    return "Choose confirm or ask to move."


def _visit(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment": appointment,
        "when": messages.local_time(appointment),
        "instructions": messages.instructions(appointment),
        "changeable": appointment.status in CHANGEABLE
        and appointment.starts_at > timezone.now(),
    }


def _audit(patient: Patient, rows: list[Appointment], via: str) -> None:
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=None,
        patient=patient,
        visits=[str(a.uuid) for a in rows],
        via=via,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def by_link(request: HttpRequest, token: str) -> HttpResponse:
    found = messages.appointment_uuid_from(token)
    appointment = (
        Appointment.objects.select_related(
            "organization",
            "location",
            "patient",
            "appointment_type",
            "plan__induction_protocol",
        )
        .filter(uuid=found)
        .first()
        if found
        else None
    )
    if appointment is None:
        return render(
            request,
            "portal/link_refused.html",
            {
                "message": "This link has expired or is not valid. Please call the clinic."
            },
            status=404,
        )
    notice = ""
    if request.method == "POST":
        notice = _act(request, appointment)
        appointment.refresh_from_db()
    else:
        _audit(appointment.patient, [appointment], "link")
    return render(
        request,
        "portal/visit.html",
        {
            "organization": appointment.organization,
            "notice": notice,
            **_visit(appointment),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def visits(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    if state.get("witness"):
        raise Http404("Not here.")
    upcoming = list(
        Appointment.objects.filter(
            patient=patient, starts_at__gte=timezone.now() - timedelta(hours=1)
        )
        .select_related(
            "organization",
            "location",
            "patient",
            "appointment_type",
            "plan__induction_protocol",
        )
        .order_by("starts_at", "id")[:20]
    )
    if request.method == "POST":
        chosen = next(
            (a for a in upcoming if str(a.uuid) == request.POST.get("visit")), None
        )
        if chosen is None:
            raise Http404("No such visit.")
        request.session["visit_notice"] = _act(request, chosen)
        return redirect("portal:visits")
    _audit(patient, upcoming, "portal")
    return render(
        request,
        "portal/visits.html",
        frame(patient, state)
        | {
            "visits": [_visit(a) for a in upcoming],
            "notice": request.session.pop("visit_notice", ""),
        },
    )
