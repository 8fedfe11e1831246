"""A session's default TMS unit follows the calendar (tms10f, issue #10): the unit the
calendar booked for the visit comes before the threshold's, on the screen, the page's
start and the API; a named visit must be a booked visit of this course. TMS only reads
the calendar."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Device, Location
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.tms import reads
from neuroclinic.tms.actions import sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse, TmsSession
from neuroclinic.tms.tests import factories
from neuroclinic.tms.tests.factories import DAILY_OK

pytestmark = pytest.mark.django_db
Headers = Callable[[User], dict[str, str]]


@pytest.fixture
def place(patient: Patient) -> Location:
    return factories.make_location(patient.organization_id)


@pytest.fixture
def threshold_unit(place: Location) -> Device:
    return factories.tms_unit(place)


@pytest.fixture
def booked_unit(place: Location) -> Device:
    unit = factories.tms_unit(place, max_output_percent=90)
    unit.name = "TMS unit 2"
    unit.save(update_fields=["name"])
    return unit


@pytest.fixture
def course(
    place: Location,
    patient: Patient,
    tms: User,
    prescriber: User,
    threshold_unit: Device,
) -> TmsCourse:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber, value=55, device=threshold_unit)
    return factories.course(patient, prescriber, location=place)


def book(
    course: TmsCourse,
    by: User,
    *,
    starts_at: datetime,
    units: list[Device],
    status: str = Appointment.Status.BOOKED,
    for_course: bool = True,
) -> Appointment:
    kind, _ = AppointmentType.objects.get_or_create(
        organization_id=course.organization_id,
        code=AppointmentType.Code.TMS_SESSION,
        defaults={
            "name": "TMS session",
            "duration_minutes": 40,
            "device_kinds": ["tms_unit"],
            "staff_role": "tms_technician",
        },
    )
    visit = Appointment.objects.create(
        organization_id=course.organization_id,
        location=course.location,
        patient=course.patient,
        appointment_type=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=40),
        held_until=starts_at + timedelta(minutes=40),
        tms_course=course if for_course else None,
        status=status,
        booked_by=by,
    )
    visit.devices.set(units)
    return visit


def test_the_booked_unit_comes_before_the_thresholds(
    course: TmsCourse,
    tms: User,
    prescriber: User,
    threshold_unit: Device,
    booked_unit: Device,
) -> None:
    now = timezone.now()
    book(course, tms, starts_at=now, units=[booked_unit])
    assert reads.default_unit(course, reads.latest_threshold(course.patient)) == (
        threshold_unit
    )
    assert (
        reads.default_unit(course, reads.latest_threshold(course.patient), at=now)
        == booked_unit
    )
    session = sessions.start_session(
        course, daily_check=DAILY_OK, supervising_physician=prescriber, by=tms
    )
    assert session.device == booked_unit
    # Not the unit the threshold was found on: the physician is told, as before.
    assert any("another unit" in c for c in session.daily_cautions)


def test_without_a_booking_today_the_threshold_unit_stays_the_default(
    course: TmsCourse,
    tms: User,
    prescriber: User,
    threshold_unit: Device,
    booked_unit: Device,
) -> None:
    now = timezone.now()
    book(course, tms, starts_at=now + timedelta(days=2), units=[booked_unit])
    book(
        course,
        tms,
        starts_at=now,
        units=[booked_unit],
        status=Appointment.Status.CANCELLED,
    )
    book(course, tms, starts_at=now, units=[booked_unit], for_course=False)
    session = sessions.start_session(
        course, daily_check=DAILY_OK, supervising_physician=prescriber, by=tms
    )
    assert session.device == threshold_unit


def test_the_visit_nearest_now_gives_the_unit_on_an_accelerated_day(
    course: TmsCourse, tms: User, threshold_unit: Device, booked_unit: Device
) -> None:
    # Two visits today an hour apart, booked on different units: the one nearest now.
    now = timezone.now().replace(hour=15, minute=0)
    book(course, tms, starts_at=now - timedelta(minutes=55), units=[threshold_unit])
    book(course, tms, starts_at=now + timedelta(minutes=5), units=[booked_unit])
    assert reads.booked_unit(course, at=now) == booked_unit
    assert reads.booked_unit(course, at=now - timedelta(minutes=50)) == threshold_unit


def test_a_booked_unit_no_longer_active_is_not_offered(
    course: TmsCourse, tms: User, threshold_unit: Device, booked_unit: Device
) -> None:
    now = timezone.now()
    book(course, tms, starts_at=now, units=[booked_unit])
    Device.objects.filter(pk=booked_unit.pk).update(is_active=False)
    assert reads.booked_unit(course, at=now) is None
    assert reads.default_unit(
        course, reads.latest_threshold(course.patient), at=now
    ) == (threshold_unit)


def test_the_screen_offers_the_booked_unit_for_the_named_visit(
    course: TmsCourse,
    client: Client,
    tms: User,
    prescriber: User,
    booked_unit: Device,
) -> None:
    # Booked for tomorrow, so only naming the visit (opened from the calendar) finds it.
    visit = book(
        course, tms, starts_at=timezone.now() + timedelta(days=1), units=[booked_unit]
    )
    login(client, tms)
    url = reverse("tms:session", args=[course.uuid])
    plain = client.get(url).content.decode()
    assert 'id="unit-booked"' not in plain
    page = client.get(url, {"appointment": str(visit.uuid)}).content.decode()
    assert 'id="unit-booked"' in page
    assert f'<option value="{booked_unit.pk}" selected>' in page
    assert f'name="start-appointment" value="{visit.uuid}"' in page
    data = {
        "start-supervising_physician": str(prescriber.pk),
        "start-device": "",
        "start-appointment": str(visit.uuid),
        "start-metal_removed": "yes",
        "start-ear_protection": "yes",
        "start-alcohol_or_drugs": "no",
        "start-medication_change": "no",
        "start-poor_sleep": "no",
    }
    # The form requires a unit; the screen posts the one it offered.
    data["start-device"] = str(booked_unit.pk)
    assert client.post(
        reverse("tms:step", args=[course.uuid, "start"]), data
    ).status_code in (302, 303)
    assert TmsSession.objects.get().device == booked_unit


def test_the_api_takes_the_named_visit_and_refuses_another_courses(
    course: TmsCourse,
    client: Client,
    tms: User,
    prescriber: User,
    booked_unit: Device,
    bearer: Headers,
) -> None:
    url = f"/api/tms/courses/{course.uuid}/sessions"
    body: dict[str, Any] = {
        "daily_check": DAILY_OK,
        "supervising_physician": str(prescriber.uuid),
    }
    stranger = book(
        course, tms, starts_at=timezone.now(), units=[booked_unit], for_course=False
    )
    for visit_ref in (stranger.uuid, uuid.uuid4()):
        r = client.post(
            url,
            body | {"appointment": str(visit_ref)},
            content_type="application/json",
            headers=bearer(tms),
        )
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["appointment"]
        assert "not a booked visit of this course" in r.json()["detail"]
    assert not TmsSession.objects.exists()
    visit = book(
        course, tms, starts_at=timezone.now() + timedelta(days=3), units=[booked_unit]
    )
    r = client.post(
        url,
        body | {"appointment": str(visit.uuid)},
        content_type="application/json",
        headers=bearer(tms),
    )
    assert r.status_code == 201
    assert r.json()["device"] == str(booked_unit.uuid)


def test_a_named_visit_not_of_the_course_is_refused_by_the_action(
    course: TmsCourse, tms: User, prescriber: User
) -> None:
    with pytest.raises(TmsError, match="not a booked visit") as refused:
        sessions.start_session(
            course,
            daily_check=DAILY_OK,
            supervising_physician=prescriber,
            appointment=uuid.uuid4(),
            by=tms,
        )
    assert refused.value.field == "appointment"
    assert not TmsSession.objects.exists()
