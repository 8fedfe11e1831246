"""Errors the API answers with: RFC 9457 problem documents (application/problem+json)."""

import logging
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class FieldErrors(Exception):
    """Input that failed validation: one or more messages per field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid input")
        self.errors = errors


def problem(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    detail: str = "",
    errors: list[dict[str, Any]] | None = None,
    problem_type: str = "about:blank",
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def invalid_input(
    request: HttpRequest, errors: Iterable[tuple[str, str]]
) -> HttpResponse:
    """422 "Invalid input", naming each field at fault: (field, message) pairs, in order.

    The one builder of the API's 422 answers (ninja's schema errors and FieldErrors).
    """
    listed: list[dict[str, Any]] = [
        {"field": field, "message": message} for field, message in errors
    ]
    return problem(
        request,
        status=422,
        title="Invalid input",
        detail="; ".join(f"{e['field']}: {e['message']}" for e in listed),
        errors=listed,
    )


def field_messages(errors: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """{field: [messages]} as (field, message) pairs for `invalid_input`."""
    return [
        (field, message) for field, messages in errors.items() for message in messages
    ]


def field_name(location: list[Any] | tuple[Any, ...]) -> str:
    """ninja's error location, e.g. ("body", "payload", "birth_date"), as a field path."""
    parts = [
        str(p)
        for p in location
        if p not in ("body", "payload", "query", "path", "filters")
    ]
    return ".".join(parts) or "body"


API_PREFIX = "/api/"
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


class ApiProblemMiddleware:
    """Under /api/, every error is a problem document: never HTML, never a bare 500.

    Django answers some errors before (or around) the API's own handlers: a path
    no route matches (404), a method an operation does not take (405, from
    ninja), a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413 here, Django's 400
    page otherwise), an unexpected exception (500). Each is turned into
    application/problem+json with the same status; an exception is logged with
    its traceback (paths hold UUIDs, never names) and its text is never sent.
    Placed near the top of MIDDLEWARE so it sees every other middleware's answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(
                ("application/json", PROBLEM_CONTENT_TYPE)
            )
        ):
            return as_problem(request, response)
        return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return problem(
                request,
                status=413,
                title="Content too large",
                detail="The request body is larger than this server accepts.",
            )
        if isinstance(exception, CLIENT_ERRORS):
            return None  # Django answers these 4xx; __call__ makes them problems
        logger.exception("Unhandled error answering an API request")
        return problem(
            request,
            status=500,
            title="Server error",
            detail="Something went wrong on our side; it has been logged.",
        )


def as_problem(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A non-JSON error answer as a problem document with the same status and Allow."""
    status = response.status_code
    try:
        title = HTTPStatus(status).phrase.capitalize()  # "Not found", as elsewhere
    except ValueError:
        title = "Error"
    details = {
        404: "No such API path.",
        405: "This path does not take that method.",
        500: "Something went wrong on our side; it has been logged.",
    }
    converted = problem(
        request, status=status, title=title, detail=details.get(status, "")
    )
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            converted[header] = response[header]
    return converted
