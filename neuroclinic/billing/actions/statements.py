"""Patient statements (issue #12 scope 4): made from the account's rows, kept as given.

The figures come from `billing.statements.summarize`; the snapshot holds the
practice's letterhead, the patient's name and address, and the entries with a
running balance: charges and payments only (no diagnoses, scores or notes:
minimum necessary). The statement is then in the patient's portal and printable.
"""

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.billing.actions.common import identity_of, next_number, rule
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Invoice, Payment, Statement
from neuroclinic.billing.statements import (
    INVOICE,
    SIGN,
    Entry,
    check_period,
    summarize,
)
from neuroclinic.patients.models import Patient


def account_entries(patient: Patient, *, until: date) -> list[Entry]:
    """Every posting on the patient's account up to `until` (inclusive), two queries."""
    entries: list[Entry] = []
    for invoice in Invoice.objects.filter(patient=patient).order_by("issued_at", "id"):
        posted = timezone.localtime(invoice.issued_at).date()
        if posted <= until:
            what = "Package" if invoice.kind == Invoice.Kind.PACKAGE else "Visit"
            entries.append(
                Entry(
                    INVOICE,
                    posted,
                    invoice.total,
                    invoice.number,
                    f"{what} {invoice.service_date:%Y-%m-%d}",
                    service_date=invoice.service_date,
                )
            )
    for payment in (
        Payment.objects.filter(patient=patient)
        .select_related("invoice")
        .order_by("received_at", "id")
    ):
        posted = timezone.localtime(payment.received_at).date()
        if posted <= until:
            label = payment.get_method_display()
            if payment.reference:
                label += f" {payment.reference}"
            entries.append(
                Entry(
                    payment.kind,
                    posted,
                    payment.amount,
                    payment.invoice.number if payment.invoice else "",
                    label,
                )
            )
    return entries


def _address(patient: Patient) -> str:
    return ", ".join(
        p
        for p in (
            patient.address_line1,
            patient.address_line2,
            patient.city,
            f"{patient.state} {patient.postal_code}".strip(),
        )
        if p
    )


@transaction.atomic
def make_statement(
    patient: Patient,
    *,
    period_start: date | None,
    period_end: date | None,
    by: User,
) -> Statement:
    """The statement for the period (both days included), audited."""
    rule(check_period, period_start, period_end, timezone.localdate())
    assert period_start is not None  # checked above
    assert period_end is not None
    identity = identity_of(patient.organization_id)
    entries = account_entries(patient, until=period_end)
    currencies = {i.currency for i in Invoice.objects.filter(patient=patient)} | {
        p.currency for p in Payment.objects.filter(patient=patient)
    }
    if currencies - {identity.currency}:
        raise BillingError(
            "The account holds another currency than the practice's: one statement"
            " per currency is not supported.",
            field="currency",
            code="currency",
        )
    summary = rule(summarize, entries, period_start, period_end)
    running = summary.opening
    lines: list[dict[str, Any]] = []
    for e in summary.entries:
        running += SIGN[e.kind] * e.amount
        lines.append(
            {
                "date": e.posted_on.isoformat(),
                "kind": e.kind,
                "reference": e.invoice or "on account",
                "description": e.description,
                "amount": str(e.amount),
                "balance": str(running),
            }
        )
    content = {
        "practice": {
            "name": identity.legal_name,
            "address": identity.address,
            "phone": identity.phone,
            "tax_id": identity.tax_id,
        },
        "patient": {
            "name": patient.legal_name,
            "mrn": patient.mrn,
            "address": _address(patient),
        },
        "currency": identity.currency,
        "opening_balance": str(summary.opening),
        "entries": lines,
        "totals": {k: str(v) for k, v in summary.totals.items()},
        "closing_balance": str(summary.closing),
        "invoices_due": str(summary.invoices_due),
        "credit_on_account": str(summary.credit_on_account),
        "aging": [{"bucket": k, "amount": str(v)} for k, v in summary.aging.items()],
    }
    statement = Statement.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        number=next_number(patient.organization_id, "ST"),
        period_start=period_start,
        period_end=period_end,
        closing_balance=summary.closing,
        currency=identity.currency,
        content=content,
        made_by=by,
    )
    record(
        AuditEvent.Action.BILLING_STATEMENT_MADE,
        actor=by,
        patient=patient,
        subject=statement,
        period_start=period_start.isoformat(),
        period_end=period_end.isoformat(),
    )
    return statement
