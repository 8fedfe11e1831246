"""An import comes back whole (issue 13, "Done when"): a multi-patient transaction
Bundle posted to /fhir/, then a bulk `$export` (kick-off, the worker's task, the
status and the NDJSON files), keeps every fact the import kept: each code, value,
unit, time and identifier. Importing the Bundle again adds nothing.

Also: imported Observations (`imported-<uuid>`) at /fhir/Observation (read, search,
paging, audit, another clinic's 404) and other systems' patient identifiers
(`identifier=system|value`, matched on re-import, one patient per identifier).
"""

import copy
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.interop import tasks
from neuroclinic.interop.models import ImportedObservation, PatientIdentifier
from neuroclinic.patients.models import Allergy, Diagnosis, Medication, Patient

Headers = Callable[[User], dict[str, str]]
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
HOSPITAL = "urn:oid:2.16.840.1.113883.19.5.99999.2"
PAYER = "https://payer.example/member-id"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation(
    subject: str, code: str, value: float, unit: str, when: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": quantity(value, unit),
    }


def blood_pressure(subject: str, when: str, sys: int, dia: int) -> dict[str, Any]:
    bp = observation(subject, "85354-9", 0, "mm[Hg]", when)
    del bp["valueQuantity"]
    bp["component"] = [
        {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": quantity(value, "mm[Hg]"),
        }
        for code, value in (("8480-6", sys), ("8462-4", dia))
    ]
    return bp


# Each patient: what the Bundle says, and what the export must give back.
PEOPLE: list[dict[str, Any]] = [
    {
        "url": "urn:uuid:0b6f8a52-1b1e-4c55-9d3c-000000000001",
        "family": "Roundtripson",
        "given": "Marisol",
        "birth": "1981-06-14",
        "gender": "female",
        "identifiers": [(HOSPITAL, "MRN-448812"), (PAYER, "XK-0091-22")],
        "icd10": ("F33.1", "Major depressive disorder, recurrent, moderate"),
        "allergy": ("Penicillin G", "Hives", "moderate"),
        "statement": ("Sertraline 100 MG Oral Tablet", "100 mg daily"),
        "request": ("Bupropion XL 150 mg tablet", "one tablet each morning"),
        "when": "2026-02-03T09:30:00-05:00",
        "vitals": [
            ("8867-4", 68, "/min"),
            ("29463-7", 71.4, "kg"),
            ("8310-5", 36.8, "Cel"),
            ("9279-1", 14, "/min"),
        ],
        "bp": (132, 86),
        "totals": [("44261-6", 17), ("70274-6", 12)],
    },
    {
        "url": "urn:uuid:0b6f8a52-1b1e-4c55-9d3c-000000000002",
        "family": "Exportwell",
        "given": "Tobias",
        "birth": "1969-11-30",
        "gender": "male",
        "identifiers": [(HOSPITAL, "MRN-510027")],
        "icd10": ("F41.1", "Generalized anxiety disorder"),
        "allergy": ("Latex", "Rash", "mild"),
        "statement": ("Lithium carbonate 300 mg capsule", "300 mg twice daily"),
        "request": ("Quetiapine 50 mg tablet", "50 mg at night"),
        "when": "2026-02-04T14:05:00Z",
        "vitals": [("8867-4", 91, "/min"), ("8302-2", 181.5, "cm")],
        "bp": (118, 74),
        "totals": [("44261-6", 5), ("70274-6", 19)],
    },
]


