"""Issue 14, item 9 on the calendar's paths: checking in an infusion appointment holds the
protocol's rhythm as the chart does; only a nurse or prescriber may check in over it, with a
written reason, on the action, the page and the API alike. And an infusion opened from the
chart without an appointment holds its room, so the calendar does not book a visit that
check-in would then refuse."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location, Room
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.tests.factories import make_patient
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories

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


@pytest.fixture
def infused_yesterday_evening(
    booked: Appointment, plan: TreatmentPlan, nurse: User
) -> InfusionSession:
    """A finished infusion the evening before, so Monday's is too soon (one day apart)."""
    started = local(MONDAY - timedelta(days=1), 7)
    room = Room.objects.get(location=booked.location, name="Infusion 2")
    return InfusionSession.objects.create(
        organization_id=plan.patient.organization_id,
        patient=plan.patient,
        plan=plan,
        order=plan.orders.get(),
        location=booked.location,
        room=room,
        sequence_number=1,
        sequence_total=6,
        service_date=started.date(),
        checked_in_by=nurse,
        checked_in_at=started,
        nurse=nurse,
        status=InfusionSession.Status.CLOSED,
        started_at=local(MONDAY, 7),  # the same clinic day as the booking
        ended_at=local(MONDAY, 7, 45),
    )


def _written() -> tuple[int, int]:
    return InfusionSession.objects.count(), AuditEvent.objects.count()


def test_item9_the_calendar_check_in_refuses_a_second_infusion_on_the_day(
    booked: Appointment,
    infused_yesterday_evening: InfusionSession,
    front_desk: User,
    nurse: User,
) -> None:
    now = local(MONDAY, 8, 50)
    before = _written()
    with pytest.raises(SchedulingError, match="Minimum days between infusions") as exc:
        appointments.check_in(booked, now=now, by=nurse)
    assert exc.value.field == "spacing_override_reason"
    # The front desk cannot override the clinical rule, even with a reason.
    with pytest.raises(SchedulingError, match="Only a nurse or prescriber"):
        appointments.check_in(
            booked, spacing_override_reason="Patient asked", now=now, by=front_desk
        )
    assert _written() == before
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_item9_a_nurse_checks_in_over_the_rhythm_with_a_reason(
    booked: Appointment, infused_yesterday_evening: InfusionSession, nurse: User
) -> None:
    done = appointments.check_in(
        booked,
        spacing_override_reason="Prescriber approved a second dose window",
        now=local(MONDAY, 8, 50),
        by=nurse,
    )
    session = done.infusion_session
    assert session is not None
    assert session.spacing_override_reason == "Prescriber approved a second dose window"
    assert [p.split(":")[0] for p in session.spacing_overridden] == [
        "Minimum days between infusions"
    ]
    assert done.status == Appointment.Status.CHECKED_IN


def test_item9_the_page_offers_the_reason_to_clinicians_and_holds_the_rule(
    as_persona: Callable[[str], Client],
    booked: Appointment,
    infused_yesterday_evening: InfusionSession,
    clinic: Location,
    clock: Any,
) -> None:
    clock.move_to(local(MONDAY, 8, 50))
    day = f"/schedule/?location={clinic.uuid}&date={MONDAY}"
    desk = as_persona("front_desk")
    assert "spacing_override_reason" not in desk.get(day).content.decode()
    refused = desk.post(
        f"/schedule/appointments/{booked.uuid}/check-in",
        {"spacing_override_reason": "Patient asked"},
        follow=True,
    )
    assert "Only a nurse or prescriber" in refused.content.decode()
    assert not InfusionSession.objects.exclude(pk=infused_yesterday_evening.pk).exists()

    nurse = as_persona("nurse")
    assert 'name="spacing_override_reason"' in nurse.get(day).content.decode()
    too_long = nurse.post(
        f"/schedule/appointments/{booked.uuid}/check-in",
        {"spacing_override_reason": "x" * 501},
        follow=True,
    )
    assert "too long" in too_long.content.decode()
    response = nurse.post(
        f"/schedule/appointments/{booked.uuid}/check-in",
        {"spacing_override_reason": "Approved by the prescriber"},
    )
    session = InfusionSession.objects.exclude(pk=infused_yesterday_evening.pk).get()
    assert response["Location"] == f"/infusions/sessions/{session.uuid}/"
    assert session.spacing_override_reason == "Approved by the prescriber"


def test_item9_the_api_holds_the_rule_and_takes_the_reason(
    booked: Appointment,
    infused_yesterday_evening: InfusionSession,
    front_desk: User,
    nurse: User,
    bearer: Callable[[User], dict[str, str]],
    client: Client,
    clock: Any,
) -> None:
    clock.move_to(local(MONDAY, 8, 50))
    path = f"/api/scheduling/appointments/{booked.uuid}/check-in"
    refused = client.post(
        path, {}, content_type="application/json", headers=bearer(nurse)
    )
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert "Minimum days between infusions" in refused.content.decode()
    desk = client.post(
        path,
        {"spacing_override_reason": "Patient asked"},
        content_type="application/json",
        headers=bearer(front_desk),
    )
    assert desk.status_code == 422
    assert "Only a nurse or prescriber" in desk.content.decode()
    assert InfusionSession.objects.count() == 1
    done = client.post(
        path,
        {"spacing_override_reason": "Approved by the prescriber"},
        content_type="application/json",
        headers=bearer(nurse),
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "checked_in"


def test_an_infusion_opened_from_the_chart_holds_its_room(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    nurse: User,
) -> None:
    """A walk-in checked in from the chart has no appointment, yet its room is taken: the
    calendar books the next visit into the other room rather than one it cannot check in."""
    room = Room.objects.get(location=clinic, name="Infusion 1")
    other = make_patient(clinic.organization, family_name="Walkinson")
    InfusionSession.objects.create(
        organization_id=other.organization_id,
        patient=other,
        plan=plan,
        order=plan.orders.get(),
        location=clinic,
        room=room,
        sequence_number=1,
        sequence_total=6,
        service_date=MONDAY,
        checked_in_by=nurse,
        checked_in_at=local(MONDAY, 8, 30),
        nurse=nurse,
    )
    booked = appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 9),
        now=NOW,
        by=front_desk,
    )
    assert booked.room is not None
    assert booked.room.name == "Infusion 2"


def test_a_booked_infusion_that_overruns_its_visit_still_holds_its_room(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    nurse: User,
    prescriber: User,
    director: User,
    clock: Any,
) -> None:
    """The visit booked 08:00-10:00 (turnover to 10:15) is still open at 10:30: its room is
    not free until a turnover after the patient leaves, so a 10:35 visit goes elsewhere."""
    first = appointments.book_appointment(
        plan.patient,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 8),
        now=NOW,
        by=front_desk,
    )
    assert first.room is not None
    assert first.room.name == "Infusion 1"
    appointments.check_in(first, now=local(MONDAY, 7, 55), by=nurse)
    other = make_patient(clinic.organization, family_name="Overrunson")
    treatment_factories.ready_for_treatment(other, prescriber)
    other_plan = treatment_factories.make_plan(other, prescriber, director)
    treatment_factories.sign_order(other_plan, prescriber)
    clock.move_to(local(MONDAY, 10, 30))
    second = appointments.book_appointment(
        other,
        appointment_type=types["infusion"],
        location=clinic,
        starts_at=local(MONDAY, 10, 35),
        now=local(MONDAY, 10, 30),
        by=front_desk,
    )
    assert second.room is not None
    assert second.room.name == "Infusion 2"
