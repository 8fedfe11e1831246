"""A Lakeside patient with a diagnosis, a PHQ-9, a consent, a finished infusion
(vitals and a ledger administration) and its calendar visit, a TMS session and its
reviewed adverse event: every resource type the FHIR server serves."""

from collections.abc import Callable
from datetime import timedelta
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
from neuroclinic.scheduling.actions import setup
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    StaffShift,
)
from neuroclinic.tms.actions import adverse as tms_adverse
from neuroclinic.tms.actions import sessions as tms_sessions
from neuroclinic.tms.models import AdverseEvent, TmsSession
from neuroclinic.tms.tests import factories as tms_factories


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
def visited(
    stopped: InfusionSession, nurse: User, front_desk: User, admin: User
) -> Appointment:
    """The infusion's visit on the calendar (checked in), the nurse's shift that
    day, and a follow-up two weeks on, cancelled the day before the infusion."""
    organization = stopped.patient.organization
    types = {
        t.code: t for t in setup.install_default_types(organization, by=admin)
    } or {t.code: t for t in AppointmentType.objects.filter(organization=organization)}
    start = stopped.checked_in_at.replace(minute=0, second=0, microsecond=0)
    StaffShift.objects.create(
        organization=organization,
        location=stopped.location,
        user=nurse,
        starts_at=start - timedelta(hours=2),
        ends_at=start + timedelta(hours=6),
    )
    visit = Appointment.objects.create(
        organization=organization,
        location=stopped.location,
        patient=stopped.patient,
        appointment_type=types["infusion"],
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        held_until=start + timedelta(hours=2, minutes=15),
        staff=nurse,
        infusion_session=stopped,
        status=Appointment.Status.CHECKED_IN,
        booked_by=front_desk,
    )
    AppointmentStatusChange.objects.create(
        appointment=visit,
        status=Appointment.Status.BOOKED,
        at=start - timedelta(days=7),
        by=front_desk,
    )
    AppointmentStatusChange.objects.create(
        appointment=visit,
        status=Appointment.Status.CHECKED_IN,
        at=stopped.checked_in_at,
        by=nurse,
    )
    cancelled = Appointment.objects.create(
        organization=organization,
        location=stopped.location,
        patient=stopped.patient,
        appointment_type=types["follow_up"],
        starts_at=start + timedelta(days=14),
        ends_at=start + timedelta(days=14, minutes=30),
        held_until=start + timedelta(days=14, minutes=30),
        status=Appointment.Status.CANCELLED,
        booked_by=front_desk,
    )
    AppointmentStatusChange.objects.create(
        appointment=cancelled,
        status=Appointment.Status.CANCELLED,
        at=stopped.checked_in_at - timedelta(days=1),
        by=front_desk,
    )
    return visit


@pytest.fixture
def tms_given(stopped: InfusionSession, tms: User, prescriber: User) -> TmsSession:
    """A finished rTMS session for the same patient."""
    patient = stopped.patient
    tms_factories.clear_screen(patient, tms)
    tms_factories.threshold(patient, tms, prescriber)
    course = tms_factories.course(patient, prescriber)
    given = tms_factories.start(course, tms, prescriber)
    return tms_sessions.end_session(
        given, pulses_delivered=given.pulses_planned, by=tms
    )


@pytest.fixture
def tms_adverse_event(
    tms_given: TmsSession, tms: User, prescriber: User
) -> AdverseEvent:
    """A severe headache in that session, filed by the technician and reviewed
    (signed) by the prescriber: causality and a later outcome."""
    assert tms_given.ended_at is not None
    report = tms_adverse.record_adverse_event(
        tms_given.course,
        session=tms_given,
        kind="severe_headache",
        description="Headache after the session; paracetamol given.",
        severity="severe",
        onset_at=tms_given.ended_at,
        action_taken="treated",
        outcome="recovering",
        by=tms,
    )
    tms_adverse.review_adverse_event(
        report,
        causality="possibly_related",
        outcome="recovered",
        note="Settled within the hour; keep the intensity.",
        password=TEST_PASSWORD,
        by=prescriber,
    )
    return report


OUTSIDE_SYSTEM = "urn:oid:2.16.840.1.113883.19.5.99999.1"


@pytest.fixture
def imported(stopped: InfusionSession, director: User) -> InfusionSession:
    """What a FHIR import adds to the chart: another hospital's identifier for the
    patient, vital signs (a US Core heart rate and weight, a blood pressure kept as
    its two values) and an outside PHQ-9 total."""
    from neuroclinic.interop.actions.imports import import_bundle

    patient = stopped.patient
    ref = {"reference": f"Patient/{patient.uuid}"}
    loinc = "http://loinc.org"

    def observation(code: str, value: float, unit: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": loinc, "code": code}]},
            "subject": ref,
            "effectiveDateTime": "2025-11-03T10:15:00-05:00",
            "valueQuantity": {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        }

    bp = observation("85354-9", 0, "mm[Hg]")
    del bp["valueQuantity"]
    bp["component"] = [
        {
            "code": {"coding": [{"system": loinc, "code": code}]},
            "valueQuantity": {
                "value": value,
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        }
        for code, value in (("8480-6", 131), ("8462-4", 84))
    ]
    resources = [
        {
            "resourceType": "Patient",
            "id": str(patient.uuid),
            "identifier": [{"system": OUTSIDE_SYSTEM, "value": "H-20931"}],
            "name": [{"family": patient.family_name, "given": [patient.given_name]}],
            "gender": "female",
            "birthDate": patient.birth_date.isoformat(),
        },
        observation("8867-4", 64, "/min"),
        observation("29463-7", 71.4, "kg"),
        bp,
        observation("44261-6", 14, "{score}"),
    ]
    results = import_bundle(
        {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"resource": r} for r in resources],
        },
        organization=patient.organization,
        by=director,
    )
    assert [r.outcome for r in results] == ["matched"] + ["created"] * 4
    return stopped


@pytest.fixture
def charted(
    lettered: Letter,
    stopped: InfusionSession,
    visited: Appointment,
    tms_given: TmsSession,
    tms_adverse_event: AdverseEvent,
    imported: InfusionSession,
) -> InfusionSession:
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
