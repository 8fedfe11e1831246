"""The waitlist (issue 9 item 8): a cancelled visit's time is offered by message to the
first matching entry, in order; a decline or an expiry passes it on; the first to accept
books it, and a time booked meanwhile is refused, never double-booked."""

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments, waitlist
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    SchedulingSettings,
    WaitlistEntry,
    WaitlistOffer,
)
from neuroclinic.scheduling.tests.conftest import MONDAY, NOW, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(organization: Organization, front_desk: User) -> list[Patient]:
    made = []
    for n, name in enumerate(("Ada", "Bo", "Cy")):
        made.append(
            patient_actions.register_patient(
                organization,
                by=front_desk,
                family_name=f"Waitdemo{n}",
                given_name=name,
                birth_date=date(1980, 1, 1 + n),
                sex_at_birth=Patient.SexAtBirth.FEMALE,
                email=f"{name.lower()}.waitdemo@example.com",
            )
        )
    return made


@pytest.fixture
def phone_type(types: dict[str, AppointmentType]) -> AppointmentType:
    return types["phone_check_in"]


def _book(
    patient: Patient, itype: AppointmentType, location: Location, hour: int, by: User
) -> Appointment:
    return appointments.book_appointment(
        patient,
        appointment_type=itype,
        location=location,
        starts_at=local(MONDAY, hour),
        now=NOW,
        by=by,
    )


def _link(message: Any) -> str:
    found = re.search(r"https?://\S+/schedule/offer/\S+/", message.body)
    assert found is not None
    return found.group(0).split("/schedule/", 1)[1]


