"""No 500s and no HTML from the API: every error under /api/ is a problem document.

Each case answered HTML before (a 500 for the page numbers, Django's 404 and 400
pages, ninja's empty 405). Pages outside /api/ keep their HTML error pages.

Issue #15 item 6.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import path as route

from neuroclinic.accounts.models import User

PROBLEM = "application/problem+json"
HUGE = "9223372036854775807"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("nurse", "/api/patients"),
        ("custodian", "/api/ledger/entries"),
    ],
)
@pytest.mark.parametrize(
    "query", [f"page={HUGE}", "page=0", "page=-1", f"page_size={HUGE}", "page=x"]
)
def test_a_page_number_out_of_range_is_a_422_naming_it(
    client: Client,
    staff: Callable[[str], User],
    bearer: Callable[[User], dict[str, str]],
    persona: str,
    url: str,
    query: str,
) -> None:
    response = client.get(f"{url}?{query}", headers=bearer(staff(persona)))

    body = problem(response, 422)
    assert body["errors"][0]["field"] == query.split("=")[0]


def test_a_page_past_the_end_is_an_empty_page(
    client: Client, nurse: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = client.get("/api/patients?page=1000000", headers=bearer(nurse))

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    "url", ["/api/nope", "/api/patients/", "/api/ledger/nothing/here", "/api/"]
)
def test_an_unknown_api_path_is_a_json_404(client: Client, db: None, url: str) -> None:
    body = problem(client.get(url), 404)

    assert body["title"] == "Not found"
    assert body["instance"] == url


def test_a_method_an_operation_does_not_take_is_a_json_405_with_allow(
    client: Client, nurse: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = client.delete("/api/patients", headers=bearer(nurse))

    body = problem(response, 405)
    assert body["title"] == "Method not allowed"
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


def test_a_body_over_the_limit_is_a_json_413(
    client: Client, nurse: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = client.post(
        "/api/patients/search",
        "x" * (5 * 1024 * 1024),
        content_type="application/json",
        headers=bearer(nurse),
    )

    problem(response, 413)


def test_a_body_that_is_not_json_is_a_json_400(
    client: Client, nurse: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = client.post(
        "/api/patients/search",
        "{not json",
        content_type="application/json",
        headers=bearer(nurse),
    )

    problem(response, 400)


def _broken(request: Any) -> Any:
    raise RuntimeError("a bug, with PHI: Testova")


urlpatterns = [route("api/broken", _broken), route("broken", _broken)]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_is_a_json_500_without_its_text(
    client: Client, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    client.raise_request_exception = False

    response = client.get("/api/broken")

    body = problem(response, 500)
    assert "Testova" not in response.content.decode()
    assert body["title"] == "Server error"
    assert "Unhandled error answering an API request" in caplog.text


@pytest.mark.urls(__name__)
def test_pages_outside_the_api_keep_their_html_errors(client: Client, db: None) -> None:
    client.raise_request_exception = False

    response = client.get("/broken")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_page_not_found_outside_the_api_stays_html(client: Client, db: None) -> None:
    response = client.get("/no-such-page-anywhere/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# The schema documents them ----------------------------------------------------------


def _operations(client: Client) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/api/openapi.json").json()
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
    ]
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_documents_its_problem_answers(
    client: Client, db: None
) -> None:
    missing = []
    for method, path, operation in _operations(client):
        expected = {"400", "404", "405", "422"}
        if "requestBody" in operation:
            expected |= {"413"}
        if operation.get("security") or path.startswith("/api/ledger/"):
            expected |= {"401", "403"}
        else:
            expected |= {"429"}
        documented = set(operation["responses"])
        if not expected <= documented:
            missing.append((method, path, sorted(expected - documented)))
        for status in expected:
            content = operation["responses"][status]["content"]
            assert list(content) == [PROBLEM], (method, path, status)

    assert missing == []


def test_the_scoring_operation_documents_its_rate_limit(
    client: Client, db: None
) -> None:
    [score] = [
        operation
        for method, path, operation in _operations(client)
        if path == "/api/instruments/{code}/score"
    ]

    assert "429" in score["responses"]
    assert "401" not in score["responses"]
