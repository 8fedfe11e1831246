"""The one JSON API, at /api/. Each app mounts its router here."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from neuroclinic.api_auth import staff_auth
from neuroclinic.api_errors import (
    PROBLEM_CONTENT_TYPE,
    FieldErrors,
    field_messages,
    field_name,
    invalid_input,
    problem,
)
from neuroclinic.billing.api import router as billing_router
from neuroclinic.clinics.api import router as clinics_router
from neuroclinic.infusions.api import router as infusions_router
from neuroclinic.intake.api import router as intake_router
from neuroclinic.ledger.api import router as ledger_router
from neuroclinic.letters.api import router as letters_router
from neuroclinic.measures.api import router as measures_router
from neuroclinic.patients.api import router as patients_router
from neuroclinic.scheduling.api import router as scheduling_router
from neuroclinic.tms.api import router as tms_router

# The 4xx answers every operation may give, as problem documents (api_errors):
# (status, description, when). "always", "body" (takes a request body), "auth"
# (needs a caller), "public" (needs none, so is rate limited per address).
PROBLEM_ANSWERS = (
    (
        400,
        "Bad request: a query parameter it does not take, or a body not JSON.",
        "always",
    ),
    (401, "No valid bearer token and no two-factor session.", "auth"),
    (403, "The caller's role does not allow this.", "auth"),
    (404, "No such record (or another organization's).", "always"),
    (405, "The path does not take this method.", "always"),
    (413, "The body is larger than the server accepts.", "body"),
    (422, "Invalid input; `errors` names each field at fault.", "always"),
    (429, "Too many requests; Retry-After says when to try again.", "public"),
)
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "required": ["type", "title", "status"],
}


class ClinicApi(NinjaAPI):
    """The NinjaAPI whose schema documents every operation's problem answers."""

    def get_openapi_schema(
        self,
        *,
        path_prefix: str | None = None,
        path_params: dict[str, Any] | None = None,
    ) -> Any:
        schema = super().get_openapi_schema(
            path_prefix=path_prefix, path_params=path_params
        )
        operations_by_id = {
            operation.operation_id
            or self.get_openapi_operation_id(operation): operation
            for _, router in self._routers
            for path_view in router.path_operations.values()
            for operation in path_view.operations
        }
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            PROBLEM_SCHEMA
        )
        for operations in schema["paths"].values():
            for operation in operations.values():
                known = operations_by_id.get(operation.get("operationId", ""))
                needs_auth = bool(
                    operation.get("security") or (known and known.auth_callbacks)
                )
                applies = {
                    "always": True,
                    "body": "requestBody" in operation,
                    "auth": needs_auth,
                    # Public operations are rate limited per address.
                    "public": not needs_auth,
                }
                responses = operation.setdefault("responses", {})
                for status, description, when in PROBLEM_ANSWERS:
                    if not applies[when] or {status, str(status)} & set(responses):
                        continue
                    responses[status] = {  # ninja's own keys are ints too
                        "description": description,
                        "content": {
                            PROBLEM_CONTENT_TYPE: {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    }
        return schema


api = ClinicApi(
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
api.add_router("/", tms_router)
api.add_router("/", clinics_router)
api.add_router("/", billing_router)
api.add_router("/", letters_router)
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
