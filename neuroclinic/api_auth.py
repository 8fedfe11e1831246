"""Who may call the API: a personal bearer token, or the browser's two-factor session.

Below `neuroclinic.api` (the one NinjaAPI) and every app's router, so a router that
authenticates an operation itself (the ledger checks a capability before the body
is parsed) imports these without importing the API that mounts it.
"""

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from neuroclinic.accounts.actions import authenticate_api_token
from neuroclinic.accounts.models import User


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
        user = authenticate_api_token(token)
        if user is not None:
            request.user = user
        return user


def staff_auth() -> list[StaffToken | StaffSession]:
    """The API's authenticators, in the order they are tried."""
    return [StaffToken(), StaffSession()]
