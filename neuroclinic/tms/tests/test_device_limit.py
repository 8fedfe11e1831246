"""A TMS unit's own maximum output (issue 10): a threshold found on a unit limited to
60 % output makes every intensity check use 60 % instead of 100 %: the course order,
the session start and an intensity change, each on the page and the API; a threshold
above the unit's limit is refused; each refusal writes nothing."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Device
from neuroclinic.patients.models import Patient
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    IntensityChange,
    MotorThreshold,
    TmsCourse,
    TmsSession,
)
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import DAILY_OK

pytestmark = pytest.mark.django_db
SignIn = Callable[[str], Client]
Headers = Callable[[User], dict[str, str]]


def post_json(client: Client, url: str, body: object, headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


@pytest.fixture
def unit(patient: Patient) -> Device:
    location = factories.make_location(patient.organization_id)
    return factories.tms_unit(location, max_output_percent=60)


@pytest.fixture
def screened(patient: Patient, tms: User, prescriber: User, unit: Device) -> Patient:
    """MT 55 % on a unit limited to 60 %: 120 % MT needs 66 %, 105 % MT 57.75 %."""
    factories.signed_protocols(patient.organization_id)
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber, value=55, device=unit)
    return patient


def test_the_order_uses_the_units_limit(
    screened: Patient, prescriber: User, unit: Device
) -> None:
    with pytest.raises(TmsError, match="device's maximum of 60 %") as refused:
        factories.course(screened, prescriber, percent_of_mt=Decimal(120))
    assert list(refused.value.errors) == ["percent_of_mt"]
    assert not TmsCourse.objects.exists()
    assert factories.course(screened, prescriber, percent_of_mt=Decimal(105)).pk


def test_the_order_page_and_api_use_the_units_limit(
    client: Client,
    screened: Patient,
    prescriber: User,
    as_persona: SignIn,
    bearer: Headers,
    unit: Device,
) -> None:
    page = as_persona("prescriber").post(
        reverse("tms:order", args=[screened.uuid]),
        {
            "protocol_version": factories.offered_version(screened.organization_id),
            "target": "beam_f3",
            "percent_of_mt": "120",
            "acute_sessions": "30",
            "start_date": "2026-12-07",
            "location": str(unit.location_id),
        },
    )
    assert page.status_code == 200
    assert "maximum of 60 %" in page.content.decode()
    api = post_json(
        client,
        f"/api/tms/patients/{screened.uuid}/courses",
        {
            "protocol": "rtms-10hz",
            "target": "beam_f3",
            "percent_of_mt": "120",
            "acute_sessions": 30,
            "start_date": "2026-12-07",
            "location": str(unit.location.uuid),
        },
        bearer(prescriber),
    )
    assert problem_fields(api) == ["percent_of_mt"]
    assert "maximum of 60 %" in api.json()["detail"]
    assert not TmsCourse.objects.exists()


@pytest.fixture
def course_then_limited(screened: Patient, prescriber: User, unit: Device) -> TmsCourse:
    """Ordered at 120 % MT while the unit allowed 100 %; the unit's limit then drops to 60."""
    unit.max_output_percent = 100
    unit.save(update_fields=["max_output_percent"])
    course = factories.course(screened, prescriber)
    unit.max_output_percent = 60
    unit.save(update_fields=["max_output_percent"])
    return course


def test_the_start_uses_the_units_limit_on_the_page_and_api(
    client: Client,
    course_then_limited: TmsCourse,
    tms: User,
    prescriber: User,
    as_persona: SignIn,
    bearer: Headers,
) -> None:
    with pytest.raises(TmsError, match="maximum of 60 %"):
        factories.start(course_then_limited, tms, prescriber)
    api = post_json(
        client,
        f"/api/tms/courses/{course_then_limited.uuid}/sessions",
        {"daily_check": DAILY_OK, "supervising_physician": str(prescriber.uuid)},
        bearer(tms),
    )
    assert problem_fields(api) == ["percent_of_mt"]
    screen = as_persona("tms").get(
        reverse("tms:session", args=[course_then_limited.uuid])
    )
    assert "maximum of 60 %" in screen.content.decode()
    page = as_persona("tms").post(
        reverse("tms:step", args=[course_then_limited.uuid, "start"]),
        {
            "start-supervising_physician": str(prescriber.pk),
            "start-device": str(Device.objects.get(max_output_percent=60).pk),
            "start-metal_removed": "yes",
            "start-ear_protection": "yes",
            "start-alcohol_or_drugs": "no",
            "start-medication_change": "no",
            "start-poor_sleep": "no",
        },
    )
    assert "maximum of 60 %" in page.content.decode()
    assert not TmsSession.objects.exists()


