"""The uninsured/self-pay question, good-faith estimates (B6), and package sales."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.billing.accounting import payer_status
from neuroclinic.billing.actions.common import (
    checked_money,
    current_price,
    identity_of,
    next_number,
    rule,
)
from neuroclinic.billing.actions.invoices import record_account_payment
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.holidays import closed_days
from neuroclinic.billing.models import (
    GoodFaithEstimate,
    Package,
    PackageSale,
    PackageVersion,
    PayerStatusAnswer,
    Payment,
)
from neuroclinic.billing.rules import (
    EstimateTrigger,
    PayerStatus,
    estimate_due,
    estimate_owed,
    line_amount,
    same_currency,
)
from neuroclinic.patients.models import Diagnosis, Patient

# Shown on every estimate (B6): what the estimate is and the patient's right to dispute.
ESTIMATE_DISCLAIMER = (
    "This Good Faith Estimate shows the costs of items and services that are reasonably"
    " expected for your health care needs, based on information known at the time it was"
    " created. It does not include unknown or unexpected costs that may arise during"
    " treatment, and it is not a contract: you are not required to get the services listed."
    " If you are billed for more than this Good Faith Estimate, you have the right to"
    " dispute the bill. Keep a copy of this estimate."
)


@transaction.atomic
def record_payer_status(
    patient: Patient, *, status: str, member_id: str = "", by: User
) -> PayerStatusAnswer:
    if status not in PayerStatus.__members__.values():
        raise BillingError(
            "Choose uninsured, self-pay or insurance.", field="status", code="status"
        )
    answer = PayerStatusAnswer.objects.create(
        patient=patient, status=status, member_id=member_id.strip(), asked_by=by
    )
    record(
        AuditEvent.Action.BILLING_PAYER_STATUS,
        actor=by,
        patient=patient,
        subject=answer,
        status=status,
    )
    return answer


@dataclass(frozen=True)
class EstimateItem:
    service_key: str
    quantity: int = 1


@transaction.atomic
def give_estimate(
    patient: Patient,
    *,
    items: list[EstimateItem] | None = None,
    package_version: PackageVersion | None = None,
    trigger: str = EstimateTrigger.SCHEDULED,
    scheduled_on: date,
    service_on: date | None = None,
    by: User,
) -> GoodFaithEstimate:
    """The written estimate for a scheduled series or course, or on request (B6)."""
    status = payer_status(patient)
    if status is None:
        raise BillingError(
            "Ask whether the patient is uninsured or paying themselves first.",
            field="payer_status",
            code="payer_status_unknown",
        )
    if not estimate_owed(PayerStatus(status)):
        raise BillingError(
            "The patient wants insurance billed: a good-faith estimate for self-pay"
            " patients does not apply.",
            field="payer_status",
            code="insured",
        )
    try:
        estimate_trigger = EstimateTrigger(trigger)
    except ValueError:
        raise BillingError("Unknown trigger.", field="trigger") from None
    if service_on is not None and service_on < scheduled_on:
        raise BillingError(
            "The service date is before the day it was booked.", field="service_on"
        )
    identity = identity_of(patient.organization_id)
    lines: list[dict[str, object]] = []
    currencies: list[str] = []
    if package_version is not None:
        package = package_version.package
        if package.organization_id != patient.organization_id:
            raise BillingError("No such package.", field="package")
        lines.append(
            {
                "description": f"{package.name} ({package_version.sessions} sessions)",
                "code": package.service.code,
                "quantity": package_version.sessions,
                "unit_price": str(
                    (package_version.price / package_version.sessions).quantize(
                        Decimal("0.01")
                    )
                ),
                "amount": str(package_version.price),
            }
        )
        currencies.append(package_version.currency)
    for item in items or []:
        if item.quantity < 1:
            raise BillingError("A quantity is at least 1.", field="items")
        price = current_price(patient.organization_id, item.service_key)
        lines.append(
            {
                "description": price.service.name,
                "code": price.service.code,
                "quantity": item.quantity,
                "unit_price": str(price.amount),
                "amount": str(line_amount(price.amount, item.quantity)),
            }
        )
        currencies.append(price.currency)
    if not lines:
        raise BillingError("An estimate lists at least one item.", field="items")
    code = rule(same_currency, *currencies, field="items")
    total = sum((Decimal(str(line["amount"])) for line in lines), Decimal("0.00"))
    holidays = closed_days(
        patient.organization_id,
        scheduled_on,
        max(scheduled_on, service_on or scheduled_on) + timedelta(days=31),
    )
    due = rule(
        estimate_due,
        trigger=estimate_trigger,
        on=scheduled_on,
        service_on=service_on,
        holidays=holidays,
    )
    diagnoses = [
        {"code": d.icd10_code, "description": d.description}
        for d in Diagnosis.objects.filter(patient=patient, ended_at__isnull=True)
    ]
    estimate = GoodFaithEstimate.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        number=next_number(patient.organization_id, "GFE"),
        trigger=estimate_trigger,
        scheduled_on=scheduled_on,
        service_on=service_on,
        due_by=due,
        total=total,
        currency=code,
        content={
            "provider": {
                "legal_name": identity.legal_name,
                "tax_id": identity.tax_id,
                "npi": identity.organization_npi,
                "address": identity.address,
                "phone": identity.phone,
            },
            "patient": {
                "name": patient.legal_name,
                "birth_date": patient.birth_date.isoformat(),
            },
            "lines": lines,
            "diagnoses": diagnoses,
            "disclaimer": ESTIMATE_DISCLAIMER,
        },
        given_by=by,
    )
    record(
        AuditEvent.Action.BILLING_ESTIMATE_GIVEN,
        actor=by,
        patient=patient,
        subject=estimate,
        number=estimate.number,
        total=str(total),
        due_by=due.isoformat() if due else None,
        late=bool(due and timezone.localdate() > due),
    )
    return estimate


@transaction.atomic
def sell_package(
    patient: Patient,
    *,
    package: Package,
    deposit_amount: Decimal | str | None = None,
    method: str = Payment.Method.CARD,
    reference: str = "",
    by: User,
) -> PackageSale:
    """Sell the package on its current terms, taking the deposit (or more) on account."""
    if package.organization_id != patient.organization_id:
        raise BillingError("No such package.", field="package")
    terms = package.versions.order_by("-version").first()
    if terms is None:
        raise BillingError("The package has no terms yet.", field="package")
    sale = PackageSale.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        package_version=terms,
        sold_by=by,
    )
    amount = (
        checked_money(deposit_amount, field="deposit_amount")
        if deposit_amount not in (None, "")
        else terms.deposit
    )
    if amount < terms.deposit:
        raise BillingError(
            f"The deposit for this package is {terms.deposit} {terms.currency}.",
            field="deposit_amount",
            code="deposit_short",
        )
    if amount > terms.price:
        raise BillingError(
            "The deposit cannot be more than the package price.",
            field="deposit_amount",
            code="deposit_over",
        )
    record(
        AuditEvent.Action.BILLING_PACKAGE_SOLD,
        actor=by,
        patient=patient,
        subject=sale,
        package=str(package.uuid),
        version=terms.version,
        price=str(terms.price),
    )
    if amount > 0:
        record_account_payment(
            patient,
            amount=amount,
            currency_code=terms.currency,
            method=method,
            reference=reference,
            package_sale=sale,
            by=by,
        )
    return sale
