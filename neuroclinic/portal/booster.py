"""The patient picks a booster time (issue 9 item 6), once a prescriber has ordered one.

A confirmed booster (outcomes: the prescriber confirmed the suggestion and signed the
booster order) that has no visit yet is offered here with the free times the rules
allow: inside the booster protocol's interval after the last infusion, given or booked
(the calendar's own rule, which the booking checks again; from tomorrow at the earliest), at the location of the patient's last infusion (`_location`). The pick is booked through
outcomes' `book_confirmed_booster` (the calendar's own booking rules), recorded as booked
by the patient in the portal (`booked_by` empty, `booked_via=patient_portal`; the audit
event's actor is "(patient, portal)" with the patient named). Reads are audited as calendar
reads.
"""

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.http import HtmxHttpRequest
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.outcomes.actions.boosters import book_confirmed_booster
from neuroclinic.outcomes.actions.common import OutcomesError
from neuroclinic.outcomes.models import BoosterSuggestion
from neuroclinic.patients.models import Patient
from neuroclinic.portal.session import frame, portal_required
from neuroclinic.scheduling import rules
from neuroclinic.scheduling.actions.slots import free_starts
from neuroclinic.scheduling.availability import booster_window_for
from neuroclinic.scheduling.models import Appointment, AppointmentType


def _location(patient: Patient) -> Location | None:
    """Where the patient was last given an infusion (a session charted without a calendar
    visit counts: history from before the calendar, a walk-in), else where their last
    infusion visit was booked, else the clinic's first active location."""
    session = (
        InfusionSession.objects.filter(patient=patient)
        .select_related("location")
        .order_by("-checked_in_at", "-id")
        .first()
    )
    if session is not None:
        return session.location
    last = (
        Appointment.objects.filter(
            patient=patient, appointment_type__code__in=AppointmentType.INFUSION_CODES
        )
        .select_related("location")
        .order_by("-starts_at")
        .first()
    )
    if last is not None:
        return last.location
    return (
        Location.objects.filter(organization_id=patient.organization_id, is_active=True)
        .order_by("name", "id")
        .first()
    )


def window(
    suggestion: BoosterSuggestion,
    today: date,
    interval: rules.BoosterWindow | None = None,
) -> tuple[date, date]:
    """The days the booster protocol allows after the last infusion, from tomorrow, at most
    three weeks of them: the calendar's own booster rule (`rules.booster_window_on`; when
    the interval has passed, the next seven days). `interval` is that rule as the calendar
    reads it (infusions given and booked); without it, from the suggestion's last
    infusion and the plan's booster protocol."""
    tomorrow = today + timedelta(days=1)
    if interval is None:
        protocol = suggestion.plan.booster_protocol
        if protocol is None:
            return tomorrow, tomorrow + timedelta(days=6)
        interval = rules.booster_window_on(
            suggestion.last_infusion_on,
            today=today,
            min_days=protocol.booster_interval_days_min,
            max_days=max(
                protocol.booster_interval_days_max,
                protocol.booster_interval_days_min,
            ),
        )
    first = max(tomorrow, interval.earliest)
    return first, min(interval.latest, first + timedelta(days=20))


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def pick_booster(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, Any]
) -> HttpResponse:
    if state.get("witness"):
        raise Http404("Not here.")
    suggestion = (
        BoosterSuggestion.objects.filter(
            patient=patient, status=BoosterSuggestion.Status.CONFIRMED, appointment=None
        )
        .select_related("plan__booster_protocol", "decided_by")
        .order_by("due_on", "id")
        .first()
    )
    context: dict[str, Any] = frame(patient, state) | {"suggestion": suggestion}
    location = _location(patient)
    booster_type = AppointmentType.objects.filter(
        organization_id=patient.organization_id,
        code=AppointmentType.Code.BOOSTER,
        is_active=True,
    ).first()
    if suggestion is None or location is None or booster_type is None:
        return render(request, "portal/booster_pick.html", context)
    now = timezone.now()
    zone = ZoneInfo(location.time_zone)
    first, last = window(
        suggestion,
        now.astimezone(zone).date(),
        booster_window_for(patient.pk, location=location, now=now),
    )
    slots = free_starts(
        booster_type,
        location=location,
        patient_id=patient.pk,
        first=first,
        last=last,
        now=now,
    )
    error = ""
    if request.method == "POST":
        chosen = next(
            (s for s in slots if s.isoformat() == request.POST.get("slot", "")), None
        )
        if chosen is None:
            error = "That time is no longer free: choose another."
        else:
            try:
                book_confirmed_booster(
                    suggestion,
                    location=location,
                    starts_at=chosen,
                    booked_via=Appointment.BookedVia.PATIENT_PORTAL,
                    by=None,
                )
            except OutcomesError as exc:
                error = f"That time could not be booked: {exc}"
            else:
                when = chosen.astimezone(zone)
                request.session["visit_notice"] = (
                    f"Your booster visit is booked for {when:%A %d %B at %H:%M}."
                )
                return redirect("portal:visits")
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=None,
        patient=patient,
        subject=suggestion,
        via="portal_booster",
    )
    context |= {
        "location": location,
        "slots": [(s.isoformat(), s.astimezone(zone)) for s in slots],
        "error": error,
    }
    return render(request, "portal/booster_pick.html", context)