def test_an_intensity_change_uses_the_units_limit_on_the_page_and_api(
    client: Client,
    screened: Patient,
    unit: Device,
    tms: User,
    prescriber: User,
    as_persona: SignIn,
    bearer: Headers,
) -> None:
    course = factories.course(screened, prescriber, percent_of_mt=Decimal(105))
    session = factories.start(course, tms, prescriber)
    assert session.output_percent == 57  # 105 % of 55 = 57.75, rounded down
    unit.max_output_percent = 50
    unit.save(update_fields=["max_output_percent"])
    url = f"/api/tms/sessions/{session.uuid}/intensity"
    api = post_json(
        client, url, {"percent_of_mt": "100", "reason": "ramp-up"}, bearer(tms)
    )
    assert problem_fields(api) == ["percent_of_mt"]
    assert "maximum of 50 %" in api.json()["detail"]
    page = as_persona("tms").post(
        reverse("tms:step", args=[course.uuid, "intensity"]),
        {"intensity-percent_of_mt": "100", "intensity-reason": "ramp-up"},
    )
    assert "maximum of 50 %" in page.content.decode()
    assert not IntensityChange.objects.exists()
    ok = post_json(
        client, url, {"percent_of_mt": "90", "reason": "ramp-up"}, bearer(tms)
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["output_percent"] == 49  # 90 % of 55 = 49.5


def test_the_start_records_the_units_limit(
    screened: Patient, tms: User, prescriber: User
) -> None:
    course = factories.course(screened, prescriber, percent_of_mt=Decimal(105))
    session = factories.start(course, tms, prescriber)
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.TMS_SESSION_STARTED, subject_id=str(session.uuid)
    )
    assert event.data["max_output_percent"] == 60


def test_a_threshold_above_the_units_limit_is_refused(
    client: Client,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit: Device,
    bearer: Headers,
) -> None:
    with pytest.raises(TmsError, match="limited to 60 % output") as refused:
        factories.threshold(patient, tms, prescriber, value=65, device=unit)
    assert list(refused.value.errors) == ["value_percent_output"]
    body = {
        "value_percent_output": 65,
        "observation": "emg",
        "procedure": "relative_frequency",
        "coil": "Figure-8",
        "supervising_physician": str(prescriber.uuid),
        "device": str(unit.uuid),
    }
    url = f"/api/tms/patients/{patient.uuid}/thresholds"
    assert problem_fields(post_json(client, url, body, bearer(tms))) == [
        "value_percent_output"
    ]
    unknown = body | {"value_percent_output": 50, "device": str(prescriber.uuid)}
    assert problem_fields(post_json(client, url, unknown, bearer(tms))) == ["device"]
    assert not MotorThreshold.objects.exists()
    made = post_json(client, url, body | {"value_percent_output": 60}, bearer(tms))
    assert made.status_code == 201, made.content
    assert MotorThreshold.objects.get().device == unit


def test_the_calculator_uses_the_units_limit(
    client: Client, unit: Device, tms: User, bearer: Headers
) -> None:
    body = {"threshold_percent_output": 55, "percent_of_mt": "120"}
    free = post_json(client, "/api/tms/intensity-calculation", body, bearer(tms))
    assert free.status_code == 200
    assert free.json()["output_percent"] == 66
    limited = post_json(
        client,
        "/api/tms/intensity-calculation",
        body | {"device": str(unit.uuid)},
        bearer(tms),
    )
    assert problem_fields(limited) == ["percent_of_mt"]
