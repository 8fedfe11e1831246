"""Receiving a supplier's invoice, the receipt, and its scan."""

import uuid

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.ledger.actions.receiving import ReceiptItem, receive_invoice
from neuroclinic.ledger.dates import local_date
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.ledger.forms import (
    ReceiveForm,
    ReceiveItemFormSet,
)
from neuroclinic.ledger.models import Receipt
from neuroclinic.ledger.views.frame import (
    chosen_registrant,
    own_object,
    render_page,
    show_refusal,
)


@require_capability(Capability.LEDGER_RECEIVE)
@require_http_methods(["GET", "POST"])
def receive(request: AuthenticatedHttpRequest) -> HttpResponse:
    registrant = chosen_registrant(request)
    if registrant is None:
        raise Http404("Set up the DEA registration first.")
    data = request.POST if request.method == "POST" else None
    form = ReceiveForm(
        data,
        request.FILES if request.method == "POST" else None,
        registrant=registrant,
        initial={"invoice_date": local_date(registrant, timezone.now())},
    )
    items = ReceiveItemFormSet(
        data,
        prefix="items",
        form_kwargs={"organization_id": registrant.organization_id},
    )
    if request.method == "POST" and form.is_valid() and items.is_valid():
        receipt_items = [
            ReceiptItem(
                product=item["product"],
                lot_number=item["lot_number"],
                expiry_date=item["expiry_date"],
                container_count=item["container_count"],
            )
            for item in items.cleaned_data
            if item
        ]
        try:
            receipt = receive_invoice(
                registrant,
                supplier=form.cleaned_data["supplier"],
                invoice_number=form.cleaned_data["invoice_number"],
                invoice_date=form.cleaned_data["invoice_date"],
                storage_location=form.cleaned_data["storage_location"],
                items=receipt_items,
                by=request.user,
                scan=form.cleaned_data.get("invoice_scan"),
                notes=form.cleaned_data["notes"],
            )
        except LedgerError as exc:
            if exc.field.startswith("items"):
                form.add_error(None, exc.message)
            else:
                show_refusal(form, exc)
        else:
            count = receipt.containers.count()
            messages.success(
                request,
                f"Received invoice {receipt.invoice_number}: {count} vial{'s' if count != 1 else ''}.",
            )
            return redirect("ledger:receipt", receipt_uuid=receipt.uuid)
    return render_page(
        request, "ledger/receive.html", registrant, form=form, items=items
    )


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def receipt(request: AuthenticatedHttpRequest, receipt_uuid: uuid.UUID) -> HttpResponse:
    found = own_object(request, Receipt, receipt_uuid)
    containers = found.containers.select_related("product", "lot").order_by("id")
    return render_page(
        request,
        "ledger/receipt.html",
        found.registrant,
        receipt=found,
        containers=containers,
    )


@require_capability(Capability.LEDGER_VIEW)
@require_GET
def receipt_scan(
    request: AuthenticatedHttpRequest, receipt_uuid: uuid.UUID
) -> FileResponse:
    """The invoice scan, to staff of this organization who may see the ledger."""
    found = own_object(request, Receipt, receipt_uuid)
    if not found.invoice_scan:
        raise Http404("This receipt has no scan.")
    extension = (found.invoice_scan.name or "").rsplit(".", 1)[-1]
    response = FileResponse(
        found.invoice_scan.open("rb"),
        as_attachment=True,
        filename=f"invoice-{found.invoice_number}.{extension}",
        content_type=found.scan_content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response
