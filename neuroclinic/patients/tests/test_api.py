"""The patients API: contract, problem documents for bad input, and who may do what."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import make_patient

VALID = {
    "family_name": "Examplar",
    "given_name": "Sage",
    "birth_date": "1988-08-08",
    "sex_at_birth": "male",
    "phone": "555-014-0001",
    "email": "sage.examplar@example.com",
}


def _problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def test_creating_a_patient_returns_it_with_its_uuid(
    as_persona: Callable[[str], Client],
) -> None:
    response = as_persona("front_desk").post(
        "/api/patients", VALID, content_type="application/json"
    )

    assert response.status_code == 201
    patient = Patient.objects.get()
    assert response.json()["id"] == str(patient.uuid)
    assert response.json()["mrn"] == patient.mrn
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REGISTERED).count()
        == 1
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"birth_date": "2026-02-30"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"email": "no-at-sign.example.com"}, "email"),
        ({"family_name": ""}, "family_name"),
        ({"given_name": "x" * 101}, "given_name"),
        ({"sex_at_birth": "robot"}, "sex_at_birth"),
        ({"phone": "1"}, "phone"),
    ],
)
def test_bad_input_is_a_problem_document_naming_the_field_and_writes_nothing(
    as_persona: Callable[[str], Client], change: dict[str, str], field: str
) -> None:
    events_before = AuditEvent.objects.count()

    response = as_persona("front_desk").post(
        "/api/patients", VALID | change, content_type="application/json"
    )

    assert response.status_code == 422
    body = _problem(response)
    assert [e["field"] for e in body["errors"]] == [field]
    assert Patient.objects.exists() is False
    assert AuditEvent.objects.count() == events_before


def test_a_missing_field_is_named(as_persona: Callable[[str], Client]) -> None:
    payload = {k: v for k, v in VALID.items() if k != "birth_date"}

    response = as_persona("front_desk").post(
        "/api/patients", payload, content_type="application/json"
    )

    assert response.status_code == 422
    assert [e["field"] for e in _problem(response)["errors"]] == ["birth_date"]


def test_malformed_json_is_a_problem_document(
    as_persona: Callable[[str], Client],
) -> None:
    response = as_persona("front_desk").post(
        "/api/patients", "{not json", content_type="application/json"
    )

    assert response.status_code in (400, 422)
    _problem(response)
    assert Patient.objects.exists() is False


def test_patching_changes_only_the_given_fields(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    response = as_persona("nurse").patch(
        f"/api/patients/{patient.uuid}",
        {"preferred_name": "Case"},
        content_type="application/json",
    )

    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.preferred_name, patient.family_name) == ("Case", "Testova")
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_UPDATED)
    assert event.data["fields"] == ["preferred_name"]
    assert event.data["changes"] == {"preferred_name": {"old": "", "new": "Case"}}


def test_patching_a_bad_value_writes_nothing(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    response = as_persona("nurse").patch(
        f"/api/patients/{patient.uuid}",
        {"email": "nope", "family_name": None},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert {e["field"] for e in _problem(response)["errors"]} == {"family_name"}
    patient.refresh_from_db()
    assert patient.email == "casey.testova@example.com"


def test_list_is_paginated_and_search_is_a_post(
    as_persona: Callable[[str], Client], organization: Organization
) -> None:
    for n in range(3):
        make_patient(organization, family_name=f"Mockingham{n}")
    make_patient(organization, family_name="Notreal")
    client = as_persona("front_desk")

    everyone = client.get("/api/patients").json()
    found = client.post(
        "/api/patients/search", {"q": "mocking"}, content_type="application/json"
    ).json()
    empty = client.post(
        "/api/patients/search", {"q": ""}, content_type="application/json"
    )

    assert everyone["count"] == 4
    assert [p["family_name"] for p in found] == [
        "Mockingham0",
        "Mockingham1",
        "Mockingham2",
    ]
    assert empty.status_code == 422
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENTS_SEARCHED).count()
        == 1
    )


@pytest.mark.parametrize("query", ["q=demow", "q=", "page=1&q=Testova"])
def test_the_list_refuses_q_and_names_it_rather_than_listing_everyone(
    as_persona: Callable[[str], Client], patient: Patient, query: str
) -> None:
    response = as_persona("front_desk").get(f"/api/patients?{query}")

    assert response.status_code == 400
    body = _problem(response)
    assert body["title"] == "Bad request"
    assert "'q'" in body["detail"]
    assert "POST /api/patients/search" in body["detail"]
    assert "Testova" not in response.content.decode()
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENTS_SEARCHED
    ).exists()


def test_the_list_names_any_other_unknown_parameter(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    response = as_persona("front_desk").get("/api/patients?family_name=Testova")

    assert response.status_code == 400
    assert "'family_name'" in _problem(response)["detail"]


def test_the_list_takes_page_and_page_size(
    as_persona: Callable[[str], Client], organization: Organization
) -> None:
    for n in range(3):
        make_patient(organization, family_name=f"Pagewright{n}")

    response = as_persona("front_desk").get("/api/patients?page=2&page_size=2")

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [p["family_name"] for p in response.json()["items"]] == ["Pagewright0"]


def test_reading_a_patient_is_audited(
    as_persona: Callable[[str], Client], patient: Patient, nurse: User
) -> None:
    response = as_persona("nurse").get(f"/api/patients/{patient.uuid}")

    assert response.status_code == 200
    assert response.json()["family_name"] == "Testova"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_READ_API)
    assert (event.actor, event.patient) == (nurse, patient)


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_read_a_patient(
    as_persona: Callable[[str], Client], patient: Patient, persona: str
) -> None:
    response = as_persona(persona).get(f"/api/patients/{patient.uuid}")

    # Another organization's patient looks like no patient.
    status = expected_status(
        persona,
        personas_with(Capability.VIEW_PATIENT_LIST),
        anonymous=401,
        outsider=404,
    )

    assert response.status_code == status
    if status != 200:
        body = _problem(response)
        assert "Testova" not in response.content.decode()
        assert body["status"] == status


def test_an_unknown_uuid_and_another_clinics_patient_answer_alike(
    as_persona: Callable[[str], Client], other_organization: Organization
) -> None:
    theirs = make_patient(other_organization)
    client = as_persona("nurse")

    missing = client.get("/api/patients/00000000-0000-4000-8000-000000000000")
    foreign = client.get(f"/api/patients/{theirs.uuid}")
    not_a_uuid = client.get("/api/patients/LK-000001")

    assert missing.status_code == foreign.status_code == 404
    assert _problem(missing)["detail"] == _problem(foreign)["detail"]
    assert not_a_uuid.status_code in (404, 422)


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_create_a_patient(
    as_persona: Callable[[str], Client], persona: str
) -> None:
    response = as_persona(persona).post(
        "/api/patients", VALID, content_type="application/json"
    )

    # The outsider, a nurse, registers patients at their own clinic.
    registrars = personas_with(Capability.REGISTER_PATIENT) | {"outsider"}
    status = expected_status(persona, registrars, ok=201, anonymous=401)

    assert response.status_code == status
    assert Patient.objects.exists() is (status == 201)


def test_a_bearer_token_works_without_a_session(
    nurse: User, patient: Patient, bearer: Callable[[User], dict[str, str]]
) -> None:
    response = Client().get(f"/api/patients/{patient.uuid}", headers=bearer(nurse))

    assert response.status_code == 200


def test_session_writes_need_the_csrf_token(nurse: User) -> None:
    from conftest import login

    client = login(Client(enforce_csrf_checks=True), nurse)

    response = client.post("/api/patients", VALID, content_type="application/json")

    assert response.status_code in (401, 403)
    assert Patient.objects.exists() is False


def test_openapi_documents_the_contract(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()

    assert {"/api/patients", "/api/patients/{patient_id}"} <= set(schema["paths"])
    assert "bearerAuth" in str(
        schema["components"]["securitySchemes"]
    ) or "StaffToken" in str(schema["components"]["securitySchemes"])


def test_a_likely_duplicate_is_refused_with_409_naming_the_existing_patient(
    as_persona: Callable[[str], Client], organization: Organization
) -> None:
    """The staff page's rule (same birth date, similar name), at the API's door."""
    from datetime import date

    existing = make_patient(
        organization,
        family_name="Examplor",
        given_name="Sage",
        birth_date=date(1988, 8, 8),
    )
    client = as_persona("front_desk")
    events = AuditEvent.objects.count()

    refused = client.post("/api/patients", VALID, content_type="application/json")

    assert refused.status_code == 409
    body = _problem(refused)
    assert body["existing_patients"] == [str(existing.uuid)]
    assert str(existing.uuid) in body["detail"]
    assert "allow_duplicate" in body["detail"]
    # No PHI in the answer: neither name nor birth date of the existing record.
    assert "Examplor" not in refused.content.decode()
    assert "1988" not in refused.content.decode()
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_allow_duplicate_registers_a_second_record_and_audits_the_override(
    as_persona: Callable[[str], Client], organization: Organization
) -> None:
    from datetime import date

    existing = make_patient(
        organization,
        family_name="Examplar",
        given_name="Sam",
        birth_date=date(1988, 8, 8),
    )
    client = as_persona("front_desk")

    response = client.post(
        "/api/patients",
        VALID | {"allow_duplicate": True},
        content_type="application/json",
    )

    assert response.status_code == 201
    created = Patient.objects.get(uuid=response.json()["id"])
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.PATIENT_REGISTERED, patient=created
    )
    assert event.data["confirmed_not_duplicate_of"] == [str(existing.uuid)]
    assert event.data["via"] == "api"


def test_a_different_birth_date_is_not_a_duplicate(
    as_persona: Callable[[str], Client], organization: Organization
) -> None:
    from datetime import date

    make_patient(
        organization,
        family_name="Examplar",
        given_name="Sage",
        birth_date=date(1988, 8, 9),
    )
    response = as_persona("front_desk").post(
        "/api/patients", VALID, content_type="application/json"
    )
    assert response.status_code == 201
    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_REGISTERED
    ).latest("seq")
    assert "confirmed_not_duplicate_of" not in event.data


def test_another_clinics_patient_is_not_a_duplicate(
    as_persona: Callable[[str], Client], other_organization: Organization
) -> None:
    from datetime import date

    make_patient(
        other_organization,
        family_name="Examplar",
        given_name="Sage",
        birth_date=date(1988, 8, 8),
    )
    response = as_persona("front_desk").post(
        "/api/patients", VALID, content_type="application/json"
    )
    assert response.status_code == 201
