"""SMART Backend Services: registering clients and issuing access tokens.

A client proves itself with a JWT signed by its private key (RS384 or ES384) whose
`iss` and `sub` are its client id, `aud` the token URL, with a `jti` used once and an
`exp` at most five minutes ahead. The access token lasts `ACCESS_TOKEN_LIFETIME`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.interop.actions import InteropError
from neuroclinic.interop.fhir.scopes import granted, readable
from neuroclinic.interop.models import SmartAccessToken, SmartAssertion, SmartClient

ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS384", "ES384"]
TOKEN_PREFIX = "smart."  # noqa: S105 - marks a token's kind; not a secret
_MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
_LEEWAY = timedelta(seconds=30)


class TokenRefused(Exception):
    """An OAuth error: `error` is the RFC 6749 code, `description` says why (no secrets)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def register_client(
    *,
    client_id: str,
    name: str,
    user: User,
    public_key_pem: str,
    scopes: list[str],
    by: User | None,
) -> SmartClient:
    if user.organization_id is None:
        raise InteropError("The client's user must belong to a clinic.", field="user")
    if SmartClient.objects.filter(client_id=client_id).exists():
        raise InteropError("That client id is taken.", field="client_id")
    try:
        load_pem_public_key(public_key_pem.encode())
    except ValueError:
        raise InteropError("Not a PEM public key.", field="public_key") from None
    if not scopes or any(readable(s) is None for s in scopes):
        raise InteropError(
            "Scopes are system/<Type or *>.read (or .rs).", field="scopes"
        )
    client = SmartClient.objects.create(
        organization_id=user.organization_id,
        client_id=client_id,
        name=name,
        user=user,
        public_key_pem=public_key_pem,
        scopes=scopes,
    )
    record(
        AuditEvent.Action.TOKEN_CREATED,
        actor=by,
        subject=client,
        organization=client.organization,
        via="smart",
        client_id=client_id,
        scopes=scopes,
    )
    return client


@transaction.atomic
def revoke_client(client: SmartClient, *, by: User | None) -> None:
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    client.tokens.all().delete()
    record(
        AuditEvent.Action.TOKEN_REVOKED,
        actor=by,
        subject=client,
        organization=client.organization,
        via="smart",
    )


def _refuse(
    error: str, description: str, client: SmartClient | None = None
) -> TokenRefused:
    with transaction.atomic():
        record(
            AuditEvent.Action.TOKEN_REFUSED,
            actor=None,
            outcome=AuditEvent.Outcome.DENIED,
            via="smart",
            client_id=client.client_id if client else "",
            reason=description,
        )
    return TokenRefused(error, description)


@dataclass(frozen=True)
class Issued:
    access_token: str
    scopes: list[str]
    expires_in: int


def issue_token(
    *, grant_type: str, assertion_type: str, assertion: str, scope: str, token_url: str
) -> Issued:
    """Check a client-credentials request and issue a token; TokenRefused otherwise."""
    if grant_type != "client_credentials":
        raise _refuse(
            "unsupported_grant_type", "grant_type must be client_credentials."
        )
    if assertion_type != ASSERTION_TYPE:
        raise _refuse(
            "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}."
        )
    try:
        header = jwt.get_unverified_header(assertion)
        unverified: dict[str, Any] = jwt.decode(
            assertion, options={"verify_signature": False}
        )
    except jwt.PyJWTError:
        raise _refuse("invalid_request", "client_assertion is not a JWT.") from None
    if header.get("alg") not in ALGORITHMS:
        raise _refuse(
            "invalid_client", "The assertion must be signed with RS384 or ES384."
        )
    client_id = unverified.get("iss")
    client = (
        SmartClient.objects.select_related("user", "organization")
        .filter(
            client_id=client_id if isinstance(client_id, str) else "",
            revoked_at__isnull=True,
        )
        .first()
    )
    if client is None or not client.user.is_active:
        raise _refuse("invalid_client", "Unknown or revoked client.")
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            client.public_key_pem,
            algorithms=ALGORITHMS,
            audience=token_url,
            issuer=client.client_id,
            leeway=_LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise _refuse(
            "invalid_client",
            f"The assertion was refused: {type(exc).__name__}.",
            client,
        ) from None
    now = timezone.now()
    expires = datetime.fromtimestamp(claims["exp"], tz=UTC)
    if claims["sub"] != client.client_id:
        raise _refuse("invalid_client", "sub must equal iss (the client id).", client)
    if expires > now + _MAX_ASSERTION_LIFETIME + _LEEWAY:
        raise _refuse("invalid_client", "exp is more than five minutes ahead.", client)
    asked = scope.split()
    scopes = granted(asked, client.scopes)
    if not asked or len(scopes) != len(asked):
        raise _refuse(
            "invalid_scope",
            "Ask for system read scopes this client is allowed.",
            client,
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            SmartAssertion.objects.filter(expires_at__lt=now - _LEEWAY).delete()
            SmartAssertion.objects.create(
                client=client, jti=str(claims["jti"])[:200], expires_at=expires
            )
            SmartAccessToken.objects.filter(expires_at__lt=now).delete()
            SmartAccessToken.objects.create(
                client=client,
                token_hash=token_hash(raw),
                scopes=scopes,
                issued_at=now,
                expires_at=now + ACCESS_TOKEN_LIFETIME,
            )
            record(
                AuditEvent.Action.TOKEN_USED,
                actor=client.user,
                subject=client,
                organization=client.organization,
                via="smart",
                scopes=scopes,
            )
    except IntegrityError:
        raise _refuse(
            "invalid_client", "This assertion (jti) was used before.", client
        ) from None
    return Issued(raw, scopes, int(ACCESS_TOKEN_LIFETIME.total_seconds()))


def user_for_token(raw: str) -> tuple[User, list[str]] | None:
    """The service user and scopes behind a live SMART access token."""
    token = (
        SmartAccessToken.objects.select_related("client__user")
        .filter(
            token_hash=token_hash(raw),
            expires_at__gt=timezone.now(),
            client__revoked_at__isnull=True,
            client__user__is_active=True,
        )
        .first()
    )
    if token is None:
        return None
    return token.client.user, list(token.scopes)
