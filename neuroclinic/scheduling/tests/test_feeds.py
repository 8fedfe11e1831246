"""Staff calendar feeds (issue 9 item 9): a secret, revocable address per person; the feed
shows time, type, place, room and initials only; unknown answers 404, revoked 410."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling.actions import appointments, feeds
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    StaffCalendarFeed,
)
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    nurse: User,
) -> Appointment:
    return appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 9),
        staff=nurse,
        now=NOW,
        by=front_desk,
    )


def _url(raw: str) -> str:
    return f"/schedule/feed/{raw}/visits.ics"


def test_only_the_tokens_hash_is_stored_and_creation_is_audited(nurse: User) -> None:
    feed, raw = feeds.create_feed(nurse, by=nurse)
    assert len(raw) >= 40
    stored = StaffCalendarFeed.objects.get(pk=feed.pk)
    assert stored.token_sha256 == feeds.token_hash(raw) != raw
    assert raw not in str(StaffCalendarFeed.objects.filter(pk=feed.pk).values().first())
    event = AuditEvent.objects.get(action=AuditEvent.Action.SCHEDULING_CONFIGURED)
    assert event.data["kind"] == "calendar_feed"
    assert event.data["change"] == "created"


def test_the_feed_shows_time_type_room_and_initials_only(
    client: Client, booked: Appointment, nurse: User, clock: Any
) -> None:
    _feed, raw = feeds.create_feed(nurse, by=nurse)
    response = client.get(_url(raw))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    unfolded = body.replace("\r\n ", "")
    patient = booked.patient
    assert "SUMMARY:Infusion · CT" in unfolded  # Casey Testova
    assert f"LOCATION:{booked.location.name}\\, {booked.room.name}" in unfolded  # type: ignore[union-attr]
    assert "DTSTART:20310303T150000Z" in unfolded  # 09:00 in Chicago
    for secret in (
        patient.family_name,
        patient.given_name,
        patient.mrn,
        patient.email,
        patient.phone,
        "ketamine",
    ):
        assert secret.lower() not in unfolded.lower()
    read = AuditEvent.objects.get(action=AuditEvent.Action.CALENDAR_VIEWED)
    assert read.actor_id == nurse.pk
    assert read.data["via"] == "calendar_feed"
    assert read.data["patients"] == [str(patient.uuid)]


def test_another_persons_visits_and_cancelled_ones_are_not_in_the_feed(
    client: Client, booked: Appointment, prescriber: User, nurse: User, clock: Any
) -> None:
    _feed, raw = feeds.create_feed(prescriber, by=prescriber)
    assert "VEVENT" not in client.get(_url(raw)).content.decode()
    appointments.cancel_appointment(booked, reason="Unwell", now=NOW, by=nurse)
    _feed, mine = feeds.create_feed(nurse, by=nurse)
    assert "VEVENT" not in client.get(_url(mine)).content.decode()


def test_unknown_and_revoked_addresses_are_refused(
    client: Client, booked: Appointment, nurse: User, clock: Any
) -> None:
    feed, raw = feeds.create_feed(nurse, by=nurse)
    assert client.get(_url("not-a-token")).status_code == 404
    assert client.get(_url("x" * 150)).status_code == 404
    feeds.revoke_feed(feed, by=nurse)
    gone = client.get(_url(raw))
    assert gone.status_code == 410
    assert "Infusion" not in gone.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SCHEDULING_CONFIGURED, data__change="revoked"
    ).exists()
    with pytest.raises(SchedulingError, match="already revoked"):
        feeds.revoke_feed(feed, by=nurse)


def test_a_new_address_stops_the_old_one(
    client: Client, booked: Appointment, nurse: User, clock: Any
) -> None:
    _old, first = feeds.create_feed(nurse, by=nurse)
    _new, second = feeds.create_feed(nurse, by=nurse)
    assert client.get(_url(first)).status_code == 410
    assert client.get(_url(second)).status_code == 200
    assert StaffCalendarFeed.objects.filter(user=nurse, revoked_at=None).count() == 1


def test_a_deactivated_user_s_feed_stops(
    client: Client, booked: Appointment, nurse: User, clock: Any
) -> None:
    _feed, raw = feeds.create_feed(nurse, by=nurse)
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    assert client.get(_url(raw)).status_code == 410


def test_only_the_owner_makes_it_and_the_owner_or_an_admin_revokes_it(
    nurse: User, front_desk: User, admin: User, outsider: User
) -> None:
    with pytest.raises(SchedulingError):
        feeds.create_feed(nurse, by=front_desk)
    feed, _raw = feeds.create_feed(nurse, by=nurse)
    for someone in (front_desk, outsider):
        with pytest.raises(SchedulingError, match="No such calendar address"):
            feeds.revoke_feed(feed, by=someone)
    assert feeds.revoke_feed(feed, by=admin).revoked_by == admin


def test_the_page_makes_shows_once_and_revokes(
    as_persona: Callable[[str], Client], nurse: User
) -> None:
    client = as_persona("nurse")
    assert (
        "You have no calendar address"
        in client.get("/schedule/my-calendar/").content.decode()
    )
    made = client.post("/schedule/my-calendar/", {"choice": "make"}).content.decode()
    assert "/schedule/feed/" in made
    assert "shown once" in made
    again = client.get("/schedule/my-calendar/").content.decode()
    assert "/schedule/feed/" not in again  # never shown again
    revoked = client.post("/schedule/my-calendar/", {"choice": "revoke"}, follow=True)
    assert "revoked" in revoked.content.decode()
    assert not StaffCalendarFeed.objects.filter(revoked_at=None).exists()
    odd = client.post("/schedule/my-calendar/", {"choice": "nonsense"}, follow=True)
    assert odd.status_code == 200
    assert "Choose to make or to revoke" in odd.content.decode()


@pytest.mark.parametrize("persona", ["billing", "anonymous"])
def test_the_page_needs_the_calendar(
    as_persona: Callable[[str], Client], persona: str
) -> None:
    response = as_persona(persona).get("/schedule/my-calendar/")
    assert response.status_code in (302, 403)
