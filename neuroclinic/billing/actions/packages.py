"""Closing a package sale and applying its unused-session policy (issue #12).

A package is sold on terms (`PackageVersion`) that say what happens to sessions not
used: refunded at their share, kept as credit on account, or forfeited. Closing the
sale (every session used, the course ended early, the package expired, the patient
cancelled) applies those terms once, as new rows, never an edit:

- the unused sessions' value is the sum of their shares (`rules.package_session_shares`:
  the same shares the sessions would have been invoiced at);
- only money the patient still has on account can be settled: the settled amount is the
  smaller of that value and the credit on account (a patient who owes nothing back gets
  nothing back);
- refund: refund rows against the sale's own on-account payments, oldest first (never
  more than each payment has left), so the settled amount may be less when the credit
  came from elsewhere;
- credit: nothing moves; the closure records the value left as credit;
- forfeit: a `forfeited` payment row takes that credit off the account (no money moves,
  so the end-of-day reconciliation does not count it).

The `PackageClosure` keeps the terms applied, the sessions sold and used, the unused
value and what was settled. A sale is closed once.
"""

from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.billing.accounting import ZERO, account_credit, refundable
from neuroclinic.billing.actions.invoices import refund_payment
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import (
    Invoice,
    Package,
    PackageClosure,
    PackageSale,
    Payment,
)
from neuroclinic.billing.rules import package_session_shares


def sessions_used(sale: PackageSale) -> int:
    return sale.invoices.filter(kind=Invoice.Kind.VISIT).count()


def unused_value(sale: PackageSale, used: int) -> Decimal:
    terms = sale.package_version
    shares = package_session_shares(terms.price, terms.sessions)
    return sum(shares[used:], ZERO)


@transaction.atomic
def close_package(
    sale: PackageSale, *, reason: str, note: str = "", by: User
) -> PackageClosure:
    """Close the sale and settle its unused sessions by its terms; refused once closed."""
    PackageSale.objects.select_for_update().filter(pk=sale.pk).first()
    if PackageClosure.objects.filter(package_sale=sale).exists():
        raise BillingError(
            "This package is already closed.", field="package_sale", code="closed"
        )
    if reason not in PackageClosure.Reason.values:
        raise BillingError("Say why the package closes.", field="reason", code="reason")
    terms = sale.package_version
    used = min(sessions_used(sale), terms.sessions)
    if reason == PackageClosure.Reason.COMPLETED and used < terms.sessions:
        raise BillingError(
            f"{terms.sessions - used} of {terms.sessions} sessions are not used: choose"
            " why the package closes early.",
            field="reason",
            code="not_completed",
        )
    value = unused_value(sale, used)
    available = max(ZERO, min(value, account_credit(sale.patient)))
    settled = ZERO
    policy = terms.unused_sessions
    label = sale.package_version.package.name
    if policy == Package.UnusedSessions.REFUND and available > 0:
        left = available
        for payment in Payment.objects.filter(
            package_sale=sale, kind=Payment.Kind.PAYMENT, invoice__isnull=True
        ).order_by("received_at", "id"):
            amount = min(left, refundable(payment), account_credit(sale.patient))
            if amount <= 0:
                continue
            refund_payment(
                payment,
                amount=amount,
                reason=f"Unused sessions of {label} refunded (package terms)",
                by=by,
            )
            settled += amount
            left -= amount
            if left <= 0:
                break
    elif policy == Package.UnusedSessions.CREDIT:
        settled = available
    elif policy == Package.UnusedSessions.FORFEIT and available > 0:
        Payment.objects.create(
            organization_id=sale.organization_id,
            patient=sale.patient,
            package_sale=sale,
            kind=Payment.Kind.FORFEITED,
            method=Payment.Method.CREDIT,
            amount=available,
            currency=terms.currency,
            note=f"Unused sessions of {label} forfeited (package terms)"[:200],
            received_by=by,
        )
        settled = available
    closure = PackageClosure.objects.create(
        organization_id=sale.organization_id,
        patient=sale.patient,
        package_sale=sale,
        reason=reason,
        policy=policy,
        sessions_sold=terms.sessions,
        sessions_used=used,
        unused_value=value,
        settled_amount=settled,
        currency=terms.currency,
        note=note.strip()[:200],
        closed_by=by,
    )
    record(
        AuditEvent.Action.BILLING_PACKAGE_CLOSED,
        actor=by,
        patient=sale.patient,
        subject=closure,
        reason=reason,
        policy=policy,
        unused_sessions=terms.sessions - used,
        unused_value=str(value),
        settled=str(settled),
    )
    return closure
