"""A live bearer token is answered from memory for API_TOKEN_CACHE_SECONDS, and a
revocation, a lockout, an expiry or a change of roles still holds.

The root conftest turns the cache off for every other test; these turn it on.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from neuroclinic.accounts import actions
from neuroclinic.accounts.models import ApiToken, User
from neuroclinic.accounts.roles import Role

PATIENTS = "/api/patients"


@pytest.fixture
def cache_on(settings: Settings) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 5
    actions.forget_api_tokens()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(actions, "_clock", lambda: now[0])
    return now


def _token(user: User) -> tuple[ApiToken, str]:
    return actions.create_api_token(user, name="test", by=user)


def _token_queries(raw: str) -> int:
    with CaptureQueriesContext(connection) as seen:
        assert actions.authenticate_api_token(raw) is not None
    return sum("accounts_apitoken" in q["sql"] for q in seen.captured_queries)


@pytest.mark.usefixtures("cache_on")
def test_a_live_token_is_looked_up_once_then_answered_from_memory(
    nurse: User, clock: list[float]
) -> None:
    _, raw = _token(nurse)
    assert _token_queries(raw) >= 1
    with CaptureQueriesContext(connection) as seen:
        token = actions.authenticate_api_token(raw)
    assert token is not None
    assert token.user == nurse
    assert seen.captured_queries == []  # no token, user or group query
    assert token.user.can(next(iter(token.user.capabilities)))
    clock[0] += 5
    assert _token_queries(raw) >= 1  # looked up again after the bound


@pytest.mark.usefixtures("cache_on")
def test_a_revocation_holds_at_once_in_this_process(
    client: Client, nurse: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    token, raw = _token(nurse)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(PATIENTS, headers=headers).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        actions.revoke_api_token(token, by=nurse)
    assert client.get(PATIENTS, headers=headers).status_code == 401


@pytest.mark.usefixtures("cache_on")
def test_a_revocation_by_another_process_holds_within_the_bound(
    client: Client, nurse: User, clock: list[float]
) -> None:
    token, raw = _token(nurse)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(PATIENTS, headers=headers).status_code == 200
    # `neuroclinic token revoke` in another process: this one's memory is not told.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    clock[0] += 4.9
    assert client.get(PATIENTS, headers=headers).status_code == 200
    clock[0] += 0.1
    assert client.get(PATIENTS, headers=headers).status_code == 401


@pytest.mark.usefixtures("cache_on")
def test_an_expiry_and_a_lockout_are_checked_on_every_hit(
    nurse: User, clock: list[float]
) -> None:
    token, raw = _token(nurse)
    assert actions.authenticate_api_token(raw) is not None
    cached = actions._live_tokens[token.token_hash][1]
    cached.expires_at = timezone.now() - timedelta(seconds=1)
    assert actions.authenticate_api_token(raw) is not None  # looked up again: live
    cached = actions._live_tokens[token.token_hash][1]
    cached.user.locked_until = timezone.now() + timedelta(minutes=5)
    with CaptureQueriesContext(connection):
        again = actions.authenticate_api_token(raw)
    assert again is not None
    assert not again.user.is_locked()  # the database's user, not the stale copy
    User.objects.filter(pk=nurse.pk).update(
        locked_until=timezone.now() + timedelta(minutes=5)
    )
    actions._live_tokens[token.token_hash][1].user.locked_until = (
        timezone.now() + timedelta(minutes=5)
    )
    assert actions.authenticate_api_token(raw) is None


@pytest.mark.usefixtures("cache_on")
def test_a_change_of_roles_empties_the_cache(
    admin: User,
    nurse: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    token, raw = _token(nurse)
    assert actions.authenticate_api_token(raw) is not None
    assert token.token_hash in actions._live_tokens
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_user(
            nurse,
            by=admin,
            roles=[Role.FRONT_DESK],
            **_same_fields(nurse),
        )
    assert actions._live_tokens == {}
    found = actions.authenticate_api_token(raw)
    assert found is not None
    assert found.user.roles == frozenset({Role.FRONT_DESK})


def test_with_the_cache_off_every_call_looks_the_token_up(nurse: User) -> None:
    _, raw = _token(nurse)
    assert _token_queries(raw) >= 1
    assert _token_queries(raw) >= 1
    assert actions._live_tokens == {}


def _same_fields(user: User) -> dict[str, Any]:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "title": user.title,
        "is_active": user.is_active,
    }
