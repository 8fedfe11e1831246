"""Query counts of the infusion list pages, pinned (django_assert_num_queries).

Each page is counted with one row and again with three: a row that costs a query of
its own shows here before it shows on a clinic's busy day. The counts include what
every signed-in page costs (session, user, two-factor device, the navigation, unread
notifications) and the audit row of the read.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location, Room
from neuroclinic.infusions.actions import dose_draw, events, session_flow
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger.models import Container
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories

# The day's list and the board's rooms with N open infusions. The board reads each open
# room's last readings with one indexed, limited query: a window over every reading of
# the day would cost more on a monitor that sends every second.
DAY = 17
BOARD_BASE, BOARD_PER_OPEN_ROOM = 18, 1
# The polled fragment does not save the session (it is not activity).
BOARD_ROOMS_BASE, BOARD_ROOMS_PER_OPEN_ROOM = 10, 1
PATIENT_LOG = 21
PLAN = 19  # with the audited read of the plan (its hash-chained event, one statement)


def _another_patient(front_desk: User, n: int) -> Patient:
    assert front_desk.organization is not None
    return patient_actions.register_patient(
        front_desk.organization,
        by=front_desk,
        family_name=f"Samplesworth{n}",
        given_name="Jordan",
        birth_date=date(1980, 1, n),
        sex_at_birth=Patient.SexAtBirth.MALE,
        phone=f"555-01{n:02d}",
        email=f"jordan.samplesworth{n}@example.com",
    )


def _checked_in_with_a_dose_and_an_event(
    plan: TreatmentPlan, room: Room, nurse: User
) -> InfusionSession:
    session = session_flow.check_in(plan.patient, room=room, by=nurse)
    factories.fill_checklist(session, nurse)
    session_flow.confirm_checklist(session, by=nurse)
    dose_draw.calculate_dose(session, concentration_mg_per_ml=Decimal(50), by=nurse)
    nausea = events.record_adverse_event(
        session, kind="nausea", severity="mild", by=nurse
    )
    events.give_prn(
        session,
        prn_order=session.order.prn_medications.get(drug="Ondansetron"),
        adverse_event=nausea,
        by=nurse,
    )
    return session


def _running(
    plan: TreatmentPlan, room: Room, nurse: User, vial: Container
) -> InfusionSession:
    session = _checked_in_with_a_dose_and_an_event(plan, room, nurse)
    drawn = session.doses.get().drug_volume_ml
    dose_draw.draw(session, container=vial, volume_ml=drawn, by=nurse)
    return session_flow.start(session, by=nurse)


@pytest.fixture
def clinic_day(
    patient: Patient,
    location: Location,
    front_desk: User,
    prescriber: User,
    director: User,
    nurse: User,
    custodian: User,
) -> Callable[[int], list[InfusionSession]]:
    """Grow the day to `count` running infusions, each with a dose, nausea and ondansetron."""
    vials = factories.stock_at(location, custodian, vials=3)
    made: list[InfusionSession] = []

    def grow(count: int) -> list[InfusionSession]:
        while len(made) < count:
            n = len(made) + 1
            who = patient if n == 1 else _another_patient(front_desk, n)
            treatment_factories.ready_for_treatment(who, prescriber)
            plan = treatment_factories.make_plan(who, prescriber, director)
            treatment_factories.sign_order(plan, prescriber)
            room = factories.make_room(location, f"Infusion {n}")
            made.append(_running(plan, room, nurse, vials[n - 1]))
        return made

    return grow


def test_the_day_and_the_board_cost_the_same_with_three_infusions_as_with_one(
    client: Client,
    nurse: User,
    clinic_day: Callable[[int], list[InfusionSession]],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    login(client, nurse)
    location = clinic_day(1)[0].location
    day = reverse("infusions:day") + f"?location={location.uuid}"
    board = reverse("infusions:board") + f"?location={location.uuid}"
    rooms = reverse("infusions:board_rooms", kwargs={"location_uuid": location.uuid})
    for count in (1, 3):
        clinic_day(count)
        with django_assert_num_queries(DAY):
            assert client.get(day).status_code == 200
        with django_assert_num_queries(BOARD_BASE + BOARD_PER_OPEN_ROOM * count):
            assert client.get(board).status_code == 200
        with django_assert_num_queries(
            BOARD_ROOMS_BASE + BOARD_ROOMS_PER_OPEN_ROOM * count
        ):
            assert client.get(rooms).status_code == 200


def test_a_patients_log_and_plan_cost_the_same_with_three_infusions_as_with_one(
    client: Client,
    plan: TreatmentPlan,
    room: Room,
    nurse: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """Three infusions of one patient, each with a dose, nausea and ondansetron
    (cancelled before the start, so the next can check in)."""
    login(client, nurse)
    log = reverse("infusions:patient_log", kwargs={"patient_uuid": plan.patient.uuid})
    plan_page = reverse("treatment:plan", kwargs={"plan_uuid": plan.uuid})
    for count in (1, 3):
        while plan.sessions.count() < count:
            session = _checked_in_with_a_dose_and_an_event(plan, room, nurse)
            session_flow.cancel(session, reason="Pump fault (test)", by=nurse)
        with django_assert_num_queries(PATIENT_LOG):
            assert client.get(log).status_code == 200
        with django_assert_num_queries(PLAN):
            assert client.get(plan_page).status_code == 200
