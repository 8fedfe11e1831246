"""Signing the nurse's note, its addenda, and the prescriber's co-signature."""

import uuid

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions import forms as f
from neuroclinic.infusions.access import get_session_for_user
from neuroclinic.infusions.actions import (
    notes,
)
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.views.screen import (
    done,
    refused,
)


def sign(request: AuthenticatedHttpRequest, session: InfusionSession) -> HttpResponse:
    form = f.SignForm(request.POST, prefix="sign")
    if not form.is_valid():
        return refused(request, session, "sign", form)
    try:
        notes.sign_note(
            session,
            by=request.user,
            password=form.cleaned_data["password"],
            takeover_reason=form.cleaned_data["takeover_reason"],
        )
    except InfusionError as exc:
        return refused(request, session, "sign", form, exc)
    return done(
        request, session, "Note signed and locked. The prescriber will co-sign.", "note"
    )


def addendum(
    request: AuthenticatedHttpRequest, session: InfusionSession
) -> HttpResponse:
    form = f.AddendumForm(request.POST)
    note = getattr(session, "note", None)
    if note is None:
        raise Http404("No signed note.")
    if not form.is_valid():
        return refused(request, session, "addendum", form)
    try:
        notes.add_addendum(note, by=request.user, text=form.cleaned_data["text"])
    except InfusionError as exc:
        return refused(request, session, "addendum", form, exc)
    return done(request, session, "Addendum added.", "note")


@require_capability(Capability.WRITE_ORDERS)
@require_POST
def cosign(request: AuthenticatedHttpRequest, session_uuid: uuid.UUID) -> HttpResponse:
    session = get_session_for_user(
        request.user, session_uuid, capability=Capability.WRITE_ORDERS
    )
    note = getattr(session, "note", None)
    if note is None:
        raise Http404("No signed note.")
    form = f.SignForm(request.POST, prefix="cosign")
    if not form.is_valid():
        return refused(request, session, "cosign", form)
    try:
        notes.cosign_note(note, by=request.user, password=form.cleaned_data["password"])
    except InfusionError as exc:
        return refused(request, session, "cosign", form, exc)
    return done(request, session, "Note co-signed.", "note")
