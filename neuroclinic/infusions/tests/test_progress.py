"""Infusions given are marked on the patient's questionnaire trajectories."""

from neuroclinic.infusions.models import InfusionSession
from neuroclinic.infusions.progress import trajectory_events
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.progress import trajectories_for
from neuroclinic.measures.tests.factories import phq9


def test_a_started_infusion_is_an_event_and_a_checked_in_one_is_not(
    session: InfusionSession, running: InfusionSession
) -> None:
    events = trajectory_events(running.patient)

    assert [(e.on, e.label) for e in events] == [
        (running.service_date, f"Inf {running.sequence_number}")
    ]


def test_the_trajectory_marks_the_infusion(running: InfusionSession) -> None:
    for total in (18, 9):
        record_response(
            running.patient,
            instrument_code="phq9",
            answers=phq9(total),
            source=QuestionnaireResponse.Source.PORTAL,
            by=None,
        )

    [phq9_trajectory] = trajectories_for(running.patient)

    assert "trajectory-events" in phq9_trajectory["svg"]
    assert "1 treatment event marked" in phq9_trajectory["svg"]
