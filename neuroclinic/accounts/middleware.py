from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# When the signed-in person last did something (a Unix time), in their session.
LAST_ACTIVITY_KEY = "_neuroclinic_last_activity"


class RequireTwoFactorMiddleware:
    """A session that is signed in but not verified by a second factor counts as anonymous.

    The sign-in views always verify before they sign in, so this only bites a
    session made some other way; it keeps "password alone" from ever being enough.
    Runs after django_otp's OTPMiddleware, which sets `is_verified`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        is_verified = getattr(user, "is_verified", None)  # set by OTPMiddleware
        if user.is_authenticated and not (is_verified is not None and is_verified()):
            request.user = AnonymousUser()
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """Sign out after IDLE_TIMEOUT_MINUTES without activity (ONC 170.315(d)(5)).

    Activity is any request except a view marked `@polled` (the board and the
    infusion screen refresh themselves every second or two; an unattended screen
    must still sign out). An active request touches the session, which saves it
    and pushes its expiry on by the idle timeout; a polled request leaves it
    alone, so the session expires in the database on time. The timestamp check
    here also signs out a session the store would still load.
    Runs after the authentication middlewares, before the view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: list[Any],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        now = timezone.now().timestamp()
        last = request.session.get(LAST_ACTIVITY_KEY)
        if last is not None and now - float(last) > settings.SESSION_COOKIE_AGE:
            logout(request)  # the view then answers as to anyone signed out
            return None
        if not getattr(view_func, "polled", False):
            request.session[LAST_ACTIVITY_KEY] = now
        return None
