"""The technician's one screen for a course's session: daily check, prescribed coil position and
intensity (with the working), pulses, side effects, intensity changes and the seizure button.

Every POST goes to `step`, which checks the role and the patient once. A refusal shows the
form again with the action's message (200, as Django forms do); success redirects back.
The forms are marked data-offline: the infusion tablet's script (static/js/infusion-tablet.js)
sends them, keeps an entry on the tablet when the connection drops and sends it later
under the user who made it (`not_this_users_entry` refuses anyone else's with 409).
"""

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest, not_this_users_entry
from neuroclinic.tms import forms as f
from neuroclinic.tms import intensity, reads, screening
from neuroclinic.tms.access import get_course_for_user
from neuroclinic.tms.actions import seizures, sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse, TmsSession


def _appointment(request: AuthenticatedHttpRequest) -> uuid.UUID | None:
    """The calendar visit the screen was opened from (?appointment=, or the start form's)."""
    raw = request.GET.get("appointment") or request.POST.get("start-appointment")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def _prescribed(
    course: TmsCourse, session: TmsSession | None, appointment: uuid.UUID | None
) -> dict[str, Any]:
    """The intensity the technician sets, from the latest threshold, with its working,
    on the open session's unit, else the unit the start form offers (the calendar's
    booked unit for the visit first)."""
    threshold = reads.latest_threshold(course.patient)
    if threshold is None:
        return {"threshold": None, "intensity_error": "No motor threshold on file."}
    booked = None
    if session is not None:
        unit = session.device
        limit = reads.session_max_output_percent(session)
    else:
        at = timezone.now()
        booked = reads.booked_unit(course, at=at, appointment=appointment)
        unit = booked or reads.default_unit(course, threshold)
        limit = (
            unit.max_output_percent
            if unit is not None
            else reads.max_output_percent(threshold)
        )
    found: dict[str, Any] = {
        "threshold": threshold,
        "unit": unit,
        "unit_limit": limit,
        "unit_booked": booked is not None,
    }
    try:
        found["dose"] = intensity.treatment_intensity(
            threshold_percent_output=threshold.value_percent_output,
            percent_of_mt=course.percent_of_mt,
            max_percent_of_mt=reads.parameters_of(course).max_percent_of_mt,
            device_max_output_percent=limit,
        )
    except intensity.IntensityError as exc:
        found["intensity_error"] = exc.message
    return found


def context(
    request: AuthenticatedHttpRequest,
    course: TmsCourse,
    bound: dict[str, forms.Form] | None = None,
) -> dict[str, Any]:
    bound = bound or {}
    progress = reads.progress(course)
    blocked = ""
    try:
        sessions.check_may_treat(course)
    except TmsError as exc:
        blocked = exc.message
    session = progress.open_session
    appointment = _appointment(request)
    prescribed = _prescribed(course, session, appointment)
    return {
        "course": course,
        "patient": course.patient,
        "parameters": reads.parameters_of(course),
        "progress": progress,
        "blocked": blocked,
        "session": session,
        "side_effects": list(session.side_effects.all()) if session else [],
        "changes": list(session.intensity_changes.all()) if session else [],
        "daily_items": screening.DAILY_ITEMS,
        "can_run": request.user.can(Capability.RUN_TMS),
        "rethreshold": reads.rethreshold_prompts(course.patient),
        "forms": {
            "start": bound.get("start")
            or f.DailyCheckForm(
                organization_id=course.organization_id,
                prefix="start",
                initial={"device": prescribed.get("unit"), "appointment": appointment},
            ),
            "effect": bound.get("effect") or f.SideEffectForm(prefix="effect"),
            "intensity": bound.get("intensity") or f.IntensityForm(prefix="intensity"),
            "end": bound.get("end") or f.EndForm(prefix="end"),
            "seizure": bound.get("seizure")
            or f.SeizureForm(prefix="seizure", zone=course.location.time_zone),
        },
        **prescribed,
    }


def page(
    request: AuthenticatedHttpRequest,
    course: TmsCourse,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    return render(request, "tms/session.html", context(request, course, bound))


@require_capability(Capability.VIEW_TMS)
@require_GET
def session_screen(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID
) -> HttpResponse:
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.VIEW_TMS
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.TMS_COURSE_VIEWED,
            actor=request.user,
            patient=course.patient,
            subject=course,
            page="session",
        )
    return page(request, course)


def _done(
    request: AuthenticatedHttpRequest, course: TmsCourse, message: str
) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("tms:session", args=[course.uuid]))


