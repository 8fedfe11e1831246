"""A patient reads a visit's time in the clinic's zone, on the portal and the reminder's page
(they showed UTC: a 09:00 Chicago visit read 15:00)."""

from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling import messages
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


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


def test_the_portal_shows_the_clinic_s_local_time(
    booked: Appointment, client: Client, front_desk: User, clock: Any
) -> None:
    from neuroclinic.portal.tests.test_portal import portal

    assert booked.location.time_zone == "America/Chicago"
    portal(client, booked.patient, front_desk)
    page = client.get("/portal/visits/").content.decode()
    assert "at 09:00" in page
    assert "at 15:00" not in page  # 09:00 CST is 15:00 UTC


def test_the_reminder_link_shows_the_clinic_s_local_time(
    booked: Appointment, client: Client, clock: Any
) -> None:
    page = client.get(f"/v/{messages.link_token(booked)}/").content.decode()
    assert "at 09:00" in page
    assert "at 15:00" not in page
