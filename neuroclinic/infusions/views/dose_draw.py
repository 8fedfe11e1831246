"""Steps of the dose and the ketamine: calculate, second check, draw, witnessed waste."""

from decimal import Decimal

from django.http import HttpResponse

from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.actions import (
    dose_draw,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.views.screen import (
    done,
    refused,
    witness_confirmation,
)


def dose(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.DoseForm(request.POST)
    if not form.is_valid():
        return refused(request, session, "dose", form)
    try:
        dose = dose_draw.calculate_dose(
            session,
            by=request.user,
            concentration_mg_per_ml=Decimal(
                form.cleaned_data["concentration_mg_per_ml"]
            ),
            diluent_volume_ml=form.cleaned_data["diluent_volume_ml"],
        )
    except InfusionError as exc:
        return refused(request, session, "dose", form, exc)
    return done(
        request,
        session,
        f"Dose calculated: {dose.dose_mg} mg at {dose.rate_ml_per_hour} mL/h.",
        "dose",
    )


def check_dose(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.DoseCheckForm(request.POST, actor=request.user, prefix="check")
    confirmation = witness_confirmation(request, form) if form.is_valid() else None
    if confirmation is None:
        return refused(request, session, "dose_check", form)
    try:
        dose_draw.check_dose(session, by=request.user, checker=confirmation)
    except InfusionError as exc:
        return refused(request, session, "dose_check", form, exc)
    return done(
        request,
        session,
        f"Dose checked by {confirmation.witness.display_name}.",
        "draw",
    )


def draw(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.DrawForm(request.POST, containers=dose_draw.vial_plan(session).vials)
    if not form.is_valid():
        return refused(request, session, "draw", form)
    try:
        dose_draw.draw(
            session,
            by=request.user,
            container=form.cleaned_data["container"],
            volume_ml=form.cleaned_data["volume_ml"],
        )
    except InfusionError as exc:
        return refused(request, session, "draw", form, exc)
    return done(
        request,
        session,
        f"Drew {form.cleaned_data['volume_ml']} mL (recorded in the ledger).",
        "infusion",
    )


def waste(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.WasteForm(request.POST, actor=request.user, prefix="waste")
    confirmation = witness_confirmation(request, form) if form.is_valid() else None
    if confirmation is None:
        return refused(request, session, "waste", form)
    try:
        dose_draw.waste(
            session,
            by=request.user,
            volume_ml=form.cleaned_data["volume_ml"],
            witness=confirmation,
        )
    except InfusionError as exc:
        return refused(request, session, "waste", form, exc)
    return done(
        request,
        session,
        f"Wasted {form.cleaned_data['volume_ml']} mL, witnessed by {confirmation.witness.display_name}.",
        "note",
    )
