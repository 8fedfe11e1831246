"""A patient's billing account: the page, and each form on it (one action per POST).

Billing sees demographics, ICD-10 codes, charges and payments; never scores
or notes (minimum necessary, P2). Every opening is audited.
"""

from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.access import (
    appointment_for,
    infusion_session_for,
    invoice_for,
    package_sale_for,
    payment_for,
    tms_session_for,
)
from neuroclinic.billing.accounting import (
    account_credit,
    invoices_with_balances,
    member_id,
    payer_status,
)
from neuroclinic.billing.actions import (
    estimates,
    invoices,
    packages,
    statements,
    superbills,
    visits,
)
from neuroclinic.billing.actions.em_settings import current_rules
from neuroclinic.billing.actions.reads import record_read
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.forms import (
    ClosePackageForm,
    EstimateForm,
    PayerStatusForm,
    PaymentForm,
    RefundForm,
    SellPackageForm,
    StatementForm,
    SuperbillForm,
    add_error,
)
from neuroclinic.billing.models import (
    GoodFaithEstimate,
    Invoice,
    PackageClosure,
    PackageSale,
    Payment,
    Statement,
    Superbill,
)
from neuroclinic.billing.rules import (
    EVALUATION_TYPES,
    FOLLOW_UP_TYPES,
    EstimateTrigger,
)
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Diagnosis, Patient
from neuroclinic.scheduling.models import Appointment
from neuroclinic.tms.models import TmsSession

BILLED_VISIT_TYPES = EVALUATION_TYPES | FOLLOW_UP_TYPES


def _context(
    request: AuthenticatedHttpRequest, patient: Patient, **forms_: forms.Form
) -> dict[str, Any]:
    org = patient.organization_id
    invoice_rows = invoices_with_balances(
        Invoice.objects.filter(patient=patient)
        .prefetch_related(
            Prefetch("payments", queryset=Payment.objects.order_by("received_at", "id"))
        )
        .order_by("-service_date", "-id")
    )
    invoiced = set(
        Invoice.objects.filter(patient=patient, session_ref__isnull=False).values_list(
            "session_ref", flat=True
        )
    )
    uninvoiced_tms = [
        s
        for s in TmsSession.objects.filter(patient=patient)
        .exclude(status=TmsSession.Status.IN_PROGRESS)
        .order_by("started_at", "id")
        if s.uuid not in invoiced
    ]
    uninvoiced_visits = [
        a
        for a in Appointment.objects.filter(
            patient=patient,
            status=Appointment.Status.CHECKED_IN,
            appointment_type__code__in=BILLED_VISIT_TYPES,
        )
        .select_related("appointment_type", "staff", "location")
        .order_by("starts_at", "id")
        if a.uuid not in invoiced
    ]
    # Each visit's suggested family and basis under the clinic's current E/M rules
    # (new patient 99202-99205 or established 99212-99215, B4b; 90791/90792).
    visit_rows = []
    if uninvoiced_visits:  # the rules and the services are read only when needed
        version, em_rules = current_rules(org)
        served = visits.professional_service_dates(patient, rules=em_rules)
        visit_rows = [
            (a, visits.suggest_visit(a, served=served, version=version, rules=em_rules))
            for a in uninvoiced_visits
        ]
    uninvoiced = [
        s
        for s in InfusionSession.objects.filter(
            patient=patient,
            status__in=invoices.BILLABLE_SESSION_STATUSES,
        ).order_by("service_date", "id")
        if s.uuid not in invoiced
    ]
    sales = []
    for sale in (
        PackageSale.objects.filter(patient=patient)
        .select_related("package_version__package", "closure")
        .annotate(visits=Count("invoices", filter=Q(invoices__kind=Invoice.Kind.VISIT)))
    ):
        used = sale.visits  # counted in the one query, not one query per sale
        sales.append(
            {
                "sale": sale,
                "used": used,
                "left": sale.package_version.sessions - used,
                "closure": getattr(sale, "closure", None),
            }
        )
    payments = list(
        Payment.objects.filter(patient=patient)
        .select_related("invoice")
        .annotate(refunded=Sum("refunds__amount"))  # refundable in the one query
        .order_by("-received_at", "-id")
    )
    return {
        "patient": patient,
        "status": payer_status(patient),
        "member_id": member_id(patient),
        "diagnoses": Diagnosis.objects.filter(patient=patient, ended_at__isnull=True),
        "invoice_rows": invoice_rows,
        "uninvoiced": uninvoiced,
        "uninvoiced_tms": uninvoiced_tms,
        "uninvoiced_visits": visit_rows,
        "sales": sales,
        "estimates": GoodFaithEstimate.objects.filter(patient=patient),
        "superbills": Superbill.objects.filter(patient=patient),
        "statements": Statement.objects.filter(patient=patient),
        "payments": [
            (
                p,
                p.amount - (p.refunded or Decimal(0))
                if p.kind == Payment.Kind.PAYMENT
                else Decimal(0),
            )
            for p in payments
        ],
        "credit": account_credit(patient),
        "can_charge": request.user.can(Capability.BILLING_CHARGE),
        "can_pay": request.user.can(Capability.BILLING_PAYMENTS),
        "can_refund": request.user.can(Capability.BILLING_REFUND),
        "payer_form": forms_.get("payer_form") or PayerStatusForm(),
        "estimate_form": forms_.get("estimate_form")
        or EstimateForm(organization_id=org),
        "sell_form": forms_.get("sell_form") or SellPackageForm(organization_id=org),
        "payment_form": forms_.get("payment_form") or PaymentForm(),
        "refund_form": forms_.get("refund_form") or RefundForm(),
        "close_form": forms_.get("close_form") or ClosePackageForm(),
        "close_reasons": PackageClosure.Reason.choices,
        "superbill_form": forms_.get("superbill_form") or SuperbillForm(),
        "statement_form": forms_.get("statement_form") or StatementForm(),
        "error_for": forms_.get("error_for"),
    }


