"""Invoices from what was charted, payments, refunds and credit: all new rows, never edits."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.seals import seal_objects
from neuroclinic.billing.accounting import account_credit, invoice_balance, refundable
from neuroclinic.billing.actions.common import (
    checked_money,
    current_price,
    next_number,
    rule,
)
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import (
    Invoice,
    InvoiceLine,
    PackageSale,
    Payment,
    Price,
    Service,
)
from neuroclinic.billing.rules import (
    Code,
    check_payment,
    check_refund,
    currency,
    infusion_codes,
    infusion_minutes,
    line_amount,
    package_session_shares,
    same_currency,
)
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.models import InfusionOrder

BILLABLE_SESSION_STATUSES = (
    InfusionSession.Status.DISCHARGED,
    InfusionSession.Status.CLOSED,
)


@dataclass(frozen=True)
class PlannedLine:
    price: Price
    units: int
    unit_price: Decimal
    description: str


def _open_package_sale(
    patient: Patient, service_key: str
) -> tuple[PackageSale, Decimal] | None:
    """The oldest package sale with a session left for this service, and that session's share."""
    sales = (
        PackageSale.objects.filter(
            patient=patient,
            package_version__package__service__key=service_key,
            closure__isnull=True,  # a closed package prices no more sessions
        )
        .select_related("package_version")
        .order_by("sold_at", "id")
    )
    for sale in sales:
        used = sale.invoices.filter(kind=Invoice.Kind.VISIT).count()
        terms = sale.package_version
        if used < terms.sessions:
            return sale, package_session_shares(terms.price, terms.sessions)[used]
    return None


def _issue(
    patient: Patient,
    *,
    kind: str,
    service_date: date,
    lines: list[PlannedLine],
    location_id: int | None,
    rendering_provider: User | None,
    session_ref: UUID | None = None,
    package_sale: PackageSale | None = None,
    by: User,
) -> Invoice:
    code = rule(same_currency, *(line.price.currency for line in lines), field="price")
    amounts = [line_amount(line.unit_price, line.units) for line in lines]
    invoice = Invoice.objects.create(
        organization_id=patient.organization_id,
        location_id=location_id,
        patient=patient,
        number=next_number(patient.organization_id, "INV"),
        kind=kind,
        service_date=service_date,
        session_ref=session_ref,
        package_sale=package_sale,
        rendering_provider=rendering_provider,
        total=sum(amounts, Decimal("0.00")),
        currency=code,
        issued_by=by,
    )
    lines_written = InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            service=line.price.service,
            price=line.price,
            description=line.description,
            code=line.price.service.code,
            units=line.units,
            unit_price=line.unit_price,
            amount=amount,
            service_date=service_date,
        )
        for position, (line, amount) in enumerate(zip(lines, amounts, strict=True), 1)
    )
    seal_objects(lines_written)  # bulk_create sends no post_save: seal the lines here
    record(
        AuditEvent.Action.BILLING_INVOICED,
        actor=by,
        patient=patient,
        subject=invoice,
        number=invoice.number,
        total=str(invoice.total),
        codes=[f"{line.price.service.code}x{line.units}" for line in lines],
    )
    return invoice


