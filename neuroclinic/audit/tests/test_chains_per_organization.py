"""One audit chain per organization: clinics never wait on each other's audit head.

Events of an organization link into that organization's chain (head row
"org:<id>"), events without one into the system chain; the events written
before migration 0007 keep their global chain ("audit"), closed at its head,
which every new chain's first event links to.
"""

import importlib
import threading
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import connection, connections, transaction

from neuroclinic.audit import record as audit_record
from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.audit.record import AUDIT_CHAIN, SYSTEM_CHAIN, chain_name, record
from neuroclinic.audit.verify import verify_audit_chain
from neuroclinic.clinics.models import Organization
from neuroclinic.lib.hashchain import GENESIS_HASH, content_hash
from neuroclinic.operations.checkpoints import current_heads

TABLE = "audit_auditevent"
MIGRATION = importlib.import_module(
    "neuroclinic.audit.migrations.0007_scale17b_audit_chain_per_organization"
)


def _view(organization: Organization | None) -> AuditEvent:
    with transaction.atomic():
        return record(
            AuditEvent.Action.CHART_VIEWED,
            actor=None,
            organization=organization,
            actor_username="someone",
        )


def _triggers_off() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {TABLE}_no_update")
            cursor.execute(f"DROP TRIGGER {TABLE}_no_delete")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")


@pytest.mark.django_db
def test_each_organization_appends_to_a_chain_of_its_own(
    organization: Organization, other_organization: Organization
) -> None:
    origin = ChainHead.objects.get(name=AUDIT_CHAIN).hash
    a1, b1, a2, b2 = (
        _view(organization),
        _view(other_organization),
        _view(organization),
        _view(other_organization),
    )

    assert (a1.prev_hash, b1.prev_hash) == (origin, origin)
    assert a2.prev_hash == a1.hash
    assert b2.prev_hash == b1.hash
    assert a1.seq < b1.seq < a2.seq < b2.seq  # one numbering across chains
    heads = {h.name: (h.seq, h.hash) for h in ChainHead.objects.all()}
    assert heads[chain_name(organization.pk)] == (a2.seq, a2.hash)
    assert heads[chain_name(other_organization.pk)] == (b2.seq, b2.hash)
    report = verify_audit_chain()
    assert report.ok
    assert report.chains == len(heads)


@pytest.mark.django_db
def test_an_event_without_an_organization_goes_to_the_system_chain() -> None:
    event = _view(None)

    head = ChainHead.objects.get(name=SYSTEM_CHAIN)
    assert (head.seq, head.hash) == (event.seq, event.hash)
    assert verify_audit_chain().ok


@pytest.mark.django_db
def test_a_checkpoint_records_every_chain_head(
    organization: Organization, other_organization: Organization
) -> None:
    a, b = _view(organization), _view(other_organization)

    recorded = {
        h["chain"]: (h["seq"], h["hash"])
        for h in current_heads()
        if h["chain"].startswith("audit:")
    }

    assert recorded[f"audit:org:{organization.pk}"] == (a.seq, a.hash)
    assert recorded[f"audit:org:{other_organization.pk}"] == (b.seq, b.hash)
    assert f"audit:{AUDIT_CHAIN}" in recorded


@pytest.mark.django_db
def test_tampering_in_one_organizations_chain_is_named(
    organization: Organization, other_organization: Organization
) -> None:
    _view(organization)
    edited = _view(other_organization)
    _view(organization)
    _view(other_organization)
    _triggers_off()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET actor_username = 'forger' WHERE seq = %s", [edited.seq]
        )

    report = verify_audit_chain()

    assert not report.ok
    assert report.first_bad_seq == edited.seq
    assert report.chain == chain_name(other_organization.pk)
    assert "edited" in report.problem


@pytest.mark.django_db
def test_an_event_whose_chain_head_is_gone_is_reported(
    organization: Organization,
) -> None:
    event = _view(organization)
    ChainHead.objects.filter(name=chain_name(organization.pk)).delete()

    report = verify_audit_chain()

    assert not report.ok
    assert report.first_bad_seq == event.seq
    assert "has no head" in report.problem


