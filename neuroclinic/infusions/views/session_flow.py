"""Steps of the session's flow: check-in (from the chart), the checklist, the pump and
cancel. Views stay thin: access check (the dispatcher in `steps`), form, action,
render."""

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.actions import (
    session_flow,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.views.screen import (
    client_key,
    done,
    refused,
)
from neuroclinic.patients.access import get_patient_for_user


def checklist(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.ChecklistForm(request.POST, zone=session.location.time_zone)
    if not form.is_valid():
        return refused(request, session, "checklist", form)
    data = form.cleaned_data
    try:
        session_flow.save_checklist(
            session,
            by=request.user,
            weight=data["weight"] or "",
            weight_unit=data["weight_unit"],
            height_cm=data["height_cm"],
            last_solids_at=data["last_solids_at"],
            last_clear_liquids_at=data["last_clear_liquids_at"],
            escort_name=data["escort_name"],
            escort_phone=data["escort_phone"],
            escort_confirmed=data["escort_confirmed"],
            pregnancy_status=data["pregnancy_status"] or "",
            pregnancy_note=data["pregnancy_note"],
        )
    except InfusionError as exc:
        return refused(request, session, "checklist", form, exc)
    return done(request, session, "Checklist saved.", "checklist")


def confirm_checklist(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    try:
        session_flow.confirm_checklist(session, by=request.user)
    except InfusionError as exc:
        messages.error(request, exc.message)
        return redirect("infusions:session", session_uuid=session.uuid)
    return done(
        request, session, "Checklist confirmed: every hard stop is clear.", "dose"
    )


def pump_step(
    request: AuthenticatedHttpRequest,
    session: InfusionSession,
    name: str,
    form: f.TabletForm,
    run: Callable[[dict[str, Any]], object],
    message: str,
) -> HttpResponse:
    if not form.is_valid():
        return refused(request, session, name, form)
    try:
        run(form.cleaned_data)
    except InfusionError as exc:
        return refused(request, session, name, form, exc)
    return done(request, session, message, "infusion")


def start(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.TabletForm(request.POST)
    return pump_step(
        request,
        session,
        "start",
        form,
        lambda d: session_flow.start(
            session,
            by=request.user,
            occurred_at=d["occurred_at"],
            client_key=client_key(form),
        ),
        "Infusion started.",
    )


def pause(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.PauseForm(request.POST, prefix="pause")
    return pump_step(
        request,
        session,
        "pause",
        form,
        lambda d: session_flow.pause(
            session,
            by=request.user,
            reason=d["reason"],
            occurred_at=d["occurred_at"],
            client_key=client_key(form),
        ),
        "Infusion paused.",
    )


def resume(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.ResumeForm(request.POST, prefix="resume")
    return pump_step(
        request,
        session,
        "resume",
        form,
        lambda d: session_flow.resume(
            session,
            by=request.user,
            reason=d["reason"],
            occurred_at=d["occurred_at"],
            client_key=client_key(form),
        ),
        "Infusion resumed.",
    )


def rate(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.RateForm(request.POST)
    return pump_step(
        request,
        session,
        "rate",
        form,
        lambda d: session_flow.change_rate(
            session,
            by=request.user,
            rate_ml_per_hour=d["rate_ml_per_hour"],
            reason=d["reason"],
            occurred_at=d["occurred_at"],
            client_key=client_key(form),
        ),
        "Rate changed.",
    )


def stop(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.StopForm(request.POST, prefix="stop")
    return pump_step(
        request,
        session,
        "stop",
        form,
        lambda d: session_flow.stop(
            session,
            by=request.user,
            reason=d["reason"],
            completed=d["completed"] == "yes",
            volume_infused_ml=d["volume_infused_ml"],
            occurred_at=d["occurred_at"],
            client_key=client_key(form),
        ),
        "Infusion stopped. Recovery has begun.",
    )


def cancel(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.CancelForm(request.POST, prefix="cancel")
    if not form.is_valid():
        return refused(request, session, "cancel", form)
    try:
        session_flow.cancel(
            session, by=request.user, reason=form.cleaned_data["reason"]
        )
    except InfusionError as exc:
        return refused(request, session, "cancel", form, exc)
    return done(request, session, "Infusion cancelled.")


@require_capability(Capability.RUN_INFUSIONS)
@require_POST
def check_in(
    request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.RUN_INFUSIONS
    )
    form = f.CheckInForm(request.POST, organization_id=request.user.organization_pk)
    if not form.is_valid():
        messages.error(
            request,
            "The reason is too long (500 characters at most)."
            if "spacing_override_reason" in form.errors
            else "Choose an infusion room.",
        )
        return redirect("patients:chart", patient_uuid=patient.uuid)
    try:
        session = session_flow.check_in(
            patient,
            room=form.cleaned_data["room"],
            spacing_override_reason=form.cleaned_data["spacing_override_reason"],
            by=request.user,
        )
    except InfusionError as exc:
        messages.error(request, exc.message)
        return redirect("patients:chart", patient_uuid=patient.uuid)
    messages.success(
        request, f"{patient.display_name} checked in to {session.room.name}."
    )
    return redirect("infusions:session", session_uuid=session.uuid)
