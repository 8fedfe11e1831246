"""Verify streams raw rows, keeps quantities as integers and encodes with orjson: the bytes it
hashes are exactly today's, and it can start from a signed checkpoint (issue #17, item 4).

Runs on SQLite and on PostgreSQL.
"""

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.ledger.actions.sessions import (
    draw_for_session,
    record_administration,
    waste_remainder,
)
from neuroclinic.ledger.chain import Movement, append, lock_container, lock_head
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.models import LedgerCheck, LedgerEntry, LedgerHead, as_quantity
from neuroclinic.ledger.tests import factories
from neuroclinic.ledger.tests.conftest import Stock
from neuroclinic.ledger.tests.test_chain import TABLE, _sql, _triggers_off
from neuroclinic.ledger.verify import (
    HASHED_COLUMNS,
    _canonical_value,
    _raw_rows,
    _sqlite_datetime,
    canonical_bytes,
    cents_text,
    row_bytes,
    row_content,
    verify_registrant,
)
from neuroclinic.lib.hashchain import canonical_json, content_hash
from neuroclinic.operations.checkpoints import write_checkpoint
from neuroclinic.patients.models import Patient


@pytest.fixture(autouse=True)
def checkpoint_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(CHECKPOINT_DIR=tmp_path / "checkpoints"):
        yield tmp_path / "checkpoints"


def _session(stock: Stock, patient: Patient, nurse: User, custodian: User) -> None:
    ref = uuid.uuid4()
    draw_for_session(
        stock.vials[1],
        session_ref=ref,
        patient=patient,
        volume_ml=Decimal("0.50"),
        by=nurse,
    )
    record_administration(ref, volume_ml=Decimal("0.45"), by=nurse)
    waste_remainder(
        ref,
        volume_ml=Decimal("0.05"),
        by=nurse,
        witness=factories.confirmed(custodian),
    )


def test_the_fast_canonical_bytes_are_todays_bytes(
    history: list[LedgerEntry], stock: Stock
) -> None:
    by_seq = {e.seq: e for e in LedgerEntry.objects.all()}
    reference = {
        row[0]: canonical_bytes(row_content(row))
        for row in LedgerEntry.objects.values_list(*HASHED_COLUMNS)
    }
    rows = list(_raw_rows(stock.registrant.pk, 0, 10**9))
    assert len(rows) == len(by_seq) == 8
    for row in rows:
        blob = row_bytes(row)
        seq = row[0]
        assert blob == canonical_json(by_seq[seq].hashed_content()).encode()
        assert blob == reference[seq]


@pytest.mark.parametrize(
    "text", ["0.00", "0.01", "0.80", "-0.10", "-12.34", "10.00", "123456789.99"]
)
def test_quantities_as_hundredths_read_as_as_quantity_writes_them(text: str) -> None:
    cents = int(Decimal(text) * 100)
    assert cents_text(cents) == as_quantity(Decimal(text))


def test_sqlite_datetimes_read_as_the_canonical_form() -> None:
    assert _sqlite_datetime("2026-01-01 08:00:00") == "2026-01-01T08:00:00.000000+00:00"
    assert (
        _sqlite_datetime("2026-01-01 08:00:00.000120")
        == "2026-01-01T08:00:00.000120+00:00"
    )


def test_incremental_verify_starts_at_the_anchor_and_checks_only_what_follows(
    history: list[LedgerEntry],
    stock: Stock,
    patient: Patient,
    nurse: User,
    custodian: User,
) -> None:
    full = verify_registrant(stock.registrant)
    assert full.ok
    assert full.anchor is not None
    assert (full.anchor.seq, full.checked) == (8, 8)

    _session(stock, patient, nurse, custodian)
    later = verify_registrant(stock.registrant, since=full.anchor)

    assert later.ok, later.describe()
    assert later.checked == 3  # only the new entries were hashed and re-added
    again = verify_registrant(stock.registrant).anchor
    assert later.anchor is not None
    assert again is not None
    assert later.anchor == again  # same head, same balances as the full walk


def test_incremental_verify_catches_an_edit_after_the_anchor(
    history: list[LedgerEntry],
    stock: Stock,
    patient: Patient,
    nurse: User,
    custodian: User,
) -> None:
    anchor = verify_registrant(stock.registrant).anchor
    _session(stock, patient, nurse, custodian)
    _triggers_off()
    _sql(f"UPDATE {TABLE} SET reason = 'edited' WHERE seq = 10")

    report = verify_registrant(stock.registrant, since=anchor)

    assert not report.ok
    assert report.first_bad_seq == 10


def test_incremental_verify_refuses_an_anchor_the_chain_no_longer_holds(
    history: list[LedgerEntry], stock: Stock
) -> None:
    anchor = verify_registrant(stock.registrant).anchor
    assert anchor is not None
    _triggers_off()
    _sql(f"UPDATE {TABLE} SET hash = %s WHERE seq = 8", ["f" * 64])

    report = verify_registrant(stock.registrant, since=anchor)

    assert not report.ok
    assert "signed checkpoint" in report.problem


