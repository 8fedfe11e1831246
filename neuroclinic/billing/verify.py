"""Re-adds every invoice, balance and patient statement: `neuroclinic billing verify` (like `ledger verify`)."""

from decimal import Decimal

from django.db.models import Prefetch

from neuroclinic.billing.accounting import invoice_balance
from neuroclinic.billing.models import Invoice, InvoiceLine, Payment, Statement
from neuroclinic.billing.rules import line_amount
from neuroclinic.billing.statements import verify_statement


def verify_totals(organization_id: int) -> list[str]:
    """Problems found, one line each (invoice numbers only, never a patient's name)."""
    problems: list[str] = []
    invoices = Invoice.objects.filter(organization_id=organization_id).prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
        "payments",
    )
    for invoice in invoices:
        lines = list(invoice.lines.all())
        added = sum((line.amount for line in lines), Decimal("0.00"))
        if added != invoice.total:
            problems.append(
                f"{invoice.number}: lines add to {added}, invoice says {invoice.total}"
            )
        for line in lines:
            if line_amount(line.unit_price, line.units) != line.amount:
                problems.append(
                    f"{invoice.number} line {line.position}: units x price != amount"
                )
            if line.amount < 0:
                problems.append(
                    f"{invoice.number} line {line.position}: negative amount"
                )
        balance = invoice_balance(invoice, invoice.payments.all())
        if balance.due < 0:
            problems.append(f"{invoice.number}: paid {-balance.due} more than charged")
        if any(p.currency != invoice.currency for p in invoice.payments.all()):
            problems.append(f"{invoice.number}: a payment in another currency")
    for refund in Payment.objects.filter(
        organization_id=organization_id, kind=Payment.Kind.REFUND
    ).select_related("refund_of"):
        original = refund.refund_of
        if original is None or original.kind != Payment.Kind.PAYMENT:
            problems.append(f"refund {refund.uuid}: not against a payment")
    # Statements as given: entries to totals, opening and totals to closing, aging to due.
    for statement in Statement.objects.filter(organization_id=organization_id):
        problems += verify_statement(statement.number, statement.content)
        if str(statement.closing_balance) != statement.content.get("closing_balance"):
            problems.append(
                f"{statement.number}: closing balance differs from the statement given"
            )
    return problems
