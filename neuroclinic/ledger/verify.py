"""Proving nobody changed the ledger behind the application's back.

For each registrant, walk its entries in sequence order and check, stopping at the
first bad entry:
- the sequence has no gap or repeat (a row deleted, inserted or renumbered);
- each entry's previous-hash link matches the entry before it (deleted, inserted,
  reordered);
- each entry's content matches its hash (edited);
- every running balance re-adds: the vial, the lot, the session and the stock on
  hand, and mg agrees with mL at the product's concentration;
- each earlier check's recorded head (LedgerCheck) still sits in the chain (the
  chain was not rewritten and re-hashed after that check);
then that the chain head and every container's cached balance agree with the
entries. Reads rows as tuples, not model instances, so a million entries take
tens of seconds (benchmarks/LEDGER.md).
"""

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection

from neuroclinic.ledger.models import (
    Container,
    LedgerCheck,
    LedgerEntry,
    LedgerHead,
    Product,
    Registrant,
    as_quantity,
)
from neuroclinic.lib.hashchain import GENESIS_HASH

ZERO = Decimal("0.00")

# The columns the hash covers, in LedgerEntry.hashed_content's names.
HASHED_COLUMNS = (
    "seq",
    "uuid",
    "organization_id",
    "registrant_id",
    "kind",
    "occurred_at",
    "recorded_at",
    "container_id",
    "lot_id",
    "product_id",
    "storage_location_id",
    "quantity_ml",
    "quantity_mg",
    "container_change_ml",
    "session_change_ml",
    "container_balance_after_ml",
    "lot_balance_after_ml",
    "session_balance_after_ml",
    "stock_on_hand_after_mg",
    "session_ref",
    "patient_id",
    "actor_id",
    "actor_name",
    "witness_id",
    "witness_name",
    "witness_confirmed_at",
    "reason",
    "reverses_id",
    "receipt_id",
    "discrepancy_id",
    "details",
    "prev_hash",
)
QUANTITY_COLUMNS = frozenset(
    {
        "quantity_ml",
        "quantity_mg",
        "container_change_ml",
        "session_change_ml",
        "container_balance_after_ml",
        "lot_balance_after_ml",
        "session_balance_after_ml",
        "stock_on_hand_after_mg",
    }
)


@dataclass(frozen=True)
class LedgerReport:
    registrant_id: int
    registrant: str
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_entry: str = ""
    problem: str = ""
    # Where an intact walk ended, with the balances there (for the next checkpoint).
    anchor: "Anchor | None" = None

    def describe(self) -> str:
        if self.ok:
            return (
                f"{self.registrant}: intact, {self.checked} entries, balances re-add. "
                f"Head #{self.head_seq} {self.head_hash}"
            )
        where = (
            f"entry #{self.first_bad_seq} ({self.first_bad_entry})"
            if self.first_bad_seq is not None
            else "its balances"
        )
        return (
            f"{self.registrant}: BROKEN at {where}: {self.problem}. "
            f"{self.checked} entries before it are intact."
        )


def row_content(row: tuple[Any, ...]) -> dict[str, Any]:
    """A fetched row as the dict LedgerEntry.hashed_content() builds."""
    content = dict(zip(HASHED_COLUMNS, row, strict=True))
    content["uuid"] = str(content["uuid"])
    for name in QUANTITY_COLUMNS:
        content[name] = as_quantity(content[name])
    return content


DATETIME_COLUMNS = ("occurred_at", "recorded_at", "witness_confirmed_at")


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """`lib.hashchain.canonical_json(content)`, as bytes, without its float guard.

    Same text (a test compares them): datetimes become UTC ISO 8601 with
    microseconds, everything else is already str, int, None or JSON from the
    database. The guard is not needed here: floats were refused when each entry
    was written, so a float in a stored row cannot match its hash anyway. Skipping
    it makes verification several times faster (benchmarks/LEDGER.md).
    """
    for name in DATETIME_COLUMNS:
        value = content[name]
        if value is not None:
            content[name] = value.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def cents_text(cents: int | None) -> str | None:
    """Integer hundredths as the two-place text `as_quantity` gives (-80 -> "-0.80")."""
    if cents is None:
        return None
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


def _half_up(value: int, divisor: int) -> int:
    """value / divisor rounded half away from zero (mg_from_ml's ROUND_HALF_UP)."""
    q, r = divmod(abs(value), divisor)
    if 2 * r >= divisor:
        q += 1
    return -q if value < 0 else q


