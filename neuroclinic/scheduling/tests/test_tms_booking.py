"""A TMS course's sessions booked through the calendar (tms.reads.sessions_to_book)."""

from collections.abc import Callable
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Device, Location, Room
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling import rules
from neuroclinic.scheduling.actions import tms as tms_booking
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType, Closure
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW
from neuroclinic.tms.actions import courses
from neuroclinic.tms.models import TmsCourse
from neuroclinic.tms.tests import factories as tms_factories

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def tms_room(location: Location) -> Room:
    room = Room.objects.create(location=location, name="TMS 1", kind=Room.Kind.TMS)
    Device.objects.create(
        location=location, room=room, kind=Device.Kind.TMS_UNIT, name="Unit 1"
    )
    return room


def order(
    patient: Patient, tms: User, prescriber: User, location: Location, **kw: object
) -> TmsCourse:
    tms_factories.clear_screen(patient, tms)
    tms_factories.threshold(patient, tms, prescriber)
    tms_factories.signed_protocols(patient.organization_id)
    return courses.order_course(
        patient,
        protocol_code=str(kw.get("protocol_code", "rtms-10hz")),
        target=TmsCourse.Target.BEAM_F3,
        acute_sessions=int(kw.get("acute_sessions", 5)),  # type: ignore[call-overload]
        start_date=MONDAY,
        location=location,
        by=prescriber,
    )


def test_a_course_is_booked_one_visit_per_planned_session(
    patient: Patient,
    tms: User,
    prescriber: User,
    location: Location,
    tms_room: Room,
    types: dict[str, AppointmentType],
    on_shift: Callable[..., None],
    front_desk: User,
) -> None:
    on_shift(tms)
    course = order(patient, tms, prescriber, location)
    booked = tms_booking.book_tms_course(
        course, preferred_time=time(10), now=NOW, by=front_desk
    )
    assert len(booked) == 5
    assert [a.starts_at.astimezone(CHICAGO).date() for a in booked] == [
        MONDAY + timedelta(days=n) for n in range(5)
    ]
    assert {a.starts_at.astimezone(CHICAGO).time() for a in booked} == {time(10)}
    for a in booked:
        assert a.appointment_type.code == "tms_session"
        assert a.room == tms_room
        assert a.staff == tms
        assert a.tms_course == course
        assert [d.kind for d in a.devices.all()] == ["tms_unit"]
    # Booked once: a second attempt is refused and writes nothing.
    with pytest.raises(SchedulingError, match="already has sessions booked"):
        tms_booking.book_tms_course(course, now=NOW, by=front_desk)
    assert Appointment.objects.count() == 5


def test_a_busy_preferred_time_takes_the_next_free_one(
    patient: Patient,
    tms: User,
    prescriber: User,
    location: Location,
    tms_room: Room,
    types: dict[str, AppointmentType],
    on_shift: Callable[..., None],
    front_desk: User,
) -> None:
    on_shift(tms)
    course = order(patient, tms, prescriber, location, acute_sessions=1)
    # The unit is out of service from 10:00 to 10:45 on the Monday.
    Closure.objects.create(
        location=location,
        device=Device.objects.get(kind=Device.Kind.TMS_UNIT),
        starts_at=rules.local_to_utc(MONDAY, time(10), "America/Chicago"),
        ends_at=rules.local_to_utc(MONDAY, time(10, 45), "America/Chicago"),
        reason="Service",
    )
    [visit] = tms_booking.book_tms_course(
        course, preferred_time=time(10), now=NOW, by=front_desk
    )
    assert visit.starts_at.astimezone(CHICAGO).time() == time(11)


def test_no_technician_books_nothing_and_names_the_session(
    patient: Patient,
    tms: User,
    prescriber: User,
    location: Location,
    tms_room: Room,
    types: dict[str, AppointmentType],
    on_shift: Callable[..., None],
    front_desk: User,
) -> None:
    # The technician works only the first three days of the week.
    on_shift(tms, days=3)
    course = order(patient, tms, prescriber, location)
    with pytest.raises(SchedulingError) as refused:
        tms_booking.book_tms_course(course, now=NOW, by=front_desk)
    assert refused.value.message.startswith("Session 4 (Thu 06 Mar)")
    assert "not on shift" in refused.value.message
    assert refused.value.field == "course"
    assert Appointment.objects.count() == 0
