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
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, transaction

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


# The hashed columns in canonical (sorted) key order, split around `details`: the
# database writes the JSON text before and after it, Python only the details.
SELECTED = tuple(sorted(HASHED_COLUMNS))
_BEFORE = SELECTED[: SELECTED.index("details")]
_AFTER = SELECTED[SELECTED.index("details") + 1 :]
# The quantities again, as integer hundredths, for the re-adding.
CENTS = tuple(sorted(QUANTITY_COLUMNS))


# Quantity columns that may be NULL (printf would write NULL as 0.00).
NULLABLE_QUANTITIES = frozenset({"session_balance_after_ml"})


def _canonical_value(name: str, vendor: str) -> str:
    """SQL for one hashed column's value in its canonical text (NULL stays NULL)."""
    sqlite = vendor == "sqlite"
    if name in QUANTITY_COLUMNS:
        if not sqlite:
            return f"{name}::text"
        # Two places from the stored number: a value of two places is within 1e-15 of
        # its double, far from the rounding edge, so the text is exact (a test runs
        # every hundredth to a million); integers ("10") come out as "10.00".
        text = f"printf('%%.2f', {name})"
        if name in NULLABLE_QUANTITIES:
            return f"CASE WHEN {name} IS NULL THEN NULL ELSE {text} END"
        return text
    if name in DATETIME_COLUMNS:
        if sqlite:
            # Django's SQLite text is "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC.
            return (
                f"replace({name}, ' ', 'T') || CASE WHEN instr({name}, '.') "
                "THEN '' ELSE '.000000' END || '+00:00'"
            )
        return (
            f"to_char({name} AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')'
        )
    if name == "uuid":
        return (
            "substr(uuid, 1, 8) || '-' || substr(uuid, 9, 4) || '-' || "
            "substr(uuid, 13, 4) || '-' || substr(uuid, 17, 4) || '-' || "
            "substr(uuid, 21)"
            if sqlite
            else "uuid::text"
        )
    return name


def _json_object(names: tuple[str, ...], vendor: str) -> str:
    """SQL for the JSON object `{"name":value,...}` of these columns, compact, in this order,
    as `json.dumps` writes it.

    SQLite's json_object, and PostgreSQL's to_json of each value, escape a string
    exactly as `json.dumps(..., ensure_ascii=False)` and orjson do (a test
    compares), write integers as digits and NULL as null. (PostgreSQL's
    json_build_object would put spaces around the colons.)
    """
    if vendor == "sqlite":
        pairs = ", ".join(
            f"'{name}', {_canonical_value(name, vendor)}" for name in names
        )
        return f"json_object({pairs})"
    members = " || ".join(
        f"'{',' if n else ''}\"{name}\":' || coalesce({_pg_json_value(name)}, 'null')"
        for n, name in enumerate(names)
    )
    return f"'{{' || {members} || '}}'"


# Hashed columns whose PostgreSQL text has no character JSON escapes (digits, signs,
# the point, hex and dashes, to_char's fixed format): PostgreSQL's to_json of them is
# the text quoted (or, for the integers, the digits), so the SELECT writes that
# directly. to_json was about a fifth of the server's time at a million entries
# (benchmarks/LEDGER.md, ledger17h). Free text (names, reason, kind, the hashes, the
# session reference) still goes through to_json.
PLAIN_TEXT_COLUMNS = QUANTITY_COLUMNS | frozenset(DATETIME_COLUMNS) | {"uuid"}
INTEGER_COLUMNS = frozenset(
    name for name in HASHED_COLUMNS if name == "seq" or name.endswith("_id")
)


def _pg_json_value(name: str) -> str:
    """PostgreSQL SQL for one column's JSON value; NULL where the column is NULL."""
    value = _canonical_value(name, "postgresql")
    if name in INTEGER_COLUMNS:
        return f"{value}::text"
    if name in PLAIN_TEXT_COLUMNS:
        return f"'\"' || {value} || '\"'"
    return f"to_json({value})::text"


