"""Signed checkpoints of every chain head, written where the database cannot rewrite them.

A hash chain proves that no row was changed *unless the whole chain after it was
rewritten*: someone with the database can edit an old row and recompute every
later hash and the head. A checkpoint closes that: on a schedule (the
`integrity.checkpoint` job, hourly) the worker writes every head (sequence
number and hash of the audit chain, of each registrant's ledger chain, and the
count of record seals up to the newest seal id) and the time, into a file in
`CHECKPOINT_DIR`, with an HMAC keyed by INTEGRITY_KEY (a secret outside the
database). `neuroclinic verify --checkpoints` then proves the chains still hold
every checkpoint: the event or entry at each recorded sequence number still has
the recorded hash, and no seal recorded by a checkpoint was deleted.

CHECKPOINT_DIR should be a place the database's owner cannot rewrite: another
machine's mount, an append-only (chattr +a) or object-locked store. The files
are written read-only and never rewritten; a changed or forged file fails its
HMAC. Each checkpoint names the one before it with that file's SHA-256, so a
deleted or swapped file in the middle is caught; deleting the newest files
leaves the newest remaining one older than CHECKPOINT_MAX_AGE_MINUTES, which
is reported too (a new one cannot be forged without INTEGRITY_KEY).

Checkpoints are numbered (1, 2, 3, ...), so a gap in the sequence is named by
number. Two further anchors catch deleting the newest file within its
interval:

- writing one records an audit event (`operations.checkpoint_written`, with the
  file's name, number and SHA-256) in the system chain: a checkpoint file that
  is gone while its event remains is reported, and removing the event means
  cutting back the audit chain;
- the signed file is emailed to CHECKPOINT_EMAIL_TO (or the only organization's
  controlled-substance custodians), a copy neither the database nor the
  directory can take back; `neuroclinic verify --checkpoint-copy FILE` proves
  the chains and the directory still hold an emailed copy.

What stays uncaught: someone who deletes the newest checkpoint file AND cuts
the audit and ledger chains back to before it (which the previous checkpoint
cannot see) when no emailed copy is checked (docs/security.md).
"""

import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from neuroclinic.audit.models import AuditEvent, ChainHead, Seal
from neuroclinic.audit.record import record
from neuroclinic.audit.seals import integrity_key
from neuroclinic.ledger.models import LedgerEntry, Registrant
from neuroclinic.ledger.verify import Anchor, verify_registrant

logger = logging.getLogger(__name__)

PREFIX = "checkpoint-"
SUFFIX = ".json"


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    written_at: str
    heads: list[dict[str, Any]]

    @property
    def number(self) -> int | None:
        """Its place in the sequence (None in files written before numbering)."""
        for head in self.heads:
            if head.get("chain") == "checkpoints" and "number" in head:
                try:
                    return int(head["number"])
                except (TypeError, ValueError):
                    return None
        return None


def _ledger_head(
    registrant: Registrant, previous: "Checkpoint | None"
) -> dict[str, Any]:
    """The registrant's head, verified from the previous checkpoint on (incremental).

    An intact walk records the head it reached with the balances there, so the
    next checkpoint (and `ledger verify --incremental`) starts from it. A broken
    chain records the head as it stands and the problem, without balances.
    """
    since = ledger_anchor(previous, registrant.pk)
    report = verify_registrant(registrant, since=since)
    if report.ok and report.anchor is not None:
        state = report.anchor.as_json()
        return {
            "chain": f"ledger:{registrant.pk}",
            "seq": state.pop("seq"),
            "hash": state.pop("hash"),
            "state": state,
        }
    return {
        "chain": f"ledger:{registrant.pk}",
        "seq": report.head_seq,
        "hash": report.head_hash,
        "problem": report.describe(),
    }


def current_heads(previous: "Checkpoint | None" = None) -> list[dict[str, Any]]:
    """Every chain head now: audit chains, registrant ledger chains, record seals."""
    heads: list[dict[str, Any]] = [
        {"chain": f"audit:{name}", "seq": seq, "hash": hash_}
        for name, seq, hash_ in ChainHead.objects.order_by("name").values_list(
            "name", "seq", "hash"
        )
    ]
    heads += [
        _ledger_head(registrant, previous)
        for registrant in Registrant.objects.order_by("id")
    ]
    max_id = Seal.objects.aggregate(m=Max("id"))["m"] or 0
    heads.append(
        {
            "chain": "seals",
            "max_id": max_id,
            "count": Seal.objects.filter(id__lte=max_id).count(),
        }
    )
    return heads


