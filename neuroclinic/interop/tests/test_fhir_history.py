"""History and vread: a chart list entry is recorded (version 1) and may be ended
(version 2); records that never change have one version; types whose records change
without kept versions offer none, and the CapabilityStatement says which is which.
Validated with fhir.resources."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.tests.test_fhir_server import body, validate
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Diagnosis

Fhir = Callable[..., Any]


def test_an_ended_diagnosis_has_two_versions(
    charted: InfusionSession, prescriber: User, director: User, fhir: Fhir
) -> None:
    diagnosis = Diagnosis.objects.get(patient=charted.patient)
    path = f"Condition/{diagnosis.uuid}"
    assert body(fhir(director, path))["meta"]["versionId"] == "1"
    patient_actions.end_list_entry(diagnosis, reason="resolved", by=prescriber)
    now = body(fhir(director, path))
    assert now["meta"]["versionId"] == "2"
    assert now["clinicalStatus"]["coding"][0]["code"] == "resolved"

    before = AuditEvent.objects.count()
    history = body(fhir(director, f"{path}/_history"))
    validate(history)
    assert history["type"] == "history"
    assert history["total"] == 2
    newest, oldest = (e["resource"] for e in history["entry"])
    assert newest == now
    assert oldest["meta"]["versionId"] == "1"
    assert oldest["clinicalStatus"]["coding"][0]["code"] == "active"
    assert "abatementDateTime" not in oldest
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"2"', 'W/"1"']
    assert AuditEvent.objects.count() > before  # the history read is audited

    first = fhir(director, f"{path}/_history/1")
    assert first.status_code == 200
    assert first["ETag"] == 'W/"1"'
    assert body(first) == oldest
    assert body(fhir(director, f"{path}/_history/2")) == now


def test_an_entry_still_active_has_one_version(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    bundle = body(fhir(director, "AllergyIntolerance", _count=100))
    allergy = bundle["entry"][0]["resource"]
    history = body(fhir(director, f"AllergyIntolerance/{allergy['id']}/_history"))
    validate(history)
    assert [e["resource"] for e in history["entry"]] == [allergy]


@pytest.mark.parametrize(
    "resource_type",
    [
        "QuestionnaireResponse",
        "Observation",
        "MedicationAdministration",
        "Consent",
        "DocumentReference",
        "MedicationStatement",
    ],
)
def test_records_that_never_change_have_one_version(
    charted: InfusionSession, director: User, fhir: Fhir, resource_type: str
) -> None:
    for entry in body(fhir(director, resource_type, _count=100))["entry"]:
        resource = entry["resource"]
        path = f"{resource_type}/{resource['id']}"
        history = body(fhir(director, f"{path}/_history"))
        validate(history)
        assert history["total"] == 1
        (only,) = (e["resource"] for e in history["entry"])
        assert only["meta"]["versionId"] == "1"
        assert {k: v for k, v in only.items() if k != "meta"} == {
            k: v for k, v in resource.items() if k != "meta"
        }
        assert body(fhir(director, f"{path}/_history/1")) == only


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("Condition/00000000-0000-0000-0000-000000000000/_history", 404),
        ("Condition/not-a-uuid/_history", 404),
        ("Condition/{condition}/_history/3", 404),
        ("Condition/{condition}/_history/x", 404),
        ("Condition/{condition}/_history/0", 404),
        ("Patient/{patient}/_history", 404),  # patients change; versions not kept
        ("Encounter/{encounter}/_history", 404),
        ("Encounter/{encounter}/_history/1", 404),
        ("Condition/_history", 404),  # no type-level history
        ("Bogus/{condition}/_history", 404),
    ],
)
def test_bad_history_requests_answer_operation_outcome(
    charted: InfusionSession, director: User, fhir: Fhir, path: str, status: int
) -> None:
    diagnosis = Diagnosis.objects.get(patient=charted.patient)
    response = fhir(
        director,
        path.format(
            condition=diagnosis.uuid,
            patient=charted.patient.uuid,
            encounter=charted.uuid,
        ),
    )
    assert response.status_code == status
    outcome = body(response)
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"


def test_history_is_checked_like_a_read(
    charted: InfusionSession,
    director: User,
    front_desk: User,
    outsider: User,
    fhir: Fhir,
    client: Client,
) -> None:
    diagnosis = Diagnosis.objects.get(patient=charted.patient)
    path = f"Condition/{diagnosis.uuid}/_history"
    assert fhir(None, path).status_code == 401
    assert fhir(front_desk, path).status_code == 403
    assert fhir(outsider, path).status_code == 404  # another clinic's: not found
    assert fhir(director, path, bogus="1").status_code == 400
    assert client.post(f"/fhir/{path}").status_code == 405


def test_capability_statement_tells_which_types_keep_versions(
    client: Client,
) -> None:
    statement = body(client.get("/fhir/metadata"))
    validate(statement)
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}

    def interactions(name: str) -> set[str]:
        return {i["code"] for i in by_type[name]["interaction"]}

    for name in ("Condition", "AllergyIntolerance", "MedicationStatement"):
        assert {"vread", "history-instance"} <= interactions(name)
        assert by_type[name]["versioning"] == "versioned"
    for name in ("QuestionnaireResponse", "Observation", "Consent"):
        assert {"vread", "history-instance"} <= interactions(name)
    for name in ("Patient", "Encounter", "Organization", "Practitioner"):
        assert interactions(name) == {"read", "search-type"}
        assert by_type[name]["versioning"] == "no-version"
    assert "Observation:subject" in by_type["Patient"]["searchRevInclude"]
    assert by_type["Encounter"]["searchRevInclude"] == [
        "MedicationAdministration:context"
    ]
