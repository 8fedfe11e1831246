"""The waitlist over the API (issue 9 item 8): entries, offers, accepting and declining on
the patient's behalf; access through scheduling/access.py, audited, and bad input answered
with problem documents naming the field, nothing written."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments, waitlist
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
)
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, body or {}, content_type="application/json")


def fields(response: Any) -> set[str]:
    assert response["Content-Type"] == PROBLEM
    return {e["field"] for e in response.json()["errors"]}


@pytest.fixture
def people(organization: Organization, front_desk: User) -> list[Patient]:
    return [
        patient_actions.register_patient(
            organization,
            by=front_desk,
            family_name=f"Waitapi{n}",
            given_name=name,
            birth_date=date(1981, 2, 1 + n),
            sex_at_birth=Patient.SexAtBirth.FEMALE,
            email=f"{name.lower()}.waitapi@example.com",
        )
        for n, name in enumerate(("Ada", "Bo", "Cy"))
    ]


@pytest.fixture
def other_org_patient(other_organization: Organization, outsider: User) -> Patient:
    return patient_actions.register_patient(
        other_organization,
        by=outsider,
        family_name="Elsewhere",
        given_name="Dee",
        birth_date=date(1979, 5, 5),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )


@pytest.fixture
def phone_type(types: dict[str, AppointmentType]) -> AppointmentType:
    return types["phone_check_in"]


@pytest.fixture
def offered(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> WaitlistOffer:
    """Ada's 09:00 cancelled; Bo (first in line) is offered it, Cy waits behind."""
    ada, bo, cy = people
    freed = appointments.book_appointment(
        ada,
        appointment_type=phone_type,
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    waitlist.join_waitlist(
        cy, appointment_type=phone_type, now=NOW + timedelta(minutes=1), by=front_desk
    )
    appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    return WaitlistOffer.objects.get(status="open")


@pytest.mark.parametrize("persona", EVERYONE)
def test_waitlist_list_access(
    persona: str,
    as_persona: Callable[[str], Client],
    offered: WaitlistOffer,
) -> None:
    response = as_persona(persona).get("/api/scheduling/waitlist")
    expected = expected_status(
        persona,
        personas_with(Capability.BOOK_APPOINTMENTS),
        anonymous=401,
        outsider=200,
    )
    assert response.status_code == expected
    if expected != 200:
        assert response["Content-Type"] == PROBLEM
    elif persona == "outsider":
        assert response.json() == []  # another clinic's list is empty, not an error
    else:
        listed = response.json()
        assert [e["status"] for e in listed] == ["offered", "waiting"]
        assert listed[0]["patient"] == str(offered.entry.patient.uuid)


def test_add_list_and_withdraw_are_audited(
    as_persona: Callable[[str], Client],
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    client = as_persona("front_desk")
    ada = people[0]
    made = post(
        client,
        "/api/scheduling/waitlist",
        {
            "patient": str(ada.uuid),
            "appointment_type": "phone_check_in",
            "location": str(clinic.uuid),
            "note": "Mornings",
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "waiting"
    assert body["location"] == str(clinic.uuid)
    entry = WaitlistEntry.objects.get(uuid=body["id"])
    assert entry.created_by == front_desk
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.APPOINTMENT_MOVE_REQUESTED,
        actor=front_desk,
        patient=ada,
        data__waitlist="joined",
    ).exists()
    listed = client.get("/api/scheduling/waitlist").json()
    assert [e["id"] for e in listed] == [str(entry.uuid)]
    read = AuditEvent.objects.filter(
        action=AuditEvent.Action.CALENDAR_VIEWED, data__via="api_waitlist"
    ).get()
    assert read.data["patients"] == [str(ada.uuid)]
    gone = post(client, f"/api/scheduling/waitlist/{entry.uuid}/withdraw")
    assert gone.status_code == 200
    assert gone.json()["status"] == "withdrawn"
    assert client.get("/api/scheduling/waitlist").json() == []
    assert [
        e["id"] for e in client.get("/api/scheduling/waitlist?status=withdrawn").json()
    ] == [str(entry.uuid)]
    again = post(client, f"/api/scheduling/waitlist/{entry.uuid}/withdraw")
    assert again.status_code == 422
    assert fields(again) == {"status"}


def test_bad_entries_are_refused_naming_the_field_and_nothing_is_written(
    as_persona: Callable[[str], Client],
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
    other_org_patient: Patient,
) -> None:
    client = as_persona("front_desk")
    ada, bo, _cy = people
    theirs = appointments.book_appointment(
        ada,
        appointment_type=phone_type,
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )
    good = {"patient": str(bo.uuid), "appointment_type": "phone_check_in"}
    cases: list[tuple[dict[str, Any], str]] = [
        (good | {"patient": "8a4f1c52-0000-4000-8000-000000000000"}, "patient"),
        (good | {"patient": str(other_org_patient.uuid)}, "patient"),
        (good | {"patient": "not-a-uuid"}, "patient"),
        (good | {"appointment_type": "massage"}, "appointment_type"),
        (good | {"location": "8a4f1c52-0000-4000-8000-000000000000"}, "location"),
        (good | {"appointment": "8a4f1c52-0000-4000-8000-000000000000"}, "appointment"),
        (good | {"appointment": str(theirs.uuid)}, "appointment"),  # Ada's visit
        (good | {"note": "x" * 301}, "note"),
    ]
    for body, field in cases:
        response = post(client, "/api/scheduling/waitlist", body)
        assert response.status_code == 422, (body, response.content)
        assert field in fields(response), (body, response.json())
    assert not WaitlistEntry.objects.exists()
    assert post(client, "/api/scheduling/waitlist", good).status_code == 201
    twice = post(client, "/api/scheduling/waitlist", good)
    assert twice.status_code == 422
    assert "already on the waitlist" in twice.json()["detail"]
    assert WaitlistEntry.objects.count() == 1


def test_bad_dates_and_statuses_in_the_lists_are_422(
    as_persona: Callable[[str], Client], offered: WaitlistOffer
) -> None:
    client = as_persona("front_desk")
    for path, field in [
        ("/api/scheduling/waitlist?since=2031-13-01", "since"),
        ("/api/scheduling/waitlist/offers?until=yesterday", "until"),
        ("/api/scheduling/waitlist/offers?since=2031-03-05&until=2031-03-01", "until"),
        ("/api/scheduling/waitlist?until=9999-12-31", "until"),
        ("/api/scheduling/waitlist?status=maybe", "status"),
        ("/api/scheduling/waitlist/offers?status=booked", "status"),
    ]:
        response = client.get(path)
        assert response.status_code == 422, (path, response.content)
        assert field in fields(response), path
    made_on = offered.created_at.date()
    found = client.get(
        f"/api/scheduling/waitlist/offers?since={made_on}&until={made_on}&status=open"
    ).json()
    assert [o["id"] for o in found] == [str(offered.uuid)]
    assert found[0]["freed_because"] == "cancelled"
    later = made_on + timedelta(days=1)
    assert client.get(f"/api/scheduling/waitlist/offers?since={later}").json() == []


def test_staff_accept_on_the_patients_behalf_in_their_own_name(
    as_persona: Callable[[str], Client],
    offered: WaitlistOffer,
    nurse: User,
) -> None:
    client = as_persona("nurse")
    bo = offered.entry.patient
    response = post(client, f"/api/scheduling/waitlist/offers/{offered.uuid}/accept")
    assert response.status_code == 200, response.content
    booked = Appointment.objects.get(uuid=response.json()["id"])
    assert booked.patient == bo
    assert booked.starts_at == offered.starts_at
    assert booked.booked_by == nurse
    assert booked.booked_via == Appointment.BookedVia.STAFF
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, subject_id=str(booked.uuid)
    )
    assert event.actor == nurse
    assert event.data["offer"] == str(offered.uuid)
    # Already accepted: a second acceptance is refused, nothing more is booked.
    again = post(client, f"/api/scheduling/waitlist/offers/{offered.uuid}/accept")
    assert again.status_code == 422
    assert fields(again) == {"status"}
    assert Appointment.objects.filter(patient=bo).count() == 1


def test_an_expired_offer_or_a_time_booked_meanwhile_is_refused(
    as_persona: Callable[[str], Client],
    offered: WaitlistOffer,
    clinic: Location,
    phone_type: AppointmentType,
    patient: Patient,
    front_desk: User,
) -> None:
    client = as_persona("front_desk")
    # The desk books the only nurse at that time meanwhile.
    appointments.book_appointment(
        patient,
        appointment_type=phone_type,
        location=clinic,
        starts_at=offered.starts_at,
        now=NOW,
        by=front_desk,
    )
    taken = post(client, f"/api/scheduling/waitlist/offers/{offered.uuid}/accept")
    assert taken.status_code == 422
    assert "cannot be booked any more" in taken.json()["detail"]
    assert not Appointment.objects.filter(patient=offered.entry.patient).exists()
    # Cy is not offered it either: the nurse is booked then.
    assert not WaitlistOffer.objects.filter(status="open").exists()
    stale = WaitlistOffer.objects.create(
        entry=offered.entry,
        freed_from=offered.freed_from,
        location=clinic,
        starts_at=offered.starts_at + timedelta(hours=2),
        created_at=NOW,
        expires_at=timezone.now() - timedelta(minutes=1),  # ended by the real clock
    )
    expired = post(client, f"/api/scheduling/waitlist/offers/{stale.uuid}/accept")
    assert expired.status_code == 422
    assert "offer has ended" in expired.json()["detail"]
    assert not Appointment.objects.filter(patient=offered.entry.patient).exists()


def test_decline_on_the_patients_behalf_passes_the_time_on(
    as_persona: Callable[[str], Client],
    offered: WaitlistOffer,
    people: list[Patient],
    front_desk: User,
) -> None:
    client = as_persona("front_desk")
    response = post(client, f"/api/scheduling/waitlist/offers/{offered.uuid}/decline")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    assert WaitlistOffer.objects.get(status="open").entry.patient == people[2]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.WAITLIST_OFFER_DECLINED,
        actor=front_desk,
        subject_id=str(offered.uuid),
    ).exists()
    again = post(client, f"/api/scheduling/waitlist/offers/{offered.uuid}/decline")
    assert again.status_code == 422


def test_unknown_and_forbidden_offers_and_entries(
    as_persona: Callable[[str], Client], offered: WaitlistOffer
) -> None:
    missing = "8a4f1c52-0000-4000-8000-000000000000"
    desk = as_persona("front_desk")
    for path in (
        f"/api/scheduling/waitlist/offers/{missing}/accept",
        f"/api/scheduling/waitlist/offers/{missing}/decline",
        f"/api/scheduling/waitlist/{missing}/withdraw",
    ):
        response = post(desk, path)
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
    desk.logout()
    billing = as_persona("billing")
    refused = post(billing, f"/api/scheduling/waitlist/offers/{offered.uuid}/accept")
    assert refused.status_code in (403, 404)
    assert refused["Content-Type"] == PROBLEM
    offered.refresh_from_db()
    assert offered.status == WaitlistOffer.Status.OPEN


def test_openapi_documents_the_waitlist_problems(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    for path, method in [
        ("/api/scheduling/waitlist", "get"),
        ("/api/scheduling/waitlist", "post"),
        ("/api/scheduling/waitlist/offers", "get"),
        ("/api/scheduling/waitlist/offers/{offer_id}/accept", "post"),
        ("/api/scheduling/waitlist/offers/{offer_id}/decline", "post"),
        ("/api/scheduling/waitlist/{entry_id}/withdraw", "post"),
    ]:
        responses = schema["paths"][path][method]["responses"]
        for status in ("401", "403", "404", "422"):
            assert status in {str(k) for k in responses}, (path, method, status)
