"""Measures lists take a fixed number of queries, however many rows they show.

Each test asks twice, with a few rows and with many, and pins the count both
times, so an N+1 query shows as a failure.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.alerts import raise_safety_alert
from neuroclinic.measures.actions.configuration import add_measurement_rule
from neuroclinic.measures.actions.due_measures import schedule_measures
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.patients.tests.factories import make_patient

PageQueries = Callable[[int], Any]


@pytest.fixture
def treated(patient: Patient, prescriber: User, admin: User) -> Patient:
    return patient_actions.update_patient(patient, by=admin, prescriber=prescriber)


def _responses(patient: Patient, nurse: User, count: int) -> None:
    for n in range(count):
        record_response(
            patient,
            instrument_code="phq9" if n % 2 else "gad7",
            answers=phq9(n % 20) if n % 2 else {f"gad7-{i}": 1 for i in range(1, 8)},
            source=QuestionnaireResponse.Source.STAFF,
            by=nurse,
        )


def _alerts(
    organization: Organization, prescriber: User, admin: User, count: int
) -> None:
    for n in range(count):
        patient = make_patient(organization, family_name=f"Alertson{n}")
        patient_actions.update_patient(patient, by=admin, prescriber=prescriber)
        raise_safety_alert(
            patient, reason=SafetyAlert.Reason.CLINICIAN, detail="Seen low today"
        )


def _due(organization: Organization, count: int) -> None:
    for n in range(count):
        schedule_measures(
            make_patient(organization, family_name=f"Duewell{n}"),
            trigger=schedules.Trigger.BEFORE_INFUSION,
            event_at=timezone.now() + timedelta(hours=1),
            event_ref=f"infusion:{n}",
        )


def test_the_alert_list(
    as_persona: Callable[[str], Client],
    organization: Organization,
    prescriber: User,
    admin: User,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("prescriber")
    _alerts(organization, prescriber, admin, 1)
    client.get("/measures/alerts/")

    with django_assert_num_queries(10):
        assert client.get("/measures/alerts/").status_code == 200
    _alerts(organization, prescriber, admin, 8)
    with django_assert_num_queries(10):
        assert client.get("/measures/alerts/").status_code == 200


def test_the_worklist(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("front_desk")
    _due(organization, 1)
    client.get("/measures/worklist/")

    with django_assert_num_queries(11):
        assert client.get("/measures/worklist/").status_code == 200
    _due(organization, 8)
    with django_assert_num_queries(11):
        assert client.get("/measures/worklist/").status_code == 200


def test_a_patients_measures_page(
    as_persona: Callable[[str], Client],
    treated: Patient,
    nurse: User,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("nurse")
    url = f"/measures/patients/{treated.uuid}/"
    _responses(treated, nurse, 2)
    client.get(url)

    # 20: one query per app that marks treatment events (infusions, TMS) on the charts,
    # and one for the clinic's outcome definitions (response and remission lines).
    with django_assert_num_queries(18):
        assert client.get(url).status_code == 200
    _responses(treated, nurse, 12)
    raise_safety_alert(treated, reason=SafetyAlert.Reason.CLINICIAN)
    with django_assert_num_queries(18):
        assert client.get(url).status_code == 200


def test_the_measurement_settings(
    as_persona: Callable[[str], Client],
    director: User,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("director")
    client.get("/measures/settings/")

    with django_assert_num_queries(10):
        assert client.get("/measures/settings/").status_code == 200
    assert director.organization_id is not None
    for offset in (24, 48, 72):
        add_measurement_rule(
            director.organization_id,
            instrument_code="gad7",
            trigger="after_infusion",
            offset_hours=offset,
            repeat_count=1,
            repeat_every_days=0,
            window_hours=24,
            by=director,
        )
    with django_assert_num_queries(10):
        assert client.get("/measures/settings/").status_code == 200


def test_the_responses_api(
    as_persona: Callable[[str], Client],
    treated: Patient,
    nurse: User,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("nurse")
    url = f"/api/patients/{treated.uuid}/responses"
    _responses(treated, nurse, 2)
    client.get(url)

    with django_assert_num_queries(12):
        assert len(client.get(url).json()) == 2
    _responses(treated, nurse, 12)
    with django_assert_num_queries(12):
        assert len(client.get(url).json()) == 14


def test_the_alerts_api(
    as_persona: Callable[[str], Client],
    treated: Patient,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("nurse")
    url = f"/api/patients/{treated.uuid}/alerts"
    raise_safety_alert(treated, reason=SafetyAlert.Reason.CLINICIAN)
    client.get(url)

    with django_assert_num_queries(12):
        assert len(client.get(url).json()) == 1
    for _ in range(6):
        raise_safety_alert(treated, reason=SafetyAlert.Reason.CLINICIAN)
    with django_assert_num_queries(12):
        assert len(client.get(url).json()) == 7


def test_the_instrument_list_api(
    client: Client, db: None, django_assert_num_queries: PageQueries
) -> None:
    with django_assert_num_queries(0):
        assert len(client.get("/api/instruments").json()) == len(INSTRUMENTS)
