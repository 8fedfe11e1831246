"""The calendar API: access by persona, booking, series, and bad input answered 4xx problem+json."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.clinics.models import Location
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, body, content_type="application/json", **kw)


@pytest.fixture
def booked(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> Appointment:
    return appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_day_list_access(
    persona: str,
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
) -> None:
    client = as_persona(persona)
    response = client.get(
        f"/api/scheduling/appointments?location={clinic.uuid}&date={MONDAY}"
    )
    expected = expected_status(
        persona, personas_with(Capability.VIEW_SCHEDULE), anonymous=401, outsider=422
    )
    assert response.status_code == expected
    if expected == 200:
        assert [a["id"] for a in response.json()] == [str(booked.uuid)]
    else:
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("persona", EVERYONE)
def test_cancel_access(
    persona: str, as_persona: Callable[[str], Client], booked: Appointment
) -> None:
    client = as_persona(persona)
    response = post(
        client,
        f"/api/scheduling/appointments/{booked.uuid}/cancel",
        {"reason": "Unwell"},
    )
    allowed = personas_with(Capability.BOOK_APPOINTMENTS)
    # A persona who cannot see patients at all finds no appointment (404).
    seeing = personas_with(Capability.VIEW_PATIENT_LIST)
    expected = expected_status(persona, allowed, anonymous=401, outsider=404)
    if persona not in seeing and persona not in ("anonymous", "outsider"):
        expected = 404
    assert response.status_code == expected


@pytest.mark.parametrize("persona", EVERYONE)
def test_check_in_access(
    persona: str,
    as_persona: Callable[[str], Client],
    booked: Appointment,
    settings: Any,
) -> None:
    client = as_persona(persona)
    response = post(client, f"/api/scheduling/appointments/{booked.uuid}/check-in", {})
    # The front desk checks in (the nurse starts the infusion on its own pages).
    allowed = personas_with(Capability.CHECK_IN_PATIENTS)
    seeing = personas_with(Capability.VIEW_PATIENT_LIST)
    expected = expected_status(persona, allowed, anonymous=401, outsider=404)
    if persona not in seeing and persona not in ("anonymous", "outsider"):
        expected = 404
    if expected == 200:
        expected = 422  # not today: refused with a reason, never a 500
    assert response.status_code == expected


def test_book_and_check_in_over_the_api(
    plan: TreatmentPlan,
    clinic: Location,
    types: object,
    front_desk: User,
    nurse: User,
    bearer: Callable[[User], dict[str, str]],
    client: Client,
    clock: Any,
) -> None:
    clock.move_to(local(MONDAY, 7))
    response = post(
        client,
        "/api/scheduling/appointments",
        {
            "patient": str(plan.patient.uuid),
            "appointment_type": "infusion",
            "location": str(clinic.uuid),
            "date": str(MONDAY),
            "time": "09:00",
        },
        headers=bearer(front_desk),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["room"] == "Infusion 1"
    assert body["starts_at"].startswith(local(MONDAY, 9).strftime("%Y-%m-%dT%H:%M"))
    clock.move_to(local(MONDAY, 8, 55))
    checked = post(
        client,
        f"/api/scheduling/appointments/{body['id']}/check-in",
        {},
        headers=bearer(nurse),
    )
    assert checked.status_code == 200, checked.content
    assert checked.json()["status"] == "checked_in"
    assert InfusionSession.objects.filter(patient=plan.patient).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time": "25:00"}, "time"),
        ({"date": "not a date"}, "date"),
        ({"appointment_type": "massage"}, "appointment_type"),
        ({"location": "00000000-0000-0000-0000-000000000000"}, "location"),
        ({"time": "07:00"}, "starts_at"),
        ({"date": "2020-01-06"}, "starts_at"),
        # The spring-forward gap in Chicago: refused, not shifted.
        ({"date": "2031-03-09", "time": "02:30"}, "time"),
    ],
)
def test_bad_booking_input_is_a_422_naming_the_field(
    plan: TreatmentPlan,
    clinic: Location,
    types: object,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    client: Client,
    change: dict[str, str],
    field: str,
) -> None:
    body = {
        "patient": str(plan.patient.uuid),
        "appointment_type": "infusion",
        "location": str(clinic.uuid),
        "date": str(MONDAY),
        "time": "09:00",
    } | change
    response = post(
        client, "/api/scheduling/appointments", body, headers=bearer(front_desk)
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Appointment.objects.exists()


def test_an_unknown_patient_is_a_404(
    clinic: Location,
    types: object,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    client: Client,
) -> None:
    response = post(
        client,
        "/api/scheduling/appointments",
        {
            "patient": "00000000-0000-0000-0000-000000000000",
            "appointment_type": "infusion",
            "location": str(clinic.uuid),
            "date": str(MONDAY),
            "time": "09:00",
        },
        headers=bearer(front_desk),
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_series_proposal_then_booking(
    plan: TreatmentPlan,
    clinic: Location,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    client: Client,
    clock: Any,
) -> None:
    clock.move_to(NOW)
    headers = bearer(front_desk)
    proposal = post(
        client,
        "/api/scheduling/series/proposals",
        {
            "patient": str(plan.patient.uuid),
            "location": str(clinic.uuid),
            "start": str(MONDAY),
            "preferred_times": ["10:00"],
        },
        headers=headers,
    )
    assert proposal.status_code == 200, proposal.content
    visits = proposal.json()["visits"]
    assert len(visits) == 6
    assert all(v["reason"] for v in visits)
    starts = [v["starts_at"] for v in visits]
    bad = post(
        client,
        "/api/scheduling/series",
        {
            "patient": str(plan.patient.uuid),
            "location": str(clinic.uuid),
            "starts": starts[:5],
        },
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "starts"
    naive = post(
        client,
        "/api/scheduling/series",
        {
            "patient": str(plan.patient.uuid),
            "location": str(clinic.uuid),
            "starts": [s.replace("Z", "").split("+")[0] for s in starts],
        },
        headers=headers,
    )
    assert naive.status_code == 422
    made = post(
        client,
        "/api/scheduling/series",
        {
            "patient": str(plan.patient.uuid),
            "location": str(clinic.uuid),
            "starts": starts,
        },
        headers=headers,
    )
    assert made.status_code == 201, made.content
    assert len(made.json()["appointments"]) == 6


def test_move_into_the_spring_gap_and_a_bad_cancel(
    booked: Appointment,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
    client: Client,
    clock: Any,
) -> None:
    clock.move_to(NOW)
    headers = bearer(front_desk)
    gap = post(
        client,
        f"/api/scheduling/appointments/{booked.uuid}/move",
        {"date": "2031-03-09", "time": "02:30"},
        headers=headers,
    )
    assert gap.status_code == 422
    assert "does not exist" in gap.json()["detail"]
    blank = post(
        client,
        f"/api/scheduling/appointments/{booked.uuid}/cancel",
        {"reason": " "},
        headers=headers,
    )
    assert blank.status_code == 422
    missing = post(
        client,
        f"/api/scheduling/appointments/{booked.uuid}/cancel",
        {},
        headers=headers,
    )
    assert missing.status_code == 422
    later = booked.starts_at + timedelta(days=1)
    moved = post(
        client,
        f"/api/scheduling/appointments/{booked.uuid}/move",
        {"date": str(MONDAY + timedelta(days=1)), "time": "09:00"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["starts_at"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    bad_id = post(
        client,
        "/api/scheduling/appointments/not-a-uuid/cancel",
        {"reason": "x"},
        headers=headers,
    )
    assert bad_id.status_code in (404, 422)


def test_types_list(as_persona: Callable[[str], Client], types: object) -> None:
    response = as_persona("nurse").get("/api/scheduling/appointment-types")
    assert response.status_code == 200
    assert {t["code"] for t in response.json()} >= {
        "infusion",
        "tms_session",
        "phone_check_in",
    }
