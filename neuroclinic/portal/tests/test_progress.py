"""The patient sees their own questionnaire trajectories in the portal (issue #3)."""

from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import phq9
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
