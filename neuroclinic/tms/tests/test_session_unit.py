"""A TMS session records the unit it ran on (issue 10): chosen on the screen or the API,
offered as the threshold's unit else the only unit at the course's location; only an
active TMS unit of the clinic; its maximum output limits the start and every intensity
change on the page, the API and a tablet replay; shown on the screen and the course
page; the database never lets it change. Each refusal writes nothing."""

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.tamper import assert_statement_refused
from neuroclinic.clinics.models import Device, Location, Organization
from neuroclinic.patients.models import Patient
from neuroclinic.tms.actions import sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import IntensityChange, TmsCourse, TmsSession
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import DAILY_OK

pytestmark = pytest.mark.django_db
SignIn = Callable[[str], Client]
Headers = Callable[[User], dict[str, str]]


def post_json(client: Client, url: str, body: object, headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


def start_form(physician: User, unit: Device | None) -> dict[str, str]:
    return {
        "start-supervising_physician": str(physician.pk),
        "start-device": "" if unit is None else str(unit.pk),
        "start-metal_removed": "yes",
        "start-ear_protection": "yes",
        "start-alcohol_or_drugs": "no",
        "start-medication_change": "no",
        "start-poor_sleep": "no",
    }


@pytest.fixture
def place(patient: Patient) -> Location:
    return factories.make_location(patient.organization_id)


@pytest.fixture
def unit_a(place: Location) -> Device:
    return factories.tms_unit(place)


@pytest.fixture
def unit_b(place: Location) -> Device:
    unit = factories.tms_unit(place, max_output_percent=70)
    unit.name = "TMS unit 2"
    unit.save(update_fields=["name"])
    return unit


def course_at(
    place: Location, patient: Patient, tms: User, prescriber: User, unit: Device | None
) -> TmsCourse:
    """MT 55 % (found on `unit`, or on no unit); 120 % MT = 66 % output."""
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber, value=55, device=unit)
    return factories.course(patient, prescriber, location=place)


def test_the_threshold_unit_is_the_default_and_is_recorded(
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit_a: Device,
    unit_b: Device,
) -> None:
    course = course_at(place, patient, tms, prescriber, unit_b)
    session = factories.start(course, tms, prescriber)
    assert session.device == unit_b
    event = AuditEvent.objects.get(action=AuditEvent.Action.TMS_SESSION_STARTED)
    assert event.data["device"] == str(unit_b.uuid)
    assert event.data["max_output_percent"] == 70


def test_without_a_threshold_unit_the_locations_only_unit_is_the_default(
    place: Location, patient: Patient, tms: User, prescriber: User, unit_a: Device
) -> None:
    course = course_at(place, patient, tms, prescriber, None)
    assert factories.start(course, tms, prescriber).device == unit_a


def test_no_clear_default_is_refused_on_every_path(
    client: Client,
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit_a: Device,
    unit_b: Device,
    as_persona: SignIn,
    bearer: Headers,
) -> None:
    """Two units here and a threshold found on none: the technician must choose."""
    course = course_at(place, patient, tms, prescriber, None)
    with pytest.raises(TmsError, match="Choose the TMS unit") as refused:
        factories.start(course, tms, prescriber)
    assert list(refused.value.errors) == ["device"]
    api = post_json(
        client,
        f"/api/tms/courses/{course.uuid}/sessions",
        {"daily_check": DAILY_OK, "supervising_physician": str(prescriber.uuid)},
        bearer(tms),
    )
    assert api.status_code == 422
    assert [e["field"] for e in api.json()["errors"]] == ["device"]
    page = as_persona("tms").post(
        reverse("tms:step", args=[course.uuid, "start"]), start_form(prescriber, None)
    )
    assert page.status_code == 200
    assert "This field is required" in page.content.decode()
    assert not TmsSession.objects.exists()
    chosen = post_json(
        client,
        f"/api/tms/courses/{course.uuid}/sessions",
        {
            "daily_check": DAILY_OK,
            "supervising_physician": str(prescriber.uuid),
            "device": str(unit_a.uuid),
        },
        bearer(tms),
    )
    assert chosen.status_code == 201, chosen.content
    assert chosen.json()["device"] == str(unit_a.uuid)
    assert chosen.json()["max_output_percent"] == 100


