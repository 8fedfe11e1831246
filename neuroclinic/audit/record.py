"""Writing to the audit log. Every action calls `record()` in its own transaction."""

import contextvars
import functools
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.lib.hashchain import GENESIS_HASH, canonical_json, json_safe

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


# The hashed content's keys the database fills in (between the others in sorted order).
_LINK_KEYS = ("prev_hash", "seq")


def canonical_parts(content: dict[str, Any]) -> tuple[str, str, str]:
    """The event's canonical JSON around its previous hash and `seq`, which the INSERT fills in.

    `canonical_json` sorts keys, and "prev_hash" and "seq" sort next to each
    other, so the bytes hashed are `before + prev_hash + middle + str(seq) + after`:
    the same bytes as `canonical_json(event.hashed_content())` (verify recomputes it
    that way; `test_chain.py::test_the_database_hashes_the_canonical_bytes` checks).
    """
    earlier = {k: v for k, v in content.items() if k < _LINK_KEYS[0]}
    later = {k: v for k, v in content.items() if k > _LINK_KEYS[1]}
    if not earlier or not later or len(earlier) + len(later) + 2 != len(content):
        raise ValueError("the hashed content must have keys around prev_hash and seq")
    before = canonical_json(earlier)[:-1] + ',"prev_hash":"'
    return before, '","seq":', "," + canonical_json(later)[1:]


def sqlite_sha256(text: str) -> str:
    """SHA-256 of the text's UTF-8 bytes, in hex: the SQL function record() uses on SQLite."""
    return hashlib.sha256(text.encode()).hexdigest()


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: give each SQLite connection `neuroclinic_sha256()` (PostgreSQL has sha256)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "neuroclinic_sha256", 1, sqlite_sha256, deterministic=True
        )


# Events that record a read (who saw what), and nothing else: recorded on their own
# (outside any transaction), their one statement is the whole transaction, and with
# AUDIT_READ_COMMIT=async (the default) PostgreSQL commits it without waiting for
# the WAL flush (docs/security.md, "Audit"). Prints and exports stay durable, as
# does every event recorded inside a caller's transaction (a write's).
READ_ACTIONS = frozenset(
    {
        AuditEvent.Action.PATIENTS_SEARCHED,
        AuditEvent.Action.CHART_VIEWED,
        AuditEvent.Action.PATIENT_READ_API,
        AuditEvent.Action.RESPONSE_VIEWED,
        AuditEvent.Action.TRAJECTORY_VIEWED,
        AuditEvent.Action.LEDGER_REPORT_VIEWED,
        AuditEvent.Action.CONSULT_VIEWED,
        AuditEvent.Action.INTAKE_VIEWED,
        AuditEvent.Action.DOCUMENT_VIEWED,
        AuditEvent.Action.CLEARANCE_LETTER_VIEWED,
        AuditEvent.Action.CONSENT_VIEWED,
        AuditEvent.Action.PLAN_VIEWED,
        AuditEvent.Action.INFUSION_VIEWED,
        AuditEvent.Action.INFUSION_REPORT_VIEWED,
        AuditEvent.Action.TMS_COURSE_VIEWED,
        AuditEvent.Action.BILLING_ACCOUNT_VIEWED,
        AuditEvent.Action.BILLING_DOCUMENT_VIEWED,
        AuditEvent.Action.BILLING_REPORT_VIEWED,
        AuditEvent.Action.LETTER_VIEWED,
        AuditEvent.Action.OUTCOMES_VIEWED,
        AuditEvent.Action.CALENDAR_VIEWED,
    }
)

# The columns the INSERT takes from the event (the rest the database fills in).
_FILLED = {"id", "seq", "prev_hash", "hash"}


@functools.cache
def _event_fields() -> tuple[models.Field[Any, Any], ...]:
    return tuple(f for f in AuditEvent._meta.concrete_fields if f.column not in _FILLED)


@functools.cache
def _event_values() -> tuple[tuple[str, Callable[[Any, Any], Any]], ...]:
    """Each of `_event_fields()`'s attribute name and `get_db_prep_save`, looked up once."""
    return tuple((f.attname, f.get_db_prep_save) for f in _event_fields())


