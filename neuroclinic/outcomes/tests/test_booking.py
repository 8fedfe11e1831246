"""A confirmed booster is booked by the front desk through the calendar (scheduling's
book_appointment); bad input and the wrong state are refused and write nothing."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import (
    Device,
    Location,
    OpeningHours,
    Organization,
)
from neuroclinic.outcomes.actions import boosters
from neuroclinic.outcomes.actions.common import OutcomesError
from neuroclinic.outcomes.models import BoosterSuggestion
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import setup
from neuroclinic.scheduling.models import Appointment
from neuroclinic.treatment.models import TreatmentPlan

START = date(2026, 3, 2)


@pytest.fixture
def suggestion(
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    organization: Organization,
) -> BoosterSuggestion:
    factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=START,
        scores=((-1, 20), (4, 12), (11, 3), (18, 4), (25, 6), (31, 9)),
    )
    return boosters.refresh_booster_suggestions(
        organization, today=START + timedelta(days=32)
    )[0]


@pytest.fixture
def calendar(
    patient: Patient,
    organization: Organization,
    nurse: User,
    prescriber: User,
    admin: User,
) -> Location:
    """The course's location opens 08:00-18:00 daily, its room has a pump and a monitor,
    and a nurse and a prescriber are on shift for the next ten days."""
    room = factories.room_for(patient)
    location = room.location
    for weekday in range(7):
        OpeningHours.objects.get_or_create(
            location=location,
            weekday=weekday,
            defaults={"opens_at": time(8), "closes_at": time(18)},
        )
    for kind in (Device.Kind.INFUSION_PUMP, Device.Kind.MONITOR):
        Device.objects.create(location=location, room=room, kind=kind, name=kind)
    setup.install_default_types(organization, by=admin)
    today = timezone.now().date()
    for n in range(10):
        day = today + timedelta(days=n)
        for user in (nurse, prescriber):
            setup.add_shift(
                user,
                location=location,
                starts_at=datetime.combine(day, time(8), tzinfo=UTC),
                ends_at=datetime.combine(day, time(18), tzinfo=UTC),
                by=admin,
            )
    return location


def confirm(suggestion: BoosterSuggestion, prescriber: User) -> None:
    boosters.confirm_booster(suggestion, password=TEST_PASSWORD, by=prescriber)


def test_front_desk_books_a_confirmed_booster_in_the_calendar(
    as_persona: Any,
    suggestion: BoosterSuggestion,
    calendar: Location,
    prescriber: User,
) -> None:
    confirm(suggestion, prescriber)
    client: Client = as_persona("front_desk")
    page = client.get(reverse("outcomes:to_book")).content.decode()
    assert suggestion.patient.family_name in page
    day = timezone.now().date() + timedelta(days=3)
    prefix = str(suggestion.uuid)
    response = client.post(
        reverse("outcomes:book", args=[suggestion.uuid]),
        {
            f"{prefix}-location": calendar.pk,
            f"{prefix}-day": day.isoformat(),
            f"{prefix}-at": "10:00",
        },
    )
    assert response.status_code == 302
    suggestion.refresh_from_db()
    appointment = suggestion.appointment
    assert appointment is not None
    assert appointment.appointment_type.code == "booster"
    assert appointment.starts_at == datetime.combine(day, time(10), tzinfo=UTC)
    assert appointment.status == Appointment.Status.BOOKED
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, patient=suggestion.patient
    ).exists()
    # Booked: it leaves the list, and a second booking is refused.
    assert (
        suggestion.patient.family_name
        not in client.get(reverse("outcomes:to_book")).content.decode()
    )
    with pytest.raises(OutcomesError, match="already booked"):
        boosters.book_confirmed_booster(
            suggestion,
            location=calendar,
            starts_at=appointment.starts_at + timedelta(days=1),
            by=prescriber,
        )


def test_an_open_suggestion_cannot_be_booked(
    suggestion: BoosterSuggestion, calendar: Location, prescriber: User
) -> None:
    with pytest.raises(OutcomesError, match="confirmed"):
        boosters.book_confirmed_booster(
            suggestion,
            location=calendar,
            starts_at=datetime.combine(
                timezone.now().date() + timedelta(days=3), time(10), tzinfo=UTC
            ),
            by=prescriber,
        )
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("day_offset", "at", "message"),
    [
        (3, "07:00", "open"),  # before opening: the calendar's refusal, in its words
        (3, "25:00", None),  # not a time: a field error
        (None, "10:00", None),  # no date
    ],
)
def test_bad_booking_input_is_refused_and_writes_nothing(
    as_persona: Any,
    suggestion: BoosterSuggestion,
    calendar: Location,
    prescriber: User,
    day_offset: int | None,
    at: str,
    message: str | None,
) -> None:
    confirm(suggestion, prescriber)
    prefix = str(suggestion.uuid)
    day = (
        (timezone.now().date() + timedelta(days=day_offset)).isoformat()
        if day_offset is not None
        else ""
    )
    response = as_persona("front_desk").post(
        reverse("outcomes:book", args=[suggestion.uuid]),
        {f"{prefix}-location": calendar.pk, f"{prefix}-day": day, f"{prefix}-at": at},
    )
    assert response.status_code == 422
    if message:
        assert message in response.content.decode().lower()
    suggestion.refresh_from_db()
    assert suggestion.appointment is None
    assert not Appointment.objects.exists()


def test_only_those_who_book_visits_may_book_a_booster(
    as_persona: Any, suggestion: BoosterSuggestion, calendar: Location, prescriber: User
) -> None:
    confirm(suggestion, prescriber)
    response = as_persona("billing").post(
        reverse("outcomes:book", args=[suggestion.uuid]), {}
    )
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_the_worklist_offers_book_for_a_confirmed_booster(
    as_persona: Any, suggestion: BoosterSuggestion, prescriber: User
) -> None:
    confirm(suggestion, prescriber)
    page = as_persona("prescriber").get(reverse("outcomes:boosters")).content.decode()
    assert reverse("outcomes:to_book") in page
    assert TreatmentPlan.objects.filter(pk=suggestion.plan_id).exists()