def test_the_command_verifies_incrementally_from_the_newest_checkpoint(
    history: list[LedgerEntry],
    stock: Stock,
    patient: Patient,
    nurse: User,
    custodian: User,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_checkpoint()
    _session(stock, patient, nurse, custodian)
    call_command("verify", "--incremental", "--checkpoints")
    assert "Everything verified intact." in capsys.readouterr().out

    # An edit before the checkpoint, without re-hashing: only the full walk sees it.
    _triggers_off()
    _sql(f"UPDATE {TABLE} SET reason = 'edited' WHERE seq = 2")
    call_command("verify", "--incremental")
    with pytest.raises(CommandError, match="entry #2"):
        call_command("verify")


TRICKY = 'a "quoted" \\ back\\slash\nnew line\ttab\r\x01\x1f\x7f é ü 漢字 \u2028 😀 </script>'


def test_strings_the_database_escapes_hash_as_python_escapes_them(
    history: list[LedgerEntry], stock: Stock, custodian: User
) -> None:
    """The database writes the JSON text around `details` (json_quote / to_json):
    control characters, quotes, backslashes and non-ASCII text come out as
    `lib.hashchain.canonical_json` writes them, so the entry verifies."""
    custodian.first_name = TRICKY
    custodian.save(update_fields=["first_name"])
    head = lock_head(stock.registrant)
    vial = lock_container(stock.vials[1])
    entry = append(
        head,
        Movement(
            kind=LedgerEntry.Kind.COUNT_ADJUSTMENT,
            container=vial,
            quantity_ml=Decimal("0.05"),
            container_change_ml=Decimal("-0.05"),
            actor=custodian,
            occurred_at=timezone.now(),
            reason=TRICKY,
            details={"z": [TRICKY, {"b": 1, "a": None}], "a": "ü", "m": 12345678901},
        ),
    )
    row = next(iter(_raw_rows(stock.registrant.pk, entry.seq - 1, entry.seq)))

    assert row_bytes(row) == canonical_json(entry.hashed_content()).encode()
    assert TRICKY in entry.actor_name
    report = verify_registrant(stock.registrant)
    assert report.ok, report.describe()


def _cached_ml(vial_pk: int, text: str) -> None:
    _sql("UPDATE ledger_container SET balance_ml = %s WHERE id = %s", [text, vial_pk])


def test_incremental_verify_still_checks_the_cache_of_a_vial_not_moved_since(
    history: list[LedgerEntry],
    stock: Stock,
    patient: Patient,
    nurse: User,
    custodian: User,
) -> None:
    """Only vials not at zero are read, yet every vial's cache is checked: one the
    day's entries never touched (vial 0) is caught when its cache is changed."""
    anchor = verify_registrant(stock.registrant).anchor
    _session(stock, patient, nurse, custodian)  # moves vial 1 only
    _cached_ml(stock.vials[0].pk, "3.00")

    report = verify_registrant(stock.registrant, since=anchor)

    assert not report.ok
    assert f"vial {stock.vials[0].vial_identifier} shows 3.00 mL" in report.problem


def test_verify_catches_a_cache_set_on_a_vial_whose_entries_add_to_zero(
    history: list[LedgerEntry], stock: Stock, custodian: User
) -> None:
    """A vial used up shows 0.00 mL; a cache changed to more is caught though no
    vial at zero is read."""
    head = lock_head(stock.registrant)
    vial = lock_container(stock.vials[1])
    append(
        head,
        Movement(
            kind=LedgerEntry.Kind.DESTRUCTION,
            container=vial,
            quantity_ml=vial.balance_ml,
            container_change_ml=-vial.balance_ml,
            actor=custodian,
            occurred_at=timezone.now(),
            reason="expired",
        ),
    )
    anchor = verify_registrant(stock.registrant).anchor
    assert anchor is not None
    assert anchor.containers[stock.vials[1].pk] == 0
    _cached_ml(stock.vials[1].pk, "0.40")

    for report in (
        verify_registrant(stock.registrant),
        verify_registrant(stock.registrant, since=anchor),
    ):
        assert not report.ok
        assert "shows 0.40 mL but its entries add to 0.00 mL" in report.problem


def test_verify_catches_a_vial_cache_zeroed_behind_the_ledger(
    history: list[LedgerEntry], stock: Stock
) -> None:
    anchor = verify_registrant(stock.registrant).anchor
    _cached_ml(stock.vials[0].pk, "0.00")

    for report in (
        verify_registrant(stock.registrant),
        verify_registrant(stock.registrant, since=anchor),
    ):
        assert not report.ok
        assert "shows 0.00 mL but its entries add to 8.60 mL" in report.problem


def test_incremental_verify_checks_the_heads_of_checks_after_the_anchor(
    history: list[LedgerEntry],
    stock: Stock,
    patient: Patient,
    nurse: User,
    custodian: User,
) -> None:
    """Checks before the anchor are not read (their entries are not); a check after it
    still catches the chain rewritten and re-hashed behind it."""
    anchor = verify_registrant(stock.registrant).anchor
    _session(stock, patient, nurse, custodian)  # entries 9 to 11
    run_check(stock.registrant, source=LedgerCheck.Source.NIGHTLY, notify=False)
    _triggers_off()
    prev = LedgerEntry.objects.get(seq=9).hash
    for seq in (10, 11):  # the forger re-hashes 10 and 11 after editing 10
        entry = LedgerEntry.objects.get(seq=seq)
        if seq == 10:
            entry.reason = "rewritten"
        entry.prev_hash = prev
        entry.hash = content_hash(entry.hashed_content())
        _sql(
            f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [entry.reason, entry.prev_hash, entry.hash, seq],
        )
        prev = entry.hash
    LedgerHead.objects.filter(registrant=stock.registrant).update(hash=prev)

    report = verify_registrant(stock.registrant, since=anchor)

    assert not report.ok
    assert report.first_bad_seq == 11
    assert "rewritten after that check" in report.problem


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL writes numeric::text exactly"
)
def test_sqlite_writes_every_hundredth_to_ten_thousand_as_as_quantity_does() -> None:
    """The SELECT writes a quantity with printf('%.2f') over SQLite's stored number
    (a double for 0.80): exact for every two-place value, negatives included."""
    expression = _canonical_value("quantity_ml", "sqlite")
    text = "printf('%%s%%d.%%02d', CASE WHEN k < 0 THEN '-' ELSE '' END, abs(k) / 100, abs(k) %% 100)"
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE n(k) AS (SELECT -%s UNION ALL SELECT k + 1 FROM n WHERE k < %s), "
            f"v(k, quantity_ml, expected) AS (SELECT k, CAST({text} AS NUMERIC), {text} FROM n) "
            f"SELECT count(*), sum({expression} != expected), "
            f"min(CASE WHEN {expression} != expected THEN k END) FROM v",
            [100_000, 1_000_000],
        )
        checked, wrong, first = cursor.fetchone()
    assert (checked, wrong, first) == (1_100_001, 0, None)