@functools.cache
def _insert_sql(vendor: str, asynchronous: bool = False) -> str:
    """One INSERT that locks the chain's head, takes `seq`, links, hashes and moves the head.

    Built once per database vendor (it depends only on the model), not per event.
    `asynchronous` (PostgreSQL; a read's event that is its own transaction): the
    statement also sets `synchronous_commit` off for its transaction only
    (`set_config(..., true)`), so its commit does not wait for the WAL flush.

    Parameters: the head's name, then the canonical JSON's three parts, then the
    event's own columns. On PostgreSQL the head row is locked (FOR UPDATE) before
    `nextval`, so each chain's events are in `seq` order, and the UPDATE of the
    head is part of the same statement. On SQLite the statement holds the
    database's one write lock, so the highest number so far (of events and of the
    closed global chain) plus one is safe; the head is moved by the trigger of
    migration 0010. No head row: nothing is inserted (the caller makes it).
    """
    events, heads = AuditEvent._meta.db_table, ChainHead._meta.db_table
    columns = [(str(f.column), str(f.db_type(connection))) for f in _event_fields()]
    names = ", ".join(connection.ops.quote_name(c) for c, _ in columns)
    if vendor == "postgresql":
        values = ", ".join(f"CAST(%s AS {db_type})" for _, db_type in columns)
        commit = (
            ", set_config('synchronous_commit', 'off', true) AS commit_mode"
            if asynchronous
            else ""
        )
        return (
            f"WITH old AS MATERIALIZED (SELECT id, hash{commit} FROM {heads} WHERE name = %s FOR UPDATE), "  # noqa: S608 - our tables
            f"taken AS MATERIALIZED (SELECT id, nextval('{EVENT_SEQUENCE}') AS seq, hash AS prev FROM old), "
            "linked AS MATERIALIZED (SELECT id, seq, prev, encode(sha256(convert_to("
            "CAST(%s AS text) || prev || CAST(%s AS text) || seq::text || CAST(%s AS text), "
            "'UTF8')), 'hex') AS hash FROM taken), "
            f"moved AS (UPDATE {heads} SET seq = linked.seq, hash = linked.hash "
            f"FROM linked WHERE {heads}.id = linked.id) "
            f"INSERT INTO {events} (seq, prev_hash, hash, {names}) "
            f"SELECT seq, prev, hash, {values} FROM linked "
            "RETURNING id, seq, prev_hash, hash"
        )
    values = ", ".join("%s" for _ in columns)
    return (
        f"INSERT INTO {events} (seq, prev_hash, hash, {names}) "  # noqa: S608 - our tables
        "SELECT seq, prev, neuroclinic_sha256(%s || prev || %s || seq || %s), "
        f"{values} FROM (SELECT 1 + max("
        f"(SELECT coalesce(max(seq), 0) FROM {events}), "
        f"(SELECT coalesce(max(seq), 0) FROM {heads} WHERE name = '{AUDIT_CHAIN}')"
        f") AS seq, hash AS prev FROM {heads} WHERE name = %s) AS head "
        "RETURNING id, seq, prev_hash, hash"
    )


def _append(event: AuditEvent, name: str, *, asynchronous: bool = False) -> None:
    """Insert the event at the end of chain `name` in one statement (two more for a new chain)."""
    # The default connection itself: `connection` looks it up on every attribute.
    db = connections[DEFAULT_DB_ALIAS]
    values = [prep(getattr(event, attname), db) for attname, prep in _event_values()]
    parts = canonical_parts(event.hashed_content())
    vendor = db.vendor
    sql = _insert_sql(vendor, asynchronous)
    if vendor == "postgresql":
        params = [name, *parts, *values]
    else:
        params = [*parts, *values, name]
    for _ in range(2):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None:
            event.id, event.seq, event.prev_hash, event.hash = row
            event._state.adding = False
            event._state.db = db.alias
            return
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

    One INSERT locks that chain's head row, numbers the event, links and hashes
    it and moves the head (`_insert_sql`), so an audited read costs one
    statement and one round trip. Inside a transaction the head stays locked
    until it ends, so writers of one organization append one at a time and
    organizations never wait on each other (SQLite's IMMEDIATE transactions
    serialize every writer anyway). Outside one (a read that records who saw
    what) the statement commits on its own, before the response is sent; for
    READ_ACTIONS on PostgreSQL with AUDIT_READ_COMMIT=async that commit does not
    wait for the WAL flush (docs/security.md, "Audit").
    `seq` numbers events across all chains, in each chain's order; `prev_hash`
    links to the previous event of the same chain.
    """
    if organization is None and patient is not None:
        organization_id = getattr(patient, "organization_id", None)
    elif organization is not None:
        organization_id = organization.pk
    else:
        organization_id = getattr(actor, "organization_id", None)
    event = AuditEvent(
        seq=0,
        occurred_at=timezone.now(),
        action=action,
        outcome=outcome,
        actor=actor,
        actor_username=actor.username if actor is not None else actor_username[:150],
        actor_roles=",".join(sorted(actor.roles)) if actor is not None else "",
        organization_id=organization_id,
        patient_id=patient.pk if patient is not None else None,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(getattr(subject, "uuid", None) or subject.pk)
        if subject is not None
        else "",
        source_ip=_source_ip.get() or "",
        data=json_safe(_masked(_with_token(data))),
        prev_hash="",
    )
    if connection.in_atomic_block:
        # No savepoint (no statements): an error here marks the caller's
        # transaction for rollback, so a caller that catches it cannot go on
        # writing as if the event had been recorded.
        with transaction.atomic(savepoint=False):
            _append(event, chain_name(organization_id))
    else:
        # The statement is its own transaction: a read's event may commit
        # asynchronously (READ_ACTIONS, AUDIT_READ_COMMIT); anything else waits
        # for its commit to be on disk, as inside a caller's transaction.
        _append(
            event,
            chain_name(organization_id),
            asynchronous=action in READ_ACTIONS
            and settings.AUDIT_READ_COMMIT == "async",
        )
    return event


def current_source_ip() -> str | None:
    """The address of the request being served (None outside a request)."""
    return _source_ip.get()
