"""The audit log is append-only and any change behind the application's back is found.

Tampering is done in raw SQL, as an attacker with database access would, after
switching the append-only triggers off (which needs the table owner's rights).
Runs on SQLite and, in CI, on PostgreSQL.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.audit.record import canonical_parts, chain_name, record, source_ip
from neuroclinic.audit.verify import verify_audit_chain
from neuroclinic.lib.hashchain import canonical_json, content_hash

TABLE = "audit_auditevent"


def _triggers_off() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {TABLE}_no_update")
            cursor.execute(f"DROP TRIGGER {TABLE}_no_delete")
        else:
            # Fire deferred foreign-key checks first, or PostgreSQL refuses the ALTER.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.fixture
def five_events(nurse: User) -> list[AuditEvent]:
    base = max(h.seq for h in ChainHead.objects.all())
    with transaction.atomic():
        events = [
            record(AuditEvent.Action.CHART_VIEWED, actor=nurse, note=f"event {n}")
            for n in range(5)
        ]
    # Numbered across all chains (a PostgreSQL sequence may skip numbers), in order.
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert seqs[0] > base
    return events


def test_events_link_into_an_intact_chain(five_events: list[AuditEvent]) -> None:
    report = verify_audit_chain()

    assert report.ok
    assert report.checked == AuditEvent.objects.count()
    assert five_events[1].prev_hash == five_events[0].hash


def test_an_event_records_who_acted_and_from_where(nurse: User) -> None:
    with source_ip("203.0.113.9"), transaction.atomic():
        event = record(
            AuditEvent.Action.CHART_VIEWED, actor=nurse, secret="hunter2", password="x"
        )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username == "nurse"
    assert stored.actor_roles == "nurse"
    assert stored.source_ip == "203.0.113.9"
    assert stored.organization_id == nurse.organization_id
    assert stored.data == {"secret": "[masked]", "password": "[masked]"}


def test_an_event_rolls_back_with_the_change_it_describes(nurse: User) -> None:
    before = AuditEvent.objects.count()

    def failing_action() -> None:
        with transaction.atomic():
            record(AuditEvent.Action.CHART_VIEWED, actor=nurse)
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        failing_action()

    assert AuditEvent.objects.count() == before
    assert verify_audit_chain().ok


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET action = 'patients.updated'",
        f"DELETE FROM {TABLE}",
    ],
)
def test_the_database_refuses_updates_and_deletes(
    five_events: list[AuditEvent], statement: str
) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(statement)

    assert verify_audit_chain().ok


def test_the_orm_cannot_delete_events_either(five_events: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=five_events[0].pk).delete()


def _edit(events: list[AuditEvent]) -> int:
    _sql(
        f"UPDATE {TABLE} SET actor_username = 'someone-else' WHERE seq = %s",
        [events[2].seq],
    )
    return events[2].seq


def _edit_data(events: list[AuditEvent]) -> int:
    _sql(
        f"UPDATE {TABLE} SET data = %s WHERE seq = %s",
        ['{"note": "changed"}', events[1].seq],
    )
    return events[1].seq


def _delete(events: list[AuditEvent]) -> int:
    _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [events[2].seq])
    return events[3].seq


def _delete_tail(events: list[AuditEvent]) -> int:
    _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [events[4].seq])
    return events[4].seq


def _insert(events: list[AuditEvent]) -> int:
    # Make room after event 2 and slip a forged event in, copying a real one's links.
    for event in reversed(events[2:]):
        _sql(f"UPDATE {TABLE} SET seq = seq + 1 WHERE seq = %s", [event.seq])
    _sql(
        f"INSERT INTO {TABLE} (seq, occurred_at, action, outcome, actor_username, actor_roles, source_ip, "
        "subject_type, subject_id, data, prev_hash, hash) "
        f"SELECT %s, occurred_at, action, outcome, 'forger', actor_roles, source_ip, subject_type, subject_id, "
        f"data, prev_hash, %s FROM {TABLE} WHERE seq = %s",
        [events[2].seq, "f" * 64, events[1].seq],
    )
    return events[2].seq


def _reorder(events: list[AuditEvent]) -> int:
    first, second = events[1].seq, events[2].seq
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [10**12, first])
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [first, second])
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [second, 10**12])
    return first


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_edit, "edited"),
        (_edit_data, "edited"),
        (_delete, "deleted"),
        (_delete_tail, "deleted"),
        (_insert, "inserted"),
        (_reorder, "reordered"),
    ],
)
def test_verify_names_the_first_tampered_event(
    five_events: list[AuditEvent],
    tamper: Callable[[list[AuditEvent]], int],
    problem: str,
) -> None:
    _triggers_off()
    bad_seq = tamper(five_events)

    report = verify_audit_chain()

    assert not report.ok
    assert report.first_bad_seq == bad_seq
    assert problem in report.problem
    with pytest.raises(CommandError, match=f"broken at event #{bad_seq}"):
        call_command("audit", "verify")


def test_verify_command_reports_an_intact_chain(
    five_events: list[AuditEvent], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("audit", "verify")

    assert "Audit chain intact" in capsys.readouterr().out


def test_the_database_hashes_the_canonical_bytes(nurse: User) -> None:
    # Keys inside `data` that name the linked fields, and text beyond ASCII,
    # must not move where the database splices the links in.
    data: dict[str, Any] = {"seq": 7, "source_ip": {"prev_hash": "é"}, "note": "Zoë 名"}
    with transaction.atomic():
        event = record(AuditEvent.Action.CHART_VIEWED, actor=nurse, **data)

    stored = AuditEvent.objects.get(pk=event.pk)
    before, middle, after = canonical_parts(stored.hashed_content())
    assert before + stored.prev_hash + middle + str(stored.seq) + after == (
        canonical_json(stored.hashed_content())
    )
    assert stored.hash == content_hash(stored.hashed_content())
    assert (event.seq, event.prev_hash, event.hash) == (
        stored.seq,
        stored.prev_hash,
        stored.hash,
    )
    head = ChainHead.objects.get(name=chain_name(nurse.organization_id))
    assert (head.seq, head.hash) == (stored.seq, stored.hash)
    assert verify_audit_chain().ok


def test_an_event_is_one_statement_once_its_chain_exists(
    nurse: User, django_assert_num_queries: Any
) -> None:
    record(AuditEvent.Action.CHART_VIEWED, actor=nurse)  # the chain's head exists

    with django_assert_num_queries(1):
        record(AuditEvent.Action.CHART_VIEWED, actor=nurse)

    assert verify_audit_chain().ok


def test_the_hashed_parts_of_a_fixed_event_are_those_written_before() -> None:
    """`canonical_parts` and the hash the INSERT makes of them, for a fixed event: the
    values record() wrote before migrate18j made it cheaper (the bytes must not change)."""
    content = {
        "seq": 0,
        "occurred_at": datetime(2026, 12, 7, 16, 0, 0, 123456, tzinfo=UTC),
        "action": "infusions.vitals_recorded",
        "outcome": "success",
        "actor_id": 3,
        "actor_username": "nurse",
        "actor_roles": "nurse,prescriber",
        "organization_id": 1,
        "patient_id": 17,
        "subject_type": "infusions.infusionsession",
        "subject_id": "0b8a7f6e-3f4e-4a8e-9a51-1c9c3f2b8f11",
        "source_ip": "127.0.0.1",
        "data": {"dose_mg": "35.0", "items": [1, {"é": "ü"}]},
        "prev_hash": "",
    }
    before, middle, after = canonical_parts(content)
    assert before == (
        '{"action":"infusions.vitals_recorded","actor_id":3,"actor_roles":"nurse,prescriber",'
        '"actor_username":"nurse","data":{"dose_mg":"35.0","items":[1,{"é":"ü"}]},'
        '"occurred_at":"2026-12-07T16:00:00.123456+00:00","organization_id":1,'
        '"outcome":"success","patient_id":17,"prev_hash":"'
    )
    assert middle == '","seq":'
    assert after == (
        ',"source_ip":"127.0.0.1","subject_id":"0b8a7f6e-3f4e-4a8e-9a51-1c9c3f2b8f11",'
        '"subject_type":"infusions.infusionsession"}'
    )
    linked = before + "f" * 64 + middle + "42" + after
    assert (
        hashlib.sha256(linked.encode()).hexdigest()
        == "9a3be353324bdddaa1d0dc5e47fbdbdd9d0a57c4f569da83ea278d7947586169"
    )