def _select(vendor: str) -> str:
    """The hashed columns, quantities as integer hundredths; on SQLite datetimes as text
    (the column type would make the driver parse them)."""
    parts = []
    for name in (*HASHED_COLUMNS, "hash"):
        if name in QUANTITY_COLUMNS:
            parts.append(f"CAST(ROUND({name} * 100) AS BIGINT)")
        elif vendor == "sqlite" and name in DATETIME_COLUMNS:
            parts.append(f"CAST({name} AS TEXT)")
        else:
            parts.append(name)
    return ", ".join(parts)


_INDEX = {name: i for i, name in enumerate(HASHED_COLUMNS)}
_DATETIMES = tuple(_INDEX[name] for name in DATETIME_COLUMNS)
_QUANTITIES = tuple(_INDEX[name] for name in sorted(QUANTITY_COLUMNS))
_UUID, _DETAILS = _INDEX["uuid"], _INDEX["details"]
_SEQ, _PREV = _INDEX["seq"], _INDEX["prev_hash"]


def _sqlite_datetime(value: str | None) -> str | None:
    """Django's SQLite text ("2026-01-01 08:00:00[.123456]", UTC) as canonical ISO 8601."""
    if value is None:
        return None
    text = value.replace(" ", "T", 1)
    if "." not in text:
        text += ".000000"
    return text + "+00:00"


