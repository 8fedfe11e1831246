"""Import beyond Patient/Condition/QuestionnaireResponse, per-entry batch answers,
FHIR create, and the duplicate-patient check at the FHIR doors (issue 13).

- AllergyIntolerance -> the chart's allergies; MedicationStatement/Request -> its
  current medications; vital-sign Observations -> interop.ImportedObservation.
- A transaction stays all or nothing; a batch answers each entry (status, outcome),
  writing nothing for a failed entry.
"""

import copy
import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.interop.fhir.clinical import MRN_SYSTEM
from neuroclinic.interop.fhir.inbound import CONFIRMED_NOT_DUPLICATE_URL
from neuroclinic.interop.models import ImportedObservation
from neuroclinic.patients.models import Allergy, Diagnosis, Medication, Patient
from neuroclinic.patients.tests.factories import make_patient

Headers = Callable[[User], dict[str, str]]
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
VITALS = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
        }
    ]
}


def q(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def allergy(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {
            "coding": [{"system": RXNORM, "code": "7980", "display": "Penicillin G"}]
        },
        "patient": {"reference": subject},
        "reaction": [
            {"manifestation": [{"text": "Hives"}], "severity": "moderate"},
            {"manifestation": [{"text": "Wheeze"}], "severity": "severe"},
        ],
    }


def statement(subject: str, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": status,
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "36437", "display": "Sertraline"}]
        },
        "subject": {"reference": subject},
        "dosage": [{"text": "100 mg daily"}],
    }


def request_(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Bupropion XL 150 mg tablet"},
        "subject": {"reference": subject},
        "dosageInstruction": [{"text": "one tablet each morning"}],
    }


def blood_pressure(
    subject: str, when: str = "2026-01-05T09:30:00Z", systolic: float = 128
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITALS],
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "component": [
            {
                "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                "valueQuantity": q(systolic, "mm[Hg]"),
            },
            {
                "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                "valueQuantity": q(82, "mm[Hg]"),
            },
        ],
    }


def heart_rate(subject: str, unit: str = "/min") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITALS],
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2026-01-05T09:30:00Z",
        "valueQuantity": q(72, unit),
    }


def lab(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2339-0", "display": "Glucose"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2026-01-05T09:30:00Z",
        "valueQuantity": q(95, "mg/dL"),
    }


WRITES = [
    AuditEvent.Action.PATIENT_REGISTERED,
    AuditEvent.Action.ALLERGY_ADDED,
    AuditEvent.Action.MEDICATION_ADDED,
    AuditEvent.Action.OBSERVATION_IMPORTED,
    AuditEvent.Action.FHIR_IMPORTED,
]
PATIENT_URL = "urn:uuid:6a1e0c2e-0000-4000-8000-000000000001"


def new_patient(
    family: str = "Importwell", birth: str = "1979-04-12"
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"family": family, "given": ["Avery"]}],
        "gender": "female",
        "birthDate": birth,
    }


