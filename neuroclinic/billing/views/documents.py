"""Downloads: estimate, invoice (receipt when paid), superbill and statement PDFs, the superbill CSV. Each audited."""

from uuid import UUID

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing import pdf
from neuroclinic.billing.access import (
    estimate_for,
    invoice_for,
    statement_for,
    superbill_for,
)
from neuroclinic.billing.actions.reads import record_read
from neuroclinic.billing.models import GoodFaithEstimate, Invoice, Statement, Superbill
from neuroclinic.http import AuthenticatedHttpRequest


def _download(
    request: AuthenticatedHttpRequest,
    document: GoodFaithEstimate | Invoice | Superbill | Statement,
    *,
    kind: str,
    body: bytes | str,
    content_type: str,
    filename: str,
) -> HttpResponse:
    """The file, after recording that this user opened this patient's document."""
    record_read(
        AuditEvent.Action.BILLING_DOCUMENT_VIEWED,
        patient=document.patient,
        subject=document,
        by=request.user,
        document=kind,
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_capability(Capability.BILLING_VIEW)
@require_GET
def estimate_pdf(
    request: AuthenticatedHttpRequest, estimate_uuid: UUID
) -> HttpResponse:
    estimate = estimate_for(
        request.user, estimate_uuid, capability=Capability.BILLING_VIEW
    )
    return _download(
        request,
        estimate,
        kind="estimate",
        body=pdf.estimate_pdf(estimate),
        content_type="application/pdf",
        filename=f"{estimate.number}.pdf",
    )


@require_capability(Capability.BILLING_VIEW)
@require_GET
def invoice_pdf(request: AuthenticatedHttpRequest, invoice_uuid: UUID) -> HttpResponse:
    invoice = invoice_for(
        request.user, invoice_uuid, capability=Capability.BILLING_VIEW
    )
    return _download(
        request,
        invoice,
        kind="invoice",
        body=pdf.invoice_pdf(invoice),
        content_type="application/pdf",
        filename=f"{invoice.number}.pdf",
    )


@require_capability(Capability.BILLING_VIEW)
@require_GET
def superbill_pdf(
    request: AuthenticatedHttpRequest, superbill_uuid: UUID
) -> HttpResponse:
    superbill = superbill_for(
        request.user, superbill_uuid, capability=Capability.BILLING_VIEW
    )
    return _download(
        request,
        superbill,
        kind="superbill",
        body=pdf.superbill_pdf(superbill),
        content_type="application/pdf",
        filename=f"superbill-{superbill.period_start}.pdf",
    )


@require_capability(Capability.BILLING_VIEW)
@require_GET
def superbill_csv(
    request: AuthenticatedHttpRequest, superbill_uuid: UUID
) -> HttpResponse:
    superbill = superbill_for(
        request.user, superbill_uuid, capability=Capability.BILLING_VIEW
    )
    return _download(
        request,
        superbill,
        kind="superbill_csv",
        body=pdf.superbill_csv(superbill),
        content_type="text/csv; charset=utf-8",
        filename=f"superbill-{superbill.period_start}.csv",
    )


@require_capability(Capability.BILLING_VIEW)
@require_GET
def statement_pdf(
    request: AuthenticatedHttpRequest, statement_uuid: UUID
) -> HttpResponse:
    statement = statement_for(
        request.user, statement_uuid, capability=Capability.BILLING_VIEW
    )
    return _download(
        request,
        statement,
        kind="statement",
        body=pdf.statement_pdf(statement),
        content_type="application/pdf",
        filename=f"{statement.number}.pdf",
    )
