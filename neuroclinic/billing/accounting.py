"""Balances, added up from the rows every time (nothing stores a balance).

- An invoice's balance: its total, less payments and credit applied to it, plus
  refunds of those payments.
- A patient's credit on account: payments not on an invoice, less refunds of
  them, less credit moved onto invoices, less credit forfeited under a package's
  terms (billing.actions.packages).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from neuroclinic.billing.models import Invoice, Payment
from neuroclinic.billing.rules import Balance
from neuroclinic.patients.models import Patient

ZERO = Decimal("0.00")


def _sum(payments: Iterable[Payment], *kinds: str) -> Decimal:
    return sum((p.amount for p in payments if p.kind in kinds), ZERO)


def invoice_balance(
    invoice: Invoice, payments: Iterable[Payment] | None = None
) -> Balance:
    rows = list(invoice.payments.all() if payments is None else payments)
    return Balance(
        charged=invoice.total,
        paid=_sum(rows, Payment.Kind.PAYMENT, Payment.Kind.CREDIT_APPLIED),
        refunded=_sum(rows, Payment.Kind.REFUND),
    )


def account_credit(patient: Patient) -> Decimal:
    on_account = Payment.objects.filter(patient=patient, invoice__isnull=True)
    totals = on_account.aggregate(
        paid=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)),
        refunded=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)),
    )
    # Credit moved onto invoices, and credit forfeited under a package's terms.
    applied = Payment.objects.filter(
        patient=patient,
        kind__in=(Payment.Kind.CREDIT_APPLIED, Payment.Kind.FORFEITED),
    ).aggregate(total=Sum("amount"))["total"]
    return (totals["paid"] or ZERO) - (totals["refunded"] or ZERO) - (applied or ZERO)


def refundable(payment: Payment) -> Decimal:
    """What is left of a payment to refund."""
    refunded: Decimal = payment.refunds.aggregate(total=Sum("amount"))["total"] or ZERO
    paid: Decimal = payment.amount
    return paid - refunded


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    balance: Balance


def invoices_with_balances(invoices: Iterable[Invoice]) -> list[InvoiceRow]:
    """Invoices (with `payments` prefetched) and their balances."""
    return [InvoiceRow(i, invoice_balance(i, i.payments.all())) for i in invoices]


def payer_status(patient: Patient) -> str | None:
    """The newest answer to "uninsured or self-pay?", or None when never asked."""
    from neuroclinic.billing.models import PayerStatusAnswer

    answer = (
        PayerStatusAnswer.objects.filter(patient=patient)
        .order_by("-asked_at", "-id")
        .first()
    )
    return answer.status if answer else None


def member_id(patient: Patient) -> str:
    from neuroclinic.billing.models import PayerStatusAnswer

    answer = (
        PayerStatusAnswer.objects.filter(patient=patient)
        .order_by("-asked_at", "-id")
        .first()
    )
    return answer.member_id if answer else ""
