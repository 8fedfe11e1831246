"""The patient sees their own questionnaire trajectories in the portal (issue #3)."""

from datetime import date

from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.outcomes.summary import PLAIN_WORDS, Status
from neuroclinic.outcomes.tests import factories as outcome_factories
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.portal.tests.test_portal import portal


def test_a_signed_in_patient_sees_their_phq9_trajectory(
    client: Client, patient: Patient, front_desk: User
) -> None:
    for total in (18, 12, 6):
        record_response(
            patient,
            instrument_code="phq9",
            answers=phq9(total),
            source=QuestionnaireResponse.Source.PORTAL,
            by=None,
        )

    response = portal(client, patient, front_desk).get("/portal/progress/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body
    assert "Patient Health Questionnaire-9" in body
    assert "-66.7% from baseline" in body
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRAJECTORY_VIEWED)
    assert (event.patient, event.data["via"]) == (patient, "portal")


def test_progress_needs_the_portal_session(client: Client) -> None:
    response = client.get("/portal/progress/")

    assert response.status_code == 401
    assert "<svg" not in response.content.decode()


def test_your_progress_summarises_the_patients_own_episode_in_plain_words(
    client: Client,
    patient: Patient,
    front_desk: User,
    prescriber: User,
    director: User,
    nurse: User,
) -> None:
    start = date(2026, 3, 2)
    outcome_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=start,
        scores=((-1, 20), (11, 3)),
    )
    other = patient_actions.register_patient(
        patient.organization,
        by=prescriber,
        family_name="Otherova",
        given_name="Demo",
        birth_date=date(1975, 5, 5),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
    )
    outcome_factories.course(
        other,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=start,
        scores=((-1, 23), (11, 17)),
    )

    response = portal(client, patient, front_desk).get("/portal/progress/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "How your treatment is going" in body
    assert PLAIN_WORDS[Status.REMISSION] in body
    assert "Before treatment 20, latest 3" in body
    # The other patient's episode (23 -> 17, no response) is not on this page.
    assert PLAIN_WORDS[Status.NO_RESPONSE] not in body
    assert "Before treatment 23" not in body
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRAJECTORY_VIEWED)
    assert (event.patient, event.data["via"]) == (patient, "portal")


def test_your_progress_says_when_response_cannot_be_judged(
    client: Client,
    patient: Patient,
    front_desk: User,
    prescriber: User,
    director: User,
    nurse: User,
) -> None:
    outcome_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=date(2026, 3, 2),
        scores=((11, 6),),  # no score before the first infusion
    )

    body = portal(client, patient, front_desk).get("/portal/progress/").content.decode()

    assert PLAIN_WORDS[Status.NO_BASELINE] in body
    assert "Before treatment" not in body
