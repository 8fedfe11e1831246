"""Importing transaction Bundles: POST /fhir/ and `neuroclinic import fhir`.

All or nothing: one bad entry refuses the Bundle, lists every problem and writes
nothing; a likely duplicate patient (of ours, or twice in the Bundle) is a problem
too, and what is already recorded is matched, not written again. Batches, the
other resource types and FHIR create: test_import_entries.py.
"""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.interop.fhir.clinical import ICD10_CM
from neuroclinic.interop.fhir.inbound import parse_bundle
from neuroclinic.interop.fhir.questionnaires import questionnaire_response_resource
from neuroclinic.measures.instruments import get_instrument
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Diagnosis, Patient

Headers = Callable[[User], dict[str, str]]
LOINC = "http://loinc.org"
PHQ9_ANSWERS = {
    f"phq9-{n}": v for n, v in enumerate([1, 2, 1, 0, 1, 2, 1, 0, 0], start=1)
}
ANSWER_CODES = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
IMPORTERS = (
    personas_with(Capability.REGISTER_PATIENT)
    & personas_with(Capability.EDIT_CLINICAL_LISTS)
    & personas_with(Capability.RECORD_MEASURES)
)


def phq9_response(
    subject: str, authored: str = "2026-01-05T09:30:00Z"
) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://neuroclinic.example/fhir/Questionnaire/phq9",
        "status": "completed",
        "subject": {"reference": subject},
        "authored": authored,
        "item": [
            {
                "linkId": link,
                "answer": [{"valueCoding": {"system": LOINC, "code": ANSWER_CODES[v]}}],
            }
            for link, v in PHQ9_ANSWERS.items()
        ]
        + [
            {
                "linkId": "phq9-10",
                "answer": [{"valueCoding": {"system": LOINC, "code": "LA6572-7"}}],
            }
        ],
    }


