"""SMART Backend Services: a client signs a JWT, gets a short-lived token, reads and
exports within its scopes; every bad assertion is refused with an OAuth error."""

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.interop.actions import InteropError, smart
from neuroclinic.interop.fhir.scopes import granted, may_read, readable
from neuroclinic.interop.models import BulkExport, SmartAccessToken, SmartClient
from neuroclinic.patients.models import Patient

TOKEN_URL = "http://testserver/fhir/auth/token"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())


def pem(key: Any) -> str:
    text: str = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    return text


def assertion(key: Any = RSA_KEY, alg: str = "RS384", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": "registry",
        "sub": "registry",
        "aud": TOKEN_URL,
        "exp": now + 240,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    for name in [k for k, v in body.items() if v is None]:
        del body[name]
    signed: str = jwt.encode(body, key, algorithm=alg)
    return signed


def ask(client: Client, signed: str, scope: str = "system/*.read", **form: str) -> Any:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": smart.ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": scope,
    } | form
    return client.post(
        "/fhir/auth/token",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )


@pytest.fixture
def registry(director: User) -> SmartClient:
    return smart.register_client(
        client_id="registry",
        name="State registry",
        user=director,
        public_key_pem=pem(RSA_KEY),
        scopes=["system/*.read"],
        by=director,
    )


def test_client_credentials_then_read(
    registry: SmartClient, patient: Patient, client: Client
) -> None:
    response = ask(client, assertion())
    assert response.status_code == 200, response.content
    issued = response.json()
    assert issued["token_type"] == "bearer"
    assert issued["expires_in"] == 300
    headers = {"Authorization": f"Bearer {issued['access_token']}"}
    assert (
        client.get(f"/fhir/Patient/{patient.uuid}", headers=headers).status_code == 200
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_READ_API, actor=registry.user
    ).exists()


def test_an_ec_key_works(director: User, client: Client) -> None:
    smart.register_client(
        client_id="registry",
        name="r",
        user=director,
        public_key_pem=pem(EC_KEY),
        scopes=["system/*.rs"],
        by=None,
    )
    assert (
        ask(client, assertion(EC_KEY, "ES384"), scope="system/Patient.rs").status_code
        == 200
    )


def test_scopes_narrow_what_the_token_reads(
    registry: SmartClient, patient: Patient, client: Client
) -> None:
    token = ask(client, assertion(), scope="system/Patient.read").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/fhir/Patient", headers=headers).status_code == 200
    assert client.get("/fhir/Observation", headers=headers).status_code == 403
    export = client.get(
        "/fhir/Patient/$export", headers=headers | {"Prefer": "respond-async"}
    )
    # Without _type the export holds only the types the token may read (Bulk Data:
    # the server limits the data to what the client is authorised for).
    assert export.status_code == 202
    uuid_in_location = export["Content-Location"].rsplit("/", 1)[1]
    assert BulkExport.objects.get(uuid=uuid_in_location).resource_types == ["Patient"]
    refused = client.get(
        "/fhir/Patient/$export",
        {"_type": "Patient,Observation"},
        headers=headers | {"Prefer": "respond-async"},
    )
    assert refused.status_code == 403  # a type asked for by name must be readable
    only = client.get(
        "/fhir/Patient/$export",
        {"_type": "Patient"},
        headers=headers | {"Prefer": "respond-async"},
    )
    assert only.status_code == 202
    imported = client.post(
        "/fhir/", "{}", content_type="application/fhir+json", headers=headers
    )
    assert imported.status_code == 403


