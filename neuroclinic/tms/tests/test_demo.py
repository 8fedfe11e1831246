"""The demo clinic's TMS data: three courses consistent with their PHQ-9 scores."""

import pytest

from neuroclinic.clinics.demo import load_demo
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.tms.models import Interruption, TmsCourse, TmsSession


@pytest.mark.django_db
def test_demo_has_the_three_tms_courses() -> None:
    load_demo(patient_count=40)
    by_protocol = {c.protocol_code: c for c in TmsCourse.objects.all()}
    assert set(by_protocol) == {"rtms-10hz", "itbs-600", "itbs-accelerated"}
    ten_hz = by_protocol["rtms-10hz"]
    assert ten_hz.sessions.count() == ten_hz.total_sessions == 36  # with the taper
    assert by_protocol["itbs-accelerated"].sessions.count() == 50
    itbs = by_protocol["itbs-600"]
    assert 0 < itbs.sessions.count() < itbs.total_sessions  # in progress
    interrupted = Interruption.objects.get()
    assert interrupted.reason == "discomfort"
    assert interrupted.session.status == TmsSession.Status.INTERRUPTED
    for course in by_protocol.values():
        assert (
            QuestionnaireResponse.objects.filter(
                patient=course.patient, instrument_code="phq9"
            ).count()
            >= 2
        )
        assert not course.sessions.filter(status=TmsSession.Status.IN_PROGRESS).exists()
