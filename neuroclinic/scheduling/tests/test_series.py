"""Proposing and booking a whole induction series (CP-SAT), and explaining refusals."""

from collections.abc import Callable
from datetime import date, time, timedelta

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments, series
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment
from neuroclinic.scheduling.rules import INDUCTION_SPACING, check_series
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories

pytestmark = pytest.mark.django_db


def another_patient(
    plan: TreatmentPlan, prescriber: User, director: User, name: str
) -> Patient:
    patient = patient_actions.register_patient(
        plan.patient.organization,
        by=prescriber,
        family_name=f"Testova{name}",
        given_name="Sam",
        birth_date=date(1980, 1, 1),
        sex_at_birth=Patient.SexAtBirth.MALE,
        phone="555-0199",
    )
    treatment_factories.ready_for_treatment(patient, prescriber)
    other = treatment_factories.make_plan(patient, prescriber, director)
    treatment_factories.sign_order(other, prescriber)
    return patient


def test_the_proposal_is_a_valid_series_at_preferred_times(
    plan: TreatmentPlan, clinic: Location
) -> None:
    proposal = series.propose_series(
        plan, location=clinic, start=MONDAY, preferred_times=[time(10)], now=NOW
    )
    assert proposal.feasible
    assert proposal.optimal
    assert len(proposal.visits) == 6
    days = [v.starts_at.date() for v in proposal.visits]
    assert not check_series(days, INDUCTION_SPACING)
    assert all("10:00" in v.local_label for v in proposal.visits)
    assert all(v.reason and v.room and v.devices for v in proposal.visits)
    # Finishing soonest: three a week, done inside 12 days.
    assert (max(days) - min(days)).days <= 11


def test_booking_the_proposal_books_six_visits_in_one_action(
    plan: TreatmentPlan, clinic: Location, front_desk: User
) -> None:
    proposal = series.propose_series(plan, location=clinic, start=MONDAY, now=NOW)
    booked = series.book_series(
        plan,
        location=clinic,
        starts=[v.starts_at for v in proposal.visits],
        now=NOW,
        by=front_desk,
    )
    assert booked.appointments.count() == 6
    with pytest.raises(SchedulingError, match="already has induction"):
        series.book_series(
            plan,
            location=clinic,
            starts=[v.starts_at for v in proposal.visits],
            now=NOW,
            by=front_desk,
        )


def test_an_adjusted_series_that_breaks_the_spacing_books_nothing(
    plan: TreatmentPlan, clinic: Location, front_desk: User
) -> None:
    starts = [local(MONDAY + timedelta(days=d), 9) for d in (0, 1, 2, 3, 7, 9)]
    with pytest.raises(SchedulingError) as refused:
        series.book_series(plan, location=clinic, starts=starts, now=NOW, by=front_desk)
    assert "at most 3 a week" in refused.value.errors["starts"][0]
    assert not Appointment.objects.exists()


def test_one_busy_visit_refuses_the_whole_series(
    plan: TreatmentPlan, clinic: Location, front_desk: User, nurse: User
) -> None:
    starts = [local(MONDAY + timedelta(days=d), 9) for d in (0, 2, 4, 7, 9, 11)]
    starts[3] = local(MONDAY + timedelta(days=7), 17)  # runs past closing
    with pytest.raises(SchedulingError, match="Infusion 4"):
        series.book_series(plan, location=clinic, starts=starts, now=NOW, by=front_desk)
    assert not Appointment.objects.exists()


def test_no_nurse_in_the_first_week_moves_the_start_and_says_why(
    plan: TreatmentPlan,
    location: Location,
    rooms: object,
    types: object,
    nurse: User,
    prescriber: User,
    on_shift: Callable[..., None],
) -> None:
    on_shift(prescriber)
    on_shift(nurse, first=MONDAY + timedelta(days=7), days=28)
    proposal = series.propose_series(plan, location=location, start=MONDAY, now=NOW)
    assert proposal.feasible
    assert proposal.visits[0].starts_at >= local(MONDAY + timedelta(days=7), 0)
    assert "closest start" in proposal.notes[0]


def test_no_nurse_at_all_explains_itself(
    plan: TreatmentPlan,
    location: Location,
    rooms: object,
    types: object,
    prescriber: User,
    on_shift: Callable[..., None],
) -> None:
    on_shift(prescriber)
    proposal = series.propose_series(plan, location=location, start=MONDAY, now=NOW)
    assert not proposal.feasible
    text = " ".join(proposal.notes)
    assert "0 days have a free room" in text
    assert "no nurse on shift" in text


def test_moving_a_series_visit_keeps_the_series_valid(
    plan: TreatmentPlan, clinic: Location, front_desk: User
) -> None:
    starts = [local(MONDAY + timedelta(days=d), 9) for d in (0, 2, 4, 7, 9, 11)]
    booked = series.book_series(
        plan, location=clinic, starts=starts, now=NOW, by=front_desk
    )
    visits = list(booked.appointments.order_by("starts_at"))
    moved = appointments.move_appointment(
        visits[1],
        starts_at=local(MONDAY + timedelta(days=3), 9),
        now=NOW,
        by=front_desk,
    )
    assert moved.status == "moved"
    with pytest.raises(SchedulingError, match="at most 3 a week"):
        appointments.move_appointment(
            visits[3],
            starts_at=local(MONDAY + timedelta(days=5), 9),
            now=NOW,
            by=front_desk,
        )
