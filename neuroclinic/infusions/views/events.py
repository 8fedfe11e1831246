"""Steps for what happens at the bedside: adverse events, as-needed medications,
sedation and CADSS-6 scores."""

from django.http import HttpResponse

from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.actions import (
    events,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.views.screen import (
    client_key,
    done,
    refused,
)


def adverse_event(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.AdverseEventForm(request.POST, prefix="event")
    if not form.is_valid():
        return refused(request, session, "event", form)
    d = form.cleaned_data
    try:
        event = events.record_adverse_event(
            session,
            by=request.user,
            kind=d["kind"],
            severity=d["severity"],
            onset_at=d["occurred_at"],
            description=d["description"],
            intervention=d["intervention"],
            client_key=client_key(form),
        )
    except InfusionError as exc:
        return refused(request, session, "event", form, exc)
    return done(request, session, f"{event} recorded.", "events")


def prn(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.PrnForm(request.POST, session=session, prefix="prn")
    if not form.is_valid():
        return refused(request, session, "prn", form)
    d = form.cleaned_data
    try:
        given = events.give_prn(
            session,
            by=request.user,
            prn_order=d["prn_order"],
            dose=d["dose"],
            given_at=d["occurred_at"],
            adverse_event=d["adverse_event"],
            note=d["note"],
            client_key=client_key(form),
        )
    except InfusionError as exc:
        return refused(request, session, "prn", form, exc)
    return done(request, session, f"{given} given.", "events")


def sedation(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.SedationForm(request.POST, prefix="sedation")
    if not form.is_valid():
        return refused(request, session, "sedation", form)
    try:
        events.record_sedation(
            session,
            by=request.user,
            score=form.cleaned_data["score"],
            assessed_at=form.cleaned_data["occurred_at"],
            client_key=client_key(form),
        )
    except InfusionError as exc:
        return refused(request, session, "sedation", form, exc)
    return done(
        request, session, f"MOAA/S {form.cleaned_data['score']} recorded.", "events"
    )


def cadss(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.CadssForm(request.POST, prefix="cadss")
    if not form.is_valid():
        return refused(request, session, "cadss", form)
    try:
        link = events.record_cadss6(
            session,
            by=request.user,
            answers=form.answers(),
            submission_key=client_key(form),
        )
    except InfusionError as exc:
        return refused(request, session, "cadss", form, exc)
    return done(
        request, session, f"CADSS-6 recorded: {link.response.total} of 24.", "events"
    )
