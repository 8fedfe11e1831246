"""One time zone on screen (issue 18 item 7): the clinic's, named once; storage UTC."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.clinics.time_zone import SESSION_KEY
from neuroclinic.notifications.actions import notify
from neuroclinic.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _location(organization: Organization, name: str, zone: str) -> Location:
    return Location.objects.create(
        organization=organization,
        name=name,
        address_line1="1 Main St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone=zone,
    )


def test_staff_pages_show_the_clinic_s_zone_named_once(
    client: Client, organization: Organization, nurse: User
) -> None:
    _location(organization, "Main", "America/Chicago")
    note = notify(nurse, subject="Check the pump")
    Notification.objects.filter(pk=note.pk).update(
        created_at=datetime(2026, 1, 15, 18, 30, tzinfo=UTC)
    )
    login(client, nurse)

    page = client.get("/inbox/").content.decode()

    assert "2026-01-15 12:30" in page  # 18:30 UTC is 12:30 in Chicago in January
    assert "18:30" not in page
    assert page.count("America/Chicago") == 1
    assert "UTC" not in page
    stored = Notification.objects.get(pk=note.pk).created_at
    assert stored.utcoffset() is not None
    assert stored.hour == 18  # storage stays UTC


def test_the_zone_is_that_of_the_first_active_location(
    client: Client, organization: Organization, nurse: User
) -> None:
    _location(organization, "Zeta", "America/Los_Angeles")
    _location(organization, "Alpha", "America/Denver")
    login(client, nurse)

    assert client.session[SESSION_KEY] == "America/Denver"
    assert "Times are America/Denver" in client.get("/staff/").content.decode()


def test_without_a_location_pages_say_utc(
    as_persona: Callable[[str], Client],
) -> None:
    page = as_persona("nurse").get("/staff/").content.decode()

    assert "Times are UTC (no clinic location set)" in page


def test_an_unknown_zone_in_the_session_falls_back_to_utc(
    client: Client, organization: Organization, nurse: User
) -> None:
    login(client, nurse)
    session = client.session
    session[SESSION_KEY] = "Mars/Olympus_Mons"
    session.save()

    assert "Times are UTC" in client.get("/staff/").content.decode()
