"""The TMS API: the session path over JSON, and each bad input as a 422 problem document."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.patients.models import Patient
from neuroclinic.tms.models import SafetyScreen, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import DAILY_OK, NO_FINDINGS

pytestmark = pytest.mark.django_db
Headers = Callable[[User], dict[str, str]]


def post(client: Client, url: str, body: object, headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


def test_screen_threshold_course_session_over_the_api(
    client: Client, patient: Patient, tms: User, prescriber: User, bearer: Headers
) -> None:
    tech, doc = bearer(tms), bearer(prescriber)
    r = post(
        client,
        f"/api/tms/patients/{patient.uuid}/screens",
        {"answers": NO_FINDINGS},
        tech,
    )
    assert r.status_code == 201
    assert r.json()["outcome"] == "clear"
    r = post(
        client,
        f"/api/tms/patients/{patient.uuid}/thresholds",
        {
            "value_percent_output": 55,
            "observation": "emg",
            "procedure": "relative_frequency",
            "coil": "Figure-8",
            "supervising_physician": str(prescriber.uuid),
        },
        tech,
    )
    assert r.status_code == 201
    factories.signed_protocols(patient.organization_id)
    location = factories.equipped_location(patient.organization_id)
    r = post(
        client,
        f"/api/tms/patients/{patient.uuid}/courses",
        {
            "protocol": "itbs-600",
            "target": "beam_f3",
            "acute_sessions": 30,
            "start_date": "2026-01-05",
            "location": str(location.uuid),
        },
        doc,
    )
    assert r.status_code == 201
    course_id = r.json()["id"]
    planned = client.get(
        f"/api/tms/courses/{course_id}/planned-sessions", headers=tech
    ).json()
    assert len(planned) == 30
    assert planned[0] == {
        "number": 1,
        "on": "2026-01-05",
        "phase": "acute",
        "slot_in_day": 1,
        "earliest_offset_minutes": 0,
    }
    r = post(
        client,
        f"/api/tms/courses/{course_id}/sessions",
        {"daily_check": DAILY_OK, "supervising_physician": str(prescriber.uuid)},
        tech,
    )
    assert r.status_code == 201
    session = r.json()
    assert (
        session["output_percent"],
        session["pulses_planned"],
        session["cpt_code"],
    ) == (
        66,
        600,
        "90867",
    )
    r = post(
        client,
        f"/api/tms/sessions/{session['id']}/end",
        {"pulses_delivered": 601},
        tech,
    )
    assert problem_fields(r) == ["pulses_delivered"]
    r = post(
        client,
        f"/api/tms/sessions/{session['id']}/end",
        {"pulses_delivered": 600},
        tech,
    )
    assert r.json()["status"] == "completed"


def test_unscreened_patient_cannot_get_a_course_over_the_api(
    client: Client, patient: Patient, prescriber: User, bearer: Headers
) -> None:
    factories.signed_protocols(patient.organization_id)
    location = factories.make_location(patient.organization_id)
    r = post(
        client,
        f"/api/tms/patients/{patient.uuid}/courses",
        {
            "protocol": "rtms-10hz",
            "target": "beam_f3",
            "acute_sessions": 30,
            "start_date": "2026-01-05",
            "location": str(location.uuid),
        },
        bearer(prescriber),
    )
    assert problem_fields(r) == ["__all__"]
    assert "No TMS safety screen" in r.json()["detail"]
    assert not TmsCourse.objects.exists()


@pytest.mark.parametrize(
    ("value", "field"),
    [(0, "threshold_percent_output"), (101, "threshold_percent_output")],
)
def test_threshold_outside_range_over_the_api(
    client: Client,
    patient: Patient,
    tms: User,
    prescriber: User,
    bearer: Headers,
    value: int,
    field: str,
) -> None:
    r = post(
        client,
        f"/api/tms/patients/{patient.uuid}/thresholds",
        {
            "value_percent_output": value,
            "observation": "visual",
            "procedure": "adaptive",
            "coil": "Figure-8",
            "supervising_physician": str(prescriber.uuid),
        },
        bearer(tms),
    )
    assert problem_fields(r) == [field]


def test_hard_stop_and_hold_over_the_api(
    client: Client,
    open_session: TmsSession,
    tms: User,
    prescriber: User,
    bearer: Headers,
) -> None:
    tech = bearer(tms)
    r = post(client, f"/api/tms/sessions/{open_session.uuid}/seizure", {}, tech)
    assert r.json()["course_on_hold"] is True
    course = open_session.course
    r = post(
        client,
        f"/api/tms/courses/{course.uuid}/sessions",
        {"daily_check": DAILY_OK, "supervising_physician": str(prescriber.uuid)},
        tech,
    )
    problem_fields(r)
    assert "on hold" in r.json()["detail"]
    assert TmsSession.objects.count() == 1
    seizure_id = open_session.seizure.uuid
    r = post(
        client,
        f"/api/tms/seizures/{seizure_id}/review",
        {"decision": "resume", "note": "ok"},
        tech,
    )
    assert r.status_code == 403
    r = post(
        client,
        f"/api/tms/seizures/{seizure_id}/review",
        {"decision": "resume", "note": "ok"},
        bearer(prescriber),
    )
    assert r.json()["course_on_hold"] is False


def test_daily_hard_stop_over_the_api(
    client: Client, tms_course: TmsCourse, tms: User, prescriber: User, bearer: Headers
) -> None:
    r = post(
        client,
        f"/api/tms/courses/{tms_course.uuid}/sessions",
        {
            "daily_check": {**DAILY_OK, "metal_removed": False},
            "supervising_physician": str(prescriber.uuid),
        },
        bearer(tms),
    )
    assert problem_fields(r) == ["metal_removed"]
    assert not TmsSession.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"threshold_percent_output": 63, "percent_of_mt": "120"}, 200, None),
        (
            {"threshold_percent_output": 90, "percent_of_mt": "120"},
            422,
            "percent_of_mt",
        ),
        (
            {"threshold_percent_output": 60, "percent_of_mt": "130"},
            422,
            "percent_of_mt",
        ),
        (
            {"threshold_percent_output": 0, "percent_of_mt": "120"},
            422,
            "threshold_percent_output",
        ),
        (
            {"threshold_percent_output": "x", "percent_of_mt": "120"},
            422,
            "threshold_percent_output",
        ),
    ],
)
def test_intensity_calculator(
    client: Client,
    tms: User,
    bearer: Headers,
    body: dict[str, object],
    status: int,
    field: str | None,
) -> None:
    r = post(client, "/api/tms/intensity-calculation", body, bearer(tms))
    assert r.status_code == status
    if field is None:
        assert r.json()["output_percent"] == 75
    else:
        assert field in problem_fields(r)


def test_screen_with_missing_answers_over_the_api(
    client: Client, patient: Patient, tms: User, bearer: Headers
) -> None:
    r = post(
        client,
        f"/api/tms/patients/{patient.uuid}/screens",
        {"answers": {"epilepsy": True}},
        bearer(tms),
    )
    assert "metal_in_head" in problem_fields(r)
    assert not SafetyScreen.objects.exists()
