"""Helpers for the measures API tests: JSON posts, problem documents, what a request wrote."""

import json
from typing import Any

from django.test import Client

from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.api import CRISIS_RESOURCES
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.api_answers import SEX_FOR_SCORING, Expected
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Patient

PROBLEM = "application/problem+json"


def post(client: Client, url: str, payload: object) -> Any:
    return client.post(url, json.dumps(payload), content_type="application/json")


def score(client: Client, code: str, payload: object) -> Any:
    return post(client, f"/api/instruments/{code}/score", payload)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def problem(response: Any, status: int) -> dict[str, Any]:
    """The RFC 9457 problem document a refusal answers with."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["instance"] == response.wsgi_request.path
    assert isinstance(body["title"], str)
    assert body["title"]
    return body


def fields(response: Any) -> list[str]:
    """The fields a 422 names, in the order it names them."""
    body = problem(response, 422)
    assert body["title"] == "Invalid input"
    errors: list[dict[str, str]] = body["errors"]
    for error in errors:
        assert set(error) == {"field", "message"}
        assert error["message"]
    return [error["field"] for error in errors]


def messages(response: Any) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


def written() -> dict[str, int]:
    """Row counts of everything a questionnaire can write."""
    return {
        "responses": QuestionnaireResponse.objects.count(),
        "alerts": SafetyAlert.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "notifications": Notification.objects.count(),
    }


def expected_body(code: str, expected: Expected) -> dict[str, Any]:
    return {
        "instrument": code,
        "version": INSTRUMENTS[code].version,
        "total": expected.total,
        "severity": expected.severity,
        "flags": expected.flags,
        "subscales": expected.subscales,
        "triage": expected.triage,
        "safety_alert": expected.safety_alert,
        "crisis_resources": CRISIS_RESOURCES if expected.safety_alert else None,
    }


def response_payload(
    code: str, answers: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"instrument": code, "answers": answers}
    if code in SEX_FOR_SCORING:
        payload["sex"] = SEX_FOR_SCORING[code]
    return payload | extra


def responses_url(patient: Patient) -> str:
    return f"/api/patients/{patient.uuid}/responses"


def alerts_url(patient: Patient) -> str:
    return f"/api/patients/{patient.uuid}/alerts"
