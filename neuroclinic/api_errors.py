"""Errors the API answers with: RFC 9457 problem documents (application/problem+json)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

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
