"""The one JSON API, at /api/. Each app mounts its router here."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from neuroclinic.api_auth import staff_auth
from neuroclinic.api_errors import (
    FieldErrors,
    field_messages,
    field_name,
    invalid_input,
    problem,
)
from neuroclinic.infusions.api import router as infusions_router
from neuroclinic.intake.api import router as intake_router
from neuroclinic.ledger.api import router as ledger_router
from neuroclinic.measures.api import router as measures_router
from neuroclinic.patients.api import router as patients_router
from neuroclinic.scheduling.api import router as scheduling_router

api = NinjaAPI(
    title="Neuroclinic API",
    version="1",
    description="Staff API. Errors are RFC 9457 problem documents.",
    auth=staff_auth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/", patients_router)
api.add_router("/ledger/", ledger_router)
api.add_router("/", measures_router)
api.add_router("/", intake_router)
api.add_router("/", infusions_router)
api.add_router("/", scheduling_router)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return invalid_input(
        request,
        (
            (field_name(e.get("loc", ())), str(e.get("msg", "invalid")))
            for e in exc.errors
        ),
    )


@api.exception_handler(FieldErrors)
def on_field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    return invalid_input(request, field_messages(exc.errors))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(
        request,
        status=401,
        title="Sign-in required",
        detail="Send a bearer token, or sign in with two-factor in the browser.",
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, status=404, title="Not found", detail="No such record.")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(
        request, status=403, title="Forbidden", detail="Your role does not allow this."
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    titles = {
        400: "Bad request",
        401: "Sign-in required",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        429: "Too many requests",
    }
    return problem(
        request,
        status=exc.status_code,
        title=titles.get(exc.status_code, "Error"),
        detail=str(exc),
    )
