"""Organization, Location, Practitioner, PractitionerRole, AllergyIntolerance and
MedicationStatement: what each carries, their statuses, and that another clinic's
staff and places stay out of sight. Every resource is validated with fhir.resources."""

from collections.abc import Callable
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.tests.test_fhir_server import body, validate
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Allergy, Medication

Fhir = Callable[..., Any]


def test_allergy_carries_substance_reaction_and_status(
    charted: InfusionSession, nurse: User, prescriber: User, fhir: Fhir
) -> None:
    patient = str(charted.patient.uuid)
    bundle = body(fhir(nurse, "AllergyIntolerance", patient=patient))
    assert bundle["total"] == 1
    allergy = bundle["entry"][0]["resource"]
    validate(allergy)
    assert allergy["code"] == {"text": "Penicillin"}
    assert allergy["reaction"] == [
        {"manifestation": [{"text": "Hives"}], "severity": "moderate"}
    ]
    assert allergy["clinicalStatus"]["coding"][0]["code"] == "active"
    assert allergy["recorder"] == {"reference": f"Practitioner/{prescriber.uuid}"}

    entry = Allergy.objects.get(uuid=allergy["id"])
    patient_actions.end_list_entry(entry, reason="entered_in_error", by=prescriber)
    wrong = body(fhir(nurse, f"AllergyIntolerance/{allergy['id']}"))
    validate(wrong)
    assert "clinicalStatus" not in wrong  # invariant ait-2
    assert wrong["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    active = body(
        fhir(
            nurse,
            "AllergyIntolerance",
            patient=patient,
            **{"clinical-status": "active"},
        )
    )
    assert active["total"] == 0


def test_medication_statement_status_follows_the_list(
    charted: InfusionSession, nurse: User, prescriber: User, fhir: Fhir
) -> None:
    patient = str(charted.patient.uuid)
    (statement,) = [
        e["resource"]
        for e in body(fhir(nurse, "MedicationStatement", patient=patient))["entry"]
    ]
    validate(statement)
    assert statement["status"] == "active"
    assert statement["medicationCodeableConcept"] == {"text": "Sertraline"}
    assert statement["dosage"] == [{"text": "100 mg daily"}]

    entry = Medication.objects.get(uuid=statement["id"])
    patient_actions.end_list_entry(entry, reason="resolved", by=prescriber)
    stopped = body(fhir(nurse, f"MedicationStatement/{statement['id']}"))
    validate(stopped)
    assert stopped["status"] == "completed"
    assert "end" in stopped["effectivePeriod"]
    assert body(fhir(nurse, "MedicationStatement", status="active"))["total"] == 0
    assert body(fhir(nurse, "MedicationStatement", status="completed"))["total"] == 1


def test_staff_and_places_are_the_clinics_own(
    charted: InfusionSession, nurse: User, outsider: User, fhir: Fhir
) -> None:
    assert nurse.organization is not None
    org = body(fhir(nurse, "Organization"))
    assert [e["resource"]["id"] for e in org["entry"]] == [str(nurse.organization.uuid)]
    locations = body(fhir(nurse, "Location"))
    assert locations["total"] >= 1
    for entry in locations["entry"]:
        validate(entry["resource"])
        assert entry["resource"]["managingOrganization"] == {
            "reference": f"Organization/{nurse.organization.uuid}"
        }
    people = body(fhir(nurse, "Practitioner", _count=100))
    ids = {e["resource"]["id"] for e in people["entry"]}
    assert str(nurse.uuid) in ids
    assert str(outsider.uuid) not in ids
    assert fhir(nurse, f"Practitioner/{outsider.uuid}").status_code == 404
    assert fhir(nurse, f"Organization/{outsider.organization.uuid}").status_code == 404  # type: ignore[union-attr]
    # No sign-in name or contact details: only name and title.
    mine = body(fhir(nurse, f"Practitioner/{nurse.uuid}"))
    validate(mine)
    assert nurse.username not in str(mine)
    assert set(mine) == {"resourceType", "id", "active", "name"}


def test_practitioner_role_names_the_roles(
    charted: InfusionSession, nurse: User, fhir: Fhir
) -> None:
    role = body(fhir(nurse, f"PractitionerRole/{nurse.uuid}"))
    validate(role)
    assert role["practitioner"] == {"reference": f"Practitioner/{nurse.uuid}"}
    assert [c["coding"][0]["code"] for c in role["code"]] == ["nurse"]
    found = body(
        fhir(nurse, "PractitionerRole", practitioner=f"Practitioner/{nurse.uuid}")
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [str(nurse.uuid)]


def test_references_from_clinical_resources_resolve(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    """The performer of a dose and the recorder of an allergy are readable Practitioners."""
    given = body(fhir(director, "MedicationAdministration"))["entry"][0]["resource"]
    performer = given["performer"][0]["actor"]["reference"]
    assert fhir(director, performer).status_code == 200
    allergy = body(fhir(director, "AllergyIntolerance"))["entry"][0]["resource"]
    assert fhir(director, allergy["recorder"]["reference"]).status_code == 200


def test_a_signed_letter_is_a_document_reference(
    charted: InfusionSession, prescriber: User, nurse: User, fhir: Fhir
) -> None:
    import base64
    import hashlib

    from neuroclinic.letters.models import Letter

    letter = Letter.objects.get(patient=charted.patient)
    bundle = body(
        fhir(prescriber, "DocumentReference", patient=str(charted.patient.uuid))
    )
    document = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["id"] == str(letter.uuid)
    )
    validate(document)
    attachment = document["content"][0]["attachment"]
    data = base64.b64decode(attachment["data"])
    assert data.decode() == letter.body  # the locked, signed text
    assert hashlib.sha256(data).hexdigest() == letter.body_sha256
    sha1 = hashlib.sha1(data).digest()  # noqa: S324 - FHIR Attachment.hash is SHA-1
    assert attachment["hash"] == base64.b64encode(sha1).decode()
    assert document["authenticator"] == {"reference": f"Practitioner/{prescriber.uuid}"}
    assert document["docStatus"] == "final"
    # Letters are for those who write them, as in the app: a nurse (who reads
    # consents and infusion notes) is not shown it.
    nurse_bundle = body(fhir(nurse, "DocumentReference"))
    assert str(letter.uuid) not in {
        e["resource"]["id"] for e in nurse_bundle.get("entry", [])
    }
    assert fhir(nurse, f"DocumentReference/{letter.uuid}").status_code == 404
