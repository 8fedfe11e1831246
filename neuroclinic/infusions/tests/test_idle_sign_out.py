"""Idle sign-out on the screens that poll (ONC 170.315(d)(5)).

The board polls every second and the infusion screen every two; those requests
must not count as activity, or an unattended screen stays signed in forever.
The clock is moved by patching `django.utils.timezone.now`, which the session
store and IdleTimeoutMiddleware both read.

Issue #15 item 4.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Location
from neuroclinic.infusions.models import InfusionSession

Clock = Callable[[timedelta], None]


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Move "now" forward by a timedelta from the real time when the test began."""
    start = timezone.now()
    offset = [timedelta(0)]

    def now() -> datetime:
        return start + offset[0]

    def advance(by: timedelta) -> None:
        offset[0] += by

    with mock.patch("django.utils.timezone.now", now):
        yield advance


IDLE = timedelta(minutes=settings.IDLE_TIMEOUT_MINUTES)
HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/infusions/board/"}


def polls(client: Client, url: str, clock: Clock, *, for_: timedelta) -> int:
    """Poll `url` every minute for `for_`; the last answer's status."""
    status = 0
    for _ in range(int(for_ / timedelta(minutes=1))):
        clock(timedelta(minutes=1))
        status = client.get(url, headers=HX).status_code
    return status


def test_the_board_polling_does_not_keep_an_idle_screen_signed_in(
    client: Client, nurse: User, location: Location, clock: Clock
) -> None:
    login(client, nurse)
    url = reverse("infusions:board_rooms", args=[location.uuid])
    assert client.get(url, headers=HX).status_code == 200

    status = polls(client, url, clock, for_=IDLE + timedelta(minutes=2))

    assert status == 401
    response = client.get(url, headers=HX)
    assert response["HX-Redirect"] == "/accounts/sign-in/?next=/infusions/board/"
    assert client.get(reverse("home")).status_code == 302


def test_the_infusion_screen_polling_does_not_keep_it_signed_in(
    client: Client, nurse: User, session: InfusionSession, clock: Clock
) -> None:
    login(client, nurse)
    client.get(reverse("infusions:session", args=[session.uuid]))
    url = reverse("infusions:live", args=[session.uuid])

    assert polls(client, url, clock, for_=IDLE + timedelta(minutes=2)) == 401
    assert client.get(f"{url}?part=readings", headers=HX).status_code == 401


def test_a_page_request_is_activity_and_keeps_the_polling_screen_signed_in(
    client: Client, nurse: User, location: Location, clock: Clock
) -> None:
    login(client, nurse)
    url = reverse("infusions:board_rooms", args=[location.uuid])
    for _ in range(3):  # three idle periods, each with one real page view in it
        assert polls(client, url, clock, for_=IDLE - timedelta(minutes=3)) == 200
        assert client.get(reverse("infusions:board")).status_code == 200

    assert client.get(url, headers=HX).status_code == 200


def test_a_polled_fragment_without_htmx_is_sent_to_sign_in_as_a_page(
    client: Client, location: Location
) -> None:
    url = reverse("infusions:board_rooms", args=[location.uuid])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/?next=")


def test_the_steps_polling_does_not_keep_the_tablet_signed_in(
    client: Client, nurse: User, session: InfusionSession, clock: Clock
) -> None:
    """Issue 18: the steps refresh themselves by polling, which is not activity either."""
    login(client, nurse)
    client.get(reverse("infusions:session", args=[session.uuid]))
    url = reverse("infusions:steps", args=[session.uuid]) + "?v=x"

    assert polls(client, url, clock, for_=IDLE + timedelta(minutes=2)) == 401
