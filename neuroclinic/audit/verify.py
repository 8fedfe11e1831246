"""Walking the audit hash chains to prove nobody changed them behind the application's back.

Events are chained per organization (plus the system chain for events without
one); the events written before that, with seq up to the closed global chain's
head, form the global chain, and each per-organization chain's first event links
to that head. One pass over the events in `seq` order walks every chain at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from neuroclinic.audit.models import AuditEvent, ChainHead
from neuroclinic.audit.record import AUDIT_CHAIN, chain_name
from neuroclinic.lib.hashchain import GENESIS_HASH, content_hash


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    chain: str = ""
    chains: int = 1


@dataclass
class _Walk:
    """Where one chain's walk stands: the last event's seq and hash, and how many were checked."""

    seq: int = 0
    hash: str = GENESIS_HASH
    checked: int = 0
    broken: ChainReport | None = field(default=None)


def _broken(
    chain: str, walk: _Walk, head: ChainHead | None, seq: int, problem: str
) -> ChainReport:
    return ChainReport(
        ok=False,
        checked=walk.checked,
        head_hash=head.hash if head is not None else "",
        first_bad_seq=seq,
        problem=problem,
        chain=chain,
    )


def verify_events(
    events: Iterable[AuditEvent], *, heads: dict[str, ChainHead]
) -> ChainReport:
    """Check every link of every chain; report the first broken one (lowest seq).

    Edited rows fail the content hash; deleted, inserted or reordered rows fail
    the previous-hash check (and, in the global chain, the sequence); a deleted
    tail fails against the chain's head; an event in a chain without a head is
    reported too.
    """
    legacy_head = heads.get(AUDIT_CHAIN)
    boundary = legacy_head.seq if legacy_head is not None else 0
    origin = legacy_head.hash if legacy_head is not None else GENESIS_HASH
    walks: dict[str, _Walk] = {AUDIT_CHAIN: _Walk()}
    total = 0
    for event in events:
        in_legacy = event.seq <= boundary
        name = AUDIT_CHAIN if in_legacy else chain_name(event.organization_id)
        walk = walks.get(name)
        if walk is None:
            walk = walks[name] = _Walk(hash=origin)
        if walk.broken is not None:
            continue
        head = heads.get(name)
        problem = ""
        if head is None:
            problem = (
                f"it belongs to chain {name!r}, which has no head: "
                "the event was inserted or the chain's head was deleted"
            )
        elif in_legacy and event.seq != walk.seq + 1:
            problem = (
                f"expected event #{walk.seq + 1} next but found #{event.seq}: "
                "events were deleted, inserted or renumbered"
            )
        elif event.prev_hash != walk.hash:
            problem = (
                "its previous-hash link does not match the event before it: "
                "events were deleted, inserted or reordered"
            )
        elif content_hash(event.hashed_content()) != event.hash:
            problem = "its content does not match its hash: the event was edited"
        if problem:
            walk.broken = _broken(name, walk, head, event.seq, problem)
            continue
        walk.seq, walk.hash = event.seq, event.hash
        walk.checked += 1
        total += 1

    for name, head in heads.items():
        walk = walks.setdefault(
            name, _Walk(hash=GENESIS_HASH if name == AUDIT_CHAIN else origin)
        )
        if walk.broken is None and (head.seq != walk.seq or head.hash != walk.hash):
            walk.broken = _broken(
                name,
                walk,
                head,
                walk.seq + 1
                if name == AUDIT_CHAIN and head.seq > walk.seq
                else head.seq,
                f"the chain ends at #{walk.seq} but its head records #{head.seq}: "
                "the newest events were deleted or the head was altered",
            )
    broken = [w.broken for w in walks.values() if w.broken is not None]
    if broken:
        first = min(broken, key=lambda r: r.first_bad_seq or 0)
        return ChainReport(
            ok=False,
            checked=total,
            head_hash=first.head_hash,
            first_bad_seq=first.first_bad_seq,
            problem=f"in chain {first.chain!r}, {first.problem}",
            chain=first.chain,
            chains=len(heads),
        )
    newest = max(heads.values(), key=lambda h: h.seq, default=None)
    return ChainReport(
        ok=True,
        checked=total,
        head_hash=newest.hash if newest is not None else GENESIS_HASH,
        chains=len(heads),
    )


def verify_audit_chain() -> ChainReport:
    """Every audit chain, from its first event (the global chain's and each organization's)."""
    heads = {head.name: head for head in ChainHead.objects.all()}
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)
    return verify_events(events, heads=heads)
