"""Booking a TMS course from a page and over the API (book_tms_course behind both)."""

from collections.abc import Callable
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location, Room
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.test_tms_booking import order, tms_room  # noqa: F401
from neuroclinic.tms.models import TmsCourse

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(
    patient: Patient,
    tms: User,
    prescriber: User,
    location: Location,
    tms_room: Room,  # noqa: F811
    types: dict[str, AppointmentType],
    on_shift: Callable[..., None],
) -> TmsCourse:
    on_shift(tms)
    return order(patient, tms, prescriber, location)


def test_the_page_books_the_course_once(
    as_persona: Callable[[str], Client], course: TmsCourse
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/tms/{course.uuid}/"
    assert "Book the course" in client.get(url).content.decode()
    bad = client.post(url, {"preferred_time": "quarter past"})
    assert bad.status_code == 200
    assert not Appointment.objects.exists()
    booked = client.post(url, {"preferred_time": "10:00"}, follow=True)
    assert "Booked 5 TMS sessions." in booked.content.decode()
    assert Appointment.objects.filter(tms_course=course).count() == 5
    assert "5 sessions booked" in client.get(url).content.decode()


@pytest.mark.parametrize(("persona", "status"), [("billing", 403), ("outsider", 404)])
def test_the_page_refuses_who_may_not_book(
    as_persona: Callable[[str], Client], course: TmsCourse, persona: str, status: int
) -> None:
    assert (
        as_persona(persona).get(f"/schedule/tms/{course.uuid}/").status_code == status
    )


def test_the_api_books_the_course_and_refuses_a_second_time(
    client: Client,
    course: TmsCourse,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    url = f"/api/scheduling/tms-courses/{course.uuid}/appointments"
    headers = bearer(front_desk)
    made = client.post(
        url,
        {"preferred_time": "10:00"},
        content_type="application/json",
        headers=headers,
    )
    assert made.status_code == 201, made.content
    rows = made.json()
    assert len(rows) == 5
    assert {r["type"] for r in rows} == {"tms_session"}
    again = client.post(url, {}, content_type="application/json", headers=headers)
    assert again.status_code == 422
    assert again["Content-Type"] == "application/problem+json"
    assert Appointment.objects.count() == 5


def test_the_api_refuses_bad_input_and_unknown_courses(
    client: Client,
    course: TmsCourse,
    front_desk: User,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    headers = bearer(front_desk)
    bad = client.post(
        f"/api/scheduling/tms-courses/{course.uuid}/appointments",
        {"preferred_time": "soon"},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422
    assert "preferred_time" in bad.content.decode()
    unknown = client.post(
        f"/api/scheduling/tms-courses/{uuid4()}/appointments",
        {},
        content_type="application/json",
        headers=headers,
    )
    assert unknown.status_code == 404
    assert not Appointment.objects.exists()


def test_the_calendar_links_a_tms_visit_to_the_session_screen_for_it(
    as_persona: Callable[[str], Client], course: TmsCourse, location: Location
) -> None:
    as_persona("front_desk").post(
        f"/schedule/tms/{course.uuid}/", {"preferred_time": "10:00"}
    )
    first = Appointment.objects.filter(tms_course=course).earliest("starts_at")
    on = first.starts_at.astimezone(ZoneInfo(location.time_zone)).date()
    day = f"/schedule/?location={location.uuid}&date={on.isoformat()}"
    link = f"/tms/courses/{course.uuid}/session/?appointment={first.uuid}"
    # The technician opens the session screen from the visit, which then offers the
    # visit's booked unit; the front desk, who cannot run a session, gets no link.
    assert link in as_persona("tms").get(day).content.decode()
    assert "/session/?appointment=" not in (
        as_persona("front_desk").get(day).content.decode()
    )