def resources_for(p: dict[str, Any]) -> list[dict[str, Any]]:
    s = p["url"]
    substance, reaction, severity = p["allergy"]
    return [
        {
            "resourceType": "Patient",
            "identifier": [{"system": sy, "value": v} for sy, v in p["identifiers"]],
            "name": [{"family": p["family"], "given": [p["given"]]}],
            "gender": p["gender"],
            "birthDate": p["birth"],
        },
        {
            "resourceType": "Condition",
            "subject": {"reference": s},
            "code": {
                "coding": [
                    {"system": ICD10, "code": p["icd10"][0], "display": p["icd10"][1]}
                ]
            },
        },
        {
            "resourceType": "AllergyIntolerance",
            "patient": {"reference": s},
            "code": {"coding": [{"system": RXNORM, "display": substance}]},
            "reaction": [{"manifestation": [{"text": reaction}], "severity": severity}],
        },
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": {"reference": s},
            "medicationCodeableConcept": {"text": p["statement"][0]},
            "dosage": [{"text": p["statement"][1]}],
        },
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": s},
            "medicationCodeableConcept": {"text": p["request"][0]},
            "dosageInstruction": [{"text": p["request"][1]}],
        },
        blood_pressure(s, p["when"], *p["bp"]),
        *(observation(s, c, v, u, p["when"]) for c, v, u in p["vitals"]),
        *(observation(s, c, v, "{score}", p["when"]) for c, v in p["totals"]),
    ]


def the_bundle() -> dict[str, Any]:
    entries = []
    for p in PEOPLE:
        for r in resources_for(p):
            entry: dict[str, Any] = {
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            if r["resourceType"] == "Patient":
                entry["fullUrl"] = p["url"]
            entries.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def post(client: Client, headers: dict[str, str], body: Any) -> Any:
    return client.post(
        "/fhir/",
        json.dumps(body),
        content_type="application/fhir+json",
        headers=headers,
    )


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (
            Patient,
            PatientIdentifier,
            Diagnosis,
            Allergy,
            Medication,
            ImportedObservation,
        )
    )


def bulk_export(client: Client, headers: dict[str, str]) -> dict[str, list[Any]]:
    """A patient-level $export as a client runs it: kick-off, the worker's task,
    the status URL, then every NDJSON file; each line checked with fhir.resources."""
    started = client.get("/fhir/Patient/$export", headers=headers | ASYNC)
    assert started.status_code == 202
    status = "/fhir/" + started["Content-Location"].split("/fhir/", 1)[1]
    tasks.run_bulk_export.call(status.rsplit("/", 1)[1])
    manifest = client.get(status, headers=headers)
    assert manifest.status_code == 200
    found: dict[str, list[Any]] = {}
    for output in manifest.json()["output"]:
        file = client.get(
            "/fhir/" + output["url"].split("/fhir/", 1)[1], headers=headers
        )
        assert file.status_code == 200
        content = file.streaming_content  # type: ignore[attr-defined]
        for line in b"".join(content).decode().splitlines():
            resource = json.loads(line)
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            found.setdefault(resource["resourceType"], []).append(resource)
    return found