def test_a_walk_over_several_fetches_stopped_early_leaves_nothing_open(
    history: list[LedgerEntry], stock: Stock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 3 rows: the next batch is being fetched (a thread, on PostgreSQL) when
    the walk stops at a broken entry. The fetch thread ends, the walk's transaction or
    savepoint is gone, and the caller's own transaction still works."""
    import threading

    from neuroclinic.ledger import verify

    monkeypatch.setattr(verify, "FETCH_ROWS", 3)
    intact = verify_registrant(stock.registrant)
    assert intact.ok, intact.describe()
    assert intact.checked == 8  # three fetches: 3, 3 and 2 rows
    _triggers_off()
    _sql(f"UPDATE {TABLE} SET reason = 'edited' WHERE seq = 2")

    report = verify_registrant(stock.registrant)

    assert not report.ok
    assert report.first_bad_seq == 2
    assert not [t for t in threading.enumerate() if t.name.startswith("ledger-fetch")]
    assert LedgerEntry.objects.filter(registrant=stock.registrant).count() == 8
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors")
            assert cursor.fetchone()[0] == 0  # the server-side cursor was closed


@pytest.mark.parametrize(
    ("column", "sql_type", "values"),
    [
        ("quantity_ml", "numeric(12,2)", ["0", "-0.80", "1234567890.12", "NaN"]),
        ("session_balance_after_ml", "numeric(12,2)", [None, "0.05"]),
        (
            "occurred_at",
            "timestamptz",
            [
                "2026-01-01 08:00:00+00",
                "2026-06-30 23:59:59.000001-07",
                "0044-03-15 12:00:00+00 BC",
                "12345-01-01 00:00:00+00",
                "infinity",
            ],
        ),
        ("witness_confirmed_at", "timestamptz", [None, "2026-01-01 08:00:00.5+00"]),
        ("uuid", "uuid", ["6f1c2a4e-0b7d-4c1e-9a3b-2d5e8f0a1b2c"]),
        ("seq", "bigint", ["1", "9223372036854775807"]),
        ("patient_id", "bigint", [None, "-1"]),
    ],
)
@pytest.mark.django_db
def test_postgresql_quotes_typed_values_as_to_json_would(
    column: str, sql_type: str, values: list[str | None]
) -> None:
    """The SELECT writes the integers, quantities, datetimes and the uuid without
    to_json: for these types that is the same text, edge values included."""
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL SELECT")
    from neuroclinic.ledger.verify import _pg_json_value

    canonical = _canonical_value(column, "postgresql")
    rows = ", ".join(f"(%s::{sql_type})" for _ in values)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'America/Denver'")  # not the session's UTC
        cursor.execute(
            f"SELECT coalesce({_pg_json_value(column)}, 'null'), "
            f"coalesce(to_json({canonical})::text, 'null') "
            f"FROM (VALUES {rows}) AS v({column})",
            values,
        )
        pairs = cursor.fetchall()
    assert len(pairs) == len(values)
    for plain, via_to_json in pairs:
        assert plain == via_to_json