def _refused(
    request: AuthenticatedHttpRequest,
    course: TmsCourse,
    name: str,
    form: forms.Form,
    exc: TmsError | None = None,
) -> HttpResponse:
    if exc is not None:
        f.add_errors(form, exc)
    return page(request, course, {name: form})


def _open(course: TmsCourse) -> TmsSession:
    session = reads.progress(course).open_session
    if session is None:
        raise TmsError("No session is open: start one with the daily check.")
    return session


def start(request: AuthenticatedHttpRequest, course: TmsCourse) -> HttpResponse:
    form = f.DailyCheckForm(
        request.POST, organization_id=course.organization_id, prefix="start"
    )
    if not form.is_valid():
        return _refused(request, course, "start", form)
    try:
        session = sessions.start_session(
            course,
            daily_check=form.answers(),
            supervising_physician=form.cleaned_data["supervising_physician"],
            device=form.cleaned_data["device"],
            appointment=form.cleaned_data["appointment"],
            by=request.user,
        )
    except TmsError as exc:
        return _refused(request, course, "start", form, exc)
    return _done(request, course, f"Session {session.number} started.")


def effect(request: AuthenticatedHttpRequest, course: TmsCourse) -> HttpResponse:
    form = f.SideEffectForm(request.POST, prefix="effect")
    if not form.is_valid():
        return _refused(request, course, "effect", form)
    d = form.cleaned_data
    try:
        sessions.record_side_effect(
            _open(course),
            kind=d["kind"],
            severity=d["severity"],
            description=d["description"],
            client_key=d["client_key"],
            by=request.user,
        )
    except TmsError as exc:
        return _refused(request, course, "effect", form, exc)
    return _done(request, course, "Side effect recorded.")


def change_intensity(
    request: AuthenticatedHttpRequest, course: TmsCourse
) -> HttpResponse:
    form = f.IntensityForm(request.POST, prefix="intensity")
    if not form.is_valid():
        return _refused(request, course, "intensity", form)
    try:
        change = sessions.change_intensity(
            _open(course),
            percent_of_mt=form.cleaned_data["percent_of_mt"],
            reason=form.cleaned_data["reason"],
            client_key=form.cleaned_data["client_key"],
            by=request.user,
        )
    except TmsError as exc:
        return _refused(request, course, "intensity", form, exc)
    return _done(request, course, f"Intensity now {change.output_percent} % output.")


def end(request: AuthenticatedHttpRequest, course: TmsCourse) -> HttpResponse:
    form = f.EndForm(request.POST, prefix="end")
    if not form.is_valid():
        return _refused(request, course, "end", form)
    d = form.cleaned_data
    try:
        session = sessions.end_session(
            _open(course),
            pulses_delivered=d["pulses_delivered"],
            trains_delivered=d["trains_delivered"],
            interruption_reason=d["interruption_reason"],
            interruption_detail=d["interruption_detail"],
            note=d["note"],
            by=request.user,
        )
    except TmsError as exc:
        return _refused(request, course, "end", form, exc)
    return _done(request, course, f"Session {session.number} signed.")


def seizure(request: AuthenticatedHttpRequest, course: TmsCourse) -> HttpResponse:
    form = f.SeizureForm(request.POST, prefix="seizure", zone=course.location.time_zone)
    if not form.is_valid():
        return _refused(request, course, "seizure", form)
    d = form.cleaned_data
    try:
        seizures.record_seizure(
            _open(course),
            post_ictal_status=d["post_ictal_status"],
            vitals=form.vitals(),
            description=d["description"],
            by=request.user,
        )
    except TmsError as exc:
        return _refused(request, course, "seizure", form, exc)
    return _done(
        request,
        course,
        "Session stopped. A safety alert went to the supervising physician; the course is on hold.",
    )


Step = Callable[[AuthenticatedHttpRequest, TmsCourse], HttpResponse]
STEPS: dict[str, Step] = {
    "start": start,
    "side-effect": effect,
    "intensity": change_intensity,
    "end": end,
    "seizure": seizure,
}


@require_capability(Capability.RUN_TMS)
@require_POST
def step(
    request: AuthenticatedHttpRequest, course_uuid: uuid.UUID, step_name: str
) -> HttpResponse:
    course = get_course_for_user(
        request.user, course_uuid, capability=Capability.RUN_TMS
    )
    refused = not_this_users_entry(request)
    if refused is not None:
        return refused
    view = STEPS.get(step_name)
    if view is None:
        raise Http404("No such step.")
    return view(request, course)