def bundle(n_patients: int = 2) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for i in range(n_patients):
        url = f"urn:uuid:00000000-0000-4000-8000-00000000000{i}"
        entries.append(
            {
                "fullUrl": url,
                "resource": {
                    "resourceType": "Patient",
                    "name": [
                        {
                            "use": "official",
                            "family": f"Importova{'xyz'[i]}",
                            "given": ["Quinn", "Q"],
                        }
                    ],
                    "gender": "female" if i % 2 else "male",
                    "birthDate": f"199{i}-02-0{i + 1}",
                    "telecom": [{"system": "phone", "value": "555-0199"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": url},
                    "code": {
                        "coding": [
                            {
                                "system": ICD10_CM,
                                "code": "F33.1",
                                "display": "MDD, recurrent, moderate",
                            }
                        ]
                    },
                },
                "request": {"method": "POST", "url": "Condition"},
            }
        )
        entries.append(
            {
                "resource": phq9_response(url),
                "request": {"method": "POST", "url": "QuestionnaireResponse"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def post(
    client: Client,
    headers: dict[str, str],
    body: Any,
    content_type: str = "application/fhir+json",
) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/fhir/", data, content_type=content_type, headers=headers)


def counts() -> tuple[int, int, int]:
    return (
        Patient.objects.count(),
        Diagnosis.objects.count(),
        QuestionnaireResponse.objects.count(),
    )


def test_a_multi_patient_bundle_imports_and_round_trips(
    director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    response = post(client, headers, bundle())
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 6
    assert counts() == (2, 2, 2)
    imported = Patient.objects.get(family_name="Importovay")
    assert (imported.given_name, imported.middle_name, imported.phone) == (
        "Quinn",
        "Q",
        "555-0199",
    )
    stored = QuestionnaireResponse.objects.get(patient=imported)
    assert stored.total == sum(PHQ9_ANSWERS.values())
    assert stored.answers["phq9-10"] == 0
    # Read back through the server: the same facts.
    back = client.get(
        "/fhir/Condition", {"patient": str(imported.uuid)}, headers=headers
    ).json()
    assert back["entry"][0]["resource"]["code"]["coding"][0]["code"] == "F33.1"
    qr = client.get(
        "/fhir/QuestionnaireResponse", {"patient": str(imported.uuid)}, headers=headers
    ).json()
    codes_back = {
        i["linkId"]: i["answer"][0]["valueCoding"]["code"]
        for i in qr["entry"][0]["resource"]["item"]
    }
    assert codes_back["phq9-2"] == "LA6570-1"
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.PATIENT_REGISTERED, actor=director
        ).count()
        == 2
    )


def test_importing_the_same_bundle_twice_adds_nothing(
    director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    assert post(client, headers, bundle()).status_code == 200
    again = post(client, headers, bundle())
    assert again.status_code == 409
    issues = again.json()["issue"]
    assert any("possible duplicate" in i["diagnostics"] for i in issues)
    assert counts() == (2, 2, 2)


def test_own_patient_by_reference_and_duplicates_of_ours(
    patient: Patient, director: User, client: Client, bearer: Headers
) -> None:
    headers = bearer(director)
    ours = f"Patient/{patient.uuid}"
    body = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": phq9_response(ours)}],
    }
    assert post(client, headers, body).status_code == 200
    again = post(client, headers, body)
    assert again.status_code == 200
    response = again.json()["entry"][0]["response"]
    assert response["status"] == "200 OK"
    assert "Already recorded" in response["outcome"]["issue"][0]["diagnostics"]
    assert QuestionnaireResponse.objects.count() == 1


def _broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = bundle()
    change(body)
    return body


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        target: Any = body
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


R = ["entry"]
BAD_ENTRIES = [
    (
        "no birth date",
        _set([*R, 0, "resource", "birthDate"], KeyError),
        "Bundle.entry[0].resource.birthDate",
    ),
    (
        "partial birth date",
        _set([*R, 0, "resource", "birthDate"], "1990-02"),
        "Bundle.entry[0].resource.birthDate",
    ),
    (
        "no family name",
        _set([*R, 0, "resource", "name"], [{"given": ["X"]}]),
        "Bundle.entry[0].resource.name",
    ),
    (
        "bad gender",
        _set([*R, 0, "resource", "gender"], "f"),
        "Bundle.entry[0].resource.gender",
    ),
    (
        "not ICD-10",
        _set([*R, 1, "resource", "code", "coding", 0, "code"], "296.33"),
        "Bundle.entry[1].resource.code",
    ),
    (
        "SNOMED only",
        _set(
            [*R, 1, "resource", "code", "coding", 0, "system"], "http://snomed.info/sct"
        ),
        "Bundle.entry[1].resource.code",
    ),
    (
        "unknown subject",
        _set([*R, 1, "resource", "subject", "reference"], "urn:uuid:nobody"),
        "Bundle.entry[1].resource.subject",
    ),
    (
        "other clinic's id",
        _set(
            [*R, 1, "resource", "subject", "reference"],
            "Patient/00000000-0000-0000-0000-000000000000",
        ),
        "Bundle.entry[1].resource.subject",
    ),
    (
        "unknown questionnaire",
        _set([*R, 2, "resource", "questionnaire"], "http://example.org/Q/phq9"),
        "Bundle.entry[2].resource.questionnaire",
    ),
    (
        "in progress",
        _set([*R, 2, "resource", "status"], "in-progress"),
        "Bundle.entry[2].resource.status",
    ),
    (
        "no time zone",
        _set([*R, 2, "resource", "authored"], "2026-01-05T09:30:00"),
        "Bundle.entry[2].resource.authored",
    ),
    (
        "wrong answer code",
        _set(
            [*R, 2, "resource", "item", 0, "answer", 0, "valueCoding", "code"], "LA33-6"
        ),
        "Bundle.entry[2].resource.item[0]",
    ),
    (
        "valueInteger",
        _set([*R, 2, "resource", "item", 0, "answer", 0], {"valueInteger": 1}),
        "Bundle.entry[2].resource.item[0]",
    ),
    (
        "unknown item",
        _set([*R, 2, "resource", "item", 0, "linkId"], "phq9-99"),
        "Bundle.entry[2].resource.item[0]",
    ),
    (
        "unanswered item",
        _set([*R, 2, "resource", "item", 0, "answer"], []),
        "Bundle.entry[2].resource.item",
    ),
    (
        "element of another type",
        _set([*R, 1, "resource", "resourceType"], "AllergyIntolerance"),
        "Bundle.entry[1].resource.subject",
    ),
    (
        "a date that does not exist",
        _set([*R, 0, "resource", "birthDate"], "1990-02-30"),
        "Bundle.entry[0].resource.birthDate",
    ),
    (
        "PUT",
        _set([*R, 0, "request", "method"], "PUT"),
        "Bundle.entry[0].request.method",
    ),
    ("no resource", _set([*R, 0], {"fullUrl": "urn:x"}), "Bundle.entry[0]"),
    (
        "patient twice",
        lambda b: b["entry"].append(
            copy.deepcopy(b["entry"][0]) | {"fullUrl": "urn:uuid:again"}
        ),
        "Bundle.entry[6].resource",
    ),
    (
        "same fullUrl twice",
        lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])),
        "Bundle.entry[6].fullUrl",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "expression"), BAD_ENTRIES, ids=[b[0] for b in BAD_ENTRIES]
)
def test_one_bad_entry_refuses_the_bundle_and_writes_nothing(
    director: User,
    client: Client,
    bearer: Headers,
    name: str,
    change: Callable[[dict[str, Any]], None],
    expression: str,
) -> None:
    response = post(client, bearer(director), _broken(change))
    assert response.status_code == (409 if name == "patient twice" else 422), (
        response.content
    )
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for i in outcome["issue"] for e in i.get("expression", [])]
    assert counts() == (0, 0, 0)


