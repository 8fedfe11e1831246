"""The FHIR server at /fhir/: metadata, read, search, paging, errors, access, audit.

Every resource the server returns is validated with the R4B models of fhir.resources.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.actions import create_api_token
from neuroclinic.accounts.models import TokenScope, User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.tests.factories import NORMAL
from neuroclinic.interop.server.registry import RESOURCE_TYPES
from neuroclinic.patients.actions import register_patient
from neuroclinic.patients.models import Patient

Fhir = Callable[..., Any]


def validate(resource: dict[str, Any]) -> None:
    """A valid R4B resource that round-trips unchanged through the model."""
    model = get_fhir_model_class(resource["resourceType"])
    parsed = model.model_validate(resource)
    assert (
        parsed.model_dump(mode="json", exclude_none=True)["resourceType"]
        == resource["resourceType"]
    )


def body(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/fhir+json"), (
        response.content[:200]
    )
    data: dict[str, Any] = response.json()
    return data


def test_metadata_lists_what_is_served(client: Client) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = body(response)
    validate(statement)
    served = {r["type"] for r in statement["rest"][0]["resource"]}
    assert served == set(RESOURCE_TYPES) | {"Binary"}
    assert statement["fhirVersion"] == "4.0.1"


@pytest.mark.parametrize("resource_type", sorted(RESOURCE_TYPES))
def test_every_type_searches_and_reads_valid_resources(
    charted: InfusionSession, director: User, fhir: Fhir, resource_type: str
) -> None:
    bundle = body(fhir(director, resource_type, _count=100))
    validate(bundle)
    assert bundle["total"] >= 1, resource_type
    for entry in bundle["entry"]:
        validate(entry["resource"])
        one = fhir(director, f"{resource_type}/{entry['resource']['id']}")
        assert one.status_code == 200
        read = body(one)
        if resource_type == "DocumentReference":
            # A read makes the one PDF and gives its size and hash; a search
            # makes none (doc13g, docs/fhir.md). The rest is the same.
            pdf = read["content"][-1]["attachment"]
            assert pdf.pop("size") > 0
            assert pdf.pop("hash")
        assert read == entry["resource"]


def test_observations_carry_scores_and_vitals_with_profiles(
    charted: InfusionSession, nurse: User, fhir: Fhir
) -> None:
    patient = charted.patient
    vitals = body(
        fhir(
            nurse,
            "Observation",
            patient=f"Patient/{patient.uuid}",
            category="vital-signs",
        )
    )
    assert vitals["total"] >= 4
    profiles = {
        p
        for e in vitals["entry"]
        for p in e["resource"].get("meta", {}).get("profile", [])
    }
    assert (
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-heart-rate" in profiles
    )
    scores = body(
        fhir(
            nurse,
            "Observation",
            patient=str(patient.uuid),
            code="http://loinc.org|44261-6",
        )
    )
    # The patient's own PHQ-9 and the outside total the import brought in.
    assert scores["total"] == 2
    assert {
        e["resource"]["category"][0]["coding"][0]["code"] for e in scores["entry"]
    } == {"survey"}
    assert [e["resource"]["id"].startswith("imported-") for e in scores["entry"]] == [
        False,
        True,
    ]
    hr = body(fhir(nurse, "Observation", patient=str(patient.uuid), code="8867-4"))
    assert {e["resource"]["code"]["coding"][0]["code"] for e in hr["entry"]} == {
        "8867-4"
    }


def test_end_tidal_co2_is_exported_when_a_reading_has_it(
    charted: InfusionSession, nurse: User, fhir: Fhir
) -> None:
    patient = str(charted.patient.uuid)
    before = body(fhir(nurse, "Observation", patient=patient, code="19891-1"))
    assert before["total"] == 0  # the fixture's readings carry no EtCO2
    monitoring.record_typed_vitals(charted, {**NORMAL, "etco2_mmhg": 38}, by=nurse)

    found = body(fhir(nurse, "Observation", patient=patient, code="19891-1"))
    assert found["total"] == 1
    (co2,) = [e["resource"] for e in found["entry"]]
    validate(co2)
    assert co2["id"].endswith("-etco2")
    assert co2["category"][0]["coding"][0]["code"] == "vital-signs"
    assert co2["code"]["coding"] == [{"system": "http://loinc.org", "code": "19891-1"}]
    assert co2["valueQuantity"] == {
        "value": 38,
        "unit": "mmHg",
        "system": "http://unitsofmeasure.org",
        "code": "mm[Hg]",
    }
    assert "meta" not in co2  # no US Core profile exists for EtCO2
    assert body(fhir(nurse, f"Observation/{co2['id']}")) == co2
    # A reading without EtCO2 has no EtCO2 Observation to read.
    vitals = body(fhir(nurse, "Observation", patient=patient, code="8867-4"))
    without = [
        e["resource"]["id"].removesuffix("-hr")
        for e in vitals["entry"]
        if not co2["id"].startswith(e["resource"]["id"].removesuffix("-hr"))
    ]
    assert without
    assert fhir(nurse, f"Observation/{without[0]}-etco2").status_code == 404
    # Every vital-signs search result is whole: paging counts match entries.
    all_vitals = body(
        fhir(nurse, "Observation", patient=patient, category="vital-signs", _count=100)
    )
    assert all_vitals["total"] == len(all_vitals["entry"])


def test_medication_administration_is_the_ketamine_dose(
    charted: InfusionSession, nurse: User, fhir: Fhir
) -> None:
    bundle = body(
        fhir(nurse, "MedicationAdministration", patient=str(charted.patient.uuid))
    )
    assert bundle["total"] == 1
    given = bundle["entry"][0]["resource"]
    assert given["medicationCodeableConcept"]["coding"][0]["code"] == "6130"
    assert given["context"] == {"reference": f"Encounter/{charted.uuid}"}
    charted.refresh_from_db()
    assert given["dosage"]["dose"]["value"] == float(charted.mg_given)
    assert given["dosage"]["rateQuantity"]["code"] == "mL/h"


def test_paging_walks_every_result_once(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    everything = body(fhir(director, "Observation", _count=100))
    seen: list[str] = []
    page = body(fhir(director, "Observation", _count=3))
    while True:
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        page = body(fhir(director, nxt[0].split("/fhir/", 1)[1]))
    assert seen == [e["resource"]["id"] for e in everything["entry"]]
    assert len(seen) == everything["total"]


def test_date_prefixes(charted: InfusionSession, director: User, fhir: Fhir) -> None:
    year = charted.checked_in_at.year
    assert body(fhir(director, "Encounter", date=f"ge{year}"))["total"] == 1
    assert body(fhir(director, "Encounter", date=f"lt{year}"))["total"] == 0
    assert body(fhir(director, "Encounter", date=f"gt{year}"))["total"] == 0
    assert (
        body(
            fhir(director, "Encounter", date=charted.checked_in_at.date().isoformat())
        )["total"]
        == 1
    )


def test_identifying_searches_are_posts(
    patient: Patient,
    director: User,
    fhir: Fhir,
    client: Client,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    refused = fhir(director, "Patient", family="testova")
    assert refused.status_code == 400
    assert "POST" in body(refused)["issue"][0]["diagnostics"]
    posted = client.post(
        "/fhir/Patient/_search", {"family": "testova"}, headers=bearer(director)
    )
    result = body(posted)
    assert result["total"] == 1
    # The links carry the search sealed in a cursor: no URL carries the name.
    assert result["link"]
    assert not [link for link in result["link"] if "testova" in link["url"].lower()]


def test_patient_search_parameters(
    patient: Patient,
    director: User,
    client: Client,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(director)

    def find(**params: str) -> int:
        total: int = body(
            client.post("/fhir/Patient/_search", params, headers=headers)
        )["total"]
        return total

    for params in (
        {"family": "testo"},
        {"given": "cas"},
        {"name": "casey testova"},
        {"birthdate": "1985-04-12"},
        {"birthdate": "ge1985"},
        {"gender": "female"},
        {"identifier": patient.mrn},
        {"_id": str(patient.uuid)},
    ):
        assert find(**params) == 1, params
    for params in (
        {"family": "zzz"},
        {"birthdate": "lt1985"},
        {"gender": "male"},
        {"_id": "nope"},
    ):
        assert find(**params) == 0, params


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("Patient", {"bogus": "1"}, 400),
        ("Patient", {"gender": "female", "_count": "x"}, 400),
        ("Patient", {"_count": "-1"}, 400),
        ("Patient", {"_offset": "x"}, 400),
        ("Patient", {"_format": "xml"}, 406),
        ("Observation", {"patient": "Group/1"}, 400),
        ("Observation", {"patient": "not-a-uuid"}, 400),
        ("Observation", {"date": "2024-13-01"}, 400),
        ("Observation", {"code": ""}, 400),
        ("Patient/00000000-0000-0000-0000-000000000000", {}, 404),
        ("Patient/not-a-uuid", {}, 404),
        ("Observation/nope-1-hr", {}, 404),
        ("Medication", {}, 404),  # a type this server does not serve
        ("Patient/a/b/c", {}, 404),
        ("$everything", {}, 404),
    ],
)
def test_bad_requests_answer_operation_outcome(
    patient: Patient,
    director: User,
    fhir: Fhir,
    path: str,
    params: dict[str, str],
    status: int,
) -> None:
    response = fhir(director, path, **params)
    assert response.status_code == status
    outcome = body(response)
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"


def test_lenient_handling_ignores_unknown_parameters(
    patient: Patient, director: User, fhir: Fhir
) -> None:
    response = fhir(
        director, "Patient", headers={"Prefer": "handling=lenient"}, bogus="1"
    )
    assert response.status_code == 200
    assert "bogus" not in body(response)["link"][0]["url"]


def test_sign_in_is_required(patient: Patient, client: Client) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
    ):
        response = client.get("/fhir/Patient", headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert body(response)["resourceType"] == "OperationOutcome"


def test_a_monitor_token_narrowed_to_vitals_reads_no_fhir(
    patient: Patient, client: Client, director: User
) -> None:
    _, raw = create_api_token(
        director, name="monitor", by=director, scope=TokenScope.VITALS
    )

    response = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 403
    assert body(response)["resourceType"] == "OperationOutcome"


def test_writes_to_a_resource_are_refused(
    patient: Patient,
    director: User,
    client: Client,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    response = client.delete(f"/fhir/Patient/{patient.uuid}", headers=bearer(director))
    assert response.status_code == 405
    assert body(response)["resourceType"] == "OperationOutcome"


READERS = {
    "Patient": personas_with(Capability.VIEW_PATIENT_LIST),
    "Observation": personas_with(Capability.VIEW_CHART)
    & personas_with(Capability.VIEW_PATIENT_LIST),
    "Encounter": personas_with(Capability.VIEW_INFUSIONS)
    & personas_with(Capability.VIEW_PATIENT_LIST),
    "Consent": personas_with(Capability.VIEW_CONSENTS)
    & personas_with(Capability.VIEW_PATIENT_LIST),
    # Any role that reads one kind of signed document in the app (doc13g).
    "DocumentReference": (
        personas_with(Capability.WRITE_LETTERS)
        | personas_with(Capability.VIEW_CONSENTS)
        | personas_with(Capability.VIEW_INFUSIONS)
    )
    & personas_with(Capability.VIEW_PATIENT_LIST),
}


@pytest.mark.parametrize("persona", [p for p in EVERYONE if p != "anonymous"])
@pytest.mark.parametrize("resource_type", sorted(READERS))
def test_access_by_role(
    charted: InfusionSession,
    fhir: Fhir,
    request: pytest.FixtureRequest,
    persona: str,
    resource_type: str,
) -> None:
    user = request.getfixturevalue(persona)
    patient = charted.patient
    search = (
        fhir(user, resource_type, patient=str(patient.uuid))
        if resource_type != "Patient"
        else fhir(user, resource_type)
    )
    assert search.status_code == expected_status(
        persona, READERS[resource_type], outsider=200
    )
    if persona == "outsider" and search.status_code == 200:
        assert body(search)["total"] == 0  # another clinic's patient matches nothing
    one = fhir(user, f"Patient/{patient.uuid}")
    assert one.status_code == expected_status(persona, READERS["Patient"], outsider=404)


def test_reads_and_searches_are_audited(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    patient = charted.patient
    before = AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API
    ).count()
    fhir(director, f"Patient/{patient.uuid}")
    fhir(director, "Observation", patient=str(patient.uuid))
    events = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_READ_API).order_by(
            "id"
        )[before:]
    )
    assert [e.data["resource_type"] for e in events] == ["Patient", "Observation"]
    assert all(e.data["via"] == "fhir" and e.actor_id == director.pk for e in events)
    assert events[1].data["ids"]


def test_search_queries_do_not_grow_with_the_page(
    charted: InfusionSession,
    director: User,
    fhir: Fhir,
    django_assert_max_num_queries: Any,
) -> None:
    fhir(director, "Patient")  # the token lookup is the same each time
    with django_assert_max_num_queries(40):
        fhir(director, "MedicationAdministration", _count=100)
    with django_assert_max_num_queries(40):
        fhir(director, "Observation", _count=100)


def test_a_search_across_patients_is_one_search_event(
    patient: Patient,
    director: User,
    front_desk: User,
    client: Client,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    other = register_patient(
        patient.organization,
        by=front_desk,
        family_name="Testova",
        given_name="Robin",
        birth_date=date(1990, 1, 2),
        sex_at_birth=Patient.SexAtBirth.MALE,
    )
    before = AuditEvent.objects.count()
    found = client.post(
        "/fhir/Patient/_search", {"family": "testova"}, headers=bearer(director)
    )
    assert body(found)["total"] == 2
    events = list(AuditEvent.objects.order_by("id")[before:])
    searched = [e for e in events if e.action == AuditEvent.Action.PATIENTS_SEARCHED]
    assert len(searched) == 1
    assert set(searched[0].data["results"]) == {str(patient.uuid), str(other.uuid)}
    assert searched[0].data["query"] == "family=testova"
    assert not [e for e in events if e.action == AuditEvent.Action.PATIENT_READ_API]