def bundle(kind: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    entries = []
    for r in resources:
        entry: dict[str, Any] = {
            "resource": r,
            "request": {"method": "POST", "url": r["resourceType"]},
        }
        if r["resourceType"] == "Patient":
            entry["fullUrl"] = PATIENT_URL
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def synthea_like() -> list[dict[str, Any]]:
    s = PATIENT_URL
    return [
        new_patient(),
        allergy(s),
        statement(s),
        request_(s),
        blood_pressure(s),
        heart_rate(s),
        lab(s),
        statement(s, status="stopped"),
        {"resourceType": "Encounter", "status": "finished"},
        {"resourceType": "Claim", "status": "active"},
    ]


def post(
    client: Client, headers: dict[str, str], body: Any, url: str = "/fhir/"
) -> Any:
    return client.post(
        url, json.dumps(body), content_type="application/fhir+json", headers=headers
    )


def written() -> tuple[int, int, int, int, int]:
    return (
        Patient.objects.count(),
        Diagnosis.objects.count(),
        Allergy.objects.count(),
        Medication.objects.count(),
        ImportedObservation.objects.count(),
    )


def statuses(response: Any) -> list[str]:
    return [e["response"]["status"] for e in response.json()["entry"]]


def test_a_transaction_imports_what_we_keep_and_skips_the_rest(
    director: User, client: Client, bearer: Headers
) -> None:
    response = post(client, bearer(director), bundle("transaction", synthea_like()))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "transaction-response"
    assert statuses(response) == ["201 Created"] * 6 + ["200 OK"] * 4
    skipped = body["entry"][6]["response"]["outcome"]["issue"][0]
    assert (skipped["severity"], skipped["code"]) == ("warning", "not-supported")
    assert "2339-0" in skipped["diagnostics"]
    patient = Patient.objects.get(family_name="Importwell")
    assert written() == (1, 0, 1, 2, 3)
    a = Allergy.objects.get(patient=patient)
    assert (a.substance, a.reaction, a.severity) == (
        "Penicillin G",
        "Hives, Wheeze",
        "severe",
    )
    assert sorted(Medication.objects.values_list("name", "dose")) == [
        ("Bupropion XL 150 mg tablet", "one tablet each morning"),
        ("Sertraline", "100 mg daily"),
    ]
    assert sorted(
        ImportedObservation.objects.values_list("loinc_code", "value", "unit")
    ) == [
        ("8462-4", Decimal("82.000"), "mm[Hg]"),
        ("8480-6", Decimal("128.000"), "mm[Hg]"),
        ("8867-4", Decimal("72.000"), "/min"),
    ]
    # Every record audited, and the import as a whole.
    actions = list(
        AuditEvent.objects.filter(actor=director).values_list("action", flat=True)
    )
    assert actions.count(AuditEvent.Action.ALLERGY_ADDED) == 1
    assert actions.count(AuditEvent.Action.MEDICATION_ADDED) == 2
    assert actions.count(AuditEvent.Action.OBSERVATION_IMPORTED) == 3
    summary = AuditEvent.objects.get(action=AuditEvent.Action.FHIR_IMPORTED)
    assert summary.data["counts"] == {"created": 6, "skipped": 4}
    # The lists read back through the server.
    allergies = client.get(
        "/fhir/AllergyIntolerance",
        {"patient": str(patient.uuid)},
        headers=bearer(director),
    ).json()
    assert allergies["total"] == 1


def test_importing_again_for_our_patient_matches_and_adds_nothing(
    patient: Patient, director: User, client: Client, bearer: Headers
) -> None:
    ours = f"Patient/{patient.uuid}"
    body = bundle(
        "transaction",
        [allergy(ours), statement(ours), request_(ours), blood_pressure(ours)],
    )
    headers = bearer(director)
    assert statuses(post(client, headers, body)) == ["201 Created"] * 4
    before = written()
    events = AuditEvent.objects.count()

    again = post(client, headers, body)

    assert statuses(again) == ["200 OK"] * 4
    assert again.json()["entry"][0]["response"]["location"].startswith(
        "AllergyIntolerance/"
    )
    assert written() == before
    assert AuditEvent.objects.count() == events


def test_our_own_patient_by_id_or_mrn_is_matched_not_registered_again(
    patient: Patient, director: User, client: Client, bearer: Headers
) -> None:
    by_id = new_patient(patient.family_name, patient.birth_date.isoformat()) | {
        "id": str(patient.uuid)
    }
    by_mrn = new_patient(patient.family_name, patient.birth_date.isoformat()) | {
        "identifier": [{"system": MRN_SYSTEM, "value": patient.mrn}]
    }
    for resource in (by_id, by_mrn):
        response = post(client, bearer(director), bundle("batch", [resource]))
        entry = response.json()["entry"][0]["response"]
        assert (entry["status"], entry["location"]) == (
            "200 OK",
            f"Patient/{patient.uuid}",
        )
    assert Patient.objects.count() == 1


BAD = [
    # (name, resource, expected status, expression)
    (
        "wrong unit",
        lambda s: heart_rate(s, unit="mm[Hg]"),
        "422 Unprocessable Entity",
        "Bundle.entry[1].resource.valueQuantity.code",
    ),
    (
        "unknown reference",
        lambda s: allergy(f"Patient/{uuid.uuid4()}"),
        "404 Not Found",
        "Bundle.entry[1].resource.patient",
    ),
    (
        "invalid date",
        lambda s: blood_pressure(s, when="2026-02-30T09:00:00Z"),
        "422 Unprocessable Entity",
        "Bundle.entry[1].resource.effectiveDateTime",
    ),
    (
        "no time zone",
        lambda s: blood_pressure(s, when="2026-01-05T09:00:00"),
        "422 Unprocessable Entity",
        "Bundle.entry[1].resource.effectiveDateTime",
    ),
    (
        "impossible value",
        lambda s: blood_pressure(s, systolic=900),
        "422 Unprocessable Entity",
        "Bundle.entry[1].resource.component[0].valueQuantity.value",
    ),
    (
        "medication by reference only",
        lambda s: (
            {k: v for k, v in statement(s).items() if k != "medicationCodeableConcept"}
            | {"medicationReference": {"reference": "Medication/x"}}
        ),
        "422 Unprocessable Entity",
        "Bundle.entry[1].resource.medicationCodeableConcept",
    ),
    (
        "unknown element",
        lambda s: allergy(s) | {"substance": "cats"},
        "422 Unprocessable Entity",
        "Bundle.entry[1].resource.substance",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "status", "expression"), BAD, ids=[b[0] for b in BAD]
)
def test_a_batch_answers_each_entry_and_writes_nothing_for_a_failed_one(
    director: User,
    client: Client,
    bearer: Headers,
    name: str,
    make: Callable[[str], dict[str, Any]],
    status: str,
    expression: str,
) -> None:
    resources = [new_patient(), make(PATIENT_URL), statement(PATIENT_URL)]
    response = post(client, bearer(director), bundle("batch", resources))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "batch-response"
    assert statuses(response) == ["201 Created", status, "201 Created"]
    outcome = body["entry"][1]["response"]["outcome"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for i in outcome["issue"] for e in i["expression"]]
    assert "location" not in body["entry"][1]["response"]
    # The good entries are written; the failed one wrote nothing.
    assert written() == (1, 0, 0, 1, 0)


@pytest.mark.parametrize(
    ("name", "make", "status", "expression"), BAD, ids=[b[0] for b in BAD]
)
def test_a_transaction_with_one_bad_entry_writes_nothing(
    director: User,
    client: Client,
    bearer: Headers,
    name: str,
    make: Callable[[str], dict[str, Any]],
    status: str,
    expression: str,
) -> None:
    resources = [new_patient(), make(PATIENT_URL), *synthea_like()[1:]]
    response = post(client, bearer(director), bundle("transaction", resources))

    assert response.status_code == 422, response.content
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for i in outcome["issue"] for e in i["expression"]]
    assert written() == (0, 0, 0, 0, 0)
    # No record's event survives the rollback (the refusal itself may be logged).
    assert not AuditEvent.objects.filter(action__in=WRITES).exists()