def test_every_problem_is_listed(
    director: User, client: Client, bearer: Headers
) -> None:
    body = bundle()
    del body["entry"][0]["resource"]["birthDate"]
    body["entry"][4]["resource"]["code"]["coding"][0]["code"] = "nope"
    issues = post(client, bearer(director), body).json()["issue"]
    assert {i["expression"][0] for i in issues} >= {
        "Bundle.entry[0].resource.birthDate",
        "Bundle.entry[4].resource.code",
    }


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/fhir+json", 400),
        (b"\xff\xfe", "application/fhir+json", 400),
        ({"resourceType": "Patient"}, "application/fhir+json", 400),
        (
            {"resourceType": "Bundle", "type": "collection", "entry": []},
            "application/fhir+json",
            400,
        ),
        (
            {"resourceType": "Bundle", "type": "batch", "entry": []},
            "application/fhir+json",
            422,
        ),
        (
            {"resourceType": "Bundle", "type": "transaction", "entry": []},
            "application/fhir+json",
            422,
        ),
        (
            {"resourceType": "Bundle", "type": "transaction"},
            "application/fhir+json",
            422,
        ),
        ("[]", "application/fhir+json", 400),
        ("{}", "text/plain", 415),
    ],
)
def test_malformed_bodies(
    director: User,
    client: Client,
    bearer: Headers,
    body: Any,
    content_type: str,
    status: int,
) -> None:
    response = post(client, bearer(director), body, content_type)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("persona", [p for p in EVERYONE if p != "anonymous"])
def test_who_may_import(
    client: Client, bearer: Headers, request: pytest.FixtureRequest, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    response = post(client, bearer(user), bundle(1))
    as_persona = "nurse" if persona == "outsider" else persona
    assert response.status_code == expected_status(as_persona, IMPORTERS)


def test_anonymous_import_is_refused(db: None, client: Client) -> None:
    assert post(client, {}, bundle(1)).status_code == 401
    assert counts() == (0, 0, 0)


def test_the_command_imports_files_each_all_or_nothing(
    director: User, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(bundle()))
    bad_body = bundle(1)
    bad_body["entry"][0]["resource"]["gender"] = "x"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_body))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(CommandError, match="3 file"):
        call_command(
            "import",
            "fhir",
            str(good),
            str(bad),
            str(broken),
            str(tmp_path / "missing.json"),
            "--as",
            director.username,
        )
    assert counts() == (2, 2, 2)
    with pytest.raises(CommandError):
        call_command("import", "fhir", str(good), "--as", "nobody")


def test_what_we_export_parses_back(patient: Patient) -> None:
    """A QuestionnaireResponse the server writes is one the importer reads."""
    from datetime import UTC, datetime
    from uuid import uuid4

    resource = questionnaire_response_resource(
        response_id=uuid4(),
        patient_id=patient.uuid,
        instrument=get_instrument("phq9"),
        answers=PHQ9_ANSWERS,
        authored=datetime(2026, 1, 5, tzinfo=UTC),
        author_id=None,
        source="api",
    )
    parsed = parse_bundle(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"resource": resource}],
        }
    )
    assert not parsed.problems
    assert parsed.entries[0].value.answers == PHQ9_ANSWERS  # type: ignore[union-attr]
