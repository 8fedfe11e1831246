"""Patient statement arithmetic (pure): opening, entries, closing, aging, and the re-add.

Tables: each row is a list of postings, a period, and the figures the statement must show.
"""

from datetime import date
from decimal import Decimal

import pytest

from neuroclinic.billing.rule_errors import BillingRuleError
from neuroclinic.billing.statements import (
    CREDIT_APPLIED,
    INVOICE,
    PAYMENT,
    REFUND,
    Entry,
    check_period,
    summarize,
    verify_statement,
)

D = Decimal
START, END = date(2026, 11, 1), date(2026, 11, 30)


def inv(on: date, amount: str, number: str, served: date | None = None) -> Entry:
    return Entry(INVOICE, on, D(amount), number, "Visit", service_date=served or on)


def pay(on: date, amount: str, number: str = "", kind: str = PAYMENT) -> Entry:
    return Entry(kind, on, D(amount), number, "Card T-1")


CASES = [
    # id, entries, opening, closing, due, credit
    ("nothing", [], "0.00", "0.00", "0.00", "0.00"),
    (
        "invoice before the period is the opening balance",
        [inv(date(2026, 10, 31), "450.00", "INV-1")],
        "450.00",
        "450.00",
        "450.00",
        "0.00",
    ),
    (
        "invoice and full payment in the period",
        [inv(START, "450.00", "INV-1"), pay(date(2026, 11, 2), "450.00", "INV-1")],
        "0.00",
        "0.00",
        "0.00",
        "0.00",
    ),
    (
        "the first and last days are inside, the day after is not",
        [
            inv(START, "100.00", "INV-1"),
            inv(END, "200.00", "INV-2"),
            inv(date(2026, 12, 1), "999.00", "INV-3"),
        ],
        "0.00",
        "300.00",
        "300.00",
        "0.00",
    ),
    (
        "a deposit before is credit; applying it leaves the balance as it was",
        [
            pay(date(2026, 10, 1), "500.00"),
            inv(date(2026, 11, 5), "450.00", "INV-1"),
            pay(date(2026, 11, 5), "450.00", "INV-1", kind=CREDIT_APPLIED),
        ],
        "-500.00",
        "-50.00",
        "0.00",
        "50.00",
    ),
    (
        "a refund of an invoice payment is owed again",
        [
            inv(date(2026, 11, 3), "450.00", "INV-1"),
            pay(date(2026, 11, 3), "450.00", "INV-1"),
            pay(date(2026, 11, 4), "20.00", "INV-1", kind=REFUND),
        ],
        "0.00",
        "20.00",
        "20.00",
        "0.00",
    ),
    (
        "a refund of a deposit lowers the credit",
        [
            pay(date(2026, 11, 3), "500.00"),
            pay(date(2026, 11, 4), "500.00", kind=REFUND),
        ],
        "0.00",
        "0.00",
        "0.00",
        "0.00",
    ),
]


@pytest.mark.parametrize(
    ("entries", "opening", "closing", "due", "credit"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_opening_closing_due_and_credit(
    entries: list[Entry], opening: str, closing: str, due: str, credit: str
) -> None:
    s = summarize(entries, START, END)
    assert (s.opening, s.closing, s.invoices_due, s.credit_on_account) == (
        D(opening),
        D(closing),
        D(due),
        D(credit),
    )
    assert s.invoices_due - s.credit_on_account == s.closing
    assert (
        s.closing
        == s.opening + s.totals[INVOICE] - s.totals[PAYMENT] + s.totals[REFUND]
    )
    assert sum(s.aging.values(), D("0.00")) == s.invoices_due


@pytest.mark.parametrize(
    ("served", "bucket"),
    [
        (END, "0-30"),  # 0 days
        (date(2026, 10, 31), "0-30"),  # 30 days
        (date(2026, 10, 30), "31-60"),  # 31 days
        (date(2026, 10, 1), "31-60"),  # 60 days
        (date(2026, 9, 30), "61-90"),  # 61 days
        (date(2026, 9, 1), "61-90"),  # 90 days
        (date(2026, 8, 31), "over 90"),  # 91 days
    ],
)
def test_aging_counts_days_from_the_service_to_the_periods_end(
    served: date, bucket: str
) -> None:
    s = summarize([inv(START, "100.00", "INV-1", served=served)], START, END)
    assert s.aging[bucket] == D("100.00")
    assert sum(s.aging.values(), D("0.00")) == D("100.00")


def test_a_paid_invoice_is_not_aged() -> None:
    s = summarize(
        [inv(START, "100.00", "INV-1"), pay(START, "100.00", "INV-1")], START, END
    )
    assert set(s.aging.values()) == {D("0.00")}


def test_a_payment_after_the_period_does_not_change_its_aging() -> None:
    s = summarize(
        [inv(START, "100.00", "INV-1"), pay(date(2026, 12, 2), "100.00", "INV-1")],
        START,
        END,
    )
    assert s.aging["0-30"] == D("100.00")
    assert s.closing == D("100.00")


@pytest.mark.parametrize(
    ("start", "end", "field", "code"),
    [
        (None, END, "period_start", "required"),
        (START, None, "period_end", "required"),
        (END, START, "period_end", "period"),
        (START, date(2026, 12, 2), "period_end", "future"),
    ],
)
def test_bad_periods_are_refused_by_name(
    start: date | None, end: date | None, field: str, code: str
) -> None:
    with pytest.raises(BillingRuleError) as error:
        check_period(start, end, today=date(2026, 12, 1))
    assert (error.value.field, error.value.code) == (field, code)


def test_a_one_day_period_ending_today_is_fine() -> None:
    check_period(date(2026, 12, 1), date(2026, 12, 1), today=date(2026, 12, 1))


def _content() -> dict[str, object]:
    return {
        "opening_balance": "100.00",
        "entries": [
            {
                "kind": "invoice",
                "amount": "450.00",
                "balance": "550.00",
                "reference": "INV-2",
            },
            {
                "kind": "payment",
                "amount": "300.00",
                "balance": "250.00",
                "reference": "INV-2",
            },
        ],
        "totals": {
            "invoice": "450.00",
            "payment": "300.00",
            "refund": "0.00",
            "credit_applied": "0.00",
        },
        "closing_balance": "250.00",
        "invoices_due": "250.00",
        "credit_on_account": "0.00",
        "aging": [
            {"bucket": "0-30", "amount": "150.00"},
            {"bucket": "31-60", "amount": "100.00"},
        ],
    }


def test_a_statement_that_adds_up_passes_the_re_add() -> None:
    assert verify_statement("ST-1", _content()) == []


@pytest.mark.parametrize(
    ("path", "value", "names"),
    [
        (("totals", "payment"), "200.00", "payment entries add to 300.00"),
        (("closing_balance",), "260.00", "closing says 260.00"),
        (("aging", 0, "amount"), "10.00", "aging adds to 110.00"),
        (("entries", 1, "balance"), "240.00", "running balance wrong at INV-2"),
        (("credit_on_account",), "5.00", "less credit 5.00"),
        (("opening_balance",), "x", "unreadable"),
    ],
)
def test_a_statement_that_does_not_add_up_is_named(
    path: tuple[object, ...], value: str, names: str
) -> None:
    content = _content()
    target: object = content
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    problems = verify_statement("ST-1", content)
    assert problems
    assert all(p.startswith("ST-1:") for p in problems)
    assert any(names in p for p in problems), problems