def _select(vendor: str) -> str:
    """What `_raw_rows` reads a row as (the `_` indexes below).

    The database writes the canonical JSON of every hashed column except
    `details` (quantities as two-place text, datetimes as UTC ISO 8601 with
    microseconds, the uuid with dashes, strings escaped, keys sorted), as two
    objects: the keys before `details` and the keys after it. Python joins them
    around the details (`row_bytes`). Then the few values the links and the
    re-adding need, and the quantities as integer hundredths.
    """
    parts = [
        "seq",
        "uuid" if vendor == "sqlite" else "uuid::text",  # for messages only
        "prev_hash",
        "hash",
        "product_id",
        "container_id",
        "lot_id",
        "session_ref",
        "details",
        _json_object(_BEFORE, vendor),
        _json_object(_AFTER, vendor),
        *(f"CAST(ROUND({name} * 100) AS BIGINT)" for name in CENTS),
    ]
    return ", ".join(parts)


_SEQ, _UUID, _PREV, _HASH = 0, 1, 2, 3
_PRODUCT, _CONTAINER, _LOT, _SESSION = 4, 5, 6, 7
_DETAILS, _HEAD, _TAIL = 8, 9, 10
_C = {name: 11 + i for i, name in enumerate(CENTS)}
_C_QUANTITY_ML, _C_QUANTITY_MG = _C["quantity_ml"], _C["quantity_mg"]
_C_CHANGE, _C_SESSION_CHANGE = _C["container_change_ml"], _C["session_change_ml"]
_C_CONTAINER_AFTER, _C_LOT_AFTER = (
    _C["container_balance_after_ml"],
    _C["lot_balance_after_ml"],
)
_C_SESSION_AFTER, _C_STOCK_AFTER = (
    _C["session_balance_after_ml"],
    _C["stock_on_hand_after_mg"],
)


def _sqlite_datetime(value: str | None) -> str | None:
    """Django's SQLite text ("2026-01-01 08:00:00[.123456]", UTC) as canonical ISO 8601.

    What the SELECT does in SQL; kept as the statement of the rule (a test compares).
    """
    if value is None:
        return None
    text = value.replace(" ", "T", 1)
    if "." not in text:
        text += ".000000"
    return text + "+00:00"


_SORT_KEYS = orjson.OPT_SORT_KEYS
# Details texts seen, as canonical JSON: most entries repeat a few (`{}`, a witness
# method), so each is parsed and re-encoded once. Bounded; cleared when full.
_DETAILS_SEEN: dict[Any, str] = {}
_DETAILS_SEEN_MAX = 4096


def canonical_details(value: Any) -> str:
    """A row's `details` (JSON text from the driver, or already decoded) as canonical JSON."""
    cacheable = isinstance(value, str | bytes)
    if cacheable:
        known = _DETAILS_SEEN.get(value)
        if known is not None:
            return known
        data = orjson.loads(value)
    else:
        data = value
    try:
        text = orjson.dumps(data, option=_SORT_KEYS).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        text = json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    if cacheable:
        if len(_DETAILS_SEEN) >= _DETAILS_SEEN_MAX:
            _DETAILS_SEEN.clear()
        _DETAILS_SEEN[value] = text
    return text


def row_bytes(row: Sequence[Any]) -> bytes:
    """One row `_raw_rows` fetched as the bytes its hash covers.

    The same bytes as `lib.hashchain.canonical_json(entry.hashed_content())` and as
    `canonical_bytes(row_content(...))` (a test compares all three): the object
    before `details` without its closing brace, the details, the object after it
    without its opening brace.
    """
    return (
        f'{row[_HEAD][:-1]},"details":{canonical_details(row[_DETAILS])},'
        f"{row[_TAIL][1:]}"
    ).encode()


def entry_name(value: Any) -> str:
    """The uuid a row was fetched with, as its dashed text (for messages)."""
    text = str(value)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


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


FETCH_ROWS = 10_000


