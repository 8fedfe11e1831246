"""The recording pages: safety screen (technician), the decision on it and the course order
(prescriber), the motor threshold (technician); each refusal on the page writes nothing."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.patients.models import Patient
from neuroclinic.tms.models import (
    MotorThreshold,
    SafetyScreen,
    ScreenDecision,
    SessionAddendum,
    TmsCourse,
    TmsSession,
)
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import NO_FINDINGS

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]


def screen_data(**yes: str) -> dict[str, str]:
    return dict.fromkeys(NO_FINDINGS, "no") | yes


def threshold_data(physician: User, **changes: str) -> dict[str, str]:
    data = {
        "value_percent_output": "55",
        "observation": "emg",
        "procedure": "relative_frequency",
        "reason": "initial",
        "coil": "Figure-8",
        "supervising_physician": str(physician.pk),
    }
    return data | changes


def order_data(patient: Patient, **changes: str) -> dict[str, str]:
    factories.signed_protocols(patient.organization_id)
    location = factories.make_location(patient.organization_id)
    data = {
        "protocol_version": factories.offered_version(patient.organization_id),
        "target": "beam_f3",
        "acute_sessions": "30",
        "start_date": "2026-12-07",
        "location": str(location.pk),
    }
    return data | changes


def test_home_and_course_page_reach_the_patient_page(
    tms_course: TmsCourse, as_persona: SignIn
) -> None:
    client = as_persona("tms")
    patient_url = reverse("tms:patient", args=[tms_course.patient.uuid])
    home = client.get(reverse("tms:courses")).content.decode()
    assert patient_url in home
    assert str(tms_course.patient.uuid) in home  # the picker offers the patient
    course = client.get(reverse("tms:course", args=[tms_course.uuid])).content.decode()
    assert patient_url in course
    picked = client.get(reverse("tms:pick"), {"patient": str(tms_course.patient.uuid)})
    assert picked.status_code == 302
    assert picked["Location"] == patient_url
    assert client.get(reverse("tms:pick"), {"patient": "nope"}).status_code == 404
    page = client.get(patient_url)
    assert page.status_code == 200
    assert "55 %" in page.content.decode()  # the threshold is listed
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TMS_COURSE_VIEWED, patient=tms_course.patient
    ).exists()


def test_technician_records_a_clear_screen(
    patient: Patient, as_persona: SignIn
) -> None:
    client = as_persona("tms")
    response = client.post(reverse("tms:screen", args=[patient.uuid]), screen_data())
    assert response.status_code == 302
    assert SafetyScreen.objects.get(patient=patient).outcome == "clear"


def test_unanswered_screen_question_writes_nothing(
    patient: Patient, as_persona: SignIn
) -> None:
    data = screen_data()
    del data["epilepsy"]
    response = as_persona("tms").post(reverse("tms:screen", args=[patient.uuid]), data)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not SafetyScreen.objects.exists()


def test_prescriber_decides_a_screen_with_cautions(
    patient: Patient, as_persona: SignIn
) -> None:
    as_persona("tms").post(
        reverse("tms:screen", args=[patient.uuid]), screen_data(epilepsy="yes")
    )
    screen = SafetyScreen.objects.get(patient=patient)
    assert screen.outcome == "needs_review"
    client = as_persona("prescriber")
    page = client.get(reverse("tms:patient", args=[patient.uuid])).content.decode()
    decide_url = reverse("tms:decide", args=[screen.uuid])
    assert decide_url in page
    form = client.get(decide_url).content.decode()
    assert "Epilepsy or a seizure ever?" in form
    blank = client.post(decide_url, {"cleared": "yes", "rationale": "   "})
    assert blank.status_code == 200
    assert not ScreenDecision.objects.exists()
    response = client.post(
        decide_url, {"cleared": "yes", "rationale": "Childhood febrile seizure only."}
    )
    assert response.status_code == 302
    assert ScreenDecision.objects.get(screen=screen).cleared


def test_an_excluded_screen_cannot_be_cleared_on_the_page(
    patient: Patient, as_persona: SignIn
) -> None:
    as_persona("tms").post(
        reverse("tms:screen", args=[patient.uuid]), screen_data(cochlear_implant="yes")
    )
    screen = SafetyScreen.objects.get(patient=patient)
    response = as_persona("prescriber").post(
        reverse("tms:decide", args=[screen.uuid]),
        {"cleared": "yes", "rationale": "Wants it."},
    )
    assert response.status_code == 200
    assert "cannot be cleared" in response.content.decode()
    assert not ScreenDecision.objects.exists()


@pytest.mark.parametrize(
    ("persona", "name", "status"),
    [
        ("tms", "decide", 403),
        ("tms", "order", 403),
        ("front_desk", "screen", 403),
        ("front_desk", "threshold", 403),
        ("prescriber", "screen", 200),
    ],
)
def test_each_page_is_for_the_role_that_does_it(
    patient: Patient,
    tms: User,
    as_persona: SignIn,
    persona: str,
    name: str,
    status: int,
) -> None:
    screen = factories.clear_screen(patient, tms)
    arg = screen.uuid if name == "decide" else patient.uuid
    assert (
        as_persona(persona).get(reverse(f"tms:{name}", args=[arg])).status_code
        == status
    )


def test_technician_records_a_threshold(
    patient: Patient, prescriber: User, as_persona: SignIn
) -> None:
    response = as_persona("tms").post(
        reverse("tms:threshold", args=[patient.uuid]), threshold_data(prescriber)
    )
    assert response.status_code == 302
    assert MotorThreshold.objects.get(patient=patient).value_percent_output == 55


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value_percent_output": "0"}, "1"),
        ({"value_percent_output": "101"}, "100"),
        ({"coil": " "}, "This field is required"),
        ({"observation": "touch"}, "Select a valid choice"),
    ],
)
def test_bad_threshold_on_the_page_writes_nothing(
    patient: Patient,
    prescriber: User,
    as_persona: SignIn,
    changes: dict[str, str],
    message: str,
) -> None:
    response = as_persona("tms").post(
        reverse("tms:threshold", args=[patient.uuid]),
        threshold_data(prescriber, **changes),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not MotorThreshold.objects.exists()


def test_prescriber_orders_a_course(
    patient: Patient, tms: User, as_persona: SignIn
) -> None:
    factories.clear_screen(patient, tms)
    response = as_persona("prescriber").post(
        reverse("tms:order", args=[patient.uuid]), order_data(patient)
    )
    course = TmsCourse.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("tms:course", args=[course.uuid])
    assert course.total_sessions == 30


@pytest.mark.parametrize(
    ("screened", "changes", "message"),
    [
        (False, {}, "No TMS safety screen on file"),
        (True, {"percent_of_mt": "130"}, "at most 120 % MT"),
        (True, {"target": "neuronavigation"}, "neuronavigation coordinates"),
        (
            True,
            {"protocol_version": "rtms-50hz"},
            "Choose one of the clinic&#x27;s signed",
        ),
    ],
)
def test_bad_course_order_on_the_page_writes_nothing(
    patient: Patient,
    tms: User,
    as_persona: SignIn,
    screened: bool,
    changes: dict[str, str],
    message: str,
) -> None:
    if screened:
        factories.clear_screen(patient, tms)
    response = as_persona("prescriber").post(
        reverse("tms:order", args=[patient.uuid]), order_data(patient, **changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TmsCourse.objects.exists()


def test_course_page_shows_the_summary(
    open_session: object, tms_course: TmsCourse, as_persona: SignIn
) -> None:
    body = (
        as_persona("prescriber")
        .get(reverse("tms:course", args=[tms_course.uuid]))
        .content.decode()
    )
    assert "Course so far" in body
    assert "Sessions given: 0 of 36 planned" in body
    assert "no PHQ-9 baseline" in body


def test_addendum_follows_a_signed_note_which_stays_unchanged(
    open_session: TmsSession, as_persona: SignIn
) -> None:
    client = as_persona("tms")
    url = reverse("tms:addendum", args=[open_session.uuid])
    refused = client.post(url, {"text": "Too early."})
    assert refused.status_code == 422
    assert "still open" in refused.content.decode()
    assert not SessionAddendum.objects.exists()
    client.post(
        reverse("tms:step", args=[open_session.course.uuid, "end"]),
        {"end-pulses_delivered": "3000", "end-note": "Tolerated well."},
    )
    blank = client.post(url, {"text": "  "})
    assert blank.status_code == 422
    assert not SessionAddendum.objects.exists()
    response = client.post(url, {"text": "Patient later reported a mild headache."})
    assert response.status_code == 302
    open_session.refresh_from_db()
    assert open_session.note == "Tolerated well."
    assert SessionAddendum.objects.get(session=open_session).text.startswith("Patient")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TMS_ADDENDUM_ADDED, patient=open_session.patient
    ).exists()
    page = client.get(reverse("tms:course", args=[open_session.course.uuid]))
    assert "mild headache" in page.content.decode()
    assert as_persona("front_desk").post(url, {"text": "x"}).status_code == 403
