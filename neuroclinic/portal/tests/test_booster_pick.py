"""The patient picks a booster time in the portal once a prescriber has confirmed one
(issue 9 item 6); outcomes' book_confirmed_booster books it through the calendar."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location
from neuroclinic.outcomes.models import BoosterSuggestion
from neuroclinic.outcomes.tests.test_booking import (  # noqa: F401
    calendar,
    confirm,
    suggestion,
)
from neuroclinic.portal.booster import window
from neuroclinic.portal.tests.test_portal import portal
from neuroclinic.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def test_the_patient_picks_an_allowed_time_and_it_is_booked(
    client: Client,
    suggestion: BoosterSuggestion,  # noqa: F811
    calendar: Location,  # noqa: F811
    prescriber: User,
    front_desk: User,
) -> None:
    confirm(suggestion, prescriber)
    portal(client, suggestion.patient, front_desk)
    page = client.get("/portal/visits/booster/").content.decode()
    assert "Choose your booster time" in page
    values = [
        v for v in page.split('name="slot" value="')[1:] for v in [v.split('"', 1)[0]]
    ]
    assert values, page
    first, last = window(suggestion, timezone.now().date())
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CALENDAR_VIEWED, data__via="portal_booster"
    ).exists()
    forged = client.post(
        "/portal/visits/booster/", {"slot": "2020-01-01T09:00:00+00:00"}
    )
    assert "no longer free" in forged.content.decode()
    assert not Appointment.objects.filter(appointment_type__code="booster").exists()
    done = client.post("/portal/visits/booster/", {"slot": values[0]})
    assert done.status_code == 302
    suggestion.refresh_from_db()
    booked = suggestion.appointment
    assert booked is not None
    assert booked.starts_at.isoformat() == values[0]
    # Booked by the patient in the portal, not in a staff member's name.
    assert booked.booked_by is None
    assert booked.booked_via == Appointment.BookedVia.PATIENT_PORTAL
    assert booked.history.get().by is None
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, subject_id=str(booked.uuid)
    )
    assert event.actor is None
    assert event.actor_username == "(patient, portal)"
    assert event.patient_id == suggestion.patient_id
    assert event.data["booked_via"] == "patient_portal"
    assert first <= booked.starts_at.date() <= last + timedelta(days=1)
    assert (
        "Your booster visit is booked" in client.get("/portal/visits/").content.decode()
    )
    # Booked: nothing left to pick.
    assert (
        "no booster visit for you"
        in client.get("/portal/visits/booster/").content.decode()
    )


def test_times_are_offered_where_the_patient_was_last_given_an_infusion(
    client: Client,
    suggestion: BoosterSuggestion,  # noqa: F811
    calendar: Location,  # noqa: F811
    prescriber: User,
    front_desk: User,
) -> None:
    # The course's infusions were charted without calendar visits (history from before
    # the calendar), and the clinic has another site, first by name, with no one on shift.
    Location.objects.create(
        organization_id=calendar.organization_id,
        name="Aardvark Satellite (test)",
        time_zone=calendar.time_zone,
        phone="555-0199",
    )
    assert not Appointment.objects.filter(patient=suggestion.patient).exists()
    confirm(suggestion, prescriber)
    portal(client, suggestion.patient, front_desk)

    page = client.get("/portal/visits/booster/").content.decode()

    assert f"These times are free at {calendar.name}" in page
    assert 'name="slot" value="' in page


def test_times_are_shown_in_the_location_s_zone_not_utc(
    client: Client,
    suggestion: BoosterSuggestion,  # noqa: F811
    calendar: Location,  # noqa: F811
    prescriber: User,
    front_desk: User,
) -> None:
    Location.objects.filter(pk=calendar.pk).update(time_zone="America/Chicago")
    confirm(suggestion, prescriber)
    portal(client, suggestion.patient, front_desk)

    page = client.get("/portal/visits/booster/").content.decode()

    value = page.split('name="slot" value="')[1].split('"', 1)[0]
    local = datetime.fromisoformat(value).astimezone(ZoneInfo("America/Chicago"))
    label = page.split(f'value="{value}"')[1].split("</label>")[0]
    assert f"at {local:%H:%M}" in label


def test_without_a_confirmed_booster_there_is_nothing_to_pick(
    client: Client,
    suggestion: BoosterSuggestion,  # noqa: F811
    calendar: Location,  # noqa: F811
    front_desk: User,
) -> None:
    portal(client, suggestion.patient, front_desk)  # suggested, not confirmed
    page = client.get("/portal/visits/booster/").content.decode()
    assert "no booster visit for you" in page
    assert client.post("/portal/visits/booster/", {"slot": "x"}).status_code == 200
    assert not Appointment.objects.filter(appointment_type__code="booster").exists()


def test_the_page_needs_a_portal_session(client: Client) -> None:
    assert client.get("/portal/visits/booster/").status_code == 401
