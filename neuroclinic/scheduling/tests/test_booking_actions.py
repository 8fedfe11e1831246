"""Booking one visit, moving, cancelling, no-shows and check-in, through the actions."""

from datetime import timedelta

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location, Room
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local
from neuroclinic.treatment.models import TreatmentPlan

pytestmark = pytest.mark.django_db


def book(
    patient: Patient,
    clinic: Location,
    itype: AppointmentType,
    by: User,
    hour: int = 9,
    **kw: object,
) -> Appointment:
    return appointments.book_appointment(
        patient,
        appointment_type=itype,
        location=clinic,
        starts_at=local(MONDAY, hour),
        now=NOW,
        by=by,
        **kw,  # type: ignore[arg-type]
    )


def test_booking_an_infusion_takes_a_room_a_nurse_a_pump_and_a_monitor(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    nurse: User,
) -> None:
    appt = book(plan.patient, clinic, types["infusion"], front_desk)
    assert appt.room is not None
    assert appt.room.name == "Infusion 1"
    assert appt.staff == nurse
    assert sorted(d.kind for d in appt.devices.all()) == ["infusion_pump", "monitor"]
    assert appt.held_until - appt.ends_at == timedelta(minutes=15)
    assert [h.status for h in appt.history.all()] == ["booked"]
    assert AuditEvent.objects.filter(action="scheduling.booked").count() == 1


def test_the_second_patient_gets_the_other_room_and_the_third_is_refused_by_the_ratio(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    prescriber: User,
    director: User,
    organization: object,
) -> None:
    from neuroclinic.scheduling.tests.test_series import another_patient

    first = book(plan.patient, clinic, types["infusion"], front_desk)
    second = book(
        another_patient(plan, prescriber, director, "Two"),
        clinic,
        types["infusion"],
        front_desk,
    )
    assert {first.room_id, second.room_id} == {
        r.pk for r in Room.objects.filter(location=clinic)
    }
    Room.objects.create(location=clinic, name="Infusion 3", kind=Room.Kind.INFUSION)
    with pytest.raises(SchedulingError) as refused:
        book(
            another_patient(plan, prescriber, director, "Three"),
            clinic,
            types["infusion"],
            front_desk,
        )
    assert refused.value.field in {"devices", "staff"}


@pytest.mark.parametrize(
    ("hour", "field", "message"),
    [
        (7, "starts_at", "outside the location's opening hours"),
        (17, "starts_at", "outside the location's opening hours"),
    ],
)
def test_refusals_say_why_and_write_nothing(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    hour: int,
    field: str,
    message: str,
) -> None:
    with pytest.raises(SchedulingError) as refused:
        book(plan.patient, clinic, types["infusion"], front_desk, hour=hour)
    assert message in refused.value.errors[field][0]
    assert not Appointment.objects.exists()


def test_booking_in_the_past_is_refused(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    with pytest.raises(SchedulingError, match="already passed"):
        appointments.book_appointment(
            plan.patient,
            appointment_type=types["infusion"],
            location=clinic,
            starts_at=local(MONDAY, 9),
            now=local(MONDAY, 10),
            by=front_desk,
        )


def test_an_infusion_without_a_signed_order_is_refused(
    patient: Patient,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    with pytest.raises(SchedulingError, match="no active treatment plan"):
        book(patient, clinic, types["infusion"], front_desk)


def test_a_patient_cannot_be_in_two_places(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    book(plan.patient, clinic, types["infusion"], front_desk)
    with pytest.raises(SchedulingError, match="another visit"):
        book(plan.patient, clinic, types["phone_check_in"], front_desk, hour=10)


def test_move_cancel_and_no_show_free_the_room(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    appt = book(plan.patient, clinic, types["infusion"], front_desk)
    moved = appointments.move_appointment(
        appt, starts_at=local(MONDAY, 13), now=NOW, by=front_desk
    )
    assert moved.status == "moved"
    assert moved.history.last().data["old_starts_at"] == local(MONDAY, 9).isoformat()  # type: ignore[union-attr]
    # The end and staff member it left are kept too (the FHIR Appointment history).
    step = moved.history.last()
    assert step is not None
    assert step.data["old_ends_at"] == appt.ends_at.isoformat()
    assert step.data["old_staff"] == (str(appt.staff.uuid) if appt.staff else "")
    appointments.cancel_appointment(
        moved, reason="Patient unwell", now=NOW, by=front_desk
    )
    again = book(plan.patient, clinic, types["infusion"], front_desk, hour=13)
    assert again.room == moved.room
    with pytest.raises(SchedulingError, match="not begun"):
        appointments.mark_no_show(again, now=NOW, by=front_desk)
    assert (
        appointments.mark_no_show(again, now=local(MONDAY, 14), by=front_desk).status
        == "no_show"
    )
    assert [h.status for h in again.history.all()] == ["booked", "no_show"]


def test_cancel_needs_a_reason_and_a_cancelled_visit_stays_cancelled(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    appt = book(plan.patient, clinic, types["infusion"], front_desk)
    with pytest.raises(SchedulingError, match="why"):
        appointments.cancel_appointment(appt, reason=" ", now=NOW, by=front_desk)
    appointments.cancel_appointment(appt, reason="Weather", now=NOW, by=front_desk)
    with pytest.raises(
        SchedulingError, match="cancelled appointment cannot be confirmed"
    ):
        appointments.confirm_appointment(appt, now=NOW, by=None)


@pytest.mark.parametrize(
    ("hours_before", "setting", "status"),
    [
        (48, 24, "cancelled"),
        (24, 24, "cancelled"),  # exactly the notice period is in time
        (23.5, 24, "late_cancel"),
        (1, 24, "late_cancel"),
        (23.5, 0, "cancelled"),  # the clinic has no late-cancel policy
        (47, 48, "late_cancel"),
    ],
)
def test_late_cancel_follows_the_clinic_setting(
    hours_before: float,
    setting: int,
    status: str,
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
) -> None:
    from neuroclinic.scheduling.models import SchedulingSettings

    SchedulingSettings.objects.update_or_create(
        organization_id=clinic.organization_id,
        defaults={"late_cancel_hours": setting},
    )
    appt = book(plan.patient, clinic, types["infusion"], front_desk)
    done = appointments.cancel_appointment(
        appt,
        reason="Unwell",
        now=appt.starts_at - timedelta(hours=hours_before),
        by=None,
    )
    assert done.status == status
    assert [h.status for h in done.history.all()] == ["booked", status]
    assert not done.is_holding


def test_check_in_opens_the_infusion_session(
    plan: TreatmentPlan,
    clinic: Location,
    types: dict[str, AppointmentType],
    front_desk: User,
    nurse: User,
) -> None:
    appt = book(plan.patient, clinic, types["infusion"], front_desk)
    with pytest.raises(SchedulingError, match="today"):
        appointments.check_in(appt, now=NOW, by=nurse)
    checked = appointments.check_in(appt, now=local(MONDAY, 8, 50), by=nurse)
    assert checked.status == "checked_in"
    session = InfusionSession.objects.get()
    assert checked.infusion_session == session
    assert session.room == appt.room
    assert session.nurse == nurse
