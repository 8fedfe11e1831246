"""A FHIR QuestionnaireResponse (LOINC answer codes) at the measures scoring and
response endpoints, as well as the plain {linkId: value} answers."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.interop.tests.test_import import PHQ9_ANSWERS, phq9_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Patient

Headers = Callable[[User], dict[str, str]]


def qr(patient: Patient | None = None, **changes: Any) -> dict[str, Any]:
    body = phq9_response(f"Patient/{patient.uuid}" if patient else "Patient/x")
    body.update(changes)
    return body


def test_scoring_takes_a_questionnaire_response(db: None, client: Client) -> None:
    response = client.post(
        "/api/instruments/phq9/score", qr(), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == sum(PHQ9_ANSWERS.values())


def test_the_response_endpoint_records_it(
    patient: Patient, nurse: User, client: Client, bearer: Headers
) -> None:
    response = client.post(
        f"/api/patients/{patient.uuid}/responses",
        qr(patient),
        content_type="application/json",
        headers=bearer(nurse),
    )
    assert response.status_code == 201, response.content
    stored = QuestionnaireResponse.objects.get(patient=patient)
    assert stored.instrument_code == "phq9"
    assert stored.total == sum(PHQ9_ANSWERS.values())
    assert stored.completed_at.isoformat().startswith("2026-01-05T09:30")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"resourceType": "Observation"}, "resourceType"),
        ({"status": "in-progress"}, "status"),
        (
            {"questionnaire": "http://neuroclinic.example/fhir/Questionnaire/gad7"},
            "questionnaire",
        ),
        ({"answers": {"phq9-1": 0}}, "answers"),
        (
            {
                "item": [
                    {
                        "linkId": "phq9-1",
                        "answer": [
                            {
                                "valueCoding": {
                                    "system": "http://loinc.org",
                                    "code": "LA33-6",
                                }
                            }
                        ],
                    }
                ]
            },
            "QuestionnaireResponse.item[0]",
        ),
        (
            {"item": [{"linkId": "phq9-1", "answer": [{"valueInteger": 1}]}]},
            "QuestionnaireResponse.item[0]",
        ),
        ({"item": []}, "answers"),
    ],
)
def test_bad_questionnaire_responses_name_the_field(
    db: None, client: Client, changes: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/instruments/phq9/score", qr(**changes), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields


def test_an_unknown_questionnaire_is_refused_at_the_response_endpoint(
    patient: Patient, nurse: User, client: Client, bearer: Headers
) -> None:
    response = client.post(
        f"/api/patients/{patient.uuid}/responses",
        qr(patient, questionnaire="http://example.org/Questionnaire/phq9"),
        content_type="application/json",
        headers=bearer(nurse),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "questionnaire"
    assert not QuestionnaireResponse.objects.exists()


def test_plain_answers_still_need_answers(db: None, client: Client) -> None:
    response = client.post(
        "/api/instruments/phq9/score", {}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "answers"
