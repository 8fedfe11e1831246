"""The ledger is append-only, and any change behind the application's back is found.

Tampering is done in raw SQL, as someone with database access would, after
switching the append-only triggers off (which needs the table owner's rights).
Runs on SQLite and on PostgreSQL.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.ledger.actions.counts import CountInput, record_count
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.checks import run_check, run_nightly_checks
from neuroclinic.ledger.models import LedgerCheck, LedgerEntry, LedgerHead
from neuroclinic.ledger.tasks import nightly_ledger_check
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.verify import (
    HASHED_COLUMNS,
    canonical_bytes,
    row_content,
    verify_registrant,
)
from neuroclinic.lib.hashchain import canonical_json, content_hash
from neuroclinic.operations.worker import run_queued_tasks

TABLE = "ledger_ledgerentry"
APPEND_ONLY = [
    "ledger_ledgerentry",
    "ledger_count",
    "ledger_countline",
    "ledger_inventory",
    "ledger_inventoryline",
    "ledger_ledgercheck",
]


def _triggers_off(table: str = TABLE) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {table}_no_update")
            cursor.execute(f"DROP TRIGGER {table}_no_delete")
        else:
            # Fire deferred foreign-key checks first, or PostgreSQL refuses the ALTER.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def test_an_untouched_chain_verifies_and_re_adds(
    history: list[LedgerEntry], stock: Stock
) -> None:
    report = verify_registrant(stock.registrant)

    assert report.ok, report.problem
    assert report.checked == 8
    assert history[1].prev_hash == history[0].hash
    assert report.head_hash == history[-1].hash


def test_verify_hashes_exactly_the_canonical_text_the_writer_hashed(
    history: list[LedgerEntry],
) -> None:
    rows = LedgerEntry.objects.order_by("seq").values_list(*HASHED_COLUMNS)

    for entry, row in zip(history, rows, strict=True):
        assert (
            canonical_bytes(row_content(row))
            == canonical_json(entry.hashed_content()).encode()
        )


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"]
)
def test_the_database_refuses_updates_and_deletes(
    history: list[LedgerEntry],
    stock: Stock,
    custodian: User,
    nurse: User,
    table: str,
    statement: str,
) -> None:
    # Something in every append-only table first.
    count = record_count(
        stock.safe,
        lines=[CountInput(v, v.balance_ml) for v in stock.vials],
        by=custodian,
        witness=factories.confirmed(nurse),
    )
    take_inventory(
        stock.registrant,
        kind="initial",
        time_of_day="close",
        lines=[
            CountInput(line.container, line.counted_ml) for line in count.lines.all()
        ],
        by=custodian,
    )
    run_check(stock.registrant, source=LedgerCheck.Source.COMMAND, notify=False)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(statement.format(table=table))


def test_the_orm_cannot_delete_an_entry_either(history: list[LedgerEntry]) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=history[0].pk).delete()


# --- tampering: each returns the seq verify must name ----------------------------------


def _edit_quantity(entries: list[LedgerEntry]) -> int:
    _sql(f"UPDATE {TABLE} SET quantity_ml = %s WHERE seq = %s", [Decimal("0.40"), 3])
    return 3


def _edit_witness(entries: list[LedgerEntry]) -> int:
    _sql(f"UPDATE {TABLE} SET witness_name = %s WHERE seq = %s", ["Someone Else", 5])
    return 5


def _edit_details(entries: list[LedgerEntry]) -> int:
    _sql(
        f"UPDATE {TABLE} SET details = %s WHERE seq = %s",
        ['{"invoice_number": "X"}', 1],
    )
    return 1


def _edit_and_rehash_one(entries: list[LedgerEntry]) -> int:
    # A careful forger re-hashes the row they changed: the next link breaks instead.
    row = LedgerEntry.objects.get(seq=4)
    row.reason = "changed"
    _sql(
        f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE seq = 4",
        ["changed", content_hash(row.hashed_content())],
    )
    return 5


def _delete(entries: list[LedgerEntry]) -> int:
    _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
    return 4


def _delete_tail(entries: list[LedgerEntry]) -> int:
    _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [8])
    return 8


def _insert(entries: list[LedgerEntry]) -> int:
    # Make room after entry 2 and slip a forged entry in, copying a real one's links.
    for seq in range(8, 2, -1):
        _sql(f"UPDATE {TABLE} SET seq = seq + 1 WHERE seq = %s", [seq])
    columns = [
        str(f.column) for f in LedgerEntry._meta.concrete_fields if f.column != "id"
    ]
    replaced: dict[str, Any] = {"seq": 3, "uuid": uuid.uuid4().hex, "hash": "f" * 64}
    select = ", ".join("%s" if c in replaced else c for c in columns)
    _sql(
        f"INSERT INTO {TABLE} ({', '.join(columns)}) SELECT {select} FROM {TABLE} WHERE seq = 2",
        [replaced[c] for c in columns if c in replaced],
    )
    return 3


def _reorder(entries: list[LedgerEntry]) -> int:
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [10**9, 3])
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [3, 4])
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [4, 10**9])
    return 3


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_edit_quantity, "edited"),
        (_edit_witness, "edited"),
        (_edit_details, "edited"),
        (_edit_and_rehash_one, "previous-hash link"),
        (_delete, "deleted"),
        (_delete_tail, "deleted"),
        (_insert, "inserted"),
        (_reorder, "reordered"),
    ],
)
def test_verify_names_the_first_tampered_entry(
    history: list[LedgerEntry],
    stock: Stock,
    tamper: Callable[[list[LedgerEntry]], int],
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _triggers_off()
    bad_seq = tamper(history)

    report = verify_registrant(stock.registrant)

    assert not report.ok
    assert report.first_bad_seq == bad_seq
    assert problem in report.problem
    with pytest.raises(CommandError, match=f"entry #{bad_seq} "):
        call_command("ledger", "verify")


def test_a_vial_whose_cached_balance_was_changed_is_named(
    history: list[LedgerEntry], stock: Stock
) -> None:
    _sql(
        "UPDATE ledger_container SET balance_ml = %s WHERE id = %s",
        [Decimal("9.99"), stock.vials[1].pk],
    )

    report = verify_registrant(stock.registrant)

    assert not report.ok
    assert (
        f"vial {stock.vials[1].vial_identifier} shows 9.99 mL but its entries add to 10.00 mL"
        in report.problem
    )
    with pytest.raises(CommandError, match=r"9\.99 mL"):
        call_command("ledger", "verify")


def test_a_balance_that_does_not_re_add_is_found_even_with_a_valid_hash(
    history: list[LedgerEntry], stock: Stock
) -> None:
    # Rewrite the last entry's balance and hash consistently (and the head): the chain
    # links hold, but the running balance no longer re-adds.
    _triggers_off()
    last = LedgerEntry.objects.get(seq=8)
    last.container_balance_after_ml = Decimal("9.00")
    new_hash = content_hash(last.hashed_content())
    _sql(
        f"UPDATE {TABLE} SET container_balance_after_ml = %s, hash = %s WHERE seq = 8",
        [Decimal("9.00"), new_hash],
    )
    LedgerHead.objects.filter(registrant=stock.registrant).update(hash=new_hash)

    report = verify_registrant(stock.registrant)

    assert not report.ok
    assert report.first_bad_seq == 8
    assert "re-adds to" in report.problem


def test_a_chain_rewritten_after_a_check_is_caught_by_that_check(
    history: list[LedgerEntry], stock: Stock
) -> None:
    run_check(stock.registrant, source=LedgerCheck.Source.NIGHTLY, notify=False)
    _triggers_off()
    # The thorough forger: change entry 3's reason and re-hash it and everything after.
    prev = LedgerEntry.objects.get(seq=2).hash
    for seq in range(3, 9):
        row = LedgerEntry.objects.get(seq=seq)
        if seq == 3:
            row.reason = "rewritten"
        row.prev_hash = prev
        row.hash = content_hash(row.hashed_content())
        _sql(
            f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [row.reason, row.prev_hash, row.hash, seq],
        )
        prev = row.hash
    LedgerHead.objects.filter(registrant=stock.registrant).update(hash=prev)

    report = verify_registrant(stock.registrant)

    assert not report.ok
    assert report.first_bad_seq == 8  # the head the nightly check recorded
    assert "rewritten after that check" in report.problem


# --- the command and the nightly check --------------------------------------------------


def test_verify_command_reports_an_intact_ledger(
    history: list[LedgerEntry], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("ledger", "verify")

    out = capsys.readouterr().out
    assert "intact, 8 entries, balances re-add" in out
    assert "Ledger intact: 1 registrant chain(s)." in out
    assert LedgerCheck.objects.exists() is False  # without --record nothing is kept


def test_the_nightly_check_keeps_the_result_and_emails_the_custodian_the_head(
    history: list[LedgerEntry], stock: Stock, custodian: User
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])

    call_command("ledger", "verify", "--record")

    check = LedgerCheck.objects.get()
    assert (check.ok, check.entries_checked, check.head_seq) == (True, 8, 8)
    assert check.head_hash == history[-1].hash
    assert check.notified == "custodian@example.com"
    assert len(mail.outbox) == 1
    assert "intact" in mail.outbox[0].subject
    assert history[-1].hash in mail.outbox[0].body
    assert "No initial inventory" in mail.outbox[0].body


def test_a_broken_chain_alerts_the_custodian_and_shows_on_the_ledger_page(
    history: list[LedgerEntry], stock: Stock, custodian: User, client: Client
) -> None:
    custodian.email = "custodian@example.com"
    custodian.save(update_fields=["email"])
    _triggers_off()
    _edit_quantity(history)

    reports = run_nightly_checks()

    assert [r.ok for r in reports] == [False]
    assert "BROKEN" in mail.outbox[0].subject
    assert "entry #3" in mail.outbox[0].body
    page = login(client, custodian).get("/ledger/").content.decode()
    assert "BROKEN at entry #3" in page


def test_the_nightly_task_runs_the_same_check(history: list[LedgerEntry]) -> None:
    result = nightly_ledger_check.enqueue()
    run_queued_tasks()
    result.refresh()

    assert result.return_value == {"Lakeside Test Clinic (BL1234563)": True}
    assert LedgerCheck.objects.get().source == LedgerCheck.Source.NIGHTLY
