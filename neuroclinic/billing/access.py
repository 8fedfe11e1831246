"""The door to billing records: each one through its patient's visibility (`get_patient_for_user`).

Also the door billing takes to what it invoices (an infusion, a TMS session, a
visit), for the pages and the API alike: looked up in the user's organization
(another organization's id is 404, as an unknown one), then the patient's door
decides (404 for a patient the user may not see, 403 without the capability).
When `patient` is given, a record of another patient is 404 too.
"""

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.billing.models import (
    EmRuleVersion,
    GoodFaithEstimate,
    Invoice,
    PackageSale,
    Payment,
    Statement,
    Superbill,
    VisitCoding,
)
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment
from neuroclinic.tms.models import TmsSession


def _check(
    user: User,
    record: Invoice
    | GoodFaithEstimate
    | Payment
    | Superbill
    | Statement
    | PackageSale
    | InfusionSession
    | TmsSession
    | Appointment,
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


def package_sale_for(
    user: User, sale_uuid: UUID, *, capability: Capability
) -> PackageSale:
    try:
        sale = PackageSale.objects.select_related(
            "patient", "package_version__package"
        ).get(uuid=sale_uuid, organization_id=user.organization_pk)
    except PackageSale.DoesNotExist:
        raise Http404("No such package sale.") from None
    _check(user, sale, capability)
    return sale


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


def statement_for(
    user: User, statement_uuid: UUID, *, capability: Capability
) -> Statement:
    try:
        statement = Statement.objects.select_related("patient").get(
            uuid=statement_uuid, organization_id=user.organization_pk
        )
    except Statement.DoesNotExist:
        raise Http404("No such statement.") from None
    _check(user, statement, capability)
    return statement


def _of_patient(record_patient_id: int, patient: Patient | None, what: str) -> None:
    if patient is not None and record_patient_id != patient.pk:
        raise Http404(f"No such {what} for this patient.")


def infusion_session_for(
    user: User,
    session_uuid: UUID,
    *,
    capability: Capability,
    patient: Patient | None = None,
) -> InfusionSession:
    session = (
        InfusionSession.objects.filter(
            uuid=session_uuid, organization_id=user.organization_pk
        )
        .select_related("patient", "order")
        .first()
    )
    if session is None:
        raise Http404("No such infusion.")
    _of_patient(session.patient_id, patient, "infusion")
    _check(user, session, capability)
    return session


def tms_session_for(
    user: User,
    session_uuid: UUID,
    *,
    capability: Capability,
    patient: Patient | None = None,
) -> TmsSession:
    session = (
        TmsSession.objects.filter(
            uuid=session_uuid, course__organization_id=user.organization_pk
        )
        .select_related(
            "patient", "course", "course__location", "supervising_physician"
        )
        .first()
    )
    if session is None:
        raise Http404("No such TMS session.")
    _of_patient(session.patient_id, patient, "TMS session")
    _check(user, session, capability)
    return session


def appointment_for(
    user: User,
    appointment_uuid: UUID,
    *,
    capability: Capability,
    patient: Patient | None = None,
) -> Appointment:
    appointment = (
        Appointment.objects.filter(
            uuid=appointment_uuid, organization_id=user.organization_pk
        )
        .select_related("patient", "appointment_type", "location", "staff")
        .first()
    )
    if appointment is None:
        raise Http404("No such visit.")
    _of_patient(appointment.patient_id, patient, "visit")
    _check(user, appointment, capability)
    return appointment


# The office-visit (E/M) time rules and each visit's coding ----------------------------
# The rules hold no patient data: billing staff (who see codes) and whoever sets them
# read them; only the medical director or clinic admin (`configure_em_rules`) makes a
# version. A visit's coding is a patient's billing record: through the patient's door.


def check_em_rules(user: User, *, write: bool = False) -> None:
    """403 unless the user may read (or, with `write`, change) the E/M rules."""
    if user.can(Capability.CONFIGURE_EM_RULES):
        return
    if not write and user.can(Capability.BILLING_VIEW):
        return
    raise PermissionDenied


def em_rule_version_for(user: User, version: int) -> EmRuleVersion:
    check_em_rules(user)
    found = EmRuleVersion.objects.filter(
        organization_id=user.organization_pk, version=version
    ).first()
    if found is None:
        raise Http404("No such version of the E/M rules.")
    return found


def visit_codings_for(
    user: User, patient_uuid: UUID
) -> tuple[Patient, QuerySet[VisitCoding]]:
    """A patient's visit codings, newest first (404/403 by the patient's door)."""
    patient = get_patient_for_user(
        user, patient_uuid, capability=Capability.BILLING_VIEW
    )
    return patient, (
        VisitCoding.objects.filter(invoice__patient=patient)
        .select_related("invoice", "rule_version")
        .order_by("-made_at", "-id")
    )