@pytest.mark.parametrize("which", ["inactive", "not_tms", "other_clinic"])
def test_only_an_active_tms_unit_of_the_clinic(
    client: Client,
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit_a: Device,
    other_organization: Organization,
    bearer: Headers,
    which: str,
) -> None:
    course = course_at(place, patient, tms, prescriber, unit_a)
    if which == "inactive":
        bad = factories.tms_unit(place)
        bad.is_active = False
        bad.save(update_fields=["is_active"])
    elif which == "not_tms":
        bad = Device.objects.create(
            location=place, kind=Device.Kind.MONITOR, name="Monitor"
        )
    else:
        bad = factories.tms_unit(factories.make_location(other_organization.pk))
    with pytest.raises(TmsError, match="active TMS unit of this clinic") as refused:
        sessions.start_session(
            course,
            daily_check=DAILY_OK,
            supervising_physician=prescriber,
            device=bad,
            by=tms,
        )
    assert list(refused.value.errors) == ["device"]
    api = post_json(
        client,
        f"/api/tms/courses/{course.uuid}/sessions",
        {
            "daily_check": DAILY_OK,
            "supervising_physician": str(prescriber.uuid),
            "device": str(bad.uuid),
        },
        bearer(tms),
    )
    assert api.status_code == 422
    assert api["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in api.json()["errors"]] == ["device"]
    assert not TmsSession.objects.exists()


def test_the_start_uses_the_chosen_units_limit_on_every_path(
    client: Client,
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit_a: Device,
    unit_b: Device,
    as_persona: SignIn,
    bearer: Headers,
) -> None:
    """Threshold found on A (100 %); B is limited to 60 %: 66 % output is refused on B."""
    unit_b.max_output_percent = 60
    unit_b.save(update_fields=["max_output_percent"])
    course = course_at(place, patient, tms, prescriber, unit_a)
    with pytest.raises(TmsError, match="maximum of 60 %"):
        sessions.start_session(
            course,
            daily_check=DAILY_OK,
            supervising_physician=prescriber,
            device=unit_b,
            by=tms,
        )
    api = post_json(
        client,
        f"/api/tms/courses/{course.uuid}/sessions",
        {
            "daily_check": DAILY_OK,
            "supervising_physician": str(prescriber.uuid),
            "device": str(unit_b.uuid),
        },
        bearer(tms),
    )
    assert api.status_code == 422
    assert [e["field"] for e in api.json()["errors"]] == ["percent_of_mt"]
    page = as_persona("tms").post(
        reverse("tms:step", args=[course.uuid, "start"]),
        start_form(prescriber, unit_b),
    )
    assert page.status_code == 200
    assert "maximum of 60 %" in page.content.decode()
    assert not TmsSession.objects.exists()
    # On A, as offered, it starts; a unit other than the threshold's is a caution.
    on_a = sessions.start_session(
        course, daily_check=DAILY_OK, supervising_physician=prescriber, by=tms
    )
    assert on_a.device == unit_a
    assert on_a.output_percent == 66
    assert not any("another unit" in c for c in on_a.daily_cautions)


def test_a_session_on_another_unit_than_the_thresholds_carries_a_caution(
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit_a: Device,
    unit_b: Device,
) -> None:
    course = course_at(place, patient, tms, prescriber, unit_a)
    session = sessions.start_session(
        course,
        daily_check=DAILY_OK,
        supervising_physician=prescriber,
        device=unit_b,
        by=tms,
    )
    assert session.device == unit_b
    assert any(
        "determined on another unit" in c and "TMS unit 2" in c
        for c in session.daily_cautions
    )


@pytest.fixture
def on_b(
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    unit_a: Device,
    unit_b: Device,
) -> TmsSession:
    """A session on B (70 %) at 66 % output, threshold found on A (100 %); B then drops
    to 60 %: a change to 115 % MT (63.25 %) passes A's limit and fails the session's."""
    course = course_at(place, patient, tms, prescriber, unit_a)
    session = sessions.start_session(
        course,
        daily_check=DAILY_OK,
        supervising_physician=prescriber,
        device=unit_b,
        by=tms,
    )
    unit_b.max_output_percent = 60
    unit_b.save(update_fields=["max_output_percent"])
    return session


def test_an_intensity_change_uses_the_sessions_unit_on_every_path(
    client: Client, on_b: TmsSession, tms: User, as_persona: SignIn, bearer: Headers
) -> None:
    with pytest.raises(TmsError, match="maximum of 60 %"):
        sessions.change_intensity(
            on_b, percent_of_mt=Decimal(115), reason="Ramp", by=tms
        )
    api = post_json(
        client,
        f"/api/tms/sessions/{on_b.uuid}/intensity",
        {"percent_of_mt": "115", "reason": "Ramp"},
        bearer(tms),
    )
    assert api.status_code == 422
    assert [e["field"] for e in api.json()["errors"]] == ["percent_of_mt"]
    key = str(uuid.uuid4())
    url = reverse("tms:step", args=[on_b.course.uuid, "intensity"])
    body = {
        "intensity-percent_of_mt": "115",
        "intensity-reason": "Ramp",
        "intensity-client_key": key,
    }
    page = as_persona("tms")
    for _ in range(2):  # the tablet's queue sends it again: refused again
        response = page.post(url, body)
        assert response.status_code == 200
        assert "maximum of 60 %" in response.content.decode()
    assert not IntensityChange.objects.exists()
    # Within the session unit's limit (105 % MT: 57.75, set 57 %) it is recorded once.
    for _ in range(2):
        ok = page.post(url, body | {"intensity-percent_of_mt": "105"})
        assert ok.status_code == 302
    assert IntensityChange.objects.get().output_percent == 57


def test_the_screen_api_and_course_page_show_the_unit(
    client: Client, on_b: TmsSession, tms: User, as_persona: SignIn, bearer: Headers
) -> None:
    screen = as_persona("tms").get(reverse("tms:session", args=[on_b.course.uuid]))
    body = screen.content.decode()
    assert "TMS unit 2 (max 60 % output)" in body
    api = client.get(
        f"/api/tms/courses/{on_b.course.uuid}", headers=bearer(tms)
    )  # the course still reads
    assert api.status_code == 200
    sessions.end_session(on_b, pulses_delivered=3000, note="Comfortable.", by=tms)
    page = as_persona("prescriber").get(reverse("tms:course", args=[on_b.course.uuid]))
    text = page.content.decode()
    assert "Run on TMS unit 2 (max 60 % output)" in text
    assert "Note: Comfortable." in text


def test_the_database_never_changes_a_sessions_unit(
    on_b: TmsSession, unit_a: Device
) -> None:
    assert_statement_refused(
        "UPDATE tms_tmssession SET device_id = %s WHERE id = %s", [unit_a.pk, on_b.pk]
    )
    on_b.refresh_from_db()
    assert on_b.device_id != unit_a.pk
