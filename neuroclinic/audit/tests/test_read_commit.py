"""A read's audit event may commit without waiting for the WAL flush; nothing else does.

On PostgreSQL, with AUDIT_READ_COMMIT=async (the default), the one statement
that records a read (READ_ACTIONS) outside any transaction turns
`synchronous_commit` off for its own transaction. A trigger added by the test
reads `current_setting('synchronous_commit')` inside the inserting transaction
and keeps it, so each test sees how that transaction was going to commit.
Writes' events, events inside a caller's transaction, and every event with
AUDIT_READ_COMMIT=durable commit with the server's setting (on).
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import READ_ACTIONS, record
from neuroclinic.audit.verify import verify_audit_chain
from neuroclinic.operations.checkpoints import wait_for_wal_flush
from neuroclinic.patients.models import Patient

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="synchronous_commit is PostgreSQL's; SQLite commits every event with synchronous=FULL",
)


def _sql(statement: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def commit_modes() -> Iterator[Callable[[], dict[str, str]]]:
    """The synchronous_commit each event's inserting transaction had, by action."""
    _sql("CREATE TABLE test_commit_mode (action text, mode text)")
    _sql(
        "CREATE FUNCTION test_commit_mode() RETURNS trigger AS $$ BEGIN "
        "INSERT INTO test_commit_mode VALUES "
        "(NEW.action, current_setting('synchronous_commit')); RETURN NEW; END "
        "$$ LANGUAGE plpgsql"
    )
    _sql(
        "CREATE TRIGGER test_commit_mode AFTER INSERT ON audit_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION test_commit_mode()"
    )
    try:
        yield lambda: dict(_sql("SELECT action, mode FROM test_commit_mode"))
    finally:
        _sql("DROP TRIGGER test_commit_mode ON audit_auditevent")
        _sql("DROP FUNCTION test_commit_mode()")
        _sql("DROP TABLE test_commit_mode")


def _search(nurse: User) -> None:
    record(AuditEvent.Action.PATIENTS_SEARCHED, actor=nurse, query="demo")


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_read_on_its_own_commits_asynchronously(
    nurse: User, commit_modes: Callable[[], dict[str, str]], settings: Any
) -> None:
    settings.AUDIT_READ_COMMIT = "async"
    _search(nurse)  # the chain's first event also makes its head
    _search(nurse)

    assert commit_modes() == {AuditEvent.Action.PATIENTS_SEARCHED: "off"}
    # Only that transaction: the connection's own setting is untouched.
    assert _sql("SHOW synchronous_commit") == [("on",)]
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PATIENTS_SEARCHED).count()
        == 2
    )
    assert verify_audit_chain().ok


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_on_its_own_commits_durably(
    nurse: User, commit_modes: Callable[[], dict[str, str]], settings: Any
) -> None:
    settings.AUDIT_READ_COMMIT = "async"
    _search(nurse)
    record(AuditEvent.Action.CHART_PRINTED, actor=nurse)  # not a read: a print
    record(AuditEvent.Action.PATIENT_UPDATED, actor=nurse)

    assert commit_modes() == {
        AuditEvent.Action.PATIENTS_SEARCHED: "off",
        AuditEvent.Action.CHART_PRINTED: "on",
        AuditEvent.Action.PATIENT_UPDATED: "on",
    }
    assert verify_audit_chain().ok


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_read_inside_a_callers_transaction_commits_with_it(
    nurse: User, commit_modes: Callable[[], dict[str, str]], settings: Any
) -> None:
    settings.AUDIT_READ_COMMIT = "async"
    with transaction.atomic():
        # The caller's transaction may hold a clinical write: it stays durable.
        _search(nurse)
        mode = _sql("SELECT current_setting('synchronous_commit')")

    assert mode == [("on",)]
    assert commit_modes() == {AuditEvent.Action.PATIENTS_SEARCHED: "on"}


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_durable_makes_reads_wait_for_the_flush(
    nurse: User, commit_modes: Callable[[], dict[str, str]], settings: Any
) -> None:
    settings.AUDIT_READ_COMMIT = "durable"
    _search(nurse)
    _search(nurse)

    assert commit_modes() == {AuditEvent.Action.PATIENTS_SEARCHED: "on"}


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_api_search_records_its_read_asynchronously(
    nurse: User,
    patient: Patient,
    bearer: Callable[[User], dict[str, str]],
    commit_modes: Callable[[], dict[str, str]],
    settings: Any,
) -> None:
    settings.AUDIT_READ_COMMIT = "async"
    response = Client().post(
        "/api/patients/search",
        {"q": patient.family_name[:3]},
        content_type="application/json",
        headers=bearer(nurse),
    )

    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [str(patient.uuid)]
    modes = commit_modes()
    assert modes[AuditEvent.Action.PATIENTS_SEARCHED] == "off"
    # The token's use (a sign-in, in effect) is not a read: it waits for the flush.
    assert modes.get(AuditEvent.Action.TOKEN_USED, "on") == "on"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENTS_SEARCHED)
    assert event.data["results"] == [str(patient.uuid)]
    assert verify_audit_chain().ok


def test_read_actions_are_reads() -> None:
    # Prints and exports hand a record out of the system: they stay durable;
    # so do the sign-ins a token's use stands for.
    assert AuditEvent.Action.PATIENTS_SEARCHED in READ_ACTIONS
    assert AuditEvent.Action.CHART_VIEWED in READ_ACTIONS
    for action in (
        AuditEvent.Action.CHART_PRINTED,
        AuditEvent.Action.CHART_EXPORTED,
        AuditEvent.Action.LEDGER_REPORT_EXPORTED,
        AuditEvent.Action.TOKEN_USED,
        AuditEvent.Action.SIGNED_IN,
    ):
        assert action not in READ_ACTIONS


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_checkpoint_waits_until_a_reads_event_is_on_disk(
    nurse: User, settings: Any
) -> None:
    # A checkpoint names chain heads outside the database: never one that a
    # crash could still take back (a read's event not yet flushed).
    settings.AUDIT_READ_COMMIT = "async"
    _search(nurse)
    _search(nurse)
    ((written,),) = _sql("SELECT pg_current_wal_insert_lsn()::text")

    wait_for_wal_flush()

    assert _sql(f"SELECT pg_current_wal_flush_lsn() >= '{written}'::pg_lsn") == [
        (True,)
    ]