def test_a_batch_entry_about_a_patient_that_failed_fails_too(
    director: User, client: Client, bearer: Headers
) -> None:
    broken = new_patient() | {"gender": "f"}
    response = post(
        client,
        bearer(director),
        bundle("batch", [broken, allergy(PATIENT_URL)]),
    )
    assert statuses(response) == ["422 Unprocessable Entity", "424 Failed Dependency"]
    issue = response.json()["entry"][1]["response"]["outcome"]["issue"][0]
    assert "entry 0" in issue["diagnostics"]
    assert written() == (0, 0, 0, 0, 0)


# The duplicate-patient check at the FHIR doors ---------------------------------------


@pytest.fixture
def existing(organization: Organization) -> Patient:
    return make_patient(
        organization,
        family_name="Importwel",
        given_name="Avery",
        birth_date=date(1979, 4, 12),
    )


def test_a_likely_duplicate_in_a_batch_is_refused_and_its_entries_with_it(
    existing: Patient, director: User, client: Client, bearer: Headers
) -> None:
    response = post(
        client,
        bearer(director),
        bundle("batch", [new_patient(), allergy(PATIENT_URL)]),
    )
    assert statuses(response) == ["409 Conflict", "424 Failed Dependency"]
    issue = response.json()["entry"][0]["response"]["outcome"]["issue"][0]
    assert issue["code"] == "duplicate"
    assert f"Patient/{existing.uuid}" in issue["diagnostics"]
    assert "1979" not in issue["diagnostics"]
    assert written() == (1, 0, 0, 0, 0)


def test_a_likely_duplicate_in_a_transaction_is_a_409(
    existing: Patient, director: User, client: Client, bearer: Headers
) -> None:
    response = post(client, bearer(director), bundle("transaction", synthea_like()))
    assert response.status_code == 409
    assert f"Patient/{existing.uuid}" in response.json()["issue"][0]["diagnostics"]
    assert written() == (1, 0, 0, 0, 0)


