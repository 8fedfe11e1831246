"""Who may call the API: a personal bearer token, or the browser's two-factor session.

Below `neuroclinic.api` (the one NinjaAPI) and every app's router, so a router that
authenticates an operation itself (the ledger checks a capability before the body
is parsed) imports these without importing the API that mounts it.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import BaseThrottle

from neuroclinic.accounts.actions import authenticate_api_token
from neuroclinic.accounts.models import User
from neuroclinic.audit.record import client_ip, set_api_token
from neuroclinic.lib import ratelimit


class StaffSession(APIKeyCookie):
    """The browser's signed-in, two-factor-verified session; CSRF-checked on writes."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if isinstance(user, User) and user.is_active:
            return user
        return None


class StaffToken(HttpBearer):
    """A personal API token (`neuroclinic token create <username>`)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = authenticate_api_token(token)
        if api_token is None:
            return None
        match = request.resolver_match
        if not api_token.allows(
            request.method or "", match.url_name or "" if match else ""
        ):
            raise PermissionDenied  # a monitor's token posting anything but vitals
        set_api_token(str(api_token.uuid))
        request.user = api_token.user
        return api_token.user


def staff_auth() -> list[StaffToken | StaffSession]:
    """The API's authenticators, in the order they are tried."""
    return [StaffToken(), StaffSession()]


class CallerThrottle(BaseThrottle):
    """A rate limit for an operation anyone may call (`auth=None`), through the one limiter.

    Anonymous callers count per address (REMOTE_ADDR: audit.record.client_ip
    explains why); staff signed in (two-factor session or a valid bearer token)
    count per person against a higher limit, so a clinic's own screens behind
    one address do not share the public allowance.
    """

    def __init__(
        self, scope: str, *, anonymous: int, signed_in: int, window_seconds: int = 60
    ) -> None:
        self.scope = scope
        self.anonymous = anonymous
        self.signed_in = signed_in
        self.window_seconds = window_seconds

    def allow_request(self, request: HttpRequest) -> bool:
        user = self._signed_in_caller(request)
        if user is not None:
            count = ratelimit.hit(
                self.scope,
                f"user:{user.pk}",
                limit=self.signed_in,
                window_seconds=self.window_seconds,
            )
        else:
            count = ratelimit.hit(
                self.scope,
                f"address:{client_ip(request) or 'unknown'}",
                limit=self.anonymous,
                window_seconds=self.window_seconds,
            )
        return not count.over

    def wait(self) -> float:
        return float(self.window_seconds)  # at most this long until the window ends

    @staticmethod
    def _signed_in_caller(request: HttpRequest) -> User | None:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() == "bearer" and raw:
            token = authenticate_api_token(raw.strip())
            return token.user if token is not None else None
        user = request.user
        if isinstance(user, User) and user.is_active:  # verified (RequireTwoFactor)
            return user
        return None