def _raw_rows(
    registrant_id: int, after_seq: int, upto_seq: int
) -> Generator[Sequence[Any]]:
    """The registrant's rows after `after_seq` up to `upto_seq`, in sequence order.

    Close the iterator if you stop early (`_walk` does): on PostgreSQL it holds a
    transaction (or a savepoint) and a fetching thread until it is closed.
    """
    sql = (
        f"SELECT {_select(connection.vendor)} FROM ledger_ledgerentry WHERE registrant_id = %s "  # noqa: S608
        "AND seq > %s AND seq <= %s ORDER BY seq"
    )
    params = [registrant_id, after_seq, upto_seq]
    if connection.vendor != "postgresql":
        # SQLite: no transaction (this project's are BEGIN IMMEDIATE, which would hold
        # the write lock for the whole walk) and no thread: the rows come from the same
        # process, so there is no server to overlap with.
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(FETCH_ROWS):
                yield from rows
        return
    # PostgreSQL (benchmarks/LEDGER.md, ledger17h). In a transaction, so that Django's
    # server-side cursor is not WITH HOLD: in autocommit it is, and the server then
    # formats every row and writes the whole result to a temporary file before the
    # first fetch. And the next batch is fetched by a thread while this one is
    # checked, so the server formats rows on the other core while Python hashes and
    # re-adds (a single cursor otherwise leaves one side idle while the other works;
    # the server's share is the larger). The thread only waits on the socket and
    # loads rows; psycopg serialises use of the connection.
    with (
        transaction.atomic(),
        connection.chunked_cursor() as cursor,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-fetch") as pool,
    ):
        cursor.execute(sql, params)
        pending = pool.submit(cursor.fetchmany, FETCH_ROWS)
        while rows := pending.result():
            pending = pool.submit(cursor.fetchmany, FETCH_ROWS)
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
    state = _start(registrant, since)
    # The heads earlier checks recorded, among the entries this walk reads (a nightly
    # check a day: thousands at a million entries, none of them before an anchor).
    anchors: dict[int, str] = dict(
        LedgerCheck.objects.filter(
            registrant=registrant, ok=True, head_seq__gt=state.seq
        ).values_list("head_seq", "head_hash")
    )
    expected_seq = state.seq + 1
    prev_hash = state.hash
    sha256 = hashlib.sha256
    rows = _raw_rows(registrant.pk, state.seq, head.seq)
    try:
        for row in rows:
            seq = row[_SEQ]
            stored_hash = row[_HASH]
            if seq != expected_seq:
                raise _Broken(
                    seq if seq > expected_seq else expected_seq,
                    entry_name(row[_UUID]),
                    f"expected entry #{expected_seq} next but found #{seq}: entries were "
                    "deleted, inserted or renumbered",
                )
            if row[_PREV] != prev_hash:
                raise _Broken(
                    seq,
                    entry_name(row[_UUID]),
                    "its previous-hash link does not match the entry before it: entries were "
                    "deleted, inserted or reordered",
                )
            if sha256(row_bytes(row)).hexdigest() != stored_hash:
                raise _Broken(
                    seq,
                    entry_name(row[_UUID]),
                    "its content does not match its hash: the entry was edited",
                )
            if anchors and seq in anchors and anchors[seq] != stored_hash:
                raise _Broken(
                    seq,
                    entry_name(row[_UUID]),
                    f"it differs from the head recorded by the check of "
                    f"{_check_time(registrant, seq)}: the chain was rewritten after that check",
                )
            _readd(row, state, per_ml)
            prev_hash = stored_hash
            expected_seq += 1
    finally:
        rows.close()  # at a broken entry: ends the fetch thread and transaction now

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


def _check_time(registrant: Registrant, seq: int) -> str:
    """When the (first) intact check that recorded this head ran, for the message."""
    ran_at = (
        LedgerCheck.objects.filter(registrant=registrant, ok=True, head_seq=seq)
        .order_by("ran_at")
        .values_list("ran_at", flat=True)
        .first()
    )
    return f"{ran_at:%Y-%m-%d %H:%M} UTC" if ran_at else "an earlier check"


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


