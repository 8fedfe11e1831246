"""Capability checks for views: one decorator, used everywhere."""

from collections.abc import Callable
from functools import update_wrapper
from typing import Concatenate
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest


def require_capability[**P](
    capability: Capability | None = None,
) -> Callable[
    [Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponseBase]],
    Callable[Concatenate[HttpRequest, P], HttpResponseBase],
]:
    """Signed-in staff only (else to sign-in); with a capability, 403 without it."""

    def decorator(
        view: Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponseBase],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        def wrapped(
            request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            user = request.user
            if not isinstance(user, User) or not user.is_authenticated:
                if request.headers.get("HX-Request") == "true":
                    # An htmx swap would put the sign-in page inside a fragment
                    # (a polled board): send the whole screen to sign-in.
                    response = HttpResponse(status=401)
                    screen = urlsplit(request.headers.get("HX-Current-URL", "")).path
                    response["HX-Redirect"] = redirect_to_login(
                        screen or request.get_full_path()
                    )["Location"]
                    return response
                return redirect_to_login(request.get_full_path())
            if capability is not None and not user.can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)  # type: ignore[arg-type]  # narrowed above

        update_wrapper(wrapped, view)
        return wrapped

    return decorator


staff_required = require_capability(None)


def polled[F: Callable[..., HttpResponseBase]](view: F) -> F:
    """Mark a view that a screen polls by itself: it is not activity.

    IdleTimeoutMiddleware does not restart the idle timer for it, so a board
    left open signs out like any other page.
    """
    view.polled = True  # type: ignore[attr-defined]  # read by the middleware
    return view
