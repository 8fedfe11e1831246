"""The calendar pages: access by persona, the day by room, the series form, check-in."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.clinics.models import Location
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> Appointment:
    return appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_day_page_access(
    persona: str,
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
) -> None:
    response = as_persona(persona).get(
        f"/schedule/?location={clinic.uuid}&date={MONDAY}"
    )
    # The outsider (a nurse elsewhere) sees her own clinic's calendar, never Lakeside's.
    expected = expected_status(
        persona, personas_with(Capability.VIEW_SCHEDULE), outsider=200
    )
    assert response.status_code == expected
    if persona == "front_desk":
        assert booked.patient.display_name in response.content.decode()
    if persona == "outsider":
        assert booked.patient.display_name not in response.content.decode()


@pytest.mark.parametrize("persona", EVERYONE)
def test_series_page_access(
    persona: str,
    as_persona: Callable[[str], Client],
    plan: TreatmentPlan,
    clinic: Location,
) -> None:
    response = as_persona(persona).get(f"/schedule/series/{plan.patient.uuid}/")
    allowed = personas_with(Capability.BOOK_APPOINTMENTS) & personas_with(
        Capability.VIEW_PATIENT_LIST
    )
    expected = expected_status(persona, allowed, outsider=404)
    assert response.status_code == expected


def test_day_page_shows_rooms_as_columns_in_pinned_queries(
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
    django_assert_max_num_queries: Any,
    plan: TreatmentPlan,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/?location={clinic.uuid}&date={MONDAY}"
    client.get(url)
    with django_assert_max_num_queries(18):
        response = client.get(url)
    page = response.content.decode()
    assert "Infusion 1" in page
    assert "Infusion 2" in page
    assert "Booked" in page
    # More visits, same number of queries.
    appointments.book_appointment(
        plan.patient,
        appointment_type=types["phone_check_in"],
        location=clinic,
        starts_at=local(MONDAY, 14),
        now=NOW,
        by=front_desk,
    )
    with django_assert_max_num_queries(18):
        assert "No room (phone)" in client.get(url).content.decode()


def test_week_page(
    as_persona: Callable[[str], Client], booked: Appointment, clinic: Location
) -> None:
    response = as_persona("nurse").get(
        f"/schedule/week/?location={clinic.uuid}&date={MONDAY}"
    )
    assert response.status_code == 200
    assert booked.patient.display_name in response.content.decode()


def test_bad_dates_and_locations_fall_back_not_500(
    as_persona: Callable[[str], Client], clinic: Location
) -> None:
    client = as_persona("front_desk")
    assert client.get("/schedule/?date=31-02-2031&location=nope").status_code == 200
    assert client.get("/schedule/week/?date=x").status_code == 200


def test_check_in_button_opens_the_infusion(
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
    clock: Any,
) -> None:
    clock.move_to(local(MONDAY, 8, 50))
    client = as_persona("nurse")
    page = client.get(
        f"/schedule/?location={clinic.uuid}&date={MONDAY}"
    ).content.decode()
    assert "Check in" in page
    response = client.post(f"/schedule/appointments/{booked.uuid}/check-in")
    session = InfusionSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/infusions/sessions/{session.uuid}/"


def test_front_desk_checks_in_an_infusion_and_the_nurse_starts_it(
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
    clock: Any,
    front_desk: Any,
    nurse: Any,
) -> None:
    clock.move_to(local(MONDAY, 8, 50))
    desk = as_persona("front_desk")
    page = desk.get(f"/schedule/?location={clinic.uuid}&date={MONDAY}").content.decode()
    assert "Check in" in page
    response = desk.post(f"/schedule/appointments/{booked.uuid}/check-in")
    # The desk stays on the calendar; the session waits, checked in, for the booked nurse.
    assert response.status_code == 302
    assert response["Location"].startswith("/schedule/")
    session = InfusionSession.objects.get()
    assert session.status == InfusionSession.Status.CHECKED_IN
    assert session.checked_in_by == front_desk
    assert session.nurse == nurse
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CHECKED_IN
    assert booked.infusion_session == session
    # Running it is the nurse's: the desk cannot open the session page, the nurse can.
    assert desk.get(f"/infusions/sessions/{session.uuid}/").status_code == 403
    assert (
        as_persona("nurse").get(f"/infusions/sessions/{session.uuid}/").status_code
        == 200
    )


def test_cancel_from_the_calendar(
    as_persona: Callable[[str], Client], booked: Appointment, clock: Any
) -> None:
    client = as_persona("front_desk")
    assert (
        client.post(
            f"/schedule/appointments/{booked.uuid}/cancel", {"reason": ""}
        ).status_code
        == 302
    )
    booked.refresh_from_db()
    assert booked.status == "booked"
    client.post(f"/schedule/appointments/{booked.uuid}/cancel", {"reason": "Unwell"})
    booked.refresh_from_db()
    assert booked.status == "cancelled"


def test_series_form_proposes_then_books(
    as_persona: Callable[[str], Client],
    plan: TreatmentPlan,
    clinic: Location,
    clock: Any,
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/series/{plan.patient.uuid}/"
    proposal = client.post(
        url,
        {
            "step": "propose",
            "location": str(clinic.uuid),
            "start": str(MONDAY),
            "preferred_time": "10:00",
        },
        headers={"HX-Request": "true"},
    )
    page = proposal.content.decode()
    assert proposal.status_code == 200
    assert page.count("<li>") == 6
    assert "infusion 1 of 6, week 1; a preferred time" in page
    import html
    import re

    starts = html.unescape(re.search(r'name="starts" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    booked = client.post(
        url, {"step": "book", "location": str(clinic.uuid), "starts": starts}
    )
    assert booked.status_code == 302
    assert Appointment.objects.filter(patient=plan.patient).count() == 6


def _proposed(
    client: Client, url: str, clinic: Location
) -> tuple[list[str], list[str]]:
    import re

    page = client.post(
        url,
        {
            "step": "propose",
            "location": str(clinic.uuid),
            "start": str(MONDAY),
            "preferred_time": "10:00",
        },
        headers={"HX-Request": "true"},
    ).content.decode()
    return (
        re.findall(r'name="day" value="([^"]+)"', page),
        re.findall(r'name="time" value="([^"]+)"', page),
    )


def test_series_form_books_an_adjusted_visit(
    as_persona: Callable[[str], Client],
    plan: TreatmentPlan,
    clinic: Location,
    clock: Any,
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/series/{plan.patient.uuid}/"
    days, times = _proposed(client, url, clinic)
    assert len(days) == len(times) == 6
    assert times[1] == "10:00"
    times[1] = "11:30"  # the desk moves the second visit before booking
    booked = client.post(
        url,
        {"step": "book", "location": str(clinic.uuid), "day": days, "time": times},
    )
    assert booked.status_code == 302, booked.content.decode()[-3000:]
    second = Appointment.objects.filter(patient=plan.patient).order_by("starts_at")[1]
    assert second.starts_at == local(date.fromisoformat(days[1]), 11, 30)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"index": 2, "day": "not a day"}, "Infusion 3: enter a day and a time."),
        ({"index": 5, "day": "2031-04-30"}, "within 21 days"),
        ({"index": 0, "time": "07:00"}, "Infusion 1"),
    ],
)
def test_series_form_refuses_an_adjustment_that_breaks_the_series(
    as_persona: Callable[[str], Client],
    plan: TreatmentPlan,
    clinic: Location,
    clock: Any,
    change: dict[str, Any],
    message: str,
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/series/{plan.patient.uuid}/"
    days, times = _proposed(client, url, clinic)
    n = change["index"]
    days[n] = change.get("day", days[n])
    times[n] = change.get("time", times[n])
    response = client.post(
        url,
        {"step": "book", "location": str(clinic.uuid), "day": days, "time": times},
    )
    assert response.status_code == 200
    import html

    assert message in html.unescape(response.content.decode())
    assert not Appointment.objects.exists()


def test_series_form_refuses_a_time_the_clocks_skip(
    as_persona: Callable[[str], Client],
    plan: TreatmentPlan,
    clinic: Location,
    clock: Any,
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/series/{plan.patient.uuid}/"
    days, times = _proposed(client, url, clinic)
    days[-1], times[-1] = "2031-03-09", "02:30"  # spring forward in Chicago
    response = client.post(
        url,
        {"step": "book", "location": str(clinic.uuid), "day": days, "time": times},
    )
    assert "does not exist" in response.content.decode()
    assert not Appointment.objects.exists()


def test_series_form_bad_input(
    as_persona: Callable[[str], Client],
    plan: TreatmentPlan,
    clinic: Location,
    clock: Any,
) -> None:
    client = as_persona("front_desk")
    url = f"/schedule/series/{plan.patient.uuid}/"
    response = client.post(
        url,
        {"step": "propose", "location": "nope", "start": "yesterday"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    garbage = client.post(
        url, {"step": "book", "location": str(clinic.uuid), "starts": "[not json"}
    )
    assert garbage.status_code == 200
    assert "not understood" in garbage.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("persona", ["front_desk", "nurse", "billing", "outsider"])
def test_the_printable_day_sheet(
    persona: str,
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
    front_desk: User,
) -> None:
    from neuroclinic.audit.models import AuditEvent

    response = as_persona(persona).get(
        f"/schedule/sheet/?location={clinic.uuid}&date={MONDAY}"
    )
    expected = expected_status(
        persona, personas_with(Capability.VIEW_SCHEDULE), outsider=200
    )
    assert response.status_code == expected
    page = response.content.decode()
    if persona in ("front_desk", "nurse"):
        # One row per visit in time order, with room, patient, MRN, type and nurse.
        assert "Day sheet" in page
        assert booked.patient.display_name in page
        assert booked.patient.mrn in page
        assert "Infusion 1" in page
        assert AuditEvent.objects.filter(action="scheduling.calendar_viewed").exists()
    if persona == "outsider":
        assert booked.patient.display_name not in page


def test_a_cancelled_visit_is_listed_apart_on_the_day_sheet(
    as_persona: Callable[[str], Client],
    booked: Appointment,
    clinic: Location,
    front_desk: User,
) -> None:
    appointments.cancel_appointment(booked, reason="Weather", now=NOW, by=front_desk)
    page = (
        as_persona("front_desk")
        .get(f"/schedule/sheet/?location={clinic.uuid}&date={MONDAY}")
        .content.decode()
    )
    assert "0 visits." in page
    assert "Cancelled and no-shows" in page
    assert booked.patient.display_name in page
