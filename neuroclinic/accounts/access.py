"""Capability checks for views: one decorator, used everywhere."""

from collections.abc import Callable
from functools import update_wrapper
from typing import Concatenate

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
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
                return redirect_to_login(request.get_full_path())
            if capability is not None and not user.can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)  # type: ignore[arg-type]  # narrowed above

        update_wrapper(wrapped, view)
        return wrapped

    return decorator


staff_required = require_capability(None)
