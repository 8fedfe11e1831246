"""Appointment, Schedule, Slot (the calendar) and Procedure (TMS sessions): what each
carries, their searches (patient, date with prefixes, status, _id, _lastUpdated,
paging), access, audit, $everything and bulk export. Every resource is validated
with fhir.resources."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.fhir.scheduling import CPT
from neuroclinic.interop.tests.test_fhir_server import body, validate
from neuroclinic.scheduling.models import Appointment, StaffShift
from neuroclinic.tms.models import TmsSession

Fhir = Callable[..., Any]


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_appointment_carries_the_visit_and_searches_by_status_and_date(
    charted: InfusionSession, nurse: User, front_desk: User, fhir: Fhir
) -> None:
    visit = Appointment.objects.get(infusion_session=charted)
    patient = str(charted.patient.uuid)
    bundle = body(fhir(front_desk, "Appointment", patient=patient))
    validate(bundle)
    assert bundle["total"] == 2
    one = body(fhir(front_desk, f"Appointment/{visit.uuid}"))
    validate(one)
    assert one["status"] == "checked-in"
    assert one["start"] == visit.starts_at.isoformat().replace("+00:00", "Z")
    assert one["minutesDuration"] == 120
    actors = [p["actor"]["reference"] for p in one["participant"]]
    assert actors == [
        f"Patient/{patient}",
        f"Practitioner/{nurse.uuid}",
        f"Location/{charted.location.uuid}",
    ]
    assert one["serviceType"][0]["coding"][0]["code"] == "infusion"
    assert one["meta"]["lastUpdated"] == charted.checked_in_at.isoformat().replace(
        "+00:00", "Z"
    )
    assert f"Encounter/{charted.uuid}" in one["comment"]

    def found(**params: str) -> list[str]:
        return _ids(body(fhir(front_desk, "Appointment", **params)))

    cancelled = Appointment.objects.exclude(pk=visit.pk).get()
    assert found(status="checked-in") == [str(visit.uuid)]
    assert found(status="cancelled") == [str(cancelled.uuid)]
    assert found(status="booked") == []
    day = visit.starts_at.date().isoformat()
    assert found(date=day) == [str(visit.uuid)]
    assert found(date=f"gt{day}") == [str(cancelled.uuid)]
    assert found(date=f"le{day}") == [str(visit.uuid)]
    assert found(_id=str(cancelled.uuid)) == [str(cancelled.uuid)]
    assert found(practitioner=f"Practitioner/{nurse.uuid}") == [str(visit.uuid)]
    # The checked-in visit last changed at check-in; the other when it was
    # cancelled, the day before.
    hour_before = (charted.checked_in_at - timedelta(hours=1)).isoformat()
    assert found(_lastUpdated=f"lt{hour_before}") == [str(cancelled.uuid)]
    assert found(_lastUpdated=f"ge{hour_before}") == [str(visit.uuid)]
    assert fhir(front_desk, "Appointment", date="2026-13-01").status_code == 400
    assert fhir(front_desk, "Appointment", colour="red").status_code == 400


def test_procedure_is_the_tms_session(
    charted: InfusionSession,
    tms: User,
    prescriber: User,
    nurse: User,
    front_desk: User,
    fhir: Fhir,
) -> None:
    session = TmsSession.objects.get(patient=charted.patient)
    bundle = body(fhir(nurse, "Procedure", patient=str(charted.patient.uuid)))
    validate(bundle)
    (entry,) = bundle["entry"]
    procedure = entry["resource"]
    validate(procedure)
    assert procedure["id"] == str(session.uuid)
    assert procedure["status"] == "completed"
    assert procedure["code"]["coding"] == [{"system": CPT, "code": session.cpt_code}]
    assert "session 1 of" in procedure["code"]["text"]
    assert [p["actor"]["reference"] for p in procedure["performer"]] == [
        f"Practitioner/{tms.uuid}",
        f"Practitioner/{prescriber.uuid}",
    ]
    assert procedure["performedPeriod"]["end"]
    day = session.started_at.date().isoformat()

    def found(**params: str) -> list[str]:
        return _ids(body(fhir(nurse, "Procedure", **params)))

    assert found(status="completed") == [str(session.uuid)]
    assert found(status="in-progress,stopped") == []
    assert found(date=f"eq{day}") == [str(session.uuid)]
    assert found(date=f"lt{day}") == []
    assert found(code=f"{CPT}|{session.cpt_code}") == [str(session.uuid)]
    assert found(code=f"{CPT}|00000") == []
    assert found(_lastUpdated=f"ge{session.ended_at.isoformat()}") == [  # type: ignore[union-attr]
        str(session.uuid)
    ]
    # TMS records are for TMS staff, as in the app: the front desk is refused.
    assert fhir(front_desk, "Procedure").status_code == 403


def test_a_shift_is_a_schedule_cut_into_free_and_busy_slots(
    charted: InfusionSession, nurse: User, front_desk: User, fhir: Fhir
) -> None:
    shift = StaffShift.objects.get(user=nurse)
    visit = Appointment.objects.get(infusion_session=charted)
    schedule = body(fhir(front_desk, f"Schedule/{shift.uuid}"))
    validate(schedule)
    assert [a["reference"] for a in schedule["actor"]] == [
        f"Practitioner/{nurse.uuid}",
        f"Location/{charted.location.uuid}",
    ]
    assert _ids(
        body(fhir(front_desk, "Schedule", actor=f"Practitioner/{nurse.uuid}"))
    ) == [str(shift.uuid)]
    assert _ids(body(fhir(front_desk, "Schedule", date="gt2100-01-01"))) == []

    slots = body(fhir(front_desk, "Slot", schedule=f"Schedule/{shift.uuid}"))
    validate(slots)
    assert slots["total"] == 3
    found = [e["resource"] for e in slots["entry"]]
    for slot in found:
        validate(slot)
        assert slot["schedule"] == {"reference": f"Schedule/{shift.uuid}"}
        assert "patient" not in str(slot).lower()
    assert [s["status"] for s in found] == ["free", "busy", "free"]
    busy = found[1]
    assert busy["start"] == visit.starts_at.isoformat().replace("+00:00", "Z")
    assert busy["end"] == visit.ends_at.isoformat().replace("+00:00", "Z")
    assert body(fhir(front_desk, f"Slot/{busy['id']}")) == busy
    assert fhir(front_desk, f"Slot/{shift.uuid}-1").status_code == 404
    free = body(fhir(front_desk, "Slot", status="free"))
    assert [s["status"] for s in (e["resource"] for e in free["entry"])] == [
        "free",
        "free",
    ]
    assert free["total"] == 2
    later = body(fhir(front_desk, "Slot", start=f"ge{busy['start']}"))
    assert _ids(later) == [busy["id"], found[2]["id"]]

    # Paged one at a time, the three slots come once each, in order.
    seen: list[str] = []
    page = body(fhir(front_desk, "Slot", _count=1))
    while True:
        seen += _ids(page)
        nexts = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nexts:
            break
        page = body(fhir(front_desk, "Slot?" + nexts[0].split("Slot?", 1)[1]))
    assert seen == [s["id"] for s in found]


def test_new_types_are_audited_and_in_everything(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    patient = charted.patient
    before = AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API
    ).count()
    visit = Appointment.objects.get(infusion_session=charted)
    session = TmsSession.objects.get(patient=patient)
    fhir(director, f"Appointment/{visit.uuid}")
    fhir(director, "Procedure", patient=str(patient.uuid))
    events = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_READ_API).order_by(
            "id"
        )[before:]
    )
    assert [e.data["resource_type"] for e in events] == ["Appointment", "Procedure"]
    assert events[0].data["ids"] == [str(visit.uuid)]
    assert events[1].data["ids"] == [str(session.uuid)]

    everything = body(fhir(director, f"Patient/{patient.uuid}/$everything"))
    validate(everything)
    kinds = {
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in everything["entry"]
    }
    assert ("Appointment", str(visit.uuid)) in kinds
    assert ("Procedure", str(session.uuid)) in kinds
    # Shifts and slots are no patient's: never in $everything.
    assert not {k for k, _ in kinds} & {"Schedule", "Slot"}


def test_other_clinics_see_none_of_it(
    charted: InfusionSession, outsider: User, fhir: Fhir
) -> None:
    shift = StaffShift.objects.get()
    visit = Appointment.objects.get(infusion_session=charted)
    for path in (
        f"Appointment/{visit.uuid}",
        f"Schedule/{shift.uuid}",
        f"Procedure/{TmsSession.objects.get().uuid}",
    ):
        assert fhir(outsider, path).status_code in (403, 404), path
    for resource_type in ("Appointment", "Schedule", "Slot", "Procedure"):
        response = fhir(outsider, resource_type)
        assert response.status_code in (200, 403), resource_type
        if response.status_code == 200:
            assert "entry" not in body(response), resource_type
