"""Superbills (B5): every field an insurer reads, kept as given so the PDF and CSV never change."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.billing.accounting import invoice_balance, member_id
from neuroclinic.billing.actions.common import identity_of, rule
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import Invoice, RenderingProvider, Superbill
from neuroclinic.billing.rules import diagnosis_pointers
from neuroclinic.patients.models import Diagnosis, Patient


def _provider(user: User | None) -> RenderingProvider:
    provider = (
        RenderingProvider.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .first()
        if user
        else None
    )
    if provider is None:
        name = user.display_name if user else "the rendering clinician"
        raise BillingError(
            f"No NPI on file for {name}: add it under billing setup.",
            field="npi",
            code="no_npi",
        )
    return provider


@transaction.atomic
def make_superbill(
    patient: Patient,
    *,
    invoice: Invoice | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    by: User,
) -> Superbill:
    """A superbill for one visit's invoice, or for every visit invoice in a period."""
    if invoice is not None:
        if invoice.patient_id != patient.pk:
            raise BillingError("No such invoice.", field="invoice")
        invoices = [invoice]
        start = end = invoice.service_date
    else:
        if period_start is None or period_end is None or period_end < period_start:
            raise BillingError(
                "Give a period whose end is on or after its start.", field="period_end"
            )
        start, end = period_start, period_end
        invoices = list(
            Invoice.objects.filter(
                patient=patient,
                kind=Invoice.Kind.VISIT,
                service_date__range=(start, end),
            ).order_by("service_date", "id")
        )
    if not invoices:
        raise BillingError(
            "No visits were invoiced in that period.",
            field="period_start",
            code="empty",
        )
    diagnoses = list(
        Diagnosis.objects.filter(patient=patient, ended_at__isnull=True).order_by(
            "recorded_at", "id"
        )
    )
    pointers = rule(diagnosis_pointers, len(diagnoses))
    identity = identity_of(patient.organization_id)
    providers = {
        i.rendering_provider_id: _provider(i.rendering_provider) for i in invoices
    }
    first = providers[invoices[0].rendering_provider_id]
    lines = []
    payments = []
    charged = paid = Decimal("0.00")
    for inv in invoices:
        for line in inv.lines.all():
            lines.append(
                {
                    "date": line.service_date.isoformat(),
                    "place_of_service": line.place_of_service,
                    "code": line.code,
                    "modifiers": line.modifiers,
                    "units": line.units,
                    "pointers": pointers,
                    "description": line.description,
                    "fee": str(line.amount),
                    "npi": providers[inv.rendering_provider_id].npi,
                    "invoice": inv.number,
                }
            )
        for payment in inv.payments.all():
            payments.append(
                {
                    "date": payment.received_at.date().isoformat(),
                    "method": payment.get_method_display(),
                    "kind": payment.kind,
                    "amount": str(payment.signed_amount),
                    "invoice": inv.number,
                }
            )
        balance = invoice_balance(inv)
        charged += balance.charged
        paid += balance.net_paid
    clinician = first.user
    content = {
        "provider": {
            "practice": identity.legal_name,
            "address": identity.address,
            "phone": identity.phone,
            "tax_id": identity.tax_id,
            "organization_npi": identity.organization_npi,
            "rendering_name": clinician.display_name,
            "rendering_npi": first.npi,
            "license": f"{first.license_number} ({first.license_state})",
            "taxonomy": first.taxonomy_code,
        },
        "patient": {
            "name": patient.legal_name,
            "birth_date": patient.birth_date.isoformat(),
            "address": ", ".join(
                p
                for p in (
                    patient.address_line1,
                    patient.address_line2,
                    patient.city,
                    f"{patient.state} {patient.postal_code}".strip(),
                )
                if p
            ),
            "member_id": member_id(patient),
        },
        "diagnoses": [
            {
                "pointer": "ABCDEFGHIJKL"[n],
                "code": d.icd10_code,
                "description": d.description,
            }
            for n, d in enumerate(diagnoses[:12])
        ],
        "lines": lines,
        "payments": payments,
        "currency": invoices[0].currency,
        "total_charged": str(charged),
        "total_paid": str(paid),
        "balance": str(charged - paid),
        "paid_in_full": charged == paid,
    }
    superbill = Superbill.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        period_start=start,
        period_end=end,
        content=content,
        made_by=by,
    )
    record(
        AuditEvent.Action.BILLING_SUPERBILL_MADE,
        actor=by,
        patient=patient,
        subject=superbill,
        invoices=[i.number for i in invoices],
    )
    return superbill
