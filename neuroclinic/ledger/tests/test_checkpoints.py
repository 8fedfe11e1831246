"""A forger who rewrites a whole chain and its head passes the chain walk, but not the
signed checkpoints kept outside the database (issue #15, item 3).

Runs on SQLite and on PostgreSQL; tampering is raw SQL with the triggers off.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q
from django.test import override_settings

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent, ChainHead, Seal
from neuroclinic.audit.record import SYSTEM_CHAIN, chain_name
from neuroclinic.clinics.models import Organization
from neuroclinic.ledger.models import LedgerEntry, LedgerHead
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.tests.test_chain import TABLE, _sql, _triggers_off
from neuroclinic.lib.hashchain import content_hash
from neuroclinic.operations.checkpoints import (
    checkpoint_files,
    checkpoint_problems,
    checkpoint_recipients,
    copy_problems,
    read_checkpoint,
    write_checkpoint,
)
from neuroclinic.operations.schedule import PERIODIC_JOBS
from neuroclinic.operations.tasks import write_chain_checkpoint


@pytest.fixture(autouse=True)
def checkpoint_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "checkpoints"
    with override_settings(CHECKPOINT_DIR=folder):
        yield folder


def _rewrite_ledger_from(seq: int) -> None:
    """The thorough forger: edit entry `seq`, re-hash it and every later entry and the head."""
    _triggers_off()
    prev = LedgerEntry.objects.get(seq=seq - 1).hash
    last = LedgerEntry.objects.order_by("-seq").first()
    assert last is not None
    for n in range(seq, last.seq + 1):
        row = LedgerEntry.objects.get(seq=n)
        if n == seq:
            row.reason = "rewritten"
        row.prev_hash = prev
        row.hash = content_hash(row.hashed_content())
        _sql(
            f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [row.reason, row.prev_hash, row.hash, n],
        )
        prev = row.hash
    LedgerHead.objects.filter(registrant_id=last.registrant_id).update(hash=prev)


def _verify(*args: str) -> str | None:
    try:
        call_command("verify", *args)
    except CommandError as exc:
        return str(exc)
    return None


def test_an_intact_database_passes_against_its_checkpoints(
    history: list[LedgerEntry],
) -> None:
    write_checkpoint()
    assert checkpoint_problems() == []
    assert _verify("--checkpoints") is None


def test_a_rewritten_ledger_chain_passes_the_walk_but_not_the_checkpoint(
    history: list[LedgerEntry], stock: Stock
) -> None:
    write_checkpoint()
    _rewrite_ledger_from(3)

    assert _verify() is None  # the chain alone cannot tell
    message = _verify("--checkpoints")
    assert message is not None
    assert f"ledger chain of registrant {stock.registrant.pk} entry #8" in message
    assert "the chain was rewritten" in message


def test_newest_entries_deleted_and_head_fixed_are_caught(
    history: list[LedgerEntry], stock: Stock
) -> None:
    write_checkpoint()
    _triggers_off()
    _sql(f"DELETE FROM {TABLE} WHERE seq > 6")
    six = LedgerEntry.objects.get(seq=6)
    LedgerHead.objects.filter(registrant=stock.registrant).update(
        seq=6, hash=six.hash, stock_on_hand_mg=six.stock_on_hand_after_mg
    )

    problems = checkpoint_problems()
    assert any("entry #8, which is gone" in p for p in problems)


def _audit_triggers_off() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
            cursor.execute("DROP TRIGGER audit_auditevent_no_delete")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")


def test_a_rewritten_audit_chain_is_caught(history: list[LedgerEntry]) -> None:
    write_checkpoint()
    _audit_triggers_off()
    # Rewrite the chain of the second event from that event on, and its head.
    second = AuditEvent.objects.order_by("seq")[1]
    chain = chain_name(second.organization_id)
    prev = second.prev_hash
    same_chain = (
        Q(organization_id__isnull=True)
        if second.organization_id is None
        else Q(organization_id=second.organization_id)
    )
    for event in AuditEvent.objects.filter(same_chain, seq__gte=second.seq).order_by(
        "seq"
    ):
        if event.seq == second.seq:
            event.subject_id = "rewritten"
        event.prev_hash = prev
        event.hash = content_hash(event.hashed_content())
        _sql(
            "UPDATE audit_auditevent SET subject_id = %s, prev_hash = %s, hash = %s "
            "WHERE seq = %s",
            [event.subject_id, event.prev_hash, event.hash, event.seq],
        )
        prev = event.hash
    ChainHead.objects.filter(name=chain).update(hash=prev)

    assert _verify() is None
    message = _verify("--checkpoints")
    assert message is not None
    assert f"audit chain {chain!r}" in message


def test_deleted_seals_are_caught(history: list[LedgerEntry]) -> None:
    write_checkpoint()
    newest = Seal.objects.latest("id")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_seal_no_delete")
        else:
            cursor.execute("ALTER TABLE audit_seal DISABLE TRIGGER USER")
    _sql("DELETE FROM audit_seal WHERE id = %s", [newest.pk])

    assert any("seals were deleted" in p for p in checkpoint_problems())


def test_an_edited_checkpoint_file_is_refused(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    path = write_checkpoint()
    path.chmod(0o600)
    path.write_bytes(path.read_bytes().replace(b'"seq": 8', b'"seq": 7'))

    problems = checkpoint_problems()
    assert any("does not carry a valid HMAC" in p for p in problems)


def test_checkpoints_are_read_only_and_never_replaced(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    first = write_checkpoint()
    second = write_checkpoint()
    assert first != second
    assert first.stat().st_mode & 0o777 == 0o400
    assert len(checkpoint_files()) == 2


def test_without_checkpoints_verify_checkpoints_says_so(
    history: list[LedgerEntry],
) -> None:
    message = _verify("--checkpoints")
    assert message is not None
    assert "no checkpoints" in message


def test_the_worker_writes_a_checkpoint_hourly(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    job = next(j for j in PERIODIC_JOBS if j.name == "integrity.checkpoint")
    assert job.task == "neuroclinic.operations.tasks.write_chain_checkpoint"
    assert job.every.total_seconds() == 3600

    name = write_chain_checkpoint.call()

    assert (checkpoint_dir / name).exists()
    assert checkpoint_problems() == []


def test_each_checkpoint_names_the_one_before_so_a_deleted_file_is_caught(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    first = write_checkpoint()
    middle = write_checkpoint()
    write_checkpoint()
    assert checkpoint_problems() == []

    middle.unlink()

    assert any(
        f"follows {middle.name}, which is gone" in p for p in checkpoint_problems()
    )
    assert first.exists()


def test_a_replaced_previous_checkpoint_is_caught(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    first = write_checkpoint()
    write_checkpoint()
    # Replaced by another validly signed checkpoint under the same name.
    stand_in = write_checkpoint(checkpoint_dir / "elsewhere")
    first.chmod(0o600)
    first.write_bytes(stand_in.read_bytes())

    assert any(
        f"follows {first.name}, whose content has changed" in p
        for p in checkpoint_problems()
    )


def test_deleting_the_newest_checkpoints_leaves_a_stale_one_that_is_reported(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    write_checkpoint()
    newest = write_checkpoint()
    written = datetime.fromisoformat(read_checkpoint(newest).written_at)
    newest.unlink()

    soon = written + timedelta(minutes=settings.CHECKPOINT_MAX_AGE_MINUTES - 1)
    late = written + timedelta(minutes=settings.CHECKPOINT_MAX_AGE_MINUTES + 1)
    assert not any("the worker stopped" in p for p in checkpoint_problems(now=soon))
    assert any(
        "the worker stopped writing them, or the newest files were deleted" in p
        for p in checkpoint_problems(now=late)
    )


def _soon_after(path: Path) -> datetime:
    return datetime.fromisoformat(read_checkpoint(path).written_at) + timedelta(
        minutes=1
    )


def test_checkpoints_are_numbered_and_a_gap_in_the_sequence_is_named(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    paths = [write_checkpoint() for _ in range(4)]
    assert [read_checkpoint(p).number for p in paths] == [1, 2, 3, 4]
    assert checkpoint_problems(now=_soon_after(paths[-1])) == []

    paths[1].unlink()
    paths[2].unlink()

    problems = checkpoint_problems(now=_soon_after(paths[-1]))
    assert any(
        "checkpoint #4 of" in p and "follows checkpoint #1: the sequence has a gap" in p
        for p in problems
    ), problems


def test_the_newest_checkpoint_deleted_within_its_interval_is_named_by_its_audit_event(
    history: list[LedgerEntry], checkpoint_dir: Path
) -> None:
    write_checkpoint()
    newest = write_checkpoint()
    event = AuditEvent.objects.filter(
        action=AuditEvent.Action.CHECKPOINT_WRITTEN
    ).latest("seq")
    assert event.data["file"] == newest.name
    assert event.data["number"] == 2
    soon = _soon_after(newest)
    assert checkpoint_problems(now=soon) == []

    newest.unlink()

    problems = checkpoint_problems(now=soon)
    assert problems == [
        f"audit event #{event.seq} records checkpoint #2 ({newest.name}), which is "
        f"gone from {checkpoint_dir}: checkpoint files were deleted"
    ]
    message = _verify("--checkpoints")
    assert message is not None
    assert "records checkpoint #2" in message


def _cut_audit_chain_back_to(checkpoint: Path) -> None:
    """The forger's last step: the system chain back to what `checkpoint` recorded."""
    recorded = {h["chain"]: h for h in read_checkpoint(checkpoint).heads}
    head = recorded.get(f"audit:{SYSTEM_CHAIN}")
    seq = int(head["seq"]) if head else 0
    _audit_triggers_off()
    _sql(
        "DELETE FROM audit_auditevent WHERE organization_id IS NULL AND seq > %s",
        [seq],
    )
    if head is None:
        ChainHead.objects.filter(name=SYSTEM_CHAIN).delete()
    else:
        ChainHead.objects.filter(name=SYSTEM_CHAIN).update(
            seq=head["seq"], hash=head["hash"]
        )


