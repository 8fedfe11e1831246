"""Writing to the audit log. Every action calls `record()` in its own transaction."""

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.lib.hashchain import content_hash, json_safe

if TYPE_CHECKING:
    from neuroclinic.accounts.models import User

AUDIT_CHAIN = "audit"

# Where the current request came from; set by AuditContextMiddleware so that
# actions need not pass the request down just for the audit trail.
_source_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_source_ip", default=None
)

# The API token the current request was authenticated by (its UUID), named in
# each event the request records (the token's use itself is recorded sparsely).
_api_token: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_api_token", default=None
)

# Keys whose values must never reach the log (pretix's "sensitivekeys").
SENSITIVE_KEYS = frozenset({"password", "token", "otp_code", "secret", "recovery_code"})


@contextmanager
def source_ip(ip: str | None) -> Iterator[None]:
    token = _source_ip.set(ip)
    try:
        yield
    finally:
        _source_ip.reset(token)


@contextmanager
def api_token(token_uuid: str | None) -> Iterator[None]:
    token = _api_token.set(token_uuid)
    try:
        yield
    finally:
        _api_token.reset(token)


def set_api_token(token_uuid: str) -> None:
    """Name the token for the rest of this request (inside AuditContextMiddleware)."""
    _api_token.set(token_uuid)


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted
    # proxy rewrites it, and a forged address in an audit log is worse than none.
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with source_ip(client_ip(request)), api_token(None):
            return self.get_response(request)


def _masked(data: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[masked]" if k in SENSITIVE_KEYS else v) for k, v in data.items()}


def _with_token(data: dict[str, Any]) -> dict[str, Any]:
    token = _api_token.get()
    return data if token is None else {"api_token": token, **data}


def record(
    action: AuditEvent.Action,
    *,
    actor: "User | None",
    patient: models.Model | None = None,
    subject: models.Model | None = None,
    organization: models.Model | None = None,
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.SUCCESS,
    actor_username: str = "",
    **data: Any,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    The chain head row is locked for the rest of the transaction, so writers
    append one at a time (SQLite's IMMEDIATE transactions do the same there).
    """
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get(name=AUDIT_CHAIN)
        if organization is None and patient is not None:
            organization_id = getattr(patient, "organization_id", None)
        elif organization is not None:
            organization_id = organization.pk
        else:
            organization_id = getattr(actor, "organization_id", None)
        event = AuditEvent(
            seq=head.seq + 1,
            occurred_at=timezone.now(),
            action=action,
            outcome=outcome,
            actor=actor,
            actor_username=actor.username
            if actor is not None
            else actor_username[:150],
            actor_roles=",".join(sorted(actor.roles)) if actor is not None else "",
            organization_id=organization_id,
            patient_id=patient.pk if patient is not None else None,
            subject_type=subject._meta.label_lower if subject is not None else "",
            subject_id=str(getattr(subject, "uuid", None) or subject.pk)
            if subject is not None
            else "",
            source_ip=_source_ip.get() or "",
            data=json_safe(_masked(_with_token(data))),
            prev_hash=head.hash,
        )
        event.hash = content_hash(event.hashed_content())
        event.save(force_insert=True)
        head.seq = event.seq
        head.hash = event.hash
        head.save(update_fields=["seq", "hash"])
    return event


def current_source_ip() -> str | None:
    """The address of the request being served (None outside a request)."""
    return _source_ip.get()
