"""Writing to the audit log. Every action calls `record()` in its own transaction."""

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.lib.hashchain import GENESIS_HASH, content_hash, json_safe

if TYPE_CHECKING:
    from neuroclinic.accounts.models import User

# The single chain every event went into before chains were per organization
# (migration 0007): closed at its head since, and the origin of every new chain.
AUDIT_CHAIN = "audit"
# The chain of events that belong to no organization (anonymous refusals,
# failed sign-ins by unknown names, system jobs).
SYSTEM_CHAIN = "system"
# PostgreSQL sequence numbering events across all chains (made by migration 0007).
EVENT_SEQUENCE = "audit_event_seq"

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


def chain_name(organization_id: int | None) -> str:
    """The chain an event of this organization goes into (the system chain without one)."""
    return SYSTEM_CHAIN if organization_id is None else f"org:{organization_id}"


def origin_hash() -> str:
    """What every per-organization chain's first event links to: the closed global chain's head."""
    legacy = ChainHead.objects.filter(name=AUDIT_CHAIN).values_list("hash", flat=True)
    return legacy.first() or GENESIS_HASH


def _claim(name: str) -> tuple[ChainHead, int]:
    """Lock the chain's head for the rest of the transaction and take the event's `seq`.

    `seq` numbers events across all chains and is taken after the lock, so each
    chain's events are in `seq` order; one statement does both. On PostgreSQL
    the UPDATE waits for the row, then takes the number from a sequence that
    writers of other chains take from without waiting. On SQLite the
    transaction already holds the database's one write lock (IMMEDIATE), so the
    highest number so far (of events and of the closed global chain) plus one
    is safe.
    """
    table, events = ChainHead._meta.db_table, AuditEvent._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"UPDATE {table} SET seq = nextval(%s) WHERE name = %s RETURNING id, seq, hash"  # noqa: S608 - our tables
        params = [EVENT_SEQUENCE, name]
    else:
        sql = (
            f"UPDATE {table} SET seq = 1 + max("  # noqa: S608 - our tables
            f"(SELECT coalesce(max(seq), 0) FROM {events}), "
            f"(SELECT coalesce(max(seq), 0) FROM {table} WHERE name = %s)) "
            "WHERE name = %s RETURNING id, seq, hash"
        )
        params = [AUDIT_CHAIN, name]
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None:
            return ChainHead(id=row[0], name=name, seq=row[1], hash=row[2]), row[1]
        # The chain's first event. Two first writers may both get here: the
        # insert skips the conflict (PostgreSQL waits for the other's commit).
        ChainHead.objects.bulk_create(
            [ChainHead(name=name, seq=0, hash=origin_hash())], ignore_conflicts=True
        )
    raise ChainHead.DoesNotExist(name)


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
    """Append one event to its organization's chain, in the caller's transaction.

    That chain's head row is locked for the rest of the transaction, so writers
    of one organization append one at a time and organizations never wait on
    each other (SQLite's IMMEDIATE transactions serialize every writer anyway).
    `seq` numbers events across all chains, in each chain's order; `prev_hash`
    links to the previous event of the same chain.
    """
    if organization is None and patient is not None:
        organization_id = getattr(patient, "organization_id", None)
    elif organization is not None:
        organization_id = organization.pk
    else:
        organization_id = getattr(actor, "organization_id", None)
    # No savepoint inside a caller's transaction (two statements per event): an
    # error here marks the caller's transaction for rollback, so a caller that
    # catches it cannot go on writing as if the event had been recorded.
    with transaction.atomic(savepoint=False):
        head, seq = _claim(chain_name(organization_id))
        event = AuditEvent(
            seq=seq,
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
        head.save(update_fields=["hash"])
    return event


def current_source_ip() -> str | None:
    """The address of the request being served (None outside a request)."""
    return _source_ip.get()