def instant(text: str) -> datetime:
    """The moment a dateTime names (the import keeps the instant; it is served in
    UTC, not in the sender's offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_multi_patient_bundle_comes_back_whole_from_a_bulk_export(
    director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    answer = post(client, headers, the_bundle())
    assert answer.status_code == 200, answer.content[:2000]
    locations = [e["response"]["location"] for e in answer.json()["entry"]]
    patient_urls = [loc for loc in locations if loc.startswith("Patient/")]
    assert len(patient_urls) == 2

    exported = bulk_export(client, headers)

    for p, ours in zip(PEOPLE, patient_urls, strict=True):

        def of(resource_type: str, ours: str = ours) -> list[Any]:
            element = "patient" if resource_type == "AllergyIntolerance" else "subject"
            return [
                r
                for r in exported.get(resource_type, [])
                if r.get(element, {}).get("reference") == ours
            ]

        (patient,) = [r for r in exported["Patient"] if f"Patient/{r['id']}" == ours]
        assert {(i["system"], i["value"]) for i in patient["identifier"]} >= set(
            p["identifiers"]
        )
        assert patient["name"][0]["family"] == p["family"]
        assert patient["name"][0]["given"] == [p["given"]]
        assert (patient["birthDate"], patient["gender"]) == (p["birth"], p["gender"])

        (condition,) = of("Condition")
        assert condition["code"]["coding"][0]["system"] == ICD10
        assert condition["code"]["coding"][0]["code"] == p["icd10"][0]
        assert condition["code"]["coding"][0]["display"] == p["icd10"][1]

        (allergy,) = of("AllergyIntolerance")
        substance, reaction, severity = p["allergy"]
        assert allergy["code"]["text"] == substance
        assert allergy["reaction"][0]["manifestation"][0]["text"] == reaction
        assert allergy["reaction"][0]["severity"] == severity

        # A MedicationRequest is kept on the current medication list and served
        # back as a MedicationStatement (docs/fhir.md, "Import").
        medications = {
            (m["medicationCodeableConcept"]["text"], m["dosage"][0]["text"])
            for m in of("MedicationStatement")
        }
        assert medications == {p["statement"], p["request"]}
        assert "MedicationRequest" not in exported

        observations = of("Observation")
        kept = {
            (
                o["code"]["coding"][0]["system"],
                o["code"]["coding"][0]["code"],
                Decimal(str(o["valueQuantity"]["value"])),
                o["valueQuantity"]["system"],
                o["valueQuantity"]["code"],
                instant(o["effectiveDateTime"]),
                o["category"][0]["coding"][0]["code"],
            )
            for o in observations
        }
        when = instant(p["when"])
        sent = {
            (LOINC, code, Decimal(str(value)), UCUM, unit, when, "vital-signs")
            for code, value, unit in [
                *p["vitals"],
                ("8480-6", p["bp"][0], "mm[Hg]"),
                ("8462-4", p["bp"][1], "mm[Hg]"),
            ]
        } | {
            (LOINC, code, Decimal(value), UCUM, "{score}", when, "survey")
            for code, value in p["totals"]
        }
        assert kept == sent
        assert all(o["id"].startswith("imported-") for o in observations)


def test_importing_the_same_bundle_twice_adds_nothing(
    director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    assert post(client, headers, the_bundle()).status_code == 200
    after_one = counts()
    assert after_one == (2, 3, 2, 2, 4, 14)
    events = AuditEvent.objects.count()

    again = post(client, headers, the_bundle())
    assert again.status_code == 200
    assert {e["response"]["status"] for e in again.json()["entry"]} == {"200 OK"}
    assert counts() == after_one
    # Matched by the other system's identifier, not by the duplicate check.
    outcome = again.json()["entry"][0]["response"]["outcome"]
    assert "same identifier" in outcome["issue"][0]["diagnostics"]
    assert AuditEvent.objects.count() == events


def test_imported_observations_are_read_searched_paged_and_audited(
    director: User, outsider: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    post(client, headers, the_bundle())
    first = Patient.objects.get(family_name="Roundtripson")
    ref = f"Patient/{first.uuid}"

    def search(**params: Any) -> Any:
        found = client.get("/fhir/Observation", params, headers=headers)
        assert found.status_code == 200, found.content[:500]
        return found.json()

    everything = search(patient=ref)
    assert everything["total"] == 8
    survey = search(patient=ref, category="survey")
    assert {e["resource"]["code"]["coding"][0]["code"] for e in survey["entry"]} == {
        "44261-6",
        "70274-6",
    }
    heart = search(patient=ref, code=f"{LOINC}|8867-4")
    (hr,) = [e["resource"] for e in heart["entry"]]
    assert hr["meta"]["profile"][0].endswith("us-core-heart-rate")
    assert search(patient=ref, code="http://snomed.info/sct|8867-4")["total"] == 0
    assert search(patient=ref, date="ge2026-02-03")["total"] == 8
    assert search(patient=ref, date="lt2026-02-03")["total"] == 0
    assert search(patient=ref, date="2026-02-03")["total"] == 8
    assert search(patient=ref, _lastUpdated="ge2026-01-01")["total"] == 8
    assert search(patient=ref, _lastUpdated="lt2026-01-01")["total"] == 0

    # Paging: three at a time, by `next`, every one exactly once.
    seen: list[str] = []
    page = search(patient=ref, _count=3)
    while True:
        seen += [e["resource"]["id"] for e in page["entry"]]
        nexts = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nexts:
            break
        page = client.get(
            "/fhir/" + nexts[0].split("/fhir/", 1)[1], headers=headers
        ).json()
    assert sorted(seen) == sorted(e["resource"]["id"] for e in everything["entry"])
    assert len(set(seen)) == 8

    before = AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API
    ).count()
    read = client.get(f"/fhir/Observation/{hr['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == hr
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_READ_API).latest(
        "id"
    )
    assert event.data["resource_type"] == "Observation"
    assert event.patient_id == first.pk
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_READ_API).count()
        == before + 1
    )
    # The row's uuid alone is not an imported Observation's id (that would be a
    # score Observation's form), nor does another clinic see it.
    row_uuid = hr["id"].removeprefix("imported-")
    assert (
        client.get(f"/fhir/Observation/{row_uuid}", headers=headers).status_code == 404
    )
    assert (
        client.get(
            f"/fhir/Observation/{hr['id']}", headers=bearer(outsider)
        ).status_code
        == 404
    )
    assert search(_id=hr["id"])["total"] == 1

    whole = client.get(f"/fhir/Patient/{first.uuid}/$everything", headers=headers)
    ids = {e["resource"]["id"] for e in whole.json()["entry"]}
    assert {e["resource"]["id"] for e in everything["entry"]} <= ids


def test_outside_identifiers_find_and_name_one_patient(
    director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    post(client, headers, the_bundle())
    first = Patient.objects.get(family_name="Roundtripson")

    found = client.post(
        "/fhir/Patient/_search", {"identifier": f"{PAYER}|XK-0091-22"}, headers=headers
    ).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(first.uuid)]
    other_system = client.post(
        "/fhir/Patient/_search",
        {"identifier": f"{HOSPITAL}|XK-0091-22"},
        headers=headers,
    ).json()
    assert other_system["total"] == 0
    any_system = client.post(
        "/fhir/Patient/_search", {"identifier": "MRN-510027"}, headers=headers
    ).json()
    assert [e["resource"]["name"][0]["family"] for e in any_system["entry"]] == [
        "Exportwell"
    ]

    # An identifier that already names one patient cannot be given to another.
    clash = copy.deepcopy(the_bundle())
    clash["entry"] = clash["entry"][:1]
    clash["entry"][0]["resource"]["identifier"].append(
        {"system": HOSPITAL, "value": "MRN-510027"}
    )
    before = counts()
    refused = post(client, headers, clash)
    assert refused.status_code == 409
    assert "MRN-510027 already names Patient/" in refused.content.decode()
    assert counts() == before

    # An identifier without a system is refused, naming the element.
    blank = copy.deepcopy(the_bundle())
    blank["entry"][0]["resource"]["identifier"][0].pop("system")
    refused = post(client, headers, blank)
    assert refused.status_code == 422
    assert "Bundle.entry[0].resource.identifier[0]" in refused.content.decode()
    assert counts() == before

    row = PatientIdentifier.objects.filter(patient=first).first()
    assert row is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        PatientIdentifier.objects.filter(pk=row.pk).update(value="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        PatientIdentifier.objects.filter(pk=row.pk).delete()
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.IDENTIFIER_ADDED, patient=first
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("value", "unit", "element"),
    [
        (28, "{score}", "valueQuantity.value"),  # above the PHQ-9's 27
        (12.5, "{score}", "valueQuantity.value"),  # totals are whole numbers
        (12, "points", "valueQuantity.code"),
    ],
)
def test_an_outside_total_that_cannot_be_is_refused(
    director: User,
    client: Client,
    bearer: Headers,
    value: float,
    unit: str,
    element: str,
) -> None:
    bundle = the_bundle()
    bundle["entry"] = [
        bundle["entry"][0],
        {
            "resource": observation(
                PEOPLE[0]["url"], "44261-6", value, unit, "2026-02-03T09:30:00Z"
            )
        },
    ]
    refused = post(client, bearer(director), bundle)
    assert refused.status_code == 422
    assert f"Bundle.entry[1].resource.{element}" in refused.content.decode()
    assert counts() == (0, 0, 0, 0, 0, 0)
