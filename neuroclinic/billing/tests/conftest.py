"""Billing tests reuse the infusion day's fixtures (a room, stock, a signed order, a session)."""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.billing.tests import factories
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.tests.conftest import (  # noqa: F401  (fixtures)
    dosed,
    location,
    monitor,
    plan,
    ready,
    room,
    running,
    session,
    vials,
)
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient


@pytest.fixture
def priced(organization: Organization, billing: User, prescriber: User) -> None:
    factories.price_list(organization, billing)
    factories.npi_for(prescriber, billing)


@pytest.fixture
def diagnosed(patient: Patient, prescriber: User) -> Patient:
    patient_actions.add_diagnosis(
        patient,
        icd10_code="F33.2",
        description="Major depressive disorder, recurrent severe",
        by=prescriber,
    )
    return patient


@pytest.fixture
def infused(running: InfusionSession) -> InfusionSession:  # noqa: F811
    return factories.finish(running, minutes=40)
