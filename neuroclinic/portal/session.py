"""The patient's portal session: who is signed in, for how long, and on which device.

A portal session is a key in the Django session separate from staff sign-in
(`PORTAL_SESSION`); portal pages never show staff UI and never read
`request.user`. A sign-in link spends itself (intake.actions.sign_in); this
module only keeps the session it opens.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neuroclinic.accounts import tablet_lock
from neuroclinic.http import HtmxHttpRequest
from neuroclinic.intake.models import PortalSignInLink
from neuroclinic.patients.models import Patient

# The session key keeps its first name so sessions open when this moved stay open.
PORTAL_SESSION = "intake_portal"
PORTAL_IDLE_SECONDS = 60 * 60


def open_session(request: HttpRequest, link: PortalSignInLink) -> None:
    """Sign the patient of a spent link in on this browser."""
    tablet = link.channel == PortalSignInLink.Channel.TABLET
    if tablet and not tablet_lock.is_locked(request):
        # Handed over without a lock: nothing of the staff session may remain. Under
        # a lock (accounts/tablet_lock.py) the staff session stays, held to the portal.
        logout(request)
    request.session.cycle_key()
    request.session[PORTAL_SESSION] = {
        "patient": str(link.patient.uuid),
        "witness": link.created_by_id if tablet else None,
        "seen": time.time(),
    }


def on_tablet(request: HttpRequest) -> bool:
    state = request.session.get(PORTAL_SESSION)
    return isinstance(state, dict) and bool(state.get("witness"))


def _portal_patient(request: HttpRequest) -> tuple[Patient, dict[str, Any]] | None:
    state = request.session.get(PORTAL_SESSION)
    if not isinstance(state, dict):
        return None
    if time.time() - float(state.get("seen", 0)) > PORTAL_IDLE_SECONDS:
        request.session.pop(PORTAL_SESSION, None)
        return None
    patient = (
        Patient.objects.select_related("organization")
        .filter(uuid=str(state.get("patient", "")))
        .first()
    )
    if patient is None:
        return None
    state["seen"] = time.time()
    request.session[PORTAL_SESSION] = state
    return patient, state


def frame(patient: Patient, state: dict[str, Any]) -> dict[str, Any]:
    """What the one base template needs on every signed-in page (navigation, tablet note)."""
    return {
        "organization": patient.organization,
        "patient": patient,
        "first_name": patient.preferred_name or patient.given_name,
        "tablet": bool(state.get("witness")),
        "signed_in": True,
        "kiosk": False,
    }


def portal_required[**P](
    view: Callable[
        Concatenate[HtmxHttpRequest, Patient, dict[str, Any], P], HttpResponse
    ],
) -> Callable[Concatenate[HtmxHttpRequest, P], HttpResponse]:
    """The view gets the signed-in patient and the session state; else 401 "please sign in"."""

    @wraps(view)
    def wrapped(
        request: HtmxHttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        found = _portal_patient(request)
        if found is None:
            return render(
                request, "portal/signed_out.html", {"expired": True}, status=401
            )
        patient, state = found
        return view(request, patient, state, *args, **kwargs)

    return wrapped
