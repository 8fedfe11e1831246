"""Patient/$everything and _include: what they add, what they refuse, and that each
resource they show is audited like a read. Validated with fhir.resources."""

from collections.abc import Callable
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.tests.test_fhir_server import body, validate

Fhir = Callable[..., Any]


def test_everything_is_the_patients_whole_compartment(
    charted: InfusionSession, director: User, outsider: User, fhir: Fhir
) -> None:
    patient = charted.patient
    bundle = body(fhir(director, f"Patient/{patient.uuid}/$everything"))
    validate(bundle)
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {
        "Patient",
        "Condition",
        "AllergyIntolerance",
        "MedicationStatement",
        "Observation",
        "QuestionnaireResponse",
        "Encounter",
        "MedicationAdministration",
        "Consent",
    } <= types
    assert bundle["total"] == len(bundle["entry"])
    for entry in bundle["entry"]:
        resource = entry["resource"]
        validate(resource)
        # Every resource is this patient's: the same search by patient finds it.
        if resource["resourceType"] != "Patient":
            same = body(
                fhir(
                    director,
                    resource["resourceType"],
                    patient=str(patient.uuid),
                    _id=resource["id"],
                )
            )
            assert same["total"] == 1, resource["resourceType"]
    narrowed = body(
        fhir(director, f"Patient/{patient.uuid}/$everything", _type="Condition")
    )
    assert {e["resource"]["resourceType"] for e in narrowed["entry"]} == {"Condition"}
    # Another clinic's caller, an unknown id and a bad _type are refused.
    assert fhir(outsider, f"Patient/{patient.uuid}/$everything").status_code == 404
    assert fhir(director, "Patient/nope/$everything").status_code == 404
    bad = fhir(director, f"Patient/{patient.uuid}/$everything", _type="Spaceship")
    assert bad.status_code == 400
    assert body(bad)["resourceType"] == "OperationOutcome"
    assert (
        fhir(director, f"Patient/{patient.uuid}/$everything", x="1").status_code == 400
    )


def test_everything_leaves_out_what_the_role_may_not_read(
    charted: InfusionSession, front_desk: User, fhir: Fhir
) -> None:
    bundle = body(fhir(front_desk, f"Patient/{charted.patient.uuid}/$everything"))
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert "Patient" in types
    assert "Observation" not in types  # front desk sees demographics only


def test_everything_is_audited_in_one_event_naming_every_resource(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    before = AuditEvent.objects.count()
    bundle = body(fhir(director, f"Patient/{charted.patient.uuid}/$everything"))
    events = AuditEvent.objects.order_by("id")[before:]
    reads = [e for e in events if e.data.get("via") == "fhir"]
    assert len(reads) == 1
    (read,) = reads
    assert read.action == AuditEvent.Action.PATIENT_READ_API
    assert read.patient_id == charted.patient.pk
    assert read.data["resource_type"] == "$everything"
    assert sorted(read.data["ids"]) == sorted(
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle["entry"]
    )


def test_include_adds_the_referenced_resources(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    patient = str(charted.patient.uuid)
    bundle = body(
        fhir(
            director,
            "MedicationAdministration",
            patient=patient,
            _include="MedicationAdministration:performer",
        )
    )
    validate(bundle)
    modes = {
        (e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]
    }
    assert modes == {("MedicationAdministration", "match"), ("Practitioner", "include")}
    assert bundle["total"] == 1  # included resources do not count as matches
    with_patient = body(
        fhir(
            director,
            "Observation",
            patient=patient,
            _include="Observation:patient",
        )
    )
    included = [e for e in with_patient["entry"] if e["search"]["mode"] == "include"]
    assert [e["resource"]["id"] for e in included] == [patient]
    encounters = body(
        fhir(
            director,
            "MedicationAdministration",
            patient=patient,
            _include="MedicationAdministration:context",
        )
    )
    assert any(
        e["resource"]["resourceType"] == "Encounter" for e in encounters["entry"]
    )


def test_include_refuses_unknown_pairs(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    for value in ("Observation:spaceship", "Patient:patient2", "Condition:patient"):
        refused = fhir(director, "Observation", _include=value)
        assert refused.status_code == 400, value
        assert body(refused)["resourceType"] == "OperationOutcome"
