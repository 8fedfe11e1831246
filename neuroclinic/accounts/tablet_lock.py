"""The tablet in the patient's hands (issue 18 item 4; docs/security.md, "Patient-locked tablet").

A nurse hands the tablet to the patient for a questionnaire or a consent. The
staff session stays signed in but is *locked to the patient's pages*: every
request outside the paths the lock allows (the questionnaire or the portal's
consent pages) is sent to the hand-back page, and every API call is refused.
The hand-back page takes the signed-in nurse's authenticator code (not the
whole sign-in) and returns to the screen the nurse came from. A wrong code
counts as a failed sign-in (the account locks at the threshold, which signs
the tablet out); idle sign-out still applies, and then the nurse signs in again.

The lock lives in the server-side session, so a patient cannot lift it by
editing anything in the browser; it is audited when set and when lifted.
"""

import time
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from neuroclinic.accounts import actions
from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record

LOCK_KEY = "_neuroclinic_patient_lock"
# What a locked tablet may still load besides the lock's own paths.
ALWAYS_ALLOWED = ("/static/", "/favicon")


def lock(
    request: HttpRequest,
    *,
    allowed: tuple[str, ...],
    return_to: str,
    purpose: str,
    by: User,
) -> None:
    """Lock this browser's staff session to `allowed` path prefixes until hand-back."""
    request.session[LOCK_KEY] = {
        "allowed": list(allowed),
        "return_to": return_to if _on_this_site(request, return_to) else "/",
        "purpose": purpose,
        "user": by.pk,
        "since": time.time(),
    }
    record(AuditEvent.Action.TABLET_LOCKED, actor=by, subject=by, purpose=purpose)


def _lock_state(request: HttpRequest) -> dict[str, Any] | None:
    """The lock, if any. A request without a session cookie cannot carry one, and
    its session is not touched (touching it would add `Vary: Cookie` to every
    public page)."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    session = getattr(request, "session", None)
    state = session.get(LOCK_KEY) if session is not None else None
    return state if isinstance(state, dict) else None


def is_locked(request: HttpRequest) -> bool:
    return _lock_state(request) is not None


def _on_this_site(request: HttpRequest, path: str) -> bool:
    return path.startswith("/") and url_has_allowed_host_and_scheme(
        path, allowed_hosts={request.get_host()}, require_https=False
    )


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` the form posted, if it is a path on this site."""
    candidate = str(request.POST.get("next") or request.GET.get("next") or "")
    return candidate if _on_this_site(request, candidate) else default


def _allowed(path: str, state: dict[str, Any]) -> bool:
    unlock = reverse("accounts:unlock")
    prefixes = [unlock, *ALWAYS_ALLOWED, *[str(p) for p in state.get("allowed", [])]]
    return any(path.startswith(p) for p in prefixes)


class PatientLockMiddleware:
    """Keeps a locked tablet on the patient's pages. After the session and auth middlewares."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _lock_state(request)
        if state is not None and not _allowed(request.path, state):
            if request.path.startswith(("/api/", "/fhir/")):
                return JsonResponse(
                    {
                        "type": "about:blank",
                        "title": "This tablet is with a patient",
                        "status": 403,
                        "detail": "Hand the tablet back to staff first.",
                    },
                    status=403,
                    content_type="application/problem+json",
                )
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("accounts:unlock")
                return response
            return redirect("accounts:unlock")
        return self.get_response(request)


def context(request: HttpRequest) -> dict[str, Any]:
    """`patient_locked` for the portal pages' hand-back button."""
    return {"patient_locked": is_locked(request)}


class HandBackForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        label="Your authenticator code",
        error_messages={"invalid": "Enter the 6 digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest) -> HttpResponse:
    """The hand-back page: the nurse's authenticator code lifts the lock."""
    state = request.session.get(LOCK_KEY)
    user = request.user
    if not isinstance(state, dict):
        return redirect("home")
    if not user.is_authenticated or user.pk != state.get("user"):
        # Signed out meanwhile (idle, locked out): the whole sign-in, then start again.
        request.session.pop(LOCK_KEY, None)
        return redirect(settings.LOGIN_URL)
    assert isinstance(user, User)
    form = HandBackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = Authenticator.objects.filter(user=user, confirmed=True).first()
        allowed = device is not None and device.verify_is_allowed()[0]
        if device is not None and not allowed:
            form.add_error(
                "code", "Too fast after a wrong code: wait a few seconds and try again."
            )
        elif device is not None and device.verify_token(form.cleaned_data["code"]):
            request.session.pop(LOCK_KEY, None)
            # The patient's portal session ends with the hand-back.
            request.session.pop("intake_portal", None)
            record(
                AuditEvent.Action.TABLET_UNLOCKED,
                actor=user,
                subject=user,
                purpose=state.get("purpose", ""),
            )
            return redirect(str(state.get("return_to") or "/"))
        else:
            if actions.record_failed_sign_in(
                user, username=user.username, stage="tablet_hand_back"
            ):
                logout(request)
                return redirect(settings.LOGIN_URL)
            form.add_error("code", "That code is not right. Try the code showing now.")
    return render(
        request,
        "accounts/hand_back.html",
        {"form": form, "staff_name": user.display_name},
        status=200 if not form.errors else 422,
    )