def test_expired_and_revoked_tokens_are_refused(
    registry: SmartClient, patient: Patient, client: Client
) -> None:
    token = ask(client, assertion()).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    SmartAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/fhir/Patient", headers=headers).status_code == 401
    token = ask(client, assertion()).json()["access_token"]
    smart.revoke_client(registry, by=None)
    assert (
        client.get(
            "/fhir/Patient", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )
    assert ask(client, assertion()).status_code == 401


@pytest.mark.parametrize(
    ("make", "form", "error"),
    [
        (lambda: assertion(OTHER_KEY), {}, "invalid_client"),
        (lambda: assertion(exp=int(time.time()) - 120), {}, "invalid_client"),
        (lambda: assertion(exp=int(time.time()) + 3600), {}, "invalid_client"),
        (lambda: assertion(aud="http://elsewhere/token"), {}, "invalid_client"),
        (lambda: assertion(sub="someone-else"), {}, "invalid_client"),
        (lambda: assertion(iss="unknown", sub="unknown"), {}, "invalid_client"),
        (lambda: assertion(jti=None), {}, "invalid_client"),
        (
            lambda: jwt.encode({"iss": "registry"}, "secret", algorithm="HS256"),
            {},
            "invalid_client",
        ),
        (lambda: "not-a-jwt", {}, "invalid_request"),
        (lambda: assertion(), {"grant_type": "password"}, "unsupported_grant_type"),
        (lambda: assertion(), {"client_assertion_type": "x"}, "invalid_request"),
        (lambda: assertion(), {"scope": "system/*.write"}, "invalid_scope"),
        (lambda: assertion(), {"scope": ""}, "invalid_scope"),
        (lambda: assertion(), {"scope": "patient/*.read"}, "invalid_scope"),
    ],
)
def test_bad_requests_get_oauth_errors(
    registry: SmartClient,
    client: Client,
    make: Callable[[], str],
    form: dict[str, str],
    error: str,
) -> None:
    response = ask(client, make(), **form)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == error
    assert not SmartAccessToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REFUSED).exists()


def test_an_assertion_is_used_once(registry: SmartClient, client: Client) -> None:
    signed = assertion()
    assert ask(client, signed).status_code == 200
    again = ask(client, signed)
    assert again.status_code == 401
    assert "used before" in again.json()["error_description"]


def test_the_token_endpoint_takes_only_a_posted_form(
    registry: SmartClient, client: Client
) -> None:
    assert client.get("/fhir/auth/token").status_code == 405
    assert (
        client.post(
            "/fhir/auth/token", "{}", content_type="application/json"
        ).status_code
        == 400
    )


def test_discovery(db: None, client: Client) -> None:
    config = client.get("/fhir/.well-known/smart-configuration").json()
    assert config["token_endpoint"] == TOKEN_URL
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]


def test_registration_refuses_bad_input(director: User, registry: SmartClient) -> None:
    changes: dict[str, Any]
    for changes in (
        {"client_id": "registry"},
        {"public_key_pem": "nope"},
        {"scopes": ["system/*.write"]},
        {"scopes": []},
    ):
        values: dict[str, Any] = {
            "client_id": "new",
            "name": "n",
            "user": director,
            "public_key_pem": pem(RSA_KEY),
            "scopes": ["system/*.read"],
        } | changes
        with pytest.raises(InteropError):
            smart.register_client(**values, by=None)


def test_the_command_registers_lists_and_revokes(
    director: User, tmp_path: Path, capsys: Any
) -> None:
    key = tmp_path / "key.pem"
    key.write_text(pem(RSA_KEY))
    call_command(
        "smart",
        "register",
        "registry",
        "--user",
        director.username,
        "--public-key",
        str(key),
    )
    call_command("smart", "list")
    assert "registry" in capsys.readouterr().out
    call_command("smart", "revoke", "registry")
    with pytest.raises(CommandError):
        call_command("smart", "revoke", "registry")
    with pytest.raises(CommandError):
        call_command(
            "smart", "register", "x", "--user", "nobody", "--public-key", str(key)
        )


@pytest.mark.parametrize(
    ("scope", "reads"),
    [
        ("system/*.read", "*"),
        ("system/Patient.read", "Patient"),
        ("system/Observation.rs", "Observation"),
        ("system/Patient.r", "Patient"),
        ("system/Patient.write", None),
        ("system/Patient.cud", None),
        ("patient/*.read", None),
        ("user/Patient.read", None),
        ("system/patient.read", None),
        ("", None),
    ],
)
def test_scope_rules(scope: str, reads: str | None) -> None:
    assert readable(scope) == reads


def test_granted_and_may_read() -> None:
    assert granted(
        ["system/Patient.read", "system/*.read"], ["system/Patient.read"]
    ) == ["system/Patient.read"]
    assert granted(["system/Observation.read"], ["system/*.rs"]) == [
        "system/Observation.read"
    ]
    assert may_read(["system/*.read"], "Consent")
    assert not may_read(["system/Patient.read"], "Consent")
