"""A Lakeside room with a monitor and stock, an eligible consented patient with a plan
and a signed induction order, and a session at each step of the infusion day."""

from datetime import date
from decimal import Decimal

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Device, Location, Organization, Room
from neuroclinic.infusions.actions import dose_draw, session_flow
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.tests import factories
from neuroclinic.ledger.models import Container
from neuroclinic.ledger.tests import factories as ledger_factories
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories


@pytest.fixture
def location(organization: Organization) -> Location:
    return ledger_factories.make_location(organization, phone="555-0100")


@pytest.fixture
def room(location: Location) -> Room:
    return factories.make_room(location)


@pytest.fixture
def monitor(location: Location, room: Room) -> Device:
    return factories.make_monitor(location, room)


@pytest.fixture
def vials(location: Location, custodian: User) -> list[Container]:
    return factories.stock_at(location, custodian)


@pytest.fixture
def plan(patient: Patient, prescriber: User, director: User) -> TreatmentPlan:
    treatment_factories.ready_for_treatment(patient, prescriber)
    plan = treatment_factories.make_plan(patient, prescriber, director)
    treatment_factories.sign_order(plan, prescriber)
    return plan


@pytest.fixture
def session(plan: TreatmentPlan, room: Room, nurse: User) -> InfusionSession:
    return session_flow.check_in(plan.patient, room=room, by=nurse)


@pytest.fixture
def ready(session: InfusionSession, nurse: User) -> InfusionSession:
    factories.fill_checklist(session, nurse)
    return session_flow.confirm_checklist(session, by=nurse)


@pytest.fixture
def dosed(
    ready: InfusionSession, nurse: User, vials: list[Container]
) -> InfusionSession:
    dose = dose_draw.calculate_dose(
        ready, by=nurse, concentration_mg_per_ml=Decimal(50)
    )
    dose_draw.draw(
        ready,
        by=nurse,
        container=vials[0],
        volume_ml=dose.drug_volume_ml + Decimal("0.2"),
    )
    return ready


@pytest.fixture
def running(dosed: InfusionSession, nurse: User) -> InfusionSession:
    return session_flow.start(dosed, by=nurse)


@pytest.fixture
def birth_date() -> date:
    return date(1985, 4, 12)
