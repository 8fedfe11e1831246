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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from neuroclinic.ledger.models import (
    TWO_PLACES,
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


def _rows(registrant_id: int) -> Iterator[tuple[Any, ...]]:
    return (
        LedgerEntry.objects.filter(registrant_id=registrant_id)
        .order_by("seq")
        .values_list(*HASHED_COLUMNS, "hash")
        .iterator(chunk_size=10_000)
    )


class _Broken(Exception):
    def __init__(self, seq: int | None, entry: str, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.entry = entry
        self.problem = problem


def verify_registrant(registrant: Registrant) -> LedgerReport:
    head = LedgerHead.objects.get(registrant=registrant)
    label = f"{registrant.name} ({registrant.dea_number})"
    try:
        checked = _walk(registrant, head)
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
    )


def _walk(registrant: Registrant, head: LedgerHead) -> int:
    concentration: dict[int, Decimal] = dict(
        Product.objects.filter(organization_id=registrant.organization_id).values_list(
            "pk", "concentration_mg_per_ml"
        )
    )
    anchors: dict[int, tuple[str, str]] = {
        seq: (hash_, f"{ran_at:%Y-%m-%d %H:%M} UTC")
        for seq, hash_, ran_at in LedgerCheck.objects.filter(
            registrant=registrant, ok=True, head_seq__gt=0
        ).values_list("head_seq", "head_hash", "ran_at")
    }
    containers: dict[int, Decimal] = {}
    lots: dict[int, Decimal] = {}
    sessions: dict[str, Decimal] = {}
    stock = ZERO
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for row in _rows(registrant.pk):
        content = row_content(row[:-1])
        stored_hash = row[-1]
        seq = content["seq"]
        name = content["uuid"]
        if seq != expected_seq:
            raise _Broken(
                seq if seq > expected_seq else expected_seq,
                name,
                f"expected entry #{expected_seq} next but found #{seq}: entries were "
                "deleted, inserted or renumbered",
            )
        if content["prev_hash"] != prev_hash:
            raise _Broken(
                seq,
                name,
                "its previous-hash link does not match the entry before it: entries were "
                "deleted, inserted or reordered",
            )
        if hashlib.sha256(canonical_bytes(content)).hexdigest() != stored_hash:
            raise _Broken(
                seq, name, "its content does not match its hash: the entry was edited"
            )
        anchor = anchors.get(seq)
        if anchor is not None and anchor[0] != stored_hash:
            raise _Broken(
                seq,
                name,
                f"it differs from the head recorded by the check of {anchor[1]}: the chain "
                "was rewritten after that check",
            )
        stock = _readd(content, containers, lots, sessions, stock, concentration)
        prev_hash = stored_hash
        expected_seq += 1

    checked = expected_seq - 1
    if head.seq != checked or head.hash != prev_hash:
        raise _Broken(
            checked + 1 if head.seq > checked else head.seq,
            "",
            f"the chain ends at #{checked} but its head records #{head.seq}: the newest "
            "entries were deleted or the head was altered",
        )
    if head.stock_on_hand_mg != stock:
        raise _Broken(
            None,
            "",
            f"the head's stock on hand is {head.stock_on_hand_mg} mg but the entries add to "
            f"{stock} mg",
        )
    _check_container_caches(registrant, containers)
    return checked


def _readd(
    content: dict[str, Any],
    containers: dict[int, Decimal],
    lots: dict[int, Decimal],
    sessions: dict[str, Decimal],
    stock: Decimal,
    concentration: dict[int, Decimal],
) -> Decimal:
    seq = content["seq"]
    name = content["uuid"]

    def q(key: str) -> Decimal:
        return Decimal(content[key])

    change = q("container_change_ml")
    per_ml = concentration.get(content["product_id"])
    if per_ml is None:
        raise _Broken(seq, name, "its product belongs to another organization")
    expected_mg = (q("quantity_ml") * per_ml).quantize(TWO_PLACES)
    if q("quantity_mg") != expected_mg:
        raise _Broken(
            seq,
            name,
            f"its {content['quantity_mg']} mg is not {content['quantity_ml']} mL at "
            f"{per_ml} mg/mL ({expected_mg} mg)",
        )
    container_id = content["container_id"]
    container_after = containers.get(container_id, ZERO) + change
    if container_after != q("container_balance_after_ml") or container_after < 0:
        raise _Broken(
            seq,
            name,
            f"the vial's balance re-adds to {container_after} mL, not the "
            f"{content['container_balance_after_ml']} mL it records",
        )
    containers[container_id] = container_after
    lot_id = content["lot_id"]
    lot_after = lots.get(lot_id, ZERO) + change
    if lot_after != q("lot_balance_after_ml") or lot_after < 0:
        raise _Broken(
            seq,
            name,
            f"the lot's balance re-adds to {lot_after} mL, not the "
            f"{content['lot_balance_after_ml']} mL it records",
        )
    lots[lot_id] = lot_after
    if content["session_ref"]:
        ref = content["session_ref"]
        session_after = sessions.get(ref, ZERO) + q("session_change_ml")
        recorded = content["session_balance_after_ml"]
        if recorded is None or session_after != Decimal(recorded) or session_after < 0:
            raise _Broken(
                seq,
                name,
                f"the session's drawn-and-unaccounted amount re-adds to {session_after} mL, "
                f"not the {recorded} mL it records",
            )
        sessions[ref] = session_after
    mg = (abs(change) * per_ml).quantize(TWO_PLACES)
    stock_after = stock + (-mg if change < 0 else mg)
    if stock_after != q("stock_on_hand_after_mg"):
        raise _Broken(
            seq,
            name,
            f"the stock on hand re-adds to {stock_after} mg, not the "
            f"{content['stock_on_hand_after_mg']} mg it records",
        )
    return stock_after


def _check_container_caches(
    registrant: Registrant, containers: dict[int, Decimal]
) -> None:
    here = dict(
        Container.objects.filter(registrant=registrant).values_list("pk", "balance_ml")
    )
    names = dict(
        Container.objects.filter(pk__in=set(here) | set(containers)).values_list(
            "pk", "vial_identifier"
        )
    )
    for container_id in sorted(set(here) | set(containers)):
        from_entries = containers.get(container_id, ZERO)
        cached = here.get(
            container_id, ZERO
        )  # a vial that moved away must be at 0 here
        if cached != from_entries:
            raise _Broken(
                None,
                "",
                f"vial {names.get(container_id, container_id)} shows {cached} mL but its "
                f"entries add to {from_entries} mL",
            )


def verify_ledger(registrants: list[Registrant] | None = None) -> list[LedgerReport]:
    chosen = registrants if registrants is not None else list(Registrant.objects.all())
    return [verify_registrant(r) for r in chosen]
