"""The patient's own bills in the portal: invoices (receipts when paid), superbills for
their insurer, good-faith estimates and statements, as PDFs. Only the signed-in patient's documents
are found (another patient's address answers 404); every opening is audited."""

from uuid import UUID

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing import pdf
from neuroclinic.billing.accounting import invoices_with_balances
from neuroclinic.billing.actions.reads import record_portal_read
from neuroclinic.billing.models import (
    GoodFaithEstimate,
    Invoice,
    Statement,
    Superbill,
)
from neuroclinic.http import HtmxHttpRequest
from neuroclinic.patients.models import Patient
from neuroclinic.portal.session import frame, portal_required

Document = GoodFaithEstimate | Invoice | Superbill | Statement


@never_cache
@require_GET
@portal_required
def bills(
    request: HtmxHttpRequest, patient: Patient, state: dict[str, object]
) -> HttpResponse:
    record_portal_read(
        AuditEvent.Action.BILLING_ACCOUNT_VIEWED, patient=patient, subject=patient
    )
    return render(
        request,
        "portal/bills.html",
        frame(patient, dict(state))
        | {
            "invoice_rows": invoices_with_balances(
                Invoice.objects.filter(patient=patient)
                .prefetch_related("payments")
                .order_by("-service_date", "-id")
            ),
            "superbills": Superbill.objects.filter(patient=patient),
            "estimates": GoodFaithEstimate.objects.filter(patient=patient),
            "statements": Statement.objects.filter(patient=patient),
        },
    )


def _own[T: (GoodFaithEstimate, Invoice, Superbill, Statement)](
    model: type[T], patient: Patient, uuid: UUID
) -> T:
    found = model._default_manager.filter(patient=patient, uuid=uuid).first()
    if found is None:
        raise Http404("No such document.")
    return found


def _pdf(
    patient: Patient, document: Document, kind: str, body: bytes, filename: str
) -> HttpResponse:
    record_portal_read(
        AuditEvent.Action.BILLING_DOCUMENT_VIEWED,
        patient=patient,
        subject=document,
        document=kind,
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
@portal_required
def invoice_pdf(
    request: HtmxHttpRequest,
    patient: Patient,
    state: dict[str, object],
    invoice_uuid: UUID,
) -> HttpResponse:
    invoice = _own(Invoice, patient, invoice_uuid)
    return _pdf(patient, invoice, "invoice", pdf.invoice_pdf(invoice), invoice.number)


@never_cache
@require_GET
@portal_required
def superbill_pdf(
    request: HtmxHttpRequest,
    patient: Patient,
    state: dict[str, object],
    superbill_uuid: UUID,
) -> HttpResponse:
    superbill = _own(Superbill, patient, superbill_uuid)
    return _pdf(
        patient, superbill, "superbill", pdf.superbill_pdf(superbill), "superbill"
    )


@never_cache
@require_GET
@portal_required
def estimate_pdf(
    request: HtmxHttpRequest,
    patient: Patient,
    state: dict[str, object],
    estimate_uuid: UUID,
) -> HttpResponse:
    estimate = _own(GoodFaithEstimate, patient, estimate_uuid)
    return _pdf(
        patient, estimate, "estimate", pdf.estimate_pdf(estimate), estimate.number
    )


@never_cache
@require_GET
@portal_required
def statement_pdf(
    request: HtmxHttpRequest,
    patient: Patient,
    state: dict[str, object],
    statement_uuid: UUID,
) -> HttpResponse:
    statement = _own(Statement, patient, statement_uuid)
    return _pdf(
        patient, statement, "statement", pdf.statement_pdf(statement), statement.number
    )


# Under /portal/ in the portal's namespace (listed in portal/urls.py).
urlpatterns: list[URLPattern | URLResolver] = [
    path("bills/", bills, name="bills"),
    path("bills/invoices/<uuid:invoice_uuid>.pdf", invoice_pdf, name="bill_invoice"),
    path(
        "bills/superbills/<uuid:superbill_uuid>.pdf",
        superbill_pdf,
        name="bill_superbill",
    ),
    path(
        "bills/estimates/<uuid:estimate_uuid>.pdf", estimate_pdf, name="bill_estimate"
    ),
    path(
        "bills/statements/<uuid:statement_uuid>.pdf",
        statement_pdf,
        name="bill_statement",
    ),
]
