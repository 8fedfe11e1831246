"""Refused anonymous input is on the audit log in aggregate, never one row per try.

Each path that refuses something an anonymous caller sent: a bearer token on the
API, a questionnaire link, a portal sign-in link. 30 bogus tokens used to make
30 permanent events.

Issue #15 item 5.
"""

from collections.abc import Callable

import pytest
from django.test import Client

from neuroclinic.audit import refusals as refusals_module
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.refusals import WINDOW_SECONDS

Action = AuditEvent.Action


def bogus_token(client: Client, address: str) -> int:
    return client.get(
        "/api/patients",
        headers={"Authorization": "Bearer nc_made-up-value-of-some-length"},
        REMOTE_ADDR=address,
    ).status_code


def bogus_questionnaire_link(client: Client, address: str) -> int:
    return client.get("/q/not-a-real-link-token/", REMOTE_ADDR=address).status_code


def bogus_sign_in_link(client: Client, address: str) -> int:
    return client.post(
        "/portal/sign-in/not-a-real-link-token/", REMOTE_ADDR=address
    ).status_code


PATHS: list[tuple[Callable[[Client, str], int], Action, int]] = [
    (bogus_token, Action.TOKEN_REFUSED, 401),
    (bogus_questionnaire_link, Action.PORTAL_LINK_REFUSED, 410),
    (bogus_sign_in_link, Action.PORTAL_SIGN_IN_REFUSED, 410),
]
IDS = ["api-token", "questionnaire-link", "portal-sign-in-link"]


def refusals(action: Action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


@pytest.mark.parametrize(("attempt", "action", "status"), PATHS, ids=IDS)
def test_thirty_refusals_from_one_address_write_two_events(
    client: Client,
    db: None,
    attempt: Callable[[Client, str], int],
    action: Action,
    status: int,
) -> None:
    statuses = [attempt(client, "192.0.2.1") for _ in range(30)]

    assert statuses == [status] * 30
    first, tenth = refusals(action)
    assert first.source_ip == tenth.source_ip == "192.0.2.1"
    assert first.outcome == tenth.outcome == AuditEvent.Outcome.DENIED
    assert first.data["window_seconds"] == WINDOW_SECONDS
    assert "refusals_from_source" not in first.data
    assert tenth.data["refusals_from_source"] == 10


@pytest.mark.parametrize(("attempt", "action", "status"), PATHS, ids=IDS)
def test_each_address_has_its_first_refusal_recorded(
    client: Client,
    db: None,
    attempt: Callable[[Client, str], int],
    action: Action,
    status: int,
) -> None:
    attempt(client, "192.0.2.1")
    attempt(client, "192.0.2.1")
    attempt(client, "198.51.100.7")

    assert [e.source_ip for e in refusals(action)] == ["192.0.2.1", "198.51.100.7"]


def test_many_addresses_at_once_are_recorded_in_aggregate_past_a_cap(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same rule with a cap of 10 rather than 100: 100 requests, not 1,000.
    monkeypatch.setattr(refusals_module, "FIRSTS_PER_WINDOW", 10)
    cap = refusals_module.FIRSTS_PER_WINDOW
    tries = cap * 10
    for n in range(tries):
        bogus_token(client, f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")

    events = refusals(Action.TOKEN_REFUSED)
    assert len(events) == cap + 1
    assert all("refusals_from_all_sources" not in e.data for e in events[:cap])
    assert events[-1].data["refusals_from_all_sources"] == tries
