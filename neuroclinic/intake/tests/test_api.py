"""The intake API: public consult requests, the staff queue, conversion, status, decisions, consent."""

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from conftest import PERSONA_ROLES, TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import consult_requests
from neuroclinic.intake.models import ConsultRequest, EligibilityDecision
from neuroclinic.intake.tests.factories import consult_request, fill_packet, publish_all
from neuroclinic.patients.models import Patient

BODY = {
    "given_name": "Robin",
    "family_name": "Examplewood",
    "phone": "555-0170",
    "seeking_help_for": "Depression.",
    "consent_to_contact": True,
}


def post(client: Client, path: str, body: dict[str, Any], **extra: Any) -> Any:
    return client.post(path, body, content_type="application/json", **extra)


def test_anyone_may_ask_for_a_consultation(
    client: Client, organization: Organization
) -> None:
    cache.clear()
    response = post(
        client,
        "/api/consult-requests",
        BODY
        | {
            "self_check": [
                {"instrument": "gad7", "answers": {f"gad7-{n}": 2 for n in range(1, 8)}}
            ]
        },
    )
    assert response.status_code == 201
    stored = ConsultRequest.objects.get(uuid=response.json()["uuid"])
    assert stored.source == "api"
    assert stored.self_check[0]["total"] == 14


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent_to_contact": False}, "consent_to_contact"),
        ({"contact_method": "pigeon"}, "contact_method"),
        ({"email": "not-an-email"}, "email"),
        ({"given_name": ""}, "given_name"),
        (
            {"self_check": [{"instrument": "phq9", "answers": {"phq9-1": 9}}]},
            "self_check.0.answers",
        ),
        (
            {"self_check": [{"instrument": "madrs", "answers": {}}]},
            "self_check.0.instrument",
        ),
    ],
)
def test_bad_requests_get_a_problem_naming_the_field(
    client: Client, organization: Organization, change: dict[str, Any], field: str
) -> None:
    cache.clear()
    response = post(client, "/api/consult-requests", BODY | change)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert ConsultRequest.objects.count() == 0


def test_public_requests_are_rate_limited_by_address(
    client: Client, organization: Organization
) -> None:
    cache.clear()
    for _ in range(consult_requests.RATE_LIMIT):
        assert (
            post(
                client, "/api/consult-requests", BODY, REMOTE_ADDR="192.0.2.5"
            ).status_code
            == 201
        )
    refused = post(client, "/api/consult-requests", BODY, REMOTE_ADDR="192.0.2.5")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"


