"""Two front-desk staff booking the last free chair at the same moment: one succeeds,
the other is told, and the room never holds two visits.

On PostgreSQL: real concurrent transactions, one connection per thread; what is under
test is the lock on the location row that every booking takes first (lock_resources),
with the room exclusion constraint (migration 0002) behind it, and the patient's row
that it locks next (one patient booked at two locations at once). SQLite has neither
concurrent writers nor exclusion constraints: it serializes writers (IMMEDIATE
transactions), which the last test shows instead.
"""

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import time as time_of_day
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from conftest import make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Device, Location, OpeningHours, Room
from neuroclinic.ledger.tests import factories as ledger_factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling import availability
from neuroclinic.scheduling.actions import appointments, setup
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serializes writers (IMMEDIATE transactions), so two bookings cannot "
    "race there; test_sqlite_serializes_booking_transactions shows that instead",
)


def second_patient(plan: TreatmentPlan, prescriber: User, director: User) -> Patient:
    other = patient_actions.register_patient(
        plan.organization,
        family_name="Second",
        given_name="Pat",
        birth_date=plan.patient.birth_date,
        sex_at_birth="female",
        by=director,
    )
    treatment_factories.ready_for_treatment(other, prescriber)
    other_plan = treatment_factories.make_plan(other, prescriber, director)
    treatment_factories.sign_order(other_plan, prescriber)
    return other


def book_at_once(
    monkeypatch: pytest.MonkeyPatch, bookings: dict[str, Callable[[], object]]
) -> dict[str, SchedulingError | None]:
    """Run each booking in its own thread and connection, all at the same moment, each
    pausing after it found its resources (still in its transaction) so that without
    the locks under test they would all find the same things free. What each got:
    None when it booked, else its refusal."""
    real_choose = availability.choose_resources

    def slow_choose(*args: Any, **kwargs: Any) -> Any:
        found = real_choose(*args, **kwargs)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(availability, "choose_resources", slow_choose)
    start = threading.Barrier(len(bookings))
    outcomes: dict[str, SchedulingError | None] = {}

    def run(name: str, booking: Callable[[], object]) -> None:
        try:
            start.wait()
            booking()
            outcomes[name] = None
        except SchedulingError as exc:
            outcomes[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in bookings.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_desks_booking_the_last_room_at_once_one_is_told(
    plan: TreatmentPlan,
    clinic: Location,
    rooms: list[Room],
    types: dict[str, AppointmentType],
    front_desk: User,
    director: User,
    prescriber: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given one room left (the other is closed for the day) and two patients
    rooms[1].is_active = False
    rooms[1].save(update_fields=["is_active"])
    other = second_patient(plan, prescriber, director)

    def book(patient: Patient, by: User) -> Callable[[], object]:
        return lambda: appointments.book_appointment(
            patient,
            appointment_type=types["infusion"],
            location=clinic,
            starts_at=local(MONDAY, 9),
            now=NOW,
            by=by,
        )

    # when two desks book the same time at the same moment (without the location
    # lock both would find the room free)
    outcomes = book_at_once(
        monkeypatch,
        {"first": book(plan.patient, front_desk), "second": book(other, director)},
    )

    # then one is booked and the other told the room is taken
    assert sorted(o.field if o else "booked" for o in outcomes.values()) == [
        "booked",
        "room",
    ], outcomes
    assert Appointment.objects.filter(room=rooms[0]).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_patient_booked_at_two_locations_at_once_is_booked_once(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    director: User,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a second location, open, with its own room, nurse and prescriber on shift
    annex = ledger_factories.make_location(clinic.organization, name="Annex")
    for weekday in range(7):
        OpeningHours.objects.create(
            location=annex,
            weekday=weekday,
            opens_at=time_of_day(8),
            closes_at=time_of_day(18),
        )
    room = Room.objects.create(location=annex, name="Annex 1", kind=Room.Kind.INFUSION)
    for kind in (Device.Kind.INFUSION_PUMP, Device.Kind.MONITOR):
        Device.objects.create(location=annex, room=room, kind=kind, name=f"{kind} A")
    for role in (Role.NURSE, Role.PRESCRIBER):
        setup.add_shift(
            make_staff(clinic.organization, f"annex-{role}", role),
            location=annex,
            starts_at=local(MONDAY, 8),
            ends_at=local(MONDAY, 18),
            by=admin,
        )

    def book(where: Location, by: User) -> Callable[[], object]:
        return lambda: appointments.book_appointment(
            plan.patient,
            appointment_type=types["infusion"],
            location=where,
            starts_at=local(MONDAY, 9),
            now=NOW,
            by=by,
        )

    # when two desks book the same patient at the same time at the two locations
    # (their locations' locks do not meet: without the patient's both would book)
    outcomes = book_at_once(
        monkeypatch, {"main": book(clinic, front_desk), "annex": book(annex, director)}
    )

    # then one is booked and the other refused
    assert sorted("refused" if o else "booked" for o in outcomes.values()) == [
        "booked",
        "refused",
    ], outcomes
    assert Appointment.objects.filter(patient=plan.patient).count() == 1


@postgres_only
@pytest.mark.django_db
def test_the_database_refuses_a_second_visit_in_a_held_room(
    plan: TreatmentPlan,
    clinic: Location,
    rooms: list[Room],
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    booked = appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )

    def insert(starts_hour: float, status: str = "booked") -> Appointment:
        starts = booked.starts_at + timedelta(hours=starts_hour - 9)
        return Appointment.objects.create(
            organization_id=clinic.organization_id,
            location=clinic,
            patient=plan.patient,
            appointment_type=types["consult"],
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            held_until=starts + timedelta(minutes=30),
            room=rooms[0],
            booked_by=front_desk,
            status=status,
        )

    # Written past the actions (as a bulk import might): the constraint still holds.
    # The infusion holds 09:00 until its turnover ends (11:15).
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(11)
    # A cancelled visit holds nothing, and the room is free again once the turnover ends.
    insert(10, status="cancelled")
    insert(11.25)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="shows SQLite's writer serialization"
)
@pytest.mark.django_db
def test_on_sqlite_a_booking_checks_and_writes_holding_the_write_lock(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every transaction begins IMMEDIATE (settings), so it holds the database's one
    # write lock from its first statement: a second writer waits (here: gives up after
    # 0.2 s) until the booking has committed, and then sees it.
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    name = str(connection.settings_dict["NAME"])
    attempts: list[str] = []

    def second_writer() -> None:
        other = sqlite3.connect(
            name, uri=name.startswith("file:"), timeout=0.2, isolation_level=None
        )
        try:
            other.execute("BEGIN IMMEDIATE")
            attempts.append("began")
            other.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            attempts.append(str(exc))
        finally:
            other.close()

    real_choose = availability.choose_resources

    def choose_while_another_desk_tries(*args: Any, **kwargs: Any) -> Any:
        # The moment the booking has found its room: another desk tries to write.
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=10)
        return real_choose(*args, **kwargs)

    monkeypatch.setattr(
        availability, "choose_resources", choose_while_another_desk_tries
    )
    appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )
    assert len(attempts) == 1
    assert "locked" in attempts[0], attempts
