"""The staff inbox: what `notify` stores and sends, who sees it, and opening an entry."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from conftest import EVERYONE, assert_sent_to_sign_in, expected_status
from neuroclinic.accounts.models import User
from neuroclinic.notifications.actions import mark_read, notify
from neuroclinic.notifications.models import Notification

PageQueries = Callable[[int], Any]


def test_a_notification_lands_in_the_recipients_inbox_for_their_clinic(
    prescriber: User,
) -> None:
    notification = notify(
        prescriber,
        subject="A patient needs a risk assessment",
        body="Open the alert to assess it.",
        link="/measures/alerts/",
    )

    stored = Notification.objects.get()
    assert stored == notification
    assert (stored.recipient, stored.organization_id) == (
        prescriber,
        prescriber.organization_id,
    )
    assert stored.urgency == Notification.Urgency.NORMAL
    assert stored.read_at is None


def test_only_an_urgent_notification_is_emailed_and_only_after_the_commit(
    prescriber: User, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "http://clinic.example.test/"
    prescriber.email = "prescriber@example.com"
    prescriber.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=False) as pending:
        notify(prescriber, subject="Routine", link="/inbox/")
        notify(
            prescriber,
            subject="Safety alert: a patient needs a risk assessment",
            body="Casey Testova answered item 9 with 'nearly every day'.",
            link="/measures/alerts/0b7a9a4e-0000-4000-8000-000000000000/",
            urgent=True,
        )
    assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in pending:
        callback()

    [message] = mail.outbox
    assert message.to == ["prescriber@example.com"]
    assert message.subject == (
        "[Neuroclinic] Safety alert: a patient needs a risk assessment"
    )
    # The email says only that something needs attention, and where: no body, no names.
    # The link is absolute: a mail client cannot open a path.
    assert (
        "http://clinic.example.test/measures/alerts/0b7a9a4e-0000-4000-8000-000000000000/"
        in message.body.splitlines()
    )
    assert "Testova" not in message.body
    assert "item 9" not in message.body


def test_an_urgent_notification_to_someone_without_an_email_stays_in_the_inbox(
    prescriber: User, django_capture_on_commit_callbacks: Any
) -> None:
    assert prescriber.email == ""

    with django_capture_on_commit_callbacks(execute=True):
        notify(prescriber, subject="Escalated", urgent=True)

    assert mail.outbox == []
    assert Notification.objects.get().urgency == Notification.Urgency.URGENT


def test_marking_read_keeps_the_first_reading_time(prescriber: User) -> None:
    notification = notify(prescriber, subject="Read me")

    mark_read(notification)
    first = notification.read_at
    mark_read(notification)

    notification.refresh_from_db()
    assert first is not None
    assert notification.read_at == first


# The inbox page


@pytest.mark.parametrize("persona", EVERYONE)
def test_every_member_of_staff_has_an_inbox(
    as_persona: Callable[[str], Client], persona: str
) -> None:
    response = as_persona(persona).get("/inbox/")

    # Everyone signed in reads their own inbox, the outsider included.
    assert response.status_code == expected_status(
        persona, set(EVERYONE) - {"anonymous"}
    )
    if persona == "anonymous":
        assert_sent_to_sign_in(response)


def test_the_inbox_shows_only_ones_own_notifications_newest_first(
    as_persona: Callable[[str], Client], nurse: User, prescriber: User
) -> None:
    notify(nurse, subject="Older for the nurse")
    notify(nurse, subject="Newer for the nurse")
    notify(prescriber, subject="For the prescriber only")

    html = as_persona("nurse").get("/inbox/").content.decode()

    assert html.index("Newer for the nurse") < html.index("Older for the nurse")
    assert "For the prescriber only" not in html
    assert '<span class="badge" aria-label="2 unread">2</span>' in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(
    as_persona: Callable[[str], Client], nurse: User
) -> None:
    notification = notify(nurse, subject="See the worklist", link="/measures/worklist/")

    response = as_persona("nurse").post(f"/inbox/{notification.uuid}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/measures/worklist/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_link_to_another_site_is_not_followed(
    as_persona: Callable[[str], Client], nurse: User
) -> None:
    notification = notify(nurse, subject="Odd link", link="https://evil.example.com/")

    response = as_persona("nurse").post(f"/inbox/{notification.uuid}/open/")

    assert response["Location"] == "/inbox/"


def test_someone_elses_notification_is_not_found_and_stays_unread(
    as_persona: Callable[[str], Client], prescriber: User
) -> None:
    theirs = notify(prescriber, subject="For the prescriber only")

    response = as_persona("nurse").post(f"/inbox/{theirs.uuid}/open/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_needs_a_post(as_persona: Callable[[str], Client], nurse: User) -> None:
    notification = notify(nurse, subject="Not by GET")

    response = as_persona("nurse").get(f"/inbox/{notification.uuid}/open/")

    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_inbox_costs_the_same_queries_however_many_notifications(
    as_persona: Callable[[str], Client],
    nurse: User,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("nurse")
    notify(nurse, subject="First")
    client.get("/inbox/")  # the first request after sign-in warms the session

    with django_assert_num_queries(10):
        assert client.get("/inbox/").status_code == 200
    for n in range(15):
        notify(nurse, subject=f"More {n}", urgent=n % 2 == 0)
    with django_assert_num_queries(10):
        assert client.get("/inbox/").status_code == 200


def test_a_mail_server_that_is_down_does_not_undo_the_notification(
    prescriber: User,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    prescriber.email = "prescriber@example.com"
    prescriber.save(update_fields=["email"])
    # Nothing listens on port 1: a real SMTP connection that is refused.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }

    with django_capture_on_commit_callbacks(execute=True):
        notify(prescriber, subject="Escalated", urgent=True)

    assert Notification.objects.filter(recipient=prescriber).exists()
    assert "Could not email an urgent notification" in caplog.text
