"""Intensity limits on every path that sets one (tms10b): above the protocol's maximum % MT
or above 100 % machine output is refused on the order page and API, at the session start
on the page and API, and on an intensity change over the page and API; nothing is written."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.patients.models import Patient
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import IntensityChange, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import DAILY_OK

pytestmark = pytest.mark.django_db
SignIn = Callable[[str], Client]
Headers = Callable[[User], dict[str, str]]


def post_json(client: Client, url: str, body: object, headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


def fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


@pytest.fixture
def screened(patient: Patient, tms: User, prescriber: User) -> Patient:
    factories.signed_protocols(patient.organization_id)
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber, value=85)  # 120 % MT -> 102 % output
    return patient


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        (Decimal(125), "at most 120 % MT"),  # the protocol's maximum
        (Decimal(120), "device's maximum of 100 %"),  # 85 x 1.2 = 102 % output
    ],
)
def test_order_action_refuses(
    screened: Patient, prescriber: User, percent: Decimal, message: str
) -> None:
    with pytest.raises(TmsError, match=message) as refused:
        factories.course(screened, prescriber, percent_of_mt=percent)
    assert list(refused.value.errors) == ["percent_of_mt"]
    assert not TmsCourse.objects.exists()
    assert factories.course(screened, prescriber, percent_of_mt=Decimal(115)).pk


@pytest.mark.parametrize(
    ("percent", "message"),
    [("125", "at most 120 % MT"), ("120", "maximum of 100 %")],
)
def test_order_page_refuses(
    screened: Patient, as_persona: SignIn, percent: str, message: str
) -> None:
    location = factories.make_location(screened.organization_id)
    response = as_persona("prescriber").post(
        reverse("tms:order", args=[screened.uuid]),
        {
            "protocol_version": factories.offered_version(screened.organization_id),
            "target": "beam_f3",
            "percent_of_mt": percent,
            "acute_sessions": "30",
            "start_date": "2026-12-07",
            "location": str(location.pk),
        },
    )
    assert response.status_code == 200  # the form again, with the action's message
    assert message in response.content.decode()
    assert not TmsCourse.objects.exists()


@pytest.mark.parametrize("percent", ["125", "120"])
def test_order_api_refuses(
    client: Client, screened: Patient, prescriber: User, bearer: Headers, percent: str
) -> None:
    location = factories.make_location(screened.organization_id)
    r = post_json(
        client,
        f"/api/tms/patients/{screened.uuid}/courses",
        {
            "protocol": "rtms-10hz",
            "target": "beam_f3",
            "percent_of_mt": percent,
            "acute_sessions": 30,
            "start_date": "2026-12-07",
            "location": str(location.uuid),
        },
        bearer(prescriber),
    )
    assert fields(r) == ["percent_of_mt"]
    assert not TmsCourse.objects.exists()


@pytest.fixture
def course_then_higher_threshold(
    patient: Patient, tms: User, prescriber: User
) -> TmsCourse:
    """Ordered on a threshold of 55; re-determined at 90 (120 % -> 108 % output)."""
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    course = factories.course(patient, prescriber)
    factories.threshold(patient, tms, prescriber, value=90)
    return course


def test_session_start_api_refuses_above_device_output(
    client: Client,
    course_then_higher_threshold: TmsCourse,
    tms: User,
    prescriber: User,
    bearer: Headers,
) -> None:
    r = post_json(
        client,
        f"/api/tms/courses/{course_then_higher_threshold.uuid}/sessions",
        {"daily_check": DAILY_OK, "supervising_physician": str(prescriber.uuid)},
        bearer(tms),
    )
    assert fields(r) == ["percent_of_mt"]
    assert "device's maximum" in r.json()["detail"]
    assert not TmsSession.objects.exists()


def test_intensity_change_refused_above_the_order_on_page_and_api(
    client: Client,
    open_session: TmsSession,
    tms: User,
    as_persona: SignIn,
    bearer: Headers,
) -> None:
    url = f"/api/tms/sessions/{open_session.uuid}/intensity"
    r = post_json(client, url, {"percent_of_mt": "125", "reason": "ramp"}, bearer(tms))
    assert fields(r) == ["percent_of_mt"]
    page = as_persona("tms").post(
        reverse("tms:step", args=[open_session.course.uuid, "intensity"]),
        {"intensity-percent_of_mt": "125", "intensity-reason": "ramp"},
    )
    assert "not above it" in page.content.decode()
    assert not IntensityChange.objects.exists()
    r = post_json(
        client, url, {"percent_of_mt": "100", "reason": "ramp-up"}, bearer(tms)
    )
    assert r.status_code == 201
    assert r.json()["output_percent"] == 55  # 100 % of MT 55