@transaction.atomic
def invoice_session(session: InfusionSession, *, by: User) -> Invoice:
    """The invoice for an infusion that happened, from its charted start and stop (B1).

    Refused for a session that was cancelled or has not ended, and for one
    already invoiced. Within a package, the infusion line is the package's
    share for that session, and credit on account is applied at once.
    """
    if session.status == InfusionSession.Status.CANCELLED:
        raise BillingError(
            "That infusion was cancelled: there is nothing to invoice.",
            field="session",
            code="visit_not_held",
        )
    if (
        session.status not in BILLABLE_SESSION_STATUSES
        or session.started_at is None
        or session.ended_at is None
    ):
        raise BillingError(
            "The infusion has not ended and the patient not been discharged: invoice it after.",
            field="session",
            code="visit_not_held",
        )
    if Invoice.objects.filter(session_ref=session.uuid).exists():
        raise BillingError(
            "This infusion is already invoiced.", field="session", code="invoiced"
        )
    minutes = rule(
        infusion_minutes, int((session.ended_at - session.started_at).total_seconds())
    )
    coded = rule(infusion_codes, minutes)
    booster = session.order.kind == InfusionOrder.Kind.BOOSTER
    primary_key = Service.Key.BOOSTER if booster else Service.Key.INFUSION
    package = _open_package_sale(session.patient, primary_key)
    org = session.organization_id
    lines: list[PlannedLine] = []
    for item in coded:
        if item.code == Code.IV_PUSH:
            price = current_price(org, Service.Key.IV_PUSH)
            lines.append(
                PlannedLine(
                    price, 1, price.amount, f"{price.service.name}, {minutes} min"
                )
            )
        elif item.code == Code.INFUSION_FIRST_HOUR:
            price = current_price(org, primary_key)
            unit_price = package[1] if package else price.amount
            description = f"{price.service.name}, {minutes} min"
            if package:
                description += " (package)"
            lines.append(PlannedLine(price, 1, unit_price, description))
        else:
            price = current_price(org, Service.Key.INFUSION_ADDITIONAL_HOUR)
            lines.append(
                PlannedLine(price, item.units, price.amount, price.service.name)
            )
    if session.mg_given:
        price = current_price(org, Service.Key.KETAMINE)
        lines.append(
            PlannedLine(
                price, 1, price.amount, f"Ketamine {session.mg_given.normalize():f} mg"
            )
        )
    for prn in session.prn_given.all():
        price = current_price(org, Service.Key.PRN_MEDICATION)
        lines.append(PlannedLine(price, 1, price.amount, f"{prn} (as needed)"))
    invoice = _issue(
        session.patient,
        kind=Invoice.Kind.VISIT,
        service_date=session.service_date,
        lines=lines,
        location_id=session.location_id,
        rendering_provider=session.order.signed_by,
        session_ref=session.uuid,
        package_sale=package[0] if package else None,
        by=by,
    )
    if package:
        credit = account_credit(session.patient)
        if credit > 0:
            apply_credit(invoice, amount=min(credit, invoice.total), by=by)
    return invoice


def _payment_currency(value: str) -> str:
    return rule(currency, value, field="currency")


def _checked_method(method: str, reference: str) -> None:
    if method not in Payment.Method.values or method == Payment.Method.CREDIT:
        raise BillingError("Choose how it was paid.", field="method", code="method")
    if (
        method in (Payment.Method.CARD, Payment.Method.CHECK, Payment.Method.FINANCING)
        and not reference.strip()
    ):
        raise BillingError(
            "Enter the terminal, check or financing reference.",
            field="reference",
            code="reference",
        )


@transaction.atomic
def record_account_payment(
    patient: Patient,
    *,
    amount: Decimal | str,
    currency_code: str = "USD",
    method: str,
    reference: str = "",
    package_sale: PackageSale | None = None,
    location_id: int | None = None,
    by: User,
) -> Payment:
    """Money taken on account (a deposit, a prepayment), applied to invoices later."""
    checked = checked_money(amount, field="amount")
    if checked <= 0:
        raise BillingError(
            "A payment is more than zero.", field="amount", code="not_positive"
        )
    _checked_method(method, reference)
    payment = Payment.objects.create(
        organization_id=patient.organization_id,
        location_id=location_id,
        patient=patient,
        package_sale=package_sale,
        kind=Payment.Kind.PAYMENT,
        method=method,
        amount=checked,
        currency=_payment_currency(currency_code),
        reference=reference.strip(),
        received_by=by,
    )
    record(
        AuditEvent.Action.BILLING_PAYMENT,
        actor=by,
        patient=patient,
        subject=payment,
        amount=str(checked),
        method=method,
        on_account=True,
    )
    return payment


