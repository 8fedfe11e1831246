"""Steps of recovery (modified Aldrete) and discharge."""

from django.http import HttpResponse

from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.actions import (
    recovery_discharge,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.views.screen import (
    client_key,
    done,
    refused,
)


def recovery(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.RecoveryForm(request.POST, prefix="recovery")
    if not form.is_valid():
        return refused(request, session, "recovery", form)
    d = form.cleaned_data
    try:
        assessment = recovery_discharge.assess_recovery(
            session,
            by=request.user,
            activity=d["activity"],
            respiration=d["respiration"],
            circulation=d["circulation"],
            consciousness=d["consciousness"],
            spo2=d["spo2"],
            moaas_score=d["moaas_score"],
            client_key=client_key(form),
        )
    except InfusionError as exc:
        return refused(request, session, "recovery", form, exc)
    text = f"Modified Aldrete {assessment.total}/10: " + (
        "discharge criteria met." if assessment.ready else "not yet ready."
    )
    return done(request, session, text, "recovery")


def discharge(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.DischargeForm(request.POST)
    if not form.is_valid():
        return refused(request, session, "discharge", form)
    try:
        recovery_discharge.discharge(
            session,
            by=request.user,
            escort_name=form.cleaned_data["escort_name"],
            instructions_channel=form.cleaned_data["instructions_channel"],
        )
    except InfusionError as exc:
        return refused(request, session, "discharge", form, exc)
    return done(
        request, session, "Discharged. Waste what remains, then sign the note.", "waste"
    )
