"""The technician's screen and the course page: the whole session path, and each bad input on the page."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Device
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.models import SeizureEvent, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import NO_FINDINGS

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]


def start_data(physician: User, **changes: str) -> dict[str, str]:
    # The unit the screen offers (the factories' course location has one).
    assert physician.organization_id is not None
    unit = Device.objects.filter(
        kind=Device.Kind.TMS_UNIT, location__organization_id=physician.organization_id
    ).first()
    assert unit is not None
    data = {
        "start-supervising_physician": str(physician.pk),
        "start-device": str(unit.pk),
        "start-metal_removed": "yes",
        "start-ear_protection": "yes",
        "start-alcohol_or_drugs": "no",
        "start-medication_change": "no",
        "start-poor_sleep": "no",
    }
    return data | {f"start-{k}": v for k, v in changes.items()}


def step(course: TmsCourse, name: str) -> str:
    return reverse("tms:step", args=[course.uuid, name])


def test_screen_shows_coil_position_and_intensity_with_working(
    tms_course: TmsCourse, as_persona: SignIn
) -> None:
    response = as_persona("tms").get(reverse("tms:session", args=[tms_course.uuid]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Beam F3" in body
    assert "Set 66 % output" in body
    assert "120 % of MT 55 % = 66 % output" in body
    assert "Session 1 of 36" in body


def test_technician_runs_a_session(
    tms_course: TmsCourse, as_persona: SignIn, prescriber: User
) -> None:
    client = as_persona("tms")
    response = client.post(step(tms_course, "start"), start_data(prescriber))
    assert response.status_code == 302
    session = TmsSession.objects.get(course=tms_course)
    response = client.post(
        step(tms_course, "side-effect"),
        {"effect-kind": "headache", "effect-severity": "mild"},
    )
    assert response.status_code == 302
    response = client.post(step(tms_course, "end"), {"end-pulses_delivered": "3000"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.status, session.pulses_delivered) == ("completed", 3000)
    assert session.side_effects.get().kind == "headache"


def test_hard_stop_on_the_page_writes_nothing(
    tms_course: TmsCourse, as_persona: SignIn, prescriber: User
) -> None:
    response = as_persona("tms").post(
        step(tms_course, "start"), start_data(prescriber, ear_protection="no")
    )
    assert response.status_code == 200
    assert "Ear protection is required" in response.content.decode()
    assert not TmsSession.objects.exists()


def test_pulses_above_planned_on_the_page(
    open_session: TmsSession, as_persona: SignIn
) -> None:
    response = as_persona("tms").post(
        step(open_session.course, "end"), {"end-pulses_delivered": "3001"}
    )
    assert response.status_code == 200
    assert "more than the 3000 planned" in response.content.decode()
    open_session.refresh_from_db()
    assert open_session.is_open


def test_intensity_above_device_max_on_the_page(
    patient: object, tms: User, prescriber: User, as_persona: SignIn
) -> None:
    from neuroclinic.patients.models import Patient

    assert isinstance(patient, Patient)
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    course = factories.course(patient, prescriber)
    factories.threshold(patient, tms, prescriber, value=90)  # re-determined higher
    client = as_persona("tms")
    assert (
        "device&#x27;s maximum"
        in client.get(reverse("tms:session", args=[course.uuid])).content.decode()
    )
    response = client.post(step(course, "start"), start_data(prescriber))
    assert response.status_code == 200
    assert not TmsSession.objects.exists()


def test_unscreened_patient_is_refused_on_the_page(
    tms_course: TmsCourse, tms: User, prescriber: User, as_persona: SignIn
) -> None:
    # A new screen finds a pacemaker after the order: the latest screen no longer clears.
    screening_actions.record_screen(
        tms_course.patient, answers={**NO_FINDINGS, "cardiac_device": True}, by=tms
    )
    client = as_persona("tms")
    page = client.get(reverse("tms:session", args=[tms_course.uuid])).content.decode()
    assert "safety screen is not cleared" in page
    response = client.post(step(tms_course, "start"), start_data(prescriber))
    assert response.status_code == 200
    assert not TmsSession.objects.exists()


def test_seizure_holds_until_the_physicians_review_on_the_page(
    open_session: TmsSession, client: Client, tms: User, prescriber: User
) -> None:
    from conftest import login

    course = open_session.course
    login(client, tms)
    assert client.post(step(course, "seizure"), {}).status_code == 302
    seizure = SeizureEvent.objects.get()
    # The next session is refused while the hold lasts.
    response = client.post(step(course, "start"), start_data(prescriber))
    assert response.status_code == 200
    assert "on hold after a seizure" in response.content.decode()
    assert TmsSession.objects.count() == 1
    # The technician cannot release it.
    review = reverse("tms:review", args=[seizure.uuid])
    assert client.post(review, {"decision": "resume", "note": "x"}).status_code == 403
    login(client, prescriber)
    page = client.get(reverse("tms:course", args=[course.uuid])).content.decode()
    assert "On hold after a seizure" in page
    response = client.post(review, {"decision": "resume", "note": ""})
    assert response.status_code == 200  # the note is required
    assert (
        client.post(review, {"decision": "resume", "note": "Reviewed."}).status_code
        == 302
    )
    login(client, tms)
    with_day_later = client.post(step(course, "start"), start_data(prescriber))
    # Same day as the stopped session: one session a day on 10 Hz, so still refused,
    # but no longer for the hold.
    assert "on hold" not in with_day_later.content.decode()


def test_course_page_shows_phq9_trajectory_with_tms_marks(
    open_session: TmsSession, as_persona: SignIn, prescriber: User
) -> None:
    from neuroclinic.measures.actions.responses import record_response
    from neuroclinic.measures.models import QuestionnaireResponse

    answers = {f"phq9-{i}": 2 for i in range(1, 10)} | {"phq9-9": 0}
    for _ in range(2):
        record_response(
            open_session.patient,
            instrument_code="phq9",
            answers=answers,
            source=QuestionnaireResponse.Source.STAFF,
            by=prescriber,
        )
    body = (
        as_persona("prescriber")
        .get(reverse("tms:course", args=[open_session.course.uuid]))
        .content.decode()
    )
    assert "<svg" in body
    assert "TMS 1" in body


def test_course_list_queries_are_pinned(
    tms_course: TmsCourse,
    prescriber: User,
    as_persona: SignIn,
    django_assert_max_num_queries: Callable[[int], object],
) -> None:
    # Three more courses must not add queries: the list is a fixed number of queries
    # (the 20th is the patient picker, the 21st every course's missed days).
    for _ in range(3):
        factories.course(tms_course.patient, prescriber)
    client = as_persona("prescriber")
    with django_assert_max_num_queries(21):  # type: ignore[attr-defined]
        response = client.get(reverse("tms:courses"))
    assert response.status_code == 200
    assert "0 of 36 delivered" in response.content.decode()


def test_course_list_shows_delivered_of_planned(
    tms_course: TmsCourse, tms: User, prescriber: User, as_persona: SignIn
) -> None:
    """Sessions delivered against the course as planned now (a day not made up drops one)."""
    from datetime import UTC, date, datetime, timedelta

    from neuroclinic.tms.actions import missed, sessions
    from neuroclinic.tms.models import MissedSession

    day1 = datetime(2026, 1, 5, 15, tzinfo=UTC)
    for n in range(2):
        session = factories.start(
            tms_course, tms, prescriber, now=day1 + timedelta(days=n)
        )
        sessions.end_session(
            session, pulses_delivered=3000, by=tms, now=day1 + timedelta(days=n)
        )
    missed.record_missed_session(
        tms_course,
        planned_on=date(2026, 1, 7),
        reason=MissedSession.Reason.ILLNESS,
        make_up=False,
        by=tms,
    )
    body = as_persona("prescriber").get(reverse("tms:courses")).content.decode()
    assert "2 of 35 delivered (36 ordered)" in body