def wait_for_wal_flush() -> None:
    """Return once what this connection has read is on disk (PostgreSQL; SQLite: at once).

    A read's audit event may commit asynchronously (AUDIT_READ_COMMIT=async): it
    is visible, and its chain's head moved, before its WAL is flushed, which
    PostgreSQL does within 3 x wal_writer_delay. A checkpoint written in that
    window would name a head that an OS or database crash could still take back,
    and `verify --checkpoints` would then report a cut chain. So wait until the
    WAL is flushed up to where it was when the heads were read, and no longer
    than that bound (records after the last asynchronous commit, of transactions
    still open, are flushed by their own commits, not by the WAL writer).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_current_wal_insert_lsn()::text, setting::int "
            "FROM pg_settings WHERE name = 'wal_writer_delay'"
        )
        target, delay_ms = cursor.fetchone()
        deadline = time.monotonic() + 3 * delay_ms / 1000 + 0.1
        while True:
            cursor.execute(
                "SELECT pg_current_wal_flush_lsn() >= CAST(%s AS pg_lsn)", [target]
            )
            if cursor.fetchone()[0] or time.monotonic() > deadline:
                return
            time.sleep(0.01)


def _signature(body: bytes) -> str:
    return hmac.new(integrity_key(), body, hashlib.sha256).hexdigest()


def _body(written_at: str, heads: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {"written_at": written_at, "heads": heads}, option=orjson.OPT_SORT_KEYS
    )


def write_checkpoint(directory: Path | None = None) -> Path:
    """Write the current heads, signed, as a new read-only file; never overwrite one."""
    folder = Path(directory or settings.CHECKPOINT_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = timezone.now()
    written_at = now.isoformat(timespec="microseconds")
    latest = latest_checkpoint(folder)
    heads = current_heads(latest)
    wait_for_wal_flush()  # no head a crash could take back (a read's event)
    files = checkpoint_files(folder)
    number = ((latest.number or len(files)) if latest is not None else 0) + 1
    heads.append(
        {
            "chain": "checkpoints",
            "number": number,
            "previous": files[-1].name if files else None,
            "sha256": hashlib.sha256(files[-1].read_bytes()).hexdigest()
            if files
            else None,
        }
    )
    body = _body(written_at, heads)
    document = orjson.dumps(
        {
            "written_at": written_at,
            "heads": heads,
            "hmac_sha256": _signature(body),
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2,
    )
    path = folder / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    # O_EXCL: a checkpoint is never replaced, even by a second worker.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "wb") as out:
        out.write(document)
        out.flush()
        os.fsync(out.fileno())
    digest = hashlib.sha256(document).hexdigest()
    with transaction.atomic():
        record(
            AuditEvent.Action.CHECKPOINT_WRITTEN,
            actor=None,
            actor_username="worker",
            file=path.name,
            number=number,
            sha256=digest,
        )
        recipients = checkpoint_recipients()
        if recipients:
            transaction.on_commit(
                lambda: email_checkpoint(path.name, number, document, recipients)
            )
    return path


def checkpoint_recipients() -> list[str]:
    """CHECKPOINT_EMAIL_TO, or the custodians when the installation runs one organization."""
    if settings.CHECKPOINT_EMAIL_TO:
        return list(settings.CHECKPOINT_EMAIL_TO)
    from neuroclinic.accounts.models import User
    from neuroclinic.accounts.roles import Role
    from neuroclinic.clinics.models import Organization

    # A checkpoint holds every organization's ledger balances: never email one
    # organization's custodians another's.
    if Organization.objects.count() != 1:
        return []
    return sorted(
        {
            email
            for email in User.objects.filter(
                is_active=True, groups__name=Role.CUSTODIAN.value
            ).values_list("email", flat=True)
            if email
        }
    )


def email_checkpoint(
    name: str, number: int, document: bytes, recipients: list[str]
) -> None:
    """The signed file as an attachment; a mail server that is down never undoes it."""
    message = EmailMessage(
        subject=f"[Neuroclinic] Signed chain checkpoint #{number}",
        body=(
            f"Attached is signed checkpoint #{number} of the clinic's audit and "
            "controlled-substance ledger chains. Keep this email: it is a copy the "
            "database cannot change. To prove the records still hold it, save the "
            "attachment and run:\n\n"
            f"    neuroclinic verify --checkpoints --checkpoint-copy {name}\n"
        ),
        to=recipients,
    )
    message.attach(name, document, "application/json")
    try:
        message.send()
    except (
        Exception
    ):  # the checkpoint file stands; the failure is logged for the admins
        logger.exception("Could not email checkpoint %s to %s", name, recipients)


class CheckpointUnreadable(Exception):
    pass


def read_checkpoint(path: Path) -> Checkpoint:
    """Read and authenticate one file (CheckpointUnreadable if changed or forged)."""
    try:
        document = orjson.loads(path.read_bytes())
        written_at, heads, mac = (
            document["written_at"],
            document["heads"],
            document["hmac_sha256"],
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointUnreadable(f"{path.name} cannot be read: {exc}") from None
    if not isinstance(mac, str) or not hmac.compare_digest(
        mac, _signature(_body(written_at, heads))
    ):
        raise CheckpointUnreadable(
            f"{path.name} does not carry a valid HMAC: it was altered or forged"
        )
    return Checkpoint(path=path, written_at=written_at, heads=heads)


def checkpoint_files(directory: Path | None = None) -> list[Path]:
    folder = Path(directory or settings.CHECKPOINT_DIR)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))


def latest_checkpoint(directory: Path | None = None) -> Checkpoint | None:
    """The newest checkpoint whose HMAC is valid, or None."""
    for path in reversed(checkpoint_files(directory)):
        try:
            return read_checkpoint(path)
        except CheckpointUnreadable:
            continue
    return None


def ledger_anchor(checkpoint: Checkpoint | None, registrant_id: int) -> Anchor | None:
    """The verified point (with balances) a checkpoint recorded for this chain, or None."""
    if checkpoint is None:
        return None
    for head in checkpoint.heads:
        if head.get("chain") == f"ledger:{registrant_id}" and "state" in head:
            try:
                return Anchor.from_json(
                    {"seq": head["seq"], "hash": head["hash"], **head["state"]}
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                return None
    return None


def _problem_for(head: dict[str, Any], label: str, folder: Path) -> str | None:
    chain = str(head.get("chain", ""))
    if chain == "checkpoints":
        if head.get("previous") is None:
            return None
        previous = folder / Path(str(head["previous"])).name
        if not previous.is_file():
            return (
                f"{label} follows {previous.name}, which is gone: checkpoint files "
                "were deleted"
            )
        if hashlib.sha256(previous.read_bytes()).hexdigest() != head["sha256"]:
            return f"{label} follows {previous.name}, whose content has changed"
        return None
    if chain == "seals":
        max_id, count = int(head["max_id"]), int(head["count"])
        now = Seal.objects.filter(id__lte=max_id).count()
        if now != count:
            return (
                f"{label} recorded {count} record seals up to seal #{max_id}; "
                f"{now} remain: seals were deleted"
            )
        return None
    seq, expected = int(head["seq"]), str(head["hash"])
    if seq == 0:
        return None
    kind, _, name = chain.partition(":")
    found: str | None
    if kind == "audit":
        found = (
            AuditEvent.objects.filter(seq=seq, **_audit_chain_filter(name))
            .values_list("hash", flat=True)
            .first()
        )
        what = f"audit chain {name!r} event #{seq}"
    elif kind == "ledger":
        found = (
            LedgerEntry.objects.filter(registrant_id=int(name), seq=seq)
            .values_list("hash", flat=True)
            .first()
        )
        what = f"ledger chain of registrant {name} entry #{seq}"
    else:
        return f"{label} names an unknown chain {chain!r}"
    if found is None:
        return f"{label} recorded {what}, which is gone: the chain was cut back"
    if found != expected:
        return (
            f"{label} recorded {what} with hash {expected[:12]}…, the database now has "
            f"{found[:12]}…: the chain was rewritten"
        )
    return None


def _audit_chain_filter(name: str) -> dict[str, Any]:
    return {}


def checkpoint_problems(
    directory: Path | None = None, *, now: datetime | None = None
) -> list[str]:
    """Prove every checkpoint on file is still contained in the chains, and none is missing."""
    folder = Path(directory or settings.CHECKPOINT_DIR)
    files = checkpoint_files(folder)
    if not files:
        return [
            f"no checkpoints in {folder}: the chains are not "
            "anchored outside the database yet (the worker writes one hourly)"
        ]
    problems: list[str] = []
    newest: datetime | None = None
    last_number: int | None = None
    for path in files:
        try:
            checkpoint = read_checkpoint(path)
        except CheckpointUnreadable as exc:
            problems.append(f"checkpoint {exc}")
            continue
        label = _label(checkpoint)
        newest = _parsed(checkpoint.written_at) or newest
        number = checkpoint.number
        if number is not None:
            if last_number is not None and number != last_number + 1:
                problems.append(
                    f"{label} follows checkpoint #{last_number}: the sequence has a "
                    "gap, checkpoint files were deleted"
                    if number > last_number + 1
                    else f"{label} follows checkpoint #{last_number}: the sequence "
                    "runs backwards, checkpoint files were replaced"
                )
            last_number = number
        for head in checkpoint.heads:
            problem = _problem_for(head, label, folder)
            if problem:
                problems.append(problem)
    problems += _recorded_but_missing(folder)
    limit = timedelta(minutes=settings.CHECKPOINT_MAX_AGE_MINUTES)
    if newest is not None and (now or timezone.now()) - newest > limit:
        problems.append(
            f"the newest checkpoint is of {newest:%Y-%m-%d %H:%M} UTC, more than "
            f"{settings.CHECKPOINT_MAX_AGE_MINUTES} minutes ago: the worker stopped "
            "writing them, or the newest files were deleted"
        )
    return problems


def _parsed(written_at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(written_at)
    except ValueError:
        return None


def _when(written_at: str) -> str:
    try:
        return f"{datetime.fromisoformat(written_at):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return written_at


def _label(checkpoint: Checkpoint) -> str:
    number = f" #{checkpoint.number}" if checkpoint.number is not None else ""
    return f"checkpoint{number} of {_when(checkpoint.written_at)}"


def _recorded_but_missing(folder: Path) -> list[str]:
    """Each checkpoint the audit chain says was written is still on file, unchanged."""
    problems: list[str] = []
    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.CHECKPOINT_WRITTEN
    ).order_by("seq")
    for seq, data in events.values_list("seq", "data"):
        if not isinstance(data, dict) or not isinstance(data.get("file"), str):
            problems.append(f"audit event #{seq} records a checkpoint without its file")
            continue
        path = folder / Path(data["file"]).name
        what = (
            f"audit event #{seq} records checkpoint #{data.get('number')} ({path.name})"
        )
        if not path.is_file():
            problems.append(
                f"{what}, which is gone from {folder}: checkpoint files were deleted"
            )
        elif hashlib.sha256(path.read_bytes()).hexdigest() != data.get("sha256"):
            problems.append(f"{what}, whose content has changed")
    return problems


def copy_problems(copies: list[Path], directory: Path | None = None) -> list[str]:
    """Prove a copy kept elsewhere (the emailed attachment) is still held.

    The copy must carry a valid HMAC, every head it recorded must still be in its
    chain, and the checkpoint directory must still hold the same file: deleting
    the newest checkpoint file, and cutting the chains back behind it, is caught
    by the copy the custodian kept.
    """
    folder = Path(directory or settings.CHECKPOINT_DIR)
    problems: list[str] = []
    for copy in copies:
        try:
            checkpoint = read_checkpoint(copy)
        except CheckpointUnreadable as exc:
            problems.append(f"copy {exc}")
            continue
        label = f"the copy of {_label(checkpoint)}"
        for head in checkpoint.heads:
            if head.get("chain") == "checkpoints":
                continue
            problem = _problem_for(head, label, folder)
            if problem:
                problems.append(problem)
        on_file = folder / copy.name
        if not on_file.is_file():
            problems.append(
                f"{label} ({copy.name}) is not in {folder}: checkpoint files were deleted"
            )
        elif on_file.read_bytes() != copy.read_bytes():
            problems.append(
                f"{label} ({copy.name}) differs from the file in {folder}: it was replaced"
            )
    return problems
