"""The TMS actions: each refusal writes nothing; each write is audited."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.actions.alerts import raise_safety_alert
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.notifications.models import Notification
from neuroclinic.patients.models import Patient
from neuroclinic.tms import reads
from neuroclinic.tms.actions import courses, seizures, sessions
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    Interruption,
    MotorThreshold,
    SafetyScreen,
    SeizureReview,
    SideEffect,
    TmsCourse,
    TmsSession,
)
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import DAILY_OK, NO_FINDINGS

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        SafetyScreen.objects.count(),
        MotorThreshold.objects.count(),
        TmsCourse.objects.count(),
        TmsSession.objects.count(),
        SideEffect.objects.count(),
        AuditEvent.objects.filter(action__startswith="tms.").count(),
    )


# Screening -------------------------------------------------------------------------


def test_screen_with_caution_needs_a_decision_before_a_course(
    patient: Patient, tms: User, prescriber: User
) -> None:
    screen = screening_actions.record_screen(
        patient, answers={**NO_FINDINGS, "epilepsy": True}, by=tms
    )
    assert screen.outcome == "needs_review"
    assert not screen.is_cleared
    with pytest.raises(TmsError, match="decision"):
        factories.course(patient, prescriber)
    screening_actions.decide_screen(
        screen, cleared=True, rationale="Childhood febrile seizure only.", by=prescriber
    )
    assert factories.course(patient, prescriber).screen == screen
    assert AuditEvent.objects.filter(action="tms.screen_decided").count() == 1


def test_excluded_screen_cannot_be_cleared(
    patient: Patient, tms: User, prescriber: User
) -> None:
    screen = screening_actions.record_screen(
        patient, answers={**NO_FINDINGS, "cardiac_device": True}, by=tms
    )
    with pytest.raises(TmsError) as caught:
        screening_actions.decide_screen(
            screen, cleared=True, rationale="x", by=prescriber
        )
    assert caught.value.field == "cleared"
    with pytest.raises(TmsError, match="contraindication"):
        factories.course(patient, prescriber)


def test_unanswered_screen_refused(patient: Patient, tms: User) -> None:
    before = counts()
    with pytest.raises(TmsError) as caught:
        screening_actions.record_screen(patient, answers={"epilepsy": False}, by=tms)
    assert "metal_in_head" in caught.value.errors
    assert counts() == before


def test_unscreened_patient_gets_no_course(patient: Patient, prescriber: User) -> None:
    before = counts()
    with pytest.raises(TmsError, match="No TMS safety screen"):
        factories.course(patient, prescriber)
    assert counts() == before


# Threshold and course ----------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 101])
def test_threshold_outside_1_to_100_refused(
    patient: Patient, tms: User, prescriber: User, value: int
) -> None:
    before = counts()
    with pytest.raises(TmsError) as caught:
        factories.threshold(patient, tms, prescriber, value=value)
    assert "threshold_percent_output" in caught.value.errors
    assert counts() == before


def test_threshold_needs_a_physician(patient: Patient, tms: User, nurse: User) -> None:
    with pytest.raises(TmsError) as caught:
        factories.threshold(patient, tms, nurse)
    assert caught.value.field == "supervising_physician"


def test_course_above_protocol_maximum_refused(
    patient: Patient, tms: User, prescriber: User
) -> None:
    factories.clear_screen(patient, tms)
    before = counts()
    with pytest.raises(TmsError) as caught:
        factories.course(patient, prescriber, percent_of_mt=Decimal(130))
    assert "percent_of_mt" in caught.value.errors
    assert counts() == before


def test_course_plan_is_the_booking_list(tms_course: TmsCourse) -> None:
    planned = reads.sessions_to_book(tms_course)
    assert tms_course.total_sessions == len(planned) == 36
    assert planned[0].on == tms_course.start_date


# Sessions ----------------------------------------------------------------------------


def test_first_session_intensity_and_code(open_session: TmsSession) -> None:
    assert open_session.number == 1
    assert open_session.output_percent == 66  # 120 % of 55
    assert open_session.pulses_planned == 3000
    assert open_session.cpt_code == "90867"
    assert open_session.coil_position == "Beam F3"
    assert AuditEvent.objects.filter(action="tms.session_started").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metal_removed": False}, "metal_removed"),
        ({"ear_protection": False}, "ear_protection"),
        ({"alcohol_or_drugs": True}, "alcohol_or_drugs"),
    ],
)
def test_daily_hard_stop_writes_nothing(
    tms_course: TmsCourse,
    tms: User,
    prescriber: User,
    change: dict[str, bool],
    field: str,
) -> None:
    before = counts()
    with pytest.raises(TmsError, match="Hard stop") as caught:
        sessions.start_session(
            tms_course,
            daily_check={**DAILY_OK, **change},
            supervising_physician=prescriber,
            by=tms,
        )
    assert field in caught.value.errors
    assert counts() == before


def test_an_unassessed_suicide_risk_alert_holds_tms_like_an_infusion(
    tms_course: TmsCourse, tms: User, prescriber: User
) -> None:
    raise_safety_alert(tms_course.patient, reason=SafetyAlert.Reason.CLINICIAN)
    before = counts()

    with pytest.raises(TmsError, match="Unresolved safety alert"):
        sessions.start_session(
            tms_course,
            daily_check=DAILY_OK,
            supervising_physician=prescriber,
            by=tms,
        )

    assert counts() == before


def test_intensity_above_device_maximum_refused(
    patient: Patient, tms: User, prescriber: User
) -> None:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    course = factories.course(patient, prescriber)
    # Re-determined higher after the order: 120 % -> 108 % output.
    factories.threshold(patient, tms, prescriber, value=90)
    before = counts()
    with pytest.raises(TmsError, match="device's maximum"):
        factories.start(course, tms, prescriber)
    assert counts() == before


def test_no_threshold_no_session(patient: Patient, tms: User, prescriber: User) -> None:
    factories.clear_screen(patient, tms)
    course = factories.course(patient, prescriber)
    with pytest.raises(TmsError, match="No motor threshold"):
        factories.start(course, tms, prescriber)


def test_delivered_above_planned_refused(open_session: TmsSession, tms: User) -> None:
    before = counts()
    with pytest.raises(TmsError) as caught:
        sessions.end_session(open_session, pulses_delivered=3001, by=tms)
    assert caught.value.field == "pulses_delivered"
    assert counts() == before
    open_session.refresh_from_db()
    assert open_session.pulses_delivered is None
    assert open_session.is_open


def test_short_session_needs_a_reason_then_is_interrupted(
    open_session: TmsSession, tms: User
) -> None:
    with pytest.raises(TmsError) as caught:
        sessions.end_session(open_session, pulses_delivered=1200, by=tms)
    assert caught.value.field == "interruption_reason"
    ended = sessions.end_session(
        open_session, pulses_delivered=1200, interruption_reason="discomfort", by=tms
    )
    assert ended.status == TmsSession.Status.INTERRUPTED
    assert ended.trains_delivered == 30
    assert Interruption.objects.get(session=ended).after_pulses == 1200


def test_one_session_a_day_on_10hz_and_90869_after_a_new_threshold(
    patient: Patient, tms: User, prescriber: User
) -> None:
    day1 = datetime(2026, 1, 5, 15, tzinfo=UTC)
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber, now=day1 - timedelta(hours=1))
    tms_course = factories.course(patient, prescriber)
    first = factories.start(tms_course, tms, prescriber, now=day1)
    sessions.end_session(
        first, pulses_delivered=3000, by=tms, now=day1 + timedelta(minutes=40)
    )
    with pytest.raises(TmsError, match="one session a day"):
        factories.start(tms_course, tms, prescriber, now=day1 + timedelta(hours=2))
    day2 = day1 + timedelta(days=1)
    second = factories.start(tms_course, tms, prescriber, now=day2)
    assert second.cpt_code == "90868"
    sessions.end_session(
        second, pulses_delivered=3000, by=tms, now=day2 + timedelta(minutes=40)
    )
    factories.threshold(
        tms_course.patient, tms, prescriber, value=60, now=day2 + timedelta(hours=20)
    )
    third = factories.start(tms_course, tms, prescriber, now=day2 + timedelta(days=1))
    assert (third.cpt_code, third.output_percent) == ("90869", 72)


def test_accelerated_interval_enforced(
    patient: Patient, tms: User, prescriber: User
) -> None:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber, value=60)
    course = factories.course(
        patient,
        prescriber,
        protocol_code="itbs-accelerated",
        acute_sessions=50,
        taper=False,
    )
    at = datetime(2026, 1, 5, 14, tzinfo=UTC)
    first = factories.start(course, tms, prescriber, now=at)
    assert (first.output_percent, first.pulses_planned) == (54, 1800)  # 90 % of 60
    sessions.end_session(
        first, pulses_delivered=1800, by=tms, now=at + timedelta(minutes=10)
    )
    before = counts()
    with pytest.raises(TmsError, match="50 minutes apart"):
        factories.start(course, tms, prescriber, now=at + timedelta(minutes=40))
    assert counts() == before
    assert (
        factories.start(course, tms, prescriber, now=at + timedelta(minutes=60)).number
        == 2
    )


def test_side_effect_and_intensity_ramp(open_session: TmsSession, tms: User) -> None:
    sessions.record_side_effect(
        open_session, kind="scalp_pain", severity="mild", by=tms
    )
    with pytest.raises(TmsError):
        sessions.record_side_effect(open_session, kind="other", severity="mild", by=tms)
    change = sessions.change_intensity(
        open_session,
        percent_of_mt=Decimal(100),
        reason="Ramp-up for scalp pain",
        by=tms,
    )
    assert change.output_percent == 55
    with pytest.raises(TmsError, match="not above"):
        sessions.change_intensity(
            open_session, percent_of_mt=Decimal(125), reason="x", by=tms
        )


# Seizure -------------------------------------------------------------------------------


def test_seizure_holds_the_course_until_a_physician_review(
    open_session: TmsSession, tms: User, prescriber: User
) -> None:
    seizure = seizures.record_seizure(
        open_session, post_ictal_status="Drowsy, oriented at 10 min", by=tms
    )
    open_session.refresh_from_db()
    assert open_session.status == TmsSession.Status.SEIZURE
    note = Notification.objects.get(recipient=prescriber)
    assert note.urgency == Notification.Urgency.URGENT
    course = open_session.course
    before = counts()
    with pytest.raises(TmsError, match="on hold"):
        factories.start(
            course, tms, prescriber, now=open_session.started_at + timedelta(days=1)
        )
    assert counts() == before
    with pytest.raises(TmsError, match="Document"):
        seizures.review_seizure(seizure, decision="resume", note=" ", by=prescriber)
    seizures.review_seizure(
        seizure, decision="resume", note="EEG normal; resume.", by=prescriber
    )
    later = factories.start(
        course, tms, prescriber, now=open_session.started_at + timedelta(days=1)
    )
    assert later.number == 2
    with pytest.raises(TmsError, match="already reviewed"):
        seizures.review_seizure(seizure, decision="stop", note="x", by=prescriber)


def test_stopped_course_refuses_sessions(
    open_session: TmsSession, tms: User, prescriber: User
) -> None:
    seizure = seizures.record_seizure(open_session, by=tms)
    seizures.review_seizure(
        seizure, decision=SeizureReview.Decision.STOP, note="Stop.", by=prescriber
    )
    with pytest.raises(TmsError, match="stopped this course"):
        factories.start(open_session.course, tms, prescriber)


def test_course_ordering_is_prescriber_work(tms_course: TmsCourse) -> None:
    assert courses.order_course is not None
    assert AuditEvent.objects.filter(action="tms.course_ordered").count() == 1
