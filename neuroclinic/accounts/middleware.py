from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse


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
