"""Typed vital signs (a step) and the acknowledgment of an alarm."""

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.access import get_session_for_user
from neuroclinic.infusions.actions import (
    monitoring,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, SessionAlarm
from neuroclinic.infusions.views.screen import (
    client_key,
    done,
    live_context,
    refused,
)


def vitals(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.VitalsForm(request.POST)
    if not form.is_valid():
        return refused(request, session, "vitals", form)
    values = {
        k: v
        for k, v in form.cleaned_data.items()
        if k not in ("client_key", "occurred_at")
    }
    try:
        result = monitoring.record_typed_vitals(
            session,
            values,
            by=request.user,
            taken_at=form.cleaned_data["occurred_at"],
            client_key=client_key(form),
        )
    except InfusionError as exc:
        return refused(request, session, "vitals", form, exc)
    new_alarms = [a for a in result.alarms if a.acknowledged_at is None]
    if new_alarms:
        messages.error(request, "ALARM: " + " ".join(a.message for a in new_alarms))
        return redirect("infusions:session", session_uuid=session.uuid)
    return done(request, session, "Vital signs recorded.", "vitals")


@require_capability(Capability.RUN_INFUSIONS)
@require_POST
def acknowledge(
    request: AuthenticatedHttpRequest, session_uuid: uuid.UUID, alarm_uuid: uuid.UUID
) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.RUN_INFUSIONS
    )
    alarm = get_object_or_404(SessionAlarm, uuid=alarm_uuid, session=session)
    form = f.AcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        monitoring.acknowledge_alarm(alarm, by=request.user, note=note)
    except InfusionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Alarm acknowledged: {alarm.message}")
    if request.htmx:
        return render(
            request, "infusions/live.html", live_context(session) | {"can_run": True}
        )
    return redirect("infusions:session", session_uuid=session.uuid)
