"""FHIR HTTP plumbing: JSON responses, OperationOutcome errors, bearer sign-in.

Every view under /fhir/ is wrapped by `fhir_view`, so what a client gets back is
always `application/fhir+json` (an OperationOutcome on any refusal), never HTML.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

import orjson
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from neuroclinic.accounts.actions import authenticate_api_token
from neuroclinic.accounts.models import User
from neuroclinic.audit.record import set_api_token
from neuroclinic.interop.fhir.clinical import operation_outcome

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"

logger = logging.getLogger(__name__)

# HTTP status -> OperationOutcome issue type (R4 value set issue-type).
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "duplicate",
    410: "deleted",
    415: "not-supported",
    422: "processing",
    500: "exception",
}


class FhirError(Exception):
    """A refusal, answered as an OperationOutcome with `status`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        issues: list[tuple[str, str, str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _ISSUE_CODES.get(status, "processing")
        self.issues = issues


def _default(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(body: Any) -> bytes:
    """FHIR JSON as bytes: compact, UTF-8. The one serialiser for reads, searches
    and bulk export lines, so an exported resource is byte for byte what a read of
    it answers."""
    return orjson.dumps(
        body,
        default=_default,
        option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
    )


def fhir_json(body: Any, *, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome(status: int, message: str, *, code: str | None = None) -> HttpResponse:
    issue_code = code or _ISSUE_CODES.get(status, "processing")
    severity = "error" if status < 500 else "fatal"
    return fhir_json(
        operation_outcome([(severity, issue_code, message)]), status=status
    )


def error_response(exc: FhirError) -> HttpResponse:
    if exc.issues:
        response = fhir_json(operation_outcome(exc.issues), status=exc.status)
    else:
        response = outcome(exc.status, exc.message, code=exc.code)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response


def bearer_user(request: HttpRequest) -> User:
    """The user behind the request's bearer token, else 401.

    A personal API token acts with its user's role. A SMART Backend Services access
    token acts as its client's service user, narrowed to the token's scopes
    (kept on the request for `registry.authorise`).
    """
    from neuroclinic.interop.actions.smart import TOKEN_PREFIX, user_for_token

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise FhirError(401, "Send a bearer token (Authorization: Bearer ...).")
    user: User | None
    if token.startswith(TOKEN_PREFIX):
        found = user_for_token(token)
        user, scopes = found if found is not None else (None, [])
        request.fhir_scopes = scopes  # type: ignore[attr-defined]
    else:
        api_token = authenticate_api_token(token)
        if api_token is not None and not api_token.allows(request.method or "", "fhir"):
            # A narrowed token (a monitor's, which may only post vitals) reads no FHIR.
            raise FhirError(403, "This token's scope does not include FHIR.")
        if api_token is not None:
            set_api_token(str(api_token.uuid))
        user = api_token.user if api_token is not None else None
    if user is None:
        raise FhirError(401, "The bearer token is not valid or has expired.")
    request.user = user
    return user


def token_scopes(request: HttpRequest) -> list[str] | None:
    """The SMART scopes the request's token carries; None for a personal token."""
    scopes: list[str] | None = getattr(request, "fhir_scopes", None)
    return scopes


View = Callable[..., HttpResponseBase]


def fhir_view(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Answer FHIR errors as OperationOutcome; refuse other methods with 405."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def wrapped(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if request.method not in methods:
                response = outcome(405, f"{request.method} is not supported here.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except FhirError as exc:
                return error_response(exc)
            except Http404:
                return outcome(404, "No such resource.")
            except PermissionDenied:
                return outcome(403, "Your role does not allow this.")
            except Exception:
                # A fault of ours: logged without the request body, answered as an
                # OperationOutcome rather than the HTML error page.
                logger.exception("FHIR request failed: %s", request.path)
                return outcome(500, "The server could not answer this request.")

        # CSRF does not apply: every request is authenticated by its bearer token.
        wrapped.csrf_exempt = True  # type: ignore[attr-defined]
        return wrapped

    return wrap