def test_a_cancelled_time_is_offered_to_the_first_matching_entry_by_message(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ada, bo, cy = people
    freed = _book(ada, phone_type, clinic, 9, front_desk)
    later = _book(bo, phone_type, clinic, 15, front_desk)
    waitlist.join_waitlist(
        bo, appointment_type=phone_type, appointment=later, now=NOW, by=front_desk
    )
    waitlist.join_waitlist(cy, appointment_type=phone_type, now=NOW, by=front_desk)
    with django_capture_on_commit_callbacks(execute=True):
        appointments.cancel_appointment(
            freed, reason="Travelling", now=NOW, by=front_desk
        )
    offer = WaitlistOffer.objects.get()
    assert (
        offer.entry.patient == bo
    )  # first in line, and the time is earlier than theirs
    assert offer.starts_at == freed.starts_at
    assert offer.sent_at is not None
    (message,) = mail.outbox
    assert message.to == [bo.email]
    assert "The first to accept gets it" in message.body
    assert not re.search(
        r"phone|check-in|ketamine|infusion", str(message.subject), re.I
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.APPOINTMENT_REMINDED, data__kind="waitlist_offer"
    ).exists()


def test_a_later_time_an_own_visit_or_another_type_is_not_offered(
    clinic: Location,
    types: dict[str, AppointmentType],
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, cy = people
    freed = _book(ada, phone_type, clinic, 16, front_desk)
    earlier = _book(bo, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(
        bo, appointment_type=phone_type, appointment=earlier, now=NOW, by=front_desk
    )
    waitlist.join_waitlist(
        ada, appointment_type=phone_type, now=NOW, by=front_desk
    )  # the freed visit's own patient
    waitlist.join_waitlist(
        cy, appointment_type=types["consult"], now=NOW, by=front_desk
    )
    appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    assert not WaitlistOffer.objects.exists()


def test_a_decline_passes_the_time_to_the_next_in_order(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, cy = people
    freed = _book(ada, phone_type, clinic, 9, front_desk)
    first = waitlist.join_waitlist(
        bo, appointment_type=phone_type, now=NOW, by=front_desk
    )
    second = waitlist.join_waitlist(
        cy, appointment_type=phone_type, now=NOW + timedelta(minutes=1), by=front_desk
    )
    appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    offer = WaitlistOffer.objects.get(status="open")
    assert offer.entry == first
    waitlist.decline_offer(offer, now=NOW)
    after = WaitlistOffer.objects.get(status="open")
    assert after.entry == second
    first.refresh_from_db()
    assert (
        first.status == WaitlistEntry.Status.WAITING
    )  # keeps the place for the next time
    with pytest.raises(SchedulingError, match="closed"):
        waitlist.accept_offer(offer, now=NOW)


def test_an_expired_offer_passes_on(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, cy = people
    freed = _book(ada, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    waitlist.join_waitlist(
        cy, appointment_type=phone_type, now=NOW + timedelta(minutes=1), by=front_desk
    )
    appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    offer = WaitlistOffer.objects.get(status="open")
    late = offer.expires_at + timedelta(minutes=1)
    with pytest.raises(SchedulingError, match="closed"):
        waitlist.accept_offer(offer, now=late)
    assert waitlist.expire_offers(now=late) == 1
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.EXPIRED
    assert WaitlistOffer.objects.get(status="open").entry.patient == cy


def test_accepting_brings_the_visit_forward(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, _cy = people
    freed = _book(ada, phone_type, clinic, 9, front_desk)
    later = _book(bo, phone_type, clinic, 15, front_desk)
    entry = waitlist.join_waitlist(
        bo, appointment_type=phone_type, appointment=later, now=NOW, by=front_desk
    )
    appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    booked = waitlist.accept_offer(WaitlistOffer.objects.get(), now=NOW)
    assert booked.pk == later.pk  # moved, not a second visit
    assert booked.starts_at == freed.starts_at
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.BOOKED
    assert (
        Appointment.objects.filter(patient=bo, status__in=Appointment.HOLDING).count()
        == 1
    )


def test_a_time_booked_meanwhile_is_refused_not_double_booked(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
    patient: Patient,
) -> None:
    ada, bo, cy = people
    freed = _book(ada, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    waitlist.join_waitlist(
        cy, appointment_type=phone_type, now=NOW + timedelta(minutes=1), by=front_desk
    )
    appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    offer = WaitlistOffer.objects.get(status="open")
    taken = _book(
        patient, phone_type, clinic, 9, front_desk
    )  # the desk books the nurse then
    with pytest.raises(SchedulingError, match="cannot be booked any more"):
        waitlist.accept_offer(offer, now=NOW)
    assert not Appointment.objects.filter(patient=bo).exists()
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.TAKEN
    at_nine = Appointment.objects.filter(
        starts_at=freed.starts_at, status__in=Appointment.HOLDING
    )
    assert list(at_nine) == [taken]


def test_bad_joins_are_refused(
    clinic: Location,
    types: dict[str, AppointmentType],
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, _cy = people
    theirs = _book(ada, phone_type, clinic, 9, front_desk)
    with pytest.raises(SchedulingError, match="another patient"):
        waitlist.join_waitlist(
            bo, appointment_type=phone_type, appointment=theirs, now=NOW, by=front_desk
        )
    with pytest.raises(SchedulingError, match="another type"):
        waitlist.join_waitlist(
            ada,
            appointment_type=types["consult"],
            appointment=theirs,
            now=NOW,
            by=front_desk,
        )
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    with pytest.raises(SchedulingError, match="already on the waitlist"):
        waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    assert WaitlistEntry.objects.count() == 1


def test_the_offer_page_accepts_and_bad_links_are_refused(
    client: Client,
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
    clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ada, bo, _cy = people
    freed = _book(ada, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    with django_capture_on_commit_callbacks(execute=True):
        appointments.cancel_appointment(freed, reason="Unwell", now=NOW, by=front_desk)
    path = "/schedule/" + _link(mail.outbox[0])
    page = client.get(path)
    assert page.status_code == 200
    assert "Accept this time" in page.content.decode()
    assert client.get("/schedule/offer/forged-token/").status_code == 404
    odd = client.post(path, {"choice": "maybe"})
    assert "Choose to accept" in odd.content.decode()
    done = client.post(path, {"choice": "accept"})
    assert "It is yours" in done.content.decode()
    booked = Appointment.objects.get(patient=bo)
    assert booked.starts_at == freed.starts_at
    # Booked by the patient from the offer's link, not in the name of the desk who added them.
    assert booked.booked_by is None
    assert booked.booked_via == Appointment.BookedVia.WAITLIST_LINK
    assert booked.history.get().by is None
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, subject_id=str(booked.uuid)
    )
    assert event.actor is None
    assert event.actor_username == "(patient, waitlist offer link)"
    assert event.patient_id == bo.pk
    assert event.data["via"] == "waitlist"
    again = client.post(path, {"choice": "accept"})
    assert "This offer is closed" in again.content.decode()
    assert Appointment.objects.filter(patient=bo).count() == 1


def test_the_front_desk_pages(
    as_persona: Callable[[str], Client],
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
) -> None:
    client = as_persona("front_desk")
    ada = people[0]
    form = client.get(f"/schedule/waitlist/add/{ada.uuid}/")
    assert form.status_code == 200
    added = client.post(
        f"/schedule/waitlist/add/{ada.uuid}/",
        {"appointment_type": phone_type.pk, "location": "", "appointment": ""},
    )
    assert added.status_code == 302
    twice = client.post(
        f"/schedule/waitlist/add/{ada.uuid}/", {"appointment_type": phone_type.pk}
    )
    assert "already on the waitlist" in twice.content.decode()
    listed = client.get("/schedule/waitlist/").content.decode()
    assert ada.mrn in listed
    entry = WaitlistEntry.objects.get()
    client.post(f"/schedule/waitlist/{entry.uuid}/withdraw")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WITHDRAWN
    assert as_persona("billing").get("/schedule/waitlist/").status_code in (302, 403)


def test_a_late_cancel_is_offered_when_it_gives_the_notice(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, _cy = people
    freed = _book(ada, phone_type, clinic, 15, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    five_hours_before = freed.starts_at - timedelta(hours=5)
    cancelled = appointments.cancel_appointment(
        freed, reason="Unwell", now=five_hours_before, by=front_desk
    )
    assert cancelled.status == Appointment.Status.LATE_CANCEL
    offer = WaitlistOffer.objects.get()
    assert offer.entry.patient == bo
    assert offer.freed_because == WaitlistOffer.Freed.CANCELLED


def test_a_late_cancel_inside_the_notice_is_not_offered(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, _cy = people
    freed = _book(ada, phone_type, clinic, 15, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    appointments.cancel_appointment(
        freed,
        reason="Unwell",
        now=freed.starts_at - timedelta(hours=2),  # the default notice is 3 hours
        by=front_desk,
    )
    assert not WaitlistOffer.objects.exists()


def test_the_time_a_moved_visit_leaves_is_offered_each_time_it_moves(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, cy = people
    moving = _book(ada, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    waitlist.join_waitlist(
        cy, appointment_type=phone_type, now=NOW + timedelta(minutes=1), by=front_desk
    )
    appointments.move_appointment(
        moving, starts_at=local(MONDAY, 15), now=NOW, by=front_desk
    )
    first = WaitlistOffer.objects.get()
    assert (first.entry.patient, first.starts_at) == (bo, local(MONDAY, 9))
    assert first.freed_from == moving
    assert first.freed_because == WaitlistOffer.Freed.MOVED
    # Moved again: the 15:00 it leaves goes to the next in line (Bo holds an open offer).
    appointments.move_appointment(
        moving, starts_at=local(MONDAY, 16), now=NOW, by=front_desk
    )
    second = WaitlistOffer.objects.exclude(pk=first.pk).get()
    assert (second.entry.patient, second.starts_at) == (cy, local(MONDAY, 15))
    assert WaitlistOffer.objects.filter(status="open").count() == 2
    booked = waitlist.accept_offer(first, now=NOW)
    assert booked.patient == bo
    assert booked.starts_at == local(MONDAY, 9)


def test_a_moved_time_still_held_by_the_visit_itself_is_not_offered(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    """Moved ten minutes later, the visit still holds the only nurse at 09:00: nobody could
    book the time it left, so nobody is offered it in vain."""
    ada, bo, _cy = people
    moving = _book(ada, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    appointments.move_appointment(
        moving, starts_at=local(MONDAY, 9, 10), now=NOW, by=front_desk
    )
    assert not WaitlistOffer.objects.exists()


def test_what_is_left_of_a_no_show_is_offered_with_enough_notice(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, _cy = people
    phone_type.duration_minutes = 90  # a long visit leaves time worth offering
    phone_type.save(update_fields=["duration_minutes"])
    missed = _book(ada, phone_type, clinic, 9, front_desk)  # 09:00-10:30
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    settings_row = SchedulingSettings.objects.get_or_create(
        organization_id=clinic.organization_id
    )[0]
    settings_row.waitlist_notice_minutes = 30
    settings_row.save(update_fields=["waitlist_notice_minutes"])
    appointments.mark_no_show(missed, now=local(MONDAY, 9, 10), by=front_desk)
    offer = WaitlistOffer.objects.get()
    # 09:10 + 30 minutes' notice: the next start on the half hour is 10:00, inside 09:00-10:30.
    assert offer.starts_at == local(MONDAY, 10)
    assert offer.freed_because == WaitlistOffer.Freed.NO_SHOW
    assert offer.entry.patient == bo


def test_a_no_show_with_too_little_left_is_not_offered(
    clinic: Location,
    phone_type: AppointmentType,
    people: list[Patient],
    front_desk: User,
) -> None:
    ada, bo, _cy = people
    missed = _book(ada, phone_type, clinic, 9, front_desk)
    waitlist.join_waitlist(bo, appointment_type=phone_type, now=NOW, by=front_desk)
    appointments.mark_no_show(missed, now=local(MONDAY, 9, 5), by=front_desk)
    assert not WaitlistOffer.objects.exists()


def test_a_staff_booking_must_name_the_staff_member(
    clinic: Location, phone_type: AppointmentType, people: list[Patient]
) -> None:
    with pytest.raises(ValueError, match="names the staff member"):
        appointments.book_appointment(
            people[0],
            appointment_type=phone_type,
            location=clinic,
            starts_at=local(MONDAY, 9),
            now=NOW,
            by=None,
        )
    assert not Appointment.objects.exists()