def _pg_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def fast_canonical(row: Sequence[Any], vendor: str) -> tuple[bytes, dict[str, Any]]:
    """One raw row (quantities as integer hundredths) as its canonical bytes, and the content.

    The same bytes as `canonical_bytes(row_content(...))` and as
    `lib.hashchain.canonical_json(entry.hashed_content())` (a test compares all
    three), built without Django's per-value converters or Decimal, and encoded
    by orjson.
    """
    values = list(row[: len(HASHED_COLUMNS)])
    if vendor == "sqlite":
        for i in _DATETIMES:
            values[i] = _sqlite_datetime(values[i])
        u = values[_UUID]
        values[_UUID] = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
    else:
        for i in _DATETIMES:
            values[i] = _pg_datetime(values[i])
        values[_UUID] = str(values[_UUID])
    details = values[_DETAILS]
    if isinstance(details, str | bytes):  # Django leaves JSON undecoded on both drivers
        values[_DETAILS] = orjson.loads(details)
    cents = {HASHED_COLUMNS[i]: values[i] for i in _QUANTITIES}
    for i in _QUANTITIES:
        values[i] = cents_text(values[i])
    content = dict(zip(HASHED_COLUMNS, values, strict=True))
    try:
        blob = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits in details
        blob = json.dumps(
            content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    content.update(cents)  # the re-adding works on integers
    return blob, content


@dataclass
class Anchor:
    """A point of a registrant's chain proven earlier, with the balances there (in hundredths)."""

    seq: int
    hash: str
    stock_cents: int = 0
    containers: dict[int, int] = field(default_factory=dict)
    lots: dict[int, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        def nonzero(d: dict[Any, int]) -> dict[str, int]:
            return {str(k): v for k, v in d.items() if v}

        return {
            "seq": self.seq,
            "hash": self.hash,
            "stock_cents": self.stock_cents,
            "containers": nonzero(self.containers),
            "lots": nonzero(self.lots),
            "sessions": nonzero(self.sessions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Anchor":
        return cls(
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            stock_cents=int(data["stock_cents"]),
            containers={int(k): int(v) for k, v in data["containers"].items()},
            lots={int(k): int(v) for k, v in data["lots"].items()},
            sessions={str(k): int(v) for k, v in data["sessions"].items()},
        )


def _raw_rows(
    registrant_id: int, after_seq: int, upto_seq: int
) -> Iterator[Sequence[Any]]:
    sql = (
        f"SELECT {_select(connection.vendor)} FROM ledger_ledgerentry WHERE registrant_id = %s "  # noqa: S608
        "AND seq > %s AND seq <= %s ORDER BY seq"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [registrant_id, after_seq, upto_seq])
        while rows := cursor.fetchmany(10_000):
            yield from rows


class _Broken(Exception):
    def __init__(self, seq: int | None, entry: str, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.entry = entry
        self.problem = problem


def verify_registrant(
    registrant: Registrant, *, since: Anchor | None = None
) -> LedgerReport:
    """Walk the registrant's chain; from `since` (a checkpoint's anchor) when given.

    With an anchor only the entries after it are hashed and re-added, starting
    from the balances the anchor recorded; the entry at the anchor must still
    carry the anchor's hash. Without one, the whole chain from entry #1.
    """
    head = LedgerHead.objects.filter(registrant=registrant).first()
    label = f"{registrant.name} ({registrant.dea_number})"
    if head is None:
        # A registrant row with no chain (one inserted in SQL, which the seal check
        # names): no entries is an empty, intact chain; entries without a head are not.
        orphaned = LedgerEntry.objects.filter(registrant=registrant).exists()
        return LedgerReport(
            registrant_id=registrant.pk,
            registrant=label,
            ok=not orphaned,
            checked=0,
            head_seq=0,
            head_hash="",
            first_bad_seq=1 if orphaned else None,
            problem="its entries have no ledger head" if orphaned else "",
        )
    try:
        checked, end = _walk(registrant, head, since)
    except _Broken as broken:
        return LedgerReport(
            registrant_id=registrant.pk,
            registrant=label,
            ok=False,
            checked=broken.seq - 1 if broken.seq else head.seq,
            head_seq=head.seq,
            head_hash=head.hash,
            first_bad_seq=broken.seq,
            first_bad_entry=broken.entry,
            problem=broken.problem,
        )
    return LedgerReport(
        registrant_id=registrant.pk,
        registrant=label,
        ok=True,
        checked=checked,
        head_seq=head.seq,
        head_hash=head.hash,
        anchor=end,
    )


def _start(registrant: Registrant, since: Anchor | None) -> Anchor:
    if since is None or since.seq == 0:
        return Anchor(seq=0, hash=GENESIS_HASH)
    found = (
        LedgerEntry.objects.filter(registrant=registrant, seq=since.seq)
        .values_list("hash", "uuid")
        .first()
    )
    if found is None or found[0] != since.hash:
        raise _Broken(
            since.seq,
            str(found[1]) if found else "",
            "it is not the entry the signed checkpoint recorded: the chain was rewritten "
            "or cut back after that checkpoint",
        )
    return Anchor(
        seq=since.seq,
        hash=since.hash,
        stock_cents=since.stock_cents,
        containers=dict(since.containers),
        lots=dict(since.lots),
        sessions=dict(since.sessions),
    )


def _walk(
    registrant: Registrant, head: LedgerHead, since: Anchor | None
) -> tuple[int, Anchor]:
    per_ml: dict[int, int] = {
        pk: int(value * 100)
        for pk, value in Product.objects.filter(
            organization_id=registrant.organization_id
        ).values_list("pk", "concentration_mg_per_ml")
    }
    anchors: dict[int, tuple[str, str]] = {
        seq: (hash_, f"{ran_at:%Y-%m-%d %H:%M} UTC")
        for seq, hash_, ran_at in LedgerCheck.objects.filter(
            registrant=registrant, ok=True, head_seq__gt=0
        ).values_list("head_seq", "head_hash", "ran_at")
    }
    state = _start(registrant, since)
    vendor = connection.vendor
    expected_seq = state.seq + 1
    prev_hash = state.hash
    sha256 = hashlib.sha256
    for row in _raw_rows(registrant.pk, state.seq, head.seq):
        seq = row[_SEQ]
        stored_hash = row[-1]
        if seq != expected_seq:
            raise _Broken(
                seq if seq > expected_seq else expected_seq,
                _uuid_text(row[_UUID]),
                f"expected entry #{expected_seq} next but found #{seq}: entries were "
                "deleted, inserted or renumbered",
            )
        if row[_PREV] != prev_hash:
            raise _Broken(
                seq,
                _uuid_text(row[_UUID]),
                "its previous-hash link does not match the entry before it: entries were "
                "deleted, inserted or reordered",
            )
        blob, content = fast_canonical(row, vendor)
        if sha256(blob).hexdigest() != stored_hash:
            raise _Broken(
                seq,
                content["uuid"],
                "its content does not match its hash: the entry was edited",
            )
        anchor = anchors.get(seq)
        if anchor is not None and anchor[0] != stored_hash:
            raise _Broken(
                seq,
                content["uuid"],
                f"it differs from the head recorded by the check of {anchor[1]}: the chain "
                "was rewritten after that check",
            )
        _readd(content, state, per_ml)
        prev_hash = stored_hash
        expected_seq += 1

    last = expected_seq - 1
    if head.seq != last or head.hash != prev_hash:
        raise _Broken(
            last + 1 if head.seq > last else head.seq,
            "",
            f"the chain ends at #{last} but its head records #{head.seq}: the newest "
            "entries were deleted or the head was altered",
        )
    _check_nothing_beyond(registrant, head)
    if int(head.stock_on_hand_mg * 100) != state.stock_cents:
        raise _Broken(
            None,
            "",
            f"the head's stock on hand is {head.stock_on_hand_mg} mg but the entries add to "
            f"{cents_text(state.stock_cents)} mg",
        )
    _check_container_caches(registrant, state.containers)
    state.seq, state.hash = last, prev_hash
    return last - (since.seq if since else 0), state


def _uuid_text(value: Any) -> str:
    text = str(value)
    if len(text) == 32:
        return str(uuid.UUID(text))
    return text


def _check_nothing_beyond(registrant: Registrant, head: LedgerHead) -> None:
    """Entries past the head are an insertion, unless a writer moved the head meanwhile."""
    beyond = (
        LedgerEntry.objects.filter(registrant=registrant, seq__gt=head.seq)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if beyond is None:
        return
    now = LedgerHead.objects.filter(pk=head.pk).values_list("seq", flat=True).first()
    if now is None or now < beyond:
        raise _Broken(
            head.seq + 1,
            "",
            f"the chain ends at #{beyond} or later but its head records #{head.seq}: "
            "entries were inserted or the head was altered",
        )


def _readd(content: dict[str, Any], state: Anchor, per_ml: dict[int, int]) -> None:
    seq = content["seq"]
    name = content["uuid"]
    change = content["container_change_ml"]
    concentration = per_ml.get(content["product_id"])
    if concentration is None:
        raise _Broken(seq, name, "its product belongs to another organization")
    quantity_ml = content["quantity_ml"]
    expected_mg = _half_up(quantity_ml * concentration, 100)
    if content["quantity_mg"] != expected_mg:
        raise _Broken(
            seq,
            name,
            f"its {cents_text(content['quantity_mg'])} mg is not "
            f"{cents_text(quantity_ml)} mL at {cents_text(concentration)} mg/mL "
            f"({cents_text(expected_mg)} mg)",
        )
    container_id = content["container_id"]
    container_after = state.containers.get(container_id, 0) + change
    if container_after != content["container_balance_after_ml"] or container_after < 0:
        raise _Broken(
            seq,
            name,
            f"the vial's balance re-adds to {cents_text(container_after)} mL, not the "
            f"{cents_text(content['container_balance_after_ml'])} mL it records",
        )
    state.containers[container_id] = container_after
    lot_id = content["lot_id"]
    lot_after = state.lots.get(lot_id, 0) + change
    if lot_after != content["lot_balance_after_ml"] or lot_after < 0:
        raise _Broken(
            seq,
            name,
            f"the lot's balance re-adds to {cents_text(lot_after)} mL, not the "
            f"{cents_text(content['lot_balance_after_ml'])} mL it records",
        )
    state.lots[lot_id] = lot_after
    ref = content["session_ref"]
    if ref:
        session_after = state.sessions.get(ref, 0) + content["session_change_ml"]
        recorded = content["session_balance_after_ml"]
        if recorded is None or session_after != recorded or session_after < 0:
            raise _Broken(
                seq,
                name,
                f"the session's drawn-and-unaccounted amount re-adds to "
                f"{cents_text(session_after)} mL, not the {cents_text(recorded)} mL it "
                "records",
            )
        state.sessions[ref] = session_after
    mg = _half_up(abs(change) * concentration, 100)
    stock_after = state.stock_cents + (-mg if change < 0 else mg)
    if stock_after != content["stock_on_hand_after_mg"]:
        raise _Broken(
            seq,
            name,
            f"the stock on hand re-adds to {cents_text(stock_after)} mg, not the "
            f"{cents_text(content['stock_on_hand_after_mg'])} mg it records",
        )
    state.stock_cents = stock_after


def _check_container_caches(registrant: Registrant, containers: dict[int, int]) -> None:
    here = {
        pk: int(balance * 100)
        for pk, balance in Container.objects.filter(registrant=registrant).values_list(
            "pk", "balance_ml"
        )
    }
    moved = {pk for pk, cents in containers.items() if cents} - set(here)
    names = dict(
        Container.objects.filter(pk__in=set(here) | moved).values_list(
            "pk", "vial_identifier"
        )
    )
    for container_id in sorted(set(here) | moved):
        from_entries = containers.get(container_id, 0)
        cached = here.get(container_id, 0)  # a vial that moved away must be at 0 here
        if cached != from_entries:
            raise _Broken(
                None,
                "",
                f"vial {names.get(container_id, container_id)} shows {cents_text(cached)} "
                f"mL but its entries add to {cents_text(from_entries)} mL",
            )


def verify_ledger(registrants: list[Registrant] | None = None) -> list[LedgerReport]:
    chosen = registrants if registrants is not None else list(Registrant.objects.all())
    return [verify_registrant(r) for r in chosen]