def _append_as_before(event: AuditEvent, name: str) -> None:
    """What record() did before migration 0007: one chain, numbered by its head."""
    head = ChainHead.objects.select_for_update().get(name=AUDIT_CHAIN)
    head.seq += 1
    event.seq, event.prev_hash = head.seq, head.hash
    event.hash = content_hash(event.hashed_content())
    event.save(force_insert=True)
    head.hash = event.hash
    head.save(update_fields=["seq", "hash"])


class _SchemaEditor:
    """What the migration's function uses of a schema editor, inside the test's transaction."""

    connection = connection

    def execute(self, sql: str, params: list[int | bool | str] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


@pytest.mark.django_db
def test_events_from_before_the_migration_stay_in_the_closed_global_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Start empty, as a database that has only old events would be.
    assert not AuditEvent.objects.exists()
    organization = Organization.objects.create(name="Old clinic")
    legacy = ChainHead.objects.get(name=AUDIT_CHAIN)
    assert (legacy.seq, legacy.hash) == (0, GENESIS_HASH)
    # given three events written as before: one global chain, numbered by its head
    with monkeypatch.context() as old_code:
        old_code.setattr(audit_record, "_append", _append_as_before)
        old = [_view(organization), _view(None), _view(organization)]
    assert [e.seq for e in old] == [1, 2, 3]
    # when the migration runs and new events are written
    MIGRATION.forwards(apps, _SchemaEditor())
    new = [_view(organization), _view(None)]

    # then the old events keep their hashes and chain, and the new chains start from its head
    closed = ChainHead.objects.get(name=AUDIT_CHAIN)
    assert (closed.seq, closed.hash) == (3, old[-1].hash)
    assert [e.prev_hash for e in new] == [old[-1].hash, old[-1].hash]
    assert min(e.seq for e in new) > 3
    report = verify_audit_chain()
    assert report.ok
    assert report.checked == 5


pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serializes every writer (IMMEDIATE transactions) by design; "
    "the per-organization row lock is what this test exercises",
)


@pytest.fixture
def lock_waits_fail() -> Iterator[None]:
    """A write that would wait on a lock fails at once instead (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '3s'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_open_transaction_of_one_clinic_does_not_hold_up_another(
    organization: Organization,
    other_organization: Organization,
    lock_waits_fail: None,
) -> None:
    _view(organization)  # both chains exist: the test is about their heads' locks
    _view(other_organization)
    holding = threading.Event()
    release = threading.Event()
    failures: list[BaseException] = []

    def first_clinic_action() -> None:
        try:
            with transaction.atomic():
                _view(organization)
                holding.set()
                release.wait(timeout=30)
        except BaseException as exc:
            failures.append(exc)
        finally:
            holding.set()
            connections.close_all()

    worker = threading.Thread(target=first_clinic_action)
    worker.start()
    holding.wait(timeout=30)
    try:
        # The first clinic's head is locked until its transaction ends; the
        # other clinic writes now (a wait would end in a lock timeout error).
        other = _view(other_organization)
    finally:
        release.set()
        worker.join(timeout=30)

    assert not failures
    assert other.pk is not None
    assert verify_audit_chain().ok


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writers_of_one_clinic_at_once_keep_its_chain_intact(
    organization: Organization,
) -> None:
    # Reads record outside a transaction (one statement each), writes inside one:
    # both at once, on one chain, must each link to the event before them.
    _view(organization)
    failures: list[BaseException] = []

    def writer(in_transaction: bool) -> None:
        try:
            for _ in range(15):
                if in_transaction:
                    _view(organization)
                else:
                    record(
                        AuditEvent.Action.PATIENTS_SEARCHED,
                        actor=None,
                        organization=organization,
                        actor_username="reader",
                    )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures
    events = AuditEvent.objects.filter(organization=organization)
    assert events.count() == 61
    report = verify_audit_chain()
    assert report.ok, report.problem
    head = ChainHead.objects.get(name=chain_name(organization.pk))
    assert head.hash == events.order_by("-seq").first().hash  # type: ignore[union-attr]
