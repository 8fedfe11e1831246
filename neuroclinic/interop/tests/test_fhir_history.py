"""History and vread: a chart list entry is recorded (version 1) and may be ended
(version 2); records that never change have one version; types whose records change
without kept versions offer none, and the CapabilityStatement says which is which.
Validated with fhir.resources."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.tests.test_fhir_server import body, validate
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Diagnosis
from neuroclinic.scheduling.models import Appointment, AppointmentStatusChange
from neuroclinic.tms.models import TmsSession
from neuroclinic.tms.tests import factories as tms_factories

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


def _instant(at: Any) -> str:
    return str(at.isoformat().replace("+00:00", "Z"))


def test_an_appointment_has_a_version_per_status_change(
    charted: InfusionSession, nurse: User, front_desk: User, fhir: Fhir
) -> None:
    visit = Appointment.objects.get(infusion_session=charted)
    path = f"Appointment/{visit.uuid}"
    now = body(fhir(front_desk, path))
    assert now["meta"]["versionId"] == "2"  # booked, then checked in
    history = body(fhir(front_desk, f"{path}/_history"))
    validate(history)
    assert history["total"] == 2
    newest, oldest = (e["resource"] for e in history["entry"])
    assert newest == now
    assert oldest["meta"]["versionId"] == "1"
    assert oldest["status"] == "booked"
    assert oldest["meta"]["lastUpdated"] == _instant(
        visit.history.order_by("at").first().at  # type: ignore[union-attr]
    )
    assert "comment" not in oldest  # not yet checked in: no Encounter
    assert oldest["start"] == now["start"]
    assert body(fhir(front_desk, f"{path}/_history/1")) == oldest
    assert fhir(front_desk, f"{path}/_history/3").status_code == 404


def test_an_appointment_version_before_a_move_has_the_old_time_and_staff(
    charted: InfusionSession, nurse: User, front_desk: User, fhir: Fhir
) -> None:
    visit = Appointment.objects.get(infusion_session=charted)
    booked_at = visit.history.order_by("at").first().at  # type: ignore[union-attr]
    # Booked a day earlier with nobody named, then moved to today's time (the
    # step the calendar's move writes); then checked in as before.
    AppointmentStatusChange.objects.create(
        appointment=visit,
        status=Appointment.Status.MOVED,
        at=booked_at + timedelta(hours=1),
        by=front_desk,
        data={
            "old_starts_at": (visit.starts_at - timedelta(days=1)).isoformat(),
            "new_starts_at": visit.starts_at.isoformat(),
            "old_ends_at": (visit.ends_at - timedelta(days=1, minutes=30)).isoformat(),
            "old_staff": "",
        },
    )
    history = body(fhir(front_desk, f"Appointment/{visit.uuid}/_history"))
    validate(history)
    checked_in, moved, booked = (e["resource"] for e in history["entry"])
    assert [r["meta"]["versionId"] for r in (checked_in, moved, booked)] == [
        "3",
        "2",
        "1",
    ]
    assert [r["status"] for r in (checked_in, moved, booked)] == [
        "checked-in",
        "booked",  # moved is FHIR's booked; our word is in the description
        "booked",
    ]
    assert "moved" in moved["description"]
    assert booked["start"] == _instant(visit.starts_at - timedelta(days=1))
    assert booked["end"] == _instant(visit.ends_at - timedelta(days=1, minutes=30))
    assert moved["start"] == checked_in["start"] == _instant(visit.starts_at)
    practitioner = f"Practitioner/{nurse.uuid}"

    def actors(r: dict[str, Any]) -> list[str]:
        return [p["actor"]["reference"] for p in r["participant"]]

    assert practitioner not in actors(booked)  # nobody was named before the move
    assert practitioner in actors(moved)
    assert practitioner in actors(checked_in)


def test_a_move_that_kept_no_staff_leaves_the_practitioner_unknown(
    charted: InfusionSession, nurse: User, front_desk: User, fhir: Fhir
) -> None:
    visit = Appointment.objects.get(infusion_session=charted)
    booked_at = visit.history.order_by("at").first().at  # type: ignore[union-attr]
    AppointmentStatusChange.objects.create(  # an older move: start only
        appointment=visit,
        status=Appointment.Status.MOVED,
        at=booked_at + timedelta(hours=1),
        by=front_desk,
        data={"old_starts_at": (visit.starts_at - timedelta(hours=3)).isoformat()},
    )
    history = body(fhir(front_desk, f"Appointment/{visit.uuid}/_history"))
    booked = history["entry"][-1]["resource"]
    assert booked["start"] == _instant(visit.starts_at - timedelta(hours=3))
    assert booked["end"] == _instant(visit.ends_at - timedelta(hours=3))
    assert all(
        "Practitioner/" not in p["actor"]["reference"] for p in booked["participant"]
    )


def test_an_ended_tms_session_has_one_version_a_running_one_none(
    charted: InfusionSession,
    tms: User,
    prescriber: User,
    nurse: User,
    fhir: Fhir,
) -> None:
    ended = TmsSession.objects.get(patient=charted.patient)
    path = f"Procedure/{ended.uuid}"
    now = body(fhir(nurse, path))
    history = body(fhir(nurse, f"{path}/_history"))
    validate(history)
    (only,) = (e["resource"] for e in history["entry"])
    assert only["meta"]["versionId"] == "1"
    assert {k: v for k, v in only.items() if k != "meta"} == {
        k: v for k, v in now.items() if k != "meta"
    }
    assert body(fhir(nurse, f"{path}/_history/1")) == only

    next_day = (ended.ended_at or ended.started_at) + timedelta(days=1)
    running = tms_factories.start(ended.course, tms, prescriber, now=next_day)
    for tail in ("_history", "_history/1"):
        response = fhir(nurse, f"Procedure/{running.uuid}/{tail}")
        assert response.status_code == 404
        outcome = body(response)
        validate(outcome)
        assert outcome["issue"][0]["code"] == "not-supported"
        assert "running TMS session" in outcome["issue"][0]["diagnostics"]


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
    assert {"vread", "history-instance"} <= interactions("Appointment")
    assert by_type["Appointment"]["versioning"] == "versioned"
    assert "one version per status change" in by_type["Appointment"]["documentation"]
    assert {"vread", "history-instance"} <= interactions("Procedure")
    assert by_type["Procedure"]["versioning"] == "no-version"
    assert "no history (404) until it ends" in by_type["Procedure"]["documentation"]
    for name in ("Patient", "Encounter", "Organization", "Practitioner"):
        assert interactions(name) - {"create"} == {"read", "search-type"}
        assert by_type[name]["versioning"] == "no-version"
    # Patients arrive by import (create, duplicate-checked); the others are read only.
    assert "create" in interactions("Patient")
    assert "create" not in interactions("Encounter")
    assert "Observation:subject" in by_type["Patient"]["searchRevInclude"]
    assert by_type["Encounter"]["searchRevInclude"] == [
        "MedicationAdministration:context"
    ]