def test_deleting_the_newest_checkpoint_and_the_events_after_it_is_caught_by_the_emailed_copy(
    history: list[LedgerEntry],
    checkpoint_dir: Path,
    tmp_path: Path,
    custodian: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    first = write_checkpoint()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        newest = write_checkpoint()
    (sent,) = mail.outbox
    assert sent.to == ["custodian@example.com"]
    assert "#2" in sent.subject
    ((name, content, mimetype),) = sent.attachments
    assert (name, mimetype) == (newest.name, "application/json")
    assert content == newest.read_bytes()
    kept = tmp_path / "inbox" / name  # the custodian saves the attachment
    kept.parent.mkdir()
    kept.write_bytes(content)
    assert copy_problems([kept]) == []
    assert _verify("--checkpoint-copy", str(kept)) is None

    # Delete the newest file and cut the audit chain back to the checkpoint before it.
    newest.unlink()
    _cut_audit_chain_back_to(first)

    # Without the copy this passes: the residual gap docs/security.md names.
    assert checkpoint_problems(now=_soon_after(first)) == []
    # The kept copy names both what was cut and what was deleted.
    problems = copy_problems([kept])
    assert any("which is gone: the chain was cut back" in p for p in problems), problems
    assert any(
        f"({newest.name}) is not in {checkpoint_dir}: checkpoint files were deleted"
        in p
        for p in problems
    ), problems
    message = _verify("--checkpoint-copy", str(kept))
    assert message is not None
    assert "the copy of checkpoint #2" in message


def test_an_altered_copy_is_refused(history: list[LedgerEntry], tmp_path: Path) -> None:
    path = write_checkpoint()
    forged = tmp_path / path.name
    forged.write_bytes(path.read_bytes().replace(b'"number": 1', b'"number": 9'))
    assert copy_problems([forged]) == [
        f"copy {path.name} does not carry a valid HMAC: it was altered or forged"
    ]


def test_checkpoint_email_goes_to_the_configured_address_and_never_across_organizations(
    history: list[LedgerEntry],
    custodian: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    assert checkpoint_recipients() == ["custodian@example.com"]
    with override_settings(CHECKPOINT_EMAIL_TO=["vault@example.org"]):
        assert checkpoint_recipients() == ["vault@example.org"]
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            write_checkpoint()
        assert [m.to for m in mail.outbox] == [["vault@example.org"]]
    # A second organization: its custodians must not see the first's balances.
    Organization.objects.create(name="Another clinic")
    assert checkpoint_recipients() == []
