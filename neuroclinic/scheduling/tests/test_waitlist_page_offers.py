# ruff: noqa: F811 - the fixtures imported below are used by name as arguments
"""Accepting and declining a waitlist offer on the patient's behalf from the waitlist page
(issue 9 item 8): the same service functions as the API, access through
scheduling/access.py, audited, bad input refused with a message and nothing written."""

from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.scheduling.models import Appointment, WaitlistOffer

# The API tests' fixtures (Ada's visit cancelled, Bo offered it, Cy waiting behind).
from neuroclinic.scheduling.tests.test_waitlist_api import (  # noqa: F401
    offered,
    people,
    phone_type,
)

pytestmark = pytest.mark.django_db


def answer_url(offer: WaitlistOffer) -> str:
    return f"/schedule/waitlist/offers/{offer.uuid}/answer"


def said(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_the_page_shows_the_open_offer_with_both_buttons(
    as_persona: Callable[[str], Client], offered: WaitlistOffer
) -> None:
    page = as_persona("front_desk").get("/schedule/waitlist/")
    assert page.status_code == 200
    html = page.content.decode()
    assert answer_url(offered) in html
    assert 'value="accept"' in html
    assert 'value="decline"' in html
    # Cy, still waiting, has no offer to answer.
    assert html.count(answer_url(offered)) == 1


def test_accepting_books_the_time_in_the_staff_members_name(
    as_persona: Callable[[str], Client], offered: WaitlistOffer, front_desk: User
) -> None:
    response = as_persona("front_desk").post(answer_url(offered), {"choice": "accept"})
    assert response.status_code == 302
    booked = Appointment.objects.get(patient=offered.entry.patient)
    assert booked.starts_at == offered.starts_at
    assert booked.booked_by == front_desk
    assert booked.booked_via == Appointment.BookedVia.STAFF
    offered.refresh_from_db()
    assert offered.status == WaitlistOffer.Status.ACCEPTED
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, subject_id=str(booked.uuid)
    )
    assert event.actor == front_desk
    assert event.data["offer"] == str(offered.uuid)


def test_declining_keeps_the_place_and_passes_the_time_on(
    as_persona: Callable[[str], Client], offered: WaitlistOffer, front_desk: User
) -> None:
    response = as_persona("front_desk").post(answer_url(offered), {"choice": "decline"})
    assert response.status_code == 302
    offered.refresh_from_db()
    assert offered.status == WaitlistOffer.Status.DECLINED
    assert not Appointment.objects.filter(patient=offered.entry.patient).exists()
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.WAITLIST_OFFER_DECLINED, subject_id=str(offered.uuid)
    )
    assert event.actor == front_desk
    # The next in line (Cy) is offered the time.
    nxt = WaitlistOffer.objects.get(status=WaitlistOffer.Status.OPEN)
    assert nxt.entry.patient.given_name == "Cy"


@pytest.mark.parametrize("choice", ["", "maybe", "ACCEPT"])
def test_a_bad_choice_is_refused_with_a_message_and_nothing_written(
    as_persona: Callable[[str], Client], offered: WaitlistOffer, choice: str
) -> None:
    events = AuditEvent.objects.count()
    response = as_persona("front_desk").post(answer_url(offered), {"choice": choice})
    assert response.status_code == 302
    assert said(response) == ["Choose to accept the offer or to decline it."]
    offered.refresh_from_db()
    assert offered.status == WaitlistOffer.Status.OPEN
    assert not Appointment.objects.filter(patient=offered.entry.patient).exists()
    assert AuditEvent.objects.count() == events


def test_an_answered_offer_cannot_be_answered_again(
    as_persona: Callable[[str], Client], offered: WaitlistOffer
) -> None:
    client = as_persona("front_desk")
    client.post(answer_url(offered), {"choice": "accept"})
    again = client.post(answer_url(offered), {"choice": "accept"})
    assert again.status_code == 302
    assert any("offer" in m.lower() for m in said(again))
    assert Appointment.objects.filter(patient=offered.entry.patient).count() == 1
    declined = client.post(answer_url(offered), {"choice": "decline"})
    assert declined.status_code == 302
    offered.refresh_from_db()
    assert offered.status == WaitlistOffer.Status.ACCEPTED


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_answer(
    persona: str, as_persona: Callable[[str], Client], offered: WaitlistOffer
) -> None:
    response = as_persona(persona).post(answer_url(offered), {"choice": "decline"})
    expected = expected_status(
        persona,
        personas_with(Capability.BOOK_APPOINTMENTS),
        ok=302,
        outsider=404,
    )
    assert response.status_code == expected
    offered.refresh_from_db()
    # (Anonymous is a 302 too: to sign-in, answering nothing.)
    if persona in personas_with(Capability.BOOK_APPOINTMENTS):
        assert offered.status == WaitlistOffer.Status.DECLINED
    else:
        assert offered.status == WaitlistOffer.Status.OPEN


def test_a_get_is_not_an_answer(
    as_persona: Callable[[str], Client], offered: WaitlistOffer
) -> None:
    assert as_persona("front_desk").get(answer_url(offered)).status_code == 405
