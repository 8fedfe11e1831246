"""The door to billing records: each one through its patient's visibility (`get_patient_for_user`)."""

from uuid import UUID

from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.billing.models import GoodFaithEstimate, Invoice, Payment, Superbill
from neuroclinic.patients.access import get_patient_for_user


def _check(
    user: User,
    record: Invoice | GoodFaithEstimate | Payment | Superbill,
    capability: Capability,
) -> None:
    # The patient's door decides: another clinic's record is 404, a role without the capability 403.
    get_patient_for_user(user, record.patient.uuid, capability=capability)


def invoice_for(user: User, invoice_uuid: UUID, *, capability: Capability) -> Invoice:
    try:
        invoice = Invoice.objects.select_related("patient").get(
            uuid=invoice_uuid, organization_id=user.organization_pk
        )
    except Invoice.DoesNotExist:
        raise Http404("No such invoice.") from None
    _check(user, invoice, capability)
    return invoice


def estimate_for(
    user: User, estimate_uuid: UUID, *, capability: Capability
) -> GoodFaithEstimate:
    try:
        estimate = GoodFaithEstimate.objects.select_related("patient").get(
            uuid=estimate_uuid, organization_id=user.organization_pk
        )
    except GoodFaithEstimate.DoesNotExist:
        raise Http404("No such estimate.") from None
    _check(user, estimate, capability)
    return estimate


def payment_for(user: User, payment_uuid: UUID, *, capability: Capability) -> Payment:
    try:
        payment = Payment.objects.select_related("patient", "invoice").get(
            uuid=payment_uuid, organization_id=user.organization_pk
        )
    except Payment.DoesNotExist:
        raise Http404("No such payment.") from None
    _check(user, payment, capability)
    return payment


def superbill_for(
    user: User, superbill_uuid: UUID, *, capability: Capability
) -> Superbill:
    try:
        superbill = Superbill.objects.select_related("patient").get(
            uuid=superbill_uuid, organization_id=user.organization_pk
        )
    except Superbill.DoesNotExist:
        raise Http404("No such superbill.") from None
    _check(user, superbill, capability)
    return superbill
