"""The follow-up visit in the protocol's window (10-14 days after the series' last
infusion) is booked with the series; the series stands when no time is free."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location, Room
from neuroclinic.scheduling.actions import series
from neuroclinic.scheduling.models import Appointment
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


def _book(plan: TreatmentPlan, clinic: Location, by: User) -> list[Appointment]:
    proposal = series.propose_series(plan, location=clinic, start=MONDAY, now=NOW)
    series.book_series(
        plan,
        location=clinic,
        starts=[v.starts_at for v in proposal.visits],
        now=NOW,
        by=by,
    )
    return list(
        Appointment.objects.filter(
            plan=plan, appointment_type__code="infusion"
        ).order_by("starts_at")
    )


def test_the_follow_up_is_booked_in_the_window_after_the_last_infusion(
    plan: TreatmentPlan, clinic: Location, front_desk: User, prescriber: User
) -> None:
    Room.objects.create(location=clinic, name="Consult 1", kind=Room.Kind.CONSULT)
    infusions = _book(plan, clinic, front_desk)
    follow_up = series.follow_up_for(plan)
    assert follow_up is not None
    zone = ZoneInfo(clinic.time_zone)
    gap = (
        follow_up.starts_at.astimezone(zone).date()
        - infusions[-1].starts_at.astimezone(zone).date()
    )
    assert gap == timedelta(days=10)  # the first free day of the window
    assert follow_up.staff == prescriber
    assert follow_up.series is None  # the series is the six infusions
    assert follow_up.appointment_type.code == "follow_up"


def test_no_free_time_in_the_window_leaves_the_series_booked(
    plan: TreatmentPlan, clinic: Location, front_desk: User
) -> None:
    # No consult room at this location: nowhere for a follow-up.
    infusions = _book(plan, clinic, front_desk)
    assert len(infusions) == 6
    assert series.follow_up_for(plan) is None


def test_a_follow_up_already_booked_is_not_booked_twice(
    plan: TreatmentPlan, clinic: Location, front_desk: User
) -> None:
    Room.objects.create(location=clinic, name="Consult 1", kind=Room.Kind.CONSULT)
    infusions = _book(plan, clinic, front_desk)
    again = series.book_follow_up(
        plan, location=clinic, after=infusions[-1].starts_at, now=NOW, by=front_desk
    )
    assert again is None
    assert Appointment.objects.filter(appointment_type__code="follow_up").count() == 1