def _again(
    request: AuthenticatedHttpRequest, patient: Patient, **forms_: Any
) -> HttpResponse:
    return render(
        request,
        "billing/account.html",
        _context(request, patient, **forms_),
        status=422,
    )


def _done(patient: Patient) -> HttpResponse:
    return redirect("billing:account", patient_uuid=patient.uuid)


@require_capability(Capability.BILLING_VIEW)
@require_GET
def account(request: AuthenticatedHttpRequest, patient_uuid: UUID) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_VIEW
    )
    record_read(
        AuditEvent.Action.BILLING_ACCOUNT_VIEWED,
        patient=patient,
        subject=patient,
        by=request.user,
    )
    return render(request, "billing/account.html", _context(request, patient))


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def set_payer_status(
    request: AuthenticatedHttpRequest, patient_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    form = PayerStatusForm(request.POST)
    if form.is_valid():
        try:
            estimates.record_payer_status(patient, by=request.user, **form.cleaned_data)
            return _done(patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, patient, payer_form=form)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def give_estimate(
    request: AuthenticatedHttpRequest, patient_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    form = EstimateForm(request.POST, organization_id=patient.organization_id)
    if form.is_valid():
        data = form.cleaned_data
        items = []
        if data["consult"]:
            items.append(estimates.EstimateItem("consult"))
        if data["extra_infusions"]:
            items.append(estimates.EstimateItem("infusion", data["extra_infusions"]))
        package = data["package"]
        try:
            estimates.give_estimate(
                patient,
                items=items,
                package_version=package.versions.order_by("-version").first()
                if package
                else None,
                trigger=EstimateTrigger.REQUESTED
                if data["requested"]
                else EstimateTrigger.SCHEDULED,
                scheduled_on=data["scheduled_on"],
                service_on=data["service_on"],
                by=request.user,
            )
            return _done(patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, patient, estimate_form=form)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def sell_package(request: AuthenticatedHttpRequest, patient_uuid: UUID) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    form = SellPackageForm(request.POST, organization_id=patient.organization_id)
    if form.is_valid():
        try:
            estimates.sell_package(patient, by=request.user, **form.cleaned_data)
            return _done(patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, patient, sell_form=form)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def invoice_session(
    request: AuthenticatedHttpRequest, patient_uuid: UUID, session_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    session = infusion_session_for(
        request.user,
        session_uuid,
        capability=Capability.BILLING_CHARGE,
        patient=patient,
    )
    try:
        invoices.invoice_session(session, by=request.user)
    except BillingError as exc:
        return _again(request, patient, error_for=exc.message)
    return _done(patient)


@require_capability(Capability.BILLING_PAYMENTS)
@require_POST
def pay(request: AuthenticatedHttpRequest, invoice_uuid: UUID) -> HttpResponse:
    invoice = invoice_for(
        request.user, invoice_uuid, capability=Capability.BILLING_PAYMENTS
    )
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            invoices.record_payment(invoice, by=request.user, **form.cleaned_data)
            return _done(invoice.patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, invoice.patient, payment_form=form)


@require_capability(Capability.BILLING_REFUND)
@require_POST
def refund(request: AuthenticatedHttpRequest, payment_uuid: UUID) -> HttpResponse:
    payment = payment_for(
        request.user, payment_uuid, capability=Capability.BILLING_REFUND
    )
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            invoices.refund_payment(payment, by=request.user, **form.cleaned_data)
            return _done(payment.patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, payment.patient, refund_form=form)


@require_capability(Capability.BILLING_REFUND)
@require_POST
def close_package(request: AuthenticatedHttpRequest, sale_uuid: UUID) -> HttpResponse:
    """Close a package sale: its unused sessions settled by the terms it was sold on."""
    sale = package_sale_for(
        request.user, sale_uuid, capability=Capability.BILLING_REFUND
    )
    form = ClosePackageForm(request.POST)
    if form.is_valid():
        try:
            packages.close_package(sale, by=request.user, **form.cleaned_data)
            return _done(sale.patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, sale.patient, close_form=form)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def make_superbill(
    request: AuthenticatedHttpRequest, patient_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    form = SuperbillForm(request.POST)
    if form.is_valid():
        try:
            superbills.make_superbill(patient, by=request.user, **form.cleaned_data)
            return _done(patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, patient, superbill_form=form)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def make_statement(
    request: AuthenticatedHttpRequest, patient_uuid: UUID
) -> HttpResponse:
    """A statement for the period: kept, printable, and in the patient's portal."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    form = StatementForm(request.POST)
    if form.is_valid():
        try:
            statements.make_statement(patient, by=request.user, **form.cleaned_data)
            return _done(patient)
        except BillingError as exc:
            add_error(form, exc)
    return _again(request, patient, statement_form=form)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def invoice_superbill(
    request: AuthenticatedHttpRequest, invoice_uuid: UUID
) -> HttpResponse:
    invoice = invoice_for(
        request.user, invoice_uuid, capability=Capability.BILLING_CHARGE
    )
    try:
        superbills.make_superbill(invoice.patient, invoice=invoice, by=request.user)
    except BillingError as exc:
        return _again(request, invoice.patient, error_for=exc.message)
    return _done(invoice.patient)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def invoice_tms_session(
    request: AuthenticatedHttpRequest, patient_uuid: UUID, session_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    session = tms_session_for(
        request.user,
        session_uuid,
        capability=Capability.BILLING_CHARGE,
        patient=patient,
    )
    try:
        visits.invoice_tms_session(session, by=request.user)
    except BillingError as exc:
        return _again(request, patient, error_for=exc.message)
    return _done(patient)


@require_capability(Capability.BILLING_CHARGE)
@require_POST
def invoice_visit(
    request: AuthenticatedHttpRequest, patient_uuid: UUID, appointment_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BILLING_CHARGE
    )
    appointment = appointment_for(
        request.user,
        appointment_uuid,
        capability=Capability.BILLING_CHARGE,
        patient=patient,
    )
    raw = request.POST.get("minutes", "").strip()
    if raw and not raw.isdigit():
        return _again(request, patient, error_for="Minutes are a whole number.")
    family = request.POST.get("family", "").strip() or None
    try:
        visits.invoice_visit(
            appointment,
            minutes=int(raw) if raw else None,
            family=family,
            by=request.user,
        )
    except BillingError as exc:
        return _again(request, patient, error_for=exc.message)
    return _done(patient)
