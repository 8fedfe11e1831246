"""The TMS course summary letter reports every instrument the course recorded, each on its
own row, with the course's sessions, protocol and side effects."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.letters.actions import letters
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import answers_with_total, phq9
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient
from neuroclinic.tms.actions import sessions as tms_sessions
from neuroclinic.tms.models import TmsCourse, TmsSession
from neuroclinic.tms.tests import factories as tms_factories
from neuroclinic.tms.tests.conftest import tms_course  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _score(patient: Patient, nurse: User, code: str, total: int, at: datetime) -> None:
    record_response(
        patient,
        instrument_code=code,
        # PHQ-9 with item 9 at 0: a positive item 9 would hold the TMS sessions.
        answers=phq9(total) if code == "phq9" else answers_with_total(code, total),
        source=QuestionnaireResponse.Source.STAFF,
        completed_at=at,
        by=nurse,
    )


def _session(
    course: TmsCourse, tms: User, prescriber: User, at: datetime
) -> TmsSession:
    session = tms_factories.start(course, tms, prescriber, now=at)
    return tms_sessions.end_session(
        session,
        pulses_delivered=session.pulses_planned,
        now=at + timedelta(minutes=20),
        by=tms,
    )


def test_the_tms_course_letter_has_a_row_per_instrument(
    tms_course: TmsCourse,  # noqa: F811
    patient: Patient,
    tms: User,
    nurse: User,
    prescriber: User,
    front_desk: User,
) -> None:
    now = timezone.now()
    # Long before the course (outside the look-back): not its baseline.
    _score(patient, nurse, "phq9", 24, now - timedelta(days=60))
    _score(patient, nurse, "phq9", 20, now - timedelta(days=11))
    _score(patient, nurse, "gad7", 14, now - timedelta(days=11))
    first = _session(tms_course, tms, prescriber, now - timedelta(days=10))
    tms_sessions.record_side_effect(
        first, kind="headache", severity="mild", now=now - timedelta(days=10), by=tms
    )
    _session(tms_course, tms, prescriber, now - timedelta(days=9))
    _score(patient, nurse, "phq9", 9, now - timedelta(days=1))
    _score(patient, nurse, "gad7", 7, now - timedelta(days=1))
    referrer = patient_actions.add_care_team_provider(
        patient, role=CareTeamProvider.Role.REFERRING, name="Dr R (test)", by=front_desk
    )
    letter = letters.draft_letter(
        patient, kind="tms_course", recipient=referrer, by=prescriber
    )
    body = letter.body
    assert (
        "| Patient Health Questionnaire-9 (PHQ-9) | 20 | 9 | -55.0% | yes | no |"
        in body
    )
    assert (
        "| Generalized Anxiety Disorder-7 (GAD-7) | 14 | 7 | -50.0% | not defined |"
        " not defined |" in body
    )
    assert "| 24 |" not in body  # the score from before the look-back
    assert f"2 of {tms_course.total_sessions}" in body
    assert tms_course.protocol_name in body
    assert "Headache (mild, session 1)" in body
    assert "not recorded" not in body


def test_a_patient_with_no_tms_course_gets_not_recorded(
    patient: Patient, prescriber: User, front_desk: User
) -> None:
    referrer = patient_actions.add_care_team_provider(
        patient, role=CareTeamProvider.Role.REFERRING, name="Dr R (test)", by=front_desk
    )
    letter = letters.draft_letter(
        patient, kind="tms_course", recipient=referrer, by=prescriber
    )
    assert "not recorded" in letter.body
    assert "| Measure |" not in letter.body