def _readd(row: Sequence[Any], state: Anchor, per_ml: dict[int, int]) -> None:
    """Re-add one fetched row's balances onto `state`, in integer hundredths."""
    seq = row[_SEQ]
    change = row[_C_CHANGE]
    concentration = per_ml.get(row[_PRODUCT])
    if concentration is None:
        raise _Broken(
            seq, entry_name(row[_UUID]), "its product belongs to another organization"
        )
    quantity_ml = row[_C_QUANTITY_ML]
    # mg_from_ml's ROUND_HALF_UP, in integers (_half_up, inlined for the common sign).
    product = quantity_ml * concentration
    expected_mg = (product + 50) // 100 if product >= 0 else _half_up(product, 100)
    if row[_C_QUANTITY_MG] != expected_mg:
        raise _Broken(
            seq,
            entry_name(row[_UUID]),
            f"its {cents_text(row[_C_QUANTITY_MG])} mg is not "
            f"{cents_text(quantity_ml)} mL at {cents_text(concentration)} mg/mL "
            f"({cents_text(expected_mg)} mg)",
        )
    containers = state.containers
    container_id = row[_CONTAINER]
    container_after = containers.get(container_id, 0) + change
    if container_after != row[_C_CONTAINER_AFTER] or container_after < 0:
        raise _Broken(
            seq,
            entry_name(row[_UUID]),
            f"the vial's balance re-adds to {cents_text(container_after)} mL, not the "
            f"{cents_text(row[_C_CONTAINER_AFTER])} mL it records",
        )
    containers[container_id] = container_after
    lots = state.lots
    lot_id = row[_LOT]
    lot_after = lots.get(lot_id, 0) + change
    if lot_after != row[_C_LOT_AFTER] or lot_after < 0:
        raise _Broken(
            seq,
            entry_name(row[_UUID]),
            f"the lot's balance re-adds to {cents_text(lot_after)} mL, not the "
            f"{cents_text(row[_C_LOT_AFTER])} mL it records",
        )
    lots[lot_id] = lot_after
    ref = row[_SESSION]
    if ref:
        session_after = state.sessions.get(ref, 0) + row[_C_SESSION_CHANGE]
        recorded = row[_C_SESSION_AFTER]
        if recorded is None or session_after != recorded or session_after < 0:
            raise _Broken(
                seq,
                entry_name(row[_UUID]),
                f"the session's drawn-and-unaccounted amount re-adds to "
                f"{cents_text(session_after)} mL, not the {cents_text(recorded)} mL it "
                "records",
            )
        state.sessions[ref] = session_after
    mg = (abs(change) * concentration + 50) // 100  # _half_up of a non-negative value
    stock_after = state.stock_cents + (-mg if change < 0 else mg)
    if stock_after != row[_C_STOCK_AFTER]:
        raise _Broken(
            seq,
            entry_name(row[_UUID]),
            f"the stock on hand re-adds to {cents_text(stock_after)} mg, not the "
            f"{cents_text(row[_C_STOCK_AFTER])} mg it records",
        )
    state.stock_cents = stock_after


def _check_container_caches(registrant: Registrant, containers: dict[int, int]) -> None:
    """Every vial's cached balance is what its entries add to.

    Compares the vials whose cache is not zero (read as integer hundredths, in SQL)
    with the vials whose entries add to more than zero: the same check as comparing
    every vial, since a vial absent from both sides is at zero on both. A clinic's
    ledger holds tens of thousands of vials, nearly all used up; this reads the few
    on hand instead of all of them (benchmarks/LEDGER.md), which is most of what an
    incremental verify of one day used to cost.
    """
    # Joined to its lot, as the ORM's ordering joined it before: a vial whose lot row
    # was deleted reads as absent, so the walk names that vial (test_tamper.py).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, CAST(ROUND(c.balance_ml * 100) AS BIGINT) "
            "FROM ledger_container c JOIN ledger_lot l ON l.id = c.lot_id "
            "WHERE c.registrant_id = %s AND c.balance_ml <> 0",
            [registrant.pk],
        )
        here = dict(cursor.fetchall())
    expected = {pk: cents for pk, cents in containers.items() if cents}
    if here == expected:
        return
    for container_id in sorted(set(here) | set(expected)):
        from_entries = expected.get(container_id, 0)
        cached = here.get(container_id, 0)  # a vial that moved away must be at 0 here
        if cached != from_entries:
            # The name only for the vial named (one row, not every vial's).
            name = (
                Container.objects.filter(pk=container_id)
                .values_list("vial_identifier", flat=True)
                .first()
            )
            raise _Broken(
                None,
                "",
                f"vial {name or container_id} shows {cents_text(cached)} "
                f"mL but its entries add to {cents_text(from_entries)} mL",
            )


def verify_ledger(registrants: list[Registrant] | None = None) -> list[LedgerReport]:
    chosen = registrants if registrants is not None else list(Registrant.objects.all())
    return [verify_registrant(r) for r in chosen]