@transaction.atomic
def record_payment(
    invoice: Invoice,
    *,
    amount: Decimal | str,
    method: str,
    reference: str = "",
    excess_as_credit: bool = False,
    by: User,
) -> list[Payment]:
    """A payment on an invoice; any excess becomes credit on account only when asked."""
    Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
    checked = checked_money(amount, field="amount")
    _checked_method(method, reference)
    applied = rule(
        check_payment, invoice_balance(invoice), checked, allow_credit=excess_as_credit
    )
    made: list[Payment] = []
    if applied > 0:
        made.append(
            Payment.objects.create(
                organization_id=invoice.organization_id,
                location_id=invoice.location_id,
                patient=invoice.patient,
                invoice=invoice,
                kind=Payment.Kind.PAYMENT,
                method=method,
                amount=applied,
                currency=invoice.currency,
                reference=reference.strip(),
                received_by=by,
            )
        )
    if checked > applied:
        made.append(
            Payment.objects.create(
                organization_id=invoice.organization_id,
                location_id=invoice.location_id,
                patient=invoice.patient,
                kind=Payment.Kind.PAYMENT,
                method=method,
                amount=checked - applied,
                currency=invoice.currency,
                reference=reference.strip(),
                note=f"Excess of a payment on {invoice.number}, kept as credit",
                received_by=by,
            )
        )
    record(
        AuditEvent.Action.BILLING_PAYMENT,
        actor=by,
        patient=invoice.patient,
        subject=invoice,
        amount=str(checked),
        applied=str(applied),
        credit=str(checked - applied),
        method=method,
    )
    return made


@transaction.atomic
def apply_credit(invoice: Invoice, *, amount: Decimal | str, by: User) -> Payment:
    Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
    checked = checked_money(amount, field="amount")
    available = account_credit(invoice.patient)
    if checked <= 0 or checked > available:
        raise BillingError(
            f"The patient has {available} of credit on account.",
            field="amount",
            code="exceeds_credit",
        )
    rule(check_payment, invoice_balance(invoice), checked, allow_credit=False)
    payment = Payment.objects.create(
        organization_id=invoice.organization_id,
        location_id=invoice.location_id,
        patient=invoice.patient,
        invoice=invoice,
        kind=Payment.Kind.CREDIT_APPLIED,
        method=Payment.Method.CREDIT,
        amount=checked,
        currency=invoice.currency,
        received_by=by,
    )
    record(
        AuditEvent.Action.BILLING_CREDIT_APPLIED,
        actor=by,
        patient=invoice.patient,
        subject=invoice,
        amount=str(checked),
    )
    return payment


@transaction.atomic
def refund_payment(
    payment: Payment, *, amount: Decimal | str, reason: str, by: User
) -> Payment:
    """Give money back against a payment: a new refund row, never an edited payment."""
    if payment.kind != Payment.Kind.PAYMENT:
        raise BillingError(
            "Only a payment can be refunded.", field="payment", code="not_payment"
        )
    Payment.objects.select_for_update().filter(pk=payment.pk).first()
    checked = checked_money(amount, field="amount")
    if not reason.strip():
        raise BillingError("Say why the money is given back.", field="reason")
    left = refundable(payment)
    if payment.invoice_id is None:
        left = min(left, account_credit(payment.patient))
    rule(check_refund, left, checked)
    refund = Payment.objects.create(
        organization_id=payment.organization_id,
        location_id=payment.location_id,
        patient=payment.patient,
        invoice=payment.invoice,
        package_sale=payment.package_sale,
        refund_of=payment,
        kind=Payment.Kind.REFUND,
        method=payment.method,
        amount=checked,
        currency=payment.currency,
        reference=payment.reference,
        note=reason.strip()[:200],
        received_by=by,
    )
    record(
        AuditEvent.Action.BILLING_REFUND,
        actor=by,
        patient=payment.patient,
        subject=refund,
        amount=str(checked),
        refund_of=str(payment.uuid),
        reason=reason.strip(),
    )
    return refund
