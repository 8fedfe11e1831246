"""Patient statements: what a patient was charged and paid in a period, and what is owed.

A statement lists, for one patient and a period of calendar days (both ends
included), the balance before the period (opening), each invoice, payment,
refund and credit moved onto an invoice posted in it, the balance after it
(closing) and the aging of what is still open at the period's end.

Conventions (ours, docs/billing.md):
- An entry is posted on the day it was written: an invoice on the local date it
  was issued, a payment, refund or credit on the local date it was received
  (a back-dated invoice for an old visit is posted when issued, so a statement
  for a closed period can always be made again and says the same).
- The balance is what the patient owes net of credit on account: invoices add,
  payments subtract, refunds add back. Credit applied to an invoice moves money
  from the account onto the invoice and leaves the balance as it was.
- Closing = opening + invoices - payments + refunds, and it equals the open
  invoices' dues at the period's end less the credit on account then.
- Aging buckets the open invoices by days from their service date to the
  period's end (the same buckets as the A/R aging report).

`summarize` is pure (standard library and the pure rules only) so the
arithmetic is tested by tables; `verify_statement` re-adds a statement as given.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from neuroclinic.billing.rule_errors import BillingRuleError
from neuroclinic.billing.rules import AGING_BUCKETS, AGING_OLDEST, aging_bucket

ZERO = Decimal("0.00")

INVOICE = "invoice"
PAYMENT = "payment"
REFUND = "refund"
CREDIT_APPLIED = "credit_applied"
FORFEITED = "forfeited"  # credit on account kept by the clinic under a package's terms
KINDS = (INVOICE, PAYMENT, REFUND, CREDIT_APPLIED, FORFEITED)

# What each kind does to the balance the patient owes (a forfeit, like a refund of money
# on account, takes credit away).
SIGN = {INVOICE: 1, PAYMENT: -1, REFUND: 1, CREDIT_APPLIED: 0, FORFEITED: 1}


@dataclass(frozen=True)
class Entry:
    """One posting on the account. `amount` is positive; `invoice` is the invoice
    number it concerns ("" for money on account); `service_date` only for invoices."""

    kind: str
    posted_on: date
    amount: Decimal
    invoice: str
    description: str
    service_date: date | None = None


@dataclass(frozen=True)
class Summary:
    opening: Decimal
    entries: tuple[Entry, ...]
    totals: Mapping[str, Decimal]
    closing: Decimal
    invoices_due: Decimal
    credit_on_account: Decimal
    aging: Mapping[str, Decimal]


def check_period(
    period_start: date | None, period_end: date | None, today: date
) -> None:
    """A period is two dates, the end on or after the start, not after today."""
    if period_start is None:
        raise BillingRuleError(
            "Give the first day of the period.", field="period_start", code="required"
        )
    if period_end is None:
        raise BillingRuleError(
            "Give the last day of the period.", field="period_end", code="required"
        )
    if period_end < period_start:
        raise BillingRuleError(
            "The period ends before it starts.", field="period_end", code="period"
        )
    if period_end > today:
        raise BillingRuleError(
            "The period ends after today: a statement covers days that have passed.",
            field="period_end",
            code="future",
        )


def _dues_and_credit(entries: Iterable[Entry]) -> tuple[dict[str, Decimal], Decimal]:
    """Each invoice's due and the credit on account, from the entries given."""
    dues: dict[str, Decimal] = {}
    credit = ZERO
    for e in entries:
        if e.kind == INVOICE:
            dues[e.invoice] = dues.get(e.invoice, ZERO) + e.amount
        elif e.kind == CREDIT_APPLIED:
            dues[e.invoice] = dues.get(e.invoice, ZERO) - e.amount
            credit -= e.amount
        elif e.invoice:
            dues[e.invoice] = dues.get(e.invoice, ZERO) + SIGN[e.kind] * e.amount
        else:
            credit -= SIGN[e.kind] * e.amount
    return dues, credit


def summarize(
    entries: Iterable[Entry], period_start: date, period_end: date
) -> Summary:
    """The statement's figures for the period (both ends included)."""
    rows = sorted(entries, key=lambda e: (e.posted_on, KINDS.index(e.kind)))
    for e in rows:
        if e.kind not in SIGN:
            raise BillingRuleError(
                f"Unknown entry kind {e.kind!r}.", field="kind", code="kind"
            )
        if e.amount <= 0:
            raise BillingRuleError(
                "An entry's amount is more than zero.",
                field="amount",
                code="not_positive",
            )
    before = [e for e in rows if e.posted_on < period_start]
    during = tuple(e for e in rows if period_start <= e.posted_on <= period_end)
    opening = sum((SIGN[e.kind] * e.amount for e in before), ZERO)
    totals = {k: sum((e.amount for e in during if e.kind == k), ZERO) for k in KINDS}
    closing = opening + sum((SIGN[e.kind] * e.amount for e in during), ZERO)
    upto = [e for e in rows if e.posted_on <= period_end]
    dues, credit = _dues_and_credit(upto)
    served = {e.invoice: e.service_date for e in upto if e.kind == INVOICE}
    labels = [b[2] for b in AGING_BUCKETS] + [AGING_OLDEST]
    aging = dict.fromkeys(labels, ZERO)
    for number, due in dues.items():
        if due > 0:
            on = served.get(number) or period_end
            aging[aging_bucket((period_end - on).days)] += due
    invoices_due = sum((d for d in dues.values() if d > 0), ZERO)
    return Summary(
        opening=opening,
        entries=during,
        totals=totals,
        closing=closing,
        invoices_due=invoices_due,
        credit_on_account=credit,
        aging=aging,
    )


def verify_statement(number: str, content: Mapping[str, Any]) -> list[str]:
    """Re-adds a statement as given: entries to totals, opening and totals to closing,
    aging to what was due, dues less credit to closing. Problems, one line each."""
    problems: list[str] = []
    try:
        entries = content["entries"]
        totals = {k: Decimal(v) for k, v in content["totals"].items()}
        opening = Decimal(content["opening_balance"])
        closing = Decimal(content["closing_balance"])
        due = Decimal(content["invoices_due"])
        credit = Decimal(content["credit_on_account"])
        aging = [Decimal(a["amount"]) for a in content["aging"]]
        for kind in KINDS:
            added = sum(
                (Decimal(e["amount"]) for e in entries if e["kind"] == kind), ZERO
            )
            if added != totals.get(kind, ZERO):
                problems.append(
                    f"{number}: {kind} entries add to {added}, statement says"
                    f" {totals.get(kind, ZERO)}"
                )
        running = opening
        for e in entries:
            running += SIGN[e["kind"]] * Decimal(e["amount"])
            if Decimal(e["balance"]) != running:
                problems.append(f"{number}: running balance wrong at {e['reference']}")
                break
        expected = opening + sum((SIGN[k] * totals.get(k, ZERO) for k in KINDS), ZERO)
        if expected != closing:
            problems.append(
                f"{number}: opening and entries add to {expected}, closing says {closing}"
            )
        if sum(aging, ZERO) != due:
            problems.append(
                f"{number}: aging adds to {sum(aging, ZERO)}, due says {due}"
            )
        if due - credit != closing:
            problems.append(
                f"{number}: due {due} less credit {credit} is not the closing {closing}"
            )
    except (KeyError, TypeError, ArithmeticError, ValueError) as exc:
        problems.append(f"{number}: unreadable ({type(exc).__name__})")
    return problems
