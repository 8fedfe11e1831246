"""Issue 9 item 2: a booster is booked inside the booster protocol's interval after the
last infusion, on every path (the action, the API, moves, the desk's booster page, the
portal picker and the waitlist), or refused naming the dates allowed with nothing written.
A prescriber may book outside it with a written reason, which is kept and audited.

The patient's induction series ended on MONDAY - 5 (six infusions every other day, given);
the default booster protocol asks for 28 to 42 days after the last infusion, so a booster
may fall from MONDAY + 23 to MONDAY + 37.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location
from neuroclinic.outcomes.tests import factories as course_factories
from neuroclinic.outcomes.tests.test_booking import (  # noqa: F401
    calendar,
    confirm,
    suggestion,
)
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
)
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, Clock, local
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import TreatmentPlan
from neuroclinic.treatment.tests import factories as treatment_factories

pytestmark = pytest.mark.django_db

LAST = MONDAY - timedelta(days=5)
EARLIEST = LAST + timedelta(days=28)
LATEST = LAST + timedelta(days=42)


@pytest.fixture
def maintenance(
    patient: Patient,
    clinic: Location,
    prescriber: User,
    director: User,
    nurse: User,
    on_shift: Callable[..., None],
) -> TreatmentPlan:
    """A completed induction series (given at the clinic) and a signed booster order."""
    plan = course_factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=LAST - timedelta(days=10),
    )
    treatment_factories.sign_order(plan, prescriber, kind=ProtocolKind.BOOSTER)
    # Shifts for the whole interval and a little after it.
    on_shift(nurse, first=MONDAY + timedelta(days=35), days=30)
    on_shift(prescriber, first=MONDAY + timedelta(days=35), days=30)
    return plan


def _written() -> tuple[int, int, int]:
    return (
        Appointment.objects.count(),
        AppointmentStatusChange.objects.count(),
        AuditEvent.objects.filter(
            action__in=(
                AuditEvent.Action.APPOINTMENT_BOOKED,
                AuditEvent.Action.APPOINTMENT_MOVED,
            )
        ).count(),
    )


def _book(
    plan: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    on: date,
    by: User,
    **extra: Any,
) -> Appointment:
    return appointments.book_appointment(
        plan.patient,
        appointment_type=types["booster"],
        location=clinic,
        starts_at=local(on, 10),
        now=NOW,
        by=by,
        **extra,
    )


@pytest.mark.parametrize(
    ("on", "allowed"),
    [
        (EARLIEST, True),
        (LATEST, True),
        (EARLIEST - timedelta(days=1), False),
        (MONDAY, False),
        (LATEST + timedelta(days=1), False),
    ],
)
def test_the_booking_rule_holds_the_interval(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
    on: date,
    allowed: bool,
) -> None:
    before = _written()
    if allowed:
        booked = _book(maintenance, types, clinic, on, front_desk)
        assert booked.appointment_type.code == "booster"
        return
    with pytest.raises(SchedulingError) as refused:
        _book(maintenance, types, clinic, on, front_desk)
    assert refused.value.field == "starts_at"
    assert f"earliest allowed date is {EARLIEST.isoformat()}" in refused.value.message
    assert _written() == before


def test_an_infusion_booked_but_not_given_counts_as_the_last(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
) -> None:
    _book(maintenance, types, clinic, EARLIEST, front_desk)
    before = _written()
    # A second booster a week after the first one booked is too soon after it ...
    with pytest.raises(SchedulingError, match="Too soon for a booster") as refused:
        _book(maintenance, types, clinic, EARLIEST + timedelta(days=7), front_desk)
    later = (EARLIEST + timedelta(days=28)).isoformat()
    assert f"earliest allowed date is {later}" in refused.value.message
    assert _written() == before


def test_the_front_desk_cannot_override_and_a_prescriber_can_with_a_reason(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
    prescriber: User,
    nurse: User,
) -> None:
    on = MONDAY + timedelta(days=10)
    before = _written()
    for who in (front_desk, nurse):
        with pytest.raises(SchedulingError, match="Only a prescriber") as refused:
            _book(
                maintenance,
                types,
                clinic,
                on,
                who,
                interval_override_reason="Patient asked for it early",
            )
        assert refused.value.field == "interval_override_reason"
    with pytest.raises(SchedulingError, match="too long") as refused:
        _book(
            maintenance,
            types,
            clinic,
            on,
            prescriber,
            interval_override_reason="x" * 501,
        )
    assert refused.value.field == "interval_override_reason"
    # A blank reason is no reason.
    with pytest.raises(SchedulingError, match="Too soon"):
        _book(maintenance, types, clinic, on, prescriber, interval_override_reason="  ")
    assert _written() == before

    booked = _book(
        maintenance,
        types,
        clinic,
        on,
        prescriber,
        interval_override_reason="Relapsed early; travelling from the 20th",
    )
    change = booked.history.get()
    assert change.data["interval_override_reason"] == (
        "Relapsed early; travelling from the 20th"
    )
    assert "Too soon for a booster" in change.data["interval_overridden"]
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, subject_id=str(booked.uuid)
    )
    assert event.actor == prescriber
    assert event.data["interval_override_reason"] == (
        "Relapsed early; travelling from the 20th"
    )
    assert event.data["interval_overridden"][0].startswith("Too soon for a booster")


def test_a_reason_without_a_refusal_is_not_recorded(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    prescriber: User,
) -> None:
    booked = _book(
        maintenance,
        types,
        clinic,
        EARLIEST,
        prescriber,
        interval_override_reason="Not needed",
    )
    assert "interval_override_reason" not in booked.history.get().data
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, subject_id=str(booked.uuid)
    )
    assert "interval_override_reason" not in event.data


def test_other_visits_are_not_held_to_the_booster_interval(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
) -> None:
    visit = appointments.book_appointment(
        maintenance.patient,
        appointment_type=types["phone_check_in"],
        location=clinic,
        starts_at=local(MONDAY, 10),
        now=NOW,
        by=front_desk,
    )
    assert visit.status == Appointment.Status.BOOKED


def test_moving_a_booster_keeps_the_interval(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
    prescriber: User,
) -> None:
    booked = _book(maintenance, types, clinic, EARLIEST + timedelta(days=2), front_desk)
    before = _written()
    for on in (EARLIEST - timedelta(days=1), LATEST + timedelta(days=1)):
        with pytest.raises(SchedulingError) as refused:
            appointments.move_appointment(
                booked, starts_at=local(on, 10), now=NOW, by=front_desk
            )
        assert refused.value.field == "starts_at"
        assert f"earliest allowed date is {EARLIEST.isoformat()}" in (
            refused.value.message
        )
    assert _written() == before
    booked.refresh_from_db()
    assert booked.starts_at == local(EARLIEST + timedelta(days=2), 10)
    # Its own time is not "the last infusion": moving it a day earlier is fine.
    moved = appointments.move_appointment(
        booked, starts_at=local(EARLIEST, 11), now=NOW, by=front_desk
    )
    assert moved.starts_at == local(EARLIEST, 11)
    # A prescriber moves it outside with a reason, recorded on the move.
    moved = appointments.move_appointment(
        booked,
        starts_at=local(MONDAY + timedelta(days=12), 10),
        interval_override_reason="Symptoms back early",
        now=NOW,
        by=prescriber,
    )
    last_change = moved.history.last()
    assert last_change is not None
    assert last_change.data["interval_override_reason"] == "Symptoms back early"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.APPOINTMENT_MOVED,
        data__interval_override_reason="Symptoms back early",
    ).exists()


def test_a_booster_cannot_be_moved_to_crowd_the_next_one(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
    prescriber: User,
) -> None:
    first = _book(maintenance, types, clinic, EARLIEST, front_desk)
    second = _book(
        maintenance, types, clinic, EARLIEST + timedelta(days=28), prescriber
    )
    assert second.pk
    with pytest.raises(SchedulingError, match="Another booster is booked"):
        appointments.move_appointment(
            first,
            starts_at=local(EARLIEST + timedelta(days=3), 10),
            now=NOW,
            by=front_desk,
        )


# The API ---------------------------------------------------------------------------


def _api_book(
    client: Client,
    auth: dict[str, str],
    plan: TreatmentPlan,
    clinic: Location,
    on: date,
    **extra: Any,
) -> Any:
    return client.post(
        "/api/scheduling/appointments",
        {
            "patient": str(plan.patient.uuid),
            "appointment_type": "booster",
            "location": str(clinic.uuid),
            "date": on.isoformat(),
            "time": "10:00",
            **extra,
        },
        content_type="application/json",
        headers=auth,
    )


def test_the_api_refuses_a_booster_outside_the_interval_naming_the_earliest_date(
    client: Client,
    bearer: Callable[[User], dict[str, str]],
    maintenance: TreatmentPlan,
    clinic: Location,
    front_desk: User,
    prescriber: User,
    clock: Clock,
) -> None:
    desk = bearer(front_desk)
    before = _written()
    response = _api_book(client, desk, maintenance, clinic, MONDAY)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["field"] == "starts_at"
    assert f"earliest allowed date is {EARLIEST.isoformat()}" in error["message"]
    # The desk's reason is not enough; a reason too long is refused by field.
    response = _api_book(
        client, desk, maintenance, clinic, MONDAY, interval_override_reason="Asked"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "interval_override_reason"
    response = _api_book(
        client, desk, maintenance, clinic, MONDAY, interval_override_reason="x" * 501
    )
    assert response.status_code == 422
    assert "interval_override_reason" in response.json()["errors"][0]["field"]
    assert _written() == before
    # Inside the interval it books; a prescriber books outside it with a reason.
    assert _api_book(client, desk, maintenance, clinic, EARLIEST).status_code == 201
    response = _api_book(
        client,
        bearer(prescriber),
        maintenance,
        clinic,
        EARLIEST + timedelta(days=10),
        interval_override_reason="Second booster agreed with the patient",
    )
    assert response.status_code == 201, response.content


def test_the_api_move_holds_the_interval(
    client: Client,
    bearer: Callable[[User], dict[str, str]],
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
    clock: Clock,
) -> None:
    booked = _book(maintenance, types, clinic, EARLIEST, front_desk)
    before = _written()
    response = client.post(
        f"/api/scheduling/appointments/{booked.uuid}/move",
        {"date": MONDAY.isoformat(), "time": "10:00", "reason": "Patient asked"},
        content_type="application/json",
        headers=bearer(front_desk),
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "starts_at"
    assert EARLIEST.isoformat() in error["message"]
    assert _written() == before


# The desk's booster page (outcomes' "boosters to book") and the portal picker --------
# (outcomes' own fixtures: a course in March 2026, a confirmed booster suggestion, and a
# calendar open for the next ten days from the real today).


@pytest.mark.parametrize(
    ("given_days_ago", "book_in_days", "says"),
    [
        # The course ended months ago: overdue, so within a week from today.
        (None, 10, "Later than the booster protocol allows"),
        # An infusion yesterday (charted, e.g. a walk-in): 28 days from it.
        (1, 3, "Too soon for a booster"),
    ],
)
def test_the_desk_s_booster_page_refuses_outside_the_interval(
    as_persona: Callable[[str], Client],
    suggestion: Any,  # noqa: F811
    calendar: Location,  # noqa: F811
    prescriber: User,
    nurse: User,
    given_days_ago: int | None,
    book_in_days: int,
    says: str,
) -> None:
    from django.urls import reverse
    from django.utils import timezone

    today = timezone.now().date()
    confirm(suggestion, prescriber)
    if given_days_ago is not None:
        order = maintenance_order(suggestion)
        course_factories.give(
            order, today - timedelta(days=given_days_ago), nurse, number=1, total=1
        )
    before = _written()
    prefix = str(suggestion.uuid)
    response = as_persona("front_desk").post(
        reverse("outcomes:book", args=[suggestion.uuid]),
        {
            f"{prefix}-location": calendar.pk,
            f"{prefix}-day": (today + timedelta(days=book_in_days)).isoformat(),
            f"{prefix}-at": "10:00",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert says in page
    earliest = (
        today
        if given_days_ago is None
        else today - timedelta(days=given_days_ago) + timedelta(days=28)
    )
    assert f"earliest allowed date is {earliest.isoformat()}" in page
    assert _written() == before
    suggestion.refresh_from_db()
    assert suggestion.appointment is None


def maintenance_order(suggestion: Any) -> Any:  # noqa: F811
    from neuroclinic.treatment.models import InfusionOrder

    return InfusionOrder.objects.get(
        plan=suggestion.plan, kind=InfusionOrder.Kind.BOOSTER, status="active"
    )


def test_the_portal_offers_only_times_the_rule_allows(
    client: Client,
    suggestion: Any,  # noqa: F811
    calendar: Location,  # noqa: F811
    prescriber: User,
    front_desk: User,
    nurse: User,
) -> None:
    from django.utils import timezone

    from neuroclinic.portal.tests.test_portal import portal

    confirm(suggestion, prescriber)
    portal(client, suggestion.patient, front_desk)
    offered = client.get("/portal/visits/booster/").content.decode()
    values = [v.split('"', 1)[0] for v in offered.split('name="slot" value="')[1:]]
    # Overdue (the course ended in March): times within a week from today.
    latest = timezone.now().date() + timedelta(days=7)
    assert values
    assert all(date.fromisoformat(v[:10]) <= latest for v in values)
    # An infusion yesterday, after the suggestion was made: the picker follows the
    # calendar's rule (28 days from yesterday), not the suggestion's older last infusion,
    # so none of the next ten days is offered, and a posted one is refused.
    course_factories.give(
        maintenance_order(suggestion),
        timezone.now().date() - timedelta(days=1),
        nurse,
        number=1,
        total=1,
    )
    page = client.get("/portal/visits/booster/").content.decode()
    assert 'name="slot" value="' not in page
    before = _written()
    response = client.post("/portal/visits/booster/", {"slot": values[0]})
    assert "no longer free" in response.content.decode()
    assert _written() == before


def test_the_waitlist_offers_a_booster_time_only_inside_the_interval(
    maintenance: TreatmentPlan,
    types: dict[str, AppointmentType],
    clinic: Location,
    front_desk: User,
    organization: Any,
) -> None:
    from neuroclinic.patients import actions as patient_actions
    from neuroclinic.scheduling.actions import waitlist
    from neuroclinic.scheduling.models import WaitlistOffer

    booked = _book(maintenance, types, clinic, EARLIEST + timedelta(days=5), front_desk)
    waitlist.join_waitlist(
        maintenance.patient,
        appointment_type=types["booster"],
        appointment=booked,
        now=NOW,
        by=front_desk,
    )
    other = patient_actions.register_patient(
        organization,
        by=front_desk,
        family_name="Waitboost",
        given_name="Noa",
        birth_date=date(1979, 5, 5),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
        email="noa.waitboost@example.com",
    )

    def freed_at(on: date) -> Appointment:
        # Another patient's booster (its own rules are not the point here).
        visit = Appointment.objects.create(
            organization=clinic.organization,
            location=clinic,
            patient=other,
            appointment_type=types["booster"],
            starts_at=local(on, 10),
            ends_at=local(on, 12),
            held_until=local(on, 12, 15),
            booked_by=front_desk,
        )
        return appointments.cancel_appointment(
            visit, reason="Unwell", now=NOW, by=front_desk
        )

    # Too soon for our patient: not offered to them.
    freed_at(MONDAY + timedelta(days=10))
    assert not WaitlistOffer.objects.exists()
    # Inside the interval and earlier than their visit: offered.
    freed_at(EARLIEST + timedelta(days=1))
    offer = WaitlistOffer.objects.get()
    assert offer.entry.patient_id == maintenance.patient_id
    moved = waitlist.accept_offer(offer, now=NOW, by=front_desk)
    assert moved.pk == booked.pk
    assert moved.starts_at == local(EARLIEST + timedelta(days=1), 10)