def confirmed(resource: dict[str, Any]) -> dict[str, Any]:
    return resource | {
        "extension": [{"url": CONFIRMED_NOT_DUPLICATE_URL, "valueBoolean": True}]
    }


def test_the_confirmed_not_duplicate_extension_registers_a_second_record_audited(
    existing: Patient, director: User, client: Client, bearer: Headers
) -> None:
    resources = synthea_like()
    resources[0] = confirmed(resources[0])
    response = post(client, bearer(director), bundle("transaction", resources))
    assert response.status_code == 200, response.content
    second = Patient.objects.exclude(pk=existing.pk).get()
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.PATIENT_REGISTERED, patient=second
    )
    assert event.data["confirmed_not_duplicate_of"] == [str(existing.uuid)]
    assert event.data["via"] == "fhir"


def test_fhir_create_of_a_patient_runs_the_same_check(
    existing: Patient, director: User, client: Client, bearer: Headers
) -> None:
    refused = post(client, bearer(director), new_patient(), url="/fhir/Patient")
    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/fhir+json"
    assert f"Patient/{existing.uuid}" in refused.json()["issue"][0]["diagnostics"]
    assert Patient.objects.count() == 1

    created = post(
        client, bearer(director), confirmed(new_patient()), url="/fhir/Patient"
    )
    assert created.status_code == 201
    second = Patient.objects.exclude(pk=existing.pk).get()
    assert created["Location"] == f"Patient/{second.uuid}"


def test_fhir_create_of_the_other_types(
    patient: Patient, director: User, client: Client, bearer: Headers
) -> None:
    ours = f"Patient/{patient.uuid}"
    headers = bearer(director)
    for resource in (allergy(ours), statement(ours), request_(ours), heart_rate(ours)):
        url = f"/fhir/{resource['resourceType']}"
        assert post(client, headers, resource, url=url).status_code == 201
        again = post(client, headers, resource, url=url)
        assert again.status_code == 200
    assert written() == (1, 0, 1, 2, 1)
    bad = post(client, headers, heart_rate(ours, unit="kg"), url="/fhir/Observation")
    assert bad.status_code == 422
    assert bad.json()["issue"][0]["expression"] == ["Observation.valueQuantity.code"]
    skipped = post(client, headers, lab(ours), url="/fhir/Observation")
    assert skipped.status_code == 422
    wrong_type = post(client, headers, allergy(ours), url="/fhir/Observation")
    assert wrong_type.status_code == 400
    assert written() == (1, 0, 1, 2, 1)


def test_a_smart_token_or_a_role_without_the_capabilities_cannot_create(
    patient: Patient, front_desk: User, client: Client, bearer: Headers
) -> None:
    response = post(
        client,
        bearer(front_desk),
        allergy(f"Patient/{patient.uuid}"),
        url="/fhir/AllergyIntolerance",
    )
    assert response.status_code == 403
    assert Allergy.objects.count() == 0


def test_imported_vitals_are_append_only(
    patient: Patient, director: User, client: Client, bearer: Headers
) -> None:
    post(
        client,
        bearer(director),
        bundle("batch", [heart_rate(f"Patient/{patient.uuid}")]),
    )
    row = ImportedObservation.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        ImportedObservation.objects.filter(pk=row.pk).update(value=Decimal(99))
    with pytest.raises(DatabaseError), transaction.atomic():
        ImportedObservation.objects.filter(pk=row.pk).delete()
    row.refresh_from_db()
    assert row.value == Decimal("72.000")


def test_the_command_reports_each_entry_of_a_batch(
    director: User, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import CommandError, call_command

    resources = copy.deepcopy(synthea_like())
    resources[5] = heart_rate(PATIENT_URL, unit="kg")
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(bundle("batch", resources)))
    with pytest.raises(CommandError, match="failed entries"):
        call_command("import", "fhir", str(path), "--as", director.username)
    out, err = capsys.readouterr()
    assert "5 created, 0 matched, 4 skipped, 1 failed" in out
    assert "Bundle.entry[5].resource.valueQuantity.code" in err
    assert written() == (1, 0, 1, 2, 2)
