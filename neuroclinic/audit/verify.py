"""Walking a hash chain to prove nobody changed it behind the application's back."""

from collections.abc import Iterable
from dataclasses import dataclass

from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.audit.record import AUDIT_CHAIN
from neuroclinic.lib.hashchain import GENESIS_HASH, content_hash


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def verify_events(events: Iterable[AuditEvent], *, head: ChainHead) -> ChainReport:
    """Check every link; stop at the first broken one.

    Edited rows fail the content hash; deleted, inserted or reordered rows fail
    the sequence or previous-hash check; a deleted tail fails against the head.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(
                ok=False,
                checked=checked,
                head_hash=head.hash,
                first_bad_seq=event.seq,
                problem=f"expected event #{expected_seq} next but found #{event.seq}: "
                "events were deleted, inserted or renumbered",
            )
        if event.prev_hash != prev_hash:
            return ChainReport(
                ok=False,
                checked=checked,
                head_hash=head.hash,
                first_bad_seq=event.seq,
                problem="its previous-hash link does not match the event before it: "
                "events were deleted, inserted or reordered",
            )
        if content_hash(event.hashed_content()) != event.hash:
            return ChainReport(
                ok=False,
                checked=checked,
                head_hash=head.hash,
                first_bad_seq=event.seq,
                problem="its content does not match its hash: the event was edited",
            )
        prev_hash = event.hash
        expected_seq += 1
        checked += 1

    if head.seq != checked or head.hash != prev_hash:
        return ChainReport(
            ok=False,
            checked=checked,
            head_hash=head.hash,
            first_bad_seq=checked + 1 if head.seq > checked else head.seq,
            problem=f"the chain ends at #{checked} but its head records #{head.seq}: "
            "the newest events were deleted or the head was altered",
        )
    return ChainReport(ok=True, checked=checked, head_hash=prev_hash)


def verify_audit_chain() -> ChainReport:
    head = ChainHead.objects.get(name=AUDIT_CHAIN)
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)
    return verify_events(events, head=head)
