"""Personal API tokens: made and revoked on the command line, used as bearer tokens."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import ApiToken, User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.patients.models import Patient

Action = AuditEvent.Action
PATIENTS = "/api/patients"


def create_token(username: str) -> str:
    out = StringIO()
    call_command("token", "create", username, stdout=out)
    return out.getvalue().strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_a_new_token_authenticates_the_api_and_each_use_is_recorded(
    client: Client, nurse: User, patient: Patient
) -> None:
    raw = create_token("nurse")

    response = client.get(PATIENTS, headers=bearer(raw))

    assert raw.startswith("nc_")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [str(patient.uuid)]
    token = ApiToken.objects.get(user=nurse)
    assert token.last_used_at is not None
    assert token.prefix == raw[:10]
    created = AuditEvent.objects.get(action=Action.TOKEN_CREATED)
    assert created.actor == nurse
    assert created.subject_id == str(token.uuid)
    used = AuditEvent.objects.get(action=Action.TOKEN_USED)
    assert used.actor == nurse
    assert used.subject_id == str(token.uuid)
    assert events(Action.TOKEN_REFUSED) == []


def test_only_the_tokens_hash_is_stored(nurse: User) -> None:
    raw = create_token("nurse")

    token = ApiToken.objects.get(user=nurse)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(raw in str(value) for value in row.values())
    assert not any(
        raw in str(value)
        for event in AuditEvent.objects.values()
        for value in event.values()
    )


def test_a_revoked_token_is_refused_with_a_problem_document(
    client: Client, nurse: User
) -> None:
    raw = create_token("nurse")
    out = StringIO()

    call_command("token", "revoke", raw[:10], stdout=out)
    response = client.get(PATIENTS, headers=bearer(raw))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"] == "Bearer"
    token = ApiToken.objects.get(user=nurse)
    assert token.revoked_at is not None
    assert token.last_used_at is None
    assert AuditEvent.objects.get(action=Action.TOKEN_REVOKED).subject_id == str(
        token.uuid
    )
    refused = AuditEvent.objects.get(action=Action.TOKEN_REFUSED)
    assert refused.actor is None
    assert refused.outcome == AuditEvent.Outcome.DENIED
    assert refused.data == {"prefix": raw[:10], "window_seconds": 900}
    assert events(Action.TOKEN_USED) == []


def test_an_unknown_token_is_refused_and_recorded(client: Client, db: None) -> None:
    response = client.get(PATIENTS, headers=bearer("nc_made-up-value-of-some-length"))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.get(action=Action.TOKEN_REFUSED).data == {
        "prefix": "nc_made-up",
        "window_seconds": 900,
    }


def test_a_deactivated_users_token_is_refused(client: Client, nurse: User) -> None:
    raw = create_token("nurse")
    User.objects.filter(pk=nurse.pk).update(is_active=False)

    response = client.get(PATIENTS, headers=bearer(raw))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert ApiToken.objects.get(user=nurse).last_used_at is None
    assert len(events(Action.TOKEN_REFUSED)) == 1
    assert events(Action.TOKEN_USED) == []


def test_a_token_carries_only_its_users_role(
    client: Client, custodian: User, patient: Patient
) -> None:
    raw = create_token("custodian")

    response = client.get(PATIENTS, headers=bearer(raw))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "Testova" not in response.content.decode()


def test_a_token_sees_only_its_own_organizations_patients(
    client: Client, outsider: User, patient: Patient
) -> None:
    raw = create_token("outsider")

    response = client.get(PATIENTS, headers=bearer(raw))

    assert response.status_code == 200
    assert response.json()["items"] == []


def test_a_session_without_a_second_factor_cannot_use_the_api(
    client: Client, nurse: User, patient: Patient
) -> None:
    client.force_login(nurse)

    response = client.get(PATIENTS)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_verified_session_can_use_the_api(
    client: Client, nurse: User, patient: Patient
) -> None:
    login(client, nurse)

    response = client.get(PATIENTS)

    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


def test_a_token_for_an_unknown_user_is_refused_and_nothing_is_written(
    db: None,
) -> None:
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("token", "create", "ghost", stdout=StringIO())

    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_deactivated_user_cannot_be_given_a_token(nurse: User) -> None:
    User.objects.filter(pk=nurse.pk).update(is_active=False)

    with pytest.raises(CommandError, match="deactivated"):
        call_command("token", "create", "nurse", stdout=StringIO())

    assert not ApiToken.objects.exists()
    assert events(Action.TOKEN_CREATED) == []


def test_revoking_an_unknown_prefix_fails_and_changes_nothing(nurse: User) -> None:
    create_token("nurse")

    with pytest.raises(CommandError, match="No single active token"):
        call_command("token", "revoke", "nc_nothing", stdout=StringIO())

    assert ApiToken.objects.get(user=nurse).revoked_at is None
    assert events(Action.TOKEN_REVOKED) == []


def test_revoking_twice_fails_the_second_time(nurse: User) -> None:
    raw = create_token("nurse")
    call_command("token", "revoke", raw[:10], stdout=StringIO())

    with pytest.raises(CommandError):
        call_command("token", "revoke", raw[:10], stdout=StringIO())

    assert len(events(Action.TOKEN_REVOKED)) == 1


def test_listing_tokens_shows_prefixes_and_states_never_values(nurse: User) -> None:
    revoked = create_token("nurse")
    call_command("token", "revoke", revoked[:10], stdout=StringIO())
    active = create_token("nurse")
    out = StringIO()

    call_command("token", "list", "nurse", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    listing = out.getvalue()
    assert active not in listing
    assert revoked not in listing
    assert any(line.startswith(active[:10]) and "active" in line for line in lines)
    assert any(line.startswith(revoked[:10]) and "revoked" in line for line in lines)
