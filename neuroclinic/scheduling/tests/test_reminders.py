"""Reminders: due once per lead, never twice, never to a cancelled visit, with the .ics;
the patient confirms or asks to move from the link or the portal."""

from datetime import timedelta
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.operations.schedule import PERIODIC_JOBS
from neuroclinic.scheduling import messages
from neuroclinic.scheduling.actions import appointments, reminders
from neuroclinic.scheduling.models import Appointment, AppointmentType, ReminderClaim
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


def test_the_job_is_registered() -> None:
    assert "neuroclinic.scheduling.tasks.send_appointment_reminders" in {
        j.task for j in PERIODIC_JOBS
    }


@pytest.mark.parametrize(
    ("hours_before", "lead"),
    [(72, None), (48, 48), (47, 48), (3, 48), (2, 2), (0.5, 2), (0, None), (-1, None)],
)
def test_due_lead(booked: Appointment, hours_before: float, lead: int | None) -> None:
    now = booked.starts_at - timedelta(hours=hours_before)
    assert reminders.due_lead(booked, [48, 2], now) == lead


def test_reminder_is_sent_once_with_instructions_and_ics(booked: Appointment) -> None:
    now = booked.starts_at - timedelta(hours=47)
    assert reminders.send_due_reminders(now=now) == 1
    assert reminders.send_due_reminders(now=now + timedelta(minutes=10)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.startswith("Lakeside Test Clinic: your visit on")
    for word in ("infusion", "ketamine", "depress"):
        assert word not in message.subject.lower()
    assert "Nothing to eat for 6 hours" in message.body
    assert "Bring an adult who will take you home" in message.body
    assert "Do not drive" in message.body
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("visit.ics", "text/calendar")
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == booked.starts_at
    assert "infusion" not in str(event.get("summary")).lower()
    # The 2-hour reminder is a second, separate claim.
    assert reminders.send_due_reminders(now=booked.starts_at - timedelta(hours=1)) == 1
    assert sorted(ReminderClaim.objects.values_list("lead_hours", flat=True)) == [2, 48]


def test_no_reminder_for_a_cancelled_visit(
    booked: Appointment, front_desk: User
) -> None:
    appointments.cancel_appointment(booked, reason="Unwell", now=NOW, by=front_desk)
    assert reminders.send_due_reminders(now=booked.starts_at - timedelta(hours=47)) == 0
    assert not mail.outbox


def test_a_failing_backend_keeps_no_claim_and_is_retried(
    booked: Appointment, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, fail_silently: bool = False) -> int:
        raise ConnectionError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", broken)
        with pytest.raises(reminders.RemindersFailed):
            reminders.send_due_reminders(now=booked.starts_at - timedelta(hours=47))
    assert not ReminderClaim.objects.exists()
    assert reminders.send_due_reminders(now=booked.starts_at - timedelta(hours=46)) == 1


def test_the_link_confirms_and_asks_to_move(
    booked: Appointment, client: Client, clock: Any
) -> None:
    url = f"/v/{messages.link_token(booked)}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Before you come" in page.content.decode()
    client.post(url, {"choice": "confirm"})
    booked.refresh_from_db()
    assert booked.status == "confirmed"
    client.post(url, {"choice": "move", "note": "Thursday is better"})
    booked.refresh_from_db()
    assert booked.status == "move_requested"
    last = booked.history.last()
    assert last is not None
    assert last.by is None
    assert last.reason == "Thursday is better"


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "x.y.z"])
def test_a_bad_link_is_refused_plainly(client: Client, token: str) -> None:
    response = client.get(f"/v/{token}/")
    assert response.status_code == 404
    assert "cannot be used" in response.content.decode()


def test_a_cancelled_visit_cannot_be_confirmed_from_the_link(
    booked: Appointment, client: Client, front_desk: User, clock: Any
) -> None:
    appointments.cancel_appointment(
        booked, reason="Clinic closed", now=NOW, by=front_desk
    )
    url = f"/v/{messages.link_token(booked)}/"
    page = client.get(url).content.decode()
    assert "I will be there" not in page
    response = client.post(url, {"choice": "confirm"})
    assert response.status_code == 200
    assert "cannot be confirmed" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == "cancelled"


def test_the_signed_in_portal_lists_visits_and_takes_a_choice(
    booked: Appointment,
    client: Client,
    front_desk: User,
    clock: Any,
    django_assert_max_num_queries: Any,
) -> None:
    from neuroclinic.portal.tests.test_portal import portal

    portal(client, booked.patient, front_desk)
    with django_assert_max_num_queries(11):
        page = client.get("/portal/visits/")
    assert page.status_code == 200
    assert "I will be there" in page.content.decode()
    assert (
        client.post(
            "/portal/visits/", {"visit": str(booked.uuid), "choice": "move"}
        ).status_code
        == 302
    )
    booked.refresh_from_db()
    assert booked.status == "move_requested"
    assert "call you" in client.get("/portal/visits/").content.decode()
    assert (
        client.post(
            "/portal/visits/", {"visit": "not-mine", "choice": "confirm"}
        ).status_code
        == 404
    )


def test_the_portal_visits_page_needs_a_portal_session(client: Client) -> None:
    assert client.get("/portal/visits/").status_code == 401
