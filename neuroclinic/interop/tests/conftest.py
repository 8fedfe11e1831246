"""A Lakeside patient with a diagnosis, a PHQ-9, a consent and a finished infusion
(vitals and a ledger administration): every resource type the FHIR server serves."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.infusions.actions import session_flow
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.tests import factories as infusion_factories
from neuroclinic.infusions.tests.conftest import (  # noqa: F401 - fixtures
    birth_date,
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
from neuroclinic.letters.actions import letters
from neuroclinic.letters.models import Letter
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Diagnosis


@pytest.fixture
def stopped(running: InfusionSession, nurse: User) -> InfusionSession:  # noqa: F811
    dose = running.doses.order_by("calculated_at", "id").last()
    assert dose is not None
    # "Completed as ordered" needs the ordered run time behind it (issue 14, item 13).
    running = infusion_factories.ran_for(running, 40)
    return session_flow.stop(
        running,
        reason="Completed",
        completed=True,
        volume_infused_ml=dose.total_volume_ml,
        by=nurse,
    )


@pytest.fixture
def diagnosis(stopped: InfusionSession, prescriber: User) -> Diagnosis:
    return patient_actions.add_diagnosis(
        stopped.patient,
        icd10_code="F33.2",
        description="Major depressive disorder, recurrent severe",
        by=prescriber,
    )


@pytest.fixture
def listed(diagnosis: Diagnosis, prescriber: User) -> Diagnosis:
    """An allergy (with a reaction) and a medication on the same chart."""
    patient_actions.add_allergy(
        diagnosis.patient,
        substance="Penicillin",
        reaction="Hives",
        severity="moderate",
        by=prescriber,
    )
    patient_actions.add_medication(
        diagnosis.patient, name="Sertraline", dose="100 mg daily", by=prescriber
    )
    return diagnosis


@pytest.fixture
def lettered(listed: Diagnosis, prescriber: User, front_desk: User) -> Letter:
    """A signed end-of-series letter to the referring psychiatrist."""
    referrer = patient_actions.add_care_team_provider(
        listed.patient,
        role=CareTeamProvider.Role.REFERRING,
        name="Dr Rowan Referrer (test)",
        practice="Test Psychiatry",
        fax="555-0199",
        by=front_desk,
    )
    letter = letters.draft_letter(
        listed.patient, kind="end_of_series", recipient=referrer, by=prescriber
    )
    return letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)


@pytest.fixture
def charted(lettered: Letter, stopped: InfusionSession) -> InfusionSession:
    """The whole chart: everything above exists."""
    return stopped


@pytest.fixture
def fhir(
    client: Client, bearer: Callable[[User], dict[str, str]]
) -> Callable[..., object]:
    """GET a FHIR path as a user: fhir(user, "Patient", _count=5)."""

    def get(
        user: User | None,
        path: str,
        headers: dict[str, str] | None = None,
        **params: str | int,
    ) -> Any:
        sent = dict(headers or {})
        if user is not None:
            sent |= bearer(user)
        return client.get(f"/fhir/{path}", params, headers=sent)

    return get