def test_staff_list_update_and_convert(
    client: Client, organization: Organization, front_desk: User, api_token: Any
) -> None:
    request = consult_request(organization)
    headers = api_token(front_desk)
    listed = client.get("/api/consult-requests?status=new", **headers).json()
    assert [r["uuid"] for r in listed] == [str(request.uuid)]
    patched = client.patch(
        f"/api/consult-requests/{request.uuid}",
        {"status": "contacted", "assigned_to": "front_desk", "note": "Called."},
        content_type="application/json",
        **headers,
    )
    assert patched.status_code == 200
    assert patched.json()["status"] == "contacted"
    assert patched.json()["notes"][0]["text"] == "Called."
    bad = client.patch(
        f"/api/consult-requests/{request.uuid}",
        {"status": "converted"},
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "status"
    converted = post(
        client,
        f"/api/consult-requests/{request.uuid}/convert",
        {"birth_date": "1980-02-03", "sex_at_birth": "male"},
        **headers,
    )
    assert converted.status_code == 201
    patient = Patient.objects.get(uuid=converted.json()["patient"])
    status = client.get(f"/api/patients/{patient.uuid}/intake", **headers).json()
    assert next(s["key"] for s in status["sections"]) == "about"


def test_conversion_answers_409_with_duplicates(
    client: Client,
    organization: Organization,
    front_desk: User,
    patient: Patient,
    api_token: Any,
) -> None:
    request = consult_request(organization, given_name="Casey", family_name="Testova")
    response = post(
        client,
        f"/api/consult-requests/{request.uuid}/convert",
        {"birth_date": patient.birth_date.isoformat(), "sex_at_birth": "female"},
        **api_token(front_desk),
    )
    assert response.status_code == 409
    assert response.json()["duplicates"][0]["mrn"] == patient.mrn
    assert response.json()["errors"][0]["field"] == "confirm_new"


def test_eligibility_and_decision_over_the_api(
    client: Client, patient: Patient, prescriber: User, api_token: Any
) -> None:
    fill_packet(patient, medical={"aneurysm_avm": "yes"})
    headers = api_token(prescriber)
    review = client.get(f"/api/patients/{patient.uuid}/eligibility", **headers).json()
    aneurysm = next(f for f in review["findings"] if f["rule_id"] == "aneurysm_avm")
    assert aneurysm["severity"] == "exclusion"
    assert "K20" in aneurysm["source"]
    assert review["blocks_treatment"].startswith("No signed eligibility decision")
    wrong = post(
        client,
        f"/api/patients/{patient.uuid}/eligibility/decisions",
        {"outcome": "eligible", "password": "x"},
        **headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "password"
    made = post(
        client,
        f"/api/patients/{patient.uuid}/eligibility/decisions",
        {"outcome": "not_eligible", "reason": "Aneurysm.", "password": TEST_PASSWORD},
        **headers,
    )
    assert made.status_code == 201
    assert made.json()["rules_version"].startswith("defaults")
    assert EligibilityDecision.objects.count() == 1


def test_consent_status_over_the_api(
    client: Client,
    patient: Patient,
    nurse: User,
    organization: Organization,
    api_token: Any,
) -> None:
    publish_all(organization)
    body = client.get(
        f"/api/patients/{patient.uuid}/consents", **api_token(nurse)
    ).json()
    assert body["ketamine_blocked"].startswith("Consent missing or outdated")
    assert {c["kind"] for c in body["consents"]} == {
        "ketamine",
        "tms",
        "privacy",
        "financial",
        "communication",
    }


# (method, path, body, personas allowed)
API_ACCESS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    (
        "get",
        "/api/consult-requests",
        None,
        {"admin", "director", "prescriber", "nurse", "front_desk"},
    ),
    (
        "get",
        "/api/patients/{patient}/intake",
        None,
        {"admin", "director", "prescriber", "nurse", "front_desk"},
    ),
    (
        "get",
        "/api/patients/{patient}/eligibility",
        None,
        {"director", "prescriber", "nurse", "auditor"},
    ),
    (
        "post",
        "/api/patients/{patient}/eligibility/decisions",
        {"outcome": "eligible", "password": TEST_PASSWORD, "reason": "Seen in clinic"},
        {"director", "prescriber"},
    ),
    (
        "get",
        "/api/patients/{patient}/consents",
        None,
        {"admin", "director", "prescriber", "nurse", "front_desk", "tms", "auditor"},
    ),
]


@pytest.mark.parametrize("persona", [*PERSONA_ROLES, "anonymous"])
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    API_ACCESS,
    ids=[f"{a[0]} {a[1]}" for a in API_ACCESS],
)
def test_api_access_table(
    client: Client,
    persona: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: set[str],
    patient: Patient,
    api_token: Any,
    request: pytest.FixtureRequest,
) -> None:
    headers = (
        {} if persona == "anonymous" else api_token(request.getfixturevalue(persona))
    )
    url = path.format(patient=patient.uuid)
    response = (
        client.post(url, body, content_type="application/json", **headers)
        if method == "post"
        else client.get(url, **headers)
    )
    if persona == "anonymous":
        assert response.status_code == 401
    elif persona in allowed:
        assert response.status_code in (200, 201), (persona, response.content)
    else:
        assert response.status_code in (403, 404), persona
        assert response["Content-Type"] == "application/problem+json"


def test_item6_the_api_names_required_missing_facts_and_refuses_eligible_without_a_reason(
    client: Client, patient: Patient, prescriber: User, api_token: Any
) -> None:
    fill_packet(patient, medical={"preeclampsia": "unsure"})
    headers = api_token(prescriber)
    review = client.get(f"/api/patients/{patient.uuid}/eligibility", **headers).json()
    assert "missing.history.preeclampsia" in review["required_missing"]
    refused = post(
        client,
        f"/api/patients/{patient.uuid}/eligibility/decisions",
        {"outcome": "eligible", "password": TEST_PASSWORD},
        **headers,
    )
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["field"] == "reason"
    assert "Not answered: Pre-eclampsia" in error["message"]
    assert EligibilityDecision.objects.count() == 0
    made = post(
        client,
        f"/api/patients/{patient.uuid}/eligibility/decisions",
        {
            "outcome": "eligible",
            "password": TEST_PASSWORD,
            "reason": "Not pregnant: test negative today",
        },
        **headers,
    )
    assert made.status_code == 201
    assert made.json()["reason"] == "Not pregnant: test negative today"
