"""API tokens expire, die with a lockout or a deactivation, name themselves in each
request's audit events, and have their use recorded once per few minutes.

Issue #15 item 8.
"""

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts import actions
from neuroclinic.accounts.actions import TOKEN_USE_RECORD_SECONDS
from neuroclinic.accounts.models import ApiToken, TokenScope, User
from neuroclinic.accounts.tests.test_users import user_form_data
from neuroclinic.audit.models import AuditEvent
from neuroclinic.patients.models import Patient

Action = AuditEvent.Action
PATIENTS = "/api/patients"


def make_token(user: User, **kwargs: object) -> tuple[ApiToken, dict[str, str]]:
    token, raw = actions.create_api_token(user, name="test", by=user, **kwargs)  # type: ignore[arg-type]
    return token, {"Authorization": f"Bearer {raw}"}


def test_a_new_token_expires_after_90_days_by_default(nurse: User) -> None:
    token, _ = make_token(nurse)

    expected = timezone.now() + timedelta(days=90)
    assert token.expires_at is not None
    assert abs(token.expires_at - expected) < timedelta(minutes=1)


def test_the_term_is_configurable(nurse: User, settings: Settings) -> None:
    settings.API_TOKEN_DAYS = 7

    token, _ = make_token(nurse)

    assert token.expires_at is not None
    assert token.expires_at - timezone.now() < timedelta(days=7, minutes=1)


def test_an_expired_token_is_refused(client: Client, nurse: User) -> None:
    token, headers = make_token(nurse)
    assert client.get(PATIENTS, headers=headers).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(PATIENTS, headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_token_from_before_expiry_existed_is_refused(
    client: Client, nurse: User
) -> None:
    token, headers = make_token(nurse)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)

    assert client.get(PATIENTS, headers=headers).status_code == 401


def test_the_command_takes_a_term_and_a_scope_and_lists_them(nurse: User) -> None:
    out = StringIO()
    call_command(
        "token", "create", "nurse", "--days", "30", "--scope", "vitals", stdout=out
    )
    token = ApiToken.objects.get(user=nurse)
    listing = StringIO()
    call_command("token", "list", "nurse", stdout=listing)

    assert token.scope == TokenScope.VITALS
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() < timedelta(days=30, minutes=1)
    assert "vitals" in listing.getvalue()
    assert f"expires {token.expires_at:%Y-%m-%d}" in listing.getvalue()
    with pytest.raises(CommandError):
        call_command("token", "create", "nurse", "--days", "0", stdout=StringIO())


def test_a_lockout_revokes_every_token(
    client: Client, nurse: User, settings: Settings
) -> None:
    token, headers = make_token(nurse)

    for _ in range(settings.LOCKOUT_THRESHOLD):
        Client().post(
            "/accounts/sign-in/", {"username": "nurse", "password": "wrong-password"}
        )

    token.refresh_from_db()
    assert token.revoked_at is not None
    revoked = AuditEvent.objects.get(action=Action.TOKEN_REVOKED)
    assert revoked.data["reason"] == "locked out"
    assert client.get(PATIENTS, headers=headers).status_code == 401
    # The lockout ends; the token stays revoked.
    User.objects.filter(pk=nurse.pk).update(locked_until=None)
    assert client.get(PATIENTS, headers=headers).status_code == 401


def test_a_locked_accounts_token_is_refused(client: Client, nurse: User) -> None:
    _, headers = make_token(nurse)
    User.objects.filter(pk=nurse.pk).update(
        locked_until=timezone.now() + timedelta(minutes=5)
    )

    assert client.get(PATIENTS, headers=headers).status_code == 401


def test_deactivating_a_member_revokes_their_tokens(
    client: Client, admin: User, nurse: User
) -> None:
    token, headers = make_token(nurse)
    login(client, admin)

    client.post(f"/accounts/staff/{nurse.uuid}/", user_form_data(nurse, is_active=""))

    token.refresh_from_db()
    assert token.revoked_at is not None
    revoked = AuditEvent.objects.get(action=Action.TOKEN_REVOKED)
    assert revoked.actor == admin
    assert revoked.data["reason"] == "deactivated"
    # Reactivated, the member signs in again; the old token stays dead.
    User.objects.filter(pk=nurse.pk).update(is_active=True)
    assert Client().get(PATIENTS, headers=headers).status_code == 401


def test_other_edits_leave_tokens_alone(
    client: Client, admin: User, nurse: User
) -> None:
    token, _ = make_token(nurse)
    login(client, admin)

    client.post(f"/accounts/staff/{nurse.uuid}/", user_form_data(nurse, title="RN"))

    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_password_sign_in_with_the_right_password_revokes_nothing(
    nurse: User,
) -> None:
    token, _ = make_token(nurse)

    Client().post(
        "/accounts/sign-in/", {"username": "nurse", "password": TEST_PASSWORD}
    )

    token.refresh_from_db()
    assert token.revoked_at is None


# Use recorded sparsely; each request's events name the token -------------------


def test_token_use_is_recorded_once_per_few_minutes(
    client: Client, nurse: User
) -> None:
    token, headers = make_token(nurse)

    for _ in range(5):
        assert client.get(PATIENTS, headers=headers).status_code == 200
    assert AuditEvent.objects.filter(action=Action.TOKEN_USED).count() == 1

    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(seconds=TOKEN_USE_RECORD_SECONDS)
    )
    client.get(PATIENTS, headers=headers)

    assert AuditEvent.objects.filter(action=Action.TOKEN_USED).count() == 2
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_each_event_a_token_request_records_names_the_token(
    client: Client, nurse: User, patient: Patient
) -> None:
    token, headers = make_token(nurse)
    client.get(PATIENTS, headers=headers)  # the use itself, recorded once
    # Event numbers are unique and rising, not consecutive (a PostgreSQL sequence).
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]

    response = client.get(f"{PATIENTS}/{patient.uuid}", headers=headers)

    assert response.status_code == 200
    read = AuditEvent.objects.filter(seq__gt=before).get()
    assert read.actor == nurse
    assert read.patient_id == patient.pk
    assert read.data["api_token"] == str(token.uuid)


def test_a_browser_sessions_events_name_no_token(
    client: Client, nurse: User, patient: Patient
) -> None:
    make_token(nurse)
    login(client, nurse)

    client.get(f"{PATIENTS}/{patient.uuid}")

    read = AuditEvent.objects.filter(patient_id=patient.pk).latest("seq")
    assert "api_token" not in read.data


def test_a_vitals_token_may_call_nothing_else(
    client: Client, nurse: User, staff: Callable[[str], User]
) -> None:
    _, headers = make_token(nurse, scope=TokenScope.VITALS)

    for method, url in [
        ("get", PATIENTS),
        ("post", "/api/patients/search"),
        ("post", "/api/infusions/dose-calculation"),
        ("get", "/api/consult-requests"),
    ]:
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 403, url
        assert response["Content-Type"] == "application/problem+json"


def test_a_recently_used_token_costs_one_read_and_no_write(
    client: Client, nurse: User, django_assert_num_queries: Any
) -> None:
    _, headers = make_token(nurse)
    score = "/api/instruments/phq2/score"
    body = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    client.post(score, body, content_type="application/json", headers=headers)

    with django_assert_num_queries(1) as captured:  # the token (and its user)
        response = client.post(
            score, body, content_type="application/json", headers=headers
        )

    assert response.status_code == 200
    assert "SAVEPOINT" not in " ".join(q["sql"] for q in captured.captured_queries)
